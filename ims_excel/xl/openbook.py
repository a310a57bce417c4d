"""The open-workbook adapter of the port (:class:`ims_excel.book.port.Workbook`): the workbook open in Excel.

The buttons (:mod:`ims_excel.xl.macros`) hand the use cases an :class:`OpenBook` where the commands hand
them a :class:`~ims_excel.book.filebook.FileBook`; the use cases cannot tell them apart. It uses a small
part of xlwings' object model, so that the tests drive it with an in-memory stand-in:

``book.sheets[name]``, ``book.sheets.add(name, after=...)``, ``book.names[n].refers_to_range``,
``book.fullname``; ``sheet.tables[name]`` (``.range``, ``.resize``), ``sheet.range(a1 | (row, col))``
(``.value``, ``.options(ndim=2)``, ``.clear_contents()``), ``sheet.used_range``,
``sheet.clear_contents()``, ``sheet.api.Unprotect/Protect/ProtectContents``.

Values are written with :func:`safe` (text Excel would read as a formula, number or date keeps Excel's
text prefix), a block at a time (new rows: one write per run of neighbouring input columns; changed
cells: one per run of neighbouring rows of a column, so a download that changes one field on every row
costs one call); a sheet the user protected is unprotected for the write and protected again. Writes go
straight into the open workbook; :meth:`OpenBook.save` does nothing (the user saves in Excel).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ims_excel.book import outputs
from ims_excel.book.port import Table
from ims_excel.formats import to_typed
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.template.specs import spec
from ims_excel.template.tables import cell_columns

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PROTECT = {"Password": "", "DrawingObjects": True, "Contents": True, "Scenarios": True,
           "AllowFormattingColumns": True, "AllowFormattingRows": True, "AllowSorting": True,
           "AllowFiltering": True}
"""Protection put back on an Inward/Outward sheet that a user protected (the build leaves them unprotected,
so that Excel can sort them; no password)."""
SUMMARY_PROTECT = {"Password": "", "DrawingObjects": True, "Contents": True, "Scenarios": True,
                   "AllowFormattingColumns": True}
"""Protection put back on a summary sheet (Liability) after rows are written on it (as the build protects it)."""

_CONVERTED = re.compile(r"[\s\d.,:/%()-]+|true|false|#\w.*", re.IGNORECASE)


def safe(value: object) -> object:
    """A value for ``range.value``: text Excel would read as a formula (or turn into a number, date or
    boolean) gets Excel's text prefix, which is not part of the value.

    >>> safe("=HYPERLINK(1)"), safe("-12"), safe("000123"), safe("01-11-2026"), safe("ok"), safe(12.5)
    ("'=HYPERLINK(1)", "'-12", "'000123", "'01-11-2026", 'ok', 12.5)
    """
    if isinstance(value, str) and (value.startswith(FORMULA_START) or _CONVERTED.fullmatch(value)):
        return "'" + value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value


def rect(rows: list[list[object]]) -> list[list[object]]:
    """Rows as a rectangle of safe values (one ``range.value`` write)."""
    width = max((len(r) for r in rows), default=1) or 1
    return [[safe(v) for v in r] + [None] * (width - len(r)) for r in rows]


def unprotect(sheet: Any) -> None:
    api = getattr(sheet, "api", None)
    if api is not None and hasattr(api, "Unprotect"):
        api.Unprotect("")


def protected(sheet: Any) -> bool:
    """Is the sheet's content protected (``Worksheet.ProtectContents``)?"""
    return bool(getattr(getattr(sheet, "api", None), "ProtectContents", False))


def protect(sheet: Any, **options: object) -> None:
    api = getattr(sheet, "api", None)
    if api is not None and hasattr(api, "Protect"):
        api.Protect(**(options or PROTECT))


def _runs(cols: list[int]) -> list[list[int]]:
    """Sorted sheet columns (or rows) in runs of neighbours: one xlwings call each (a formula column in
    between is not written over)."""
    runs: list[list[int]] = []
    for c in cols:
        if runs and runs[-1][-1] == c - 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


class OpenBook:
    """An open xlwings ``Book`` as a :class:`~ims_excel.book.port.Workbook` (see the module doc)."""

    def __init__(self, book: Any):
        self.book = book
        self.path = Path(book.fullname)
        self.name = self.path.name

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def config(self) -> tuple[dict[str, object], dict[str, tuple[str, int, str]]]:
        values, cells = {}, {}
        for name in outputs.CONFIG_NAMES:
            try:
                rng = self.book.names[name].refers_to_range
            except Exception:  # xlwings raises different errors for a missing name
                continue
            values[name] = rng.value
            cells[name] = (rng.sheet.name, rng.row, f"{outputs.LABELS.get(name, name)} ({rng.sheet.name}!"
                                                   f"{rng.address.replace('$', '')})")
        return values, cells

    def value(self, name: str) -> object:
        """A defined name's value (None when the workbook lacks it)."""
        try:
            return self.book.names[name].refers_to_range.value
        except Exception:  # xlwings raises different errors for a missing name
            return None

    def table(self, name: str, direction: str, *, typed: bool = True) -> Table | None:
        """The table's records, blank rows skipped (typed as the file reader types them)."""
        if name not in self.sheet_names():
            return None
        try:
            xtable = self.book.sheets[name].tables[name]
        except Exception:  # no such table on the sheet
            return None
        rng = xtable.range
        grid = rng.options(ndim=2).value
        header, body = [str(h) if h is not None else "" for h in grid[0]], grid[1:]
        canon = {c.key: c.name for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
        inputs: dict[str, int] = {}
        for j, h in enumerate(header):
            if header_key(h) in canon and canon[header_key(h)] not in inputs:
                inputs[canon[header_key(h)]] = rng.column + j
        keep = [j for j, h in enumerate(header) if header_key(h) in canon]
        raw = pd.DataFrame({header[j]: [r[j] for r in body] for j in keep}, dtype=object)
        rows = np.arange(rng.row + 1, rng.row + 1 + len(body))
        blank = (raw.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).all(axis=1).to_numpy()
                 if len(raw) else np.zeros(0, dtype=bool))
        raw = raw[~blank].reset_index(drop=True)
        rows = rows[~blank]
        raw["_row"] = rows
        raw["_sheet"] = name
        frame = raw
        if typed:
            frame = to_typed(raw, file=self.name, direction=direction)
            frame["row"] = np.arange(1, len(frame) + 1)
        return Table(name, direction, frame, rows, inputs, int(rows.max()) if len(rows) else rng.row, xtable)

    def history(self) -> pd.DataFrame | None:
        if "History" not in self.sheet_names():
            return None
        try:
            grid = self.book.sheets["History"].tables["History"].range.options(ndim=2).value
        except Exception:  # a History sheet without its table
            return None
        body = [r for r in grid[1:] if any(v not in (None, "") for v in r)]
        return pd.DataFrame(body, columns=[str(h) for h in grid[0]], dtype=object)

    def write_table(self, table: Table, updates: dict[int, dict[str, object]], added: pd.DataFrame
                    ) -> tuple[int, int] | None:
        sheet = self.book.sheets[table.name]
        was_protected = protected(sheet)  # the build leaves Inward/Outward unprotected; a user may protect it
        if was_protected:
            unprotect(sheet)
        try:
            by_col: dict[int, dict[int, object]] = {}  # sheet column -> {sheet row: value}
            for row, vals in updates.items():
                for name, v in vals.items():
                    by_col.setdefault(table.inputs[name], {})[row] = v
            for col, cells in by_col.items():  # one write per run of neighbouring rows of a column
                for run in _runs(sorted(cells)):
                    sheet.range((run[0], col)).value = [[safe(cells[r])] for r in run]
            if not len(added):
                return None
            n, cells = cell_columns(spec(table.direction), added)
            cols = {col: cells.get(name) for name, col in table.inputs.items()}
            rng = table.handle.range
            start = max(table.last_filled, rng.row) + 1
            for run in _runs(sorted(cols)):
                block = [[safe(cols[c][i]) if cols[c] is not None else None for c in run] for i in range(n)]
                sheet.range((start, run[0])).value = block
            end = max(start + n - 1, rng.row + rng.shape[0] - 1)
            table.handle.resize(sheet.range((rng.row, rng.column), (end, rng.column + rng.shape[1] - 1)))
            return start, start + n - 1
        finally:
            if was_protected:
                protect(sheet)

    def append_rows(self, sheet: str, header: list[str], rows: list[list[object]]) -> None:
        if sheet in self.sheet_names():
            target = self.book.sheets[sheet]
            used = target.used_range
            filled = any(v not in (None, "") for r in (used.options(ndim=2).value or []) for v in r)
            at = used.row + used.shape[0] if filled else 1
        else:
            target = self.book.sheets.add(sheet, after=self.book.sheets[len(self.book.sheets) - 1])
            at = 1
        target.range((at, 1)).value = rect(([list(header)] if at == 1 else []) + rows)

    def put_sheet(self, sheet: str, grid: outputs.Grid, *, after: str) -> None:
        if sheet in self.sheet_names():
            target = self.book.sheets[sheet]
            target.clear_contents()
        else:
            target = self.book.sheets.add(sheet, after=self.book.sheets[after])
        target.range("A1").value = rect(grid.rows)

    def find_mark(self, sheet: str, mark: str) -> tuple[int | None, int] | None:
        if sheet not in self.sheet_names():
            return None
        used = self.book.sheets[sheet].used_range
        start, last_filled = None, 0
        for k, row in enumerate(used.options(ndim=2).value or []):
            if any(isinstance(v, str) and v.startswith(mark) for v in row):
                return used.row + k, last_filled
            if any(v not in (None, "") for v in row):
                last_filled = used.row + k
        return start, last_filled

    def put_rows(self, sheet: str, grid: outputs.Grid, *, first_row: int) -> None:
        """The rows from ``first_row`` down cleared (to the used range's end) and ``grid`` written there;
        the sheet is unprotected for the write and protected again (:data:`SUMMARY_PROTECT`)."""
        target = self.book.sheets[sheet]
        used = target.used_range
        last = used.row + used.shape[0] - 1
        width = max(used.column + used.shape[1] - 1, max((len(r) for r in grid.rows), default=1))
        unprotect(target)
        try:
            if last >= first_row:
                target.range((first_row, 1), (last, width)).clear_contents()
            target.range((first_row, 1)).value = rect(grid.rows)
        finally:
            protect(target, **SUMMARY_PROTECT)

    def cache_results(self, result: object) -> None:
        """Nothing to do: Excel calculates the open workbook's formulas itself."""

    def save(self, *, backup: bool = True) -> bool:
        """Nothing to do: the writes are in the open workbook, which the user saves in Excel."""
        return False


__all__ = ["OpenBook", "safe", "rect", "protect", "unprotect", "protected", "PROTECT", "SUMMARY_PROTECT"]
