r"""Worksheet XML by streaming: rows in, rows out, only the cells that change are touched.

A worksheet part is ``head`` (everything up to ``<sheetData>``), the rows,
and ``tail`` (from ``</sheetData>``: merged cells, conditional formats, data
validations, the drawing and table references...). :func:`ims_excel.xlsx.units.units`
streams an inflating part as ``("head", bytes)``, ``("rows", bytes)`` blobs
of whole ``<row>`` elements and ``("tail", bytes)``; nothing is parsed that
is not needed, and head and tail come back byte for byte.

Cells we write:

* text always as an inline string (``t="inlineStr"``): a value that starts
  with ``=``, ``+``, ``-`` or ``@`` stays text, never a formula;
* numbers as ``<v>``; formulas as ``<f>`` plus, when known, the cached value
  (``t="str"`` for text results, ``t="b"`` for booleans).

>>> text_cell("A2", "=1+1", 9)
'<c r="A2" s="9" t="inlineStr"><is><t>=1+1</t></is></c>'
>>> esc("a<b & _x0041_\x01")
'a&lt;b &amp; _x005F_x0041__x0001_'
>>> number_text(1234.5), number_text(3.0), number_text(-0.0)
('1234.5', '3', '0')
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ims_excel.xlsx.dates import serial
from ims_excel.xlsx.package import col_index, col_letters, unescape, xml_escape

class SheetFormatError(ValueError):
    """Worksheet XML laid out in a way this module does not edit (named in the message)."""


_CTRL = re.compile("[\x00-\x08\x0b\x0c\r\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
"""Characters written as Excel's ``_xHHHH_``: those XML cannot hold, and CR, which an XML parser turns into LF
(XML 1.0 section 2.11), as Excel itself writes it."""


def esc(text: str) -> str:
    """XML text escaping, plus Excel's ``_xHHHH_`` for characters XML cannot hold."""
    text = xml_escape(text)
    if _CTRL.search(text):
        text = _CTRL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text


def inline_text(text: str) -> str:
    """The ``<t>`` element of an inline string (spaces kept where they matter)."""
    body = esc(text)
    if text != text.strip() or "\n" in text or "\r" in text:
        return f'<t xml:space="preserve">{body}</t>'
    return f"<t>{body}</t>"


def inline_texts(texts: list[str]) -> list[str]:
    """:func:`inline_text` of each of ``texts`` (the same text, ``tests/test_grid_xml.py``), for a column:
    the texts without a line feed are escaped together by :func:`esc`, in one call over them joined by
    line feeds (escaping is per character and leaves a line feed as it is, so the result splits back into
    each text's escape), each ``<t>`` element built in that one text; a text with a line feed, or with
    spaces that matter, takes :func:`inline_text` itself."""
    n = len(texts)
    if not n:
        return []
    nl = np.fromiter(map(operator.contains, texts, itertools.repeat("\n")), dtype=bool, count=n)
    cr = np.fromiter(map(operator.contains, texts, itertools.repeat("\r")), dtype=bool, count=n)
    arr = np.empty(n, dtype=object)
    arr[:] = texts
    stripped = np.empty(n, dtype=object)
    stripped[:] = list(map(str.strip, texts))
    own = nl | cr | (arr != stripped)  # these keep their spaces: xml:space="preserve"
    out = np.empty(n, dtype=object)
    plain = np.flatnonzero(~own)
    if len(plain):
        out[plain] = ("<t>" + esc("\n".join(arr[plain].tolist())).replace("\n", "</t>\n<t>") + "</t>").split("\n")
    for k in np.flatnonzero(own).tolist():
        out[k] = inline_text(texts[k])
    return out.tolist()


def number_texts(values: np.ndarray | list) -> list[str]:
    """:func:`number_text` of each value (the same text), for a column; a value that is not finite is
    refused (:class:`SheetFormatError`), nothing written."""
    f = np.asarray(values, dtype=float)
    bad = ~np.isfinite(f)
    if bad.any():
        raise SheetFormatError(f"{f[bad][0]!r} is not a finite number and cannot be written to a cell; "
                               "nothing was written")
    return _number_texts(f + 0.0)  # + 0.0: -0.0 is written "0", as number_text writes it


def number_text(v: float) -> str:
    """Shortest round-trip text of a number, without a trailing ``.0``; a number that is not finite
    (``inf``, ``nan``) has no cell form and is refused (:class:`SheetFormatError`), never written.

    >>> number_text(12.0), number_text(-450.5)
    ('12', '-450.5')
    """
    f = float(v)
    if f != f or f in (math.inf, -math.inf):
        raise SheetFormatError(f"{v!r} is not a finite number and cannot be written to a cell; nothing was written")
    if f == 0:
        return "0"
    r = repr(f)
    return r[:-2] if r.endswith(".0") else r


def style_attr(style: int | None) -> str:
    """`` s="N"`` for a cell style, nothing for the default."""
    return f' s="{style}"' if style else ""


def text_cell(ref: str, text: str, style: int | None = None) -> str:
    return f'<c r="{ref}"{style_attr(style)} t="inlineStr"><is>{inline_text(text)}</is></c>'


def number_cell(ref: str, value: float, style: int | None = None) -> str:
    return f'<c r="{ref}"{style_attr(style)}><v>{number_text(value)}</v></c>'


def value_cell(ref: str, value: object, style: int | None = None) -> str:
    """A constant cell from a Python value (None / "" / NaN: a styled blank or nothing)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return f'<c r="{ref}"{style_attr(style)}/>' if style else ""
    if isinstance(value, (bool, np.bool_)):
        return f'<c r="{ref}"{style_attr(style)} t="b"><v>{int(bool(value))}</v></c>'
    if isinstance(value, (int, float, np.integer, np.floating)):
        return number_cell(ref, float(value), style)
    if isinstance(value, pd.Timestamp):
        return number_cell(ref, serial(value), style)
    text = str(value)
    if text == "":
        return f'<c r="{ref}"{style_attr(style)}/>' if style else ""
    return text_cell(ref, text, style)


def cached(value: object) -> tuple[str, str]:
    """(type attribute, ``<v>`` text) of a formula's cached value."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ' t="str"', ""
    if isinstance(value, (bool, np.bool_)):
        return ' t="b"', str(int(bool(value)))
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        if f != f or f in (float("inf"), float("-inf")):
            return ' t="e"', "#NUM!"
        return "", number_text(f)
    if isinstance(value, pd.Timestamp):
        return "", number_text(serial(value))
    text = str(value)
    if text.startswith("#") and text in ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!"):
        return ' t="e"', text
    return ' t="str"', esc(text)


def _number_texts(arr: np.ndarray) -> list[str]:
    return [r[:-2] if r.endswith(".0") else r for r in map(repr, arr.tolist())]


def cached_codes(values: pd.Series | np.ndarray | list) -> tuple[list[bytes], list[bytes], np.ndarray]:
    """(type attributes, value texts) per distinct value, and each record's code into them.

    Worked out once per distinct value; code ``-1`` (a missing value) is the last entry.
    """
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return [b' t="b"', b' t="b"', b' t="str"'], [b"0", b"1", b""], s.to_numpy().astype(np.int64)
    if pd.api.types.is_numeric_dtype(s.dtype):
        codes, uniques = pd.factorize(s.to_numpy(dtype=float), use_na_sentinel=True)
        u = np.asarray(uniques, dtype=float)
        finite = np.isfinite(u)
        texts = [t.encode() for t in _number_texts(np.where(finite, u + 0.0, 0.0))]
        types = [b"" if f else b' t="e"' for f in finite.tolist()]
        texts = [t if f else b"#NUM!" for t, f in zip(texts, finite.tolist())]
        return types + [b' t="str"'], texts + [b""], codes
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    pairs = [cached(u) for u in uniques] + [cached(None)]
    return [p[0].encode() for p in pairs], [p[1].encode("utf-8") for p in pairs], codes


def cached_column(values: pd.Series | np.ndarray | list) -> tuple[list[bytes], list[bytes]]:
    """(type attributes, value texts) of a whole column as bytes, working per distinct value."""
    return _take(*cached_codes(values))


def _take(tlist: list[bytes], vlist: list[bytes], codes: np.ndarray) -> tuple[list[bytes], list[bytes]]:
    """Per-record (types, values) from the per-distinct-value lists (code -1 = the last entry)."""
    t = np.empty(len(tlist), dtype=object)
    t[:] = tlist
    v = np.empty(len(vlist), dtype=object)
    v[:] = vlist
    return t[codes].tolist(), v[codes].tolist()


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# ---------------------------------------------------------------- streaming


def check_head(buf: bytes) -> None:
    """Refuse worksheet XML written with namespace prefixes (``<x:worksheet>``), which this module does not edit."""
    if re.match(rb"<\w+:worksheet", buf[buf.find(b"<", buf.find(b"?>") + 2 if b"?>" in buf[:200] else 0):][:200]):
        raise SheetFormatError("the worksheet XML uses namespace prefixes; save the workbook in Excel first")


_ROW_NUM = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_FIRST_ROW = re.compile(rb'<row r="(\d+)"')


def iter_rows(blob: bytes) -> Iterator[tuple[int, bytes]]:
    """(row number, ``<row ...>...</row>`` or a self-closing row) of a blob of whole rows."""
    parts = blob.split(b"</row>")
    for p in parts[:-1]:
        i = p.find(b"<row")
        if p.find(b"<row", i + 4) >= 0:  # self-closing rows before this one
            yield from _iter_rows_slow(p + b"</row>")
            continue
        m = _ROW_NUM.match(p, i)
        if not m:
            raise SheetFormatError("a <row> without its r attribute; save the workbook in Excel first")
        yield int(m.group(1)), p[i:] + b"</row>"
    tail = parts[-1]
    if b"<row" in tail:
        yield from _iter_rows_slow(tail)


def _iter_rows_slow(blob: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    n = len(blob)
    while pos < n:
        i = blob.find(b"<row", pos)
        if i < 0:
            return
        gt = blob.find(b">", i)
        if blob[gt - 1:gt] == b"/":
            end = gt + 1
        else:
            end = blob.find(b"</row>", gt) + 6
        m = _ROW_NUM.match(blob, i)
        if not m:
            raise SheetFormatError("a <row> without its r attribute; save the workbook in Excel first")
        yield int(m.group(1)), blob[i:end]
        pos = end


CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"')
"""The start of a ``<c>`` element up to its reference: (1) column letters, (2) row number."""
_CELL = re.compile(CELL_REF.pattern + rb'[^>]*?(?:/>|>.*?</c>)', re.S)
CELL_PARTS = re.compile(rb'<c\b([^>]*?)(/>|>(.*?)</c>)', re.S)
"""One ``<c>`` element: (1) its attributes, (2) ``/>`` or its whole inside with the end tag, (3) its inside."""


def row_cells(row: bytes) -> tuple[bytes, list[tuple[int, bytes]], bytes]:
    """(``<row ...>`` open tag, [(column number, cell xml)], closing) of one row."""
    gt = row.find(b">")
    if row[gt - 1:gt] == b"/":
        return row[:gt - 1] + b">", [], b"</row>"
    open_tag = row[:gt + 1]
    body = row[gt + 1:-6]
    cells = []
    for m in _CELL.finditer(body):
        cells.append((col_index(m.group(1).decode()), m.group(0)))
    if not cells and b"<c" in body:
        raise SheetFormatError("a cell without its r attribute; save the workbook in Excel first")
    return open_tag, cells, b"</row>"


_VALUE = re.compile(rb"<v>([^<]*)</v>")
_TEXT = re.compile(rb"<t\b[^>]*>([^<]*)</t>")
_TYPE_ATTR = re.compile(rb'\bt="(\w+)"')
FORMULA = re.compile(rb"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
"""A cell's formula element (inside its ``<c>``)."""
CELL_COLUMN = re.compile(rb'\br="([A-Z]{1,3})\d+"')
"""The column letters of a cell's reference, in its attributes (:data:`CELL_PARTS` group 1)."""


class CellError(str):
    """An error value a cell shows (``#N/A``, ``#VALUE!``...): ``t="e"``."""


def cell_value(attrs: bytes, body: bytes | None, sst: list[str] | None = None) -> object:
    """The value one ``<c>`` shows (its attributes and inside, as :data:`CELL_PARTS` gives them): None when
    empty, a float, text (inline or shared: ``sst`` is the shared-string table), a bool, or a
    :class:`CellError`; a formula cell's cached value.

    >>> cell_value(b' r="A1" t="inlineStr"', b"<is><t>OK &amp; done</t></is>"), cell_value(b' r="A1"', b"<v>12.5</v>")
    ('OK & done', 12.5)
    >>> cell_value(b' r="A1" t="s"', b"<v>1</v>", ["a", "b"]), cell_value(b' r="A1" t="e"', b"<v>#N/A</v>")
    ('b', '#N/A')
    """
    if not body:
        return None
    t = _TYPE_ATTR.search(attrs)
    kind = t.group(1) if t else b"n"
    if kind == b"inlineStr":
        return unescape(b"".join(_TEXT.findall(body)).decode("utf-8"))
    v = _VALUE.search(body)
    if not v:
        return None
    text = unescape(v.group(1).decode("utf-8"))
    if kind == b"s":
        try:
            return (sst or [])[int(text)]
        except (ValueError, IndexError):
            return f"(shared string {text})"
    if kind == b"b":
        return text.strip() == "1"
    if kind == b"e":
        return CellError(text)
    if kind in (b"str", b"inlineStr"):
        return text
    try:
        return float(text)
    except ValueError:
        return text


# ---------------------------------------------------------------- computed-column values


@dataclass
class Computed:
    """One formula column of a table: where it is, its formula, its cached values."""

    col: int  # 1-based sheet column
    formula: str  # calculatedColumnFormula (unescaped), used for cells that have none
    style: int | None
    values: pd.Series | None = None  # per record; None = leave the cached values alone
    blank: tuple[bytes, bytes] = (b' t="str"', b"")

    @property
    def letters(self) -> str:
        return col_letters(self.col)


MARK = b"\x00"  # stands for the row number in a row template (cannot occur in XML)


@dataclass
class Injector:
    """Put cached values into the formula cells of a table's computed columns, row by row.

    ``rec_of_row[r]``: record index of sheet row ``r`` (-1: a blank table row,
    whose formulas give "" or 0); rows outside ``first..last`` are not touched.
    A cell of a computed column that holds a constant (typed over the formula, or
    the formula deleted) gets the column formula back: the table's formulas are
    the workbook's proof, so a reviewer must be able to trust they are intact
    (issue 9); ``restored`` lists those cells and ``process`` reports them. The
    Inward/Outward sheets are not protected (Excel could not sort them), so this
    is where an overwritten formula is caught. Rows that ``regular`` marks (formula cells like the
    reference row: same styles and formulas, nothing after them) are written
    from a template; the others cell by cell, keeping each cell's own
    attributes and formula.
    """

    columns: list[Computed]
    rec_of_row: np.ndarray
    first: int
    last: int
    regular: object = None  # tableread.Regularity or None
    stats: dict = field(default_factory=lambda: {"fast": 0, "slow": 0, "untouched": 0, "restored": 0})
    restored: list = field(default_factory=list)  # cells whose formula was typed over, restored ("AQ7")

    def __post_init__(self) -> None:
        self.columns = sorted(self.columns, key=lambda c: c.col)
        self._cols = {c.col: c for c in self.columns}
        self._active = [c for c in self.columns if c.values is not None]
        self._all_known = len(self._active) == len(self.columns)
        self._first_letters = self.columns[0].letters.encode()
        self._lookup = self.rec_of_row.tolist()
        self._templates: dict[int, bytes | None] = {}

    # ------------------------------------------------------------ values for a block of records
    WINDOW = 65536

    def _block_values(self, i0: int, i1: int) -> tuple[dict[int, tuple[list[bytes], list[bytes]]], int]:
        """Cached values of records ``i0..i1`` (converted a window at a time); returns (values, offset)."""
        w = getattr(self, "_window", None)
        if w is not None and w[0] <= i0 and i1 <= w[1]:
            return w[2], w[0]
        w1 = max(i1, i0 + self.WINDOW)
        vals = {c.col: cached_column(c.values.iloc[i0:w1]) for c in self._active}
        self._window = (i0, w1, vals)
        return vals, i0

    def _value(self, c: Computed, i: int, vals: dict, i0: int) -> tuple[bytes, bytes] | None:
        if c.values is None:
            return None
        if i < 0:
            return c.blank
        t, v = vals[c.col]
        return t[i - i0], v[i - i0]

    # ------------------------------------------------------------ one cell, the general way
    def _cell(self, cell: bytes, tv: tuple[bytes, bytes] | None, c: Computed | None = None,
              rnum: int = 0) -> bytes:
        m = CELL_PARTS.match(cell)
        attrs, body = m.group(1), m.group(3) or b""
        fm = FORMULA.search(body)
        if not fm and c is not None:  # a value typed over (or a formula deleted): the column formula again
            self.stats["restored"] = self.stats.get("restored", 0) + 1
            self.restored.append(f"{c.letters}{rnum}")
            attrs = re.sub(rb'\s+t="[a-zA-Z]+"', b"", attrs)
            fm = re.match(rb".*", b"<f>" + xml_escape(c.formula).encode("utf-8") + b"</f>", re.S)
            if tv is None:
                return b"<c" + attrs + b">" + fm.group(0) + b"</c>"
        if not fm or tv is None:
            return cell  # no value to give
        t, v = tv
        attrs = re.sub(rb'\s+t="[a-zA-Z]+"', b"", attrs)
        return b"<c" + attrs + t + b">" + fm.group(0) + b"<v>" + v + b"</v></c>"

    def _new_cell(self, c: Computed, rnum: int, tv: tuple[bytes, bytes] | None) -> bytes:
        t, v = tv if tv is not None else (b"", None)
        f = xml_escape(c.formula)
        value = b"" if v is None else b"<v>" + v + b"</v>"
        return (f'<c r="{c.letters}{rnum}"{style_attr(c.style)}'.encode() + t + f"><f>{f}</f>".encode("utf-8")
                + value + b"</c>")

    def slow(self, row: bytes, rnum: int, i: int, vals: dict, i0: int) -> bytes:
        open_tag, cells, close = row_cells(row)
        out = []
        present = set()
        for col, cell in cells:
            c = self._cols.get(col)
            if c is not None:
                present.add(col)
                out.append((col, self._cell(cell, self._value(c, i, vals, i0), c, rnum)))
            else:
                out.append((col, cell))
        for c in self.columns:
            if c.col not in present:  # a table row without the column's formula: add it
                out.append((c.col, self._new_cell(c, rnum, self._value(c, i, vals, i0))))
        out.sort(key=lambda t: t[0])
        self.stats["slow"] += 1
        return open_tag + b"".join(cell for _, cell in out) + close

    def _make_template(self, segment: bytes) -> bytes | None:
        """A ``%``-template of a regular row's formula cells: row number = MARK, two slots (type, value) a cell."""
        parts = self._template_parts(segment)
        if parts is None:
            return None
        esc = lambda x: x.replace(b"%", b"%%")  # noqa: E731
        return b"".join(esc(a) + MARK + esc(b) + b"%b" + esc(c) + b"%b" + esc(d) for a, b, c, d in parts)

    # ------------------------------------------------------------ whole blocks of regular rows at once
    def prepare(self) -> bool:
        """Work out, once, each column's cached values as codes into its distinct values (for :meth:`_vector`).

        Returns whether the vector path can be used (the reader's row layout is known).
        """
        reg = self.regular
        if (not self._all_known or reg is None or getattr(reg, "present", None) is None
                or getattr(reg, "lengths", None) is None or getattr(reg, "offsets", None) is None):
            self._codes = None
            return False
        if getattr(self, "_codes", None) is None:
            self._codes = {}
            for c in self.columns:
                tl, vl, codes = cached_codes(c.values)
                tl, vl = tl + [c.blank[0]], vl + [c.blank[1]]
                codes = np.where(codes < 0, len(tl) - 2, codes).astype(np.int32)
                # record -1 (a blank table row) -> the column's blank value (the last entry)
                self._codes[c.col] = (_objects(tl), _objects(vl), np.append(codes, np.int32(len(tl) - 1)))
            self._parts: dict[int, list | None] = {}
        return True

    def _template_parts(self, segment: bytes) -> list[tuple[bytes, bytes, bytes, bytes]] | None:
        """A regular row's formula cells as ``(a, b, c, d)`` per cell: cell = a + ROW + b + TYPE + c + VALUE + d."""
        cells = list(CELL_PARTS.finditer(segment))
        if len(cells) != len(self.columns) or b"".join(m.group(0) for m in cells) != segment:
            return None
        parts = []
        for m, c in zip(cells, self.columns):
            attrs, body = m.group(1), m.group(3) or b""
            ra = re.match(rb'\s+r="([A-Z]{1,3})\d+"', attrs)
            if not ra or ra.group(1).decode() != c.letters:
                return None
            fm = re.fullmatch(rb"(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(?:<v>[^<]*</v>|<v/>)?", body, re.S)
            if not fm:
                return None
            rest = re.sub(rb'\s+t="[a-zA-Z]+"', b"", attrs[ra.end():])
            parts.append((b'<c r="' + c.letters.encode(), b'"' + rest, b">" + fm.group(1) + b"<v>", b"</v></c>"))
        return parts

    SEGMENT_LIMIT = 1 << 16
    """A column with more distinct cached values than this is put together from four pieces a cell
    rather than from a ready-made segment per distinct value (which would cost a copy of every value)."""

    def _layout(self, cls: int) -> list[tuple]:
        """How each formula cell of class ``cls`` is put together after its row number.

        A regular row's formula cells are ``a0 ROW s0 ROW s1 ... ROW s(n-1)`` where
        ``s(j) = b + TYPE + c + VALUE + d`` of cell j followed by ``a`` of cell j+1
        (``</row>`` after the last). Per column: ``("seg", segments)`` — ``s(j)`` ready-made per
        distinct value, two pieces a cell — or, for columns of many distinct values,
        ``("split", btc per value, values, tail)``: ROW, ``b + TYPE + c``, VALUE, ``d + a(j+1)``.
        """
        key = ("layout", cls)
        if key not in self._parts:
            parts = self._parts[cls]
            out: list[tuple] = []
            for j, (c, (_, b, cc, d)) in enumerate(zip(self.columns, parts)):
                tl, vl, _ = self._codes[c.col]
                nxt = parts[j + 1][0] if j + 1 < len(parts) else b"</row>"
                if len(tl) <= self.SEGMENT_LIMIT:
                    out.append(("seg", _objects([b + t + cc + v + d + nxt for t, v in zip(tl.tolist(), vl.tolist())])))
                else:
                    kinds, kind_of = np.unique(tl.astype("S"), return_inverse=True)
                    btc = _objects([b + bytes(t) + cc for t in kinds.tolist()])[kind_of.ravel()]
                    out.append(("split", btc, vl, d + nxt))
            self._parts[key] = out
        return self._parts[key]

    def _vector(self, blob: bytes) -> bytes | None:
        """Rewrite a blob of whole rows without a Python step per cell; None when it does not apply.

        The reader noted each row's length, the offset of its first formula cell
        and its layout class; a blob whose rows are exactly those (checked by
        length) is cut at ``</row>`` and put together again from per-column
        arrays of pieces joined once. Rows not in a class go the general way.
        """
        if not hasattr(self, "_codes"):
            self.prepare()
        if self._codes is None:
            return None
        m = _FIRST_ROW.match(blob)
        if not m:
            return None
        reg = self.regular
        pieces = blob.split(b"</row>")
        if pieces.pop() != b"":
            return None
        n = len(pieces)
        present = reg.present
        start = int(np.searchsorted(present, int(m.group(1))))
        rnums = present[start:start + n]
        if len(rnums) != n or not n or rnums[0] != int(m.group(1)):
            return None
        lens = np.fromiter(map(len, pieces), dtype=np.int64, count=n)
        if not (lens == reg.lengths[rnums]).all():
            return None
        inside = (rnums >= self.first) & (rnums <= self.last)
        classes = np.where(inside, reg.classes[np.minimum(rnums, len(reg.classes) - 1)], -1)
        offs = reg.offsets[rnums]
        recs = np.where(rnums < len(self.rec_of_row), self.rec_of_row[np.minimum(rnums, len(self.rec_of_row) - 1)], -1)
        fast = np.zeros(n, dtype=bool)
        for cls in np.unique(classes[(classes >= 0) & (offs > 0)]).tolist():
            if cls not in self._parts:
                j = int(np.flatnonzero(classes == cls)[0])
                self._parts[cls] = self._template_parts(pieces[j][offs[j]:])
            if self._parts[cls] is not None:
                fast |= classes == cls
        fi = np.flatnonzero(fast)
        layouts = {cls: self._layout(cls) for cls in np.unique(classes[fi]).tolist()}
        width = max([2 + sum(2 if x[0] == "seg" else 4 for x in lay) for lay in layouts.values()] + [1])
        grid = np.full((n, width), b"", dtype=object)
        rows_b = rnums.astype("S12").astype(object)
        if len(fi):
            grid[fi, 0] = [pieces[i][:k] for i, k in zip(fi.tolist(), offs[fi].tolist())]
            for cls, layout in layouts.items():
                rows_c = fi[classes[fi] == cls]
                grid[rows_c, 1] = self._parts[cls][0][0]
                rb_c = rows_b[rows_c]
                rec_c = recs[rows_c]
                k = 2
                for c, how in zip(self.columns, layout):
                    code = self._codes[c.col][2][rec_c]
                    grid[rows_c, k] = rb_c
                    if how[0] == "seg":
                        grid[rows_c, k + 1] = how[1][code]
                        k += 2
                    else:
                        grid[rows_c, k + 1] = how[1][code]
                        grid[rows_c, k + 2] = how[2][code]
                        grid[rows_c, k + 3] = how[3]
                        k += 4
        self.stats["fast"] += len(fi)
        rest = np.flatnonzero(~fast)
        if len(rest):
            self.stats["untouched"] += int((~inside[rest]).sum())
            slow = rest[inside[rest]]
            for i in rest[~inside[rest]].tolist():
                grid[i, 0] = pieces[i] + b"</row>"
            for i in slow.tolist():  # this record's values only, from the codes
                rec = int(recs[i])
                vals = {c: ([t[k]], [v[k]]) for c, (t, v, codes) in self._codes.items() for k in (codes[rec],)}
                grid[i, 0] = self.slow(pieces[i] + b"</row>", int(rnums[i]), rec, vals, rec)
        return b"".join(grid.ravel().tolist())

    def rows(self, blob: bytes) -> bytes:
        """Rewrite a blob of whole rows."""
        if not self._active:
            return blob
        out = self._vector(blob)
        if out is not None:
            return out
        rows = list(iter_rows(blob))
        lookup, nlook = self._lookup, len(self._lookup)
        idx = [lookup[r] if r < nlook else -1 for r, _ in rows]
        known = [i for i in idx if i >= 0]
        i0, i1 = (min(known), max(known) + 1) if known else (0, 0)
        vals, base = self._block_values(i0, i1)
        tuples = None
        if self._all_known and self.regular is not None:
            inter = []
            for c in self.columns:
                t, v = vals[c.col]
                inter += (t[i0 - base:i1 - base], v[i0 - base:i1 - base])
            tuples = list(zip(*inter)) if i1 > i0 else []
            blank = tuple(x for c in self.columns for x in c.blank)
        i0_tuples = i0
        i0 = base
        letters = self._first_letters
        out = []
        regular = self.regular
        templates = self._templates
        if not hasattr(self, "_offsets"):
            off = getattr(regular, "offsets", None)
            self._offsets = off.tolist() if off is not None else []
        offsets = self._offsets
        noff = len(offsets)
        for (rnum, row), i in zip(rows, idx):
            if rnum < self.first or rnum > self.last:
                self.stats["untouched"] += 1
                out.append(row)
                continue
            cls = regular[rnum] if tuples is not None else -1
            if cls >= 0:
                rb = b"%d" % rnum
                probe = b'<c r="' + letters + rb + b'"'
                k = offsets[rnum] if rnum < noff else -1
                if k < 0 or not row.startswith(probe, k):
                    k = row.find(probe)
                if k >= 0:
                    tmpl = templates.get(cls, b"")
                    if tmpl == b"":
                        tmpl = templates[cls] = self._make_template(row[k:-6])
                    if tmpl is not None:
                        tv = tuples[i - i0_tuples] if i >= 0 else blank
                        out.append(row[:k] + (tmpl % tv).replace(MARK, rb) + b"</row>")
                        self.stats["fast"] += 1
                        continue
            out.append(self.slow(row, rnum, i, vals, i0))
        return b"".join(out)


# ---------------------------------------------------------------- appending rows


@dataclass
class Column:
    """A column of new rows: where, how (``kind``: text/date/amount/...), style, formula."""

    col: int
    kind: str
    style: int | None
    formula: str | None = None  # computed columns
    shared_formula: str | None = None  # the formula in A1 form for the first new row (shared storage)


def column_cells(col: Column, values: list | None, first_row: int, count: int) -> list[str]:
    """XML of one column's cells for rows ``first_row..first_row+count-1`` ("" where blank)."""
    letters = col_letters(col.col)
    s = style_attr(col.style)
    if col.formula is not None:
        f = xml_escape(col.formula)
        return [f'<c r="{letters}{r}"{s}><f>{f}</f></c>' for r in range(first_row, first_row + count)]
    if values is None:
        return [f'<c r="{letters}{r}"{s}/>' if s else "" for r in range(first_row, first_row + count)]
    out = []
    for r, v in zip(range(first_row, first_row + count), values):
        ref = f"{letters}{r}"
        if v is None:
            out.append(f'<c r="{ref}"{s}/>' if s else "")
        elif isinstance(v, float):
            out.append(f'<c r="{ref}"{s}><v>{number_text(v)}</v></c>')
        else:
            out.append(text_cell(ref, str(v), col.style))
    return out


ROWS_BLOCK_BYTES = 32 << 20
"""About this many bytes of row XML are built at a time by :func:`rows_xml` (memory stays bounded whatever the
formulas' length: 20,000 rows of the template's formulas written out in full are ~500 MB of text)."""


def rows_xml(columns: list[tuple[Column, list | None]], first_row: int, count: int, *,
             shared_si: int | None = None, block: int | None = None) -> Iterator[bytes]:
    """New rows as XML blobs of ``block`` rows (columns in any order; cells come out sorted).

    ``shared_si``: store each formula column as one shared formula (indices from ``shared_si``).
    ``block``: rows per blob; by default as many as make about :data:`ROWS_BLOCK_BYTES` (at most 20,000).
    """
    order = sorted(columns, key=lambda cv: cv[0].col)
    if block is None:
        per_row = sum(60 + (len(c.formula) if c.formula is not None and shared_si is None else 40)
                      for c, _ in order)
        block = max(100, min(20000, ROWS_BLOCK_BYTES // max(per_row, 1)))
    si_of = {}
    if shared_si is not None:
        for col, _ in order:
            if col.formula is not None:
                si_of[col.col] = shared_si + len(si_of)
    last = first_row + count - 1
    for start in range(0, count, block):
        n = min(block, count - start)
        r0 = first_row + start
        per_col = []
        for col, values in order:
            vals = values[start:start + n] if values is not None else None
            if col.formula is not None and col.col in si_of and count > 1:
                per_col.append(_shared_cells(col, si_of[col.col], r0, n, first_row, last))
            else:
                per_col.append(column_cells(col, vals, r0, n))
        rows = ["".join(cells) for cells in zip(*per_col)]
        yield "".join(f'<row r="{r0 + k}">{body}</row>' for k, body in enumerate(rows)).encode("utf-8")


def _shared_cells(col: Column, si: int, r0: int, n: int, first: int, last: int) -> list[str]:
    letters = col_letters(col.col)
    s = style_attr(col.style)
    if col.shared_formula is None:
        raise ValueError(f"column {letters}: a shared formula needs its A1 form (structured.to_a1)")
    f = xml_escape(col.shared_formula)
    out = [f'<c r="{letters}{r}"{s}><f t="shared" si="{si}"/></c>' for r in range(r0, r0 + n)]
    if r0 == first:
        out[0] = (f'<c r="{letters}{first}"{s}><f t="shared" ref="{letters}{first}:{letters}{last}" '
                  f'si="{si}">{f}</f></c>')
    return out


# ---------------------------------------------------------------- small edits of head / tail


def set_dimension(head: bytes, ref: str) -> bytes:
    if b"<dimension" in head:
        return re.sub(rb'<dimension\b[^>]*/>', f'<dimension ref="{ref}"/>'.encode(), head, count=1)
    return head


def style_of_columns(head: bytes) -> dict[int, int]:
    """Default style of each column from ``<cols>``: {column: style}."""
    out = {}
    for tag in re.findall(rb"<col\b[^>]*/?>", head):
        a = dict(re.findall(rb'(\w+)="([^"]*)"', tag))
        if b"style" in a:
            for c in range(int(a[b"min"]), int(a[b"max"]) + 1):
                out[c] = int(a[b"style"])
    return out


def cell_styles(row: bytes) -> dict[int, int]:
    """Style of each cell of a row: {column: style}."""
    _, cells, _ = row_cells(row)
    out = {}
    for col, cell in cells:
        m = re.search(rb'\ss="(\d+)"', cell[:cell.find(b">")])
        if m:
            out[col] = int(m.group(1))
    return out


def max_shared_index(blob: bytes) -> int:
    found = re.findall(rb'<f\b[^>]*\bsi="(\d+)"', blob)
    return max((int(x) for x in found), default=-1)



TAIL_ORDER = ("sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
              "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
              "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks",
              "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
              "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
              "extLst")
"""CT_Worksheet's children after ``sheetData``, in schema order (ECMA-376 Part 1, 18.3.1.99)."""


def insert_in_tail(tail: bytes, element: str, xml: bytes) -> bytes:
    """``xml`` (an element named ``element``) put into a worksheet's tail where the schema wants it: before the
    first element that comes after it (:data:`TAIL_ORDER`), so after any of its own kind.

    >>> insert_in_tail(b'</sheetData><pageMargins/><tableParts count="0"/></worksheet>', "legacyDrawing",
    ...                b'<legacyDrawing r:id="rId9"/>')
    b'</sheetData><pageMargins/><legacyDrawing r:id="rId9"/><tableParts count="0"/></worksheet>'
    """
    ext = tail.find(b"<extLst")
    scope = tail if ext < 0 else tail[:ext]
    at = len(scope) if ext >= 0 else tail.rfind(b"</worksheet>")
    for name in TAIL_ORDER[TAIL_ORDER.index(element) + 1:]:
        m = re.search(b"<" + name.encode() + rb"[\s/>]", scope)
        if m and m.start() < at:
            at = m.start()
    return tail[:at] + xml + tail[at:]


def sqref_bounds(sqref: str) -> list[tuple[int, int, int, int]]:
    """The ranges of a ``sqref`` (``"A1:B3 D5"``) as (first row, first col, last row, last col).

    >>> sqref_bounds("A1:B3 D5")
    [(1, 1, 3, 2), (5, 4, 5, 4)]
    """
    out = []
    for part in sqref.split():
        m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?", part)
        if not m:
            raise ValueError(f"not a cell range: {part!r}")
        c1, r1 = col_index(m.group(1)), int(m.group(2))
        c2, r2 = (col_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        out.append((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return out


def overlaps(a: str, b: str) -> bool:
    """Do two ``sqref`` share a cell? (One that cannot be read is taken to overlap.)

    >>> overlaps("A1:B3", "B3:C9"), overlaps("A1:B3", "C1 D4")
    (True, False)
    """
    try:
        ra, rb = sqref_bounds(a), sqref_bounds(b)
    except ValueError:
        return True
    return any(x[0] <= y[2] and y[0] <= x[2] and x[1] <= y[3] and y[1] <= x[3] for x in ra for y in rb)
