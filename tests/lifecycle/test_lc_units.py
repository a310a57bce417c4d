"""Cutting a worksheet into units for worker processes (:mod:`ims_excel.xlsx.units`, `.fanout`)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lctools import spy_pools

from ims_excel.xlsx.fanout import fan_out
from ims_excel.xlsx.sheetxml import SheetFormatError
from ims_excel.xlsx.units import cut, units


def _sheet(n_rows: int, tail: bytes) -> bytes:
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x%s</t></is></c></row>' % (r, r, b"y" * (r % 7))
                    for r in range(1, n_rows + 1))
    return b'<?xml version="1.0"?><worksheet><cols/><sheetData>' + rows + b"</sheetData>" + tail + b"</worksheet>"


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])]


@settings(max_examples=200, deadline=None)
@given(n_rows=st.integers(0, 60), tail=st.sampled_from([b"", b"<mergeCells/>", b"<x>" + b"z" * 50 + b"</x>"]),
       cuts=st.lists(st.integers(0, 10_000), max_size=20), unit=st.integers(1, 400))
def test_units_are_the_sheet_exactly_in_whole_rows(n_rows, tail, cuts, unit):
    data = _sheet(n_rows, tail)
    got = list(units(iter(_chunks(data, cuts)), unit=unit))
    assert b"".join(b for _, b in got) == data
    kinds = [k for k, _ in got]
    assert kinds[0] == "head" and kinds[-1] == "tail" and set(kinds[1:-1]) <= {"rows"}
    assert got[0][1].endswith(b"<sheetData>") and got[-1][1].startswith(b"</sheetData>")
    for _, blob in got[1:-1]:
        assert blob.startswith(b"<row ") and blob.endswith(b"</row>")
        pieces = cut(blob, 50)
        assert b"".join(pieces) == blob and all(p.endswith(b"</row>") for p in pieces)


def test_a_damaged_sheet_is_refused():
    with pytest.raises(SheetFormatError, match="damaged"):
        list(units(iter([b"<worksheet><sheetData><row r=\"1\"/>"])))
    with pytest.raises(SheetFormatError, match="no <sheetData>"):
        list(units(iter([b"<worksheet/>"])))


def boom(b: bytes) -> int:
    """A worker function (module level, so a spawned worker can be sent it) that fails on one unit."""
    if b == b"bad":
        raise ValueError("worker said no")
    return len(b)


def die_on_bad(b: bytes) -> int:
    """A worker function whose process ends abruptly on one unit."""
    if b == b"bad":
        os._exit(9)
    return len(b)


def test_fan_out_keeps_order_passes_big_units_through_the_pipe_and_raises_worker_errors(start_method,
                                                                                        monkeypatch):
    """Forked or spawned (no ``fork``: Windows), the workers get every unit, results come back in order."""
    pools = spy_pools(monkeypatch)
    data = [bytes([65 + i % 26]) * (i * 37 % 300) for i in range(60)]
    assert list(fan_out(iter(data), len, processes=2, slot_size=128)) == [len(d) for d in data]
    assert list(fan_out(iter(data), bytes.upper, processes=2, slot_size=128)) == [d.upper() for d in data]
    with pytest.raises(ValueError, match="worker said no"):
        list(fan_out(iter([b"ok", b"bad", b"ok"]), boom, processes=2, slot_size=16))
    assert pools == [start_method] * 3


@settings(max_examples=200, deadline=None)
@given(a=st.binary(max_size=3000), b=st.binary(max_size=3000))
def test_crc32_of_blocks_combines_to_the_crc32_of_their_concatenation(a, b):
    import zlib

    from ims_excel.xlsx.codec import crc32, crc32_combine, deflate_block, FINAL_BLOCK

    assert crc32_combine(crc32(a), crc32(b), len(b)) == zlib.crc32(a + b)
    assert zlib.decompressobj(-15).decompress(deflate_block(a) + deflate_block(b) + FINAL_BLOCK) == a + b


def test_a_worker_that_dies_is_an_error_not_a_hang(start_method):
    from ims_excel.xlsx.fanout import WorkerDied

    with pytest.raises(WorkerDied, match="ended abruptly"):
        list(fan_out(iter([b"ok"] * 5 + [b"bad"] + [b"ok"] * 20), die_on_bad, processes=2, slot_size=16))
