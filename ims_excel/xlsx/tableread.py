"""Read the cells of a table's range of a worksheet into column arrays: the one path of reading a table.

:func:`read_cells` is the whole of it: the worksheet part is inflated as a
stream (ISA-L, :mod:`.codec` through :class:`.package.Package`) and cut into
blocks of whole rows (:mod:`.units`); each block is read by :mod:`.fastread`
(numpy over the XML), or, when it does not recognise the block, by
python-calamine from a small in-memory workbook around the block
(:class:`MiniWorkbook`: its rows, the shared strings, the styles). A sheet
read with more than one process is inflated once, here, and its units of
rows are parsed by worker processes (:mod:`.fanout`: forked, or spawned where
there is no ``fork``, as on Windows). Only the columns asked for become
values; rows outside the table's range and blank rows are dropped; each row
keeps its sheet row (``_row``), so every problem can name the cell.

What a block's raw cells become is the caller's (``finish``, run where the
block was read, a worker or this process; e.g. typed records); this module
knows cells, columns and their kinds (``text``, ``amount``, ``date``,
``period``), nothing of what they mean. It also notes, per row, the layout of the formula cells
(:class:`Regularity`), so a writer can fill regular rows from a template.
"""

from __future__ import annotations

import functools
import io as _io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import python_calamine as pc

from ims_excel.xlsx import dates, fanout, fastread, units as units_mod
from ims_excel.xlsx.package import CT_WORKSHEET, NS_REL, Package, PackageWriter, REL_WORKSHEET

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase "read" / "write" in bytes of the sheet, "engine" (0, 0)."""

Finish = Callable[[pd.DataFrame], tuple[object | None, list]]
"""In the worker: a block's raw frame (the wanted columns, ``_row``, ``_sheet``) -> (what the block
becomes, or None; problems)."""


@dataclass(frozen=True)
class CellProblem:
    """A cell (or a whole row: ``col`` 0) this reader cannot use, and why."""

    row: int
    col: int
    message: str


def metered(chunks: Iterable[bytes], phase: str, total: int, progress: Progress | None) -> Iterator[bytes]:
    """``chunks``, telling ``progress`` how many bytes of ``total`` have gone by."""
    done = 0
    for chunk in chunks:
        done += len(chunk)
        if progress is not None:
            progress(phase, min(done, total), total)
        yield chunk


def date1904(pkg: Package) -> bool:
    """Whether the workbook counts dates from 1904 (``<workbookPr date1904="1"/>``)."""
    pr = re.search(r"<workbookPr\b[^>]*>", pkg.text("xl/workbook.xml"))
    return bool(pr and re.search(r'date1904="(1|true)"', pr.group(0)))


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
    """Small in-memory workbooks around blocks of one worksheet's rows, for python-calamine to read."""

    def __init__(self, pkg: Package):
        wb_rels = pkg.rels("xl/workbook.xml")
        self.pkg = pkg
        self.sst = next((t for typ, t, _ in wb_rels.values() if typ.endswith("/sharedStrings") and pkg.has(t)), None)
        self.styles = next((t for typ, t, _ in wb_rels.values() if typ.endswith("/styles") and pkg.has(t)), None)
        flag = ' date1904="1"' if date1904(pkg) else ""
        self.workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="'
                         'http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + NS_REL +
                         f'"><workbookPr{flag}/><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
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


def prepare(col: object, kind: str, epoch: np.datetime64) -> object:
    """A column as a typed reader takes it fastest: amounts as floats, dates as datetime64 (when all are
    numbers), month cells given as date serials as ``YYYY-MM``."""
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
    """What a worker needs to turn blocks of rows into column arrays (sent once to each worker)."""

    path: str
    sheet: str
    first: int
    last: int
    wanted: list[tuple[str, int]]
    kinds_by_col: dict[int, str]
    formula_cols: set[int]
    epoch: np.datetime64
    reader: str
    prepare: bool
    finish: Finish | None

    @property
    def headers(self) -> list[str]:
        return [h for h, _ in self.wanted]


Parsed = tuple[object | None, list, np.ndarray, tuple | None]
"""What one block gives: (what ``finish`` made of it, or None; problems; its kept sheet rows; layout signature)."""


def _none(problems: list | None = None, sig: tuple | None = None) -> Parsed:
    return None, problems or [], np.zeros(0, dtype="int64"), sig


def _parse_unit(job: _Job, opened: dict, blob: bytes) -> Parsed:
    """Worker: parse a unit of whole rows (see :mod:`.fanout`). ``job`` and ``opened`` are bound with
    :func:`functools.partial` (inherited through ``fork``, or pickled to a spawned worker); ``opened``
    keeps the worker's own open package and caches."""
    if "pkg" not in opened:
        opened["pkg"], opened["cache"] = Package(job.path), {}
    return _parse_blobs(job, opened["pkg"], units_mod.cut(blob), opened["cache"])


def _batches(pkg: Package, part: str, chunk_rows: int, keep: list | None = None,
             progress: Progress | None = None) -> Iterator[list[bytes]]:
    """Blocks of about ``chunk_rows`` rows; every piece also goes to ``keep`` (for the write pass)."""
    batch: list[bytes] = []
    count = 0
    total = pkg.by_name[part].file_size
    chunks = metered(pkg.stream(part), "read", total, progress)
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


def _finish(job: _Job, raw: pd.DataFrame, rows_abs: np.ndarray, sig: tuple | None) -> Parsed:
    if job.finish is None:
        return raw, [], rows_abs, sig
    made, problems = job.finish(raw)
    return made, list(problems), rows_abs, sig


def _parse_blobs(job: _Job, pkg: Package, blobs: list[bytes], cache: dict) -> Parsed:
    if job.reader == "fast":
        try:
            return _parse_fast(job, pkg, blobs, cache)
        except fastread.Irregular:
            pass
        except fastread.BadCells as bad:
            return _none(_cell_problems(bad.cells))
    blob = b"".join(blobs)
    hazards = fastread.hazards(blob, set(job.kinds_by_col), job.first, job.last)
    if hazards:  # calamine would read these as blank cells
        return _none(_cell_problems(hazards))
    return _parse_calamine(job, pkg, blob, cache)


def _cell_problems(cells: list[tuple[int, int, str]]) -> list[CellProblem]:
    return [CellProblem(r, c, msg) for r, c, msg in cells]


def _shared_strings(pkg: Package, cache: dict) -> list:
    if "sst" not in cache:
        t = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
                  if typ.endswith("/sharedStrings") and pkg.has(t)), None)
        cache["sst"] = fastread.shared_strings(pkg.read(t)) if t else []
    return cache["sst"]  # type: ignore[return-value]


def _parse_fast(job: _Job, pkg: Package, blobs: list[bytes], cache: dict) -> Parsed:
    parts = []
    for blob in blobs:
        parts.append(fastread.parse_block(blob, job.kinds_by_col, job.formula_cols, lambda: _shared_strings(pkg, cache),
                                          first_row=job.first, last_row=job.last))
    sig = _signature(parts, sorted(job.formula_cols))
    data_rows = np.concatenate([b.rows for b in parts])
    if not len(data_rows):
        return _none(sig=sig)
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
        return _none(sig=sig)
    inputs = dict(job.wanted)
    raw = pd.DataFrame({name: (prepare(v[take], job.kinds_by_col[inputs[name]], job.epoch) if job.prepare
                               else v[take]) for name, v in data.items()}, columns=job.headers)
    raw["_row"] = data_rows[take]
    raw["_sheet"] = job.sheet
    return _finish(job, raw, data_rows[take], sig)


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


def _parse_calamine(job: _Job, pkg: Package, blob: bytes, cache: dict) -> Parsed:
    if "mini" not in cache:
        cache["mini"] = MiniWorkbook(pkg)
    wb = pc.CalamineWorkbook.from_filelike(_io.BytesIO(cache["mini"].workbook_bytes(blob)))  # type: ignore[union-attr]
    sh = wb.get_sheet_by_name("S")
    start = sh.start
    if start is None:
        return _none()
    grid = sh.to_python()
    r0, k0 = start
    rows_abs = np.arange(r0 + 1, r0 + 1 + len(grid))
    keep = (rows_abs >= job.first) & (rows_abs <= job.last)
    if not keep.any():
        return _none()
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
        return _none()
    raw = pd.DataFrame({k: v[take] for k, v in data.items()}, columns=job.headers)
    raw["_row"] = rows_abs[take]
    raw["_sheet"] = job.sheet
    return _finish(job, raw, rows_abs[take], None)


def _regularity(sigs: list, last_row: int, max_classes: int = 256) -> Regularity | None:
    """Group rows by the layout of their formula cells (see :func:`_signature`).

    A row is in a class when it has every formula cell, each with a formula,
    and nothing after the last formula column; classes of two rows or more
    get a template in the writer (up to ``max_classes``).
    """
    if not sigs or any(s is None for s in sigs):
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


@dataclass
class TableCells:
    """A table's cells as read (:func:`read_cells`)."""

    made: list  # what ``finish`` made of each block with rows kept (raw frames without ``finish``), in order
    rows: np.ndarray  # sheet row of each row kept, in order
    problems: list = field(default_factory=list)  # CellProblem, or what ``finish`` reported; then the rest is partial
    regular: Regularity | None = None  # layout classes of the formula cells, by sheet row
    xml: list | None = None  # the inflated worksheet pieces (head, rows..., tail), when asked to keep them
    parallel: bool = False  # read by worker processes


def read_cells(pkg: Package, part: str, *, sheet: str, first: int, last: int, columns: list[tuple[str, int]],
               kinds: dict[int, str], formula_cols: set[int], finish: Finish | None = None, prepared: bool = True,
               reader: str = "fast", chunk_rows: int = 65_536, processes: int = 1, stream_chunk: int = 1 << 24,
               keep_xml: bool = False, progress: Progress | None = None) -> TableCells:
    """The cells of rows ``first..last`` of worksheet ``part`` (named ``sheet``), in the ``columns`` asked
    for (name, sheet column; ``kinds``: sheet column -> kind), each non-blank row once (see the module doc).

    Each block of rows becomes a raw frame (the named columns, ``_row``, ``_sheet``; with ``prepared``
    dates as datetime64, see :func:`prepare`) and then ``finish(raw)``, in the process that read it.
    Blocks of ``chunk_rows`` rows are read here, keeping the inflated pieces when ``keep_xml``; with
    ``processes`` > 1 and more than one block, the sheet is inflated here ``stream_chunk`` bytes at a time
    and its units parsed by that many workers. ``formula_cols``: the columns whose formula layout is
    noted (:class:`Regularity`). ``reader``: ``fast`` (numpy, calamine for irregular blocks) or ``calamine``.
    """
    job = _Job(str(pkg.path), sheet, first, last, sorted(columns, key=lambda kv: kv[1]), kinds, set(formula_cols),
               dates.epoch(date1904(pkg)), reader, prepared, finish)
    made, problems, rowlists, sigs = [], [], [], []

    def collect(res: Parsed) -> None:
        f, probs, rws, sig = res
        problems.extend(probs)
        sigs.append(sig)
        if f is not None:
            made.append(f)
            rowlists.append(rws)

    parallel = last - first + 1 > chunk_rows and processes > 1
    keep = None
    if parallel:
        # inflated once, here; each unit of rows is parsed by a worker (forked, or spawned: see fanout)
        chunks = metered(pkg.stream(part, stream_chunk), "read", pkg.by_name[part].file_size, progress)
        rows_units = (blob for kind, blob in units_mod.units(chunks) if kind == "rows")
        for res in fanout.fan_out(rows_units, functools.partial(_parse_unit, job, {}), processes=processes):
            collect(res)
    else:
        cache: dict = {}
        keep = [] if keep_xml else None
        for batch in _batches(pkg, part, chunk_rows, keep, progress):
            collect(_parse_blobs(job, pkg, batch, cache))
    rows = np.concatenate(rowlists).astype("int64") if rowlists else np.zeros(0, dtype="int64")
    if not problems and len(rows) > 1 and (np.diff(rows) <= 0).any():  # a row repeated across blocks
        problems = _cell_problems(fastread.repeated_rows(rows))
    regular = _regularity(sigs, last) if formula_cols else None
    return TableCells(made, rows, problems, regular, keep, parallel)
