"""``process``: read the workbook, run the engine, write the results into the same file.

The Inward and Outward worksheets are streamed row by row with the engine's
answers put into their formula cells as cached values
(:class:`ims_excel.xlsx.sheetxml.Injector`, whole blocks of regular rows at
once; for a big sheet in worker processes, each unit deflated where it was
rewritten); the Validation sheet and the Liability add-back rows are
rewritten; everything else is copied (:class:`ims_excel.book.edit.Edit`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import posixpath
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import ims_excel
from ims_excel.book import outputs, read
from ims_excel.xlsx import fileio
from ims_excel.book.carry import CannotCarry, process_blockers
from ims_excel.book.edit import (Edit, Styles, add_sheet, borrow_styles, drop_calc_chain, full_calc_on_load,
                                 grid_sheet_rows, set_custom_properties, sheet_head)
from ims_excel.book.sheet_values import cache_sheet_values
from ims_excel.book.read import Book, TableData, VALIDATION, evaluate_book, load_book
from ims_excel.engine import Result
from ims_excel.normalise import InputError
from ims_excel.template import inward as inward_mod, outward as outward_mod
from ims_excel.xlsx import codec, fanout, sheetxml, units as units_mod
from ims_excel.xlsx.package import Package, check_not_open, col_index, col_letters, now_stamp
from ims_excel.xlsx.tableread import Progress


def _validation_xml(grid: outputs.Grid, styles: Styles) -> bytes:
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


def _liability_part(pkg: Package, part: str, grid: outputs.Grid, styles: Styles) -> bytes:
    """The Liability sheet with our rows (from the marker down) replaced."""
    pieces = list(units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES))
    head = next(b for k, b in pieces if k == "head")
    tail = next(b for k, b in pieces if k == "tail")
    rows = [(r, x) for k, b in pieces if k == "rows" for r, x in sheetxml.iter_rows(b)]
    mark = sheetxml.esc(outputs.LIABILITY_MARK).encode()
    keep, cut = [], None
    for r, x in rows:
        if cut is None and mark in x:
            cut = r
        if cut is None:
            keep.append((r, x))
    last = max((r for r, x in keep if b"<c" in x), default=0)
    start = cut if cut is not None else last + 3
    new = grid_sheet_rows(grid, styles, first_row=start)
    end = start + len(grid.rows) - 1
    m = re.search(rb'<dimension ref="([A-Z]+\d+):([A-Z]+)(\d+)"', head)
    if m:
        lastc = max(col_index(m.group(2).decode()), max(len(r) for r in grid.rows))
        head = sheetxml.set_dimension(head, f"{m.group(1).decode()}:{col_letters(lastc)}{max(end, int(m.group(3)))}")
    return head + b"".join(x for _, x in keep) + "".join(new).encode("utf-8") + tail


@dataclass
class ProcessReport:
    path: Path
    result: Result
    records: int
    flagged: int
    listed: int
    stats: dict
    dropped: list[str]
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    restored: dict[str, list[str]] = field(default_factory=dict)
    """Formula cells found typed over (a value where a computed column's formula belongs), by table:
    their formula is written back (``sheetxml.Injector``)."""


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
    User inputs are never touched. Sheets already planned in ``edit.replace`` (Liability) are worked on
    as planned.
    """
    pkg = edit.pkg
    cols, warnings = _computed_plan(book, result, pkg)
    out_cols, out_warnings = _computed_plan(book, result, pkg, "outward")
    warnings += out_warnings
    injector = _rewrite_table(edit, book.inward, cols, progress)
    out_injector = _rewrite_table(edit, book.outward, out_cols)
    # Config and the summary sheets cache what their formulas give; a book whose cached values are then
    # all right stops asking Excel for a full calculation on load (issue 9)
    td = book.inward
    tables = {td.table.sheet} | ({book.outward.table.sheet} if book.outward else set())
    right = cache_sheet_values(pkg, edit.replace, book.config, result, tables | {VALIDATION})
    right = right and not warnings and not td.others and not (book.outward and book.outward.others) \
        and all(c.values is not None for c in cols + out_cols)
    full_calc_on_load(edit, on=not right)
    drop_calc_chain(edit)
    return CachedValues(book, injector, out_injector, warnings, right)


def cache_book(source: str | os.PathLike, out: str | os.PathLike | None = None, *,
               backup: bool = True) -> CachedValues:
    """The cache-only step that ends ``import``, ``roll`` and ``upgrade``: evaluate the book at ``source``
    and write it to ``out`` (default: in place) with every formula cell caching the engine's value
    (:func:`write_cached_values`, as ``process`` does), user inputs, the Validation sheet and the
    Liability rows as they are.

    A book the engine cannot evaluate (a bad Config setting or cell, which ``process`` names) is written
    as it is, still asking Excel for a full calculation on load; ``why_not`` says why.
    """
    source = Path(source)
    target = Path(out) if out is not None else source
    with Package(source) as pkg:
        try:
            book = load_book(target, pkg, keep_xml=True)  # named as the book it becomes
            result = evaluate_book(book)
        except InputError as e:
            edit = Edit(pkg)
            full_calc_on_load(edit)
            edit.save(target, backup=backup)
            problems = [line for line in str(e).splitlines() if line.strip()]
            why = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
            return CachedValues(None, None, None, [], False, why)
        edit = Edit(pkg)
        cached = write_cached_values(edit, book, result)
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


@fileio.locked
def process(path: str | os.PathLike, *, force: bool = False, as_of: dt.date | None = None,
            backup: bool = True, stamp: str | None = None, progress: Progress | None = None) -> ProcessReport:
    """Read the workbook, run the engine, write the results into the same file (see the module doc).

    ``progress(phase, done, total)`` hears how far reading and writing the Inward sheet have got.
    """

    path = Path(path)
    check_not_open(path)
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    with Package(path) as pkg:
        blockers = process_blockers(pkg)
        if blockers and not force:
            raise CannotCarry(path, blockers, "process")
        book = load_book(path, pkg, as_of=as_of, keep_xml=True, progress=progress)
        seconds["read"] = time.perf_counter() - t0
        if progress is not None:
            progress("engine", 0, 0)
        t1 = time.perf_counter()
        result = evaluate_book(book)
        seconds["engine"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        stamp = stamp or now_stamp()
        styles = borrow_styles(pkg, book.inward.table)
        edit = Edit(pkg)
        td = book.inward
        # Validation sheet
        grid = outputs.validation_grid(result, source_rows=td.rows, legal_name=outputs.cell_text(book.config.get("LegalName")),
                                       stamp=stamp)
        vxml = _validation_xml(grid, styles)
        dropped = []
        val = pkg.sheet(VALIDATION)
        if val is None:
            add_sheet(edit, VALIDATION, vxml, after=td.table.sheet)
        else:
            edit.replace[val.part] = vxml
            rels = posixpath.join(posixpath.dirname(val.part), "_rels", posixpath.basename(val.part) + ".rels")
            if pkg.has(rels):
                edit.drop.add(rels)
                dropped += [b for b in blockers if VALIDATION in b]
        if blockers and force:
            for name in pkg.names():
                if name.startswith("_xmlsignatures/"):
                    edit.drop.add(name)
                    dropped.append(name)
            if any(n.startswith("_xmlsignatures/") for n in pkg.names()):
                rels = re.sub(r'<Relationship\b[^>]*digital-signature/origin[^>]*/>', "", edit.text("_rels/.rels"))
                edit.set("_rels/.rels", rels)
                ct = re.sub(r'<Override\b[^>]*PartName="/_xmlsignatures/[^"]*"[^>]*/>', "",
                            edit.text("[Content_Types].xml"))
                edit.set("[Content_Types].xml", ct)
        # Liability rows
        lia = pkg.sheet("Liability")
        if lia is not None:
            lgrid = outputs.liability_grid(result, source_rows=book.outward.rows if book.outward else None,
                                           stamp=stamp)
            edit.replace[lia.part] = _liability_part(pkg, lia.part, lgrid, styles)
        # every formula cell caches the engine's value: the tables' computed columns, Config, the summaries
        cached = write_cached_values(edit, book, result, progress)
        set_custom_properties(edit, {"IMSLastProcessed": f"{stamp}; ims_excel {ims_excel.__version__}"})
        seconds["plan"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        edit.save(path, backup=backup)
        seconds["write"] = time.perf_counter() - t1
    seconds["total"] = time.perf_counter() - t0
    return ProcessReport(path, result, len(result.records), grid.flagged, grid.listed,
                         cached.injector.stats if cached.injector else {}, dropped, seconds, cached.warnings,
                         cached.restored())
