"""Client workbooks on disk: read them, run the engine, write results back into the same file.

Reading (:func:`load_book`): the Config sheet's named cells give the
:class:`~ims_excel.engine.Context` (read with python-calamine); the
``Inward`` / ``Outward`` tables give the records. A table's worksheet part
is inflated as a stream (ISA-L, :mod:`.codec`) and read in blocks of rows by
:mod:`ims_excel.xlsx.fastread` (numpy over the XML); a block it does not
recognise is read by python-calamine instead, from a small in-memory workbook
around the block (its rows, the shared strings, the styles). A sheet over
:data:`PARALLEL_BYTES` is cut into units of rows (:mod:`.units`) that forked
worker processes parse (:mod:`.fanout`; ``IMS_EXCEL_PROCESSES`` sets how
many, default the CPUs up to 4). Each block is typed by
:func:`ims_excel.formats._common.to_typed`, so memory stays that of a few
blocks while the typed records pile up (``IMS_EXCEL_READER=calamine`` uses
calamine for every block). Blank table rows are skipped; each record keeps
its sheet row (``source_row``), so every problem names the cell a person can
find. The reader also notes, per row, its length and the layout of its
formula cells, so the writer can fill those from a template.

Writing (:func:`process`, :func:`import_sources`, ...): only the parts that
change are written (:mod:`ims_excel.xlsx.package`); the Inward and
Outward worksheets are streamed row by row with the engine's answers put into
their formula cells as cached values (:class:`ims_excel.xlsx.sheetxml.Injector`,
whole blocks of regular rows at once; for a big sheet in worker processes,
each unit deflated where it was rewritten); every other part,
``xl/vbaProject.bin`` included, is copied byte for byte. Saves are atomic
with a backup (:func:`ims_excel.xlsx.package.save_atomically`).

What cannot be carried (:func:`process_blockers`): package signatures (any
change voids them) and anything a firm attached to the ``Validation`` sheet,
which ``process`` rewrites; :func:`upgrade` and :func:`roll` build a new
workbook from the current template, so charts, pivot tables, images,
slicers, extra sheets or table columns a firm added cannot go with them
(:func:`foreign_parts`). Each refuses, naming the parts, unless forced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io as _io
import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

import ims_excel
from ims_excel import periods
from ims_excel.engine import Context, Result, evaluate
from ims_excel.formats._common import to_typed
from ims_excel.normalise import InputError, InputProblem
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.xlsx import alloc, codec, sheetxml
from ims_excel.book import outputs
from ims_excel.xlsx import fanout
from ims_excel.xlsx import units as units_mod
from ims_excel.xlsx.package import (CT_TABLE, CT_WORKSHEET, NS_REL, REL_TABLE, REL_WORKSHEET, Package,
                                        PackageWriter, TableInfo, WorkbookBusy, attr_escape, check_not_open,
                                        col_letters, now_stamp, save_atomically, unescape)

INWARD, OUTWARD, HISTORY = "Inward", "Outward", "History"
VALIDATION = outputs.VALIDATION_SHEET
CHUNK_ROWS = 65_536
BIG_PART = 2 << 30
"""Streamed parts that may grow past this (uncompressed) get ZIP64 room (needed from 4 GiB)."""


class BookProblem(InputError):
    """A workbook that cannot be used as it is (names the file and what to do)."""

    def __init__(self, path: str | os.PathLike, message: str):
        super().__init__([InputProblem(str(path), None, None, message)])


class CannotCarry(Exception):
    """Parts of the workbook that the requested change would lose; ``parts`` names them."""

    def __init__(self, path: Path, parts: list[str], what: str):
        self.parts = parts
        listed = "\n".join(f"  {p}" for p in parts)
        super().__init__(f"{path}: {what} would not keep these parts:\n{listed}\n"
                         "Nothing was written. Move them elsewhere, or run again with --force to go ahead "
                         "without them (the previous file is kept as the backup).")


# ---------------------------------------------------------------- reading


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
    regular: "Regularity | None" = None  # layout classes of the formula cells, by sheet row
    xml: list | None = None  # the inflated worksheet pieces, kept for the write pass when small enough
    parallel: bool = False  # read by worker processes (and so rewritten by them too)


def _table_columns(table: TableInfo, direction: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
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


Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase "read" / "write" in bytes of the Inward sheet, "engine" (0, 0)."""


def _metered(chunks: Iterable[bytes], phase: str, total: int, progress: Progress | None) -> Iterator[bytes]:
    done = 0
    for chunk in chunks:
        done += len(chunk)
        if progress is not None:
            progress(phase, min(done, total), total)
        yield chunk


_MINI_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="' + CT_WORKSHEET + '"/></Types>').encode()
_MINI_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()


class _Mini:
    """Small in-memory workbooks around blocks of one worksheet's rows (see the module doc)."""

    def __init__(self, pkg: Package):
        wb_rels = pkg.rels("xl/workbook.xml")
        self.pkg = pkg
        self.sst = next((t for typ, t, _ in wb_rels.values() if typ.endswith("/sharedStrings") and pkg.has(t)), None)
        self.styles = next((t for typ, t, _ in wb_rels.values() if typ.endswith("/styles") and pkg.has(t)), None)
        pr = re.search(r"<workbookPr\b[^>]*>", pkg.text("xl/workbook.xml"))
        date1904 = ' date1904="1"' if pr and re.search(r'date1904="(1|true)"', pr.group(0)) else ""
        self.workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="'
                         'http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + NS_REL +
                         f'"><workbookPr{date1904}/><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
                         '</workbook>').encode()
        rels = [f'<Relationship Id="rId1" Type="{REL_WORKSHEET}" Target="worksheets/sheet1.xml"/>']
        if self.sst:
            rels.append(f'<Relationship Id="rId2" Type="{NS_REL}/sharedStrings" Target="sharedStrings.xml"/>')
        if self.styles:
            rels.append(f'<Relationship Id="rId3" Type="{NS_REL}/styles" Target="styles.xml"/>')
        self.rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="'
                     'http://schemas.openxmlformats.org/package/2006/relationships">' + "".join(rels) +
                     "</Relationships>").encode()
        # the shared strings and styles once, compressed as they are
        buf = _io.BytesIO()
        w = PackageWriter(buf)
        for name, data in (("[Content_Types].xml", _MINI_CT), ("_rels/.rels", _MINI_RELS),
                           ("xl/workbook.xml", self.workbook), ("xl/_rels/workbook.xml.rels", self.rels)):
            w.write(name, data, level=0)
        if self.sst:
            w.copy(pkg, self.sst, as_name="xl/sharedStrings.xml")
        if self.styles:
            w.copy(pkg, self.styles, as_name="xl/styles.xml")
        self.prefix, self.entries = buf.getvalue(), list(w.entries)

    def workbook_bytes(self, rows_xml: bytes) -> bytes:
        buf = _io.BytesIO()
        buf.write(self.prefix)
        w = PackageWriter(buf)
        w._start = 0
        w.entries = list(self.entries)
        sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="'
                 b'http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + rows_xml +
                 b"</sheetData></worksheet>")
        w.write("xl/worksheets/sheet1.xml", sheet, level=0)
        w.close()
        return buf.getvalue()


def _blank(col: np.ndarray) -> np.ndarray:
    """Empty cells (calamine gives "" for them)."""
    return (col == "") | pd.isna(col)


@dataclass
class Regularity:
    """Rows whose formula cells share a layout (styles, formulas): class id per sheet row, -1 = none."""

    classes: np.ndarray  # int32 per sheet row (index = row number)
    offsets: np.ndarray | None = None  # bytes from row r's <row to its first formula cell, as read
    lengths: np.ndarray | None = None  # bytes from row r's <row to its </row> (-1: self-closing / unknown)
    present: np.ndarray | None = None  # every row of the sheet part, in order (sorted row numbers)

    def __getitem__(self, r: int) -> int:
        return int(self.classes[r]) if r < len(self.classes) else -1


READER = os.environ.get("IMS_EXCEL_READER", "fast")
"""``fast`` (numpy, calamine for irregular blocks) or ``calamine`` (calamine only)."""


def _date1904(pkg: Package) -> bool:
    pr = re.search(r"<workbookPr\b[^>]*>", pkg.text("xl/workbook.xml"))
    return bool(pr and re.search(r'date1904="(1|true)"', pr.group(0)))


def _epoch(pkg: Package) -> np.datetime64:
    return np.datetime64("1904-01-01") if _date1904(pkg) else np.datetime64("1899-12-30")


def _prepare(col: object, kind: str, epoch: np.datetime64) -> object:
    """A column as normalise reads it fastest: amounts as floats, dates as datetime64 (when all are numbers)."""
    if isinstance(col, np.ndarray) and col.dtype == np.float64:
        if kind == "date":
            finite = col[np.isfinite(col)]
            if len(finite) == 0 or ((finite >= 1) & (finite < 2958466)).all():
                days = np.floor(np.where(np.isfinite(col), col, 0)).astype("int64")
                out = (epoch + days.astype("timedelta64[D]")).astype("datetime64[ns]")
                return np.where(np.isfinite(col), out, np.datetime64("NaT"))
            col = col.astype(object)
            col[pd.isna(col)] = ""
            return col
        return col
    if kind == "period" and isinstance(col, np.ndarray):
        nums = np.array([isinstance(v, float) for v in col], dtype=bool)
        if nums.any():
            col = col.copy()
            for i in np.flatnonzero(nums):
                v = col[i]
                if 1 <= v < 2958466:
                    d = epoch + np.timedelta64(int(v), "D")
                    col[i] = str(d)[:7]
    return col


@dataclass
class _Job:
    """What a worker needs to turn blocks of rows into records (sent once to each worker)."""

    path: str
    file: str
    direction: str
    typed: bool
    first: int
    last: int
    wanted: list[tuple[str, int]]
    headers: list[str]
    kinds_by_col: dict[int, str]
    formula_cols: set[int]
    epoch: np.datetime64
    sheet: str
    reader: str
    table: str = ""


_JOB: dict[str, object] = {}


def _init_worker(job: _Job) -> None:
    _JOB.clear()
    _JOB["job"] = job


def _worker_share(args: tuple[int, int, int]) -> list[tuple]:
    """Worker ``k`` of ``n`` inflates the sheet itself and parses every n-th block of rows."""
    k, n, chunk_rows = args
    job: _Job = _JOB["job"]  # type: ignore[assignment]
    with Package(job.path) as pkg:
        part = pkg.table(job.table).sheet_part  # type: ignore[union-attr]
        cache: dict = {}
        return [_parse_blobs(job, pkg, batch, cache)
                for b, batch in enumerate(_batches(pkg, part, chunk_rows)) if b % n == k]


def _parse_unit(blob: bytes) -> tuple:
    """Worker: parse a unit of whole rows (see :mod:`.fanout`); the job came through ``fork``."""
    job: _Job = _JOB["job"]  # type: ignore[assignment]
    if "pkg" not in _JOB:
        _JOB["pkg"], _JOB["cache"] = Package(job.path), {}
    return _parse_blobs(job, _JOB["pkg"], units_mod.cut(blob), _JOB["cache"])  # type: ignore[arg-type]


def _batches(pkg: Package, part: str, chunk_rows: int, keep: list | None = None,
             progress: Progress | None = None) -> Iterator[list[bytes]]:
    """Blocks of about ``chunk_rows`` rows; every piece also goes to ``keep`` (for the write pass)."""
    batch: list[bytes] = []
    count = 0
    total = pkg.by_name[part].file_size
    for kind, blob in sheetxml.split_sheet(_metered(pkg.stream(part), "read", total, progress)):
        if keep is not None:
            keep.append((kind, blob))
        if kind != "rows":
            continue
        batch.append(blob)
        count += blob.count(b"</row>")
        if count >= chunk_rows:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


def _finish(job: _Job, raw: pd.DataFrame, rows_abs: np.ndarray) -> tuple:
    if not job.typed:
        return raw, [], rows_abs
    try:
        t = to_typed(raw, file=job.file, direction=job.direction)
    except InputError as err:
        return None, list(err.problems), rows_abs
    return t, [], rows_abs


def _parse_blobs(job: _Job, pkg: Package, blobs: list[bytes], cache: dict) -> tuple:
    from ims_excel.xlsx import fastread

    if job.reader == "fast":
        try:
            return _parse_fast(job, pkg, blobs, cache)
        except fastread.Irregular:
            pass
    return _parse_calamine(job, pkg, b"".join(blobs), cache)


def _shared_strings(pkg: Package, cache: dict) -> list:
    from ims_excel.xlsx import fastread

    if "sst" not in cache:
        t = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
                  if typ.endswith("/sharedStrings") and pkg.has(t)), None)
        cache["sst"] = fastread.shared_strings(pkg.read(t)) if t else []
    return cache["sst"]  # type: ignore[return-value]


def _parse_fast(job: _Job, pkg: Package, blobs: list[bytes], cache: dict) -> tuple:
    from ims_excel.xlsx import fastread

    parts = []
    for blob in blobs:
        parts.append(fastread.parse_block(blob, job.kinds_by_col, job.formula_cols, lambda: _shared_strings(pkg, cache),
                                          first_row=job.first, last_row=job.last))
    sig = _signature(parts, sorted(job.formula_cols))
    data_rows = np.concatenate([b.rows for b in parts])
    if not len(data_rows):
        return None, [], np.zeros(0, dtype="int64"), sig
    data = {}
    blank = np.ones(len(data_rows), dtype=bool)
    for name, col in job.wanted:
        pieces = []
        for b in parts:
            v = b.values.get(col)
            if v is None:
                v = np.full(len(b.rows), "", dtype=object)
            pieces.append(v)
        if all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in pieces):
            v = np.concatenate(pieces)
            blank &= np.isnan(v)
        else:
            v = np.concatenate([x.astype(object) if x.dtype == np.float64 else x for x in pieces])
            if any(x.dtype == np.float64 for x in pieces):
                v[pd.isna(v)] = ""
            blank &= _blank(v)
        data[name] = v
    take = ~blank
    if not take.any():
        return None, [], np.zeros(0, dtype="int64"), sig
    inputs = dict(job.wanted)
    raw = pd.DataFrame({name: (_prepare(v[take], job.kinds_by_col[inputs[name]], job.epoch) if job.typed
                               else v[take]) for name, v in data.items()}, columns=job.headers)
    raw["_row"] = data_rows[take]
    raw["_sheet"] = job.sheet
    return (*_finish(job, raw, data_rows[take]), sig)


def _signature(parts: list, cols: list[int]) -> tuple | None:
    """Per sheet row of these blocks: (rows, layout hash, has every formula cell and nothing after them,
    offset of the first formula cell). The hash covers each formula column's style and formula length."""
    if not cols:
        return None
    rows = np.concatenate([b.sig_rows for b in parts])
    ok = np.concatenate([b.sig_maxcol for b in parts]) <= cols[-1]
    h = np.zeros(len(rows), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in cols:
            st = np.concatenate([b.sig_style.get(c, np.full(len(b.sig_rows), -1)) for b in parts])
            fl = np.concatenate([b.sig_flen.get(c, np.zeros(len(b.sig_rows), np.int64)) for b in parts])
            ok &= st >= 0
            h = h * np.uint64(1000003) + (st.astype(np.uint64) << np.uint64(32)) + fl.astype(np.uint64)
    offset = np.concatenate([b.sig_offset if b.sig_offset is not None else np.full(len(b.sig_rows), -1)
                             for b in parts])
    length = np.concatenate([b.sig_len if b.sig_len is not None else np.full(len(b.sig_rows), -1)
                             for b in parts])
    return rows, h, ok, offset, length


def _parse_calamine(job: _Job, pkg: Package, blob: bytes, cache: dict) -> tuple:
    if "mini" not in cache:
        cache["mini"] = _Mini(pkg)
    wb = pc.CalamineWorkbook.from_filelike(_io.BytesIO(cache["mini"].workbook_bytes(blob)))  # type: ignore[union-attr]
    sh = wb.get_sheet_by_name("S")
    start = sh.start
    if start is None:
        return None, [], np.zeros(0, dtype="int64"), None
    grid = sh.to_python()
    r0, k0 = start
    rows_abs = np.arange(r0 + 1, r0 + 1 + len(grid))
    keep = (rows_abs >= job.first) & (rows_abs <= job.last)
    if not keep.any():
        return None, [], np.zeros(0, dtype="int64"), None
    lo, hi = int(np.argmax(keep)), len(keep) - int(np.argmax(keep[::-1]))
    grid = grid[lo:hi]
    rows_abs = rows_abs[lo:hi]
    width = len(grid[0]) if grid else 0
    cols = list(zip(*grid)) if grid else []
    data = {}
    blank = np.ones(len(grid), dtype=bool)
    for name, col in job.wanted:
        j = col - 1 - k0
        arr = np.empty(len(grid), dtype=object)
        arr[:] = cols[j] if 0 <= j < width else ""
        blank &= _blank(arr)
        data[name] = arr
    del cols, grid
    take = ~blank
    if not take.any():
        return None, [], np.zeros(0, dtype="int64"), None
    raw = pd.DataFrame({k: v[take] for k, v in data.items()}, columns=job.headers)
    raw["_row"] = rows_abs[take]
    raw["_sheet"] = job.sheet
    return (*_finish(job, raw, rows_abs[take]), None)


PROCESSES = int(os.environ.get("IMS_EXCEL_PROCESSES", "0")) or min(os.cpu_count() or 1, 4)
"""Worker processes that read or rewrite a table of more than :data:`CHUNK_ROWS` rows (default: the
CPUs, at most 4; each inflates the whole sheet, so more gain little); 1 = all in this process."""


PARALLEL_BYTES = 128 << 20
"""A table's worksheet larger than this (uncompressed) is read and rewritten by :data:`PROCESSES` workers."""
STREAM_CHUNK = 1 << 24
"""Inflated bytes at a time for a big sheet (units are cut at most once a chunk)."""


def _start_methods() -> list[str]:
    import multiprocessing as mp

    return mp.get_all_start_methods()


def _pool(job: _Job, n: int):
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    return ctx.Pool(n, initializer=_init_worker, initargs=(job,))


KEEP_BYTES = 1536 << 20
"""A worksheet up to this size (uncompressed) is kept in memory between reading and writing."""


def read_table(pkg: Package, table: TableInfo, direction: str = "inward", *, typed: bool = True,
               chunk_rows: int | None = None, processes: int | None = None, file: str | None = None,
               reader: str | None = None, keep_xml: bool = False, progress: Progress | None = None) -> TableData:
    """The records of a data table (see the module doc); ``typed=False`` keeps the raw cells.

    Blocks of ``chunk_rows`` rows are parsed in ``processes`` worker processes
    when the table has more than one block.
    """
    file = file or str(pkg.path)
    chunk_rows = chunk_rows or CHUNK_ROWS
    inputs, computed, others = _table_columns(table, direction)
    r1, c1, r2, c2 = table.bounds
    canon = {c.name: c for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    wanted = sorted(inputs.items(), key=lambda kv: kv[1])
    job = _Job(str(pkg.path), file, direction, typed, r1 + 1, r2, wanted, [h for h, _ in wanted],
               {col: canon[name].kind for name, col in wanted}, set(computed.values()), _epoch(pkg),
               table.sheet, reader or READER)
    n_proc = PROCESSES if processes is None else processes
    frames, problems, rowlists, sigs = [], [], [], []

    def collect(res: tuple) -> None:
        f, probs, rws, sig = res
        problems.extend(probs)
        sigs.append(sig)
        if f is not None:
            frames.append(f)
            rowlists.append(rws)

    if processes is None and pkg.by_name[table.sheet_part].file_size <= PARALLEL_BYTES:
        n_proc = 1
    big = r2 - r1 > chunk_rows and n_proc > 1
    if big and fanout.can_fork():
        # inflated once, here; each unit of rows is parsed by a forked worker (see fanout)
        alloc.tune()
        _init_worker(job)
        try:
            chunks = _metered(pkg.stream(table.sheet_part, STREAM_CHUNK), "read",
                              pkg.by_name[table.sheet_part].file_size, progress)
            rows_units = (blob for kind, blob in units_mod.units(chunks) if kind == "rows")
            for res in fanout.fan_out(rows_units, _parse_unit, processes=n_proc):
                collect(res)
        finally:
            _JOB.clear()
    elif big:
        job.table = table.name
        with _pool(job, n_proc) as pool:
            shares = pool.map(_worker_share, [(k, n_proc, chunk_rows) for k in range(n_proc)])
        # blocks back in sheet order: worker k has blocks k, k+n, k+2n, ...
        for b in range(max(len(x) for x in shares)):
            for k in range(n_proc):
                if b < len(shares[k]):
                    collect(shares[k][b])
    else:
        cache: dict = {}
        keep = [] if keep_xml and pkg.by_name[table.sheet_part].file_size <= KEEP_BYTES else None
        for batch in _batches(pkg, table.sheet_part, chunk_rows, keep, progress):
            collect(_parse_blobs(job, pkg, batch, cache))
    if problems:
        shown = [p for p in problems if p.row is not None][:40] + [p for p in problems if p.row is None][:5]
        raise InputError(shown)
    rows = np.concatenate(rowlists) if rowlists else np.zeros(0, dtype="int64")
    if frames:
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    else:
        empty = pd.DataFrame({h: pd.Series(dtype=object) for h in job.headers})
        empty["_row"] = pd.Series(dtype="int64")
        empty["_sheet"] = pd.Series(dtype=object)
        frame = empty if not typed else to_typed(empty, file=file, direction=direction)
    if typed:
        frame["row"] = np.arange(1, len(frame) + 1, dtype="int64")
    return TableData(table, frame, rows.astype("int64"), int(rows.max()) if len(rows) else r1,
                     inputs, computed, others, _regularity(sigs, computed, r2), keep if not big else None,
                     big)


def _regularity(sigs: list, computed: dict[str, int], last_row: int, max_classes: int = 256) -> Regularity | None:
    """Group rows by the layout of their formula cells (see :func:`_signature`).

    A row is in a class when it has every formula cell, each with a formula,
    and nothing after the last formula column; classes of two rows or more
    get a template in the writer (up to ``max_classes``).
    """
    if not computed or not sigs or any(s is None for s in sigs):
        return None
    rows = np.concatenate([s[0] for s in sigs])
    if not len(rows):
        return None
    h = np.concatenate([s[1] for s in sigs])
    ok = np.concatenate([s[2] for s in sigs])
    out = np.full(max(int(rows.max()), last_row) + 2, -1, dtype=np.int32)
    offsets = np.full(len(out), -1, dtype=np.int64)
    offsets[rows] = np.concatenate([s[3] for s in sigs])
    lengths = np.full(len(out), -1, dtype=np.int64)
    lengths[rows] = np.concatenate([s[4] for s in sigs])
    present = rows if (len(rows) < 2 or (np.diff(rows) > 0).all()) else None
    if not ok.any():
        return Regularity(out, offsets, lengths, present)
    vals, inverse, counts = np.unique(h[ok], return_inverse=True, return_counts=True)
    keep = np.argsort(-counts)[:max_classes]
    keep = keep[counts[keep] >= 2]
    class_of = np.full(len(vals), -1, dtype=np.int32)
    class_of[keep] = np.arange(len(keep), dtype=np.int32)
    out[rows[ok]] = class_of[inverse]
    return Regularity(out, offsets, lengths, present)


def _split_ref(ref: str) -> tuple[str, str] | None:
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
    from ims_excel.xlsx.package import col_index
    for name in outputs.CONFIG_NAMES:
        where = _split_ref(names.get(name, ""))
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
        return outputs._text(self.config.get("LegalName")) or self.path.stem


def is_client_workbook(path: str | os.PathLike) -> bool:
    """An .xlsx/.xlsm with an ``Inward`` table and the ``RecipientGSTIN`` Config name."""
    p = Path(path)
    if p.suffix.lower() not in (".xlsx", ".xlsm") or not p.is_file():
        return False
    try:
        with Package(p) as pkg:
            return "RecipientGSTIN" in pkg.defined_names() and pkg.table(INWARD) is not None
    except (InputError, OSError, ValueError):
        return False


def _require_tables(pkg: Package) -> tuple[TableInfo, TableInfo | None]:
    inward = pkg.table(INWARD)
    if inward is None:
        raise BookProblem(pkg.path, "has no Excel table named 'Inward': it is not an IMS client workbook "
                                    "(make one with: ims-excel new CLIENT.xlsm ...)")
    return inward, pkg.table(OUTWARD)


def load_book(path: str | os.PathLike, pkg: Package | None = None, *, as_of: dt.date | None = None,
              gstr3b_filed: bool | None = None, typed: bool = True, overrides: dict | None = None,
              keep_xml: bool = False, progress: Progress | None = None) -> Book:
    """Config, context and records of a client workbook (``overrides``: Config values by name)."""
    path = Path(path)
    own = pkg is None
    pkg = pkg or Package(path)
    try:
        inward_t, outward_t = _require_tables(pkg)
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


# ---------------------------------------------------------------- what cannot be carried


_KINDS = (("xl/charts/", "chart"), ("xl/chartsheets/", "chart sheet"), ("xl/drawings/", "drawing"),
          ("xl/media/", "image"), ("xl/pivotTables/", "pivot table"), ("xl/pivotCache/", "pivot cache"),
          ("xl/slicers/", "slicer"), ("xl/slicerCaches/", "slicer cache"), ("xl/timelines/", "timeline"),
          ("xl/timelineCaches/", "timeline cache"), ("xl/externalLinks/", "external link"),
          ("xl/queryTables/", "query table"), ("xl/connections.xml", "data connection"),
          ("customXml/", "custom XML"), ("xl/embeddings/", "embedded object"), ("xl/ctrlProps/", "form control"),
          ("xl/threadedComments/", "threaded comment"), ("xl/persons/", "people list"),
          ("xl/model/", "data model"), ("_xmlsignatures/", "digital signature"), ("xl/tables/", "table"),
          ("xl/worksheets/", "worksheet"), ("xl/comments", "comments"), ("xl/richData/", "rich data"))


def part_kind(name: str) -> str:
    for prefix, kind in _KINDS:
        if name.startswith(prefix):
            return kind
    return "part"


def _owners(pkg: Package) -> dict[str, list[str]]:
    """Which parts point at each part (through .rels)."""
    out: dict[str, list[str]] = {}
    for name in pkg.names():
        if not name.endswith(".rels"):
            continue
        folder, base = posixpath.split(name)
        source = posixpath.join(posixpath.dirname(folder), base[:-5]) if folder.endswith("_rels") else name
        for _, (typ, target, mode) in pkg.rels(source).items():
            if mode != "External":
                out.setdefault(target, []).append(source)
    return out


def _sheet_of(pkg: Package) -> dict[str, str]:
    """Sheet name of every part reachable from a worksheet (its drawing, charts, tables...)."""
    owners = _owners(pkg)
    sheets = {s.part: s.name for s in pkg.sheets()}
    memo: dict[str, str] = {}

    def find(part: str, seen: frozenset = frozenset()) -> str:
        if part in sheets:
            return sheets[part]
        if part in memo:
            return memo[part]
        for o in owners.get(part, []):
            if o not in seen:
                s = find(o, seen | {part})
                if s:
                    memo[part] = s
                    return s
        return ""
    return {name: find(name) for name in pkg.names()}


def process_blockers(pkg: Package) -> list[str]:
    """Parts ``process`` would lose: package signatures, and what hangs off the Validation sheet."""
    out = []
    for name in pkg.names():
        if name.startswith("_xmlsignatures/"):
            out.append(f"{name} (digital signature: any change to the file voids it)")
    val = pkg.sheet(VALIDATION)
    if val is not None:
        for rid, (typ, target, mode) in pkg.rels(val.part).items():
            what = typ.rsplit("/", 1)[-1]
            out.append(f"{target if mode != 'External' else target + ' (external)'} ({what} on the "
                       f"{VALIDATION} sheet, which process rewrites)")
    return out


def template_parts(built: Path) -> tuple[set[str], set[str], dict[str, list[str]]]:
    with Package(built) as t:
        return set(t.names()), {s.name for s in t.sheets()}, {tb.name: tb.columns for tb in t.tables()}


_OURS = re.compile(r"xl/worksheets/(_rels/)?sheet\d+\.xml(\.rels)?$|xl/tables/table\d+\.xml$|docProps/|"
                   r"xl/(styles|workbook|sharedStrings|vbaProject|calcChain)\.|xl/theme/|xl/_rels/|"
                   r"_rels/|\[Content_Types\]\.xml$|xl/drawings/vmlDrawing\d+\.vml$|xl/comments\d+\.xml$|"
                   r"xl/drawings/_rels/vmlDrawing\d+\.vml\.rels$|xl/printerSettings/")


def foreign_parts(pkg: Package, template: Path | None = None) -> list[str]:
    """What a firm added that a fresh template would not have (for ``upgrade`` and ``roll``).

    Parts of the kinds a template never has (charts, drawings, images, pivot
    tables and caches, slicers, timelines, external links, connections, custom
    XML, embedded objects, signatures...), sheets the template does not have
    (other than Validation and History, which are rewritten), tables other
    than the template's, and extra columns in the template's tables.
    """
    built = template
    tmpdir = None
    if built is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="ims-template-")
        from ims_excel.template.build import build_workbook
        built = build_workbook(Path(tmpdir.name) / "template.xlsm")
    try:
        _, t_sheets, t_tables = template_parts(built)
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    where = _sheet_of(pkg)
    out = []
    for name in pkg.names():
        kind = part_kind(name)
        if _OURS.match(name) or name.endswith(".rels"):
            continue
        on = f" on sheet {where[name]!r}" if where.get(name) else ""
        out.append(f"{name} ({kind}{on})")
    for s in pkg.sheets():
        if s.name not in t_sheets and s.name not in (VALIDATION, HISTORY):
            out.append(f"sheet {s.name!r} (not in the template)")
    for t in pkg.tables():
        if t.name == HISTORY:
            continue
        if t.name not in t_tables:
            out.append(f"table {t.name!r} on sheet {t.sheet!r} (not in the template)")
            continue
        extra = [c for c in t.columns if c not in t_tables[t.name] and c not in t.formulas]
        for c in extra:
            out.append(f"column {c!r} of table {t.name!r} (not in the template)")
    return out


# ---------------------------------------------------------------- package edits


def _next_free(names: set[str], pattern: str) -> str:
    k = 1
    while pattern.format(k) in names:
        k += 1
    return pattern.format(k)


@dataclass
class Edit:
    """A new package: parts replaced, streamed, added, dropped; the rest copied byte for byte."""

    pkg: Package
    replace: dict[str, bytes] = field(default_factory=dict)
    stream: dict[str, Callable[[], Iterator[bytes]]] = field(default_factory=dict)
    add: dict[str, bytes] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)
    size_hint: dict[str, int] = field(default_factory=dict)  # expected size of a streamed part
    deflated: dict[str, Callable[[], Iterator[tuple[bytes, int, int]]]] = field(default_factory=dict)

    def text(self, name: str) -> str:
        if name in self.replace:
            return self.replace[name].decode("utf-8")
        return self.pkg.text(name)

    def set(self, name: str, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        if self.pkg.has(name):
            self.replace[name] = data
        else:
            self.add[name] = data

    def write(self, fh) -> None:
        w = PackageWriter(fh)
        for info in self.pkg.infos:
            name = info.filename
            if name in self.drop:
                continue
            if name in self.replace:
                w.write(name, self.replace[name], date_time=info.date_time)
            elif name in self.deflated:
                size = max(info.file_size, self.size_hint.get(name, 0))
                w.write_deflated(name, self.deflated[name](), date_time=info.date_time, zip64=size > BIG_PART)
            elif name in self.stream:
                size = max(info.file_size, self.size_hint.get(name, 0))
                w.write_stream(name, self.stream[name](), date_time=info.date_time,
                               level=1 if size > (256 << 20) else 6, zip64=size > BIG_PART)
            else:
                w.copy(self.pkg, name)
        for name, data in self.add.items():
            w.write(name, data)
        w.close()

    def save(self, path: Path | None = None, *, backup: bool = True) -> Path:
        return save_atomically(path or self.pkg.path, self.write, backup=backup)


def _add_sheet(edit: Edit, name: str, xml: bytes, *, after: str | None = None) -> str:
    """Add a worksheet (after sheet ``after``); returns its part name."""
    pkg = edit.pkg
    parts = set(pkg.names()) | set(edit.add)
    part = _next_free(parts, "xl/worksheets/sheet{}.xml")
    edit.add[part] = xml
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = edit.text(rels_name)
    ids = set(re.findall(r'Id="([^"]+)"', rels))
    rid = _next_free(ids, "rId{}")
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" '
                                            f'Target="{part[3:]}"/></Relationships>')
    edit.set(rels_name, rels)
    ct = edit.text("[Content_Types].xml")
    ct = ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="{CT_WORKSHEET}"/></Types>')
    edit.set("[Content_Types].xml", ct)
    wb = edit.text("xl/workbook.xml")
    sheet_tags = list(re.finditer(r"<sheet\b[^>]*/>", wb))
    ids_used = [int(x) for x in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', wb)]
    new_tag = f'<sheet name="{attr_escape(name)}" sheetId="{max(ids_used, default=0) + 1}" r:id="{rid}"/>'
    pos = len(sheet_tags)
    for k, m in enumerate(sheet_tags):
        if after and re.search(rf'\bname="{re.escape(attr_escape(after))}"', m.group(0)):
            pos = k + 1
    if pos < len(sheet_tags):
        at = sheet_tags[pos].start()
        wb = wb[:at] + new_tag + wb[at:]
        wb = re.sub(r'localSheetId="(\d+)"',
                    lambda m: f'localSheetId="{int(m.group(1)) + (1 if int(m.group(1)) >= pos else 0)}"', wb)
        wb = re.sub(r'\b(activeTab|firstSheet)="(\d+)"',
                    lambda m: f'{m.group(1)}="{int(m.group(2)) + (1 if int(m.group(2)) >= pos else 0)}"', wb)
    else:
        wb = wb.replace("</sheets>", new_tag + "</sheets>")
    edit.set("xl/workbook.xml", wb)
    return part


def _drop_calc_chain(edit: Edit) -> None:
    pkg = edit.pkg
    if not pkg.has("xl/calcChain.xml"):
        return
    edit.drop.add("xl/calcChain.xml")
    rels = re.sub(r'<Relationship\b[^>]*Target="(?:/xl/)?calcChain\.xml"[^>]*/>', "",
                  edit.text("xl/_rels/workbook.xml.rels"))
    edit.set("xl/_rels/workbook.xml.rels", rels)
    ct = re.sub(r'<Override\b[^>]*PartName="/xl/calcChain\.xml"[^>]*/>', "", edit.text("[Content_Types].xml"))
    edit.set("[Content_Types].xml", ct)


def _full_calc_on_load(edit: Edit) -> None:
    wb = edit.text("xl/workbook.xml")
    m = re.search(r"<calcPr\b[^>]*?/?>", wb)
    if m and "fullCalcOnLoad" in m.group(0):
        tag = re.sub(r'fullCalcOnLoad="[^"]*"', 'fullCalcOnLoad="1"', m.group(0))
    elif m:
        tag = m.group(0).replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)
    else:
        tag = None
    if tag is None:
        wb = re.sub(r"(</workbook>)", r'<calcPr fullCalcOnLoad="1"/>\1', wb) if "<calcPr" not in wb else wb
    else:
        wb = wb[:m.start()] + tag + wb[m.end():]
    edit.set("xl/workbook.xml", wb)


CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"


def _set_custom(edit: Edit, props: dict[str, str]) -> None:
    """Set custom document properties (text), keeping the others."""
    pkg = edit.pkg
    name = "docProps/custom.xml"
    existing: list[tuple[str, str]] = []
    if pkg.has(name) or name in edit.add:
        xml = edit.text(name) if pkg.has(name) else edit.add[name].decode()
        for pname, body in re.findall(r'<property\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</property>', xml, re.S):
            existing.append((unescape(pname), body))
    else:
        ct = edit.text("[Content_Types].xml")
        if "/docProps/custom.xml" not in ct:
            edit.set("[Content_Types].xml", ct.replace(
                "</Types>", '<Override PartName="/docProps/custom.xml" ContentType="'
                '"application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>'.replace('""', '"')))
        rels = edit.text("_rels/.rels")
        if "custom-properties" not in rels:
            ids = set(re.findall(r'Id="([^"]+)"', rels))
            edit.set("_rels/.rels", rels.replace("</Relationships>", f'<Relationship Id="{_next_free(ids, "rId{}")}" '
                                                 f'Type="{CUSTOM_REL}" Target="docProps/custom.xml"/></Relationships>'))
    keep = [(n, b) for n, b in existing if n not in props]
    body = "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{k}" name="{attr_escape(n)}">'
                   f"{b}</property>" for k, (n, b) in enumerate(keep, start=2))
    body += "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{k}" name="{attr_escape(n)}">'
                    f"<vt:lpwstr>{sheetxml.esc(str(v))}</vt:lpwstr></property>"
                    for k, (n, v) in enumerate(props.items(), start=2 + len(keep)))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.openxmlformats.'
           'org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
           f'2006/docPropsVTypes">{body}</Properties>')
    edit.set(name, xml)


# ---------------------------------------------------------------- styles we borrow


def _sheet_head(pkg: Package, part: str) -> bytes:
    for kind, blob in sheetxml.split_sheet(pkg.stream(part, 1 << 16)):
        return blob
    return b""


def _first_rows(pkg: Package, part: str, n: int = 2) -> list[bytes]:
    out = []
    for kind, blob in sheetxml.split_sheet(pkg.stream(part, 1 << 16)):
        if kind == "rows":
            for _, row in sheetxml.iter_rows(blob):
                out.append(row)
                if len(out) >= n:
                    return out
        if kind == "tail":
            break
    return out


@dataclass
class Styles:
    """Cell styles borrowed from the workbook's own Inward sheet (no change to styles.xml)."""

    header: int | None = None
    text: int | None = None
    date: int | None = None
    amount: int | None = None
    count: int | None = None


def borrow_styles(pkg: Package, inward: TableInfo) -> Styles:
    head = _sheet_head(pkg, inward.sheet_part)
    col_styles = sheetxml.style_of_columns(head)
    rows = _first_rows(pkg, inward.sheet_part, 1)
    header = sheetxml.cell_styles(rows[0]).get(inward.bounds[1]) if rows else None
    inputs, computed, _ = _table_columns(inward, "inward")

    def of(name: str) -> int | None:
        col = inputs.get(name)
        return col_styles.get(col) if col else None
    amount = None
    from ims_excel.template import inward as inward_mod
    for c in inward_mod.COMPUTED:
        if c.kind == "amount" and c.header in computed:
            amount = col_styles.get(computed[c.header])
            break
    return Styles(header, of("Section"), of("Document Date"), amount or of("Taxable Value"), None)


def grid_sheet_rows(grid: outputs.Grid, styles: Styles, first_row: int = 1) -> list[str]:
    """Rows of a report grid as worksheet XML (text as inline strings: never a formula)."""
    width = max((len(r) for r in grid.rows), default=1)
    letters = [col_letters(j) for j in range(1, width + 1)]
    special = set(grid.headers) | set(grid.titles)
    s_text, s_date, s_amount, s_head = (sheetxml._s(styles.text), sheetxml._s(styles.date),
                                        sheetxml._s(styles.amount), sheetxml._s(styles.header))
    out = []
    for k, values in enumerate(grid.rows):
        r = first_row + k
        head = k in special
        st_text = (s_head if k in grid.headers else "") if head else s_text
        cells = []
        for j, v in enumerate(values):
            if v is None:
                continue
            ref = f"{letters[j]}{r}"
            tv = type(v)
            if tv is str:
                if v:
                    cells.append(f'<c r="{ref}"{st_text} t="inlineStr"><is>{sheetxml._t(v)}</is></c>')
            elif tv is bool or tv is np.bool_:
                cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
            elif tv is pd.Timestamp:
                if v is not pd.NaT:
                    serial = v.value / 86_400_000_000_000 + 25569.0
                    cells.append(f'<c r="{ref}"{"" if head else s_date}><v>{sheetxml.number_text(serial)}</v></c>')
            elif isinstance(v, (int, float, np.integer, np.floating)):
                if v == v:
                    st = s_amount if (j + 1) in grid.amount_cols and not head else ""
                    cells.append(f'<c r="{ref}"{st}><v>{sheetxml.number_text(v)}</v></c>')
            else:
                cells.append(sheetxml.value_cell(ref, v, styles.text))
        out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    return out


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
    pieces = list(sheetxml.split_sheet(pkg.stream(part)))
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
        from ims_excel.xlsx.package import col_index
        lastc = max(col_index(m.group(2).decode()), max(len(r) for r in grid.rows))
        head = sheetxml.set_dimension(head, f"{m.group(1).decode()}:{col_letters(lastc)}{max(end, int(m.group(3)))}")
    return head + b"".join(x for _, x in keep) + "".join(new).encode("utf-8") + tail


# ---------------------------------------------------------------- process


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


def _computed_plan(book: Book, result: Result, pkg: Package,
                   direction: str = "inward") -> tuple[list[sheetxml.Computed], list[str]]:
    """The formula columns of the Inward (or Outward) table with the engine's values as their cached values."""
    from ims_excel.template import inward as inward_mod
    from ims_excel.template import outward as outward_mod

    td = book.inward if direction == "inward" else book.outward
    if td is None:
        return [], []
    mod = inward_mod if direction == "inward" else outward_mod
    name = td.table.name
    head = _sheet_head(pkg, td.table.sheet_part)
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


_INJECT: dict[str, object] = {}


def _inject_unit(blob: bytes) -> tuple[bytes, int, int, dict]:
    """Worker: rewrite a unit of rows and deflate it (see :func:`_inject_parallel`)."""
    injector: sheetxml.Injector = _INJECT["injector"]  # type: ignore[assignment]
    before = dict(injector.stats)
    data = b"".join(injector.rows(piece) for piece in units_mod.cut(blob, 1 << 20))
    delta = {k: v - before.get(k, 0) for k, v in injector.stats.items()}
    return codec.deflate_block(data, _INJECT["level"]), codec.crc32(data), len(data), delta  # type: ignore[arg-type]


def _inject_parallel(pkg: Package, part: str, injector: sheetxml.Injector, n: int,
                     level: int = 1) -> Iterator[tuple[bytes, int, int]]:
    """A big sheet with its rows rewritten by ``injector``, as deflated segments in sheet order.

    This process inflates the sheet; forked workers (:mod:`.fanout`) rewrite and
    deflate each unit of rows, seeing the injector and the engine's values
    through ``fork``; the segments go to :meth:`PackageWriter.write_deflated`.
    """
    def plain(data: bytes) -> tuple[bytes, int, int]:
        return codec.deflate_block(data, level), codec.crc32(data), len(data)

    pieces = units_mod.units(pkg.stream(part, STREAM_CHUNK))
    _, head = next(pieces)
    yield plain(head)
    tail: list[bytes] = []

    def rows_only() -> Iterator[bytes]:
        for kind, blob in pieces:
            if kind == "rows":
                yield blob
            else:
                tail.append(blob)

    injector.prepare()  # once, before the fork: the workers share the codes
    rows = rows_only()
    first = next(rows, None)
    if first is not None:  # here: the row templates and their segments are made once, then shared by fork
        yield plain(b"".join(injector.rows(piece) for piece in units_mod.cut(first, 1 << 20)))
    _INJECT.update(injector=injector, level=level)
    try:
        for comp, crc, size, stats in fanout.fan_out(rows, _inject_unit, processes=n):
            for key, v in stats.items():
                injector.stats[key] = injector.stats.get(key, 0) + v
            yield comp, crc, size
    finally:
        _INJECT.clear()
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
        for kind, blob in td.xml or sheetxml.split_sheet(pkg.stream(part)):
            done += len(blob)
            yield injector.rows(blob) if kind == "rows" else blob
            report(done, part_size)

    def segments() -> Iterator[tuple[bytes, int, int]]:
        done = 0
        for seg in _inject_parallel(pkg, part, injector, PROCESSES):
            done += seg[2]
            yield seg
            report(done, written)
        report(written, written)

    if td.parallel and fanout.can_fork():
        edit.deflated[part] = segments
    else:
        edit.stream[part] = stream
    return injector


def process(path: str | os.PathLike, *, force: bool = False, as_of: dt.date | None = None,
            backup: bool = True, stamp: str | None = None, progress: Progress | None = None) -> ProcessReport:
    """Read the workbook, run the engine, write the results into the same file (see the module doc).

    ``progress(phase, done, total)`` hears how far reading and writing the Inward sheet have got.
    """
    import time

    path = Path(path)
    check_not_open(path)
    alloc.tune()
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
        cols, warnings = _computed_plan(book, result, pkg)
        out_cols, out_warnings = _computed_plan(book, result, pkg, "outward")
        warnings += out_warnings
        seconds["engine"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        stamp = stamp or now_stamp()
        styles = borrow_styles(pkg, book.inward.table)
        edit = Edit(pkg)
        # Inward and Outward: cached values of the computed columns
        td = book.inward
        injector = _rewrite_table(edit, td, cols, progress)
        _rewrite_table(edit, book.outward, out_cols)
        # Validation sheet
        grid = outputs.validation_grid(result, source_rows=td.rows, legal_name=outputs._text(book.config.get("LegalName")),
                                       stamp=stamp)
        vxml = _validation_xml(grid, styles)
        dropped = []
        val = pkg.sheet(VALIDATION)
        if val is None:
            _add_sheet(edit, VALIDATION, vxml, after=td.table.sheet)
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
        _drop_calc_chain(edit)
        _set_custom(edit, {"IMSLastProcessed": f"{stamp}; ims_excel {ims_excel.__version__}"})
        seconds["plan"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        edit.save(path, backup=backup)
        seconds["write"] = time.perf_counter() - t1
    seconds["total"] = time.perf_counter() - t0
    return ProcessReport(path, result, len(result.records), grid.flagged, grid.listed,
                         injector.stats if injector else {}, dropped, seconds, warnings)


# ---------------------------------------------------------------- import


AMENDMENT_OF = {"B2BA": "B2B", "B2B-DNA": "B2B-DN", "B2B-CNA": "B2B-CN", "ECOA": "ECO", "IMPGA": "IMPG",
                "IMPGSEZA": "IMPGSEZ", "ISDA": "ISD"}


def _key_text(section: object, gstin: object, doc: object, p2b: object) -> tuple[str, str, str, str]:
    def t(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
            return f"{v.year:04d}-{v.month:02d}"
        return str(v).strip()
    return t(section).upper(), t(gstin).upper(), t(doc), t(p2b)


def record_keys(frame: pd.DataFrame, direction: str = "inward") -> list[tuple[str, str, str, str]]:
    """(section, party GSTIN, document number, 2B period) of typed or raw records, as text."""
    party = "supplier_gstin" if direction == "inward" else "recipient_gstin"
    if "section" in frame:  # typed
        p2b = frame["period_2b"].to_numpy() if "period_2b" in frame else np.full(len(frame), -1)
        ptext = [periods.iso(int(p)) if p >= 0 else "" for p in p2b]
        return [_key_text(a, b, c, d) for a, b, c, d in zip(frame["section"].astype(object), frame[party],
                                                             frame["document_number"], ptext)]
    cols = {header_key(c): c for c in frame.columns}
    get = lambda k: frame[cols[k]].tolist() if k in cols else [""] * len(frame)  # noqa: E731
    return [_key_text(*v) for v in zip(get("section"), get(header_key(party.replace("_", " "))),
                                       get("documentnumber"), get("2bperiod"))]


def read_source(path: str | os.PathLike, direction: str = "auto") -> tuple[str, pd.DataFrame]:
    """(direction, typed records) of a file to import; ``auto``: Outward for a canonical file with
    Recipient GSTIN and no Supplier GSTIN, else Inward."""
    from ims_excel.formats import detect_and_read

    p = Path(path)
    if not p.exists():
        raise BookProblem(p, "no such file")
    if direction != "auto":
        return direction, to_typed(detect_and_read(p, direction), file=str(p), direction=direction)
    raw = detect_and_read(p, "inward")
    keys = {header_key(c) for c in raw.columns}
    if "recipientgstin" in keys and "suppliergstin" not in keys:
        if p.suffix.lower() in (".xlsx", ".xlsm"):  # the Outward table or sheet, not the first one
            raw = detect_and_read(p, "outward")
        return "outward", to_typed(raw, file=str(p), direction="outward")
    return "inward", to_typed(raw, file=str(p), direction="inward")


def detect_direction(path: str | os.PathLike) -> str:
    """``outward`` for a canonical file with Recipient GSTIN and no Supplier GSTIN, else ``inward``."""
    return read_source(path)[0]


@dataclass
class ImportReport:
    path: Path
    added: dict[str, int]
    skipped: dict[str, int]
    originals_filled: int
    rows: dict[str, tuple[int, int]]  # table -> (first, last) sheet rows written


def _spec(direction: str):
    from ims_excel.template.build import INWARD as IN_SPEC, OUTWARD as OUT_SPEC
    return IN_SPEC if direction == "inward" else OUT_SPEC


def _append_plan(pkg: Package, td: TableData, frame: pd.DataFrame, direction: str, *,
                 shared_formulas: bool = False) -> tuple[int, int, Callable[[], Iterator[bytes]], str]:
    """(first row, last row, sheet stream, new table XML) to append ``frame``'s records to a table."""
    from ims_excel.template.tables import cell_columns

    table = td.table
    r1, c1, r2, c2 = table.bounds
    n, cells = cell_columns(_spec(direction), frame)
    part = table.sheet_part
    head = _sheet_head(pkg, part)
    col_styles = sheetxml.style_of_columns(head)
    canon = {c.name: c for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    columns: list[tuple[sheetxml.Column, list | None]] = []
    for name, col in td.inputs.items():
        columns.append((sheetxml.Column(col, canon[name].kind, col_styles.get(col)), cells.get(name)))
    for header, col in td.computed.items():
        columns.append((sheetxml.Column(col, "formula", col_styles.get(col), table.formulas[header]), None))
    for header, col in td.others.items():
        columns.append((sheetxml.Column(col, "text", col_styles.get(col)), None))
    reusable = td.last_filled  # rows after it, inside the table, are blank: reuse them
    first_new = max(reusable, r1) + 1
    last_new = first_new + n - 1
    new_r2 = max(r2, last_new)

    def stream() -> Iterator[bytes]:
        emitted = False
        max_si = -1
        for kind, blob in sheetxml.split_sheet(pkg.stream(part)):
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
                if first_new <= rnum <= r2 and rnum <= max(r2, last_new):
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


def _append_estimate(td: TableData, n: int, shared: bool) -> int:
    """A generous size of ``n`` new rows' XML (for ZIP64 room): 80 bytes an input cell, the formulas."""
    per_formula = 60 if shared else 60 + max((len(f) for f in td.table.formulas.values()), default=0)
    return n * (80 * len(td.inputs) + per_formula * len(td.computed) + 40)


def _has_constants(row: bytes) -> bool:
    _, cells, _ = sheetxml.row_cells(row)
    for _, cell in cells:
        if b"<f" not in cell and (b"<v>" in cell or b"<is>" in cell):
            return True
    return False


def read_history(pkg: Package) -> pd.DataFrame | None:
    t = pkg.table(HISTORY)
    if t is None:
        return None
    r1, c1, r2, c2 = t.bounds
    mini = _Mini(pkg)
    rows = []
    for kind, blob in sheetxml.split_sheet(pkg.stream(t.sheet_part)):
        if kind == "rows":
            rows.append(blob)
    wb = pc.CalamineWorkbook.from_filelike(_io.BytesIO(mini.workbook_bytes(b"".join(rows))))
    sh = wb.get_sheet_by_name("S")
    if sh.start is None:
        return pd.DataFrame(columns=t.columns)
    grid = sh.to_python()
    r0, k0 = sh.start
    body = []
    for k, row in enumerate(grid):
        r = r0 + 1 + k
        if r1 < r <= r2:
            vals = [(row[c - 1 - k0] if 0 <= c - 1 - k0 < len(row) else "") for c in range(c1, c2 + 1)]
            if any(v not in ("", None) for v in vals):
                body.append(vals)
    return pd.DataFrame(body, columns=t.columns, dtype=object)


def fill_originals(frame: pd.DataFrame, history: pd.DataFrame | None) -> int:
    """Fill Original Action / Original 3B Filed of amendments from the History table; returns how many.

    Works on a typed inward frame in place. Matches the original by supplier
    GSTIN, original section and original document number (the latest history
    entry wins).
    """
    if history is None or not len(history) or not len(frame):
        return 0
    h = history
    key = {}
    for sec, g, doc, state, filed in zip(h.get("Section", []), h.get("Party GSTIN", []),
                                         h.get("Document Number", []), h.get("Final State", []),
                                         h.get("3B Filed", [])):
        key[(str(sec), str(g).upper(), str(doc))] = (str(state), str(filed))
    sec = frame["section"].astype(object).tolist()
    need = [i for i, s in enumerate(sec) if s in AMENDMENT_OF
            and str(frame["original_action"].iloc[i]) == "" and frame["original_document_number"].iloc[i] != ""]
    if not need:
        return 0
    oa = frame["original_action"].astype(object).to_numpy().copy()
    of3 = frame["original_3b_filed"].to_numpy().copy()
    filled = 0
    states = {"Accepted": "Accepted", "Rejected": "Rejected", "Pending": "Pending", "No Action": "No Action",
              "Deemed Accepted": "No Action"}
    for i in need:
        k = (AMENDMENT_OF[sec[i]], str(frame["supplier_gstin"].iloc[i]).upper(),
             str(frame["original_document_number"].iloc[i]))
        if k in key:
            state, filed = key[k]
            if state in states:
                oa[i] = states[state]
                if of3[i] == -1:
                    of3[i] = 1 if filed == "Y" else 0
                filled += 1
    from ims_excel.records import categories
    col = next(c for c in INWARD_COLUMNS if c.name == "Original Action")
    frame["original_action"] = pd.Categorical(oa, categories=categories(col))
    frame["original_3b_filed"] = of3
    return filled


def import_sources(path: str | os.PathLike, sources: list[str | os.PathLike], *, direction: str = "auto",
                   shared_formulas: bool = False, backup: bool = True) -> ImportReport:
    """Append the records of portal / canonical files to the workbook's tables (existing ones are kept)."""
    path = Path(path)
    check_not_open(path)
    loaded: dict[str, list[pd.DataFrame]] = {"inward": [], "outward": []}
    for src in sources:
        d, typed = read_source(src, direction)
        loaded[d].append(typed)
    with Package(path) as pkg:
        inward_t, outward_t = _require_tables(pkg)
        history = read_history(pkg)
        edit = Edit(pkg)
        added, skipped, rows = {}, {}, {}
        filled = 0
        for d, table in (("inward", inward_t), ("outward", outward_t)):
            if not loaded[d]:
                continue
            if table is None:
                raise BookProblem(path, f"has no {d.capitalize()} table for {', '.join(map(str, sources))}")
            td = read_table(pkg, table, d, typed=False)
            seen = set(record_keys(td.frame, d))
            new = pd.concat(loaded[d], ignore_index=True)
            keys = record_keys(new, d)
            keep = []
            for i, k in enumerate(keys):
                if k not in seen:
                    seen.add(k)
                    keep.append(i)
            skipped[table.name] = len(new) - len(keep)
            new = new.iloc[keep].reset_index(drop=True)
            if d == "inward":
                filled += fill_originals(new, history)
            added[table.name] = len(new)
            if not len(new):
                continue
            first, last, stream, txml = _append_plan(pkg, td, new, d, shared_formulas=shared_formulas)
            edit.stream[table.sheet_part] = stream
            edit.size_hint[table.sheet_part] = (pkg.by_name[table.sheet_part].file_size
                                                + _append_estimate(td, len(new), shared_formulas))
            edit.replace[table.part] = txml.encode("utf-8")
            rows[table.name] = (first, last)
        if edit.stream:
            _drop_calc_chain(edit)
            _full_calc_on_load(edit)
            edit.save(path, backup=backup)
    return ImportReport(path, added, skipped, filled, rows)


# ---------------------------------------------------------------- export


def export_upload(path: str | os.PathLike, out: str | os.PathLike, *, only_valid: bool = False,
                  as_of: dt.date | None = None, route: str = "offline"):
    """Engine + upload JSON of ``route`` (offline: one SAVE file; api: SAVE, and a RESET file beside it
    when records go back to No Action); see :mod:`ims_excel.formats.upload_json`."""
    from ims_excel.formats.upload_json import build_upload

    book = load_book(path, as_of=as_of)
    result = evaluate_book(book)
    recs = book.inward.frame.copy()
    recs["row"] = book.inward.rows  # name records by their sheet row
    statuses = result.records[["status", "primary_code"]].copy()
    statuses.index = recs.index
    up = build_upload(recs, statuses, book.context.gstin, specified=pd.Series(
        result.records["specified"].to_numpy(), index=recs.index), only_valid=only_valid, route=route)
    out = Path(out)
    up.write(out)
    reset = None
    if up.reset_payload:
        reset = up.write_reset(out.with_name(out.stem + ".reset" + out.suffix))
    return up, book, result, reset


# ---------------------------------------------------------------- new, upgrade, roll


def layout_signature(pkg: Package | None = None) -> str:
    """A short hash of the table layout and formulas (the workbook's, or this version's template)."""
    from ims_excel.template import config as config_mod
    from ims_excel.template import inward as inward_mod
    from ims_excel.template import outward as outward_mod

    h = hashlib.sha1()
    if pkg is None:
        for cols, comp in ((INWARD_COLUMNS, inward_mod.COMPUTED), (OUTWARD_COLUMNS, outward_mod.COMPUTED)):
            h.update(repr([c.name for c in cols] + [c.header for c in comp]).encode())
            h.update(repr(sorted((c.header, c.formula.lstrip("=")) for c in comp)).encode())
        h.update(repr(sorted(config_mod.NAMES)).encode())
    else:
        for name in (INWARD, OUTWARD):
            t = pkg.table(name)
            h.update(repr(t.columns if t else []).encode())
            h.update(repr(sorted(t.formulas.items()) if t else []).encode())
        from ims_excel.template import config as config_mod
        h.update(repr(sorted(n for n in pkg.defined_names() if n in config_mod.NAMES)).encode())
    return h.hexdigest()[:12]


def version_stamp() -> dict[str, str]:
    from ims_excel.rules import rulebook
    return {"IMSPackageVersion": ims_excel.__version__, "IMSLayout": layout_signature(),
            "RulesVersion": rulebook().version}


def _config_for_build(values: dict[str, object]) -> dict[str, object]:
    from ims_excel.template import config as config_mod

    out = {}
    for f in config_mod.FIELDS:
        v = values.get(f.name)
        if v is None or v == "" or (isinstance(v, float) and v != v):
            continue
        if f.kind == "date":
            if isinstance(v, (dt.datetime, dt.date)):
                v = v.strftime("%Y-%m-%d")
            elif isinstance(v, (int, float)):
                v = (pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(v))).strftime("%Y-%m-%d")
        elif isinstance(v, float) and v.is_integer():
            v = str(int(v))
        out[f.name] = v
    return out


def build_client(out: Path, config: dict[str, object], *, stamp: dict[str, str] | None = None) -> Path:
    """A fresh workbook from the current template with these Config values, stamped, written atomically."""
    from ims_excel.template.build import build_workbook

    with tempfile.TemporaryDirectory(prefix="ims-new-", dir=out.parent) as tmp:
        built = build_workbook(Path(tmp) / out.name, config=_config_for_build(config))
        with Package(built) as pkg:
            edit = Edit(pkg)
            _set_custom(edit, {**version_stamp(), **(stamp or {})})
            edit.save(out, backup=True)
    return out


def new_workbook(path: str | os.PathLike, *, gstin: str, name: str = "", period: str, frequency: str = "Monthly",
                 state: str = "", taxpayer_type: str | None = None, force: bool = False) -> Path:
    """A client workbook from the template, with its Config filled in."""
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        raise BookProblem(path, "a client workbook needs the .xlsm extension (it carries the buttons' macros)")
    if path.exists() and not force:
        raise BookProblem(path, "exists already; choose another name (or --force to replace it, keeping a backup)")
    values = {"RecipientGSTIN": gstin.strip().upper(), "LegalName": name, "ReturnPeriod": period,
              "FilingFrequency": frequency.capitalize(), "StateCodeOverride": state}
    if taxpayer_type:
        values["TaxpayerType"] = taxpayer_type
    outputs.context_from_config(values, file=str(path))  # refuse bad settings before writing anything
    path.parent.mkdir(parents=True, exist_ok=True)
    return build_client(path, values)


HISTORY_COLUMNS = ["Return Period", "Direction", "Section", "Party GSTIN", "Party Name", "Document Number",
                   "Document Date", "Original Document Number", "2B Period", "Taxable Value", "IGST", "CGST",
                   "SGST", "Cess", "Action", "Final State", "3B Filed", "3B Table", "ITC IGST", "ITC CGST",
                   "ITC SGST", "ITC Cess", "Status", "Reason Code", "Remarks", "Disposition", "Recorded On"]


def history_rows(book: Book, result: Result, carried: np.ndarray, moved_out: np.ndarray | None,
                 carried_to: str) -> pd.DataFrame:
    """History entries for this period: every inward record (moved or carried) and the frozen outward ones."""
    inp, recs = result.inward, result.records
    period = periods.iso(book.context.return_period)
    n = len(inp)
    today = dt.date.today().strftime("%d-%m-%Y")
    state = recs["effective_action"].astype(object).to_numpy()
    p2b = recs["period_2b"].to_numpy()
    inward = pd.DataFrame({
        "Return Period": period, "Direction": "Inward",
        "Section": inp["section"].astype(object).to_numpy(), "Party GSTIN": inp["supplier_gstin"].to_numpy(),
        "Party Name": inp["supplier_name"].to_numpy(), "Document Number": inp["document_number"].to_numpy(),
        "Document Date": inp["document_date"].dt.strftime("%d-%m-%Y").fillna("").to_numpy(),
        "Original Document Number": inp["original_document_number"].to_numpy(),
        "2B Period": [periods.iso(int(p)) if p >= 0 else "" for p in p2b],
        "Taxable Value": inp["taxable_value"].to_numpy(),
        **{h: inp[h.lower()].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
        "Action": inp["action"].astype(object).to_numpy(), "Final State": state,
        "3B Filed": "Y" if book.context.gstr3b_filed else "N",
        "3B Table": recs["gstr3b_table"].astype(object).to_numpy(),
        **{f"ITC {h}": recs[f"itc_{h.lower()}"].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
        "Status": recs["status"].astype(object).to_numpy(), "Reason Code": recs["primary_code"].astype(object).to_numpy(),
        "Remarks": inp["remarks"].to_numpy(),
        "Disposition": np.where(carried, f"carried to {carried_to}", "moved to history"),
        "Recorded On": today,
    }, index=range(n))
    parts = [inward]
    if moved_out is not None and book.outward is not None and len(book.outward.frame):
        o = book.outward.frame
        out = pd.DataFrame({
            "Return Period": period, "Direction": "Outward", "Section": o["section"].astype(object).to_numpy(),
            "Party GSTIN": o["recipient_gstin"].to_numpy(), "Party Name": o["recipient_name"].to_numpy(),
            "Document Number": o["document_number"].to_numpy(),
            "Document Date": o["document_date"].dt.strftime("%d-%m-%Y").fillna("").to_numpy(),
            "Original Document Number": o["original_document_number"].to_numpy(),
            "2B Period": "", "Taxable Value": o["taxable_value"].to_numpy(),
            **{h: o[h.lower()].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
            "Action": "", "Final State": o["recipient_action"].astype(object).to_numpy(),
            "3B Filed": np.where(o["recipient_3b_filed"].to_numpy() == 1, "Y", "N"), "3B Table": "",
            **{f"ITC {h}": 0.0 for h in ("IGST", "CGST", "SGST", "Cess")}, "Status": "", "Reason Code": "",
            "Remarks": o["remarks"].to_numpy(),
            "Disposition": np.where(moved_out, "moved to history", f"carried to {carried_to}"),
            "Recorded On": today}, index=range(len(o)))
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def _history_parts(edit: Edit, frame: pd.DataFrame, styles: Styles) -> None:
    """Add (or replace) the History sheet with an Excel table over ``frame``."""
    pkg = edit.pkg
    ncol = len(HISTORY_COLUMNS)
    n = len(frame)
    last = max(n + 1, 2)
    rows = ['<row r="1">' + "".join(sheetxml.value_cell(f"{col_letters(j)}1", h, styles.header)
                                      for j, h in enumerate(HISTORY_COLUMNS, start=1)) + "</row>"]
    amounts = {"Taxable Value", "IGST", "CGST", "SGST", "Cess", "ITC IGST", "ITC CGST", "ITC SGST", "ITC Cess"}
    cols = [frame[c].tolist() if c in frame else [""] * n for c in HISTORY_COLUMNS]
    for k in range(n):
        r = k + 2
        cells = []
        for j, c in enumerate(HISTORY_COLUMNS, start=1):
            v = cols[j - 1][k]
            if c in amounts:
                try:
                    v = float(v) if v not in ("", None) else None
                except (TypeError, ValueError):
                    pass
            cells.append(sheetxml.value_cell(f"{col_letters(j)}{r}", v,
                                              styles.amount if c in amounts else styles.text))
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    ref = f"A1:{col_letters(ncol)}{last}"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
             f'2006/relationships"><sheetPr><tabColor rgb="FFA5A5A5"/></sheetPr><dimension ref="{ref}"/>'
             '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
             'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
             f'<col min="1" max="{ncol}" width="14" customWidth="1"/></cols><sheetData>' + "".join(rows) +
             '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
             '<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>').encode("utf-8")
    used = set(pkg.names()) | set(edit.add)
    table_part = _next_free(used, "xl/tables/table{}.xml")
    ids = [int(x) for t in pkg.tables() for x in re.findall(r'<table\b[^>]*\bid="(\d+)"', pkg.text(t.part))]
    tid = max(ids, default=0) + 1
    tcols = "".join(f'<tableColumn id="{j}" name="{attr_escape(h)}"/>' for j, h in enumerate(HISTORY_COLUMNS, 1))
    edit.add[table_part] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" id="{tid}" name="{HISTORY}" displayName="{HISTORY}" ref="{ref}" '
        f'totalsRowShown="0"><autoFilter ref="{ref}"/><tableColumns count="{ncol}">{tcols}</tableColumns>'
        '<tableStyleInfo name="TableStyleLight9" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
        'showColumnStripes="0"/></table>').encode("utf-8")
    part = _add_sheet(edit, HISTORY, sheet, after=None)
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    edit.add[rels] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
                      'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                      f'Type="{REL_TABLE}" Target="../tables/{posixpath.basename(table_part)}"/></Relationships>'
                      ).encode("utf-8")
    ct = edit.text("[Content_Types].xml")
    edit.set("[Content_Types].xml", ct.replace("</Types>", f'<Override PartName="/{table_part}" '
                                                           f'ContentType="{CT_TABLE}"/></Types>'))


def _write_records(built: Path, out: Path, frames: dict[str, pd.DataFrame], history: pd.DataFrame | None,
                   stamp: dict[str, str], *, backup: bool = True, shared_formulas: bool = False) -> None:
    """Append records (typed or raw frames) to a freshly built book and write it to ``out``."""
    with Package(built) as pkg:
        edit = Edit(pkg)
        for d, frame in frames.items():
            if frame is None or not len(frame):
                continue
            table = pkg.table(INWARD if d == "inward" else OUTWARD)
            td = read_table(pkg, table, d, typed=False)
            _, _, stream, txml = _append_plan(pkg, td, frame, d, shared_formulas=shared_formulas)
            edit.stream[table.sheet_part] = stream
            edit.size_hint[table.sheet_part] = _append_estimate(td, len(frame), shared_formulas)
            edit.replace[table.part] = txml.encode("utf-8")
        if history is not None and len(history):
            _history_parts(edit, history, borrow_styles(pkg, pkg.table(INWARD)))
        _set_custom(edit, stamp)
        _full_calc_on_load(edit)
        edit.save(out, backup=backup)


@dataclass
class RollReport:
    source: Path
    out: Path
    to: str
    carried: int
    moved: int
    outward_carried: int
    outward_moved: int
    originals_filled: int


def default_roll_path(path: Path, old: str, new: str) -> Path:
    if old in path.stem:
        return path.with_name(path.stem.replace(old, new) + path.suffix)
    return path.with_name(f"{path.stem}_{new}{path.suffix}")


def roll(path: str | os.PathLike, to: str, *, out: str | os.PathLike | None = None, filed: bool = False,
         force: bool = False) -> RollReport:
    """Next period's workbook: pending records carried forward, the rest kept in a History sheet."""
    path = Path(path)
    new_p = periods.parse_or_none(to)
    if new_p is None:
        raise BookProblem(path, f"--to {to!r} is not a period (use YYYY-MM)")
    with Package(path) as pkg:
        book = load_book(path, pkg, gstr3b_filed=True if filed else None)
        if not book.context.gstr3b_filed:
            raise BookProblem(path, f"the GSTR-3B for {periods.iso(book.context.return_period)} is not marked "
                                    "filed (Config: GSTR-3B filed = Y); accepted and rejected records freeze only "
                                    "when it is filed. Mark it, or pass --filed")
        if new_p <= book.context.return_period:
            raise BookProblem(path, f"--to {to} is not after the workbook's period "
                                    f"{periods.iso(book.context.return_period)}")
        foreign = foreign_parts(pkg)
        if foreign and not force:
            raise CannotCarry(path, foreign, "the next period's workbook (built from the current template)")
        # the states the records had when the return was filed: the period's own actions are not
        # "after filing" (that is how the engine reads an action typed into a filed period)
        import dataclasses
        at_filing = dataclasses.replace(book.context, gstr3b_filed=False)
        outward = book.outward.frame if book.outward is not None and len(book.outward.frame) else None
        result = evaluate(book.inward.frame, at_filing, outward, inward_name=str(path), outward_name=str(path))
        old_history = read_history(pkg)
    target = Path(out) if out else default_roll_path(path, periods.iso(book.context.return_period), periods.iso(new_p))
    if target.exists() and not force:
        raise BookProblem(target, "exists already (use --out, or --force to replace it keeping a backup)")
    inp, recs = result.inward, result.records
    state = recs["effective_action"].astype(object).to_numpy()
    unfiled = inp["supplier_filing_status"].astype(object).to_numpy() == "Not Filed"
    carried = (state == "Pending") | (unfiled & ~recs["in_2b"].to_numpy().astype(bool))
    nxt = inp[carried].copy().reset_index(drop=True)
    prev_state = {"Accepted": "Accepted", "Rejected": "Rejected", "Pending": "Pending",
                  "Deemed Accepted": "No Action"}
    from ims_excel.records import categories
    cat = {c.name: c for c in INWARD_COLUMNS}
    nxt["previous_action"] = pd.Categorical([prev_state.get(s, "No Action") for s in state[carried]],
                                            categories=categories(cat["Previous Action"]))
    for name in ("action", "itc_reduction"):
        nxt[name] = pd.Categorical([""] * len(nxt), categories=categories(cat[{"action": "Action",
                                                                                "itc_reduction": "ITC Reduction"}[name]]))
    for h in ("igst", "cgst", "sgst", "cess"):
        nxt[f"declared_{h}"] = 0.0
    out_next, moved_out = None, None
    if book.outward is not None and len(book.outward.frame):
        o = book.outward.frame
        moved_out = o["recipient_3b_filed"].to_numpy() == 1
        out_next = o[~moved_out].reset_index(drop=True)
    hist_new = history_rows(book, result, carried, moved_out, periods.iso(new_p))
    history = pd.concat([old_history, hist_new], ignore_index=True) if old_history is not None else hist_new
    filled = fill_originals(nxt, history)
    values = dict(book.config)
    values.update({"ReturnPeriod": periods.iso(new_p), "GSTR3BFiled": "N", "AsOfDateOverride": ""})
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ims-roll-", dir=target.parent) as tmp:
        from ims_excel.template.build import build_workbook
        built = build_workbook(Path(tmp) / "template.xlsm", config=_config_for_build(values))
        _write_records(built, target, {"inward": nxt, "outward": out_next}, history,
                       {**version_stamp(), "IMSRolledFrom": f"{path.name} ({periods.iso(book.context.return_period)})"})
    return RollReport(path, target, periods.iso(new_p), int(carried.sum()), int((~carried).sum()),
                      0 if out_next is None else len(out_next),
                      0 if moved_out is None else int(moved_out.sum()), filled)


@dataclass
class UpgradeReport:
    path: Path
    old_layout: str
    new_layout: str
    inward: int
    outward: int
    history: int
    dropped: list[str]
    changed: bool


def upgrade(path: str | os.PathLike, *, force: bool = False) -> UpgradeReport:
    """Move the workbook's data into the current template (Config values, Inward/Outward cells as typed, History)."""
    path = Path(path)
    check_not_open(path)
    with Package(path) as pkg:
        old = layout_signature(pkg)
        new = layout_signature()
        foreign = foreign_parts(pkg)
        if foreign and not force:
            raise CannotCarry(path, foreign, "upgrade (moving the data into the current template)")
        inward_t, outward_t = _require_tables(pkg)
        values, _ = read_config(pkg)
        from ims_excel.template import config as config_mod
        names = pkg.defined_names()
        wb = pc.CalamineWorkbook.from_path(str(pkg.path))
        for f in config_mod.FIELDS:  # every setting, not only those the engine reads
            if f.name not in values and f.name in names:
                where = _split_ref(names[f.name])
                if where:
                    sheet, a1 = where
                    grid = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                    from ims_excel.xlsx.package import col_index
                    m = re.fullmatch(r"([A-Z]+)(\d+)", a1)
                    r, c = int(m.group(2)) - 1, col_index(m.group(1)) - 1
                    values[f.name] = grid[r][c] if r < len(grid) and c < len(grid[r]) else ""
        inward = read_table(pkg, inward_t, "inward", typed=False).frame
        outward = read_table(pkg, outward_t, "outward", typed=False).frame if outward_t else None
        history = read_history(pkg)
    with tempfile.TemporaryDirectory(prefix="ims-upgrade-", dir=path.parent) as tmp:
        from ims_excel.template.build import build_workbook
        built = build_workbook(Path(tmp) / "template.xlsm", config=_config_for_build(values))
        _write_records(built, path, {"inward": inward.drop(columns=["_row", "_sheet"]),
                                     "outward": outward.drop(columns=["_row", "_sheet"]) if outward is not None else None},
                       history, {**version_stamp(), "IMSUpgradedFrom": old, "IMSUpgradedOn": now_stamp()})
    return UpgradeReport(path, old, new, len(inward), 0 if outward is None else len(outward),
                         0 if history is None else len(history), foreign if force else [], old != new)


# ---------------------------------------------------------------- batch


@dataclass
class BatchRow:
    path: Path
    summary: outputs.Summary | None
    error: str = ""


def find_workbooks(folder: str | os.PathLike) -> list[Path]:
    from ims_excel.xlsx.package import is_backup_or_temp

    root = Path(folder)
    found = [p for p in root.rglob("*") if p.suffix.lower() in (".xlsm", ".xlsx") and p.is_file()
             and not is_backup_or_temp(p)]
    return sorted(found)


def batch(folder: str | os.PathLike, *, progress: Callable[[int, int, Path], None] | None = None,
          as_of: dt.date | None = None) -> list[BatchRow]:
    """One summary line per client workbook under ``folder``; a broken file gets its error instead."""
    books = find_workbooks(folder)
    out = []
    for k, p in enumerate(books, start=1):
        if progress:
            progress(k, len(books), p)
        try:
            book = load_book(p, as_of=as_of)
            result = evaluate_book(book)
            out.append(BatchRow(p, outputs.summary(result, book.client)))
        except InputError as e:
            out.append(BatchRow(p, None, "; ".join(str(x) for x in e.problems[:3])))
        except (WorkbookBusy, OSError, ValueError) as e:
            out.append(BatchRow(p, None, f"{type(e).__name__}: {e}"))
    return out


# ---------------------------------------------------------------- the report command on a workbook


def report_result(args) -> Result:
    """``ims-excel report BOOK``: the Context from the Config sheet, any flag given overriding it."""
    from ims_excel import cli

    overrides: dict[str, object] = {}
    for flag, name in (("gstin", "RecipientGSTIN"), ("period", "ReturnPeriod"), ("frequency", "FilingFrequency"),
                       ("state", "StateCodeOverride"), ("taxpayer_type", "TaxpayerType"),
                       ("annual_return_date", "AnnualReturnFiledOn")):
        v = getattr(args, flag, None)
        if v:
            overrides[name] = v
    as_of = cli._date(getattr(args, "as_of", None), "--as-of")
    book = load_book(args.inward, as_of=as_of, gstr3b_filed=True if getattr(args, "gstr3b_filed", False) else None,
                     overrides=overrides)
    outward = None
    if getattr(args, "outward", None):
        outward = cli.load(args.outward, "outward")
    elif book.outward is not None and len(book.outward.frame):
        outward = book.outward.frame
    return evaluate(book.inward.frame, book.context, outward, inward_name=str(book.path),
                    outward_name=str(getattr(args, "outward", None) or book.path))


# ---------------------------------------------------------------- the demo


@dataclass
class DemoFiles:
    workbook: Path
    upload: Path
    summary: Path
    report: Path
    result: Result
    upload_obj: object


def demo(out_dir: Path, context: dict[str, str], inward_csv: Path, outward_csv: Path) -> DemoFiles:
    """A client workbook from the sample files, processed; its upload JSON (valid records) and summary."""
    from ims_excel.report import text_report, to_json
    from ims_excel.formats._common import atomic_write_text
    import json

    out_dir.mkdir(parents=True, exist_ok=True)
    book = out_dir / "demo_client.xlsm"
    for p in (book, backup_of(book)):
        if p.exists():
            p.unlink()
    new_workbook(book, gstin=context["gstin"], name="Demo Recipient Pvt Ltd", period=context["period"],
                 frequency=context.get("frequency", "monthly"))
    _set_config_as_of(book, context.get("as_of"))
    import_sources(book, [inward_csv], direction="inward", backup=False)
    import_sources(book, [outward_csv], direction="outward", backup=False)
    rep = process(book, backup=False)
    upload = out_dir / "upload.json"
    up, _, _, _ = export_upload(book, upload, only_valid=True)
    report = out_dir / "report.json"
    atomic_write_text(report, json.dumps(to_json(rep.result), ensure_ascii=False, indent=1))
    summary = out_dir / "summary.txt"
    atomic_write_text(summary, demo_summary(rep, up, book, upload, report) + "\n\n" +
                      text_report(rep.result, max_rows=25) + "\n")
    return DemoFiles(book, upload, summary, report, rep.result, up)


def backup_of(path: Path) -> Path:
    from ims_excel.xlsx.package import backup_path
    return backup_path(path)


def _set_config_as_of(path: Path, as_of: str | None) -> None:
    """Write the As-of date into Config (the demo's fixed date) by rebuilding the fresh workbook."""
    if not as_of:
        return
    with Package(path) as pkg:
        values, _ = read_config(pkg)
    values["AsOfDateOverride"] = as_of
    build_client(path, values)
    bak = backup_of(path)
    if bak.exists():
        bak.unlink()


def demo_summary(rep: ProcessReport, up, book: Path, upload: Path, report: Path) -> str:
    from ims_excel.report import _money, status_counts

    res = rep.result
    ctx = res.context
    c = status_counts(res)
    lines = [f"IMS demo - {ctx.gstin}, return period {periods.iso(ctx.return_period)} ({ctx.frequency}), "
             f"as of {ctx.as_of:%d-%m-%Y}", "",
             f"Records: {len(res.records)}  errors {c['error']}  warnings {c['warning']}  info {c['info']}  ok {c['ok']}",
             "", "GSTR-3B Table 4 (from GSTR-2B)", f"  {'':6} {'IGST':>14} {'CGST':>14} {'SGST':>14} {'Cess':>14}"]
    for tab, v in res.gstr3b.items():
        lines.append(f"  {tab:<6} " + " ".join(f"{_money(v[h]):>14}" for h in ("igst", "cgst", "sgst", "cess")))
    lia = res.liability
    lines += ["", f"Supplier add-back rows: {len(lia)}" + (
        "  (total tax " + _money(float(sum(lia[h].sum() for h in ('igst', 'cgst', 'sgst', 'cess')))) + ")"
        if len(lia) else "")]
    rest = [r for r in up.left_out if r not in up.act_online]
    lines += ["", f"Upload JSON: {up.count} records; {len(rest)} left out:"]
    lines += [f"  {r}" for r in rest[:15]]
    if len(rest) > 15:
        lines.append(f"  ... and {len(rest) - 15} more (see the Validation sheet)")
    if up.act_online:
        lines += [f"Act on these online ({len(up.act_online)}; the {up.route} upload cannot carry them):"]
        lines += [f"  {r}" for r in up.act_online[:15]]
    lines += ["", "Files:", f"  workbook     {book}", f"  upload JSON  {upload}", f"  report JSON  {report}"]
    return "\n".join(lines)


def make_book(path: str | os.PathLike, inward: pd.DataFrame | None = None, outward: pd.DataFrame | None = None,
              config: dict[str, object] | None = None, *, shared_formulas: bool = False) -> Path:
    """A client workbook from the template with these records (typed or raw frames) and Config values.

    Config keys are defined names (``RecipientGSTIN``...) or ``config.FIELDS`` keys
    (``gstin``, ``period``...). The records are streamed in, so large books (1M rows)
    are quick to make; ``shared_formulas`` stores each formula column once.
    """
    from ims_excel.template import config as config_mod
    from ims_excel.template.build import build_workbook

    path = Path(path)
    values = {config_mod.field_for(k).name: v for k, v in (config or {}).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ims-make-", dir=path.parent) as tmp:
        built = build_workbook(Path(tmp) / "template.xlsm", config=_config_for_build(values))
        _write_records(built, path, {"inward": inward, "outward": outward}, None, version_stamp(),
                       backup=False, shared_formulas=shared_formulas)
    return path
