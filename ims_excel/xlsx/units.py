"""A worksheet's XML as it inflates, cut into head, blobs of whole rows and tail: the one sheet splitter.

:func:`units` turns the inflating stream into ``("head", ...)`` (up to and
including ``<sheetData ...>``), ``("rows", ...)`` units of about
:data:`UNIT_BYTES` cut at ``</row>`` boundaries, and ``("tail", ...)`` (from
``</sheetData>``). Joined, they are the sheet's bytes exactly. Only the
bytes of the current unit are held. Units then go to worker processes
(:mod:`.fanout`); :func:`cut` splits a unit into the smaller pieces numpy
handles fastest.

>>> xml = b'<worksheet><sheetData><row r="1"><c r="A1"/></row><row r="2"/></sheetData></worksheet>'
>>> list(units(iter([xml[:30], xml[30:55], xml[55:]]), unit=1))
[('head', b'<worksheet><sheetData>'), ('rows', b'<row r="1"><c r="A1"/></row>'), ('rows', b'<row r="2"/>'), ('tail', b'</sheetData></worksheet>')]
>>> list(units(iter([b'<worksheet><sheetData/></worksheet>'])))
[('head', b'<worksheet><sheetData>'), ('tail', b'</sheetData></worksheet>')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ims_excel.xlsx.sheetxml import SheetFormatError, check_head

UNIT_BYTES = 32 << 20
"""About this many bytes of rows per unit of work for the worker processes."""
PIECE_BYTES = 1 << 20
"""About this many bytes of rows per blob when a sheet is streamed in this process."""

_OPEN, _CLOSE, _ROW_END = b"<sheetData", b"</sheetData>", b"</row>"


def units(chunks: Iterable[bytes], *, unit: int | None = None) -> Iterator[tuple[str, bytes]]:
    """The sheet as head, units of whole rows and tail (see the module doc).

    Raises :class:`SheetFormatError` for XML this tool does not edit.
    """
    unit = unit or UNIT_BYTES
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        i = head.find(_OPEN)
        j = head.find(b">", i) if i >= 0 else -1
        if j >= 0:
            break
    else:
        raise SheetFormatError("worksheet has no <sheetData>")
    check_head(head[:j + 1])
    if head[j - 1:j] == b"/":  # <sheetData/>: no rows
        yield "head", head[:i] + b"<sheetData>"
        yield "tail", b"</sheetData>" + head[j + 1:] + b"".join(it)
        return
    yield "head", head[:j + 1]
    pending: list[bytes] = [head[j + 1:]]  # the current unit's pieces
    size = len(pending[0])
    prev = pending[0][-(len(_CLOSE) - 1):]
    k = pending[0].find(_CLOSE)
    found = k >= 0
    for chunk in it if not found else ():
        if not chunk:
            continue
        last_row = chunk.rfind(_ROW_END)
        # </sheetData> comes after the last </row> (or straddles the previous chunk's end)
        if (prev + chunk[:len(_CLOSE)]).find(_CLOSE) >= 0 or chunk.find(_CLOSE, max(last_row, 0)) >= 0:
            pending.append(chunk)
            found = True
            break
        if last_row >= 0 and size + last_row + len(_ROW_END) >= unit:
            end = last_row + len(_ROW_END)
            pending.append(chunk[:end])
            yield "rows", b"".join(pending)
            pending, size = [chunk[end:]], len(chunk) - end
        else:
            pending.append(chunk)
            size += len(chunk)
        prev = (prev + chunk[-(len(_CLOSE) - 1):])[-(len(_CLOSE) - 1):]
    if not found:
        raise SheetFormatError("the worksheet ends inside <sheetData> (a damaged file)")
    data = b"".join(pending)
    k = data.find(_CLOSE, max(data.rfind(_ROW_END), 0))
    if k < 0:
        raise SheetFormatError("the worksheet ends inside <sheetData> (a damaged file)")
    if k:
        yield "rows", data[:k]
    yield "tail", data[k:] + b"".join(it)


def cut(blob: bytes, size: int = 4 << 20) -> list[bytes]:
    """A blob of whole rows cut into pieces of about ``size`` bytes at ``</row>`` boundaries.

    numpy works on a piece's arrays faster while they fit the CPU caches (a 4 MB piece
    parses in about half the time per byte of a 40 MB one).

    >>> cut(b"<row>1</row><row>2</row><row>3</row>", 14)
    [b'<row>1</row>', b'<row>2</row>', b'<row>3</row>']
    """
    out, a, n = [], 0, len(blob)
    while a < n:
        if a + size >= n:
            out.append(blob[a:])
            break
        b = blob.rfind(_ROW_END, a, a + size)
        if b < 0:
            b = blob.find(_ROW_END, a + size)
        b = n if b < 0 else b + len(_ROW_END)
        out.append(blob[a:b])
        a = b
    return out
