"""The Start-sheet buttons (``ims_excel.xl.macros``), run on an in-memory stand-in for the open workbook.

The stand-in behaves like Excel where it matters: a string starting with ``=`` becomes a formula
unless it carries the text prefix, protected sheets refuse writes, tables resize and fill their
calculated columns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from fakebook import ExcelError, FakeBook

from ims_excel.cli import main
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.book import new as book_new
from ims_excel.template import start
from ims_excel.xl import macros

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def empty_book(tmp_path_factory):
    book = tmp_path_factory.mktemp("xl") / "client.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Live Client", period=DEMO_CONTEXT["period"])
    book_new.set_config_as_of(book, DEMO_CONTEXT["as_of"])
    return book


@pytest.fixture
def book(empty_book):
    return FakeBook.from_file(empty_book)


def _imported(book: FakeBook) -> FakeBook:
    text = macros.import_data(book, [str(sample_path("sample_inward.csv")), str(sample_path("sample_outward.csv"))])
    assert "Inward: 34 added (rows 2-35)" in text and "Outward: 5 records added (rows 2-6)" in text
    return book


def test_button_targets_match_the_vba_and_the_start_sheet():
    bas = (ROOT / "vba_stub" / "IMSButtons.bas").read_text(encoding="utf-8")
    calls = re.findall(r'RunPython "import ([\w.]+) as m; m\.(\w+)\(\)"', bas)
    assert len(calls) == 6  # the five steps and reconcile (issue 11)
    for module, func in calls:
        assert module == "ims_excel.xl.macros"
        assert callable(getattr(macros, func)), func
    assert {b.python for b in start.BUTTONS} == {f"{m}.{f}()" for m, f in calls}


def test_no_argument_call_uses_the_calling_workbook(book, monkeypatch):
    """What RunPython does: m.validate() with no arguments asks xlwings for the caller, and only there."""
    _imported(book)
    monkeypatch.setattr(macros, "_caller", lambda: book)
    text = macros.validate()
    assert text.startswith("Validation: 34 records, 5 errors, 4 warnings")
    assert book.app.alerts[-1][0] == text


def test_import_appends_rows_and_excel_fills_the_formulas(book):
    _imported(book)
    inward = book.sheets["Inward"]
    table = inward.tables["Inward"]
    assert table.range.shape[0] == 35  # header + 34 records, the blank template row reused
    header = table.range.options(ndim=2).value[0]
    rows = table.data_body_range.options(ndim=2).value
    doc = {r[header.index("Document Number")] for r in rows}
    assert {"000123", "1234567890123456", "CN-380"} <= doc  # document numbers stay text
    status = header.index("Status") + table.c1
    assert inward.cell(35, status).formula  # calculated column filled by the table
    assert not inward.protected  # issue 9: unprotected, so that Excel can sort the table
    assert inward.api.calls == [] and book.sheets["Outward"].api.calls == []
    # importing again adds nothing and keeps what is there
    again = macros.import_data(book, [str(sample_path("sample_inward.csv"))])
    assert "Inward: 0 added, 0 updated" in again and "34 unchanged" in again


def test_text_that_looks_like_a_formula_stays_text(book, tmp_path):
    src = tmp_path / "nasty.csv"
    src.write_text("Section,Supplier GSTIN,Supplier Name,Document Number,Document Date,Taxable Value,IGST,"
                   "2B Period,Remarks\n"
                   'B2B,29AAACS2222T1ZX,"=HYPERLINK(""http://evil.example"",""x"")",-2+3,2026-10-05,100,18,2026-10,'
                   "@SUM(1)\n", encoding="utf-8")
    macros.import_data(book, [str(src)])
    inward = book.sheets["Inward"]
    header = inward.tables["Inward"].range.options(ndim=2).value[0]
    for col, text in (("Supplier Name", '=HYPERLINK("http://evil.example","x")'), ("Document Number", "-2+3"),
                      ("Remarks", "@SUM(1)")):
        cell = inward.cell(2, header.index(col) + 1)
        assert cell.formula is None and cell.value == text, col
    macros.validate(book)
    val = book.sheets["Validation"]
    assert not any(c.formula for c in val.cells.values())
    # the stand-in is right to be suspicious: without the prefix Excel would have made a formula
    val.put(1, 20, "=1+1")
    assert val.cell(1, 20).formula == "=1+1"


def test_validate_writes_the_validation_sheet_after_inward(book):
    _imported(book)
    macros.validate(book)
    names = [s.name for s in book.sheets]
    assert names[names.index("Inward") + 1] == "Validation"
    grid = book.sheets["Validation"].used_range.options(ndim=2).value
    flat = [c for r in grid for c in r]
    assert "PEND_WINDOW_OVER" in flat and "Live Client" in flat
    cn380 = next(r for r in grid if "CN-380" in r)
    assert cn380[0] == 15  # the Inward sheet row
    macros.validate(book)  # again: replaced, not added
    assert [s.name for s in book.sheets] == names


def test_compute_recalculates_and_checks_table_4(book):
    _imported(book)
    text = macros.compute(book)
    assert book.app.calculations == 1
    assert text.startswith("Computed.")
    # the stand-in does not calculate, so the formula cells still hold the template's zeros
    assert "differs from the engine" in text and "4A1 IGST" in text


def test_import_into_a_sheet_a_user_protected_puts_the_protection_back(book):
    book.sheets["Inward"].protected = True  # a protected sheet refuses writes, as Excel does
    _imported(book)
    inward = book.sheets["Inward"]
    assert inward.protected and [c[0] for c in inward.api.calls] == ["Unprotect", "Protect"]
    assert inward.api.calls[1][1]["AllowSorting"] and inward.api.calls[1][1]["Password"] == ""


def test_build_liability_writes_below_the_summary_once(book):
    """Running the button twice rewrites the same block in place (one mark, same cells). The stamp's clock
    is given (``now``), so the two runs cannot straddle a minute and differ in "written by ... HH:MM"."""
    _imported(book)
    when = dt.datetime(2026, 11, 26, 10, 59)
    text = macros.build_liability(book, now=when)
    assert "3 add-back rows" in text
    sheet = book.sheets["Liability"]
    grid = sheet.used_range.options(ndim=2).value
    marks = [r for r in grid if any(isinstance(c, str) and c.startswith("Add-back by document") for c in r)]
    assert len(marks) == 1 and "26-11-2026 10:59" in next(c for c in marks[0] if isinstance(c, str))
    assert any("SCN-901" in r for r in grid)
    macros.build_liability(book, now=when)
    assert sheet.used_range.options(ndim=2).value == grid
    macros.build_liability(book, now=when + dt.timedelta(minutes=1))  # only the stamp moves
    later = sheet.used_range.options(ndim=2).value
    assert [[c for c in r if not (isinstance(c, str) and "written by" in c)] for r in later] == \
        [[c for c in r if not (isinstance(c, str) and "written by" in c)] for r in grid]
    assert later != grid
    assert sheet.protected


def test_export_asks_before_leaving_records_out(book, tmp_path):
    _imported(book)
    target = tmp_path / "upload.json"
    book.app.answers = ["no"]
    text = macros.export_upload_json(book, str(target))
    assert "Nothing exported" in text and not target.exists()
    assert "4 records have errors" in book.app.alerts[-2][0]  # changed ones only (an unchanged error is not sent) and book.app.alerts[-2][1] == "yes_no"
    book.app.answers = ["yes"]
    text = macros.export_upload_json(book, str(target))
    doc = json.loads(target.read_text())
    assert doc["reqtyp"] == "SAVE" and "Left out (4)" in text
    # the same file as the command line's export of the same workbook
    assert main(["export", str(Path(book.fullname)), "--out", str(tmp_path / "cli.json"), "--only-valid"]) == 0


def test_problems_are_shown_not_raised(book):
    book.sheets["Config"].protected = False
    book.names["RecipientGSTIN"].refers_to_range.value = "27AAACR5055K1Z8"
    text = macros.validate(book)
    assert text.startswith("Cannot use this input")
    assert "Recipient GSTIN (Config!B4)" in text and "not a valid GSTIN" in text
    assert book.app.alerts[-1][0] == text


def test_a_protected_sheet_is_never_written_without_unprotecting(book):
    _imported(book)
    book.sheets["Liability"].api.Unprotect = lambda password="": None  # Excel refuses to unprotect
    with pytest.raises(ExcelError):
        macros.build_liability(book)


def test_reconcile_writes_sheets_and_applies_to_blank_actions_only(book):
    """Issue 11: the Excel door of ``reconcile`` (rules D1 Accept, D16 BoE Pending; typed actions kept)."""
    _imported(book)
    before = book.sheets["Inward"].tables["Inward"].range.options(ndim=2).value
    header = [str(h) for h in before[0]]
    a = header.index("Action")
    typed = {r[header.index("Document Number")]: r[a] for r in before[1:] if r[a]}
    text = macros.reconcile(book, [str(sample_path("sample_purchases.csv"))], apply=True)
    assert "Filled 6 blank Action cells" in text
    names = [s.name for s in book.sheets]
    assert names[names.index("Inward") + 1] == "Reconciliation" and "Suppliers" in names
    after = book.sheets["Inward"].tables["Inward"].range.options(ndim=2).value
    by_doc = {r[header.index("Document Number")]: r for r in after[1:]}
    assert by_doc["INV-2001"][a] == "Accept" and by_doc["7001101"][a] == "Pending"
    assert all(by_doc[d][a] == v for d, v in typed.items())  # never overwrites a typed action
    assert by_doc["RCM-11"][a] in (None, "")  # outside IMS: no suggestion
    # the Inward columns Match Status / Match Note / Suggested Action, as the command writes them
    m, n, sa = (header.index(c) for c in ("Match Status", "Match Note", "Suggested Action"))
    assert by_doc["INV-2004"][m] == "mismatch" and by_doc["INV-2004"][n].startswith("books row 5 (sample_purchases")
    assert by_doc["INV-2001"][sa] == "Accept" and "rule D1 allows Accept" in by_doc["INV-2001"][n]
    assert by_doc["7001101"][sa] == "Pending" and by_doc["RCM-11"][sa] in (None, "")
    assert not book.sheets["Inward"].api.ProtectContents  # left unprotected, so it still sorts (issue 9)
    grid = book.sheets["Reconciliation"].used_range.options(ndim=2).value
    assert any("INV-2004" in r and "mismatch" in r for r in grid)
    text = macros.reconcile(book, [str(sample_path("sample_purchases.csv"))], apply=True)
    assert "Filled 0 blank Action cells" in text  # the second time round nothing is blank and suggested


def test_reconcile_button_reads_the_config_settings(book, tmp_path):
    """Issue 11: the Excel button reads the Config sheet's reconciliation settings through the open
    workbook's Config reader (OpenBook.config), as the command does: MatchTolerance 5 takes INV-2001, ₹3 of
    CGST off the books, from mismatch to matched within tolerance; a mismatch policy of "Reject with remark"
    is suggested; a bad option is shown naming its cell, nothing written."""
    _imported(book)
    text = sample_path("sample_purchases.csv").read_text(encoding="utf-8")
    row = 'INV/2001,05-10-2026,"1,00,000.00",0,9000,9000,0,27,N,PUR-101'
    books = tmp_path / "books3.csv"
    books.write_text(text.replace(row, row.replace(",0,9000,9000,", ",0,9003,9000,")), encoding="utf-8")

    def inward_row(doc: str) -> dict:
        grid = book.sheets["Inward"].tables["Inward"].range.options(ndim=2).value
        header = [str(h) for h in grid[0]]
        return next(dict(zip(header, r)) for r in grid[1:] if r[header.index("Document Number")] == doc)

    macros.reconcile(book, [str(books)], apply=False)
    assert inward_row("INV-2001")["Match Status"] == "mismatch"
    assert inward_row("INV-2001")["Suggested Action"] == "Pending"
    book.sheets["Config"].protected = False
    book.names["MatchPolicy_mismatch"].refers_to_range.value = "Reject with remark"
    macros.reconcile(book, [str(books)], apply=False)
    assert inward_row("INV-2001")["Suggested Action"] == "Reject"
    book.names["MatchTolerance"].refers_to_range.value = 5
    macros.reconcile(book, [str(books)], apply=False)
    assert inward_row("INV-2001")["Match Status"] == "matched_within_tolerance"
    assert inward_row("INV-2001")["Suggested Action"] == "Accept"
    book.names["MatchPolicy_matched"].refers_to_range.value = "Accept; Hold"
    shown = macros.reconcile(book, [str(books)], apply=False)
    assert shown.startswith("Cannot use this input") and "(Config!B29)': 'Hold' is not an option" in shown
