"""EXTENSION POINT: the computed columns of the ``Outward`` table (supplier view, add-back).

Same contract as ``inward.py``: PLACEHOLDER formulas, O(1) per row, "" on the
empty template row, headers read by the Liability sheet (``Add-back Table``,
``Add-back Taxable``, ``Add-back IGST`` ... ``Add-back Cess``, ``Status``).
The add-back table values are those of ``parameters.yaml`` ``addback_table``:
3.1(a), 3.1(b), 3.1.1.
"""

from __future__ import annotations

from ims_excel.workbook.formulas import this_row
from ims_excel.workbook.tables import Computed

TABLE = "Outward"
HEADS = ("IGST", "CGST", "SGST", "Cess")


def r(column: str) -> str:
    """Same-row reference into the Outward table."""
    return this_row(TABLE, column)


_EMPTY = f'{r("Section")}=""'
_REJECTED = f'OR({r("Recipient Action")}="Rejected",{r("Recipient Action")}="Reject")'

COMPUTED = (
    Computed("Reason Code", '=""', "text", "Primary reason code (Codes table). PLACEHOLDER.", 16),
    Computed("Status",
             f'=IF({_EMPTY},"",IF({r("Reason Code")}="","ok",'
             f'IFERROR(INDEX(Codes[severity],MATCH({r("Reason Code")},Codes[code],0)),"error")))',
             "text", "ok / info / warning / error.", 9),
    Computed("Message",
             f'=IF({r("Reason Code")}="","",IFERROR(INDEX(Codes[message],'
             f'MATCH({r("Reason Code")},Codes[code],0)),{r("Reason Code")}))',
             "text", "What to do about it.", 40),
    Computed("Add-back Table",
             f'=IF(AND(LEFT({r("Section")},6)="B2B-CN",{_REJECTED}),'
             f'IF(OR({r("Supply Type")}="SEWP",{r("Supply Type")}="SEZWP"),"3.1(b)","3.1(a)"),"")',
             "text", "GSTR-3B liability table the rejection adds back to. PLACEHOLDER: rejected "
             "credit notes only.", 10),
    Computed("Add-back Taxable",
             f'=IF({r("Add-back Table")}="",0,N({r("Taxable Value")}))', "amount",
             "Taxable value added back. PLACEHOLDER.", 13),
    *(Computed(f"Add-back {head}", f'=IF({r("Add-back Table")}="",0,N({r(head)}))', "amount",
               f"{head} added back. PLACEHOLDER.", 13) for head in HEADS),
)
"""Computed columns of the Outward table, in order (placeholders)."""
