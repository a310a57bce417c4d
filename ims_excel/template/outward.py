"""EXTENSION POINT: the computed columns of the ``Outward`` table (supplier view, add-back).

Our own documents as recipients acted on them. A recipient's frozen rejection
of a *specified* record adds liability back to our next GSTR-3B; an accepted
re-report of a rejected credit note reverses that add-back (``engine.liability``).
The classification is the Inward one (:mod:`.rowlogic`) with the roles swapped
(we are the supplier; the row's GSTIN is the recipient) and without the
recipient-side freeze: the Rule decides Kind, the add-back amount (full,
delta, amended) and whether acceptance reverses.

Same contract as ``inward.py``: O(1) per row, "" / 0 on the empty template
row, headers read by the Liability sheet (``Add-back Table``, ``Add-back Period``,
``Add-back Taxable``, ``Add-back IGST`` ... ``Add-back Cess``). The add-back
tables are those of ``parameters.yaml`` ``addback_table`` (``AddbackTables`` on
the Rules sheet): 3.1(a), 3.1(b), 3.1.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ims_excel.template import rowlogic as L
from ims_excel.template.cached import outward_values
from ims_excel.template.formulas import this_row
from ims_excel.template.rowlogic import AND, IF, OR, eq, ne, num, q
from ims_excel.template.tables import Computed

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE = "Outward"
HEADS = ("IGST", "CGST", "SGST", "Cess")
VALUES = ("Taxable", *HEADS)
_SOURCE = {"Taxable": "Taxable Value", **{h: h for h in HEADS}}


def r(column: str) -> str:
    """Same-row reference into the Outward table."""
    return this_row(TABLE, column)


def _g(body: str, empty: str = '""') -> str:
    return L.blank_guard(r, body, empty)


_RA = r("Recipient Action")
_FROZEN = AND(eq(r("Kind"), "ims"), eq(r("Recipient 3B Filed"), "Y"))
_ADDBACK = IF(AND(_FROZEN, OR(eq(_RA, "Rejected"), eq(_RA, "Reject")), ne(L.rule_attr(r, "addback"), "none")),
              q("Add-back"),
              IF(AND(_FROZEN, L.one_of(_RA, ("Accepted", "Accept", "No Action")),
                     eq(L.rule_attr(r, "accept_reversal"), "original"), eq(r("Original 3B Filed"), "Y"),
                     eq(r("Original Action"), "Rejected")),
                 q("Reversal"), '""'))

_PI = r("Period Index")
_ON = r("Recipient 3B Filed On")
_FM = f"IF(ISNUMBER({_ON}),YEAR({_ON})*12+MONTH({_ON})-1,-1)"
_NEXT = IF(L.QUARTERLY, f"MAX({_PI}-MOD({_PI},3)+5,{_FM}-MOD({_FM},3)+2)", f"MAX({_PI}+1,{_FM})")
"""Our next GSTR-3B after the recipient's period, or the period the recipient filed in if later (Q4)."""

_TABLE = IF(eq(r("Family"), "ECO"), L.lookup("AddbackTables", "table", "key", q("eco")),
            L.lookup("AddbackTables", "table", "key", r("Supply Type"),
                     L.lookup("AddbackTables", "table", "key", q("default"))))

_RULE = IF(eq("HasIMS", "N"), q("D29"),
           IF(f"{_PI}<Param_ims_start_period_index", q("D28"),
              IF(ne(r("Outside Rule"), ""), r("Outside Rule"), r("Record Rule"))))


def _amount(v: str) -> str:
    cur, orig = num(r(_SOURCE[v])), num(r("Original " + _SOURCE[v]))
    taken = IF(eq(r("Family"), "CN"), f"{cur}-{orig}", f"{orig}-{cur}")  # what the rejection takes away (6.1)
    added = IF(eq(L.rule_attr(r, "addback"), "delta"), f"ROUND(MAX({taken},0),2)", f"ROUND({cur},2)")
    return _g(IF(eq(r("Add-back"), "Add-back"), added, IF(eq(r("Add-back"), "Reversal"), f"ROUND(-{orig},2)", "0")),
              "0")


def _c(header: str, formula: str, kind: str, doc: str, width: float | None = None, helper: bool = False) -> Computed:
    return Computed(header, formula, kind, doc, width if width is not None else (7 if helper else None), helper)


COMPUTED: tuple[Computed, ...] = (
    _c("Rule", _g(_RULE), "text", "Decision-table rule of the document at the recipient (Rules table).", 7),
    _c("Add-back", _g(_ADDBACK), "text",
       "Add-back: the recipient's frozen rejection of an ITC-reducing record raises our liability. "
       "Reversal: an accepted re-report of a rejected credit note reverses the earlier add-back.", 10),
    _c("Add-back Period", _g(IF(eq(r("Add-back"), ""), '""', L.period_iso(_NEXT))), "period",
       "Our GSTR-3B period the add-back lands in (YYYY-MM; a quarter: its last month).", 9),
    _c("Add-back Table", _g(IF(eq(r("Add-back"), ""), '""', _TABLE)), "text",
       "GSTR-3B liability table: 3.1(a), 3.1(b) for SEZ with payment, 3.1.1 for ECO 9(5).", 10),
    *(_c(f"Add-back {v}", _amount(v), "amount", f"{v} added back (negative: reversed).", 13) for v in VALUES),
    _c("Family", L.family(r), "text", "Helper: INV / DN / CN / ECO / BOE / ISD.", helper=True),
    _c("Amendment", L.amendment(r), "text", "Helper: Y for an amendment section.", helper=True),
    _c("Period Index", L.period_index(r), "general", "Helper: GSTR-2B period at the recipient (index).",
       helper=True),
    _c("Direction", L.direction(r), "text", "Helper: amendment up / down.", helper=True),
    _c("Consumed", L.consumed(r), "text", "Helper: Y when the original was consumed.", helper=True),
    _c("16(4) Cut-off", L.cutoff_164(r), "date", "Helper: s.16(4) cut-off of the document.", helper=True),
    _c("Record Rule", L.record_rule(r), "text", "Helper: record kind D1-D18.", helper=True),
    _c("Outside Rule", L.outside_rule(r, "Recipient GSTIN", inward=False), "text",
       "Helper: D19-D24 when the record is outside IMS.", helper=True),
    _c("Kind", _g(L.rule_attr(r, "kind")), "text", "Helper: ims / not_in_ims (Rules table).", helper=True),
)
"""Computed columns of the Outward table, in order."""


def cached_values(result) -> "pd.DataFrame":
    """The value each computed column's formula gives, per outward record (see ``inward.cached_values``)."""

    return outward_values(result, [c.header for c in COMPUTED])
