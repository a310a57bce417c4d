"""What each record puts into GSTR-2B and which GSTR-3B table it feeds.

shared/domain/ims-rules.md sections 4.2-4.3 and 5:

* amendments count the **delta** when the original was consumed (accepted or
  deemed and its GSTR-3B filed, or pre-IMS), else the **full** amended value;
* credit notes (and their amendments) are negative; heads are never netted;
* an accepted specified record counts its **declared** reduction (G9): Full =
  the whole reduction, No = 0, Partial = the declared amounts; no action or
  deemed acceptance = Full;
* buckets: ITC available (4A(1) imports, 4A(3) reverse charge, 4A(4) ISD,
  4A(5) all other), ITC not available (4D(2)), ITC reversal (Rule 37A, 4B(2)),
  rejected and pending (shown, not claimed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine.classify import P, RuleArrays
from ims_excel.records import HEADS

BUCKETS = ("available", "not_available", "reversal", "rejected", "pending", "none")
TABLES = ("4A1", "4A3", "4A4", "4A5", "4B2", "4D2")


def document_amounts(df: pd.DataFrame, cl: pd.DataFrame) -> np.ndarray:
    """Signed amounts [n, 4] before any declaration: delta or full value, credit notes negative."""
    amt = np.column_stack([df[h].to_numpy(dtype=float) for h in HEADS])
    orig = np.column_stack([df[f"original_{h}"].to_numpy(dtype=float) for h in HEADS])
    delta = (cl["amendment"].to_numpy() & cl["consumed"].to_numpy())[:, None]
    base = np.where(delta, amt - orig, amt)
    sign = np.where(cl["family"].to_numpy() == "CN", -1.0, 1.0)[:, None]
    return np.round(sign * base, 2)


def full_reduction(signed: np.ndarray, specified: np.ndarray) -> np.ndarray:
    """The reduction a "Full" declaration means, per head (positive), for specified records."""
    return np.where(specified[:, None], np.maximum(-signed, 0.0), 0.0)


def apply_declaration(df: pd.DataFrame, signed: np.ndarray, reduction: np.ndarray,
                      decl_applies: np.ndarray) -> np.ndarray:
    """G9: replace the reduction by what was declared (Full / Partial / No)."""
    red = df["itc_reduction"].astype(object).to_numpy()
    declared = np.column_stack([df[f"declared_{h}"].to_numpy(dtype=float) for h in HEADS])
    partial = (decl_applies & (red == "Partial"))[:, None]
    nil = (decl_applies & (red == "No"))[:, None]
    out = np.where(partial, np.where(reduction > 0, -declared, signed), signed)
    out = np.where(nil, np.where(reduction > 0, 0.0, signed), out)
    return np.round(out, 2)


def place(df: pd.DataFrame, cl: pd.DataFrame, val: pd.DataFrame, ra: RuleArrays,
          amounts: np.ndarray) -> pd.DataFrame:
    """Bucket, GSTR-3B table and claimed ITC per record."""
    ridx = cl["rule_idx"].to_numpy()
    kind = ra.kind[ridx]
    eff = val["effective_action"].to_numpy()
    filed = cl["filed"].to_numpy()
    live = cl["current"].to_numpy() | cl["carried"].to_numpy()
    itc_avl = df["itc_available"].to_numpy() != 0
    # a record frozen by this return's own GSTR-3B filing is still in this (final) GSTR-2B
    ims = (kind == "ims") | ((kind == "frozen") & cl["current"].to_numpy())
    accepted = (eff == "Accepted") | (eff == "Deemed Accepted")
    bucket = np.full(len(df), "none", dtype=object)
    bucket = np.where(ims & filed & live & accepted, "available", bucket)
    bucket = np.where(ims & filed & live & (eff == "Rejected"), "rejected", bucket)
    bucket = np.where(ims & filed & (val["applied"].to_numpy() == P) & (eff == "Pending"), "pending", bucket)
    outside = (kind == "not_in_ims") & filed & cl["current"].to_numpy()
    rule_bucket = ra.bucket[ridx]
    rule_bucket = np.where((rule_bucket == "available") & ~itc_avl, "not_available", rule_bucket)
    bucket = np.where(outside, rule_bucket, bucket)

    family = cl["family"].to_numpy()
    table = np.where(family == "BOE", "4A1", "4A5")
    table = np.where(kind == "not_in_ims", ra.table[ridx], table)
    table = np.where(bucket == "not_available", "4D2", table)
    table = np.where(bucket == "reversal", "4B2", table)
    claimed = np.isin(bucket, ["available", "not_available", "reversal"])
    table = np.where(claimed, table, "")

    out = pd.DataFrame(index=df.index)
    out["bucket"] = bucket
    out["gstr3b_table"] = table
    out["in_2b"] = claimed
    for i, h in enumerate(HEADS):
        out[f"amount_{h}"] = amounts[:, i]
        out[f"itc_{h}"] = np.where(claimed, amounts[:, i], 0.0)
    return out
