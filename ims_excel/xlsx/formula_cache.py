"""Cached values of named formula cells in a (small) worksheet part, written as Excel writes them.

A formula cell is ``<c r="C7" s=".." t=".."><f>..</f><v>..</v></c>``; its ``t``
says what the cached ``<v>`` is (ECMA-376 Part 1 §18.3.1.4, ST_CellType
§18.18.11): ``str`` a formula's text result (also empty text), ``b`` a
boolean, ``e`` an error, none a number. :func:`set_cached` gives each named
cell its value (typed by :func:`ims_excel.xlsx.sheetxml.cached`) and keeps
the cell's style and formula; :func:`formula_refs` lists a part's formula
cells, so a caller can tell whether every one of them got a right value.
For the summary and Config sheets (hundreds of cells), not the big tables
(those go through :class:`ims_excel.xlsx.sheetxml.Injector`).
"""

from __future__ import annotations

import re

from ims_excel.xlsx.sheetxml import FORMULA as _FORMULA, cached

_CELL = re.compile(rb'<c\b([^>]*?)\br="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_TYPE = re.compile(rb'\s+t="[a-zA-Z]+"')


def formula_refs(xml: bytes) -> set[str]:
    """The A1 references of every formula cell of a worksheet part."""
    if b"<f" not in xml:  # a sheet of constants (Changes, History: one row per record): nothing to look at
        return set()
    return {m.group(2).decode() for m in _CELL.finditer(xml) if m.group(4) and b"<f" in m.group(4)}


def cells_at(xml: bytes, refs: set[str]) -> dict[str, tuple[bytes, bytes | None]]:
    """``{A1: (attributes, inside)}`` of the cells of a worksheet part named in ``refs`` (those present;
    inside None for an empty ``<c/>``), for :func:`ims_excel.xlsx.sheetxml.cell_value`."""
    out = {}
    for m in _CELL.finditer(xml):
        ref = m.group(2).decode()
        if ref in refs:
            out[ref] = (m.group(1) + m.group(3), m.group(4))
    return out


def set_cached(xml: bytes, values: dict[str, object]) -> tuple[bytes, set[str]]:
    """``xml`` with the formula cells named in ``values`` caching those values; also the names that are
    not formula cells there (a constant typed over the formula, or no such cell), left as they are."""
    missing = set(values)

    def one(m: re.Match) -> bytes:
        ref = m.group(2).decode()
        body = m.group(4)
        if ref not in values or not body:
            return m.group(0)
        f = _FORMULA.search(body)
        if not f:
            return m.group(0)
        missing.discard(ref)
        t, v = cached(values[ref])
        before, after = _TYPE.sub(b"", m.group(1)), _TYPE.sub(b"", m.group(3))
        return (b"<c" + before + b'r="' + m.group(2) + b'"' + after + t.encode() + b">" + f.group(0)
                + b"<v>" + v.encode("utf-8") + b"</v></c>")

    return _CELL.sub(one, xml), missing
