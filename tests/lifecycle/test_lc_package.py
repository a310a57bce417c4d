"""The package layer: byte-for-byte copies, streamed deflate, ZIP64, atomic saves, Excel's lock file."""

from __future__ import annotations

import io
import os
import zipfile
import zlib

import pytest
from lctools import raw_parts

from ims_excel.cli import main
from ims_excel.xlsx import sheetxml
from ims_excel.xlsx.fileio import latest_backup
from ims_excel.xlsx.package import (Package, PackageWriter, WorkbookBusy, _Entry,
                                        check_not_open, clean_stale_temps, save_atomically)


def _zip(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for n, d in entries.items():
            z.writestr(n, d)
    return buf.getvalue()


def test_streamed_blocks_make_one_valid_deflate_stream():
    data = [os.urandom(1000) + b"<row/>" * 5000 for _ in range(7)]
    buf = io.BytesIO()
    w = PackageWriter(buf, block=10_000, threads=2)
    w.write_stream("xl/worksheets/sheet1.xml", iter(data))
    w.write_stream("big.xml", iter(data), zip64=True)  # ZIP64 room in the local header, still readable
    w.write("small.xml", b"<a/>", level=0)
    w.close()
    with zipfile.ZipFile(buf) as z:
        assert z.testzip() is None
        assert z.read("xl/worksheets/sheet1.xml") == b"".join(data)
        assert z.read("big.xml") == b"".join(data)
        assert z.read("small.xml") == b"<a/>"


def test_copy_keeps_the_compressed_bytes(tmp_path):
    src = tmp_path / "src.xlsx"
    payload = os.urandom(50_000)
    src.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                          "xl/vbaProject.bin": payload}))
    out = io.BytesIO()
    with Package(src) as pkg:
        w = PackageWriter(out)
        for name in pkg.names():
            w.copy(pkg, name)
        w.close()
    dst = tmp_path / "dst.xlsx"
    dst.write_bytes(out.getvalue())
    assert raw_parts(dst) == raw_parts(src)
    with zipfile.ZipFile(dst) as z:
        assert z.read("xl/vbaProject.bin") == payload and z.testzip() is None


def test_zip64_central_directory_when_offsets_pass_4_gib(monkeypatch):
    """The records ZIP64 readers need, checked by faking an offset past 4 GiB."""
    buf = io.BytesIO()
    w = PackageWriter(buf)
    w.write("a.xml", b"<a/>")
    w.entries.append(type(w.entries[0])(b"far.xml", (1980, 1, 1, 0, 0, 0), 8, 0, 2, 5 << 32, 5 << 30))
    w.close()
    with zipfile.ZipFile(buf) as z:  # the central directory's ZIP64 extra field, as zipfile decodes it
        far = z.getinfo("far.xml")
        assert far.header_offset == 5 << 30 and far.file_size == 5 << 32
        assert z.read("a.xml") == b"<a/>"
    many = io.BytesIO()
    w = PackageWriter(many)
    for k in range(0x10000):  # more entries than the classic end record can count
        w.entries.append(_Entry(b"e%d" % k, (1980, 1, 1, 0, 0, 0), 0, zlib.crc32(b""), 0, 0, 0))
    w.close()
    data = many.getvalue()
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # ZIP64 end records


def test_save_keeps_a_backup_and_cleans_up_after_a_killed_run(tmp_path):
    book = tmp_path / "c.xlsm"
    book.write_bytes(b"old")
    dead = tmp_path / ".c.xlsm.999999999.tmp"  # left by a process that no longer exists
    dead.write_bytes(b"half")
    save_atomically(book, lambda fh: fh.write(b"new"))
    assert book.read_bytes() == b"new" and latest_backup(book).read_bytes() == b"old"
    assert not dead.exists() and not list(tmp_path.glob(".*.tmp"))

    def fail(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        save_atomically(book, fail)
    assert book.read_bytes() == b"new" and not list(tmp_path.glob(".*.tmp"))
    assert clean_stale_temps(book) == []


def test_a_workbook_open_in_excel_is_not_touched(sample_book, capsys):
    lock = sample_book.with_name("~$" + sample_book.name)
    lock.write_bytes(b"owner")
    with pytest.raises(WorkbookBusy):
        check_not_open(sample_book)
    before = sample_book.read_bytes()
    assert main(["process", str(sample_book)]) == 2
    assert "is open in Excel" in capsys.readouterr().err
    assert sample_book.read_bytes() == before


def test_not_a_workbook_is_named(tmp_path, capsys):
    bad = tmp_path / "x.xlsm"
    bad.write_bytes(b"not a zip")
    assert main(["process", str(bad)]) == 2
    assert "is not an Excel workbook" in capsys.readouterr().err
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml":
                            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                            b"<sheets/></workbook>"}))
    assert main(["process", str(plain)]) == 2
    assert "no Excel table named 'Inward'" in capsys.readouterr().err


def test_sheet_xml_cells():
    assert sheetxml.value_cell("A1", "x\x01y", 3) == '<c r="A1" s="3" t="inlineStr"><is><t>x_x0001_y</t></is></c>'
    assert sheetxml.value_cell("B2", " padded ") == '<c r="B2" t="inlineStr"><is><t xml:space="preserve"> padded ' \
                                                  "</t></is></c>"
    assert sheetxml.value_cell("C3", 2.5) == '<c r="C3"><v>2.5</v></c>'
    assert sheetxml.value_cell("D4", None) == ""
    blob = b'<row r="2"/><row r="3" spans="1:2"><c r="A3"><v>1</v></c></row><row r="5"><c r="B5"/></row>'
    assert [r for r, _ in sheetxml.iter_rows(blob)] == [2, 3, 5]
    t, v = sheetxml.cached_column([1.0, float("nan"), 3.25, float("inf")])
    assert v == [b"1", b"", b"3.25", b"#NUM!"] and t == [b"", b' t="str"', b"", b' t="e"']
