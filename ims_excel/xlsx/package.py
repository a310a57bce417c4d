"""An .xlsx/.xlsm file as a zip package: read its parts, write a new one that changes only what it must.

:class:`Package` reads the zip directory once and gives parts as bytes
(:meth:`Package.read`) or as a stream (:meth:`Package.stream`, inflated with ISA-L), plus the
structure the workbook doors need: sheets and their parts, defined names,
relationships, tables, content types, custom properties.

:class:`PackageWriter` writes a new package into an open file:

* :meth:`~PackageWriter.copy` copies a part *byte for byte*, compressed data
  included (no inflate/deflate), so ``xl/vbaProject.bin``, charts, pivot
  caches, images and every part we do not understand leave exactly as they came;
* :meth:`~PackageWriter.write` / :meth:`~PackageWriter.write_stream` add a
  changed part; a stream is deflated in blocks on worker threads (zlib
  releases the GIL), each block ending on a sync flush so that the blocks
  concatenate into one valid deflate stream (as ``pigz`` does);
* ZIP64 records are written when an entry or offset passes 4 GiB.

:func:`save_atomically` (from :mod:`ims_excel.xlsx.fileio`, the one atomic writer) writes next
to the target and moves the result into place with ``os.replace`` after ``fsync``, keeping
dated backups: at every moment the workbook is either the old file or the new one.

>>> import io, zipfile
>>> buf = io.BytesIO()
>>> w = PackageWriter(buf); w.write("a.xml", b"<a/>"); w.write_stream("b.xml", iter([b"<b>", b"x" * 10, b"</b>"])); w.close()
>>> zipfile.ZipFile(buf).read("b.xml")
b'<b>xxxxxxxxxx</b>'
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import posixpath
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ims_excel.xlsx.fileio import (CannotWrite, WorkbookBusy, check_not_open, clean_stale_temps,  # noqa: F401
                                   is_backup_or_temp, save_atomically, write_text)
from ims_excel.xlsx import codec
from ims_excel.xlsx.guard import (PROLOG_BYTES, Refused, check_file, check_parts, env_limit,  # noqa: F401
                                  limit_part, prolog_ok)  # PROLOG_BYTES, prolog_ok: imported from here too

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_TABLE = NS_REL + "/table"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"

MAX_PARTS = 20_000
MAX_PART_BYTES = 16 * 1024**3
"""A client workbook's parts may be large (a 1,048,576-row sheet is 2-5 GB of XML); zip bombs still stop here."""
MAX_RATIO = 400
"""A part that inflates more than this many times its compressed size is refused as a zip bomb (above
:data:`BOMB_FLOOR` bytes here; :mod:`ims_excel.formats` applies the same ratio above 1 MB). Our own
million-row sheets of shared formulas compress well, hence 400 rather than a tighter figure."""
BOMB_FLOOR = 2**24
MAX_READ_BYTES = 1024**3
"""Largest part read whole into memory (workbook, tables, shared strings, styles; worksheets are streamed);
``IMS_EXCEL_MAX_READ_MB`` overrides it, as ``IMS_EXCEL_MAX_PART_MB`` does :data:`MAX_PART_BYTES` and
``IMS_EXCEL_MAX_SHARED_STRINGS_MB`` the shared-strings limit (see :mod:`.guard`)."""


class PackageProblem(Refused):
    """A file that cannot be used as an xlsx package: ``file`` and ``message`` say which and why.

    The workbook doors report it as they report bad input (exit 2, nothing written).
    """

    @property
    def problems(self) -> list[str]:
        """The one problem, as the doors list the problems of bad input."""
        return [str(self)]


MAX_ROWS, MAX_COLS = 1_048_576, 16_384
"""Excel's sheet size (rows, columns): "Excel specifications and limits"."""

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class SheetRef:
    name: str
    sheet_id: str
    rid: str
    part: str  # e.g. xl/worksheets/sheet3.xml
    index: int  # 0-based position in the workbook


@dataclass
class TableInfo:
    """An Excel Table: its part, name, range and columns (with calculated-column formulas)."""

    part: str
    name: str
    ref: str
    columns: list[str]
    formulas: dict[str, str]  # column name -> calculatedColumnFormula text (XML-unescaped)
    sheet: str = ""
    sheet_part: str = ""

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        """(first row, first col, last row, last col), 1-based."""
        return ref_bounds(self.ref)


def col_index(letters: str) -> int:
    """1-based column number of ``AQ`` etc.

    >>> col_index("A"), col_index("AQ"), col_index("XFD")
    (1, 43, 16384)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(index: int) -> str:
    """Letters of the 1-based column ``index``.

    >>> col_letters(1), col_letters(43), col_letters(16384)
    ('A', 'AQ', 'XFD')
    """
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def ref_bounds(ref: str) -> tuple[int, int, int, int]:
    """``"A1:BC6"`` -> (1, 1, 6, 55)."""
    m = _REF.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell range: {ref!r}")
    c1, r1, c2, r2 = m.group(1), int(m.group(2)), m.group(3) or m.group(1), int(m.group(4) or m.group(2))
    return r1, col_index(c1), r2, col_index(c2)


_CHAR_REF = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")


def _xml_char(code: int) -> bool:
    """XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def bad_char_ref(text: str) -> str | None:
    """The first character reference in ``text`` that XML does not allow (``&#1114112;``, a lone
    surrogate ``&#xD800;``, ``&#0;``), or None.

    >>> bad_char_ref("A&#38;B &#x20AC;"), bad_char_ref("x &#1114112;"), bad_char_ref("&#xD800;")
    (None, '&#1114112;', '&#xD800;')
    """
    if "&#" not in text:
        return None
    for m in _CHAR_REF.finditer(text):
        digits = m.group(1) or m.group(2)
        if len(digits) > 8 or not _xml_char(int(digits, 16 if m.group(1) else 10)):
            return m.group(0)
    return None


def unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def xml_escape(text: str, *, quote: bool = False) -> str:
    """The one XML escaper: ``& < >`` (and ``"`` with ``quote``, for attribute values).

    >>> xml_escape('a<b & "c"'), attr_escape('a<b & "c"')
    ('a&lt;b &amp; "c"', 'a&lt;b &amp; &quot;c&quot;')
    """
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote and '"' in text else text


def attr_escape(text: object) -> str:
    """An attribute value: :func:`xml_escape` with quotes."""
    return xml_escape(str(text), quote=True)


def _attrs(tag_text: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'([\w:.-]+)\s*=\s*"([^"]*)"', tag_text)}


class Package:
    """A workbook file opened for reading (see the module doc)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            check_file(self.path, env_limit("MAX_BOOK_MB", 0), "MAX_BOOK_MB")  # regular, readable
        except Refused as r:
            raise PackageProblem(r.file, r.message) from None
        try:
            # one open file for the life of the Package: a save that replaces the path meanwhile
            # (another run) cannot mix two files' bytes into what is read here
            self._fh = open(self.path, "rb")
        except OSError as exc:
            raise PackageProblem(self.path, f"cannot be read ({exc.strerror or exc})") from None
        try:
            self._zf = zipfile.ZipFile(self._fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            self._fh.close()
            raise PackageProblem(self.path, "is not an Excel workbook (.xlsx/.xlsm are zip files; "
                                          "this is not one, or it is password-protected)") from None
        self.infos = self._zf.infolist()
        self.by_name = {i.filename: i for i in self.infos}
        try:
            self._check()
        except Refused as r:
            self._zf.close()
            raise PackageProblem(r.file, r.message) from None
        self._cache: dict[str, bytes] = {}

    def close(self) -> None:
        self._zf.close()
        self._fh.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- safety: zip bombs and XML entities (as formats._excel, with limits for big client books)
    def _check(self) -> None:
        if len(self.infos) > MAX_PARTS:
            raise PackageProblem(self.path, f"has {len(self.infos)} parts; more than {MAX_PARTS} is refused")
        part_limit = env_limit("MAX_PART_MB", MAX_PART_BYTES)
        for info in self.infos:
            limit_part(self.path, info, part_limit, "MAX_PART_MB")
            if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise PackageProblem(self.path, f"part {info.filename!r} declares {info.file_size / 2**20:.0f} MB "
                                              "uncompressed; refused as a zip bomb")
        for name in ("[Content_Types].xml", "xl/workbook.xml"):
            if name not in self.by_name:
                raise PackageProblem(self.path, f"is not an Excel workbook (no {name})")
        check_parts(self._zf, self.infos, self.path)
        self._read_limit = env_limit("MAX_READ_MB", MAX_READ_BYTES)

    # -- parts
    def names(self) -> list[str]:
        return [i.filename for i in self.infos]

    def has(self, name: str) -> bool:
        return name in self.by_name

    def read(self, name: str) -> bytes:
        """The part's bytes; a part whose CRC-32, size or deflate data is wrong is an :class:`PackageProblem`.

        Parts up to :data:`MAX_READ_BYTES` (larger ones are streamed, see :meth:`stream`)."""
        info = self.by_name.get(name)
        if info is not None and self._read_limit and info.file_size > self._read_limit:
            raise PackageProblem(self.path, f"part {name!r} declares {info.file_size / 2**20:.0f} MB; parts read "
                                          f"whole are limited to {self._read_limit / 2**20:.0f} MB "
                                          "(IMS_EXCEL_MAX_READ_MB); refused")
        if name not in self._cache:
            info = self.by_name[name]
            try:
                data = self._zf.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as err:
                raise self.damaged(name, err) from None
            if len(data) != info.file_size:
                raise self.damaged(name, f"{len(data):,} bytes, the zip directory says {info.file_size:,}")
            if len(data) < 2**22:
                self._cache[name] = data
            return data
        return self._cache[name]

    def damaged(self, name: str, why: object) -> Exception:
        return PackageProblem(self.path, f"part {name!r} is damaged ({why}); the file may be truncated or "
                                       "corrupted: use its backup")

    def text(self, name: str) -> str:
        """A (small, structural) XML part as text: valid UTF-8 with valid character references, or a PackageProblem."""
        data = self.read(name)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise PackageProblem(self.path, f"part {name!r} is not valid UTF-8 (byte {err.start:,}); the file "
                                          "is damaged") from None
        bad = bad_char_ref(text)
        if bad:
            raise PackageProblem(self.path, f"part {name!r} has an invalid character reference ({bad}); "
                                          "the file is damaged")
        return text

    def find_damage(self) -> str | None:
        """What makes a reader fail on this package, said for a person: the first XML part that is damaged,
        not UTF-8 or has an invalid character reference. Only run when a reader has failed (it reads all;
        a big part as a stream)."""
        import codecs

        for info in self.infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            name = info.filename
            try:
                if info.file_size < 1 << 26:
                    self.text(name)
                    continue
                decoder, done, tail = codecs.getincrementaldecoder("utf-8")(), 0, ""
                for chunk in self.stream(name):
                    try:
                        text = tail + decoder.decode(chunk)
                    except UnicodeDecodeError as err:
                        return f"part {name!r} is not valid UTF-8 (byte {done + err.start:,})"
                    done += len(chunk)
                    bad = bad_char_ref(text)
                    if bad:
                        return f"part {name!r} has an invalid character reference ({bad})"
                    tail = text[-40:]
            except PackageProblem as err:
                return err.message
        return None

    def stream(self, name: str, chunk: int = 1 << 24) -> Iterator[bytes]:
        """The part's bytes as a stream of chunks, inflated with :mod:`.codec` (ISA-L when installed).

        Checks the size and CRC-32 the zip directory declares, as ``zipfile`` does.
        """
        info, blocks = self.raw_entry(name, block=min(chunk, 1 << 22))
        if info.compress_type == zipfile.ZIP_STORED:
            chunks: Iterator[bytes] = blocks
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            chunks = codec.inflate(blocks, limit=info.file_size, step=chunk)
        else:
            with self._zf.open(name) as fh:
                while b := fh.read(chunk):
                    yield b
            return
        crc, size = 0, 0
        try:
            for chunk in chunks:
                crc = codec.crc32(chunk, crc)
                size += len(chunk)
                yield chunk
        except ValueError as err:
            raise PackageProblem(self.path, f"part {name!r} is damaged ({err})") from None
        if size != info.file_size or crc != info.CRC:
            raise PackageProblem(self.path, f"part {name!r} is damaged (size or CRC-32 does not match the zip "
                                          "directory)")

    def raw_entry(self, name: str, block: int = 1 << 22) -> tuple[zipfile.ZipInfo, Iterator[bytes]]:
        """The entry's ZipInfo and its compressed bytes, read in blocks (no inflate)."""
        info = self.by_name[name]

        def blocks() -> Iterator[bytes]:
            with self._reader() as read_at:
                head = read_at(30, info.header_offset)
                if head[:4] != b"PK\x03\x04":
                    raise PackageProblem(self.path, f"part {name!r}: bad local header")
                n, m = struct.unpack("<HH", head[26:30])
                pos = info.header_offset + 30 + n + m
                left = info.compress_size
                while left:
                    chunk = read_at(min(left, block), pos)
                    if not chunk:
                        raise PackageProblem(self.path, f"part {name!r} is truncated")
                    left -= len(chunk)
                    pos += len(chunk)
                    yield chunk
        return info, blocks()

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Callable[[int, int], bytes]]:
        """``read_at(n, offset)`` on the file this Package opened (``os.pread``: no shared position)."""
        if hasattr(os, "pread"):
            fd = self._fh.fileno()
            yield lambda n, offset: os.pread(fd, n, offset)
            return
        with open(self.path, "rb") as fh:
            def read_at(n: int, offset: int) -> bytes:
                fh.seek(offset)
                return fh.read(n)
            yield read_at

    # -- structure
    def rels(self, part: str) -> dict[str, tuple[str, str, str]]:
        """Relationships of ``part``: {rId: (type, target part, target mode)}; targets resolved."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return {}
        out = {}
        for tag in re.findall(r"<Relationship\b[^>]*>", self.text(rels_name)):
            a = _attrs(tag)
            target, mode = a.get("Target", ""), a.get("TargetMode", "")
            if mode != "External":
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
            out[a.get("Id", "")] = (a.get("Type", ""), target, mode)
        return out

    def sheets(self) -> list[SheetRef]:
        wb = self.text("xl/workbook.xml")
        if re.search(r"<\w+:workbook\b", wb) or "purl.oclc.org/ooxml" in wb:
            raise PackageProblem(self.path, "is saved as 'Strict Open XML' or with prefixed XML, which this "
                                          "tool does not edit; save it as an Excel Macro-Enabled Workbook")
        rels = self.rels("xl/workbook.xml")
        out = []
        for i, tag in enumerate(re.findall(r"<sheet\b[^>]*>", wb)):
            a = _attrs(tag)
            rid = a.get("r:id", "")
            typ, target, _ = rels.get(rid, ("", "", ""))
            out.append(SheetRef(a.get("name", ""), a.get("sheetId", ""), rid, target, i))
        return out

    def sheet(self, name: str) -> SheetRef | None:
        for s in self.sheets():
            if s.name.casefold() == name.casefold():
                return s
        return None

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names: {name: formula text}."""
        wb = self.text("xl/workbook.xml")
        out = {}
        for attrs, body in re.findall(r"<definedName\b([^>]*)>([^<]*)</definedName>", wb):
            a = _attrs(attrs)
            if "localSheetId" not in a:
                out[a.get("name", "")] = unescape(body)
        return out

    def tables(self) -> list[TableInfo]:
        out = []
        for s in self.sheets():
            if not s.part or not self.has(s.part):
                continue
            for rid, (typ, target, _) in self.rels(s.part).items():
                if typ == REL_TABLE and self.has(target):
                    t = parse_table(self.text(target), target)
                    t.sheet, t.sheet_part = s.name, s.part
                    self._check_range(t)
                    out.append(t)
        return out

    def _check_range(self, t: TableInfo) -> None:
        """A table's range must be a cell range inside the sheet, first cell before last."""
        try:
            r1, c1, r2, c2 = ref_bounds(t.ref)
        except ValueError:
            r1 = c1 = r2 = c2 = 0
        if not (1 <= r1 <= r2 <= MAX_ROWS and 1 <= c1 <= c2 <= MAX_COLS):
            raise PackageProblem(self.path, f"table {t.name!r} on sheet {t.sheet!r} has the range {t.ref!r} "
                                          f"({t.part}), which is not a range of cells from top left to bottom "
                                          f"right within A1:XFD{MAX_ROWS}; the file is damaged")

    def table(self, name: str) -> TableInfo | None:
        for t in self.tables():
            if t.name.casefold() == name.casefold():
                return t
        return None

    def custom_properties(self) -> dict[str, str]:
        if not self.has("docProps/custom.xml"):
            return {}
        out = {}
        for name, body in re.findall(r'<property\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</property>',
                                     self.text("docProps/custom.xml"), re.S):
            m = re.search(r">([^<]*)<", body)
            out[unescape(name)] = unescape(m.group(1)) if m else ""
        return out


UNREADABLE = (UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError)
"""What a reader of a damaged package raises besides :class:`PackageProblem` (python-calamine's
``CalamineError`` too: see :func:`unreadable`)."""


def unreadable(path: str | os.PathLike, err: BaseException) -> PackageProblem:
    """The :class:`PackageProblem` for a workbook a reader failed on: names the damaged part and why
    (:meth:`Package.find_damage`), else the reader's own words."""
    try:
        with Package(path) as pkg:
            what = pkg.find_damage()
    except PackageProblem as e:
        return e
    return PackageProblem(path, what or f"cannot be read ({type(err).__name__}: {err}); the file is damaged")


def parse_table(xml: str, part: str = "") -> TableInfo:
    head = re.search(r"<table\b[^>]*>", xml)
    a = _attrs(head.group(0)) if head else {}
    columns, formulas = [], {}
    for m in re.finditer(r"<tableColumn\b([^>]*?)(/>|>(.*?)</tableColumn>)", xml, re.S):
        ca = _attrs(m.group(1))
        name = ca.get("name", "")
        columns.append(name)
        f = re.search(r"<calculatedColumnFormula\b[^>]*>(.*?)</calculatedColumnFormula>", m.group(3) or "", re.S)
        if f:
            formulas[name] = unescape(f.group(1))
    return TableInfo(part, a.get("displayName") or a.get("name", ""), a.get("ref", ""), columns, formulas)


# ---------------------------------------------------------------- writing


@dataclass
class _Entry:
    name: bytes
    date_time: tuple
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    flags: int = 0
    external_attr: int = 0


def _dos(date_time: tuple) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time[:6]
    return ((max(y, 1980) - 1980) << 9 | mo << 5 | d), (h << 11 | mi << 5 | s // 2)


@dataclass
class PackageWriter:
    """Write a zip package into ``fh`` (see the module doc). ``level``: deflate level of new parts."""

    fh: BinaryIO
    level: int = 6
    threads: int = 2
    block: int = 1 << 23
    entries: list[_Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pos = self.fh.tell()
        self._start = self._pos

    def _out(self, data: bytes) -> None:
        self.fh.write(data)
        self._pos += len(data)

    def _local_header(self, e: _Entry, zip64: bool) -> bytes:
        d, t = _dos(e.date_time)
        extra = b""
        csize, usize = e.csize, e.usize
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, e.usize, e.csize)
            csize = usize = 0xFFFFFFFF
        flags = e.flags | (0x800 if _non_ascii(e.name) else 0)
        return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45 if zip64 else 20, flags, e.method, t, d,
                           e.crc, csize, usize, len(e.name), len(extra)) + e.name + extra

    def copy(self, pkg: Package, name: str, *, as_name: str | None = None) -> None:
        """Copy a part of ``pkg`` exactly: the same compressed bytes, CRC and dates.

        The part is inflated on the way (not stored) to check its CRC-32 and size against the zip
        directory: a damaged part is refused (:class:`PackageProblem`), never carried into the new file.
        """
        info, blocks = pkg.raw_entry(name)
        e = _Entry((as_name or name).encode("utf-8"), info.date_time, info.compress_type, info.CRC, info.compress_size,
                   info.file_size, self._pos, info.flag_bits & 0x6, info.external_attr)
        zip64 = e.csize >= 0xFFFFFFFF or e.usize >= 0xFFFFFFFF
        self._out(self._local_header(e, zip64))

        def written() -> Iterator[bytes]:
            for b in blocks:
                self._out(b)
                yield b
        copied = written()
        crc, size = 0, 0
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                plain: Iterator[bytes] = copied
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                plain = codec.inflate(copied, limit=info.file_size)
            else:
                plain = iter(())  # another method: copied as it is, unchecked
                crc, size = info.CRC, info.file_size
            for chunk in plain:
                crc = codec.crc32(chunk, crc)
                size += len(chunk)
        except ValueError as err:
            raise pkg.damaged(name, err) from None
        for _ in copied:  # any bytes after the end of the deflate stream
            pass
        if size != info.file_size or crc != info.CRC:
            raise pkg.damaged(name, "size or CRC-32 does not match the zip directory")
        self.entries.append(e)

    def write(self, name: str, data: bytes, *, date_time: tuple = FIXED_DATE, level: int | None = None) -> None:
        """Add a part from bytes (deflated)."""
        level = self.level if level is None else level
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        comp = c.compress(data) + c.flush()
        e = _Entry(name.encode("utf-8"), date_time, zipfile.ZIP_DEFLATED, zlib.crc32(data), len(comp),
                   len(data), self._pos)
        zip64 = len(data) >= 0xFFFFFFFF or len(comp) >= 0xFFFFFFFF
        self._out(self._local_header(e, zip64))
        self._out(comp)
        self.entries.append(e)

    def write_stream(self, name: str, chunks: Iterable[bytes], *, date_time: tuple = FIXED_DATE,
                     level: int | None = None, zip64: bool = False) -> None:
        """Add a part from a stream of byte chunks, deflating blocks on worker threads.

        The local header is written first with zero sizes and patched once the
        part is complete (the file must be seekable); ``zip64`` reserves room
        for sizes over 4 GiB (set it when the part may get that large).
        """
        level = self.level if level is None else level
        e = _Entry(name.encode("utf-8"), date_time, zipfile.ZIP_DEFLATED, 0, 0, 0, self._pos)
        header_at = self.fh.tell()
        self._out(self._local_header(e, zip64))
        crc, usize, csize = 0, 0, 0

        def deflate(data: bytes, last: bool) -> bytes:
            return codec.deflate_block(data, level) + (codec.FINAL_BLOCK if last else b"")

        pending: list[cf.Future] = []
        with cf.ThreadPoolExecutor(max(1, self.threads)) as pool:
            buf: list[bytes] = []
            size = 0
            def submit(last: bool) -> None:
                nonlocal crc, usize, buf, size
                data = b"".join(buf)
                buf, size = [], 0
                crc = codec.crc32(data, crc)
                usize += len(data)
                pending.append(pool.submit(deflate, data, last))

            def drain(keep: int) -> None:
                nonlocal csize
                while len(pending) > keep:
                    comp = pending.pop(0).result()
                    csize += len(comp)
                    self._out(comp)

            for chunk in chunks:
                if not chunk:
                    continue
                buf.append(chunk)
                size += len(chunk)
                if size >= self.block:
                    submit(False)
                    drain(self.threads + 1)
            submit(True)
            drain(0)
        self._finish(e, header_at, zip64, crc, csize, usize)

    def _finish(self, e: _Entry, header_at: int, zip64: bool, crc: int, csize: int, usize: int) -> None:
        """Patch a streamed entry's local header with its CRC and sizes, once the data is written."""
        e.crc, e.csize, e.usize = crc, csize, usize
        if not zip64 and (usize >= 0xFFFFFFFF or csize >= 0xFFFFFFFF):
            raise OverflowError(f"{e.name.decode()}: part passed 4 GiB; write it with zip64=True")
        end = self.fh.tell()
        self.fh.seek(header_at)
        self.fh.write(self._local_header(e, zip64))
        self.fh.seek(end)
        self.entries.append(e)

    def write_deflated(self, name: str, segments: Iterable[tuple[bytes, int, int]], *,
                       date_time: tuple = FIXED_DATE, zip64: bool = False) -> None:
        """Add a part from blocks deflated elsewhere: ``(raw deflate ending on a sync flush, CRC-32, size)``
        in order (see :mod:`.codec`); their CRCs are combined, the final block added here."""
        e = _Entry(name.encode("utf-8"), date_time, zipfile.ZIP_DEFLATED, 0, 0, 0, self._pos)
        header_at = self.fh.tell()
        self._out(self._local_header(e, zip64))
        crc, usize, csize = 0, 0, 0
        for comp, seg_crc, seg_size in segments:
            crc = codec.crc32_combine(crc, seg_crc, seg_size)
            usize += seg_size
            csize += len(comp)
            self._out(comp)
        self._out(codec.FINAL_BLOCK)
        self._finish(e, header_at, zip64, crc, csize + len(codec.FINAL_BLOCK), usize)

    def close(self) -> None:
        """Write the central directory (ZIP64 records when needed)."""
        cd_start = self._pos
        for e in self.entries:
            d, t = _dos(e.date_time)
            extra_vals = []
            usize, csize, offset = e.usize, e.csize, e.offset - self._start
            if usize >= 0xFFFFFFFF or csize >= 0xFFFFFFFF or offset >= 0xFFFFFFFF:
                extra_vals = [usize, csize, offset]
                usize = csize = offset = 0xFFFFFFFF
            extra = struct.pack("<HH", 1, 8 * len(extra_vals)) + struct.pack(f"<{len(extra_vals)}Q", *extra_vals) \
                if extra_vals else b""
            flags = e.flags | (0x800 if _non_ascii(e.name) else 0)
            self._out(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45 if extra else 20, 45 if extra else 20,
                                  flags, e.method, t, d, e.crc, csize, usize, len(e.name), len(extra), 0, 0, 0,
                                  e.external_attr, offset) + e.name + extra)
        cd_size = self._pos - cd_start
        count = len(self.entries)
        cd_off = cd_start - self._start
        if count >= 0xFFFF or cd_size >= 0xFFFFFFFF or cd_off >= 0xFFFFFFFF:
            z64_at = self._pos - self._start
            self._out(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, cd_size, cd_off))
            self._out(struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1))
            self._out(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
        else:
            self._out(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_off, 0))


def _non_ascii(name: bytes) -> bool:
    return any(b >= 0x80 for b in name)


# ---------------------------------------------------------------- atomic save: see ims_excel.xlsx.fileio


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """``text`` as UTF-8, saved by the one atomic writer (:func:`ims_excel.xlsx.fileio.write_text`, no backup)."""
    return write_text(path, text)


def now_stamp() -> str:
    return time.strftime("%d-%m-%Y %H:%M")
