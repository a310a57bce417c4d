"""``import`` merges (issue 10): a newer download updates the workbook's rows, the user's decisions stay,
a supplier's change resets the action (G3), a deleted saved record is marked gone, the user's own files
apply decisions, the portal's error file marks rows, and the portal round trip leaves the book unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import openpyxl
from lctools import grid, table_rows, type_cells

from ims_excel.book import imports as book_imports
from ims_excel.book import read as book_read
from ims_excel.cli import main
from tests.support.ims_download import SUPPLIER, ims_record, write_ims_json

GSTIN = "29AAACS2222T1ZX"
S1, S2 = SUPPLIER, "27AAACS1111S1Z9"




def _book(tmp_path: Path) -> Path:
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2025-10"]) == 0
    return book


def _rows(book: Path) -> dict[str, dict]:
    return {r["Document Number"]: r for r in table_rows(book)}



def _evaluate(book: Path):
    b = book_read.load_book(book)
    res = book_read.evaluate_book(b)
    recs = res.records.assign(doc=b.inward.frame["document_number"].to_numpy())
    return recs.set_index("doc")


def test_a_newer_download_updates_the_portal_fields_and_keeps_the_users(tmp_path, capsys):
    """The issue's case: INV-1 imported Not Filed; a later download has it Filed with IGST changed. The portal's
    fields follow the download; a record without an action is simply updated."""
    book = _book(tmp_path)
    first = write_ims_json(tmp_path / "d1.json", [ims_record("INV-1", srcfilstatus="Not Filed"), ims_record("INV-2")])
    assert main(["import", str(book), str(first)]) == 0
    type_cells(book, "INV-2", **{"Remarks": "checked", "Action": "Accept"})
    later = write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", iamt=200.0, val=1200.0),
                                          ims_record("INV-2", srcfilstatus="Filed", txval=1000.0)])
    capsys.readouterr()
    assert main(["import", str(book), str(later)]) == 0
    out = capsys.readouterr().out
    rows = _rows(book)
    assert len(rows) == 2
    assert rows["INV-1"]["Supplier Filing Status"] == "Filed" and rows["INV-1"]["IGST"] == 200
    assert rows["INV-2"]["Action"] == "Accept" and rows["INV-2"]["Remarks"] == "checked"  # the user's: kept
    assert "IGST: 180.00 -> 200.00" in out and "Supplier Filing Status: Not Filed -> Filed" in out
    assert "1 updated" in out and "1 unchanged" in out
    assert _evaluate(book).loc["INV-1", "itc_igst"] == 200  # filed now: in this GSTR-2B


def test_importing_the_same_file_twice_changes_nothing(tmp_path, capsys):
    book = _book(tmp_path)
    d = write_ims_json(tmp_path / "d.json", [ims_record("INV-1"), ims_record("INV-2", srcfilstatus="Not Filed")])
    assert main(["import", str(book), str(d)]) == 0
    before = book.read_bytes()
    capsys.readouterr()
    assert main(["import", str(book), str(d)]) == 0
    assert "Inward: 0 added, 0 updated" in capsys.readouterr().out
    assert book.read_bytes() == before  # not even rewritten


def test_supplier_change_resets_the_action_keeps_the_old_choice_and_flags_the_row(tmp_path, capsys):
    """G3: an edit of a saved record replaces it in IMS and resets the action to N (S0 FAQ 17)."""
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d1.json",
                                                 [ims_record("INV-1", srcfilstatus="Not Filed", action="R")]))]) == 0
    assert _rows(book)["INV-1"]["Action"] == "Reject"
    edited = write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", srcfilstatus="Not Filed", action="N", txval=900.0,
                                                iamt=162.0, val=1062.0)])
    capsys.readouterr()
    assert main(["import", str(book), str(edited), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["counts"]["reset"] == 1
    row = _rows(book)["INV-1"]
    assert row["Action"] in ("", None) and row["Previous Action"] == "No Action"
    assert "your Rejected was reset to No Action (G3)" in row["Supplier Change"] or \
        "your Reject was reset to No Action (G3)" in row["Supplier Change"]
    assert "IGST 180.00 -> 162.00" in row["Supplier Change"]
    recs = _evaluate(book)
    assert recs.loc["INV-1", "status"] == "warning" and recs.loc["INV-1", "primary_code"] == "SUPPLIER_CHANGED"
    type_cells(book, "INV-1", Action="Reject")  # the user decides again: no longer flagged
    assert _evaluate(book).loc["INV-1", "primary_code"] != "SUPPLIER_CHANGED"


def test_a_saved_record_missing_from_a_newer_download_is_marked_gone_not_deleted(tmp_path, capsys):
    """G3: a deleted saved record disappears from IMS; it stays in the book, out of 2B/3B (E07)."""
    book = _book(tmp_path)
    d1 = write_ims_json(tmp_path / "d1.json", [ims_record("INV-1"), ims_record("INV-2", srcfilstatus="Not Filed"), ims_record("INV-3")])
    assert main(["import", str(book), str(d1)]) == 0
    d2 = write_ims_json(tmp_path / "d2.json", [ims_record("INV-1")])  # INV-2 (saved) deleted; INV-3 (filed) left IMS
    capsys.readouterr()
    assert main(["import", str(book), str(d2)]) == 0
    assert "1 gone from IMS" in capsys.readouterr().out
    rows = _rows(book)
    assert len(rows) == 3 and rows["INV-2"]["Gone From IMS"] == "Y" and rows["INV-3"]["Gone From IMS"] in ("", None)
    recs = _evaluate(book)
    assert recs.loc["INV-2", "primary_code"] == "GONE_FROM_IMS" and recs.loc["INV-2", "itc_igst"] == 0
    d3 = write_ims_json(tmp_path / "d3.json", [ims_record("INV-1"), ims_record("INV-2")])  # back, and filed now
    assert main(["import", str(book), str(d3)]) == 0
    assert _rows(book)["INV-2"]["Gone From IMS"] in ("", None)


def test_a_decisions_file_applies_the_users_fields_to_matching_rows(tmp_path, capsys):
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d.json", [ims_record("INV-1"), ims_record("INV-2")]))]) == 0
    dec = tmp_path / "decisions.csv"
    dec.write_text("Section,Supplier GSTIN,Document Number,Document Date,Action,Remarks,IGST\n"
                   f"B2B,{S1},INV-1,05-10-2025,Reject,not received,999\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(book), str(dec)]) == 0
    assert "1 decisions applied" in capsys.readouterr().out
    rows = _rows(book)
    assert rows["INV-1"]["Action"] == "Reject" and rows["INV-1"]["Remarks"] == "not received"
    assert rows["INV-1"]["IGST"] == 180  # a decisions file does not touch the portal's fields
    assert rows["INV-2"]["Action"] in ("", None, "No Action")


def test_same_number_in_another_financial_year_is_another_record(tmp_path):
    """CGST rule 46(b): a number is unique within a financial year; identity is not the 2B period."""
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d1.json", [ims_record("INV-1")]))]) == 0
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d2.json",
                                                 [ims_record("INV-1"), ims_record("INV-1", idt="05-10-2024")]))]) == 0
    assert len(table_rows(book)) == 2


def test_the_portal_error_file_marks_rows_until_the_decision_changes(tmp_path, capsys):
    """imsDetailsErr with error_msg per record (formats-and-market.md 2.3, itc-guard docs/ims-json-schema.md)."""
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d.json", [ims_record("INV-1"), ims_record("INV-2")]))]) == 0
    type_cells(book, "INV-1", Action="Reject")
    err = write_ims_json(tmp_path / "err.json", [ims_record("INV-1", action="R", error_msg="Pending action is not allowed"),
                                         ims_record("INV-9", error_msg="x")], envelope="imsDetailsErr")
    capsys.readouterr()
    assert main(["import", str(book), str(err)]) == 0
    out = capsys.readouterr().out
    assert "1 portal errors" in out and "not found" in out  # INV-9 is listed, not added
    rows = _rows(book)
    assert len(rows) == 2 and rows["INV-1"]["Portal Error"] == "Pending action is not allowed"
    recs = _evaluate(book)
    assert recs.loc["INV-1", "status"] == "error" and recs.loc["INV-1", "primary_code"] == "PORTAL_ERROR"
    type_cells(book, "INV-1", Action="Accept")
    assert _evaluate(book).loc["INV-1", "primary_code"] != "PORTAL_ERROR"


def test_every_import_is_logged_in_the_changes_sheet(tmp_path):
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d1.json", [ims_record("INV-1")]))]) == 0
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", iamt=190.0)]))]) == 0
    log = grid(book, "Changes")
    assert log[0][:5] == ["Logged On", "What", "Row", "Section", "Party GSTIN"]
    assert [r[1] for r in log[1:]] == ["added", "updated"]
    assert log[2][6:9] == ["IGST", "180.00", "190.00"]


def test_round_trip_download_act_export_reimport_leaves_the_book_unchanged(tmp_path, capsys):
    """Import a download -> act -> export (offline route) -> import the export as if it came back -> unchanged."""
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d.json",
                                                 [ims_record("INV-1"), ims_record("INV-2"), ims_record("INV-3", action="P")]))]) == 0
    type_cells(book, "INV-1", Action="Accept")
    type_cells(book, "INV-2", Action="Reject", Remarks="rate differs")
    out = tmp_path / "upload.json"
    assert main(["export", str(book), "--out", str(out), "--as-of", "2025-11-10"]) == 0
    sent = json.loads(out.read_text())["invdata"]["b2b"]
    assert [(r["inum"], r["action"]) for r in sent] == [("INV-1", "A"), ("INV-2", "R")]
    before = copy.deepcopy(table_rows(book))
    data = book.read_bytes()
    capsys.readouterr()
    assert main(["import", str(book), str(out)]) == 0
    assert "0 added, 0 updated" in capsys.readouterr().out
    assert table_rows(book) == before and book.read_bytes() == data


def test_gstr2b_json_and_the_portal_excel_merge_into_the_same_rows(tmp_path, capsys):
    """Merge on import holds for every portal download the issue names, not only the IMS JSON: a GSTR-2B JSON
    (formats-and-market.md 2.4) and the portal / offline-tool Excel (2.1) carrying a record already in the book
    update that row (same identity: supplier, family, number, financial year) instead of adding a second one,
    and importing either again changes nothing."""
    from tests.formats.formats_helpers import FIXTURES, build_portal_workbook

    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", "29AAACS2222T1ZX", "--period", "2025-10"]) == 0
    assert main(["import", str(book), str(FIXTURES / "ims_offline_download.json")]) == 0
    n = len(table_rows(book))
    capsys.readouterr()
    assert main(["import", str(book), str(FIXTURES / "gstr2b.json")]) == 0
    out = capsys.readouterr().out
    rows = table_rows(book)
    assert [r["Document Number"] for r in rows].count("000123") == 1
    first = next(r for r in rows if r["Document Number"] == "000123")
    assert first["2B Period"] == "2025-10" and "row 2 (B2B 27AAACR5055K1Z7 '000123') Reverse Charge" in out
    added = int(out.split(" added")[0].rsplit(" ", 1)[-1])
    assert len(rows) == n + added and "6 updated" in out
    portal = build_portal_workbook(tmp_path / "portal.xlsx")
    assert main(["import", str(book), str(portal)]) == 0
    assert "0 added" in capsys.readouterr().out and len(table_rows(book)) == len(rows)
    before = book.read_bytes()
    assert main(["import", str(book), str(portal)]) == 0
    assert "Inward: 0 added, 0 updated" in capsys.readouterr().out and book.read_bytes() == before


def test_a_column_the_user_added_to_the_table_is_kept_by_the_merge(tmp_path, capsys):
    """Issue 10: "fields the user owns (Action, ..., and any column the user added) are kept". A `My Note`
    column added at the table's right edge (as Excel does when you type beside a table) keeps its text when a
    newer download updates that row, and through `process`."""
    from openpyxl.utils import get_column_letter, range_boundaries
    from openpyxl.worksheet.table import TableColumn

    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d1.json", [ims_record("INV-1"), ims_record("INV-2")]))]) == 0
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["Inward"]
    table = ws.tables["Inward"]
    _, _, last, bottom = range_boundaries(table.ref)
    ws.cell(1, last + 1).value, ws.cell(2, last + 1).value = "My Note", "call the supplier"
    table.ref = table.autoFilter.ref = f"A1:{get_column_letter(last + 1)}{bottom}"
    table.tableColumns.append(TableColumn(id=max(c.id for c in table.tableColumns) + 1, name="My Note"))
    wb.save(book)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", iamt=200.0),
                                                                        ims_record("INV-2")]))]) == 0
    assert "1 updated" in capsys.readouterr().out
    for step in ("import", "process"):
        rows = _rows(book)
        assert rows["INV-1"]["My Note"] == "call the supplier" and rows["INV-1"]["IGST"] == 200, step
        assert main(["process", str(book)]) == 0


def test_import_refuses_a_book_with_duplicate_records_as_process_does(tmp_path, capsys):
    """A row copied in Excel (INV-1 twice): ``process`` refuses the book; ``import`` refuses it too, with the
    same message and before writing anything. It used to merge the download into the first twin and mark the
    second, with the user's Reject on it, "Gone From IMS"."""
    book = _book(tmp_path)
    d1 = write_ims_json(tmp_path / "d1.json", [ims_record("INV-1", srcfilstatus="Not Filed"),
                                               ims_record("INV-2", srcfilstatus="Not Filed")])
    assert main(["import", str(book), str(d1)]) == 0
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["Inward"]
    header = [c.value for c in ws[1]]
    for c in range(1, header.index("Remarks") + 2):  # row 3 (INV-2) typed over as a copy of row 2
        v = ws.cell(2, c).value
        if not (isinstance(v, str) and v.startswith("=")):
            ws.cell(3, c).value = v
    ws.cell(3, header.index("Action") + 1).value = "Reject"
    wb.save(book)
    capsys.readouterr()
    assert main(["process", str(book)]) == 2
    refused = capsys.readouterr()
    said = next(line.strip() for line in (refused.out + refused.err).splitlines() if "duplicates row 2" in line)
    assert "sheet 'Inward', row 3, column 'Document Number'" in said
    before = book.read_bytes()
    d2 = write_ims_json(tmp_path / "d2.json", [ims_record("INV-1", srcfilstatus="Not Filed", iamt=190.0, val=1190.0)])
    assert main(["import", str(book), str(d2)]) == 2
    out = capsys.readouterr()
    assert said in (out.out + out.err)
    assert book.read_bytes() == before


def test_a_decisions_file_row_that_matches_no_record_is_listed_not_added(tmp_path, capsys):
    """A decisions file (no amount column: Section, GSTIN, number, date, Action, Remarks) with one mistyped
    number: the row is listed "not found", not added as a zero-value record the upload would then send; the
    matching row's decision is applied as before."""
    book = _book(tmp_path)
    assert main(["import", str(book), str(write_ims_json(tmp_path / "d.json", [ims_record("INV-1"), ims_record("INV-2")]))]) == 0
    dec = tmp_path / "decisions.csv"
    dec.write_bytes("\ufeffSection;Supplier GSTIN;Document Number;Document Date;Action;Remarks\n"
                    f"B2B;{S1};INV-1;05-10-2025;Reject;goods short\n"
                    f"B2B;{S1};INV-20;05-10-2025;Reject;typo doc no\n".encode("utf-8"))
    capsys.readouterr()
    assert main(["import", str(book), str(dec)]) == 0
    out = capsys.readouterr().out
    assert "0 added" in out and "1 decisions applied" in out and "1 not found in the workbook" in out
    assert "not found: (B2B " + S1 + " 'INV-20')" in out
    rows = _rows(book)
    assert sorted(rows) == ["INV-1", "INV-2"] and rows["INV-1"]["Action"] == "Reject"


# --- decisions made in the GSTN IMS Offline Tool's Excel (formats-and-market.md 2.1: Status is "the editable
# action", Previous Status the portal's; rulebook G2/G4 the latest action wins, G9 the ITC answer, G10 remarks)

TOOL_DOC = "000123"  # the offline tool's B2B row 7 (tests/formats/formats_helpers.build_portal_workbook)


def _tool(tmp_path: Path, name: str = "tool.xlsx", **cells) -> Path:
    """The offline tool's workbook with the cells of its B2B row of :data:`TOOL_DOC` replaced by header
    (``Status``, ``Previous_Status``, ``Remarks``: the first Remarks column, the user's)."""
    from tests.formats.formats_helpers import build_portal_workbook
    path = build_portal_workbook(tmp_path / name)
    wb = openpyxl.load_workbook(path)
    ws = wb["B2B"]
    labels = [c.value for c in ws[5]]  # these columns are ungrouped: their label is on row 5 (merged over 6)
    for k, v in cells.items():
        ws.cell(7, labels.index(k.replace("_", " ")) + 1).value = v
    wb.save(path)
    return path


def _tool_book(tmp_path: Path) -> Path:
    """A book holding :data:`TOOL_DOC` from an IMS download with no action (the portal's state, G1), with the
    amounts the tool's row has (so no supplier change, G3)."""
    from tests.formats.formats_helpers import SUPPLIERS
    book = _book(tmp_path)
    d = write_ims_json(tmp_path / "ims.json", [ims_record(TOOL_DOC, stin=SUPPLIERS[0], val=11800.0, txval=10000.0,
                                                          iamt=1800.0)])
    assert main(["import", str(book), str(d)]) == 0
    assert (_rows(book)[TOOL_DOC]["Action"], _rows(book)[TOOL_DOC]["Previous Action"]) == ("No Action", "No Action")
    return book


def test_a_status_chosen_in_the_offline_tool_is_applied_to_a_record_already_in_the_book(tmp_path, capsys):
    """The defect: the tool's row of a record the book has says Status Accepted, Previous Status No Action: the
    user accepted it in the tool (formats doc 2.1: Status is the editable action). The book's Action, still the
    portal's (equal to its Previous Action), takes Accept, reported as a decision and logged. Importing the tool
    again changes nothing; new records keep the tool's Status, ITC answer and remarks; an IMS JSON import after
    it still never touches Action (it sets Previous Action, the portal's)."""
    book = _tool_book(tmp_path)
    tool = _tool(tmp_path)
    capsys.readouterr()
    assert main(["import", str(book), str(tool)]) == 0
    out = capsys.readouterr().out
    rows = _rows(book)
    assert rows[TOOL_DOC]["Action"] == "Accept" and rows[TOOL_DOC]["Previous Action"] == "No Action"
    assert (f"decision: row 2 (B2B 27AAACR5055K1Z7 '{TOOL_DOC}') Action: No Action -> Accept - chosen in the "
            "offline tool's sheet B2B row 7") in out and "1 decisions applied" in out and "conflict" not in out
    log = grid(book, "Changes")
    assert [r[1] for r in log[1:]].count("decision") == 1
    assert next(r for r in log[1:] if r[1] == "decision")[5:9] == [TOOL_DOC, "Action", "No Action", "Accept"]
    # new records: the tool's decisions as before
    assert (rows["CN/0042"]["Action"], rows["CN/0042"]["ITC Reduction"]) == ("Accept", "Full")
    assert (rows["INV/24-25/0891"]["Action"], rows["INV/24-25/0891"]["Remarks"]) == ("Reject", "not ours")
    # idempotent
    before = book.read_bytes()
    assert main(["import", str(book), str(tool)]) == 0
    assert "0 updated" in (out := capsys.readouterr().out) and "0 decisions applied" in out
    assert book.read_bytes() == before
    # an IMS JSON (the portal's state, here Rejected) never sets Action
    from tests.formats.formats_helpers import SUPPLIERS
    assert main(["import", str(book), str(write_ims_json(tmp_path / "ims2.json", [ims_record(
        TOOL_DOC, stin=SUPPLIERS[0], val=11800.0, txval=10000.0, iamt=1800.0, action="R")]))]) == 0
    assert "0 decisions applied" in (out := capsys.readouterr().out) and "decision:" not in out
    assert (_rows(book)[TOOL_DOC]["Action"], _rows(book)[TOOL_DOC]["Previous Action"]) == ("Accept", "Rejected")


def test_a_decision_typed_in_the_book_is_kept_over_the_tools_and_the_conflict_is_reported(tmp_path, capsys):
    """Never losing what the user typed in the book: the book's Reject (typed there) against the tool's Accepted
    is kept, and the conflict named in the report and on the Changes sheet, at each import until settled; the
    tool's remark (G10), where the book's Remarks is blank, is applied. A Status equal to its Previous Status is no
    decision: it neither overwrites nor conflicts with the book's typed action."""
    book = _tool_book(tmp_path)
    type_cells(book, TOOL_DOC, Action="Reject")
    tool = _tool(tmp_path, Remarks="rate differs")
    capsys.readouterr()
    assert main(["import", str(book), str(tool)]) == 0
    out = capsys.readouterr().out
    row = _rows(book)[TOOL_DOC]
    assert (row["Action"], row["Remarks"]) == ("Reject", "rate differs")
    assert (f"conflict: row 2 (B2B 27AAACR5055K1Z7 '{TOOL_DOC}') Action: Reject kept, not Accept - the workbook's "
            "value (typed there, or set by an earlier import) is kept; the offline tool's sheet B2B row 7 has the "
            "other: if the tool's is right, change it in the workbook") in out
    assert "1 decisions of the offline tool not applied" in out
    assert "Remarks: (blank) -> rate differs" in out
    log = grid(book, "Changes")
    assert [r[5:9] for r in log[1:] if r[1] == "conflict"] == [[TOOL_DOC, "Action", "Reject", "Accept"]]
    table = table_rows(book)
    assert main(["import", str(book), str(tool)]) == 0  # nothing changes; the conflict is still said
    assert "conflict:" in capsys.readouterr().out and table_rows(book) == table
    assert [r[1] for r in grid(book, "Changes")[1:]].count("conflict") == 2  # logged though nothing else was
    # the book's typed remark is kept too
    type_cells(book, TOOL_DOC, Remarks="my own note")
    assert main(["import", str(book), str(_tool(tmp_path, "t2.xlsx", Remarks="rate differs"))]) == 0
    assert "Remarks: my own note kept, not rate differs" in capsys.readouterr().out
    assert _rows(book)[TOOL_DOC]["Remarks"] == "my own note"
    # unchanged in the tool (Status = Previous Status): no decision, no conflict
    same = _tool(tmp_path, "t3.xlsx", Status="No Action", Previous_Status="No Action")
    assert main(["import", str(book), str(same)]) == 0
    out = capsys.readouterr().out
    assert "conflict" not in out and "0 decisions applied" in out and _rows(book)[TOOL_DOC]["Action"] == "Reject"


def test_what_the_book_holds_as_the_portals_gives_way_to_a_later_decision_in_the_tool(tmp_path, capsys):
    """Only what the user typed in the book beats the tool. A remark the book holds as the IMS download gave it
    (equal to its Portal Declaration, G10) takes the remark typed in the tool; an Accept typed in the book and
    since uploaded (the tool's Previous Status is Accepted) takes the tool's later Reject (G4: the latest action
    wins). Neither is a conflict."""
    from tests.formats.formats_helpers import SUPPLIERS
    book = _book(tmp_path)
    d = write_ims_json(tmp_path / "ims.json", [ims_record(TOOL_DOC, stin=SUPPLIERS[0], val=11800.0, txval=10000.0,
                                                          iamt=1800.0, remarks="saved on the portal")])
    assert main(["import", str(book), str(d)]) == 0
    assert _rows(book)[TOOL_DOC]["Remarks"] == "saved on the portal"
    type_cells(book, TOOL_DOC, Action="Accept")
    capsys.readouterr()
    tool = _tool(tmp_path, Status="Rejected", Previous_Status="Accepted", Remarks="short supplied")
    assert main(["import", str(book), str(tool)]) == 0
    out = capsys.readouterr().out
    row = _rows(book)[TOOL_DOC]
    assert (row["Action"], row["Previous Action"], row["Remarks"]) == ("Reject", "Accepted", "short supplied")
    assert "conflict" not in out and "Action: Accept -> Reject; Remarks: saved on the portal -> short supplied" in out


# --- the offline tool's ITC declaration on a credit note (formats-and-market.md 2.1, B2B-CN: '14 "whether ITC to be
# reduced" (default "No")', 15-18 the declared amounts; rulebook G9: the answer and amounts are one declaration)

CN_DOC = "CN-9"  # the offline tool's B2B-CN row 7 (tests/formats/formats_helpers.build_portal_workbook)


def _cn_book(tmp_path: Path) -> Path:
    """A book holding :data:`CN_DOC` from an IMS download, Accepted on the portal with no declaration, with the
    amounts the tool's row has (no supplier change, G3)."""
    from tests.formats.formats_helpers import SUPPLIERS
    book = _book(tmp_path)
    rec = {"stin": SUPPLIERS[5], "nt_num": CN_DOC, "nt_dt": "26-10-2025", "typ": "C", "inv_typ": "R", "val": 590.0,
           "pos": "29", "txval": 500.0, "iamt": 90.0, "camt": 0, "samt": 0, "cess": 0, "action": "A",
           "srcform": "R1", "rtnprd": "102025", "srcfilstatus": "Filed", "ispendactblocked": "N",
           "isRemarksBlocked": "N"}
    d = tmp_path / "cn.json"
    d.write_text(json.dumps({"imsDetails": {"b2bcn": [rec]}}))
    assert main(["import", str(book), str(d)]) == 0
    assert _rows(book)[CN_DOC]["ITC Reduction"] in (None, "")
    return book


def _cn_tool(tmp_path: Path, name: str, **cells) -> Path:
    """The offline tool's workbook with the cells of its B2B-CN row of :data:`CN_DOC` replaced by label (row 5's,
    else row 6's: ``Integrated Tax (Rs.)``... are the declared amounts); ``None`` blanks a cell."""
    from tests.formats.formats_helpers import build_portal_workbook
    path = build_portal_workbook(tmp_path / name)
    wb = openpyxl.load_workbook(path)
    ws = wb["B2B-CN"]
    top, sub = [c.value for c in ws[5]], [c.value for c in ws[6]]
    for k, v in cells.items():
        k = k.replace("_", " ")
        ws.cell(7, (top.index(k) if k in top else sub.index(k)) + 1).value = v
    wb.save(path)
    return path


NO_AMOUNTS = {"Integrated Tax (Rs.)": None, "Central Tax (Rs.)": None, "State/UT Tax (Rs.)": None, "Cess (Rs.)": None}


def test_the_tools_default_no_on_an_unchanged_status_is_no_declaration(tmp_path, capsys):
    """The utility fills "Whether ITC to be reduced" with "No" by default (formats doc 2.1): with the Status as the
    portal has it (Accepted = Previous Status) that "No" is nobody's declaration and must not reach the book (the
    upload would send itc_red_req N, G9). The same "No" with the Status changed in the tool is the user's (the
    accept made in the tool goes with it); a "Yes" typed in the tool is a declaration whatever the Status."""
    book = _cn_book(tmp_path)
    capsys.readouterr()
    default = _cn_tool(tmp_path, "t1.xlsx", Status="Accepted", Previous_Status="Accepted",
                       Whether_ITC_to_be_reduced="No", Remarks=None, **NO_AMOUNTS)
    assert main(["import", str(book), str(default)]) == 0
    out = capsys.readouterr().out
    assert _rows(book)[CN_DOC]["ITC Reduction"] in (None, "") and "0 decisions applied" in out
    assert "conflict" not in out
    yes = _cn_tool(tmp_path, "t2.xlsx", Status="Accepted", Previous_Status="Accepted",
                   Whether_ITC_to_be_reduced="Yes", Remarks=None, **NO_AMOUNTS)
    assert main(["import", str(book), str(yes)]) == 0
    assert _rows(book)[CN_DOC]["ITC Reduction"] == "Full"
    assert "ITC Reduction: (blank) -> Full - chosen in the offline tool's sheet B2B-CN row 7" in capsys.readouterr().out
    other = _cn_book(tmp_path / "b")
    capsys.readouterr()
    chosen = _cn_tool(tmp_path, "t3.xlsx", Status="Accepted", Previous_Status="No Action",
                      Whether_ITC_to_be_reduced="No", Remarks=None, **NO_AMOUNTS)
    assert main(["import", str(other), str(chosen)]) == 0
    assert _rows(other)[CN_DOC]["ITC Reduction"] == "No"


def test_the_tools_declaration_is_applied_or_refused_whole(tmp_path, capsys):
    """G9: the ITC answer and its declared amounts are one declaration. Against Full typed in the book the tool's
    Partial with IGST 45 is refused whole (never Full with 45.00, which the upload refuses), named in one conflict
    line; on a book whose declaration is blank the tool's is applied whole."""
    book = _cn_book(tmp_path)
    type_cells(book, CN_DOC, **{"ITC Reduction": "Full"})
    capsys.readouterr()
    tool = _cn_tool(tmp_path, "t.xlsx", Status="Accepted", Previous_Status="Accepted")  # Yes, IGST 45
    assert main(["import", str(book), str(tool)]) == 0
    out = capsys.readouterr().out
    row = _rows(book)[CN_DOC]
    assert row["ITC Reduction"] == "Full" and row["Declared IGST"] in (None, "", 0)
    assert "ITC declaration: Full kept, not Partial (IGST 45.00)" in out and "Declared IGST" not in out
    assert [r[5:9] for r in grid(book, "Changes")[1:] if r[1] == "conflict"] == [
        [CN_DOC, "ITC declaration", "Full", "Partial (IGST 45.00)"]]
    blank = _cn_book(tmp_path / "b")
    capsys.readouterr()
    assert main(["import", str(blank), str(tool)]) == 0
    row = _rows(blank)[CN_DOC]
    assert (row["ITC Reduction"], row["Declared IGST"]) == ("Partial", 45) and "conflict" not in capsys.readouterr().out


def test_a_blank_declared_amount_in_the_tool_is_no_value(tmp_path, capsys):
    """A declared amount left blank in the tool (formats doc 2.1, B2B-CN 15-18) declares nothing: the book's Partial
    with IGST 45 and Cess 5, typed there, agrees with the tool's Partial with IGST 45 and Cess blank: no conflict,
    the book unchanged."""
    book = _cn_book(tmp_path)
    type_cells(book, CN_DOC, **{"ITC Reduction": "Partial", "Declared IGST": 45, "Declared Cess": 5})
    capsys.readouterr()
    tool = _cn_tool(tmp_path, "t.xlsx", Status="Accepted", Previous_Status="Accepted", Remarks=None,
                    **{"Central Tax (Rs.)": None, "State/UT Tax (Rs.)": None, "Cess (Rs.)": None})
    assert main(["import", str(book), str(tool)]) == 0
    out = capsys.readouterr().out
    assert "conflict" not in out and "0 decisions applied" in out
    row = _rows(book)[CN_DOC]
    assert (row["ITC Reduction"], row["Declared IGST"], row["Declared Cess"]) == ("Partial", 45, 5)


def test_a_status_changed_again_in_the_tool_says_the_books_value_may_be_an_earlier_imports(tmp_path, capsys):
    """G4 (the latest action wins) against never losing the user's typing: after a first tool file (Accepted), a
    second one where the user changed their mind in the tool (Rejected, the same Previous Status) meets the book's
    Accept, which the first import set. The Changes sheet is not read to tell that from an Accept typed in the book,
    so the book's is kept and the conflict says truly that it may be an earlier import's, and how to settle it."""
    book = _tool_book(tmp_path)
    assert main(["import", str(book), str(_tool(tmp_path, "t1.xlsx", Status="Accepted"))]) == 0
    assert _rows(book)[TOOL_DOC]["Action"] == "Accept"
    capsys.readouterr()
    assert main(["import", str(book), str(_tool(tmp_path, "t2.xlsx", Status="Rejected"))]) == 0
    out = capsys.readouterr().out
    assert _rows(book)[TOOL_DOC]["Action"] == "Accept"
    assert ("Action: Accept kept, not Reject - the workbook's value (typed there, or set by an earlier import) is "
            "kept; the offline tool's sheet B2B row 7 has the other: if the tool's is right, change it in the "
            "workbook") in out
    assert "typed in the workbook, is kept" not in out and "typed there or set by an earlier import: kept" in out
