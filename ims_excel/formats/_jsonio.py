"""Safe JSON in, faithful JSON out.

Reading refuses, before parsing, a file over :data:`MAX_FILE_BYTES` and a
document nested deeper than :data:`MAX_DEPTH` (the bracket depth is counted
in the raw bytes, outside strings, chunk by chunk with numpy). ``NaN`` and
``Infinity`` are refused too: they are not JSON.

Numbers with a fraction are parsed as :class:`JsonNumber`, a ``float`` that
remembers the text it was written with, and :func:`dumps` writes that text
back. So a record sent back to the portal carries ``1000.10`` if the portal
sent ``1000.10`` (plain ``json`` would write ``1000.1``).

>>> obj = loads_checked(b'{"val": 1000.10, "n": 7, "s": "000123"}', "x.json")
>>> dumps(obj)
'{"val":1000.10,"n":7,"s":"000123"}'
>>> obj["val"] + 1
1001.1
>>> json_depth(b'{"a": [[1], "]]]]"]}')
3
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.formats._common import check_size, file_problem

MAX_DEPTH = 20
"""Deepest nesting accepted. A GSTR-2B needs 11 (data.docdata.itcrev[].b2b[].inv[].items[])."""

_CHUNK = 1 << 22


class JsonNumber(float):
    """A float that keeps its JSON spelling (``text``)."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> "JsonNumber":
        self = float.__new__(cls, text)
        self.text = text
        return self

    @classmethod
    def money(cls, value: float) -> "JsonNumber":
        """An amount written with exactly two decimals."""
        return cls(f"{value:.2f}")


def parse_float(text: str, _new=float.__new__, _cls=JsonNumber) -> JsonNumber:
    """``parse_float`` hook: the fast way to make a :class:`JsonNumber` (no Python ``__new__``)."""
    number = _new(_cls, text)
    number.text = text
    return number


_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[[0x22, 0x5B, 0x5D, 0x7B, 0x7D]] = True


def json_depth(data: bytes) -> int:
    """Deepest ``{``/``[`` nesting of a JSON text, brackets inside strings ignored."""
    # Drop escaped backslashes, then escaped quotes: every quote left opens or closes a string.
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    depth, deepest, inside = 0, 0, 0
    for start in range(0, len(data), _CHUNK):
        arr = np.frombuffer(data, dtype=np.uint8, count=min(_CHUNK, len(data) - start), offset=start)
        sel = arr[_STRUCTURAL[arr]]  # quotes and brackets only, in order
        if not len(sel):
            continue
        quotes = sel == 0x22
        parity = (np.cumsum(quotes, dtype=np.int32) + inside) & 1
        outside = (parity == 0) & ~quotes
        step = (((sel == 0x7B) | (sel == 0x5B)).astype(np.int8)
                - ((sel == 0x7D) | (sel == 0x5D)).astype(np.int8)) * outside
        if step.any():
            levels = np.cumsum(step, dtype=np.int64) + depth
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        inside = int(parity[-1])
    return deepest


def refuse_constant(name: str) -> None:
    """``parse_constant`` hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not allowed in JSON")


def loads_checked(data: bytes, file: str, max_depth: int = MAX_DEPTH) -> object:
    """Parse JSON bytes (UTF-8, BOM tolerated) or raise :class:`InputError` naming ``file``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM (Notepad's "Unicode")
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise file_problem(file, f"is not UTF-16 text (byte {exc.start})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if len(data) >= 4 and b"\0" in data[:4]:  # UTF-16 without a BOM: JSON starts with ASCII, so every other byte is 0
        encoding = "utf-16-le" if data[1:4:2] == b"\0\0" else "utf-16-be" if data[0:3:2] == b"\0\0" else ""
        try:
            data = data.decode(encoding).encode("utf-8") if encoding else data
        except UnicodeDecodeError as exc:
            raise file_problem(file, f"is not UTF-16 text (byte {exc.start})") from None
    if data[:64].lstrip()[:1] not in (b"{", b"["):
        raise file_problem(file, "is not JSON (it does not start with '{')")
    depth = json_depth(data)
    if depth > max_depth:
        raise file_problem(file, f"is nested {depth} levels deep; more than {max_depth} is refused")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise file_problem(file, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        obj = json.loads(text, parse_float=parse_float, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise file_problem(file, f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise file_problem(file, f"is not JSON: {exc}") from None
    _refuse_lone_surrogates(text, obj, file)
    return obj


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _refuse_lone_surrogates(text: str, obj: object, file: str) -> None:
    """A ``\\uD800``-``\\uDFFF`` escape that is not half of a pair parses to a lone surrogate: not a character,
    it cannot be written to a workbook (UTF-8) and would crash the save. Refused, naming where (issue 14)."""
    if not SURROGATE_ESCAPE.search(text):
        return
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        m = SURROGATE_ESCAPE.search(SURROGATE_PAIR.sub(lambda p: " " * len(p.group(0)), text))
        where = ""
        if m:
            line = text.count("\n", 0, m.start()) + 1
            where = f" ({m.group(0)} at line {line} column {m.start() - text.rfind(chr(10), 0, m.start())})"
        raise file_problem(file, f"holds a lone surrogate{where}: half of a UTF-16 pair, not a character; the "
                                 "file is damaged: download it again") from None


def read_json(path: str | Path, max_bytes: int | None = None, max_depth: int | None = None) -> object:
    """Read and parse a JSON file whole with the size and depth limits (about 6 bytes of memory per
    byte of JSON: the readers stream, see :mod:`._jsonstream`)."""
    path = Path(path)
    check_size(path, max_bytes)
    return loads_checked(path.read_bytes(), str(path), MAX_DEPTH if max_depth is None else max_depth)


# ---------------------------------------------------------------- writing

_enc = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


class _Raw:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_MARK = re.compile(r'"\\u0000([-+0-9.eE]+)\\u0000"')


def dumps(value: object) -> str:
    """Compact JSON; :class:`JsonNumber` values keep their original spelling."""
    count = [0]

    def prep(v: object) -> object:
        t = type(v)
        if t is JsonNumber:
            count[0] += 1
            return _Raw(v.text)
        if t is dict:
            return {k: prep(x) for k, x in v.items()}
        if t is list or t is tuple:
            return [prep(x) for x in v]
        return v

    def default(o: object) -> object:
        if isinstance(o, _Raw):
            return f"\x00{o.text}\x00"
        if isinstance(o, (np.integer, np.floating, np.bool_)):
            return o.item()
        if isinstance(o, JsonNumber):
            count[0] += 1
            return f"\x00{o.text}\x00"
        raise TypeError(f"{type(o).__name__} cannot be written to JSON")

    text = json.dumps(prep(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=default)
    out, n = _MARK.subn(r"\1", text)
    if n == count[0]:
        return out
    parts: list[str] = []  # a string held the marker pattern: take the slow, exact way
    _write(value, parts.append)
    return "".join(parts)


def _write(value: object, out) -> None:
    if isinstance(value, JsonNumber):
        out(value.text)
    elif isinstance(value, dict):
        out("{")
        first = True
        for k, v in value.items():
            if not first:
                out(",")
            first = False
            out(_enc(str(k)))
            out(":")
            _write(v, out)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for i, v in enumerate(value):
            if i:
                out(",")
            _write(v, out)
        out("]")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("cannot write NaN or infinity to JSON")
        out(_enc(float(value)))
    elif isinstance(value, (np.integer, np.floating)):
        _write(value.item(), out)
    else:
        out(_enc(value))


__all__ = ["MAX_DEPTH", "JsonNumber", "json_depth", "loads_checked", "read_json", "read_whole_with", "dumps",
           "check_size", "parse_float", "refuse_constant", "SURROGATE_ESCAPE", "SURROGATE_PAIR"]


def read_whole_with(parse, path: str | os.PathLike) -> pd.DataFrame:
    """Read a JSON file whole (:func:`read_json`, ``json.loads``) and ``parse`` it into the raw frame.

    The readers stream instead (:func:`ims_excel.formats._jsonstream.read_with`); this is the way they
    read before, kept for ``benchmarks/bench_json_memory.py`` and the tests that compare the two."""
    path = Path(path)
    raw = parse(read_json(path), str(path))
    raw.attrs["file"] = str(path)
    return raw
