"""JSON files read streamed: the document's frame first, its big arrays a batch of records at a time.

Issue 14 ("memory is bounded by what a part can become ... stream where the format allows"): parsing a
74 MB IMS JSON whole with :func:`json.loads` builds a dict per record, its text twice (bytes and ``str``)
and only then the columns. Here a file is read in two passes, neither holding more than a few MB of it:

1. **Scan** (:class:`JsonDocument`): the bytes are read 1 MB at a time and their structure found with
   numpy (quotes, brackets, braces and commas outside strings; escaped quotes by the parity of the
   backslashes before them). This refuses a document nested deeper than ``MAX_DEPTH``, a file that ends
   inside a string or an open bracket (truncated), and unbalanced brackets, naming line and column.
   Every *outermost* array (one with no array above it: the IMS sections, GSTR-2B's ``docdata.b2b``,
   a root array) is cut out and replaced by a placeholder; what is left, the *frame* (envelopes, keys,
   scalars), is small and parsed with :mod:`json`. Each cut-out array is kept as a :class:`JsonArray`:
   its byte range and a cut point (an element-separating comma) every ``BATCH_BYTES``.
2. **Read** (:meth:`JsonArray.batches`): a reader walks the frame like any parsed JSON and iterates a
   section's batches, each a list of decoded records (and, if asked, each record's JSON text), turns a
   batch into columns and lets it go. Peak memory is the output columns plus one batch.

The frame and every batch are parsed by :mod:`json` itself, with the hooks of :mod:`._jsonio` (numbers
keep their spelling, ``NaN``/``Infinity`` refused), so a file is accepted exactly when ``json.loads``
would accept it: the frame with its placeholders and each array's text are each valid JSON, and
together they are the file. Arrays a reader never asks for are checked too (:meth:`JsonDocument.check_unread`).
A JSON error names the file, the array element (``imsDetails.b2b[1234]``) and the line and column.

UTF-8 (a BOM tolerated) is read from the file; UTF-16 (Notepad's "Unicode", with or without a BOM) is
converted to UTF-8 in memory first (two bytes per character: the 512 MB input limit bounds it).

>>> import os, tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = os.path.join(tmp, "x.json")
...     with open(path, "w") as fh:
...         _ = fh.write('{"imsDetails": {"b2b": [{"inum": "1", "val": 1.10}, {"inum": "2"}], "b2ba": []}}')
...     doc = JsonDocument(path)
...     array = doc.root["imsDetails"]["b2b"]
...     [(first, items, texts) for first, items, texts in array.batches(texts=True)]
[(0, [{'inum': '1', 'val': 1.1}, {'inum': '2'}], ['{"inum": "1", "val": 1.10}', '{"inum": "2"}'])]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

import pandas as pd

from ims_excel.formats._common import JsonProblem, check_size, file_problem
from ims_excel.formats._jsonio import MAX_DEPTH, SURROGATE_ESCAPE, SURROGATE_PAIR, parse_float, refuse_constant
from ims_excel.normalise import InputError

SCAN_BYTES = 1 << 20
"""Bytes read (and scanned) at a time."""

BATCH_BYTES = 4 << 20
"""About how much of an array is decoded at a time (a batch ends at the first record boundary after it)."""

_DECODER = json.JSONDecoder(parse_float=parse_float, parse_constant=refuse_constant)

# Byte classes: 1 quote, 2 '[', 3 ']', 4 '{', 5 '}', 6 ','.
_KIND = np.zeros(256, dtype=np.int8)
_KIND[[0x22, 0x5B, 0x5D, 0x7B, 0x7D, 0x2C]] = [1, 2, 3, 4, 5, 6]
_STEP = np.array([0, 0, 1, -1, 1, -1, 0], dtype=np.int64)  # nesting depth
_ASTEP = np.array([0, 0, 1, -1, 0, 0, 0], dtype=np.int64)  # array depth


class _Unbalanced(Exception):
    def __init__(self, offset: int, char: str):
        super().__init__(char)
        self.offset, self.char = offset, char


class _Scanner:
    """The structure of a JSON text fed in chunks: for every bracket, brace and comma outside strings, its
    offset, kind, the nesting depth after it and the array depth after it."""

    def __init__(self) -> None:
        self.offset = 0     # bytes fed so far
        self.depth = 0      # open { and [
        self.arrays = 0     # open [
        self.inside = 0     # 1 inside a string
        self.backslash = 0  # 1 when the bytes fed end in an odd run of backslashes
        self.deepest = 0

    def feed(self, chunk: bytes, strict: bool = True) -> tuple[np.ndarray, ...]:
        arr = np.frombuffer(chunk, dtype=np.uint8)
        n = len(arr)
        sel = np.flatnonzero(_KIND[arr])
        codes = _KIND[arr[sel]]
        slash = arr == 0x5C
        if self.backslash or slash.any():
            # A quote after an odd run of backslashes is escaped: it neither opens nor closes a string.
            last = np.maximum.accumulate(np.where(slash, -1, np.arange(n)))
            is_q = np.flatnonzero(codes == 1)
            q = sel[is_q]
            before = np.concatenate(([-1], last))[q]  # last non-backslash before each quote
            run = q - 1 - before + np.where(before < 0, self.backslash, 0)
            keep = np.ones(len(sel), dtype=bool)
            keep[is_q[(run & 1) == 1]] = False
            sel, codes = sel[keep], codes[keep]
            tail = n - 1 - int(last[-1]) if n else 0
            self.backslash = (tail + (self.backslash if n == 0 or last[-1] < 0 else 0)) & 1
        quotes = codes == 1
        parity = (np.cumsum(quotes, dtype=np.int64) + self.inside) & 1
        outside = (parity == 0) & ~quotes
        if len(parity):
            self.inside = int(parity[-1])
        pos, codes = sel[outside], codes[outside]
        level = np.cumsum(_STEP[codes]) + self.depth
        alevel = np.cumsum(_ASTEP[codes]) + self.arrays
        if len(level):
            if strict and (level.min() < 0 or alevel.min() < 0):
                bad = int(np.flatnonzero((level < 0) | (alevel < 0))[0])
                raise _Unbalanced(self.offset + int(pos[bad]), chr(chunk[int(pos[bad])]))
            self.deepest = max(self.deepest, int(level.max()))
            self.depth, self.arrays = int(level[-1]), int(alevel[-1])
        base = self.offset
        self.offset += n
        return pos + base, codes, level, alevel


def lone_surrogate(text: str, value: object) -> int | None:
    """Where (a character of ``text``; -1 if not found) a ``\\uD800``-``\\uDFFF`` escape that is not half of a
    pair is, when ``value`` (``text`` parsed) holds such a lone surrogate; else None. Not a character, it
    cannot be written to a workbook (UTF-8) and would crash the save (issue 14)."""
    if not SURROGATE_ESCAPE.search(text):
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return None
    except UnicodeEncodeError:
        m = SURROGATE_ESCAPE.search(SURROGATE_PAIR.sub(lambda p: " " * len(p.group(0)), text))
        return m.start() if m else -1


def element_spans(region: bytes) -> list[tuple[int, int]]:
    """(start, end) of each element of an array's inner text ``region`` (between ``[`` and ``]``)."""
    scan = _Scanner()
    pos, codes, level, alevel = scan.feed(region, strict=False)
    commas = pos[(codes == 6) & (level == 0)].tolist()
    bounds = [-1, *commas, len(region)]
    return [(a + 1, b) for a, b in zip(bounds, bounds[1:])]


class JsonArray:
    """An outermost array of a :class:`JsonDocument`, decoded when iterated (:meth:`batches`).

    ``path``: where it is (``imsDetails.b2b``). ``len()`` is not known before it is read."""

    __slots__ = ("doc", "start", "end", "cuts", "path", "read")

    def __init__(self, doc: "JsonDocument", start: int):
        self.doc, self.start, self.end, self.cuts, self.path, self.read = doc, start, -1, [], None, False

    def __repr__(self) -> str:
        return f"JsonArray({self.path or '<root>'}, bytes {self.start}-{self.end})"

    def batches(self, texts: bool = False) -> Iterator[tuple[int, list, list[str] | None]]:
        """(index of the batch's first element, the decoded elements, their JSON texts if ``texts``)."""
        self.read = True
        first = 0
        for k in range(len(self.cuts) + 1):
            out = self.batch(k, first, texts)
            yield out
            first += len(out[1])

    def batch(self, k: int, first: int, texts: bool = False) -> tuple[int, list, list[str] | None]:
        """Batch ``k`` (its first element being number ``first``) again: see :meth:`batches`."""
        bounds = [self.start - 1, *self.cuts, self.end]
        a, b = bounds[k] + 1, bounds[k + 1]
        region = self.doc.read(a, b)
        items, text = self._decode(region, a, first)
        lone = lone_surrogate(text, items)
        if lone is not None:
            at = a + len(text[:lone].encode("utf-8")) if lone >= 0 else None
            raise self.doc.surrogate(self._where(region, at - a, first) if at is not None else self.path,
                                     text[lone:lone + 6] if lone >= 0 else "", at)
        if not texts:
            return first, items, None
        if not items:
            return first, items, []
        if len(text) != len(region):  # not ASCII: slice the bytes
            return first, items, [region[s:e].strip().decode("utf-8") for s, e in element_spans(region)]
        return first, items, [text[s:e].strip() for s, e in element_spans(region)]

    def _where(self, region: bytes, at: int, first: int) -> str:
        """The path of the element byte ``at`` of a batch (``region``, its first element number ``first``) is in."""
        return f"{self.path}[{first + len(element_spans(region[:at])) - 1}]"

    def _decode(self, region: bytes, offset: int, first: int) -> tuple[list, str]:
        """The elements of a batch (``region`` at byte ``offset``, its first element number ``first``) and its
        text, or the problem named as :func:`json.loads` names it, with the element it is in."""

        def where(at: int) -> str:
            return self._where(region, at, first)

        try:
            text = region.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.doc.problem(where(exc.start), f"is not UTF-8 text (byte {offset + exc.start})", None) from None
        try:
            return _DECODER.decode("[" + text + "]"), text
        except json.JSONDecodeError as exc:
            at = min(len(region), max(0, len(("[" + text)[:exc.pos].encode("utf-8")) - 1))
            raise self.doc.problem(where(at), f"is not JSON: {exc.msg}", offset + at) from None
        except (ValueError, RecursionError) as exc:  # NaN or Infinity: find the element, one at a time
            for i, (s, e) in enumerate(element_spans(region)):
                piece = region[s:e]
                try:
                    _DECODER.decode(piece.decode("utf-8"))
                except (ValueError, RecursionError):
                    raise self.doc.problem(f"{self.path}[{first + i}]", f"is not JSON: {exc}",
                                           offset + s + len(piece) - len(piece.lstrip())) from None
            raise self.doc.problem(self.path, f"is not JSON: {exc}", offset) from None


def is_array(value: object) -> bool:
    """A JSON array: a list, or a :class:`JsonArray` not read yet."""
    return isinstance(value, (list, JsonArray))


def kind(value: object) -> str:
    """The Python type name of a JSON value, as the messages say it (``list`` for a :class:`JsonArray`)."""
    return "list" if isinstance(value, JsonArray) else type(value).__name__


def batches(value: list | JsonArray, texts: bool = False) -> Iterator[tuple[int, list, list[str] | None]]:
    """:meth:`JsonArray.batches`, or one batch of an in-memory list (texts: None, the records are their own)."""
    if isinstance(value, JsonArray):
        yield from value.batches(texts)
    else:
        yield 0, value, None


def elements(value: list | JsonArray) -> Iterator[tuple[int, object]]:
    """(index, element) of an array, in memory or not."""
    for first, items, _ in batches(value):
        for i, item in enumerate(items):
            yield first + i, item


class JsonDocument:
    """A JSON file scanned (see the module doc): ``root`` is its frame, outermost arrays as :class:`JsonArray`."""

    def __init__(self, path: str | os.PathLike, max_depth: int = MAX_DEPTH):
        self.path = Path(path)
        self.file = str(path)
        self.data: bytes | None = None  # the whole text, when it had to be converted (UTF-16)
        self.base = 0
        with open(self.path, "rb") as fh:
            st = os.fstat(fh.fileno())
            self.stamp = (st.st_size, st.st_mtime_ns)
            head = fh.read(4)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 4 and b"\0" in head):
                self.data = self._utf16(head + fh.read())
            elif head.startswith(b"\xef\xbb\xbf"):
                self.base = 3
        self.arrays: list[JsonArray] = []
        self.root = self._scan(max_depth)

    # ------------------------------------------------------------ bytes

    def _utf16(self, data: bytes) -> bytes:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM (Notepad's "Unicode")
            encoding = "utf-16"
        else:  # without a BOM: JSON starts with ASCII, so every other byte is 0
            encoding = "utf-16-le" if data[1:4:2] == b"\0\0" else "utf-16-be" if data[0:3:2] == b"\0\0" else ""
        if not encoding:
            return data
        try:
            return data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise file_problem(self.file, f"is not UTF-16 text (byte {exc.start})") from None

    def read(self, a: int, b: int) -> bytes:
        """Bytes ``a``..``b`` of the UTF-8 text (after a BOM)."""
        if self.data is not None:
            return self.data[a:b]
        with open(self.path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if (st.st_size, st.st_mtime_ns) != self.stamp:
                raise file_problem(self.file, "changed while it was being read; read it again")
            fh.seek(self.base + a)
            return fh.read(max(0, b - a))

    def _chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            for a in range(0, len(self.data), SCAN_BYTES):
                yield self.data[a:a + SCAN_BYTES]
            return
        with open(self.path, "rb") as fh:
            fh.seek(self.base)
            while chunk := fh.read(SCAN_BYTES):
                yield chunk

    def locate(self, offset: int) -> tuple[int, int]:
        """(line, column) of a byte offset, as :mod:`json` counts them (1-based, column in characters)."""
        line, start = 1, 0
        for a in range(0, offset, SCAN_BYTES):
            chunk = self.read(a, min(a + SCAN_BYTES, offset))
            line += chunk.count(b"\n")
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                start = a + nl + 1
        return line, len(self.read(start, offset).decode("utf-8", "replace")) + 1

    def surrogate(self, path: str, escape: str, offset: int | None) -> InputError:
        """The problem of a lone surrogate (:func:`lone_surrogate`) at byte ``offset``."""
        where = ""
        if offset is not None:
            line, col = self.locate(offset)
            where = f" ({escape} at line {line} column {col})"
        return InputError([JsonProblem(self.file, None, None, f"holds a lone surrogate{where}: half of a UTF-16 "
                                       "pair, not a character; the file is damaged: download it again", None, path)])

    def problem(self, path: str, message: str, offset: int | None) -> InputError:
        """An :class:`InputError` naming the file, the place (``path``) and the line and column of ``offset``."""
        if offset is not None:
            line, col = self.locate(offset)
            message = f"{message} at line {line} column {col}"
        return InputError([JsonProblem(self.file, None, None, message, None, path)])

    # ------------------------------------------------------------ scan

    def _scan(self, max_depth: int) -> object:
        scan = _Scanner()
        frame: list[bytes] = []   # the text outside outermost arrays, with placeholders
        places: list[tuple[int, int]] = []  # (frame offset, file offset) of each piece of the frame
        framed = 0
        current: JsonArray | None = None
        current_level = last_cut = -1
        first = True
        for chunk in self._chunks():
            if first:
                if chunk[:64].lstrip()[:1] not in (b"{", b"["):
                    raise file_problem(self.file, "is not JSON (it does not start with '{')")
                first = False
            base = scan.offset
            try:
                pos, codes, level, alevel = scan.feed(chunk)
            except _Unbalanced as bad:
                if scan.deepest > max_depth:
                    break
                raise self.problem("", f"is not JSON: '{bad.char}' closes nothing", bad.offset) from None
            opens = (codes == 2) & (alevel == 1)
            closes = (codes == 3) & (alevel == 0)
            commas = (codes == 6) & (alevel == 1)
            events = np.flatnonzero(opens | closes | commas)
            ev_pos, ev_codes, ev_level = pos[events], codes[events], level[events]
            # Elements are separated by the commas at the depth just after their array's '[' (the depth
            # of the last '[' before them, or of the array still open from the chunk before).
            is_open = ev_codes == 2
            owner = np.maximum.accumulate(np.where(is_open, np.arange(len(events)), -1))
            open_level = np.where(owner >= 0, ev_level[np.maximum(owner, 0)], current_level)
            element = (ev_codes == 6) & (ev_level == open_level)
            # Of a run of element commas only the last can be a cut: at most one cut per chunk and array.
            last_of_run = element & ~np.concatenate((element[1:], [False]))
            keep = is_open | (ev_codes == 3) | last_of_run
            cursor = base if current is None else -1
            for p, c, lv in zip(ev_pos[keep].tolist(), ev_codes[keep].tolist(), ev_level[keep].tolist()):
                if c == 2:  # an outermost array opens: the frame gets a placeholder
                    piece = chunk[cursor - base:p - base]
                    marker = b"[%d]" % len(self.arrays)
                    places.extend(((framed, cursor), (framed + len(piece), p)))
                    frame.extend((piece, marker))
                    framed += len(piece) + len(marker)
                    current, current_level, last_cut = JsonArray(self, p + 1), lv, p
                    self.arrays.append(current)
                elif c == 3:  # and closes
                    current.end = p
                    current, cursor, current_level = None, p + 1, -1
                elif p - last_cut >= BATCH_BYTES:  # a comma between two elements: a batch ends here
                    current.cuts.append(p)
                    last_cut = p
            if current is None:
                piece = chunk[cursor - base:]
                places.append((framed, cursor))
                frame.append(piece)
                framed += len(piece)
        if first:
            raise file_problem(self.file, "is not JSON (it does not start with '{')")
        if scan.deepest > max_depth:
            raise file_problem(self.file, f"is nested {scan.deepest} levels deep; more than {max_depth} is refused")
        if scan.inside or scan.depth:
            what = ("inside a string" if scan.inside
                    else f"with {scan.depth} bracket{'s' if scan.depth > 1 else ''} not closed")
            raise self.problem("", f"is not JSON: the file ends {what} (truncated?)", scan.offset)
        if current is not None:  # e.g. '[}': the depth is back to 0, the array is not closed
            raise self.problem("", "is not JSON: this '[' is never closed", current.start - 1)
        return self._frame(b"".join(frame), places)

    def _frame(self, text: bytes, places: list[tuple[int, int]]) -> object:
        starts = np.array([f for f, _ in places], dtype=np.int64)

        def file_offset(frame_offset: int) -> int:
            i = max(0, int(np.searchsorted(starts, frame_offset, side="right")) - 1)
            return places[i][1] + (frame_offset - places[i][0]) if places else frame_offset

        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise file_problem(self.file, f"is not UTF-8 text (byte {file_offset(exc.start)})") from None
        try:
            root = _DECODER.decode(decoded)
        except json.JSONDecodeError as exc:
            at = file_offset(len(decoded[:exc.pos].encode("utf-8")))
            raise self.problem("", f"is not JSON: {exc.msg}", at) from None
        except (ValueError, RecursionError) as exc:
            raise file_problem(self.file, f"is not JSON: {exc}") from None
        lone = lone_surrogate(decoded, root)
        if lone is not None:
            raise self.surrogate("", decoded[lone:lone + 6] if lone >= 0 else "",
                                 file_offset(len(decoded[:lone].encode("utf-8"))) if lone >= 0 else None)
        return self._attach(root, "")

    def _attach(self, value: object, path: str) -> object:
        """The frame with each placeholder ``[k]`` replaced by its :class:`JsonArray`, which learns its path."""
        if type(value) is dict:
            for k, v in value.items():
                if type(v) in (dict, list):
                    value[k] = self._attach(v, f"{path}.{k}" if path else str(k))
            return value
        if type(value) is list and len(value) == 1 and type(value[0]) is int and 0 <= value[0] < len(self.arrays):
            array = self.arrays[value[0]]
            if array.path is None:
                array.path = path
                return array
        raise file_problem(self.file, "is not JSON: its structure could not be read")  # never for valid JSON

    def check_unread(self) -> None:
        """Decode the arrays no reader asked for, so a file is refused whatever part of it is not JSON."""
        for array in self.arrays:
            if not array.read:
                if array.path is None:  # a duplicate key's: json keeps the last value, the file must still parse
                    array.path = ""
                for _ in array.batches():
                    pass

    def parse_with(self, parse, file: str | None = None):
        """``parse(root, file)``, then :meth:`check_unread`. If ``parse`` refuses the records, a part of the
        file that is not JSON is named instead (as parsing the file whole would have)."""
        try:
            out = parse(self.root, file or self.file)
        except InputError:
            self.check_unread()
            raise
        self.check_unread()
        return out


def share_repeats(frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy of ``frame`` that holds only its own values, equal texts once.

    A reader's columns can be views (copy-on-write) of the frame it made from a batch's records, which
    holds every value of every record: copying the columns (pointers, not objects) lets those go. A text
    column (all ``str``, none missing) whose values repeat (a supplier's GSTIN and name, a date, a return
    period) then points at one object per distinct value. Same values, same dtypes. Vectorised (factorize)."""
    frame = frame.copy(deep=True)
    for name in frame.columns:
        col = frame[name]
        if name in skip or not (col.dtype == object or pd.api.types.is_string_dtype(col)) or len(col) < 2:
            continue
        if pd.api.types.infer_dtype(col, skipna=False) != "string":
            continue
        codes, uniques = col.array.factorize()
        if len(uniques) * 2 <= len(col):
            frame[name] = pd.Series(uniques.take(codes), index=frame.index, dtype=col.dtype)
    return frame


def read_with(parse, path: str | os.PathLike) -> pd.DataFrame:
    """Read a JSON file streamed (size limit, :class:`JsonDocument`) and ``parse`` its frame into the raw
    frame (:meth:`JsonDocument.parse_with`)."""
    path = Path(path)
    check_size(path)
    raw = JsonDocument(path).parse_with(parse, str(path))
    raw.attrs["file"] = str(path)
    return raw


__all__ = ["BATCH_BYTES", "SCAN_BYTES", "JsonArray", "JsonDocument", "batches", "elements", "element_spans",
           "is_array", "kind", "lone_surrogate", "read_with", "share_repeats"]
