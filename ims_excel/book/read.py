"""Reading a client workbook: its Config sheet, its Inward / Outward tables, the engine run on them.

Reading (:func:`load_book`): the Config sheet's named cells give the
:class:`~ims_excel.engine.Context` (read with python-calamine); the
``Inward`` / ``Outward`` tables give the records. A table's worksheet part
is inflated as a stream (ISA-L, :mod:`ims_excel.xlsx.codec`) and read in blocks of rows by
:mod:`ims_excel.xlsx.fastread` (numpy over the XML); a block it does not
recognise is read by python-calamine instead, from a small in-memory workbook
around the block (its rows, the shared strings, the styles). A sheet over
:data:`PARALLEL_BYTES` is cut into units of rows (:mod:`ims_excel.xlsx.units`) that forked
worker processes parse (:mod:`ims_excel.xlsx.fanout`; ``IMS_EXCEL_PROCESSES`` sets how
many, default the CPUs up to 4). Each block is typed by
:func:`ims_excel.formats.to_typed`, so memory stays that of a few
blocks while the typed records pile up (``IMS_EXCEL_READER=calamine`` uses
calamine for every block). Blank table rows are skipped; each record keeps
its sheet row (``source_row``), so every problem names the cell a person can
find. The reader also notes, per row, its length and the layout of its
formula cells, so the writer (:mod:`ims_excel.book.process`) can fill those from a template.
"""

from __future__ import annotations

import datetime as dt
import functools
import io as _io
import os
import re
from collections.abc import Callable, Iterable, Iterator
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
from ims_excel.xlsx import dates, fanout, fastread, units as units_mod
from ims_excel.xlsx.package import (CT_WORKSHEET, NS_REL, Package, PackageWriter, REL_WORKSHEET, TableInfo,
                                    col_index, col_letters)



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
    regular: "Regularity | None" = None  # layout classes of the formula cells, by sheet row
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


class MiniWorkbook:
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
    return dates.epoch(_date1904(pkg))


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


def _parse_unit(job: _Job, opened: dict, blob: bytes) -> tuple:
    """Worker: parse a unit of whole rows (see :mod:`ims_excel.xlsx.fanout`). ``job`` and ``opened``
    are bound with :func:`functools.partial` (inherited through ``fork``, or pickled to a spawned
    worker); ``opened`` keeps the worker's own open package and caches."""
    if "pkg" not in opened:
        opened["pkg"], opened["cache"] = Package(job.path), {}
    return _parse_blobs(job, opened["pkg"], units_mod.cut(blob), opened["cache"])


def _batches(pkg: Package, part: str, chunk_rows: int, keep: list | None = None,
             progress: Progress | None = None) -> Iterator[list[bytes]]:
    """Blocks of about ``chunk_rows`` rows; every piece also goes to ``keep`` (for the write pass)."""
    batch: list[bytes] = []
    count = 0
    total = pkg.by_name[part].file_size
    chunks = _metered(pkg.stream(part), "read", total, progress)
    for kind, blob in units_mod.units(chunks, unit=units_mod.PIECE_BYTES):
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
    if job.reader == "fast":
        try:
            return _parse_fast(job, pkg, blobs, cache)
        except fastread.Irregular:
            pass
        except fastread.BadCells as bad:
            return None, _cell_problems(job, bad.cells), np.zeros(0, dtype="int64"), None
    blob = b"".join(blobs)
    hazards = fastread.hazards(blob, set(job.kinds_by_col), job.first, job.last)
    if hazards:  # calamine would read these as blank cells
        return None, _cell_problems(job, hazards), np.zeros(0, dtype="int64"), None
    return _parse_calamine(job, pkg, blob, cache)


def _cell_problems(job: _Job, cells: list[tuple[int, int, str]]) -> list[InputProblem]:
    """Unreadable cells as problems naming the sheet, row, column and cell (column 0: the whole row)."""
    names = {col: name for name, col in job.wanted}
    return [InputProblem(job.file, r, names.get(c), f"cell {col_letters(c)}{r} {msg}" if c else msg, job.sheet)
            for r, c, msg in cells]


def _shared_strings(pkg: Package, cache: dict) -> list:
    if "sst" not in cache:
        t = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
                  if typ.endswith("/sharedStrings") and pkg.has(t)), None)
        cache["sst"] = fastread.shared_strings(pkg.read(t)) if t else []
    return cache["sst"]  # type: ignore[return-value]


def _parse_fast(job: _Job, pkg: Package, blobs: list[bytes], cache: dict) -> tuple:
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
        cache["mini"] = MiniWorkbook(pkg)
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
CPUs, at most 4); 1 = all in this process."""


PARALLEL_BYTES = 128 << 20
"""A table's worksheet larger than this (uncompressed) is read and rewritten by :data:`PROCESSES` workers."""


STREAM_CHUNK = 1 << 24
"""Inflated bytes at a time for a big sheet (units are cut at most once a chunk)."""


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
    inputs, computed, others = table_columns(table, direction)
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
    if big:
        # inflated once, here; each unit of rows is parsed by a worker (forked, or spawned: see fanout)
        chunks = _metered(pkg.stream(table.sheet_part, STREAM_CHUNK), "read",
                          pkg.by_name[table.sheet_part].file_size, progress)
        rows_units = (blob for kind, blob in units_mod.units(chunks) if kind == "rows")
        for res in fanout.fan_out(rows_units, functools.partial(_parse_unit, job, {}), processes=n_proc):
            collect(res)
    else:
        cache: dict = {}
        keep = [] if keep_xml and pkg.by_name[table.sheet_part].file_size <= KEEP_BYTES else None
        for batch in _batches(pkg, table.sheet_part, chunk_rows, keep, progress):
            collect(_parse_blobs(job, pkg, batch, cache))
    if problems:
        shown = [p for p in problems if p.row is not None][:40] + [p for p in problems if p.row is None][:5]
        raise InputError(shown)
    rows = np.concatenate(rowlists) if rowlists else np.zeros(0, dtype="int64")
    if len(rows) > 1 and (np.diff(rows) <= 0).any():  # a row repeated across blocks
        raise InputError(_cell_problems(job, fastread.repeated_rows(rows)))
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


def require_tables(pkg: Package) -> tuple[TableInfo, TableInfo | None]:
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
