"""EXTENSION POINT: the computed columns of the ``Inward`` table.

``COMPUTED`` is the ordered list of :class:`~ims_excel.workbook.tables.Computed`
columns placed after the canonical ``records.INWARD_COLUMNS``. The formulas
below are PLACEHOLDERS that give the summary sheets something to count; the
validation author replaces them with formulas that equal the engine. Keep:

* the headers the summaries read (``summaries.py``): ``Period``, ``IMS State``,
  ``Status``, ``2B Bucket``, ``3B Table``, ``ITC IGST`` ... ``ITC Cess``
  (rename both sides together);
* ``Status`` in {"", "ok", "info", "warning", "error"} (drives the red/amber
  rows), "" on an empty row: the template has one empty data row, and every
  formula must give "" (or 0) there;
* O(1) per row: reference the same row with ``r("Col")``, Config cells by name
  (``config.FIELDS``: ``ReturnPeriod``, ``ReturnPeriodIndex``, ``AsOfDate``,
  ``StateCode``, ``GSTR3BFiled`` ...), the rules with INDEX/MATCH over the
  ``Rules``/``Codes`` tables and the ``RuleEras`` name, never whole ``Inward``
  columns. ``tests/workbook`` checks every formula with
  ``formulas.check_formula`` (LibreOffice 7.4 functions only).

``formulas.gstin_check(r("Supplier GSTIN"))`` is the check-digit test, ready
for a per-row formula.
"""

from __future__ import annotations

from ims_excel.workbook.formulas import this_row
from ims_excel.workbook.tables import Computed

TABLE = "Inward"


def r(column: str) -> str:
    """Same-row reference into the Inward table."""
    return this_row(TABLE, column)


_EMPTY = f'{r("Section")}=""'
_ACTION_TO_STATE = ('INDEX({"Accepted","Rejected","Pending","No Action"},'
                    f'MATCH({r("Action")},{{"Accept","Reject","Pending","No Action"}},0))')

COMPUTED: tuple[Computed, ...] = (
    Computed("Period",
             f'=IF({_EMPTY},"",IF({r("2B Period")}&""="",ReturnPeriod&"",{r("2B Period")}&""))',
             "period", "GSTR-2B period the record belongs to (YYYY-MM). PLACEHOLDER: 2B Period, "
             "else the Config return period.", 9),
    Computed("Rule", '=""', "text", "Decision-table rule (D1-D30) that applies. PLACEHOLDER.", 8),
    Computed("Rule Key",
             f'=IF({r("Rule")}="","",{r("Rule")}&"@"&IFERROR(INDEX(RuleEras,MATCH({r("Period")},RuleEras,1)),'
             'INDEX(RuleEras,1)))',
             "text", "Key into the Rules table: rule@regime start.", 12),
    Computed("IMS State",
             f'=IF({_EMPTY},"",IF({r("Action")}="",IF({r("Previous Action")}="","No Action",'
             f'{r("Previous Action")}&""),IFERROR({_ACTION_TO_STATE},"No Action")))',
             "text", "State after the chosen action: No Action / Accepted / Rejected / Pending. "
             "PLACEHOLDER.", 11),
    Computed("Reason Code", '=""', "text", "Primary reason code (Codes table). PLACEHOLDER.", 16),
    Computed("Status",
             f'=IF({_EMPTY},"",IF({r("Reason Code")}="","ok",'
             f'IFERROR(INDEX(Codes[severity],MATCH({r("Reason Code")},Codes[code],0)),"error")))',
             "text", "ok / info / warning / error.", 9),
    Computed("Message",
             f'=IF({r("Reason Code")}="","",IFERROR(INDEX(Codes[message],'
             f'MATCH({r("Reason Code")},Codes[code],0)),{r("Reason Code")}))',
             "text", "What to do about it.", 40),
    Computed("2B Bucket",
             f'=IF({_EMPTY},"",IF({r("IMS State")}="Rejected","rejected",'
             f'IF({r("IMS State")}="Pending","pending","available")))',
             "text", "GSTR-2B bucket: available / not_available / reversal / rejected / pending. "
             "PLACEHOLDER.", 11),
    Computed("3B Table",
             f'=IF({r("2B Bucket")}<>"available","",IF(LEFT({r("Section")},4)="IMPG","4A1",'
             f'IF(LEFT({r("Section")},3)="ISD","4A4","4A5")))',
             "text", "GSTR-3B Table 4 row: 4A1 / 4A3 / 4A4 / 4A5 / 4B2 / 4D2. PLACEHOLDER.", 8),
    *(Computed(f"ITC {head}",
               f'=IF({r("3B Table")}="",0,IF(LEFT({r("Section")},6)="B2B-CN",-1,1)*N({r(head)}))',
               "amount", f"Signed {head} this record puts into its 3B row. PLACEHOLDER.", 13)
      for head in ("IGST", "CGST", "SGST", "Cess")),
)
"""Computed columns of the Inward table, in order (placeholders; see the module doc)."""


def cached_values(result) -> "pd.DataFrame":
    """The value each computed column's formula gives, per record, from the engine's result.

    ``process`` writes these as the formulas' cached values, so a workbook opened
    without recalculation (or read by a program) shows the engine's answers. One
    column per :data:`COMPUTED` header, one row per ``result.records`` row.
    PLACEHOLDER until the formulas equal the engine.
    """
    import pandas as pd

    recs = result.records
    out = pd.DataFrame(index=recs.index)
    for c in COMPUTED:
        out[c.header] = ""
    return out
