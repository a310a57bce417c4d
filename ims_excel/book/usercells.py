"""Cells a user typed where ``process`` rewrites: found before anything is written, so none is lost.

``process`` writes the Validation sheet whole and the Liability sheet from its add-back block
(:data:`ims_excel.book.outputs.LIABILITY_MARK`) down. What it wrote there before has a known shape
(:func:`ims_excel.book.outputs.validation_grid`, :func:`~ims_excel.book.outputs.liability_grid`):

* Validation: the context, status and code rows in columns A-D above the record list's header row
  (``Row``, ``Section``...); the header and the listed records (a row number in column A) in columns
  A-N (:data:`~ims_excel.book.outputs.LIST_HEADER`); nothing below them;
* Liability, from the block's title row: the title in column A, the header and the records (a row
  number in column A) in columns A-L, then the ``Total`` row (A and the amounts F-J) or the
  ``No add-back`` line (A); nothing below it.

Any other non-empty cell there (a note beside or below the list, a sign-off under the block) is the
user's: :func:`user_cells` names each, and ``process`` refuses (a reviewer found such notes dropped
without a word). A cell inside that shape typed over is not told apart from ``process``'s own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ims_excel.book import outputs
from ims_excel.xlsx import sheetxml, units as units_mod
from ims_excel.xlsx.package import Package, col_index, col_letters



def _rows(pkg: Package, part: str, sst: list[str]) -> Iterator[tuple[int, dict[int, object]]]:
    """(row, {column: value}) of each row of a sheet part with a non-empty cell (a formula as its text)."""
    for kind, blob in units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES):
        if kind != "rows":
            continue
        for rnum, row in sheetxml.iter_rows(blob):
            cells = {}
            for m in sheetxml.CELL_PARTS.finditer(row):
                ref = sheetxml.CELL_COLUMN.search(m.group(1))
                if not ref:
                    continue
                f = sheetxml.FORMULA.search(m.group(3) or b"")
                v = (re.sub(r"<[^>]*>", "", f.group(0).decode("utf-8")) if f
                     else sheetxml.cell_value(m.group(1), m.group(3), sst))
                if v is not None and v != "":
                    cells[col_index(ref.group(1).decode())] = v
            if cells:
                yield rnum, cells


def _number(v: object) -> bool:
    return isinstance(v, float)


def validation_cells(pkg: Package, part: str, sst: list[str]) -> list[tuple[str, object]]:
    """(A1, value) of the user's cells on the Validation sheet (see the module doc)."""
    rows = list(_rows(pkg, part, sst))
    width = len(outputs.LIST_HEADER)
    head = next((r for r, c in rows if c.get(1) == outputs.LIST_HEADER[0] and c.get(2) == outputs.LIST_HEADER[1]),
                None)
    out = []
    listing = True
    for r, cells in rows:
        if head is None:
            allowed = width
        elif r < head:
            allowed = 4
        elif r == head:
            allowed = width
        else:
            listing = listing and _number(cells.get(1)) and r == prev + 1
            allowed = width if listing else 0
        prev = r
        out += [(f"{col_letters(c)}{r}", v) for c, v in cells.items() if c > allowed]
    return out


def liability_cells(pkg: Package, part: str, start: int, sst: list[str]) -> list[tuple[str, object]]:
    """(A1, value) of the user's cells on the Liability sheet from row ``start`` (the add-back block's
    title row) down (see the module doc)."""
    width = len(outputs.LIABILITY_HEADER)
    out = []
    state = "title"  # title, header, records, after
    for r, cells in _rows(pkg, part, sst):
        if r < start:
            continue
        allowed: set[int] | range = set()
        if state == "title" and r == start:
            allowed, state = {1}, "header"
        elif state == "header" and r == start + 1:
            allowed, state = range(1, width + 1), "records"
        elif state == "records" and r == prev + 1 and _number(cells.get(1)):
            allowed = range(1, width + 1)
        elif state == "records" and r == prev + 1 and cells.get(1) == "Total":
            allowed, state = {1, 6, 7, 8, 9, 10}, "after"
        elif state == "records" and r == prev + 1 and str(cells.get(1, "")).startswith("No add-back"):
            allowed, state = {1}, "after"
        else:
            state = "after"
        prev = r
        out += [(f"{col_letters(c)}{r}", v) for c, v in cells.items() if c not in allowed]
    return out


def refusal(found: dict[str, list[tuple[str, object]]], shown: int = 20) -> str:
    """The message naming the user's cells found (``{sheet: [(A1, value)]}``) and what to do."""
    cells = [(s, a1, v) for s, items in found.items() for a1, v in items]
    listed = ", ".join(f"{s}!{a1} ({v!r})" for s, a1, v in cells[:shown])
    more = f" and {len(cells) - shown} more" if len(cells) > shown else ""
    return (f"process rewrites the Validation sheet and the Liability sheet from its '{outputs.LIABILITY_MARK}' "
            f"block down, and would lose {len(cells)} cells you typed there: {listed}{more}. Move them to a sheet "
            "of your own (or, on Liability, above the add-back block), then run process again; nothing was written")


__all__ = ["validation_cells", "liability_cells", "refusal"]
