"""The hostile-input suite: generated malformed inputs at zip, XML, cell, JSON, CSV and xlsx level.

For every case the command is run in this process (an exception would be a crash and fails the test) and:

* a **refused** case exits 2 with a message naming the file (and the words given), nothing is written and
  every file in the folder, the book included, is byte-identical afterwards;
* a **read** case exits 0 and reads the value correctly (asserted per case).

No message ever shows a number as ``np.float64(...)``. Issue 14 lists the defects this suite was written
against; the README's "Reliability" section gives its figures (``CASES`` below counts them).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import tempfile
import traceback
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from xlsxwriter.utility import xl_col_to_name

import hostiletools as ht
from ims_excel.book.imports import import_sources
from ims_excel.book.new import new_workbook
from ims_excel.book.read import load_book
from ims_excel.cli.demo import DEMO_CONTEXT
from ims_excel.normalise import InputError, normalise
from ims_excel.template.specs import INWARD

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"


@dataclass
class Case:
    name: str
    level: str  # zip, xml, cell, json, csv, xlsx, file
    build: object  # (folder, book) -> (command args, the file the message must name)
    refused: tuple[str, ...] = ()  # words the message must hold; empty = the input must be read
    check: object = None  # (book) -> None, for read cases
    env: dict[str, str] = field(default_factory=dict)


def _import(filename: str, data: bytes | str):
    def build(folder: Path, book: Path):
        src = folder / filename
        src.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return ["import", book, src], src
    return build


def _import_xlsx(records: list[dict], **kw):
    def build(folder: Path, book: Path):
        src = ht.xlsx_source(folder / "source.xlsx", ht.source_rows(records), **kw)
        return ["import", book, src], src
    return build


def _process_edited(edit_sheet=None, edit_table=None):
    """``process`` on the book with its Inward sheet / table XML (or the whole zip) changed."""
    def build(folder: Path, book: Path):
        tmp = folder / "edited.tmp"
        if edit_sheet:
            ht.edit_part(book, tmp, ht.sheet_part(book, "Inward"), edit_sheet)
        else:
            ht.edit_part(book, tmp, ht.table_part(book, "Inward"), edit_table)
        tmp.replace(book)
        return ["process", book], book
    return build


def _cell(ref: str, xml: bytes):
    return lambda x: ht.set_cell(x, ref, xml)


def _records(book: Path):
    return load_book(book).inward.frame


def _has(column: str, value: object):
    def check(book: Path) -> None:
        got = _records(book)[column].tolist()
        assert value in got, (column, value, got)
    return check


CASES: list[Case] = []

# -- CSV level: values that are not finite amounts, typed anywhere an amount goes
NOT_FINITE = ["NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "9" * 400, "None", "#N/A", "NULL"]
for field_name in ht.AMOUNT_FIELDS:
    for v in NOT_FINITE:
        CASES.append(Case(f"csv {field_name}={v[:12]}", "csv", _import("in.csv", ht.csv_text({field_name: v})),
                          ("row 2", f"column {field_name!r}")))
for v in ["1.23E+15", "1.23457E+15", "1E+15", "2.5e10", "1.2E+3"]:
    CASES.append(Case(f"csv Document Number={v}", "csv", _import("in.csv", ht.csv_text({"Document Number": v})),
                      ("row 2", "'Document Number'", "scientific notation")))
CASES += [
    Case("csv utf-16 with BOM", "csv", _import("in.csv", ht.csv_text().encode("utf-16")),
         check=_has("supplier_name", "Kaveri Components")),
    Case("csv utf-16-be with BOM", "csv", _import("in.csv", b"\xfe\xff" + ht.csv_text().encode("utf-16-be")),
         check=_has("supplier_name", "Kaveri Components")),
    Case("csv utf-16-le without BOM", "csv", _import("in.csv", ht.csv_text().encode("utf-16-le")),
         check=_has("supplier_name", "Kaveri Components")),
    Case("csv semicolons", "csv", _import("in.csv", ht.csv_text({"Supplier Name": "A, B & Co"}, sep=";")),
         check=_has("supplier_name", "A, B & Co")),
    Case("csv tabs", "csv", _import("in.csv", ht.csv_text(sep="\t")), check=_has("document_number", "INV-1")),
    Case("csv pipes", "csv", _import("in.csv", ht.csv_text(sep="|")), check=_has("document_number", "INV-1")),
    Case("csv CR inside text", "csv", _import("in.csv", ht.csv_text({"Supplier Name": "Kaveri\rComponents"})),
         check=_has("supplier_name", "Kaveri\rComponents")),
    Case("csv CRLF inside text", "csv", _import("in.csv", ht.csv_text({"Supplier Name": "Line 1\r\nLine 2"})),
         check=_has("supplier_name", "Line 1\r\nLine 2")),
    Case("csv formula text stays text", "csv",
         _import("in.csv", ht.csv_text({"Supplier Name": "=cmd|' /C calc'!A0"})),
         check=_has("supplier_name", "=cmd|' /C calc'!A0")),
    Case("csv 16-digit document number kept as typed", "csv",
         _import("in.csv", ht.csv_text({"Document Number": "1234567890123456"})),
         check=_has("document_number", "1234567890123456")),
    Case("csv not UTF-8", "csv", _import("in.csv", ht.csv_text({"Supplier Name": "Caf\xe9"}).encode("latin-1")),
         ("not UTF-8",)),
    Case("csv empty", "csv", _import("in.csv", b""), ("empty",)),
    Case("csv binary", "csv", _import("in.csv", bytes(range(256)) * 4), ("in.csv",)),
    Case("csv no header", "csv", _import("in.csv", "a,b,c\r\n1,2,3\r\n"), ("no recognisable header",)),
]

# -- JSON level
JSON_SRC = (FIXTURES / "ims_offline_download.json").read_text(encoding="utf-8")


def _json_with(field_name: str, literal: str) -> str:
    return re.sub(rf'"{field_name}"\s*:\s*[^,}}\n]+', lambda m: f'"{field_name}": {literal}', JSON_SRC, count=1)


for key in ("val", "txval", "iamt", "camt", "samt", "cess"):
    for lit in ("1e400", "-1e400", "9" * 400, '"NaN"', '"Infinity"', "NaN", "Infinity", "-Infinity", '"1e400"'):
        bare_constant = lit.lstrip("-") in ("NaN", "Infinity")  # not JSON at all: refused as a whole file
        CASES.append(Case(f"json {key}={lit[:10]}", "json", _import("in.json", _json_with(key, lit)),
                          ("is not JSON",) if bare_constant else ("imsDetails.b2b[0]", key)))
CASES += [
    Case("json utf-16 with BOM", "json", _import("in.json", JSON_SRC.encode("utf-16")),
         check=_has("document_number", "000123")),
    Case("json utf-16-le without BOM", "json", _import("in.json", JSON_SRC.encode("utf-16-le")),
         check=_has("document_number", "000123")),
    Case("json utf-16-be without BOM", "json", _import("in.json", JSON_SRC.encode("utf-16-be")),
         check=_has("document_number", "000123")),
    Case("json odd-length UTF-16", "json", _import("in.json", JSON_SRC.encode("utf-16-le")[:-1]), ("UTF-16",)),
    Case("json truncated", "json", _import("in.json", JSON_SRC[: len(JSON_SRC) // 2]), ("is not JSON",)),
    Case("json nested 10,000 deep", "json", _import("in.json", "[" * 10000 + "]" * 10000), ("nested",)),
    Case("json not UTF-8", "json", _import("in.json", JSON_SRC.replace("Reliance", "Caf\xe9").encode("latin-1")),
         ("not UTF-8",)),
    # issue 14: a lone surrogate (a \uD800-\uDFFF escape not in a pair) parsed fine and crashed the save
    Case("json lone high surrogate", "json", _import("in.json", _json_with("inum", '"INV\\ud800"')),
         ("lone surrogate", "\\ud800 at line")),
    Case("json lone low surrogate", "json", _import("in.json", _json_with("inum", '"\\uDC00INV"')),
         ("lone surrogate",)),
    Case("json surrogate pair read", "json", _import("in.json", _json_with("inum", '"INV\\ud83d\\ude00"')),
         check=_has("document_number", "INV\U0001F600")),
]

# -- xlsx level (a source workbook): cells calamine would read as blank
ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
for err in ERRORS:
    for field_name in ("IGST", "Document Number"):
        CASES.append(Case(f"xlsx {field_name} {err}", "cell",
                          _import_xlsx([{field_name: b'<c r="%s" t="e"><v>' + err.encode() + b"</v></c>"}]),
                          ("sheet 'Inward'", "row 2", f"holds the error {err}")))
for field_name in ("IGST", "Document Number", "Document Date"):
    for f in (b"<f>1+1</f>", b"<f>1+1</f><v></v>", b'<f t="shared" si="0"/>'):
        CASES.append(Case(f"xlsx {field_name} formula without value {f[:12]!r}", "cell",
                          _import_xlsx([{field_name: b'<c r="%s">' + f + b"</c>"}]),
                          ("row 2", "formula with no saved value")))
for text in (b"NaN", b"inf", b"-inf", b"1e400", b"-1E+999", b"Infinity"):
    CASES.append(Case(f"xlsx IGST <v>{text.decode()}</v>", "cell",
                      _import_xlsx([{"IGST": b'<c r="%s"><v>' + text + b"</v></c>"}]), ("row 2", "not a finite number")))
def _damaged_source(edit):
    """A source workbook whose sheet text cannot be decoded: the message names IT, not the client book (issue 14)."""
    def build(folder: Path, book: Path):
        src = ht.xlsx_source(folder / "s.xlsx", ht.source_rows([{}]))
        ht.edit_part(src, folder / "damaged.xlsx", "xl/worksheets/sheet1.xml", edit)
        src.unlink()
        return ["import", book, folder / "damaged.xlsx"], folder / "damaged.xlsx"
    return build


for label, bad in (("malformed UTF-8", b"Kav\xff\xfeeri"), ("UTF-8 lone surrogate", b"Kav\xed\xa0\x80eri"),
                   ("&#1114112;", b"Kav&#1114112;eri"), ("&#xD800;", b"Kav&#xD800;eri"),
                   ("overflowing character reference", b"Kav&#99999999999999999999;eri")):
    CASES.append(Case(f"xlsx {label} in a cell", "xml", _damaged_source(lambda x, b=bad: x.replace(b"Kaveri", b, 1)),
                      ("damaged.xlsx: cannot be read", "the file is damaged")))
CASES += [
    Case("xlsx CDATA document number", "xml",
         _import_xlsx([{"Document Number": b'<c r="%s" t="inlineStr"><is><t><![CDATA[INV<9>&1]]></t></is></c>'}]),
         check=_has("document_number", "INV<9>&1")),
    Case("xlsx cached formula value read", "cell",
         _import_xlsx([{"IGST": b'<c r="%s"><f>4500*2</f><v>9000</v></c>'}]), check=_has("igst", 9000.0)),
    Case("xlsx row twice", "xml", lambda folder, book: (
        ["import", book, ht.xlsx_source(folder / "s.xlsx", ht.source_rows([{}]) + ht.source_rows([{}])[
            ht.source_rows([{}]).index(b'<row r="2"'):])], folder / "s.xlsx"), ("row 2", "appears twice")),
    Case("xlsx number as document number 1.23E+15", "cell",
         _import_xlsx([{"Document Number": b'<c r="%s"><v>1.23E+15</v></c>'}]), ("row 2", "digit for digit")),
    Case("xlsx 17-digit number as document number", "cell",
         _import_xlsx([{"Document Number": b'<c r="%s"><v>12345678901234567</v></c>'}]), ("digit for digit",)),
]

DOCTYPE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'


def _doctype_source(part: str, *, utf16: bool = False):
    """A source whose ``part`` (added or replaced) declares entities, whatever it is called."""
    def build(folder: Path, book: Path):
        body = DOCTYPE + b"<x>&b;</x>"
        data = body.decode().encode("utf-16") if utf16 else body
        src = ht.xlsx_source(folder / "source.xlsx", ht.source_rows([{}]), extra={part: data})
        return ["import", book, src], src
    return build


def _doctype_sheet_renamed(folder: Path, book: Path):
    rows = ht.source_rows([{}])
    src = ht.xlsx_source(folder / "source.xlsx", rows, sheet_name="xl/worksheets/sheet1.dat")
    tmp = folder / "x.tmp"
    ht.edit_part(src, tmp, "xl/worksheets/sheet1.dat",
                 lambda x: x.replace(b'<?xml version="1.0" encoding="UTF-8"?>', DOCTYPE[:-1] + b"\n"))
    tmp.replace(src)
    return ["import", book, src], src


for part in ("xl/worksheets/sheet2.dat", "xl/sharedStrings.bin", "xl/custom", "docProps/thumb.jpeg",
             "xl/media/image1.png", "customXml/item1.xml", "xl/_rels/other.rels", "xl/printerSettings1.bin"):
    CASES.append(Case(f"zip DOCTYPE in {part}", "zip", _doctype_source(part), ("DOCTYPE or ENTITY", part)))
CASES += [
    Case("zip DOCTYPE in UTF-16 part", "zip", _doctype_source("xl/foo.dat", utf16=True), ("DOCTYPE or ENTITY",)),
    Case("zip DOCTYPE in renamed worksheet", "zip", _doctype_sheet_renamed, ("DOCTYPE or ENTITY", "sheet1.dat")),
    Case("zip not a zip", "zip", _import("in.xlsx", b"PK\x03\x04" + os.urandom(200)), ("not an Excel workbook",)),
    Case("zip text named xlsx", "zip", _import("in.xlsx", "Section,IGST\n"), ("not an Excel workbook",)),
    Case("zip shared strings over the limit", "zip", _import_xlsx(
        [{}], sst=b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(b"<si><t>%d</t></si>" % i for i in range(200_000)) + b"</sst>"),
         ("shared strings", "IMS_EXCEL_MAX_SHARED_STRINGS_MB"), env={"IMS_EXCEL_MAX_SHARED_STRINGS_MB": "1"}),
    Case("zip part over the absolute limit", "zip", _import_xlsx([{}] * 50),
         ("IMS_EXCEL_MAX_SOURCE_PART_MB",), env={"IMS_EXCEL_MAX_SOURCE_PART_MB": "0.001"}),
]

# -- the client workbook itself (process): cells, rows, table range, parts
def _table_ref(table_xml: bytes, ref: bytes) -> bytes:
    """The table part with its range (A1:<last column>3, two records) replaced by ``ref``; refused if it has none
    (the last column moves as Inward columns are added)."""
    out, n = re.subn(rb'(<table\b[^>]*\bref=")A1:[A-Z]+3"', lambda m: m.group(1) + ref + b'"', table_xml, count=1)
    assert n == 1, "the Inward table part has no ref A1:<column>3"
    return out


IGST_CELL = xl_col_to_name(INWARD.column_index("IGST")) + "2"  # IGST of the first record, wherever the table puts it
IGST_XML = IGST_CELL.encode()
CASES += [
    Case(f"book IGST {err}", "cell", _process_edited(_cell(IGST_CELL, b'<c r="' + IGST_XML + b'" s="14" t="e"><v>' + err.encode() + b"</v></c>")),
         ("sheet 'Inward'", "row 2", "column 'IGST'", f"cell {IGST_CELL} holds the error {err}")) for err in ERRORS
] + [
    Case("book IGST formula without value", "cell", _process_edited(_cell(IGST_CELL, b'<c r="' + IGST_XML + b'" s="14"><f>1+1</f></c>')),
         ("row 2", "column 'IGST'", "formula with no saved value")),
    Case("book Document Number formula without value", "cell",
         _process_edited(_cell("D2", b'<c r="D2" s="9" t="str"><f>"INV"&amp;1</f></c>')),
         ("row 2", "formula with no saved value")),
    Case("book IGST NaN", "cell", _process_edited(_cell(IGST_CELL, b'<c r="' + IGST_XML + b'" s="14"><v>NaN</v></c>')),
         (f"cell {IGST_CELL}", "not a finite number")),
    Case("book IGST 1e400", "cell", _process_edited(_cell(IGST_CELL, b'<c r="' + IGST_XML + b'" s="14"><v>1e400</v></c>')),
         (f"cell {IGST_CELL}", "not a finite number")),
    Case("book row twice", "xml", _process_edited(lambda x: x.replace(
        x[x.index(b'<row r="2"'):x.index(b"</row>", x.index(b'<row r="2"')) + 6],
        x[x.index(b'<row r="2"'):x.index(b"</row>", x.index(b'<row r="2"')) + 6] * 2, 1)),
         ("row 2", "appears twice")),
    Case("book rows out of order", "xml", _process_edited(lambda x: x.replace(b'<row r="3"', b'<row r="1"', 1)),
         ("out of order",)),
    Case("book table range reversed", "xml", _process_edited(edit_table=lambda x: _table_ref(x, b"CN3:A1")),
         ("'Inward'", "CN3:A1", "not a range of cells")),
    Case("book table range garbage", "xml", _process_edited(edit_table=lambda x: _table_ref(x, b"ZZZZ0:?")),
         ("'Inward'", "ZZZZ0:?", "not a range of cells")),
    Case("book CDATA document number", "xml",
         _process_edited(_cell("D2", b'<c r="D2" s="9" t="inlineStr"><is><t><![CDATA[M<1>]]></t></is></c>')),
         check=_has("document_number", "M<1>")),
    Case("book DOCTYPE in worksheet", "zip", _process_edited(
        lambda x: x.replace(b"<worksheet", DOCTYPE[DOCTYPE.index(b"<!"):] + b"<worksheet", 1)),
         ("DOCTYPE or ENTITY",)),
]


def _book_doctype_dat(folder: Path, book: Path):
    tmp = folder / "x.tmp"
    ht.rewrite_zip(book, tmp, lambda n, d: (n, d), add={"xl/worksheets/sheet99.dat": DOCTYPE + b"<x>&b;</x>"})
    tmp.replace(book)
    return ["process", book], book


CASES.append(Case("book DOCTYPE in a part renamed .dat", "zip", _book_doctype_dat, ("DOCTYPE or ENTITY", "sheet99.dat")))


def _utf16(xml: bytes, codec: str = "utf-16") -> bytes:
    """The same XML in UTF-16 (allowed by XML 1.0; Excel writes UTF-8): issue 14 "UTF-16 ... XML are read or
    named as UTF-16" (a byte-level reader would otherwise see no cells and say "no <sheetData>")."""
    return xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode("utf-8").encode(codec)


def _utf16_source(codec: str):
    def build(folder: Path, book: Path):
        src = ht.xlsx_source(folder / "s.xlsx", ht.source_rows([{}]))
        ht.edit_part(src, folder / "s16.xlsx", "xl/worksheets/sheet1.xml", lambda x: _utf16(x, codec))
        src.unlink()
        return ["import", book, folder / "s16.xlsx"], folder / "s16.xlsx"
    return build


CASES += [
    Case("zip worksheet in UTF-16", "zip", _utf16_source("utf-16"), ("sheet1.xml", "UTF-16")),
    Case("zip worksheet in UTF-16-LE without BOM", "zip", _utf16_source("utf-16-le"), ("sheet1.xml", "UTF-16")),
    Case("book Inward sheet in UTF-16", "zip", _process_edited(_utf16), ("UTF-16", "save it again")),
    Case("book Inward sheet in UTF-16-BE without BOM", "zip", _process_edited(lambda x: _utf16(x, "utf-16-be")),
         ("UTF-16",)),
]


# -- the file itself: not a regular file, missing, permissions
def _fifo(folder: Path, book: Path):
    os.mkfifo(folder / "in.csv")
    return ["import", book, folder / "in.csv"], folder / "in.csv"


def _dev_zero(folder: Path, book: Path):
    os.symlink("/dev/zero", folder / "in.csv")
    return ["import", book, folder / "in.csv"], folder / "in.csv"


def _dev_zero_book(folder: Path, book: Path):
    os.symlink("/dev/zero", folder / "zero.xlsm")
    return ["process", folder / "zero.xlsm"], folder / "zero.xlsm"


def _fifo_book(folder: Path, book: Path):
    os.mkfifo(folder / "pipe.xlsm")
    return ["process", folder / "pipe.xlsm"], folder / "pipe.xlsm"


def _folder(folder: Path, book: Path):
    (folder / "in.json").mkdir()
    return ["import", book, folder / "in.json"], folder / "in.json"


CASES += [
    Case("file FIFO source", "file", _fifo, ("not a regular file",)),
    Case("file /dev/zero source", "file", _dev_zero, ("not a regular file",)),
    Case("file /dev/zero book", "file", _dev_zero_book, ("not a regular file",)),
    Case("file FIFO book", "file", _fifo_book, ("not a regular file",)),
    Case("file folder as source", "file", _folder, ("is a folder",)),
    Case("file missing source", "file", lambda folder, book: (["import", book, folder / "gone.csv"],
                                                               folder / "gone.csv"), ("no such file",)),
    Case("file JSON over the limit", "file", _import("in.json", JSON_SRC), ("IMS_EXCEL_MAX_INPUT_MB",),
         env={"IMS_EXCEL_MAX_INPUT_MB": "0.001"}),
]


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """A client book with two Inward records (rows 2-3)."""
    d = tmp_path_factory.mktemp("hostile")
    book = d / "client.xlsm"
    new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Client", period=DEMO_CONTEXT["period"])
    (d / "two.csv").write_text(ht.csv_text({"Document Number": "M-1"}, {"Document Number": "M-2"}))
    import_sources(book, [d / "two.csv"], backup=False)
    return book


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(case: Case, master, tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    book = folder / "client.xlsm"
    shutil.copy(master, book)
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)
    args, named = case.build(folder, book)
    before = ht.snapshot(folder)
    code, msg = ht.run(*args)
    assert "np.float64" not in msg and "Traceback" not in msg
    if case.refused:
        assert code == 2, msg
        assert str(named) in msg, msg
        for words in case.refused:
            assert words in msg, (words, msg)
        assert ht.snapshot(folder) == before  # nothing written, every file byte-identical
    else:
        assert code == 0, msg
        case.check(book)


def test_the_suite_covers_every_level():
    levels = {c.level for c in CASES}
    assert levels == {"zip", "xml", "cell", "json", "csv", "file"}, levels
    assert len(CASES) >= 200
    assert len({c.name for c in CASES}) == len(CASES)


def test_permission_denied_is_named_as_such(master, tmp_path):
    """A source and a book this user may not read: "permission denied", not "not an Excel workbook".

    CI runs as root, who may read anything: the command then runs in a forked child that became ``nobody``
    (everything it needs is imported already)."""
    open_dir = Path(tempfile.mkdtemp(prefix="ims-perm-"))  # one the other user may pass through
    try:
        open_dir.chmod(0o711)
        for folder in (tmp_path, open_dir):  # the folder closed to the user, then only the files
            src = folder / "in.csv"
            src.write_text(ht.csv_text())
            book = folder / "client.xlsm"
            shutil.copy(master, book)
            src.chmod(0)
            book.chmod(0)
            before = ht.snapshot(folder)
            for args, named in ((["report", src, "--gstin", DEMO_CONTEXT["gstin"], "--period", "2026-10"], src),
                                (["process", book], book)):
                code, msg = _as_other_user(args)
                assert code == 2, msg
                assert str(named) in msg and "permission denied" in msg.lower(), msg
                assert "not an Excel workbook" not in msg
            assert ht.snapshot(folder) == before
    finally:
        shutil.rmtree(open_dir)


def _as_other_user(args: list) -> tuple[int, str]:
    if os.geteuid() != 0:
        return ht.run(*args)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, run, send (code, message) back
        os.close(r)
        try:
            os.setgid(65534)
            os.setuid(65534)
            res = ht.run(*args)
        except BaseException as e:  # a crash is reported, not hidden
            res = (99, "crash: " + traceback.format_exc())
        os.write(w, pickle.dumps(res))
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def test_json_streams_are_refused_not_hung(tmp_path):
    """A FIFO given as a JSON source returns at once (it would block ``read()`` forever)."""
    os.mkfifo(tmp_path / "in.json")
    code, msg = ht.run("report", tmp_path / "in.json", "--gstin", DEMO_CONTEXT["gstin"], "--period", "2026-10")
    assert code == 2 and "not a regular file" in msg


def test_messages_show_numbers_plain():
    raw = pd.DataFrame([{**ht.ROW, "IGST": np.float64(-450.0)}], dtype=object)
    with pytest.raises(InputError) as e:
        normalise(raw, file="x.csv")
    assert "-450.00 is negative" in str(e.value) and "np." not in str(e.value)


def test_cr_survives_import_then_export(master, tmp_path):
    """A CR typed in a text cell reaches the workbook as Excel's _x000D_ and comes back as CR."""
    book = tmp_path / "client.xlsm"
    shutil.copy(master, book)
    (tmp_path / "cr.csv").write_text(ht.csv_text({"Document Number": "INV-9", "Supplier Name": "A\rB"}), newline="")
    assert ht.run("import", book, tmp_path / "cr.csv")[0] == 0
    assert "A\rB" in _records(book)["supplier_name"].tolist()
    sheet = zipfile.ZipFile(book).read(ht.sheet_part(book, "Inward"))
    assert b"A_x000D_B" in sheet and b"A\rB" not in sheet
    out = tmp_path / "up.json"
    code, msg = ht.run("export", book, "--out", out, "--only-valid")
    assert code == 0, msg
    json.loads(out.read_text(encoding="utf-8"))


def test_cr_in_a_remark_survives_import_process_export_and_reimport(master, tmp_path):
    """Issue 14 "a CR inside text survives a round trip", on the text that reaches the portal: a remark with
    CR and CRLF goes CSV -> workbook (_x000D_) -> process (rewrites the sheet) -> upload JSON -> import back,
    unchanged at every step (the offline upload carries remarks with Reject: formats-and-market.md 10)."""
    book = tmp_path / "client.xlsm"
    shutil.copy(master, book)
    remark = "line one\rline two\r\nline three"
    (tmp_path / "cr.csv").write_text(ht.csv_text({"Document Number": "INV-9", "Action": "Reject",
                                                  "Remarks": remark}), newline="")
    assert ht.run("import", book, tmp_path / "cr.csv")[0] == 0
    assert ht.run("process", book)[0] == 0
    assert remark in _records(book)["remarks"].tolist()
    out = tmp_path / "up.json"
    code, msg = ht.run("export", book, "--out", out, "--only-valid")
    assert code == 0, msg
    sent = [r for v in json.loads(out.read_text(encoding="utf-8"))["invdata"].values() for r in v]
    assert [r["remarks"] for r in sent if r.get("inum") == "INV-9"] == [remark]
    before = ht.snapshot(tmp_path)
    code, msg = ht.run("import", book, out)
    assert code == 0 and "1 unchanged" in msg, msg
    assert ht.snapshot(tmp_path)[book.name] == before[book.name]
