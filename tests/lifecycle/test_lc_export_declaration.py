"""``export`` of a changed declaration or remark with an unchanged action (rulebook G4, G9, G10): the book
remembers what the last portal download held (*Portal Declaration*), and a record whose Accept / Reject /
Pending is unchanged is uploaded when its ITC-reduction answer, declared amounts or remark differ from it
(india-compliance's ``is_declaration_pending_upload``, formats-and-market.md 3)."""

from __future__ import annotations

import json
from pathlib import Path

from lctools import table_rows, type_cells

from ims_excel.book import new as book_new
from ims_excel.cli import main
from tests.formats.formats_helpers import FIXTURES

GSTIN = "29AAACS2222T1ZX"
DOWNLOAD = FIXTURES / "ims_offline_download.json"
PENDING = "INV/24-25/0891"  # Pending on the portal, remarks "awaiting goods"
CN = "CN-9"  # Accepted on the portal with a partial reduction: IGST 45 declared, remarks "half reversed earlier"


def _book(tmp_path: Path, as_of: str | None = None) -> Path:
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2025-10"]) == 0
    if as_of:
        book_new.set_config_as_of(book, as_of)
    assert main(["import", str(book), str(DOWNLOAD)]) == 0
    return book



def _export(book: Path, out: Path, route: str = "offline") -> dict:
    assert main(["export", str(book), "--out", str(out), "--route", route, "--as-of", "2025-11-10"]) == 0
    return json.loads(out.read_text())["invdata"]


def _row(book: Path, doc: str) -> dict:
    return next(r for r in table_rows(book) if r["Document Number"] == doc)


def test_a_download_records_what_the_portal_holds_and_an_unchanged_book_uploads_nothing(tmp_path):
    book = _book(tmp_path)
    assert _row(book, CN)["Portal Declaration"] == "Partial|45.00|0.00|0.00|0.00|half reversed earlier"
    assert _row(book, PENDING)["Portal Declaration"] == "|0.00|0.00|0.00|0.00|awaiting goods"
    assert _export(book, tmp_path / "o.json") == {} and _export(book, tmp_path / "a.json", "api") == {}
    type_cells(book, CN, **{"ITC Reduction": "Partial", "Declared IGST": 45})  # the same declaration retyped
    assert _export(book, tmp_path / "o2.json") == {}


def test_accept_kept_but_partial_changed_to_full_is_uploaded_by_both_routes(tmp_path, capsys):
    """The reviewer's case: Accept kept on a credit note, its ITC reduction Partial 45 -> Full. The portal
    keeps -45 unless the record is uploaded again; the workbook's GSTR-3B says -90."""
    book = _book(tmp_path)
    csv = tmp_path / "dec.csv"
    csv.write_text("Section,Supplier GSTIN,Document Number,Document Date,Action,ITC Reduction,Declared IGST\n"
                   "B2B-CN,24AAACA1111A1ZY,CN-9,26-10-2025,Accept,Full,0\n")
    assert main(["import", str(book), str(csv)]) == 0
    api = _export(book, tmp_path / "a.json", "api")
    assert list(api) == ["b2bcn"] and len(api["b2bcn"]) == 1
    rec = api["b2bcn"][0]
    assert (rec["nt_num"], rec["action"], rec["prev_status"], rec["itcRedReq"]) == ("CN-9", "A", "A", "Y")
    assert "declIgst" not in rec  # Full: the values omitted, the portal reads absence as full
    # offline: remarks go only with Reject / Pending, so the downloaded remark must be cleared first
    capsys.readouterr()
    assert main(["export", str(book), "--out", str(tmp_path / "x.json")]) == 2
    assert "REMARKS_ON_ACCEPT" in capsys.readouterr().err
    type_cells(book, CN, Remarks=None)
    off = _export(book, tmp_path / "o.json")
    rec = off["b2bcn"][0]
    assert list(off) == ["b2bcn"] and len(off["b2bcn"]) == 1
    assert (rec["nt_num"], rec["action"], rec["itc_red_req"]) == ("CN-9", "A", "Y") and "prev_status" not in rec
    type_cells(book, CN, **{"ITC Reduction": "Partial", "Declared IGST": 30})  # the declared amount changed
    rec = _export(book, tmp_path / "o3.json")["b2bcn"][0]
    assert rec["itc_red_req"] == "Y" and rec["decl_igst"] == 30


def test_a_remark_changed_on_a_pending_record_is_uploaded(tmp_path):
    book = _book(tmp_path)
    type_cells(book, PENDING, Remarks="supplier to revise rate")
    for route in ("offline", "api"):
        sent = _export(book, tmp_path / f"{route}.json", route)
        assert list(sent) == ["b2b"] and len(sent["b2b"]) == 1
        rec = sent["b2b"][0]
        assert (rec["inum"], rec["action"], rec["remarks"]) == (PENDING, "P", "supplier to revise rate")


def test_a_book_built_from_a_csv_uploads_as_before(tmp_path):
    """No portal download, no Portal Declaration: only a changed action is uploaded (as before)."""
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2025-10"]) == 0
    csv = tmp_path / "mine.csv"
    csv.write_text("Section,Supplier GSTIN,Document Number,Document Date,Taxable Value,IGST,Action,Previous Action,"
                   "ITC Reduction,Declared IGST,Remarks,Supplier Filing Status,Source Form,Supplier Return Period\n"
                   "B2B-CN,27AAACS1111S1Z9,CN-1,05-10-2025,100,18,Accept,Accepted,Partial,9,,Filed,GSTR-1,102025\n"
                   "B2B,27AAACS1111S1Z9,INV-1,05-10-2025,100,18,Pending,Pending,,,why,Filed,GSTR-1,102025\n"
                   "B2B,27AAACS1111S1Z9,INV-2,05-10-2025,100,18,Reject,No Action,,,wrong,Filed,GSTR-1,102025\n")
    assert main(["import", str(book), str(csv)]) == 0
    assert all(r["Portal Declaration"] in (None, "") for r in table_rows(book))
    sent = _export(book, tmp_path / "o.json")
    assert [(r["inum"], r["action"]) for r in sent["b2b"]] == [("INV-2", "R")] and list(sent) == ["b2b"]


def test_roll_then_export_uploads_nothing_again(tmp_path):
    """roll takes what the user chose as uploaded (Previous Action) and so the declaration and remark too:
    the next period's book, acted on the same way, uploads nothing."""
    book = _book(tmp_path, as_of="2025-11-10")  # the return filed in time: Pending still live then
    type_cells(book, PENDING, Remarks="supplier to revise rate")
    assert _export(book, tmp_path / "o.json")["b2b"][0]["remarks"] == "supplier to revise rate"
    nxt = tmp_path / "next.xlsm"
    assert main(["roll", str(book), "--to", "2025-11", "--filed", "--out", str(nxt),
                 "--force"]) == 0  # --force: openpyxl, which typed the cells, rewrote the header comments
    row = _row(nxt, PENDING)
    assert row["Previous Action"] == "Pending" and row["Action"] in (None, "")
    assert row["Portal Declaration"] == "|0.00|0.00|0.00|0.00|supplier to revise rate"
    assert _export(nxt, tmp_path / "n.json") == {}
    type_cells(nxt, PENDING, Action="Pending")  # kept pending, same remark: the portal has it already
    assert _export(nxt, tmp_path / "n2.json") == {}
    type_cells(nxt, PENDING, Remarks="revised invoice awaited")
    assert _export(nxt, tmp_path / "n3.json")["b2b"][0]["remarks"] == "revised invoice awaited"


def test_a_remark_typed_in_the_offline_tools_excel_is_uploaded(tmp_path):
    """The reviewer's case: the offline tool's Excel (its sheets have a Previous Status column) holds the
    user's edits in Status, ITC and Remarks, not necessarily what the portal holds (formats-and-market.md 1
    row 8, 2.1); its *Portal Declaration* is ``unknown``, so a remark typed in the tool with an unchanged
    Pending goes up (G10), where before it was taken as the portal's and never uploaded."""
    from tests.formats.formats_helpers import build_portal_workbook
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2025-10"]) == 0
    assert main(["import", str(book), str(build_portal_workbook(tmp_path / "portal.xlsx"))]) == 0
    row = _row(book, "1234567890123456")
    assert (row["Action"], row["Previous Action"], row["Remarks"], row["Portal Declaration"]) == (
        "Pending", "Pending", "check rate", "unknown")
    assert main(["export", str(book), "--out", str(tmp_path / "o.json"), "--only-valid", "--as-of",
                 "2025-11-10"]) == 0
    sent = json.loads((tmp_path / "o.json").read_text())["invdata"]
    assert {(r["inum"], r["action"], r.get("remarks")) for r in sent["b2b"]} >= {("1234567890123456", "P",
                                                                                  "check rate")}


def test_a_portal_excel_sheet_without_previous_status_records_what_the_portal_holds(tmp_path):
    """A sheet with no Previous Status column (the online download) carries the portal's saved status
    (portal_excel's module doc) and so its saved declaration and remarks: *Portal Declaration* is known there,
    as from the IMS JSON, and importing then exporting with no change uploads nothing (formats-and-market.md 3)."""
    import openpyxl

    from tests.formats.formats_helpers import build_portal_workbook
    p = build_portal_workbook(tmp_path / "portal.xlsx")
    wb = openpyxl.load_workbook(p)
    next(c for c in wb["B2B"][5] if c.value == "Previous Status").value = "Note"  # a column we do not know
    wb.save(p)
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", GSTIN, "--period", "2025-10"]) == 0
    assert main(["import", str(book), str(p)]) == 0
    assert _row(book, "1234567890123456")["Portal Declaration"] == "|0.00|0.00|0.00|0.00|check rate"  # B2B
    assert _row(book, "CN/0042")["Portal Declaration"] == "unknown"  # B2B-CN: the utility's sheet
    assert main(["export", str(book), "--out", str(tmp_path / "o.json"), "--only-valid", "--as-of",
                 "2025-11-10"]) == 0
    sent = json.loads((tmp_path / "o.json").read_text())["invdata"]
    assert "1234567890123456" not in {r["inum"] for r in sent.get("b2b", [])}  # Pending as saved, same remark


def test_declared_amounts_with_full_or_no_are_refused_not_dropped(tmp_path, capsys):
    """Amounts go only with a partial reduction: Full is sent as Y with no values, No as N (rulebook G9, 4.3;
    india-compliance set_itc_reduction), so amounts typed with either are refused (DECL_AMOUNTS_NOT_PARTIAL),
    in the workbook's Reason Code and by the export, never silently dropped."""
    book = _book(tmp_path)
    for answer in ("Full", "No"):
        type_cells(book, CN, **{"ITC Reduction": answer, "Declared IGST": 30})
        capsys.readouterr()
        out = tmp_path / f"{answer}.json"
        assert main(["export", str(book), "--out", str(out), "--route", "api", "--as-of", "2025-11-10"]) == 2
        assert "DECL_AMOUNTS_NOT_PARTIAL" in capsys.readouterr().err and not out.exists()
    type_cells(book, CN, **{"ITC Reduction": "Full", "Declared IGST": None})
    rec = _export(book, tmp_path / "a.json", "api")["b2bcn"][0]
    assert (rec["nt_num"], rec["itcRedReq"]) == (CN, "Y") and "declIgst" not in rec
