"""``reconcile``: the purchase-register reconciliation written into a client workbook (issue 11).

Statuses as tests/test_reconcile.py checks them on the engine; here: the sheets, the Inward table's
Match Status / Match Note / Suggested Action columns (the engine's values, overwritten each run, kept by
process and import), ``--apply`` (blank Actions only), the untouched VBA and other cells, the follow-up
CSVs (cells neutralised), the tolerances from the flags.
Rules: D1 (invoice Accept), D16 (BoE amendment: Pending allowed, no Reject), section 6.1 (add-back).
"""

from __future__ import annotations

import csv
import json
import re
import zipfile

import openpyxl
import pytest
import pandas as pd

from ims_excel.book.filebook import FileBook
from ims_excel.cli.app import main
from ims_excel.cli.demo import sample_path
from ims_excel.records import INWARD_RECONCILE
from ims_excel.xlsx.package import col_letters
from tests.lifecycle.lctools import grid, raw_parts, sheet_names, sheet_part, table_rows, type_cells
from tests.lifecycle.test_lc_merge import _book
from tests.support.ims_download import ims_record, write_ims_json

BOOKS = str(sample_path("sample_purchases.csv"))


def _row(g, first):
    return next(r for r in g if r and r[0] == first)


def test_reconcile_writes_sheets_and_keeps_everything_else(sample_book, tmp_path, capsys):
    before = raw_parts(sample_book)
    code = main(["reconcile", str(sample_book), BOOKS, "--followup", str(tmp_path / "follow")])
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "IMS records: missing_in_books 18  matched 10  mismatch 3" in out
    names = sheet_names(sample_book)
    assert names.index("Reconciliation") == names.index("Inward") + 1 and "Suppliers" in names
    after = raw_parts(sample_book)
    for part in ("xl/vbaProject.bin",):
        assert after[part] == before[part]
    inward = sheet_part(sample_book, "Inward")
    others = [p for p in before if p.startswith("xl/worksheets/") and p != inward]
    assert all(after[p] == before[p] for p in others)  # only new sheets were added
    g = grid(sample_book, "Reconciliation")
    header = next(r for r in g if r and r[0] == "Inward row")
    rows = [dict(zip(header, r)) for r in g if r and isinstance(r[0], (int, float)) and len(r) >= len(header) - 5]
    by_doc = {r["Document Number"]: r for r in rows if "Document Number" in r}
    assert by_doc["INV-2004"]["Match Status"] == "mismatch" and by_doc["INV-2004"]["Differences"] == "IGST +200.00"
    assert by_doc["INV-2001"]["Suggested Action"] == "Accept"
    assert "rule D1 allows Accept" in by_doc["INV-2001"]["Why"]
    assert by_doc["7001101"]["Suggested Action"] == "Pending"
    s = grid(sample_book, "Suppliers")
    kaveri = _row(s, "29AAACS2222T1ZX")
    assert kaveri[2] == 1  # INV-2030 is in our books, not reported by the supplier
    total = _row(s, "Total")
    assert total[7] == 900.0  # the rejected CN-350 amendment: the reduction the engine computes for it (6.1)
    files = sorted((tmp_path / "follow").glob("*.csv"))
    text = (tmp_path / "follow" / "29AAACS2222T1ZX_Kaveri_Components.csv").read_text(encoding="utf-8-sig")
    lines = list(csv.reader(text.splitlines()))
    assert lines[0][:2] == ["Supplier", "29AAACS2222T1ZX"]
    assert ["Not reported by you (in our books)", "2026-27/INV-2030"] == lines[2][:2]
    assert len(files) == 4


def test_reconcile_tolerance_flag_and_rerun_replaces_sheets(sample_book, capsys):
    assert main(["reconcile", str(sample_book), BOOKS, "--tolerance", "500", "--no-backup"]) == 0
    out = capsys.readouterr().out
    assert "mismatch 1" in out  # IGST +200 and +100 now within tolerance; the BoE +1000 is not
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert sheet_names(sample_book).count("Reconciliation") == 1


def test_reconcile_bad_books_writes_nothing(sample_book, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Section,Supplier GSTIN,Document Number,Document Date,IGST\nB2B,29AAACS2222T1ZX,X-1,2026-10-01,1O\n",
                   encoding="utf-8")
    before = raw_parts(sample_book)
    assert main(["reconcile", str(sample_book), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "row 2" in err and "'IGST'" in err
    assert raw_parts(sample_book) == before


def _columns(book) -> list[tuple]:
    return [tuple(r[c] for c in INWARD_RECONCILE) for r in table_rows(book)]


def _report(book, capsys) -> dict:
    capsys.readouterr()
    assert main(["report", str(book), "--purchases", BOOKS, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_reconcile_fills_the_inward_columns_with_the_engines_values(sample_book, capsys):
    """Every record's Match Status / Suggested Action is what ``report --purchases --json`` says; its Match
    Note is the suggestion's reason (the books row, the differences and the rule), with the books row
    first where the record itself has no suggestion (already actioned); every other Inward cell is as it
    was. Re-running changes nothing."""
    before = table_rows(sample_book)
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert "Match Status, Match Note, Suggested Action filled" in capsys.readouterr().out
    rows = table_rows(sample_book)
    recs = _report(sample_book, capsys)["records"]
    assert len(rows) == len(recs) == len(before) == 34
    for old, row, rec in zip(before, rows, recs):
        assert row["Document Number"] == rec["document_number"]
        assert row["Match Status"] == rec["match"]["status"]
        assert row["Suggested Action"] == rec["suggested_action"]
        reason = rec["suggestion_reason"]
        if reason.startswith("no suggestion"):
            where = (f"books row {rec['match']['purchase_rows'][0]} (sample_purchases.csv)"
                     if rec["match"]["purchase_rows"] else "not in the purchase register")
            assert row["Match Note"].startswith(where) and row["Match Note"].endswith("; " + reason)
        else:
            assert row["Match Note"] == reason
        assert {k: v for k, v in row.items() if k not in INWARD_RECONCILE} == \
            {k: v for k, v in old.items() if k not in INWARD_RECONCILE}
    by_doc = {r["Document Number"]: r for r in rows}
    assert by_doc["INV-2004"]["Match Note"].startswith("books row 5 (sample_purchases.csv): IGST +200.00; ")
    ws = openpyxl.load_workbook(sample_book)["Inward"]  # the cells rewritten in place keep their (grey) style
    header = [c.value for c in ws[1]]
    for name in INWARD_RECONCILE:
        cell = ws.cell(2, header.index(name) + 1)
        assert cell.value and cell.fill.fgColor.rgb == "FFEDEDED" and cell.protection.locked, name
    assert by_doc["7001101"]["Suggested Action"] == "Pending" and "rule D16 allows Pending" in \
        by_doc["7001101"]["Match Note"]
    # idempotent: the same values, the Inward sheet not even rewritten
    inward = sheet_part(sample_book, "Inward")
    part = raw_parts(sample_book)[inward]
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert "(0 cells changed)" in capsys.readouterr().out
    assert table_rows(sample_book) == rows and raw_parts(sample_book)[inward] == part


def test_apply_fills_blank_actions_only_and_the_engine_accepts_them(sample_book, capsys):
    """``--apply``: each suggestion into a BLANK Action (its ITC Reduction where blank: the credit note
    CN-401 gets Accept with Full, rule D7 / G9); an action the user typed (No Action on DN-301, which has a
    suggestion) stays; a suggestion the cells typed beside it would turn into a refused action (INV-2001
    with ITC Reduction typed: DECL_NOT_APPLICABLE) is left blank and listed; the rows filled are listed;
    the engine takes every filled action (no new error)."""
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    suggested = {r["Document Number"] for r in table_rows(sample_book) if r["Suggested Action"]}
    assert {"INV-2001", "DN-301"} <= suggested and "CN-401" not in suggested
    type_cells(sample_book, "DN-301", Action="No Action")
    type_cells(sample_book, "INV-2001", **{"ITC Reduction": "Full"})
    type_cells(sample_book, "CN-401", **{"Action": None, "ITC Reduction": None})
    rows = table_rows(sample_book)
    sheet_row = {r["Document Number"]: k + 2 for k, r in enumerate(rows)}
    before = {r["Document Number"]: r for r in rows}
    report = _report(sample_book, capsys)["records"]
    errors_before = {r["document_number"] for r in report if r["status"] == "error"}
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup", "--apply"]) == 0
    out = capsys.readouterr().out
    after = {r["Document Number"]: r for r in table_rows(sample_book)}
    filled = {d for d, r in after.items() if r["Action"] != before[d]["Action"]}
    assert filled == suggested - {"INV-2001", "DN-301"} | {"CN-401"}
    assert f"Filled {len(filled)} blank Action cell(s)" in out
    for d in filled:
        assert before[d]["Action"] == "" and after[d]["Action"] == after[d]["Suggested Action"] != ""
        assert f"  row {sheet_row[d]} {d}: {after[d]['Action']}\n" in out
    assert after["CN-401"]["Action"] == "Accept" and after["CN-401"]["ITC Reduction"] == "Full"
    assert after["DN-301"]["Action"] == "No Action"
    assert after["INV-2001"]["Action"] == "" and after["INV-2001"]["ITC Reduction"] == "Full"
    assert f"row {sheet_row['INV-2001']} INV-2001: Accept not filled" in out and "(DECL_NOT_APPLICABLE)" in out
    for d, r in after.items():  # nothing else typed changed
        if d not in filled:
            assert {k: r[k] for k in ("Action", "ITC Reduction", "Remarks")} == \
                {k: before[d][k] for k in ("Action", "ITC Reduction", "Remarks")}
    report = _report(sample_book, capsys)["records"]
    want = {"Accept": "Accepted", "Reject": "Rejected", "Pending": "Pending"}
    for r in report:
        if r["document_number"] in filled:
            assert r["status"] != "error" and r["effective_action"] == want[after[r["document_number"]]["Action"]]
    assert {r["document_number"] for r in report if r["status"] == "error"} <= errors_before
    # applying again fills nothing
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup", "--apply"]) == 0
    assert "Filled 0 blank Action cell(s)" in capsys.readouterr().out


def test_process_and_import_after_reconcile_keep_the_columns(sample_book, capsys):
    """``process`` writes only the formula columns' values; importing the same records again (a user file:
    decisions only) changes nothing: the reconcile columns are the tool's, not a decision to apply."""
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    cols = _columns(sample_book)
    assert any(c[0] for c in cols)
    assert main(["process", str(sample_book)]) == 0
    assert _columns(sample_book) == cols
    assert {r["Status"] for r in table_rows(sample_book)} >= {"ok", "error"}  # process did write
    capsys.readouterr()
    assert main(["import", str(sample_book), str(sample_path("sample_inward.csv"))]) == 0
    assert _columns(sample_book) == cols


def test_a_newer_download_keeps_the_columns_and_clears_them_on_a_supplier_change(tmp_path, capsys):
    """A portal download owns the portal's fields only: reconcile's columns stay, and are not reported
    as changes; where the supplier changed the record (G3) the match no longer holds, so they are
    cleared (reconcile fills them again)."""
    book = _book(tmp_path)
    first = write_ims_json(tmp_path / "d1.json", [ims_record("INV-1"), ims_record("INV-2")])
    assert main(["import", str(book), str(first)]) == 0
    books = tmp_path / "books.csv"
    books.write_text("Section,Supplier GSTIN,Document Number,Document Date,Taxable Value,IGST,CGST,SGST,Cess\n"
                     "B2B,27AAACR5055K1Z7,INV/1,05-10-2025,1000,180,0,0,0\n"
                     "B2B,27AAACR5055K1Z7,INV-2,05-10-2025,1000,180,0,0,0\n", encoding="utf-8")
    assert main(["reconcile", str(book), str(books), "--no-backup"]) == 0
    cols = _columns(book)
    assert [c[0] for c in cols] == ["matched", "matched"] and all(c[1].startswith("books row") for c in cols)
    capsys.readouterr()
    assert main(["import", str(book), str(first)]) == 0
    assert "Match" not in capsys.readouterr().out and _columns(book) == cols
    later = write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", iamt=200.0, val=1200.0), ims_record("INV-2")])
    assert main(["import", str(book), str(later)]) == 0
    out = capsys.readouterr().out
    assert "IGST: 180.00 -> 200.00" in out and "Match" not in out
    assert _columns(book) == [("", "", ""), cols[1]]
    assert main(["reconcile", str(book), str(books), "--no-backup"]) == 0
    assert _columns(book)[0][0] == "mismatch"


def test_roll_does_not_carry_last_periods_match(sample_book, tmp_path, capsys):
    """The next period's workbook starts without reconcile's columns: they describe this period's books."""
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed", "--out", str(tmp_path / "next.xlsm")]) == 0
    rows = table_rows(tmp_path / "next.xlsm")
    assert rows and all(r[c] == "" for r in rows for c in INWARD_RECONCILE)


def test_upgrade_after_reconcile_carries_the_columns_and_the_sheets(sample_book, capsys):
    """``upgrade`` moves the Inward cells into the current template, reconcile's columns with them, and
    carries the Reconciliation and Suppliers sheets as it carries any sheet the template lacks."""
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    cols = _columns(sample_book)
    assert main(["upgrade", str(sample_book)]) == 0, capsys.readouterr().err
    assert _columns(sample_book) == cols
    assert {"Reconciliation", "Suppliers"} <= set(sheet_names(sample_book))


def test_tool_columns_alone_keep_every_other_cell_and_skip_the_cache_step(sample_book, capsys):
    """The tool columns (``records.Column.tool``: Match Status, Match Note, Suggested Action) are read by no
    formula, so writing only them leaves every cached formula value right: the save does not read and
    evaluate the book again, and every other cell of the Inward sheet is the same XML as before. A cell a
    formula reads (Action) still ends with the cache-only step (issue 9)."""
    inward = sheet_part(sample_book, "Inward")
    with FileBook(sample_book) as wb:
        t = wb.table("Inward", "inward")
        letters = {col_letters(t.inputs[name]) for name in INWARD_RECONCILE}
        wb.write_table(t, {int(t.rows[0]): {"Match Status": "matched"}}, pd.DataFrame())
        assert not wb.recache
    with FileBook(sample_book) as wb:
        t = wb.table("Inward", "inward")
        wb.write_table(t, {int(t.rows[0]): {"Action": "Accept"}}, pd.DataFrame())
        assert wb.recache

    def others(path):
        xml = zipfile.ZipFile(path).read(inward).decode()
        return re.sub(r'<c r="(' + "|".join(letters) + r')\d+"(?:[^>]*/>|[^>]*>.*?</c>)', "", xml)

    before = others(sample_book)
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert "Match Status, Match Note, Suggested Action filled" in capsys.readouterr().out
    assert others(sample_book) == before


# ------------------------------------------------ the Config sheet's reconciliation settings (issue 11)


def _books_off_by_3(tmp_path) -> str:
    """The sample books with INV/2001's CGST ₹3 more than IMS has: beyond the default ₹1.00, within ₹5."""
    text = sample_path("sample_purchases.csv").read_text(encoding="utf-8")
    row = 'INV/2001,05-10-2026,"1,00,000.00",0,9000,9000,0,27,N,PUR-101'
    assert row in text
    path = tmp_path / "books3.csv"
    path.write_text(text.replace(row, row.replace(",0,9000,9000,", ",0,9003,9000,")), encoding="utf-8")
    return str(path)


def _config_cells(book, **values) -> None:
    """Config cells by defined name set in the sheet's XML, as Excel stores what a person types (a number,
    a text, or blank for None); every other part as it was."""
    from ims_excel.book.read import split_ref
    from ims_excel.xlsx.package import Package

    with Package(book) as pkg:
        refs = {name: split_ref(pkg.defined_names()[name]) for name in values}
    part = sheet_part(book, "Config")
    part = part if part.startswith("xl/") else "xl/" + part
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    xml = entries[part].decode("utf-8")
    for name, v in values.items():
        sheet, a1 = refs[name]
        assert sheet == "Config"
        if v is None:
            body = "/>"
        elif isinstance(v, (int, float)):
            body = f"><v>{v}</v></c>"
        else:
            body = f' t="inlineStr"><is><t>{v}</t></is></c>'
        new = re.sub(rf'<c r="{a1}"( s="\d+")?[^>]*?(?:/>|>.*?</c>)', lambda m: f'<c r="{a1}"{m.group(1) or ""}{body}',
                     xml, count=1, flags=re.S)
        assert new != xml, name
        xml = new
    entries[part] = xml.encode("utf-8")
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)


def _inward(book) -> dict[str, dict]:
    return {r["Document Number"]: r for r in table_rows(book)}


def _json(book, books, capsys, *flags) -> dict[str, dict]:
    capsys.readouterr()
    assert main(["report", str(book), "--purchases", books, "--json", *flags]) == 0
    return {r["document_number"]: r for r in json.loads(capsys.readouterr().out)["records"]}


def test_the_config_tolerance_sets_what_agrees(sample_book, tmp_path, capsys):
    """Issue 11: "amounts compared ... with a tolerance (default ₹1.00, set on Config)". INV-2001 differs from
    the books by ₹3 of CGST: a mismatch at the default 1.00; with the Config's MatchTolerance 5 it is matched
    within tolerance - through ``reconcile`` (the Reconciliation sheet states the tolerance) and ``report BOOK
    --purchases --json`` alike; the ``--tolerance`` flag still overrides the sheet."""
    books = _books_off_by_3(tmp_path)
    assert _json(sample_book, books, capsys)["INV-2001"]["match"]["status"] == "mismatch"
    assert main(["reconcile", str(sample_book), books, "--no-backup"]) == 0
    assert _inward(sample_book)["INV-2001"]["Match Status"] == "mismatch"
    _config_cells(sample_book, MatchTolerance=5)
    assert main(["reconcile", str(sample_book), books, "--no-backup"]) == 0
    row = _inward(sample_book)["INV-2001"]
    assert row["Match Status"] == "matched_within_tolerance" and row["Suggested Action"] == "Accept"
    assert any(r and str(r[0]).startswith("Tolerance: ₹5.00 per head") for r in grid(sample_book, "Reconciliation"))
    rec = _json(sample_book, books, capsys)["INV-2001"]
    assert rec["match"]["status"] == "matched_within_tolerance" and rec["suggested_action"] == "Accept"
    assert _json(sample_book, books, capsys, "--tolerance", "1")["INV-2001"]["match"]["status"] == "mismatch"
    assert main(["reconcile", str(sample_book), books, "--no-backup", "--tolerance", "1"]) == 0
    assert _inward(sample_book)["INV-2001"]["Match Status"] == "mismatch"


def test_the_config_date_tolerance_and_policy_set_the_suggestion(sample_book, tmp_path, capsys):
    """The suggestion policy is the firm's, on Config: mismatch -> "Reject with remark" (instead of the YAML's
    Pending first) suggests Reject with the remark stating the difference; a blank policy cell means no
    suggestion for that status (matched: INV-2001 with the books as they are)."""
    books = _books_off_by_3(tmp_path)
    assert _json(sample_book, books, capsys)["INV-2001"]["suggested_action"] == "Pending"
    _config_cells(sample_book, MatchPolicy_mismatch="Reject with remark")
    rec = _json(sample_book, books, capsys)["INV-2001"]
    assert rec["suggested_action"] == "Reject" and rec["suggested_remarks"] == "Differs from our books: CGST -3.00"
    assert main(["reconcile", str(sample_book), books, "--no-backup"]) == 0
    assert _inward(sample_book)["INV-2001"]["Suggested Action"] == "Reject"
    assert _json(sample_book, BOOKS, capsys)["INV-2001"]["suggested_action"] == "Accept"  # matched
    _config_cells(sample_book, MatchPolicy_matched=None)
    rec = _json(sample_book, BOOKS, capsys)["INV-2001"]
    assert rec["match"]["status"] == "matched" and rec["suggested_action"] == ""
    assert "no policy option is allowed" in rec["suggestion_reason"]


BAD_VALUES = [
    ("MatchTolerance", -1, "B27", "-1 is negative"),
    ("MatchTolerance", "about one rupee", "B27", "'about one rupee' is not an amount"),
    ("MatchDateTolerance", 1.5, "B28", "'1.5' is not a whole number of days"),
    ("MatchDateTolerance", -2, "B28", "-2 is negative"),
    ("MatchPolicy_mismatch", "Pending with remark; Reject politely", "B31", "'Reject politely' is not an option"),
    ("MatchPolicy_matched", "Accept; No Action", "B29", "'No Action' is not an option"),
    ("MatchPolicy_missing_in_books", "Accept with ITC Reduction Partial", "B32",
     "'Accept with ITC Reduction Partial' is not an option"),
    ("MatchPolicy_mismatch", "Accept with remark", "B31", "'Accept with remark' is not an option"),
    ("MatchTolerance", "1,5", "B27", "'1,5' is not an amount"),
]


@pytest.mark.parametrize("name,value,cell,message", BAD_VALUES, ids=[f"{b[0]}={b[1]}" for b in BAD_VALUES])
def test_a_bad_config_setting_is_refused_naming_its_cell(sample_book, capsys, name, value, cell, message):
    """A bad tolerance or policy option stops ``reconcile`` (nothing written) and ``report --purchases``, the
    message naming the file, the Config sheet, the row and the cell - never silently the default."""
    _config_cells(sample_book, **{name: value})
    before = raw_parts(sample_book)
    capsys.readouterr()
    assert main(["reconcile", str(sample_book), BOOKS]) == 2
    err = capsys.readouterr().err
    row = int(cell[1:])
    assert f"{sample_book}, sheet 'Config', row {row}, column '" in err and f"(Config!{cell})': {message}" in err, err
    assert raw_parts(sample_book) == before
    assert main(["report", str(sample_book), "--purchases", BOOKS, "--json"]) == 2
    assert f"(Config!{cell})': {message}" in capsys.readouterr().err


def _settings_cells(book) -> dict[str, object]:
    from ims_excel.book.outputs import RECON_NAMES
    from ims_excel.book.read import read_config
    from ims_excel.xlsx.package import Package

    with Package(book) as pkg:
        values, _ = read_config(pkg)
    return {n: values.get(n) for n in RECON_NAMES}


def test_upgrade_carries_the_edited_settings(sample_book, capsys):
    """``upgrade`` rebuilds the book on the current template with the Config values: the tolerances and the
    policy a firm edited stay (a blank policy cell stays blank: no suggestion), nothing is left behind."""
    _config_cells(sample_book, MatchTolerance=2.5, MatchDateTolerance=3,
                  MatchPolicy_mismatch="Reject with remark; Pending with remark", MatchPolicy_matched=None)
    edited = _settings_cells(sample_book)
    assert edited["MatchTolerance"] == 2.5 and edited["MatchPolicy_matched"] == ""
    assert main(["upgrade", str(sample_book)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Match" not in out, out  # carried as Config values, not as the user's own additions
    assert _settings_cells(sample_book) == edited
    assert _json(sample_book, BOOKS, capsys)["INV-2001"]["suggested_action"] == ""


def test_upgrade_keeps_a_cleared_tolerance_clear(sample_book, capsys):
    """A tolerance cell the firm cleared (blank: reconcile.yaml's) is not refilled with the template's 1.00 by
    ``upgrade``: what the user typed - here nothing - is never overwritten."""
    _config_cells(sample_book, MatchTolerance=None, MatchDateTolerance=None)
    assert _settings_cells(sample_book)["MatchTolerance"] == ""
    assert main(["upgrade", str(sample_book)]) == 0, capsys.readouterr().err
    after = _settings_cells(sample_book)
    assert after["MatchTolerance"] == "" and after["MatchDateTolerance"] == "", after


def _older_template(book) -> None:
    """The book as an older template made it: no reconciliation section on Config (its names and rows gone)."""
    part = sheet_part(book, "Config")
    part = part if part.startswith("xl/") else "xl/" + part
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    wb = re.sub(r'<definedName name="Match[A-Za-z_]*">[^<]*</definedName>', "", entries["xl/workbook.xml"].decode())
    xml = re.sub(r'<row r="(2[6-9]|3[0-3])".*?</row>', "", entries[part].decode(), flags=re.S)
    xml = re.sub(r'<dataValidation [^>]*sqref="B(2[7-9]|3[0-3])".*?</dataValidation>', "", xml, flags=re.S)
    xml = re.sub(r'<dataValidations count="\d+"', lambda m: f'<dataValidations count="{xml.count("<dataValidation ")}"',
                 xml)
    entries["xl/workbook.xml"], entries[part] = wb.encode(), xml.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)


def test_a_book_from_an_older_template_reconciles_with_the_yaml_and_upgrade_adds_the_section(
        sample_book, tmp_path, capsys):
    """A workbook made before the Config section: ``reconcile`` and ``report --purchases`` use
    reconcile.yaml's tolerance and policy (the same result as a fresh book's defaults); ``upgrade`` adds the
    section with the YAML's defaults."""
    books = _books_off_by_3(tmp_path)
    fresh = _json(sample_book, books, capsys)
    _older_template(sample_book)
    assert set(_settings_cells(sample_book).values()) == {None}
    assert _json(sample_book, books, capsys) == fresh
    assert main(["reconcile", str(sample_book), books, "--no-backup"]) == 0
    row = _inward(sample_book)["INV-2001"]
    assert row["Match Status"] == "mismatch" and row["Suggested Action"] == "Pending"
    assert main(["upgrade", str(sample_book)]) == 0, capsys.readouterr().err
    cells = _settings_cells(sample_book)
    assert cells["MatchTolerance"] == 1.0 and cells["MatchDateTolerance"] == 0
    assert cells["MatchPolicy_mismatch"] == "Pending with remark; Reject with remark"


def test_the_reconcile_sheets_have_their_tab_colours(sample_book, capsys):
    """The Reconciliation (blue) and Suppliers (green) sheets keep the tab colours they had before reconcile
    moved to the port (FileBook)."""
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    wb = openpyxl.load_workbook(sample_book)
    assert wb["Reconciliation"].sheet_properties.tabColor.rgb == "FF2E75B6"
    assert wb["Suppliers"].sheet_properties.tabColor.rgb == "FF70AD47"


def test_roll_carries_the_settings_to_the_next_period(sample_book, tmp_path, capsys):
    """The firm's tolerance and policy are the client's, not the period's: ``roll`` takes them along (as it
    takes the other Config values)."""
    _config_cells(sample_book, MatchTolerance=5, MatchPolicy_mismatch="Reject with remark",
                  MatchPolicy_matched=None)
    edited = _settings_cells(sample_book)
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed", "--out", str(tmp_path / "next.xlsm")]) == 0
    assert _settings_cells(tmp_path / "next.xlsm") == edited
