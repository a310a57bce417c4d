"""Supplier add-back: what recipients' frozen rejections add to our next GSTR-3B (ims-rules.md section 6).

A rejection of a *specified* record (G7), frozen by the recipient's GSTR-3B
filing, raises the supplier's liability in the GSTR-3B of the **next** tax
period (S0 FAQ 11/35), never the same one; when the recipient filed late,
the period in which it filed [INF, Q4]; a QRMP supplier's next quarter.
Amounts per rule (``addback`` in decision_table.yaml): the full credit note
(D7), the delta (D6, D8, D14: per head, what the rejection takes away, never
negative), the amended value (D9 [INF]). An accepted
re-report of a rejected credit note reverses the earlier add-back (S4 Q4):
a negative row. The GSTR-3B table is a setting: 3.1(a), 3.1(b) for SEZ with
payment, 3.1.1 for ECO 9(5) (Q13).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine.classify import KINDS, RuleArrays
from ims_excel.engine.context import Context
from ims_excel.records import HEADS

VALUES = ("taxable_value", *HEADS)
COLUMNS = ["row", "recipient_gstin", "document_number", "section", "rule", *VALUES,
           "gstr3b_period", "gstr3b_table"]


def addback(df: pd.DataFrame, cl: pd.DataFrame, ctx: Context, ra: RuleArrays) -> pd.DataFrame:
    ridx = cl["rule_idx"].to_numpy()
    rule_add = ra.addback[ridx]
    reversal = ra.accept_reversal[ridx]
    action = df["recipient_action"].astype(object).to_numpy()
    frozen = df["recipient_3b_filed"].to_numpy() == 1
    ims = ra.kind[ridx] == KINDS.index("ims")
    rejected = ims & frozen & (action == "Rejected") & (rule_add != "none")
    # an add-back exists to reverse only if the original was rejected and that rejection frozen (6.1;
    # issue 12.6f, INF): D9 implies the rejection, D8 ("any original state") must check it
    orig_frozen = df["original_3b_filed"].to_numpy() == 1
    orig_rejected = df["original_action"].astype(object).to_numpy() == "Rejected"
    accepted = (ims & frozen & np.isin(action, ["Accepted", "No Action"]) & (reversal == "original")
                & orig_frozen & orig_rejected)
    cur = np.column_stack([df[c].to_numpy(dtype=float) for c in ("taxable_value", *HEADS)])
    orig = np.column_stack([df[f"original_{c}"].to_numpy(dtype=float) for c in ("taxable_value", *HEADS)])
    # section 6.1, head by head: what the rejection takes away. A downward invoice / DN / ECO amendment
    # (D6, D14) adds back original - amended where that is positive; an upward credit-note amendment (D8)
    # amended - original where positive; a head the amendment moved the other way adds nothing
    taken = np.where((cl["family"].to_numpy() == "CN")[:, None], cur - orig, orig - cur)
    amount = np.where((rule_add == "delta")[:, None], np.maximum(taken, 0.0), cur)
    amount = np.where(accepted[:, None], -orig, amount)
    keep = rejected | accepted

    p2b = cl["period_2b"].to_numpy()
    filed_on = pd.to_datetime(df["recipient_3b_filed_on"]).to_numpy(dtype="datetime64[M]")
    filed_month = np.where(np.isnat(filed_on), -1,
                           filed_on.astype("int64") + 1970 * 12)
    if ctx.frequency == "quarterly":
        nxt = p2b - p2b % 3 + 5
        nxt = np.maximum(nxt, filed_month - filed_month % 3 + 2)
    else:
        nxt = np.maximum(p2b + 1, filed_month)
    tables = ctx.addback_tables
    stype = df["supply_type"].astype(object).to_numpy()
    table = pd.Series(stype).map(lambda s: tables.get(s, tables["default"])).to_numpy(dtype=object)
    table = np.where(cl["family"].to_numpy() == "ECO", tables["eco"], table)

    out = pd.DataFrame({
        "row": df["row"].to_numpy(),
        "recipient_gstin": df["recipient_gstin"].to_numpy(),
        "document_number": df["document_number"].to_numpy(),
        "section": df["section"].to_numpy(),
        "rule": cl["rule"].to_numpy(),
        **{c: np.round(amount[:, i], 2) + 0.0 for i, c in enumerate(VALUES)},
        "gstr3b_period": nxt,
        "gstr3b_table": table,
    })[keep]
    out["gstr3b_period"] = [periods.iso(int(p)) for p in out["gstr3b_period"]]
    return out.reset_index(drop=True)


def totals(rows: pd.DataFrame) -> pd.DataFrame:
    """Add-back per next-GSTR-3B period and table (what the Liability sheet totals)."""
    if rows.empty:
        return pd.DataFrame(columns=["gstr3b_period", "gstr3b_table", *VALUES])
    return rows.groupby(["gstr3b_period", "gstr3b_table"], as_index=False)[list(VALUES)].sum().round(2)
