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

from ims_excel.engine.classify import BOE, CN, KINDS, A, N, P, R, RuleArrays
from ims_excel.engine.validation import NIL, PARTIAL, gone_from_ims
from ims_excel.vec import labels
from ims_excel.records import HEADS

BUCKETS = ("available", "not_available", "reversal", "rejected", "pending", "none")
AVAILABLE, NOT_AVAILABLE, REVERSAL, REJECTED, PENDING, NONE = range(6)
TABLES = ("4A1", "4A3", "4A4", "4A5", "4B2", "4D2")
T4A1, T4A3, T4A4, T4A5, T4B2, T4D2 = range(6)


def document_amounts(df: pd.DataFrame, cl: pd.DataFrame) -> np.ndarray:
    """Signed amounts [n, 4] before any declaration: delta or full value, credit notes negative."""
    amt = np.column_stack([df[h].to_numpy(dtype=float) for h in HEADS])
    orig = np.column_stack([df[f"original_{h}"].to_numpy(dtype=float) for h in HEADS])
    delta = (cl["amendment"].to_numpy() & cl["consumed"].to_numpy())[:, None]
    base = np.where(delta, amt - orig, amt)
    sign = np.where(cl["fam"].to_numpy() == CN, -1.0, 1.0)[:, None]
    return np.round(sign * base, 2)


def full_reduction(signed: np.ndarray, specified: np.ndarray) -> np.ndarray:
    """The reduction a "Full" declaration means, per head (positive), for specified records."""
    return np.where(specified[:, None], np.maximum(-signed, 0.0), 0.0)


def apply_declaration(df: pd.DataFrame, signed: np.ndarray, reduction: np.ndarray,
                      decl_applies: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """G9: replace the reduction by what was declared (Full / Partial / No; blank = Full)."""
    out = signed.copy()
    idx = np.flatnonzero(decl_applies & ((choice == PARTIAL) | (choice == NIL)))
    if len(idx):
        declared = np.column_stack([df[f"declared_{h}"].to_numpy(dtype=float)[idx] for h in HEADS])
        reduces = reduction[idx] > 0
        partial = (choice[idx] == PARTIAL)[:, None]
        out[idx] = np.round(np.where(reduces, np.where(partial, -declared, 0.0), signed[idx]), 2)
    return out


def place(df: pd.DataFrame, cl: pd.DataFrame, val: pd.DataFrame, ra: RuleArrays,
          amounts: np.ndarray) -> pd.DataFrame:
    """Bucket, GSTR-3B table and claimed ITC per record."""
    ridx = cl["rule_idx"].to_numpy()
    kind = ra.kind[ridx]
    applied = val["applied"].to_numpy()
    filed = cl["filed"].to_numpy() & ~gone_from_ims(df)  # a record gone from IMS is in no GSTR-2B (G3)
    current = cl["current"].to_numpy()
    live = cl["live"].to_numpy()
    itc_avl = df["itc_available"].to_numpy() != 0
    not_in_ims = kind == KINDS.index("not_in_ims")
    # a record frozen by this return's own GSTR-3B filing is still in this (final) GSTR-2B
    ims = (kind == KINDS.index("ims")) | ((kind == KINDS.index("frozen")) & current)
    gone = ra.kind[ridx] == KINDS.index("time_barred")
    accepted = ~not_in_ims & ~gone & ((applied == A) | (applied == N))
    b = np.full(len(df), NONE, dtype="int8")
    b = np.where(ims & filed & live & accepted, AVAILABLE, b)
    b = np.where(ims & filed & live & (applied == R), REJECTED, b)
    b = np.where(ims & filed & (applied == P), PENDING, b)
    rule_bucket = _rule_buckets(ra)[ridx]
    rule_bucket = np.where((rule_bucket == AVAILABLE) & ~itc_avl, NOT_AVAILABLE, rule_bucket)
    b = np.where(not_in_ims & filed & current, rule_bucket, b)

    rule_table = _rule_tables(ra)[ridx]
    t = np.where(cl["fam"].to_numpy() == BOE, T4A1, T4A5)
    t = np.where(not_in_ims, rule_table, t)
    t = np.where(b == NOT_AVAILABLE, T4D2, t)
    t = np.where(b == REVERSAL, T4B2, t)
    claimed = (b == AVAILABLE) | (b == NOT_AVAILABLE) | (b == REVERSAL)
    t = np.where(claimed, t, -1)
    # Table 3.1(d): the tax payable on reverse-charge supplies, whether or not their ITC is available
    # (GSTR-2B Part A-III -> 3.1(d) and 4A(3); its ITC-not-available twin -> 3.1(d) and 4D(2): s.9(3)/(4)
    # make the tax payable whatever the credit; ims-rules.md section 5, INF)
    rcm = (t == T4A3) | ((t == T4D2) & (df["reverse_charge"].to_numpy() == 1))

    out: dict[str, object] = {}
    out["bucket"] = labels(b, BUCKETS)
    out["bucket_code"] = b
    out["table_code"] = t
    out["gstr3b_table"] = labels(np.where(t < 0, len(TABLES), t), (*TABLES, ""))
    out["in_2b"] = claimed
    out["rcm_liability"] = rcm
    for i, h in enumerate(HEADS):
        out[f"amount_{h}"] = amounts[:, i]
        out[f"itc_{h}"] = np.where(claimed, amounts[:, i], 0.0)
    return pd.DataFrame(out, index=df.index)


def _rule_buckets(ra: RuleArrays) -> np.ndarray:
    return np.array([BUCKETS.index(b) if b else NONE for b in ra.bucket], dtype="int8")


def _rule_tables(ra: RuleArrays) -> np.ndarray:
    return np.array([TABLES.index(t) if t else -1 for t in ra.table], dtype="int8")
