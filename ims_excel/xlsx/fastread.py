"""Read a table's cells straight from worksheet XML with numpy (the fast path of :mod:`.io`).

Excel, LibreOffice, openpyxl, XlsxWriter and this package write cells the
same way: ``<c r="B7" s="9" t="s"><v>12</v></c>``, attributes in that order.
Rather than parse every cell with Python, :func:`parse_block` finds the
``<`` and ``>`` of a block of rows once and works out every cell's column,
row, style, type and value span with array arithmetic; only the values of
the columns asked for become Python objects (numbers in bulk).

It also returns, for the formula columns, each cell's style and the byte
length of its formula, so that the writer can tell the regular rows (written
from a template) from the ones a person changed (written cell by cell).

Anything it does not recognise (other attributes, rich text, a formula in an
input column, ``r`` missing) raises :class:`Irregular`; the caller then
reads that block with python-calamine.

>>> blob = (b'<row r="2"><c r="A2" t="inlineStr"><is><t>=1+1</t></is></c><c r="B2" s="3"><v>12.5</v></c>'
...         b'<c r="C2" s="4"><f>A2</f><v>1</v></c></row>')
>>> got = parse_block(blob, {1: "text", 2: "amount"}, {3}, [])
>>> got.values[1].tolist(), got.values[2].tolist(), got.rows.tolist(), got.sig_style[3].tolist()
(['=1+1'], [12.5], [2], [4])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ims_excel.xlsx.package import col_index, col_letters

LT, GT, SLASH, QUOTE, SPACE = 60, 62, 47, 34, 32
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#x[0-9A-Fa-f]+|#\d+);")
_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


class Irregular(Exception):
    """A block this reader does not handle; read it with calamine instead."""


class BadCells(ValueError):
    """Cells whose value cannot be read (an error such as ``#N/A``, a formula with no saved value, a row
    that appears twice): ``cells`` holds (sheet row, column number, what is wrong). Never read as blank or 0."""

    def __init__(self, cells: list[tuple[int, int, str]]):
        self.cells = cells
        super().__init__("; ".join(f"row {r} column {c}: {m}" for r, c, m in cells[:5]))


def _unescape(text: str) -> str:
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if "_x" in text:
        text = _XESC.sub(lambda m: chr(int(m.group(1), 16)), text).replace("_x005F_", "_")
    return text


def _entity(m: re.Match) -> str:
    e = m.group(1)
    if e[0] == "#":
        return chr(int(e[2:], 16) if e[1] in "xX" else int(e[1:]))
    return {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}[e]


def _digits(a: np.ndarray, start: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(number, count of digits) of the digit runs starting at ``start`` (at most ``width`` digits)."""
    num = np.zeros(len(start), dtype=np.int64)
    n = np.zeros(len(start), dtype=np.int64)
    going = np.ones(len(start), dtype=bool)
    for k in range(width):
        d = a[start + k].astype(np.int64) - 48
        going &= (d >= 0) & (d <= 9)
        if not going.any():
            break
        num = np.where(going, num * 10 + d, num)
        n += going
    return num, n


def _next_lt(lt: np.ndarray, ci: np.ndarray, isv: np.ndarray, isis: np.ndarray, last: int) -> np.ndarray:
    """Where an input cell's value ends: ``</v>`` is lt[cell+2], ``</t>`` (in ``<is><t>``) is lt[cell+3]."""
    return lt[np.minimum(ci + np.where(isis, 3, 2), last)]


@dataclass
class Block:
    """What :func:`parse_block` found: per input column the values of rows ``rows``; formula signatures."""

    rows: np.ndarray  # sheet rows that have any cell in an input column, ascending
    values: dict[int, object]  # column -> list (text) or float array (numbers) aligned with ``rows``
    sig_rows: np.ndarray  # sheet rows (all rows seen), ascending
    sig_style: dict[int, np.ndarray]  # formula column -> style per sig row (-1 = no cell, -2 = no formula)
    sig_flen: dict[int, np.ndarray]  # formula column -> formula element length per sig row
    sig_maxcol: np.ndarray | None = None  # last column with a cell, per sig row
    sig_offset: np.ndarray | None = None  # bytes from the <row to its first formula cell (-1: none)
    sig_len: np.ndarray | None = None  # bytes from the <row to its </row> (-1: a self-closing row)


def parse_block(blob: bytes, inputs: dict[int, str], formula_cols: set[int], sst: list[str] | np.ndarray,
                *, first_row: int = 1, last_row: int = 1 << 30) -> Block:
    """Parse a blob of whole ``<row>`` elements. ``inputs``: column -> kind (text/amount/date/...)."""
    a = np.frombuffer(blob + b"\0" * 32, dtype=np.uint8)
    lt = np.flatnonzero(a == LT)
    c1 = a[lt + 1]
    c2 = a[lt + 2]
    # rows
    row_at = lt[(c1 == 114) & (c2 == 111) & (a[lt + 3] == 119) & (a[lt + 4] == SPACE)]
    if not len(row_at):
        return Block(np.zeros(0, np.int64), {}, np.zeros(0, np.int64), {}, {}, np.zeros(0, np.int64))
    ok = (a[row_at + 5] == 114) & (a[row_at + 6] == 61) & (a[row_at + 7] == QUOTE)
    if not ok.all():
        raise Irregular("a <row> whose first attribute is not r")
    row_num, row_nd = _digits(a, row_at + 8, 8)
    if (row_nd == 0).any():
        raise Irregular("row number")
    if len(row_num) > 1 and (np.diff(row_num) <= 0).any():
        raise BadCells(repeated_rows(row_num))
    rclose = lt[(c1 == SLASH) & (c2 == 114)]  # </row>
    k = np.searchsorted(rclose, row_at)
    end = rclose[np.minimum(k, len(rclose) - 1)] if len(rclose) else np.zeros(len(row_at), np.int64)
    nxt = np.append(row_at[1:], len(a))
    row_len = np.where((k < len(rclose)) & (end < nxt), end - row_at, -1)
    # cells: start, column, row, end of the start tag
    ci = np.flatnonzero((c1 == 99) & (c2 == SPACE))  # each cell's index in lt
    cs = lt[ci]
    if not len(cs):
        return Block(np.zeros(0, np.int64), {}, row_num, {}, {}, np.zeros(len(row_num), np.int64),
                     np.full(len(row_num), -1, np.int64), row_len)
    if not ((a[cs + 3] == 114) & (a[cs + 4] == 61) & (a[cs + 5] == QUOTE)).all():
        raise Irregular("a cell whose first attribute is not r")
    l2, l3 = a[cs + 7], a[cs + 8]
    two = (l2 >= 65) & (l2 <= 90)
    three = two & (l3 >= 65) & (l3 <= 90)
    l1 = a[cs + 6].astype(np.int64) - 64
    col = np.where(three, (l1 * 26 + (l2.astype(np.int64) - 64)) * 26 + (l3.astype(np.int64) - 64),
                   np.where(two, l1 * 26 + (l2.astype(np.int64) - 64), l1))
    cell_row_idx = np.searchsorted(row_at, cs, side="right") - 1
    q = cs + 7 + two + three + row_nd[cell_row_idx]  # closing quote of r (the cell's row is its row's)
    if not (a[q] == QUOTE).all():
        raise Irregular("cell reference")
    # the start tag ends just before the next "<" (no whitespace between elements, as writers do)
    last = len(lt) - 1
    gt = lt[np.minimum(ci + 1, last)] - 1
    tight = bool((a[gt] == GT).all()) and bool((gt > q).all())
    if not tight:
        gtp = np.flatnonzero(a == GT)
        gt = gtp[np.searchsorted(gtp, q)]
    body = gt + 1
    maxcol = np.zeros(len(row_num), dtype=np.int64)
    np.maximum.at(maxcol, cell_row_idx, col)

    # -- formula-column signatures: style and formula length, one column per formula column
    sig_style, sig_flen = {}, {}
    if formula_cols:
        fc = sorted(formula_cols)
        lut = np.full(max(int(col.max()), fc[-1]) + 1, -1, dtype=np.int64)
        lut[fc] = np.arange(len(fc))
        fidx = lut[np.minimum(col, len(lut) - 1)]
        fi = np.flatnonzero(fidx >= 0)
        fq = q[fi]
        has_s = (a[fq + 1] == SPACE) & (a[fq + 2] == 115) & (a[fq + 3] == 61) & (a[fq + 4] == QUOTE)
        sval, _ = _digits(a, fq + 5, 6)
        fbody = body[fi]
        isf = (a[fbody] == LT) & (a[fbody + 1] == 102) & (a[gt[fi] - 1] != SLASH)
        if tight:  # <f .../> then <v> or </c>; <f>..</f> then <v> or </c>
            j2 = np.minimum(ci[fi] + 2, last)
            closes_f = (c1[j2] == SLASH) & (c2[j2] == 102)
            nxt_vc = np.where(closes_f, lt[np.minimum(j2 + 1, last)], lt[j2])
        else:
            vc = lt[((c1 == 118) & (c2 == GT)) | ((c1 == SLASH) & (c2 == 99))]  # <v> or </c>
            nxt_vc = vc[np.minimum(np.searchsorted(vc, fbody + 1), len(vc) - 1)]
        st2 = np.full((len(row_num), len(fc)), -1, dtype=np.int64)
        fl2 = np.zeros((len(row_num), len(fc)), dtype=np.int64)
        st2[cell_row_idx[fi], fidx[fi]] = np.where(isf, np.where(has_s, sval, 0), -2)
        fl2[cell_row_idx[fi], fidx[fi]] = np.where(isf, nxt_vc - fbody, 0)
        sig_style, sig_flen = {c: st2[:, k] for k, c in enumerate(fc)}, {c: fl2[:, k] for k, c in enumerate(fc)}
        first_f = fi[fidx[fi] == 0]
        offset = np.full(len(row_num), -1, dtype=np.int64)
        offset[cell_row_idx[first_f]] = cs[first_f] - row_at[cell_row_idx[first_f]]
    else:
        offset = None

    # -- input values
    rows_of_cell = row_num[cell_row_idx]
    ilut = np.zeros(max(int(col.max()), max(inputs, default=0)) + 1, dtype=bool)
    ilut[list(inputs)] = True
    wanted = ilut[col] & (rows_of_cell >= first_row) & (rows_of_cell <= last_row)
    w = np.flatnonzero(wanted)
    data_rows = np.unique(rows_of_cell[w])
    values: dict[int, object] = {}
    if len(w):
        wq, wgt = q[w], gt[w]
        wb = wgt + 1
        # attributes after r: s then t (the order every writer uses); anything else -> Irregular
        p = wq + 1
        has_s = (a[p] == SPACE) & (a[p + 1] == 115) & (a[p + 2] == 61) & (a[p + 3] == QUOTE)
        _, sn = _digits(a, p + 4, 6)
        p = np.where(has_s, p + 4 + sn + 1, p)
        has_t = (a[p] == SPACE) & (a[p + 1] == 116) & (a[p + 2] == 61) & (a[p + 3] == QUOTE)
        t1, t2 = a[p + 4], a[p + 5]
        tlen = np.where(~has_t, 0, np.where((t1 == 115) & (t2 == QUOTE), 1, np.where(
            t1 == 115, 3, np.where(t1 == 105, 9, 1))))
        p = np.where(has_t, p + 4 + tlen + 1, p)
        wsc = a[wgt - 1] == SLASH
        if not (p == np.where(wsc, wgt - 1, wgt)).all():
            raise Irregular("cell attributes other than r, s, t")
        wt = np.where(~has_t, 110, t1)  # 'n' when absent
        wt = np.where(has_t & (t1 == 115) & (t2 == 116), 83, wt)  # 'S' = str (formula string)
        wn = a[wb + 1]
        empty = wsc | ((a[wb] == LT) & (wn == SLASH))
        if ((~empty) & (wn == 102)).any():
            raise Irregular("a formula in an input column")
        isv = (~empty) & (wn == 118) & (a[wb + 2] == GT)
        isis = (~empty) & (wn == 105)
        if ((~empty) & ~isv & ~isis).any():
            raise Irregular("cell content")
        err = (wt == 101) & ~empty
        if err.any():  # t="e": #N/A, #REF!, ... never read as text, blank or 0
            e = np.flatnonzero(err)
            raise BadCells([(int(rows_of_cell[w][i]), int(col[w][i]),
                             f"holds the error {_error_text(blob, int(wb[i]))}") for i in e[:40]])
        vstart = np.where(isv, wb + 3, 0)
        if isis.any():
            # <is><t>..</t></is> or <is><t xml:space="preserve">..; rich text (<r>) is Irregular
            tstart = wb + 4
            if (isis & ~((a[tstart] == LT) & (a[tstart + 1] == 116) &
                         ((a[tstart + 2] == GT) | (a[tstart + 2] == SPACE)))).any():
                raise Irregular("rich text")
            tgt = np.where(a[tstart + 2] == GT, tstart + 2, tstart + 23)
            odd = isis & (a[np.minimum(tgt, len(a) - 1)] != GT)
            if odd.any():  # other attributes on <t>: find its end
                gtp = np.flatnonzero(a == GT)
                tgt = np.where(odd, gtp[np.minimum(np.searchsorted(gtp, tstart), len(gtp) - 1)], tgt)
            vstart = np.where(isis, tgt + 1, vstart)
        if ((isis | isv) & (a[np.minimum(vstart, len(a) - 1)] == LT) & (a[np.minimum(vstart + 1, len(a) - 1)] == 33)).any():
            raise Irregular("CDATA")  # <t><![CDATA[...]]></t>: calamine reads it
        if tight:  # the value ends at the next "<" (values hold no "<"): </v> or </t>
            vend = _next_lt(lt, ci[w], isv, isis, last)
        else:
            vend = lt[np.minimum(np.searchsorted(lt, vstart), last)]
        vend = np.where(empty, vstart, vend)
        wcol = col[w]
        pos_of_row = np.searchsorted(data_rows, rows_of_cell[w])
        order = np.argsort(wcol, kind="stable")
        bounds = np.searchsorted(wcol[order], np.fromiter(inputs, dtype=np.int64))
        bounds_hi = np.searchsorted(wcol[order], np.fromiter(inputs, dtype=np.int64), side="right")
        for (c, kind), lo, hi in zip(inputs.items(), bounds, bounds_hi):
            m = order[lo:hi]
            try:
                values[c] = _column(blob, a, kind, m, pos_of_row, len(data_rows), vstart, vend, wt, empty, sst)
            except _NotFinite as nf:
                raise BadCells([(int(data_rows[p]), c, f"holds {t!r}, which is not a finite number")
                                for p, t in zip(nf.positions[:40], nf.texts)]) from None
    return Block(data_rows, values, row_num, sig_style, sig_flen, maxcol, offset, row_len)


def _column(blob: bytes, a: np.ndarray, kind: str, m: np.ndarray, pos: np.ndarray, n: int,
            vstart: np.ndarray, vend: np.ndarray, wt: np.ndarray, empty: np.ndarray, sst) -> object:
    """One input column's values for ``n`` rows (cells at ``m``)."""
    out = np.empty(n, dtype=object)
    out[:] = ""
    if not len(m):
        return out
    t = wt[m]
    e = empty[m]
    s0, s1 = vstart[m], vend[m]
    target = pos[m]
    numeric = (t == 110) & ~e  # numbers
    shared = (t == 115) & ~e
    texty = ((t == 105) | (t == 83) | (t == 100) | (t == 101)) & ~e
    boolean = (t == 98) & ~e
    if numeric.any():
        nums = _floats(a, s0[numeric], s1[numeric])
        if not np.isfinite(nums).all():  # <v>NaN</v>, <v>1e400</v>: not a number a spreadsheet can hold
            k = np.flatnonzero(~np.isfinite(nums))
            raise _NotFinite(target[numeric][k], [bytes(a[i:j]).decode("utf-8", "replace")
                                                  for i, j in zip(s0[numeric][k], s1[numeric][k])])
        if kind in ("amount", "date") and not (shared.any() or texty.any() or boolean.any()):
            f = np.full(n, np.nan)
            f[target[numeric]] = nums
            return f
        out[target[numeric]] = nums.tolist()
    if shared.any():
        idx = _floats(a, s0[shared], s1[shared]).astype(np.int64)
        table = np.asarray(sst() if callable(sst) else sst, dtype=object)
        if len(idx) and (idx.max() >= len(table) or idx.min() < 0):
            raise Irregular("shared string index")
        out[target[shared]] = table[idx]
    if texty.any():
        texts, raw = _texts(a, s0[texty], s1[texty])
        if b"&" in raw or b"_x" in raw:
            texts = [_unescape(x) if ("&" in x or "_x" in x) else x for x in texts]
        out[target[texty]] = texts
    if boolean.any():
        out[target[boolean]] = [bool(int(blob[i:j] or b"0")) for i, j in zip(s0[boolean].tolist(),
                                                                             s1[boolean].tolist())]
    return out


class _NotFinite(Exception):
    def __init__(self, positions: np.ndarray, texts: list[str]):
        self.positions, self.texts = positions, texts


def _texts(a: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> tuple[list[str], bytes]:
    """The UTF-8 texts at ``a[s0:s1]``, gathered into one buffer (NUL-separated) and decoded at once
    (and the buffer)."""
    lens = (s1 - s0).astype(np.int64)
    total = int(lens.sum())
    n = len(lens)
    buf = np.zeros(total + n, dtype=np.uint8)
    if total:
        out_start = np.cumsum(lens + 1) - (lens + 1)
        k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
        buf[np.repeat(out_start, lens) + k] = a[np.repeat(s0, lens) + k]
    raw = buf.tobytes()
    return raw.decode("utf-8").split("\x00")[:n], raw


def _floats(a: np.ndarray, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """Numbers written at ``a[s0:s1]`` (each under 40 bytes), parsed in bulk."""
    if not len(s0):
        return np.zeros(0)
    lens = s1 - s0
    width = int(lens.max()) if len(lens) else 1
    if width > 40 or width <= 0:
        raise Irregular("number")
    idx = s0[:, None] + np.arange(width)[None, :]
    raw = a[idx]
    raw = np.where(np.arange(width)[None, :] < lens[:, None], raw, 0).astype(np.uint8)
    out, done = _decimals(raw)
    if not done.all():
        try:
            out[~done] = np.ascontiguousarray(raw[~done]).view(f"S{width}").ravel().astype(np.float64)
        except ValueError:
            raise Irregular("number") from None
    return out


def _decimals(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals (``-12.50``, ``46307``) of a NUL-padded byte matrix, and which rows were plain.

    Digits are gathered into an integer mantissa and divided by a power of ten: exact
    and correctly rounded (as ``float()``) while the mantissa is below 2**53 and
    there are at most 22 decimals, the fast path of every ``strtod``. Other rows
    (exponents, very long numbers) are left to the caller.

    >>> rows = [b"-12.50", b"46307", b"1e3", b"0.1"]
    >>> raw = np.array([list(r.ljust(8, bytes(1))) for r in rows], dtype=np.uint8)
    >>> v, ok = _decimals(raw)
    >>> v[ok].tolist(), ok.tolist()
    ([-12.5, 46307.0, 0.1], [True, True, False, True])
    """
    n, width = raw.shape
    mant = np.zeros(n, dtype=np.int64)
    frac = np.zeros(n, dtype=np.int64)
    digits = np.zeros(n, dtype=np.int64)
    dot = np.zeros(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    neg = raw[:, 0] == 45
    for k in range(width):
        ch = raw[:, k]
        d = ch.astype(np.int64) - 48
        isd = (d >= 0) & (d <= 9)
        if k == 0:
            ok &= isd | neg | (ch == 46)
        else:
            ok &= isd | (ch == 0) | ((ch == 46) & ~dot)
        dot |= ch == 46
        mant = np.where(isd, mant * 10 + d, mant)
        digits += isd
        frac += isd & dot
    ok &= (digits > 0) & (digits <= 15) & (frac <= 22)
    val = mant.astype(np.float64) / np.power(10.0, np.minimum(frac, 22))
    return np.where(neg, -val, val), ok


def _error_text(blob: bytes, body: int) -> str:
    """The error value written in a ``t="e"`` cell whose content starts at ``body`` (``#N/A`` etc.)."""
    m = re.match(rb"(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]{0,40})</v>", blob[body:body + 4096])
    return m.group(1).decode("utf-8", "replace") if m else "(an error value)"


def repeated_rows(row_num: np.ndarray) -> list[tuple[int, int, str]]:
    """Rows that repeat or go backwards in sheet order (two ``<row r="7">``): (row, 0, message)."""
    k = np.flatnonzero(np.diff(row_num) <= 0) + 1
    return [(int(row_num[i]), 0, f"the row appears twice or out of order (after row {int(row_num[i - 1])}); "
                                 "the file is damaged") for i in k[:40]]


_HAZARD_ERR = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"[^>]*?\bt="e"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?'
                         rb'(?:<v>([^<]{0,40})</v>)?')
_ODD_NUMBER = re.compile(rb"<v>[^<]*(?:[nNiI]|[eE]\+?[0-9]{3})")  # NaN, inf, 1e400: worth a closer look
_HAZARD_ROW = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"')


def hazards(blob: bytes, input_cols: set[int], first_row: int = 1, last_row: int = 1 << 30) -> list[tuple[int, int, str]]:
    """What another reader (calamine) would silently read as blank, in the input columns of whole ``<row>``
    elements: error cells, formulas with no saved value, rows that appear twice. (row, column, message)."""
    out: list[tuple[int, int, str]] = []
    rows = np.array([int(x) for x in _HAZARD_ROW.findall(blob)], dtype=np.int64)
    if len(rows) > 1 and (np.diff(rows) <= 0).any():
        out += repeated_rows(rows)
    if b't="e"' in blob:
        for m in _HAZARD_ERR.finditer(blob):
            c, r = col_index(m.group(1).decode()), int(m.group(2))
            if c in input_cols and first_row <= r <= last_row:
                out.append((r, c, f"holds the error {(m.group(3) or b'(an error value)').decode('utf-8', 'replace')}"))
    letters = b"|".join(sorted((col_letters(c).encode() for c in input_cols), key=len, reverse=True))
    if input_cols and _ODD_NUMBER.search(blob):
        pat = re.compile(rb'<c r="(' + letters + rb')([0-9]+)"(?![^>]*\bt=)[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?'
                         rb'<v>([^<]{0,60})</v>')
        for m in pat.finditer(blob):
            r, text = int(m.group(2)), m.group(3).decode("utf-8", "replace")
            try:
                finite = np.isfinite(float(text))
            except ValueError:
                finite = False
            if not finite and first_row <= r <= last_row:
                out.append((r, col_index(m.group(1).decode()), f"holds {text!r}, which is not a finite number"))
    if b"<f" in blob and input_cols:
        pat = re.compile(rb'<c r="(' + letters + rb')([0-9]+)"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)'
                         rb'(?:<v/>|<v></v>)?</c>')
        for m in pat.finditer(blob):
            r = int(m.group(2))
            if first_row <= r <= last_row:
                out.append((r, col_index(m.group(1).decode()), "holds a formula with no saved value (the file was not "
                                                        "saved by a spreadsheet that calculates); open it in Excel, "
                                                        "save, and try again"))
    return out


_SI = re.compile(rb"<si>(.*?)</si>", re.S)
_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.S)
_T = re.compile(rb"<t\b[^>]*>(.*?)</t>", re.S)


def shared_strings(xml: bytes) -> list[str]:
    """The shared-string table (rich text runs joined; phonetic runs dropped)."""
    out = []
    for si in _SI.findall(xml):
        if si.startswith(b"<t>") and si.endswith(b"</t>") and b"<" not in si[3:-4]:
            text = si[3:-4].decode("utf-8")
        else:
            si = re.sub(rb"<rPh\b.*?</rPh>", b"", si, flags=re.S)
            if b"<![CDATA[" in si:  # CDATA is text as it stands: escape it so that the unescape below keeps it
                si = _CDATA.sub(lambda m: m.group(1).replace(b"&", b"&amp;").replace(b"<", b"&lt;")
                                .replace(b">", b"&gt;"), si)
            text = "".join(m.decode("utf-8") for m in _T.findall(si))
        out.append(_unescape(text) if ("&" in text or "_x" in text) else text)
    return out
