"""The cache-only step: the engine's values as the cached values of every formula cell (issue 9).

:func:`write_cached_values` plans, in an :class:`~ims_excel.book.edit.Edit`, the Inward and Outward
worksheets streamed row by row with the engine's answers put into their formula cells
(:class:`ims_excel.xlsx.sheetxml.Injector`, whole blocks of regular rows at once; for a big sheet in
worker processes, each unit deflated where it was rewritten), and Config and the summary sheets with
what their formulas give. ``process`` ends with it (through :class:`ims_excel.book.filebook.FileBook`);
``import``, ``roll`` and ``upgrade`` end with :func:`cache_book`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ims_excel.book import read, typedover
from ims_excel.book.logsheet import append_log
from ims_excel.book.outputs import CHANGES_HEADER, CHANGES_SHEET
from ims_excel.book.edit import Edit, drop_calc_chain, full_calc_on_load, sheet_head
from ims_excel.book.read import Book, TableData, VALIDATION, evaluate_book, load_book
from ims_excel.book.sheet_values import cache_sheet_values
from ims_excel.engine import Result
from ims_excel.normalise import InputError
from ims_excel.template import inward as inward_mod, outward as outward_mod
from ims_excel.xlsx import codec, fanout, fileio, sheetxml, units as units_mod
from ims_excel.xlsx.package import Package
from ims_excel.xlsx.tableread import Progress

def _computed_plan(book: Book, result: Result, pkg: Package,
                   direction: str = "inward") -> tuple[list[sheetxml.Computed], list[str]]:
    """The formula columns of the Inward (or Outward) table with the engine's values as their cached values."""

    td = book.inward if direction == "inward" else book.outward
    if td is None:
        return [], []
    mod = inward_mod if direction == "inward" else outward_mod
    name = td.table.name
    head = sheet_head(pkg, td.table.sheet_part)
    col_styles = sheetxml.style_of_columns(head)
    kinds = {c.header: c.kind for c in mod.COMPUTED}
    warnings = []
    values = mod.cached_values(result)
    if len(values) != len(td.rows):  # no records were evaluated (an empty table): leave the cells alone
        values = values.iloc[:0]
    cols = []
    for header, col in td.computed.items():
        c = sheetxml.Computed(col, td.table.formulas[header], col_styles.get(col))
        c.blank = (b"", b"0") if kinds.get(header) == "amount" else (b' t="str"', b"")
        if header in values.columns and len(values) == len(td.rows):
            c.values = values[header].reset_index(drop=True)
        else:
            warnings.append(f"{name} column {header!r}: not a column of this version's template; its values "
                            "are left to Excel (run: ims-excel upgrade)")
        cols.append(c)
    current = {c.header: c.formula.lstrip("=") for c in mod.COMPUTED}
    if any(current.get(h) != f for h, f in td.table.formulas.items()) or set(current) - set(td.table.formulas):
        warnings.append(f"the {name} formulas are not this version's; Excel recalculates them on opening, "
                        "but run ims-excel upgrade to bring the workbook up to date")
    return cols, warnings


def _inject_unit(injector: sheetxml.Injector, level: int, blob: bytes) -> tuple[bytes, int, int, dict]:
    """Worker: rewrite a unit of rows and deflate it (see :func:`_inject_parallel`); the injector is
    bound with :func:`functools.partial` (inherited through ``fork``, or pickled to a spawned worker
    with the row templates the first unit made)."""
    before = dict(injector.stats)
    restored = len(injector.restored)
    data = b"".join(injector.rows(piece) for piece in units_mod.cut(blob, 1 << 20))
    delta = {k: v - before.get(k, 0) for k, v in injector.stats.items()}
    delta["cells"] = injector.restored[restored:]
    return codec.deflate_block(data, level), codec.crc32(data), len(data), delta


def _inject_parallel(pkg: Package, part: str, injector: sheetxml.Injector, n: int,
                     level: int = 1) -> Iterator[tuple[bytes, int, int]]:
    """A big sheet with its rows rewritten by ``injector``, as deflated segments in sheet order.

    This process inflates the sheet; workers (:mod:`ims_excel.xlsx.fanout`, forked
    or spawned) rewrite and deflate each unit of rows with the injector and the
    engine's values; the segments go to :meth:`PackageWriter.write_deflated`.
    """
    def plain(data: bytes) -> tuple[bytes, int, int]:
        return codec.deflate_block(data, level), codec.crc32(data), len(data)

    pieces = units_mod.units(pkg.stream(part, read.STREAM_CHUNK))
    _, head = next(pieces)
    yield plain(head)
    tail: list[bytes] = []

    def rows_only() -> Iterator[bytes]:
        for kind, blob in pieces:
            if kind == "rows":
                yield blob
            else:
                tail.append(blob)

    injector.prepare()  # once, before the workers start: they share (or are sent) the codes
    rows = rows_only()
    first = next(rows, None)
    if first is not None:  # here: the row templates and their segments are made once, then shared
        yield plain(b"".join(injector.rows(piece) for piece in units_mod.cut(first, 1 << 20)))
    for comp, crc, size, stats in fanout.fan_out(rows, functools.partial(_inject_unit, injector, level), processes=n):
        injector.restored += stats.pop("cells", [])
        for key, v in stats.items():
            injector.stats[key] = injector.stats.get(key, 0) + v
        yield comp, crc, size
    yield plain(tail[0])


def _rewrite_table(edit: Edit, td: TableData | None, cols: list[sheetxml.Computed],
                   progress: Progress | None = None) -> sheetxml.Injector | None:
    """Plan the rewrite of a table's sheet with the engine's values in its formula cells (see :func:`process`):
    streamed here, or for a big sheet (read by workers) rewritten and deflated by forked workers."""
    if td is None or not any(c.values is not None for c in cols):
        return None
    pkg, part = edit.pkg, td.table.sheet_part
    r1, _, r2, _ = td.table.bounds
    lookup = np.full(r2 + 2, -1, dtype="int64")
    lookup[td.rows] = np.arange(len(td.rows))
    injector = sheetxml.Injector(cols, lookup, r1 + 1, r2, td.regular)
    part_size = pkg.by_name[part].file_size
    written = part_size + 24 * len(cols) * (r2 - r1)  # cached values add about 20 bytes a formula cell
    edit.size_hint[part] = written

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("write", min(done, total), total)

    def stream() -> Iterator[bytes]:
        done = 0
        for kind, blob in td.xml or units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES):
            done += len(blob)
            yield injector.rows(blob) if kind == "rows" else blob
            report(done, part_size)

    def segments() -> Iterator[tuple[bytes, int, int]]:
        done = 0
        for seg in _inject_parallel(pkg, part, injector, read.PROCESSES):
            done += seg[2]
            yield seg
            report(done, written)
        report(written, written)

    if td.parallel:
        edit.deflated[part] = segments
    else:
        edit.stream[part] = stream
    return injector


@dataclass
class CachedValues:
    """What :func:`write_cached_values` planned: the tables' injectors (their ``restored`` cells and
    ``stats`` are known once the book is written), the notes, and whether every formula cell of the book
    got a right value (then the book no longer asks Excel for a full calculation on load)."""

    book: Book | None
    injector: sheetxml.Injector | None
    out_injector: sheetxml.Injector | None
    warnings: list[str]
    right: bool
    why_not: str = ""
    """Why the values were left to Excel (:func:`cache_book` could not evaluate the book), or ""."""
    typed: dict[str, list[typedover.TypedOver]] = field(default_factory=dict)
    """The formula cells found holding a constant, by table, with what was typed (kept on the Changes sheet)."""

    def restored(self) -> dict[str, list[str]]:
        """Formula cells found typed over and given their formula back, by table (after the save)."""
        pairs = ((self.book.inward, self.injector), (self.book.outward, self.out_injector)) if self.book else ()
        return {t.table.name: inj.restored for t, inj in pairs if inj is not None and inj.restored}


def write_cached_values(edit: Edit, book: Book, result: Result,
                        progress: Progress | None = None) -> CachedValues:
    """Plan, in ``edit``, the engine's values as the cached values of every formula cell (issue 9: right
    numbers without recalculation): the Inward/Outward computed columns (:class:`sheetxml.Injector`,
    which also gives a typed-over formula cell its formula back), Config and the summary sheets
    (:func:`cache_sheet_values`); ``fullCalcOnLoad`` only where some value is not known to be right.

    The one path from an evaluated book to its cached values: ``process`` calls it after writing its
    Validation and Liability output; ``import``, ``roll`` and ``upgrade`` through :func:`cache_book`.
    User inputs are never touched; a value typed over a formula cell (given its formula back) is appended,
    with its record, to the Changes sheet (:mod:`ims_excel.book.typedover`). Sheets already planned in
    ``edit.replace`` (Liability) are worked on
    as planned.
    """
    pkg = edit.pkg
    cols, warnings = _computed_plan(book, result, pkg)
    out_cols, out_warnings = _computed_plan(book, result, pkg, "outward")
    warnings += out_warnings
    injector = _rewrite_table(edit, book.inward, cols, progress)
    out_injector = _rewrite_table(edit, book.outward, out_cols)
    typed = {td.table.name: found for td, inj in ((book.inward, injector), (book.outward, out_injector))
             if inj is not None and (found := typedover.find(pkg, td))}
    rows = [r for cells in typed.values() for r in typedover.changes_rows(cells, dt.datetime.now().strftime(
        "%d-%m-%Y %H:%M"))]
    if rows:  # what was typed over a formula is kept on the Changes sheet, in this same save
        ref = pkg.sheet(CHANGES_SHEET)
        if ref is not None and (ref.part in edit.replace or ref.part.lstrip("/") in edit.replace):
            raise ValueError(f"{book.path}: the Changes sheet is already being rewritten in this save")
        append_log(edit, pkg, CHANGES_HEADER, rows)
    # Config and the summary sheets cache what their formulas give; a book whose cached values are then
    # all right stops asking Excel for a full calculation on load (issue 9)
    td = book.inward
    tables = {td.table.sheet} | ({book.outward.table.sheet} if book.outward else set())
    right = cache_sheet_values(pkg, edit.replace, book.config, result, tables | {VALIDATION}, file=str(book.path))
    right = right and not warnings and not td.others and not (book.outward and book.outward.others) \
        and all(c.values is not None for c in cols + out_cols)
    full_calc_on_load(edit, on=not right)
    drop_calc_chain(edit)
    return CachedValues(book, injector, out_injector, warnings, right, typed=typed)


def cache_book(source: str | os.PathLike, out: str | os.PathLike | None = None, *,
               backup: bool = True) -> CachedValues:
    """The cache-only step that ends ``import``, ``roll`` and ``upgrade``: evaluate the book at ``source``
    and write it to ``out`` (default: in place) with every formula cell caching the engine's value
    (:func:`write_cached_values`, as ``process`` does), user inputs, the Validation sheet and the
    Liability rows as they are.

    A book the engine cannot evaluate (a bad Config setting or cell, which ``process`` names), or whose
    GSTR-3B 4(C) cannot be worked out (a text typed in 4(A)(2) or 4(B)(1), which ``process`` refuses), is
    written as it is, still asking Excel for a full calculation on load; ``why_not`` says why.
    """
    source = Path(source)
    target = Path(out) if out is not None else source
    with Package(source) as pkg:
        try:
            book = load_book(target, pkg, keep_xml=True)  # named as the book it becomes
            result = evaluate_book(book)
            edit = Edit(pkg)
            cached = write_cached_values(edit, book, result)  # refuses a GSTR-3B 4(C) input it cannot add
        except InputError as e:
            edit = Edit(pkg)
            full_calc_on_load(edit)
            edit.save(target, backup=backup)
            problems = [line for line in str(e).splitlines() if line.strip()]
            why = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            return CachedValues(None, None, None, [], False, why)
        edit.save(target, backup=backup)
    return cached


def save_with_cached_values(edit: Edit, path: str | os.PathLike, *, backup: bool = True) -> CachedValues:
    """Save ``edit``'s book to ``path`` with the engine's values cached (:func:`cache_book`): it is written
    to a temporary folder beside ``path`` first, and ``path`` is written once, atomically, with its backup."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="ims-cache-", dir=fileio.real_target(path).parent) as tmp:
        staged = Path(tmp) / path.name
        try:
            edit.save(staged, backup=False)
        except fileio.CannotWrite as e:  # named as the book the user asked for
            raise fileio.CannotWrite(str(e).replace(str(staged), str(path))) from None
        return cache_book(staged, path, backup=backup)


__all__ = ["CachedValues", "write_cached_values", "cache_book", "save_with_cached_values"]
