"""Values typed over the Inward/Outward formula cells: found before the save, kept on the Changes sheet.

The cache-only step gives a computed cell that holds a constant its column's formula back
(:class:`ims_excel.xlsx.sheetxml.Injector`, issue 9: the formulas are the workbook's proof). What was typed
there is the user's, though ('OK - checked by CA'): a reviewer found it kept only in a rotating backup.
:func:`find` reads each such cell's value before anything is written (only the rows whose formula cells
the reader did not find regular, :class:`ims_excel.xlsx.tableread.Regularity`: those are the only rows a
typed-over cell can be in), and :func:`changes_rows` makes one Changes row of each, with the record it
belongs to, so the step appends them to the Changes sheet in the same save and the command lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ims_excel.book.leftovers import shared_strings
from ims_excel.book.read import TableData
from ims_excel.xlsx import sheetxml, units as units_mod
from ims_excel.xlsx.package import Package, col_index

_ROW = re.compile(rb'<row r="(\d+)"')

WHAT = "formula typed over"
"""The Changes sheet's ``What`` for a value found typed over a formula."""


@dataclass
class TypedOver:
    """A formula cell of a table found holding a constant (``value``; None: the formula deleted, blank)."""

    table: str
    ref: str
    row: int
    header: str
    value: object
    section: str = ""
    party: str = ""
    document: str = ""

    def text(self) -> str:
        """How the command lists it: ``AX2 (Status): 'OK - checked by CA'``."""
        what = "the formula deleted (blank)" if self.value is None else repr(self.value)
        return f"{self.ref} ({self.header}): {what}"


def _candidates(td: TableData) -> np.ndarray | None:
    """Sorted sheet rows of the table whose formula cells are not all regular (None: every row)."""
    r1, _, r2, _ = td.table.bounds
    reg = td.regular
    if reg is None:
        return None
    rows = np.arange(r1 + 1, r2 + 1)
    cls = reg.classes
    out = rows[(rows >= len(cls)) | (cls[np.minimum(rows, len(cls) - 1)] < 0)]
    return np.intersect1d(out, reg.present) if reg.present is not None else out


def find(pkg: Package, td: TableData | None, sst: list[str] | None = None) -> list[TypedOver]:
    """The formula cells of ``td``'s computed columns that hold no formula, in sheet order (see the module doc)."""
    if td is None or not td.computed:
        return []
    r1, _, r2, _ = td.table.bounds
    headers = {col: h for h, col in td.computed.items()}
    cand = _candidates(td)
    if cand is not None and not len(cand):
        return []
    pieces = td.xml or units_mod.units(pkg.stream(td.table.sheet_part), unit=units_mod.PIECE_BYTES)
    out: list[TypedOver] = []
    for kind, blob in pieces:
        if kind != "rows":
            continue
        if cand is not None:
            first, last = _ROW.search(blob), _ROW.search(blob, blob.rfind(b'<row r="'))
            if first is None:
                continue
            lo, hi = np.searchsorted(cand, [int(first.group(1)), int(last.group(1)) + 1])
            if lo == hi:
                continue
            wanted = set(cand[lo:hi].tolist())
        for rnum, row in sheetxml.iter_rows(blob):
            if rnum <= r1 or rnum > r2 or (cand is not None and rnum not in wanted):
                continue
            for m in sheetxml.CELL_PARTS.finditer(row):
                ref = sheetxml.CELL_COLUMN.search(m.group(1))
                col = col_index(ref.group(1).decode()) if ref else 0
                if col not in headers or sheetxml.FORMULA.search(m.group(3) or b""):
                    continue
                if sst is None and b't="s"' in m.group(1):
                    sst = shared_strings(pkg)
                value = sheetxml.cell_value(m.group(1), m.group(3), sst)
                out.append(TypedOver(td.table.name, f"{ref.group(1).decode()}{rnum}", rnum, headers[col],
                                     None if value == "" else value))
    _name_records(td, out)
    return out


def _name_records(td: TableData, cells: list[TypedOver]) -> None:
    """Each cell's record: section, party GSTIN, document number (from the table as read: canonical
    columns, or the sheet's headers when read untyped, as ``upgrade`` reads it)."""
    f = td.frame

    def column(*names: str) -> str | None:
        return next((n for n in names if n in f), None)

    section = column("section", "Section")
    party = column("supplier_gstin", "Supplier GSTIN", "recipient_gstin", "Recipient GSTIN")
    document = column("document_number", "Document Number")
    if not cells or not len(td.rows) or section is None:
        return
    at = {int(r): k for k, r in enumerate(td.rows.tolist())}
    for c in cells:
        k = at.get(c.row)
        if k is not None:
            c.section = str(f[section].iloc[k])
            c.party = str(f[party].iloc[k]) if party else ""
            c.document = str(f[document].iloc[k]) if document else ""


def changes_rows(cells: list[TypedOver], when: str) -> list[list[object]]:
    """One Changes row (:data:`ims_excel.book.outputs.CHANGES_HEADER`) per cell that held a value."""
    return [[when, WHAT, float(c.row), c.section, c.party, c.document, c.header, c.value, "(the formula)",
             f"{c.table}!{c.ref}: this value was typed over the {c.header} formula; the formula is restored "
             "and the value kept here"] for c in cells if c.value is not None]


__all__ = ["TypedOver", "find", "changes_rows", "WHAT"]
