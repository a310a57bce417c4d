"""EXTENSION POINT: the summary sheets (Summary, GSTR-2B, GSTR-3B, Liability).

A summary sheet is a list of :class:`Block` grids stacked down the sheet. A
block has row keys, column keys and ``formula(row, col, cell)``, which returns
the formula of one cell; ``cell(row, col)`` gives the A1 address of another
cell of the same block (for totals and nets). Labels and keys are the layout;
the formulas are SUMIFS/COUNTIFS over whole table columns of ``inward.py`` /
``outward.py`` (once per summary cell, not per row): the door; the logic is in
the row formulas, and each cell equals an engine aggregate
(``engine.summary.ims_summary``, ``Result.gstr2b``, ``Result.gstr3b``,
``liability.totals``; see ``tests/workbook/test_equality.py``).

:func:`cell_map` gives ``{(block, row, col): "Sheet!C7"}`` so that a test can
read the recalculated value of any summary cell and compare it to the engine.

>>> cell_map()[("gstr3b", "table4", "4A5", "IGST")]
"'GSTR-3B'!C12"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from ims_excel.template.formulas import col, quote

Cell = Callable[[str, str], str]
Formula = Callable[[str, str, Cell], str]

IN, OUT = "Inward", "Outward"
HEADS = ("IGST", "CGST", "SGST", "Cess")
STATES = ("No Action", "Accepted", "Rejected", "Pending")

SECTION_LABELS = {
    "B2B": "I. B2B - Invoices",
    "B2BA": "II. B2B - Invoices (Amendments)",
    "B2B-DN": "III. B2B - Debit Notes",
    "B2B-DNA": "IV. B2B - Debit Notes (Amendments)",
    "B2B-CN": "V. B2B - Credit Notes",
    "B2B-CNA": "VI. B2B - Credit Notes (Amendments)",
    "ECO": "VII. ECO [9(5)] Invoices",
    "ECOA": "VIII. ECO [9(5)] Invoices (Amendments)",
    "IMPG": "IMPG - Import of goods from overseas",
    "IMPGA": "IMPG (Amendments)",
    "IMPGSEZ": "IMPGSEZ - Import of goods from SEZ",
    "IMPGSEZA": "IMPGSEZA (Amendments)",
    "ISD": "ISD - Inward supplies from ISD",
    "ISDA": "ISDA - ISD (Amendments)",
}
"""Portal headings (I-VIII, then Import of Goods, then ISD) by canonical section."""

ALL_OTHER = ("B2B", "B2BA", "B2B-DN", "B2B-DNA", "B2B-CN", "B2B-CNA", "ECO", "ECOA")
IMPORTS = ("IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA")

BUCKETS = {
    "available": "ITC Available",
    "not_available": "ITC Not Available",
    "reversal": "ITC Reversal",
    "rejected": "Rejected records",
    "pending": "Pending records (carried forward)",
}
"""GSTR-2B buckets: the ``2B Bucket`` column values and their headings."""

TABLE4 = {
    "4A1": "4(A)(1) Import of goods",
    "4A2": "4(A)(2) Import of services  [your entry]",
    "4A3": "4(A)(3) Inward supplies liable to reverse charge (other than 1 & 2)",
    "4A4": "4(A)(4) Inward supplies from ISD",
    "4A5": "4(A)(5) All other ITC",
    "4B1": "4(B)(1) As per rules 38, 42 & 43 of CGST Rules and section 17(5)  [your entry]",
    "4B2": "4(B)(2) Others",
    "4C": "4(C) Net ITC available (A) - (B)",
    "4D1": "4(D)(1) ITC reclaimed which was reversed under 4(B)(2) in an earlier period  [your entry]",
    "4D2": "4(D)(2) Ineligible ITC under section 16(4) & ITC restricted due to PoS rules",
}
"""GSTR-3B Table 4 rows as the return shows them (formats-and-market.md section 2.6): the rows GSTR-2B
auto-populates are the ``3B Table`` column values; 4C is computed; :data:`TABLE4_OWN` are the taxpayer's."""

TABLE4_OWN = ("4A2", "4B1", "4D1")
"""Table 4 rows the portal does not fill from GSTR-2B: the taxpayer's own entries (blank input cells;
4(A)(2) and 4(B)(1) feed 4(C))."""
NET_ITC_ADDS, NET_ITC_LESS = ("4A1", "4A2", "4A3", "4A4", "4A5"), ("4B1", "4B2")
"""4(C) Net ITC available = (A) - (B): the rows the sheet's formula adds and subtracts (the return's form)."""
OWN_IN_4C = tuple(r for r in (*NET_ITC_ADDS, *NET_ITC_LESS) if r in TABLE4_OWN)
"""The taxpayer's own rows that 4(C) reads: 4(A)(2) and 4(B)(1)."""

ADDBACK_TABLES = {
    "3.1(a)": "3.1(a) Outward taxable supplies (other than zero rated, nil rated and exempted)",
    "3.1(b)": "3.1(b) Outward taxable supplies (zero rated)",
    "3.1.1": "3.1.1 Supplies notified under section 9(5) (ECO)",
}
"""Liability (add-back) rows: the Outward ``Add-back Table`` column values."""


@dataclass(frozen=True)
class Block:
    """A grid of formula cells with a title, column headers and row labels."""

    key: str
    title: str
    rows: tuple[tuple[str, str], ...]
    cols: tuple[tuple[str, str], ...]
    formula: Formula
    kind: str = "count"
    col_kinds: dict[str, str] = field(default_factory=dict)
    note: str = ""
    """One line written in italics in the gap row below the block."""
    inputs: tuple[str, ...] = ()
    """Row keys whose cells are the user's own entries: blank, unlocked, no formula (``formula`` is not
    asked for them; their value is whatever the user types, blank = 0)."""


@dataclass(frozen=True)
class Sheet:
    """A summary sheet: name, heading and its blocks, from row ``first_row`` (1-based)."""

    name: str
    heading: str
    blocks: tuple[Block, ...]
    first_row: int = 6
    note: str = ""
    margin: float = 2
    """Width of column A (the Liability sheet's add-back list, written by ``process``, starts there)."""


# ------------------------------------------------------------------ Summary (IMS dashboard)

def _ims_count(row: str, c: str, cell: Cell) -> str:
    if c == "Total":
        return f"=SUM({cell(row, STATES[0])}:{cell(row, STATES[-1])})"
    return f"=COUNTIFS({col(IN, 'Section')},{quote(row)},{col(IN, 'IMS State')},{quote(c)})"


def _ims_tax(row: str, c: str, cell: Cell) -> str:
    if c == "Total":
        return f"=SUM({cell(row, STATES[0])}:{cell(row, STATES[-1])})"
    crit = f"{col(IN, 'Section')},{quote(row)},{col(IN, 'IMS State')},{quote(c)}"
    return "=" + "+".join(f"SUMIFS({col(IN, h)},{crit})" for h in HEADS)


def _status_count(row: str, c: str, cell: Cell) -> str:
    return f"=COUNTIFS({col(IN, 'Status')},{quote(row)})"


_STATE_COLS = tuple((s, s) for s in STATES) + (("Total", "Total"),)

SUMMARY = Sheet("Summary", "IMS dashboard: records and tax by action", (
    Block("all_other", "All other ITC: number of records", tuple((s, SECTION_LABELS[s]) for s in ALL_OTHER),
          _STATE_COLS, _ims_count),
    Block("imports", "Import of Goods: number of records", tuple((s, SECTION_LABELS[s]) for s in IMPORTS),
          _STATE_COLS, _ims_count),
    Block("all_other_tax", "All other ITC: tax (IGST + CGST + SGST + Cess as reported)",
          tuple((s, SECTION_LABELS[s]) for s in ALL_OTHER), _STATE_COLS, _ims_tax, "amount"),
    Block("imports_tax", "Import of Goods: tax (IGST + CGST + SGST + Cess as reported)",
          tuple((s, SECTION_LABELS[s]) for s in IMPORTS), _STATE_COLS, _ims_tax, "amount"),
    Block("status", "Validation", tuple((s, s.capitalize()) for s in ("error", "warning", "info", "ok")),
          (("Records", "Records"),), _status_count),
), note="Records in IMS (not frozen, not outside IMS) by the action the portal keeps (no action = deemed "
        "accepted), as the portal's IMS dashboard shows them. Validation counts every record.")


# ------------------------------------------------------------------ GSTR-2B

_2B_COLS = (("Records", "Records"), *((h, h) for h in HEADS))


def _bucket_formula(bucket: str) -> Formula:
    def formula(row: str, c: str, cell: Cell) -> str:
        if row == "Total":
            first, last = cell(_SECTIONS_2B[0], c), cell(_SECTIONS_2B[-1], c)
            return f"=SUM({first}:{last})"
        crit = f"{col(IN, '2B Bucket')},{quote(bucket)},{col(IN, 'Section')},{quote(row)}"
        if c == "Records":
            return f"=COUNTIFS({crit})"
        return f"=SUMIFS({col(IN, 'Amount ' + c)},{crit})"
    return formula


_SECTIONS_2B = tuple(SECTION_LABELS)
GSTR2B = Sheet("GSTR-2B", "GSTR-2B: ITC by bucket, section and head", tuple(
    Block(bucket, title, tuple((s, SECTION_LABELS[s]) for s in _SECTIONS_2B) + (("Total", "Total"),),
          _2B_COLS, _bucket_formula(bucket), "amount", {"Records": "count"})
    for bucket, title in BUCKETS.items()),
    note="The GSTR-2B of the Config return: credit notes negative, amendments of consumed originals as the "
         "change, declared ITC reductions applied; pending records are carried in IMS.")


# ------------------------------------------------------------------ GSTR-3B Table 4

_4A = ("4A1", "4A3", "4A4", "4A5")  # from GSTR-2B


def _t4_sum(row: str, c: str) -> str:
    return f"SUMIFS({col(IN, 'ITC ' + c)},{col(IN, '3B Table')},{quote(row)})"


def _table4(row: str, c: str, cell: Cell) -> str:
    if row == "4C":
        a = "+".join(cell(k, c) for k in NET_ITC_ADDS)
        b = "+".join(cell(k, c) for k in NET_ITC_LESS)
        return f"=({a})-({b})"
    s = _t4_sum(row, c)
    if row in _4A:  # Q1 setting: negative 4A nets move to 4B(2)
        return f'=IF(AND(Param_negative_4a_to_4b="Y",{s}<0),0,{s})'
    if row == "4B2":
        moved = "+".join(f"MIN(0,{_t4_sum(k, c)})" for k in _4A)
        return f'={s}-IF(Param_negative_4a_to_4b="Y",{moved},0)'
    return f"={s}"


RCM_ROW = "3.1(d)"
"""Table 3.1(d), inward supplies liable to reverse charge: the tax payable on GSTR-2B Part A-III (the
records of 4(A)(3); ims-rules.md section 5, S15; E39) and on the reverse-charge records whose ITC is not
available (in 4(D)(2)): the tax is payable whatever the credit (``engine.gstr3b``, INF)."""


def _table31d(row: str, c: str, cell: Cell) -> str:
    not_available = (f"SUMIFS({col(IN, 'ITC ' + c)},{col(IN, '3B Table')},{quote('4D2')},"
                     f"{col(IN, 'Reverse Charge')},{quote('Y')})")
    return f"={_t4_sum('4A3', c)}+{not_available}"


GSTR3B = Sheet("GSTR-3B", "GSTR-3B Table 4: eligible ITC; Table 3.1(d): reverse charge", (
    Block("table4", "Table 4 - Eligible ITC", tuple(TABLE4.items()), tuple((h, h) for h in HEADS),
          _table4, "amount", inputs=TABLE4_OWN),
    Block("table31d", "Table 3.1(d) - Tax payable on inward supplies liable to reverse charge",
          ((RCM_ROW, "3.1(d) Inward supplies (liable to reverse charge), from GSTR-2B"),),
          tuple((h, h) for h in HEADS), _table31d, "amount",
          note="The records of 4(A)(3): you pay this tax in cash and claim it back there; and the "
               "reverse-charge records whose ITC is not available (in 4(D)(2)): their tax is payable too. "
               "Taxable value: enter it from GSTR-2B."),
), note="Rows filled from the GSTR-2B of the Config return (credit notes netted), as the portal "
        "auto-populates them; rows marked [your entry] are yours to fill (blank cells), as on the portal.")


# ------------------------------------------------------------------ Liability (supplier add-back)

def _liability(current: bool) -> Formula:
    def formula(row: str, c: str, cell: Cell) -> str:
        if row == "Total":
            keys = list(ADDBACK_TABLES)
            return f"=SUM({cell(keys[0], c)}:{cell(keys[-1], c)})"
        crit = f"{col(OUT, 'Add-back Table')},{quote(row)}"
        if current:
            crit += f",{col(OUT, 'Add-back Period')},WindowEndPeriod"
        if c == "Records":
            return f"=COUNTIFS({crit})"
        return f"=SUMIFS({col(OUT, 'Add-back ' + c)},{crit})"
    return formula


_LIABILITY_ROWS = tuple(ADDBACK_TABLES.items()) + (("Total", "Total"),)
_LIABILITY_COLS = (("Records", "Records"), ("Taxable", "Taxable value"), *((h, h) for h in HEADS))

LIABILITY = Sheet("Liability", "Supplier: liability added back for rejected records", (
    Block("current", "In the GSTR-3B of the Config return period", _LIABILITY_ROWS, _LIABILITY_COLS,
          _liability(True), "amount", {"Records": "count"}),
    Block("addback", "All add-back rows (every GSTR-3B period)", _LIABILITY_ROWS, _LIABILITY_COLS,
          _liability(False), "amount", {"Records": "count"}),
), note="From the Outward table: your documents that recipients rejected (negative: an accepted re-report "
        "reverses an earlier add-back).", margin=12)

SHEETS: tuple[Sheet, ...] = (SUMMARY, GSTR2B, GSTR3B, LIABILITY)
"""Every summary sheet, in workbook order."""


# ------------------------------------------------------------------ layout

def block_origins(sheet: Sheet) -> dict[str, int]:
    """0-based row of each block's title row (then a header row, then data rows, then a gap)."""
    out, row = {}, sheet.first_row - 1
    for b in sheet.blocks:
        out[b.key] = row
        row += 2 + len(b.rows) + 1
    return out


def block_cell(sheet: Sheet, block: Block, row: str, c: str, *, absolute: bool = False) -> str:
    """A1 address of one cell of a block (row labels in column B, values from column C)."""

    r0 = block_origins(sheet)[block.key] + 2
    i = [k for k, _ in block.rows].index(row)
    j = [k for k, _ in block.cols].index(c)
    return xl_rowcol_to_cell(r0 + i, 2 + j, row_abs=absolute, col_abs=absolute)


def cell_map() -> dict[tuple[str, str, str, str], str]:
    """``{(sheet key, block, row, col): "'Sheet'!C7"}`` for every summary cell.

    Sheet keys: summary, gstr2b, gstr3b, liability.
    """
    keys = {"Summary": "summary", "GSTR-2B": "gstr2b", "GSTR-3B": "gstr3b", "Liability": "liability"}
    out = {}
    for sheet in SHEETS:
        ref = f"'{sheet.name}'" if "-" in sheet.name or " " in sheet.name else sheet.name
        for b in sheet.blocks:
            for rk, _ in b.rows:
                for ck, _ in b.cols:
                    out[(keys[sheet.name], b.key, rk, ck)] = f"{ref}!{block_cell(sheet, b, rk, ck)}"
    return out


def formulas_of(sheet: Sheet) -> dict[str, str]:
    """``{A1: formula}`` of every block cell of a sheet (not the ``inputs`` rows: they hold no formula)."""
    out = {}
    for b in sheet.blocks:
        def cell(rk: str, ck: str, _b: Block = b) -> str:
            return block_cell(sheet, _b, rk, ck)
        for rk, _ in b.rows:
            if rk in b.inputs:
                continue
            for ck, _ in b.cols:
                out[block_cell(sheet, b, rk, ck)] = b.formula(rk, ck, cell)
    return out
