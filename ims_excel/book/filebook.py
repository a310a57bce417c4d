"""The closed-file adapter of the port (:class:`ims_excel.book.port.Workbook`): a client ``.xlsm`` on disk.

Reads through the fast xlsx layer (:func:`ims_excel.book.read.read_table`: streamed, numpy, worker
processes for a big sheet; the Config by its defined names) and collects the writes in one
:class:`~ims_excel.book.edit.Edit` that :meth:`FileBook.save` writes atomically, with a dated backup:
a table's changed cells and new rows in one streamed pass over its sheet (:func:`append_plan`: the
changed cells keep their styles; new rows take the table's blank rows, then grow it, with its formulas
and styles, so a million rows append in one pass), a log sheet rewritten with its rows appended
(:func:`changes_xml`), a report sheet put in from a grid. When table rows changed the save ends with
``process``'s cache-only step (:func:`ims_excel.book.cached.save_with_cached_values`): every formula cell
caches the engine's value - unless only tool columns changed (``records.Column.tool``: reconcile's Match
Status, Match Note, Suggested Action) that none of the table's formulas reads: then every cached value is
still right and the sheet's other cells are copied as they are, so the book is not read and evaluated
again. Nothing is written when nothing changed, so a use case that finds nothing to do leaves the file
byte for byte as it was.

``process`` (:func:`ims_excel.book.processing.process_into`) reads the tables with their XML kept (the
Inward sheet's, when small enough: the write pass does not inflate it again) and hands back the engine's
result (:meth:`FileBook.cache_results`): the save then writes every formula cell's cached value in the
same single pass (:func:`ims_excel.book.cached.write_cached_values`: the injector, in worker processes
for a big sheet) with the Validation sheet and the Liability rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from ims_excel.book import outputs, usercells
from ims_excel.book.leftovers import shared_strings
from ims_excel.book.edit import Edit, borrow_styles, grid_sheet_rows, sheet_head
from ims_excel.book.history import read_history
from ims_excel.book.logsheet import append_log, changes_xml, part_name as _part, put_sheet, read_changes
from ims_excel.book.outputs import CHANGES_SHEET
from ims_excel.book.cached import CachedValues, save_with_cached_values, write_cached_values
from ims_excel.book.edit import Styles
from ims_excel.book.port import Table
from ims_excel.book.read import VALIDATION, Book, BookProblem, TableData, read_config, read_table, require_tables
from ims_excel.engine import Result
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS
from ims_excel.template.specs import spec
from ims_excel.template.tables import cell_columns, check_limits
from ims_excel.xlsx import sheetxml, structured, units as units_mod
from ims_excel.xlsx.package import MAX_ROWS, Package, col_index, col_letters
from ims_excel.xlsx.tableread import Progress


def append_plan(pkg: Package, td: TableData, frame: pd.DataFrame, direction: str, *,
                 shared_formulas: bool = False, updates: dict[int, dict[int, object]] | None = None,
                 ) -> tuple[int, int, Callable[[], Iterator[bytes]], str]:
    """(first row, last row, sheet stream, new table XML) to append ``frame``'s records to a table.

    ``updates``: {sheet row: {sheet column: cell value}} of existing rows to rewrite (merge), their
    cells keeping their styles.
    """
    updates = updates or {}

    table = td.table
    r1, c1, r2, c2 = table.bounds
    n, cells = cell_columns(spec(direction), frame)
    reusable = td.last_filled  # rows after it, inside the table, are blank: reuse them
    first_new = max(reusable, r1) + 1
    last_new = first_new + n - 1
    if last_new > MAX_ROWS:
        room = max(0, MAX_ROWS - first_new + 1)
        raise BookProblem(pkg.path, f"{n:,} records do not fit in the {table.name} table: its sheet has room for "
                                    f"{room:,} more rows (rows {first_new:,}-{MAX_ROWS:,}; Excel's limit is "
                                    f"{MAX_ROWS:,} rows); nothing was written. Import fewer, or start the next "
                                    "period's workbook (ims-excel roll)")
    check_limits(spec(direction), n, cells, file=str(pkg.path), first_row=first_new,
                 formulas={h: table.formulas[h] for h in td.computed})  # Excel's limits, before writing
    part = table.sheet_part
    head = sheet_head(pkg, part)
    col_styles = sheetxml.style_of_columns(head)
    canon = {c.name: c for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    columns: list[tuple[sheetxml.Column, list | None]] = []
    for name, col in td.inputs.items():
        columns.append((sheetxml.Column(col, canon[name].kind, col_styles.get(col)), cells.get(name)))
    geometry = structured.tables_of(pkg.tables()) if shared_formulas else {}
    for header, col in td.computed.items():
        formula = table.formulas[header]  # shared: in A1 form for the first new row, as Excel writes them
        a1 = structured.to_a1(formula, first_new, geometry, table.sheet) if shared_formulas else None
        columns.append((sheetxml.Column(col, "formula", col_styles.get(col), formula, a1), None))
    for header, col in td.others.items():
        columns.append((sheetxml.Column(col, "text", col_styles.get(col)), None))
    kinds = {col: canon[name].kind for name, col in td.inputs.items()}
    new_r2 = max(r2, last_new)

    def stream() -> Iterator[bytes]:
        emitted = False
        max_si = -1
        for kind, blob in units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES):
            if kind == "head":
                yield sheetxml.set_dimension(blob, f"A1:{col_letters(max(c2, 1))}{new_r2}")
                continue
            if kind == "tail":
                if not emitted and n:
                    yield from sheetxml.rows_xml(columns, first_new, n,
                                                 shared_si=(max_si + 1) if shared_formulas else None)
                yield blob
                continue
            if shared_formulas:
                max_si = max(max_si, sheetxml.max_shared_index(blob))
            out = []
            for rnum, row in sheetxml.iter_rows(blob):
                if rnum in updates:
                    row = _patch(row, rnum, updates[rnum], kinds)
                if n and first_new <= rnum <= r2 and rnum <= max(r2, last_new):
                    if _has_constants(row):
                        raise BookProblem(pkg.path, f"row {rnum} of the {table.name} table has values outside "
                                                    "the input columns; clear it or add the records by hand")
                    continue  # a blank table row: the new records take its place
                if r2 < rnum <= last_new and b"<c" in row:
                    raise BookProblem(pkg.path, f"row {rnum} below the {table.name} table is in use; the "
                                                f"{n} new records need rows {first_new}-{last_new}: move it")
                if rnum > last_new and not emitted and n:
                    if out:
                        yield b"".join(out)
                        out = []
                    yield from sheetxml.rows_xml(columns, first_new, n,
                                                 shared_si=(max_si + 1) if shared_formulas else None)
                    emitted = True
                out.append(row)
            if out:
                yield b"".join(out)
    ref = f"{col_letters(c1)}{r1}:{col_letters(c2)}{new_r2}"
    txml = pkg.text(table.part)
    txml = re.sub(r'(<table\b[^>]*\bref=")[^"]*(")', rf"\g<1>{ref}\2", txml, count=1)
    txml = re.sub(r'(<autoFilter\b[^>]*\bref=")[^"]*(")', rf"\g<1>{ref}\2", txml, count=1)
    return first_new, last_new, stream, txml


_STYLE = re.compile(rb'\ss="(\d+)"')


def _patch(row: bytes, rnum: int, values: dict[int, object], kinds: dict[int, str]) -> bytes:
    """One row with the cells of ``values`` ({column: cell value}) rewritten (styles kept).

    Each cell is found by its reference (``<c r="AU7"``, a bytes search) and replaced where it is, so a row of
    a hundred cells is not parsed to change three; a cell not there, or written another way, takes the
    general path (:func:`_patch_cells`)."""
    out = row
    for col, value in sorted(values.items()):
        ref = f'<c r="{col_letters(col)}{rnum}"'.encode()
        i = out.find(ref)
        j = i + len(ref)
        if i < 0 or out[j:j + 1] not in (b" ", b">", b"/"):
            return _patch_cells(row, rnum, values, kinds)
        gt = out.find(b">", j)
        end = gt + 1 if out[gt - 1:gt] == b"/" else out.find(b"</c>", gt) + 4
        if gt < 0 or end < gt:
            return _patch_cells(row, rnum, values, kinds)
        m = _STYLE.search(out, i, gt)
        xml = sheetxml.column_cells(sheetxml.Column(col, kinds.get(col, "text"), int(m.group(1)) if m else None),
                                    [value], rnum, 1)[0]
        out = out[:i] + xml.encode("utf-8") + out[end:]
    return out


def _patch_cells(row: bytes, rnum: int, values: dict[int, object], kinds: dict[int, str]) -> bytes:
    """:func:`_patch` by parsing the whole row (every cell, in column order)."""
    head, cells, tail = sheetxml.row_cells(row)
    styles = sheetxml.cell_styles(row)
    by_col = dict(cells)
    for col, value in values.items():
        xml = sheetxml.column_cells(sheetxml.Column(col, kinds.get(col, "text"), styles.get(col)),
                                    [value], rnum, 1)[0]
        by_col[col] = xml.encode("utf-8")
    body = b"".join(by_col[c] for c in sorted(by_col) if by_col[c])
    return head + body + tail


def append_estimate(td: TableData, n: int, shared: bool) -> int:
    """A generous size of ``n`` new rows' XML (for ZIP64 room): 80 bytes an input cell, the formulas."""
    per_formula = 60 if shared else 60 + max((len(f) for f in td.table.formulas.values()), default=0)
    return n * (80 * len(td.inputs) + per_formula * len(td.computed) + 40)


def _has_constants(row: bytes) -> bool:
    _, cells, _ = sheetxml.row_cells(row)
    for _, cell in cells:
        if b"<f" not in cell and (b"<v>" in cell or b"<is>" in cell):
            return True
    return False


class FileBook:
    """A client workbook file as a :class:`~ims_excel.book.port.Workbook` (see the module doc).

    ``with FileBook(path) as wb: ...; wb.save()``; ``shared_formulas``: new rows' formulas stored as
    shared formulas (``import --shared-formulas``). A table's sheet is rewritten in one streamed pass,
    so each table takes one :meth:`write_table` (its changed cells and new rows together) per save."""

    def __init__(self, path: str | os.PathLike, *, shared_formulas: bool = False, keep_xml: bool = False,
                 progress: Progress | None = None):
        self.path = Path(path)
        self.name = str(self.path)
        self.shared_formulas = shared_formulas
        self.keep_xml = keep_xml  # the Inward sheet's XML kept from the read for the write pass (process)
        self.progress = progress  # hears how far reading and writing the Inward sheet have got
        self.pkg = Package(self.path)
        try:
            require_tables(self.pkg)
        except BaseException:
            self.pkg.close()
            raise
        self.edit = Edit(self.pkg)
        self._logs: dict[str, list[list[object]]] = {}  # log sheet -> rows to append (on save)
        self._headers: dict[str, list[str]] = {}
        self._sheets: dict[str, tuple[outputs.Grid, str]] = {}
        self.recache = False  # whether a cell a formula may read changed (then save caches the values)
        self._blocks: dict[str, tuple[outputs.Grid, int]] = {}  # sheet -> (grid, first row), put in on save
        self._config: tuple[dict[str, object], dict[str, tuple[str, int, str]]] | None = None
        self._read: dict[str, TableData] = {}  # the tables as read (the cache step rewrites them)
        self._result: Result | None = None
        self.cached: CachedValues | None = None
        """What :meth:`save`'s cache-only step did (the formula cells it restored; why values were left to
        Excel), when table rows changed."""

    def __enter__(self) -> "FileBook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.pkg.close()

    def config(self) -> tuple[dict[str, object], dict[str, tuple[str, int, str]]]:
        if self._config is None:
            self._config = read_config(self.pkg)
        values, cells = self._config
        return dict(values), dict(cells)

    def table(self, name: str, direction: str, *, typed: bool = True) -> Table | None:
        info = self.pkg.table(name)
        if info is None:
            return None
        inward = direction == "inward"  # as load_book: the Inward sheet's XML kept, its progress heard
        td = read_table(self.pkg, info, direction, typed=typed, keep_xml=self.keep_xml and inward,
                        progress=self.progress if inward else None)
        self._read[name] = td
        return Table(name, direction, td.frame, td.rows, td.inputs, td.last_filled, td)

    def history(self) -> pd.DataFrame | None:
        return read_history(self.pkg)

    def write_table(self, table: Table, updates: dict[int, dict[str, object]], added: pd.DataFrame
                    ) -> tuple[int, int] | None:
        td: TableData = table.handle
        if td.table.sheet_part in self.edit.stream:  # the second pass would start from the file again
            raise ValueError(f"{table.name}: one write_table per table before save()")
        cells = {row: {td.inputs[name]: v for name, v in vals.items()} for row, vals in updates.items() if vals}
        if not len(added) and not cells:
            return None
        tool = {c.name for c in (INWARD_COLUMNS if table.direction == "inward" else OUTWARD_COLUMNS) if c.tool}
        written = {name for vals in updates.values() for name in vals}
        formulas = td.table.formulas.values()
        self.recache = self.recache or bool(len(added)) or any(
            name not in tool or any(name in f for f in formulas) for name in written)
        first, last, stream, txml = append_plan(self.pkg, td, added, table.direction,
                                                shared_formulas=self.shared_formulas, updates=cells)
        part = td.table.sheet_part
        self.edit.stream[part] = stream
        self.edit.size_hint[part] = (self.pkg.by_name[part].file_size
                                     + append_estimate(td, len(added), self.shared_formulas))
        self.edit.replace[td.table.part] = txml.encode("utf-8")
        return (first, last) if len(added) else None

    def append_rows(self, sheet: str, header: list[str], rows: list[list[object]]) -> None:
        self._logs.setdefault(sheet, []).extend(rows)
        self._headers.setdefault(sheet, list(header))

    def put_sheet(self, sheet: str, grid: outputs.Grid, *, after: str) -> None:
        self._sheets[sheet] = (grid, after)

    def find_mark(self, sheet: str, mark: str) -> tuple[int | None, int] | None:
        ref = self.pkg.sheet(sheet)
        if ref is None:
            return None
        cut, last = block_rows(self.pkg, _part(ref.part), mark)
        return cut, last

    def put_rows(self, sheet: str, grid: outputs.Grid, *, first_row: int) -> None:
        if self.pkg.sheet(sheet) is None:
            raise BookProblem(self.path, f"has no {sheet} sheet to write rows into")
        self._blocks[sheet] = (grid, first_row)

    def cache_results(self, result: Result) -> None:
        """The save caches the engine's values in every formula cell (``process``'s single pass)."""
        self._result = result

    def save(self, *, backup: bool = True) -> bool:
        if not (self.edit.stream or self.edit.replace or self._sheets or self._logs or self._blocks
                or self._result is not None):
            return False
        self._check_user_cells()
        for sheet, rows in self._logs.items():
            append_log(self.edit, self.pkg, self._headers[sheet], rows, sheet)
        if self._sheets or self._blocks:
            styles = borrow_styles(self.pkg, self.pkg.table("Inward"))  # require_tables: it is there
            for sheet, (grid, after) in self._sheets.items():  # the Validation sheet keeps its tab and filter
                xml = validation_xml(grid, styles) if sheet == VALIDATION else grid_xml(grid, styles)
                put_sheet(self.edit, self.pkg, sheet, xml, after=after)
            for sheet, (grid, first) in self._blocks.items():
                part = _part(self.pkg.sheet(sheet).part)
                self.edit.replace[part] = block_part(self.pkg, part, grid, styles, first)
        if self._result is not None:  # process: the cached values in the same single pass
            if self.edit.stream:
                raise ValueError(f"{self.name}: cache_results after write_table (the table's sheet is rewritten "
                                 "once per save)")
            values, cells = self.config()
            inward = self._read.get("Inward") or read_table(self.pkg, self.pkg.table("Inward"), "inward",
                                                            keep_xml=self.keep_xml)
            book = Book(self.path, values, cells, self._result.context, inward, self._read.get("Outward"))
            self.cached = write_cached_values(self.edit, book, self._result, self.progress)
            self.edit.save(self.path, backup=backup)
        elif self.recache:  # cells formulas read changed: every formula cell caches the engine's value (issue 9)
            self.cached = save_with_cached_values(self.edit, self.path, backup=backup)
        else:
            self.edit.save(self.path, backup=backup)
        return True


    def _check_user_cells(self) -> None:
        """Refuse, before anything is written, when the Validation sheet or the Liability rows about to be
        rewritten hold cells the user typed (:mod:`ims_excel.book.usercells`), naming each."""
        found: dict[str, list[tuple[str, object]]] = {}
        sst: list[str] | None = None
        if VALIDATION in self._sheets and self.pkg.sheet(VALIDATION) is not None:
            sst = shared_strings(self.pkg)
            found[VALIDATION] = usercells.validation_cells(self.pkg, _part(self.pkg.sheet(VALIDATION).part), sst)
        for sheet, (_, first) in self._blocks.items():
            sst = sst if sst is not None else shared_strings(self.pkg)
            found[sheet] = usercells.liability_cells(self.pkg, _part(self.pkg.sheet(sheet).part), first, sst)
        found = {k: v for k, v in found.items() if v}
        if found:
            raise BookProblem(self.path, usercells.refusal(found))


def grid_xml(grid: outputs.Grid, styles) -> bytes:
    """A report sheet from its grid (text as inline strings: never a formula), its tab coloured when the
    grid says (``Grid.tab``: the Reconciliation and Suppliers sheets)."""
    rows = grid_sheet_rows(grid, styles)
    last_col = max((len(r) for r in grid.rows), default=1)
    widths = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in sorted(grid.widths.items()))
    tab = f'<sheetPr><tabColor rgb="{grid.tab}"/></sheetPr>' if grid.tab else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"{tab}"
            f'<dimension ref="A1:{col_letters(last_col)}{max(len(grid.rows), 1)}"/>'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{widths}</cols><sheetData>" + "".join(rows) + "</sheetData>"
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="landscape"/></worksheet>').encode("utf-8")


def validation_xml(grid: outputs.Grid, styles: Styles) -> bytes:
    """The Validation sheet from its grid: red tab, the record list filtered (as :func:`grid_xml`)."""
    rows = grid_sheet_rows(grid, styles)
    last_col = max((len(r) for r in grid.rows), default=1)
    widths = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in sorted(grid.widths.items()))
    first_list = grid.first_list
    auto = f'<autoFilter ref="A{first_list + 1}:{col_letters(len(outputs.LIST_HEADER))}' \
           f'{max(first_list + 1, len(grid.rows))}"/>' if first_list is not None else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheetPr><tabColor rgb="FFC00000"/></sheetPr>'
            f'<dimension ref="A1:{col_letters(last_col)}{max(len(grid.rows), 1)}"/>'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{widths}</cols><sheetData>" + "".join(rows) + "</sheetData>" + auto +
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<pageSetup paperSize="9" orientation="landscape"/></worksheet>').encode("utf-8")


def block_rows(pkg: Package, part: str, mark: str) -> tuple[int | None, int]:
    """(the first row holding ``mark``, or None; the last row with a cell above it) of a sheet part."""
    mark_b = sheetxml.esc(mark).encode()
    cut, last = None, 0
    for kind, blob in units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES):
        if kind != "rows":
            continue
        for r, x in sheetxml.iter_rows(blob):
            if mark_b in x:
                return r, last
            if b"<c" in x:
                last = r
    return cut, last


def block_part(pkg: Package, part: str, grid: outputs.Grid, styles: Styles, start: int) -> bytes:
    """The sheet part with its rows from ``start`` down replaced by ``grid``'s (the rows above kept)."""
    pieces = list(units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES))
    head = next(b for k, b in pieces if k == "head")
    tail = next(b for k, b in pieces if k == "tail")
    keep = [x for k, b in pieces if k == "rows" for r, x in sheetxml.iter_rows(b) if r < start]
    new = grid_sheet_rows(grid, styles, first_row=start)
    end = start + len(grid.rows) - 1
    m = re.search(rb'<dimension ref="([A-Z]+\d+):([A-Z]+)(\d+)"', head)
    if m:
        lastc = max(col_index(m.group(2).decode()), max(len(r) for r in grid.rows))
        head = sheetxml.set_dimension(head, f"{m.group(1).decode()}:{col_letters(lastc)}{max(end, int(m.group(3)))}")
    return head + b"".join(keep) + "".join(new).encode("utf-8") + tail


__all__ = ["FileBook", "append_plan", "append_estimate", "changes_xml", "read_changes", "grid_xml", "validation_xml",
           "block_rows", "block_part"]
