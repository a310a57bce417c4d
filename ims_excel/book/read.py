"""Reading a client workbook: its Config sheet, its Inward / Outward tables, the engine run on them.

Reading (:func:`load_book`): the Config sheet's named cells give the
:class:`~ims_excel.engine.Context` (read with python-calamine); the
``Inward`` / ``Outward`` tables give the records. A table's cells are read
by the xlsx layer in one call (:func:`ims_excel.xlsx.tableread.read_cells`:
the sheet inflated once as a stream, blocks of rows read with numpy or
python-calamine; a sheet over :data:`PARALLEL_BYTES` parsed by worker
processes, forked or spawned, ``IMS_EXCEL_PROCESSES`` sets how many, default
the CPUs up to 4). This module says which columns are which (the canonical
Inward / Outward columns, the formula columns), types each block in the
worker that read it (:func:`ims_excel.formats.to_typed`), so memory stays
that of a few blocks while the typed records pile up
(``IMS_EXCEL_READER=calamine`` uses calamine for every block), and reports
unreadable cells in IMS words. Blank table rows are skipped; each record
keeps its sheet row (``source_row``), so every problem names the cell a
person can find. The reader also notes, per row, its length and the layout
of its formula cells, so the writer (:mod:`ims_excel.book.cached`) can fill
those from a template.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from ims_excel.book import outputs
from ims_excel.engine import Context, Result, evaluate
from ims_excel.formats import to_typed
from ims_excel.normalise import InputError, InputProblem
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.xlsx import tableread
from ims_excel.xlsx.package import Package, TableInfo, col_index, col_letters
from ims_excel.xlsx.tableread import Progress, Regularity


INWARD, OUTWARD, HISTORY = "Inward", "Outward", "History"


VALIDATION = outputs.VALIDATION_SHEET


CHUNK_ROWS = 65_536


class BookProblem(InputError):
    """A workbook that cannot be used as it is (names the file and what to do)."""

    def __init__(self, path: str | os.PathLike, message: str):
        super().__init__([InputProblem(str(path), None, None, message)])


@dataclass
class TableData:
    """A data table as read: typed records (or raw cells) and where each sits."""

    table: TableInfo
    frame: pd.DataFrame  # typed (normalise) or raw (canonical headers), one row per non-blank table row
    rows: np.ndarray  # sheet row of each record
    last_filled: int  # last sheet row with an input value (header row if none)
    inputs: dict[str, int]  # canonical column name -> sheet column
    computed: dict[str, int]  # formula column header -> sheet column
    others: dict[str, int]  # table columns that are neither
    regular: Regularity | None = None  # layout classes of the formula cells, by sheet row
    xml: list | None = None  # the inflated worksheet pieces, kept for the write pass when small enough
    parallel: bool = False  # read by worker processes (and so rewritten by them too)


def table_columns(table: TableInfo, direction: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    canon = INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS
    by_key = {c.key: c.name for c in canon}
    r1, c1, _, _ = table.bounds
    inputs, computed, others = {}, {}, {}
    for k, name in enumerate(table.columns):
        col = c1 + k
        if name in table.formulas:
            computed[name] = col
        elif header_key(name) in by_key and by_key[header_key(name)] not in inputs:
            inputs[by_key[header_key(name)]] = col
        else:
            others[name] = col
    return inputs, computed, others


READER = os.environ.get("IMS_EXCEL_READER", "fast")
"""``fast`` (numpy, calamine for irregular blocks) or ``calamine`` (calamine only)."""


PROCESSES = int(os.environ.get("IMS_EXCEL_PROCESSES", "0")) or min(os.cpu_count() or 1, 4)
"""Worker processes that read or rewrite a table of more than :data:`CHUNK_ROWS` rows (default: the
CPUs, at most 4); 1 = all in this process."""


PARALLEL_BYTES = 128 << 20
"""A table's worksheet larger than this (uncompressed) is read and rewritten by :data:`PROCESSES` workers."""


STREAM_CHUNK = 1 << 24
"""Inflated bytes at a time for a big sheet (units are cut at most once a chunk)."""


KEEP_BYTES = 1536 << 20
"""A worksheet up to this size (uncompressed) is kept in memory between reading and writing."""


def _typed(file: str, direction: str, raw: pd.DataFrame) -> tuple[pd.DataFrame | None, list[InputProblem]]:
    """In the worker that read a block: its raw cells as typed records (:func:`ims_excel.formats.to_typed`),
    or the problems that stop them."""
    try:
        return to_typed(raw, file=file, direction=direction), []
    except InputError as err:
        return None, list(err.problems)


def _problem(p: object, file: str, sheet: str, names: dict[int, str]) -> InputProblem:
    """A problem of the reader in IMS words: an unreadable cell names the file, sheet, row, column and cell."""
    if not isinstance(p, tableread.CellProblem):
        return p  # type: ignore[return-value]  # already an InputProblem (from to_typed)
    text = f"cell {col_letters(p.col)}{p.row} {p.message}" if p.col else p.message
    return InputProblem(file, p.row, names.get(p.col), text, sheet)


def read_table(pkg: Package, table: TableInfo, direction: str = "inward", *, typed: bool = True,
               chunk_rows: int | None = None, processes: int | None = None, file: str | None = None,
               reader: str | None = None, keep_xml: bool = False, progress: Progress | None = None) -> TableData:
    """The records of a data table (see the module doc); ``typed=False`` keeps the raw cells.

    The cells are read by :func:`ims_excel.xlsx.tableread.read_cells`; blocks of ``chunk_rows`` rows are
    parsed in ``processes`` worker processes when the table has more than one block.
    """
    file = file or str(pkg.path)
    inputs, computed, others = table_columns(table, direction)
    r1, c1, r2, c2 = table.bounds
    canon = {c.name: c for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    wanted = sorted(inputs.items(), key=lambda kv: kv[1])
    size = pkg.by_name[table.sheet_part].file_size
    n_proc = PROCESSES if processes is None else processes
    if processes is None and size <= PARALLEL_BYTES:
        n_proc = 1
    cells = tableread.read_cells(
        pkg, table.sheet_part, sheet=table.sheet, first=r1 + 1, last=r2, columns=wanted,
        kinds={col: canon[name].kind for name, col in wanted}, formula_cols=set(computed.values()),
        finish=functools.partial(_typed, file, direction) if typed else None, prepared=typed,
        reader=reader or READER, chunk_rows=chunk_rows or CHUNK_ROWS, processes=n_proc, stream_chunk=STREAM_CHUNK,
        keep_xml=keep_xml and size <= KEEP_BYTES, progress=progress)
    if cells.problems:
        names = {col: name for name, col in wanted}
        problems = [_problem(p, file, table.sheet, names) for p in cells.problems]
        shown = [p for p in problems if p.row is not None][:40] + [p for p in problems if p.row is None][:5]
        raise InputError(shown)
    rows = cells.rows
    if cells.made:
        frame = pd.concat(cells.made, ignore_index=True) if len(cells.made) > 1 else cells.made[0].reset_index(drop=True)
    else:
        empty = pd.DataFrame({h: pd.Series(dtype=object) for h, _ in wanted})
        empty["_row"] = pd.Series(dtype="int64")
        empty["_sheet"] = pd.Series(dtype=object)
        frame = empty if not typed else to_typed(empty, file=file, direction=direction)
    if typed:
        frame["row"] = np.arange(1, len(frame) + 1, dtype="int64")
    return TableData(table, frame, rows, int(rows.max()) if len(rows) else r1, inputs, computed, others,
                     cells.regular, cells.xml, cells.parallel)


def split_ref(ref: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"\s*=?\s*(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Z]{1,3})\$?(\d+)\s*", ref)
    if not m:
        return None
    return (m.group(1) or m.group(2)).replace("''", "'"), f"{m.group(3)}{m.group(4)}"


def read_config(pkg: Package) -> tuple[dict[str, object], dict[str, tuple[str, int, str]]]:
    """Config values by defined name, and each name's (sheet, row, label with the cell address)."""
    names = pkg.defined_names()
    values: dict[str, object] = {}
    cells: dict[str, tuple[str, int, str]] = {}
    wb = pc.CalamineWorkbook.from_path(str(pkg.path))
    grids: dict[str, list[list]] = {}
    for name in outputs.CONFIG_NAMES:
        where = split_ref(names.get(name, ""))
        if where is None:
            continue
        sheet, a1 = where
        if sheet not in grids:
            try:
                grids[sheet] = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception:
                grids[sheet] = []
        m = re.fullmatch(r"([A-Z]+)(\d+)", a1)
        r, c = int(m.group(2)), col_index(m.group(1))
        grid = grids[sheet]
        values[name] = grid[r - 1][c - 1] if r - 1 < len(grid) and c - 1 < len(grid[r - 1]) else ""
        cells[name] = (sheet, r, f"{outputs.LABELS.get(name, name)} ({sheet}!{a1})")
    return values, cells


@dataclass
class Book:
    """A client workbook as read: its config, context and records."""

    path: Path
    config: dict[str, object]
    cells: dict[str, tuple[str, int, str]]
    context: Context
    inward: TableData
    outward: TableData | None

    @property
    def client(self) -> str:
        return outputs.cell_text(self.config.get("LegalName")) or self.path.stem


def is_client_workbook(path: str | os.PathLike) -> bool:
    """An .xlsx/.xlsm with an ``Inward`` table and the ``RecipientGSTIN`` Config name."""
    p = Path(path)
    if p.suffix.lower() not in (".xlsx", ".xlsm") or not os.path.isfile(p):  # False on any OSError
        return False
    try:
        with Package(p) as pkg:
            return "RecipientGSTIN" in pkg.defined_names() and pkg.table(INWARD) is not None
    except (InputError, OSError, ValueError):
        return False


def no_inward_table(path: str | os.PathLike) -> BookProblem:
    """The problem of a workbook without the Inward table (whatever reads it: the file or the open book)."""
    return BookProblem(path, "has no Excel table named 'Inward': it is not an IMS client workbook "
                             "(make one with: ims-excel new CLIENT.xlsm ...)")


def require_tables(pkg: Package) -> tuple[TableInfo, TableInfo | None]:
    inward = pkg.table(INWARD)
    if inward is None:
        raise no_inward_table(pkg.path)
    return inward, pkg.table(OUTWARD)


def load_book(path: str | os.PathLike, pkg: Package | None = None, *, as_of: dt.date | None = None,
              gstr3b_filed: bool | None = None, typed: bool = True, overrides: dict | None = None,
              keep_xml: bool = False, progress: Progress | None = None) -> Book:
    """Config, context and records of a client workbook (``overrides``: Config values by name)."""
    path = Path(path)
    own = pkg is None
    pkg = pkg or Package(path)
    try:
        inward_t, outward_t = require_tables(pkg)
        values, cells = read_config(pkg)
        values.update(overrides or {})
        ctx = outputs.context_from_config(values, file=str(path), cells=cells, as_of=as_of,
                                          gstr3b_filed=gstr3b_filed)
        inward = read_table(pkg, inward_t, "inward", typed=typed, keep_xml=keep_xml, progress=progress)
        outward = read_table(pkg, outward_t, "outward", typed=typed) if outward_t else None
        return Book(path, values, cells, ctx, inward, outward)
    finally:
        if own:
            pkg.close()


def evaluate_book(book: Book) -> Result:
    outward = book.outward.frame if book.outward is not None and len(book.outward.frame) else None
    return evaluate(book.inward.frame, book.context, outward, inward_name=str(book.path),
                    outward_name=str(book.path))


def report_book(path: str | os.PathLike, *, overrides: dict[str, object] | None = None,
                as_of: dt.date | None = None, gstr3b_filed: bool = False, outward: pd.DataFrame | None = None,
                outward_name: str = "") -> Result:
    """``ims-excel report BOOK``: the engine on a client workbook, its Context from the Config sheet
    (``overrides``: Config values by defined name, e.g. given on the command line); ``outward``: typed
    Outward records from another file instead of the workbook's Outward table."""
    book = load_book(path, as_of=as_of, gstr3b_filed=True if gstr3b_filed else None, overrides=overrides)
    if outward is None and book.outward is not None and len(book.outward.frame):
        outward = book.outward.frame
    return evaluate(book.inward.frame, book.context, outward, inward_name=str(book.path),
                    outward_name=outward_name or str(book.path))
