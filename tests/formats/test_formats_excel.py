"""Excel in: the IMS portal / offline-tool layout, canonical workbooks, the purchase register."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from formats_helpers import (FIXTURES, RTIN, SUPPLIERS, TRICKY, build_canonical_workbook,
                             build_portal_workbook, build_pr_workbook, ok_statuses)
from ims_excel.formats import UploadRefused, build_upload, detect, detect_and_read, load, portal_excel
from ims_excel.normalise import InputError


@pytest.fixture
def portal(tmp_path):
    return build_portal_workbook(tmp_path / "ims_download.xlsx")


def test_portal_layout_is_found_by_labels(portal):
    assert detect(portal) == "portal_excel"
    t = load(portal)
    assert t["section"].tolist() == ["B2B"] * 4 + ["B2B-CN"] * 2 + ["B2BA"]
    assert t["document_number"].tolist()[:4] == ["000123", "1234567890123456", '=HYPERLINK("x")',
                                                 "INV/24-25/0891"]


def test_portal_values(portal):
    t = load(portal).set_index("document_number")
    r = t.loc["000123"]
    assert (r["supplier_gstin"], r["supplier_name"], r["document_date"]) == (
        SUPPLIERS[0], "Reliance Test Supplies", pd.Timestamp("2025-10-05"))
    assert (r["document_value"], r["taxable_value"], r["igst"]) == (11800.0, 10000.0, 1800.0)
    assert (r["action"], r["previous_action"]) == ("Accept", "No Action")
    assert (r["place_of_supply"], r["source_form"], r["supply_type"]) == ("29", "GSTR-1", "R")
    assert r["supplier_return_period"] == "102025"
    assert t.loc["1234567890123456", "document_value"] == 5900.5  # "5,900.50" text
    assert t.loc["1234567890123456", "supply_type"] == "SEWP"
    assert t.loc["1234567890123456", "supplier_filing_status"] == "Not Filed"
    assert t.loc['=HYPERLINK("x")', "supply_type"] == "DE"
    assert t.loc['=HYPERLINK("x")', "document_date"] == pd.Timestamp("2025-10-12")  # a date cell
    assert t.loc['=HYPERLINK("x")', "pending_blocked"] == 1
    assert t.loc["INV/24-25/0891", "remarks_blocked"] == 1
    assert t.loc["INV/24-25/0891", ["action", "previous_action"]].tolist() == ["Reject", "Accepted"]


def test_two_level_groups_decide_the_column(portal):
    t = load(portal).set_index("document_number")
    assert t.loc["CN-9", ["itc_reduction", "declared_igst", "igst"]].tolist() == ["Partial", 45.0, 90.0]
    assert t.loc["CN/0042", ["itc_reduction", "declared_igst"]].tolist() == ["Full", 0.0]
    assert t.loc["CN-9", "declaration_blocked"] == 0
    # B2BA: header one row lower, "Original details" vs "Revised details"
    a = t.loc["AMD/001-R"]
    assert (a["original_document_number"], a["original_document_date"]) == ("AMD/001", pd.Timestamp("2025-09-15"))
    assert a["taxable_value"] == 9500.0 and a["igst"] == 1710.0


def test_rows_keep_sheet_and_excel_row(portal):
    raw = detect_and_read(portal)
    assert raw[["_sheet", "_row"]].values.tolist() == [
        ["B2B", 7], ["B2B", 8], ["B2B", 9], ["B2B", 11], ["B2B-CN", 7], ["B2B-CN", 8], ["B2BA", 8]]
    assert "GST portal validation errors" in raw and "Remarks (2)" in raw


def test_problems_name_sheet_row_and_column(tmp_path):
    path = build_portal_workbook(tmp_path / "bad.xlsx", bad_date=True)
    with pytest.raises(InputError) as err:
        load(path)
    # normalise also adds "is blank" for the unparsed required date: same cell
    assert {(q.sheet, q.row, q.column) for q in err.value.problems} == {("B2B", 8, "Document Date")}
    p = err.value.problems[0]
    assert str(p).startswith(f"{path}, sheet 'B2B', row 8, column 'Document Date': '2025/13/45'")


def test_sheet_without_header_is_refused(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "B2B"
    ws["A1"], ws["B2"] = "nothing here", 42
    path = tmp_path / "noheader.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as err:
        load(path)
    assert len(err.value.problems) == 1
    assert str(err.value).startswith(f"{path}, sheet 'B2B': no recognisable header row")


def test_workbook_without_any_known_layout_is_refused(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb.active.append(["foo", "bar"])
    wb.active.append([1, 2])
    path = tmp_path / "other.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as err:
        load(path)
    assert len(err.value.problems) == 1
    assert "sheet 'Data': no recognisable header" in str(err.value)


def test_numeric_invoice_number_that_excel_cannot_hold_is_refused(tmp_path):
    path = build_portal_workbook(tmp_path / "num.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["B2B"]["C8"] = 1234567890123456789  # typed as a number: digits already lost
    wb.save(path)
    with pytest.raises(InputError) as err:
        load(path)
    p = err.value.problems[0]
    assert (p.sheet, p.row, p.column) == ("B2B", 8, "Document Number")
    assert "format the column as Text" in p.message


def test_header_labels_are_matched_loosely():
    rows = [["", ""], ["GSTIN OF SUPPLIER *", "Invoice  Number", "Taxable value (Rs.)", "Integrated Tax(₹)"],
            [SUPPLIERS[0], "X/1", 100, 18]]
    raw = portal_excel.read_sheet(rows, "B2B", "B2B", "f.xlsx")
    assert list(raw.columns[:5]) == ["Section", "Supplier GSTIN", "Document Number", "Taxable Value", "IGST"]
    assert raw["_row"].tolist() == [3]


def test_upload_from_the_portal_workbook(portal):
    t = load(portal)
    blocked = t["document_number"] == "INV/24-25/0891"  # IsRemarkBlocked = Y and a remark: refused
    with pytest.raises(UploadRefused, match="REMARKS_BLOCKED"):
        build_upload(t, ok_statuses(t), RTIN, route="api")
    t.loc[blocked, "remarks"] = ""
    up = build_upload(t, ok_statuses(t), RTIN, route="api")
    b2b = up.payload["invdata"]["b2b"]
    assert [(r["inum"], r["action"], r["prev_status"]) for r in b2b] == [
        ("000123", "A", "N"), ("INV/24-25/0891", "R", "A")]
    assert "remarks" not in b2b[1]  # IsRemarkBlocked = Y
    assert up.payload["invdata"]["b2bcn"][0]["declIgst"] == 45.0
    with pytest.raises(UploadRefused, match="REMARKS_ON_ACCEPT"):  # CN-9: Accept with a remark
        build_upload(t, ok_statuses(t), RTIN)
    t.loc[t["section"] == "B2B-CN", "remarks"] = ""
    off = build_upload(t, ok_statuses(t), RTIN)
    assert [(r["inum"], r["action"]) for r in off.payload["invdata"]["b2b"]] == [("000123", "A"),
                                                                              ("INV/24-25/0891", "R")]
    assert off.payload["invdata"]["b2bcn"][0]["decl_igst"] == 45.0


@pytest.mark.parametrize("table", [True, False])
def test_canonical_workbook(tmp_path, table):
    path = build_canonical_workbook(tmp_path / "canon.xlsx", table=table)
    raw = detect_and_read(path)
    assert raw.attrs["format"] == "canonical"
    t = load(path)
    assert t["document_number"].tolist() == ["000123", "1234567890123456", '=HYPERLINK("x")']
    assert t["document_date"].tolist() == [pd.Timestamp(d) for d in ("2025-10-05", "2025-10-07", "2025-10-26")]
    assert t["taxable_value"].tolist() == [10000.0, 5000.5, 500.0]
    assert raw["_row"].tolist() == ([2, 3, 4] if table else [4, 5, 6])
    assert set(raw["_sheet"]) == {"Inward"}


def test_canonical_csv_keeps_text(fixtures=FIXTURES):
    raw = detect_and_read(fixtures / "canonical_inward.csv")
    assert raw["Document Number"].tolist()[:4] == TRICKY
    assert raw["_row"].tolist() == [2, 3, 4, 5, 6]  # rows as the file shows them
    t = load(fixtures / "canonical_inward.csv")
    assert t["document_value"].tolist()[0] == 11800.0
    assert t.loc[4, ["itc_reduction", "declared_igst"]].tolist() == ["Partial", 45.0]


def test_canonical_csv_problem_names_the_row_as_shown(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Section,Supplier GSTIN,Document Number,Document Date,Taxable Value\n"
                    f"B2B,{SUPPLIERS[0]},A1,05-10-2025,100\nB2B,{SUPPLIERS[0]},A2,05-10-2025,ten\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        load(path)
    assert str(err.value) == f"{path}, row 3, column 'Taxable Value': 'ten' is not an amount " \
                             "(use 1234.50, 1,234.50 or 1,00,000.50)"


def test_purchase_register_xlsx_and_csv(tmp_path):
    x = load(build_pr_workbook(tmp_path / "pr.xlsx"))
    c = load(FIXTURES / "purchase_register.csv")
    assert x.attrs["format"] == c.attrs["format"] == "purchase_register"
    assert x.attrs["gstin"] == RTIN and x.attrs["tax_period"] == "October"
    assert x["section"].tolist() == c["section"].tolist() == ["B2B", "B2B-DN", "B2B-CN"]
    assert x["supply_type"].tolist() == ["R", "DE", "SEZWOP"]
    assert x["document_date"].tolist() == c["document_date"].tolist() == [
        pd.Timestamp(d) for d in ("2025-10-05", "2025-10-20", "2025-10-26")]
    assert x["cgst"].tolist() == [0.0, 90.0, 0.0]
    assert c["document_number"].tolist() == ["000123", "DN-77", "CN-9"]


def test_a_hidden_sheet_is_never_read_and_the_sheet_read_is_named(tmp_path, capsys):
    """A canonical xlsx whose first sheet is hidden (an old copy) was read from that hidden sheet, silently.
    The first visible sheet is read; with more than one visible sheet the import says which one."""
    from ims_excel.cli import main

    header = ["Section", "Supplier GSTIN", "Document Number", "Document Date", "Taxable Value", "IGST",
              "CGST", "SGST", "Cess", "Document Value"]
    wb = openpyxl.Workbook()
    old = wb.active
    old.title = "Old"
    old.append(header)
    old.append(["B2B", "27AAACR5055K1Z7", "OLD-1", "01-10-2025", 1, 1, 0, 0, 0, 2])
    old.sheet_state = "hidden"
    data = wb.create_sheet("Data")
    data.append(header)
    data.append(["B2B", "27AAACR5055K1Z7", "NEW-1", "01-10-2025", 100, 18, 0, 0, 0, 118])
    wb.create_sheet("Notes").append(["checked by CA"])
    wb.save(tmp_path / "src.xlsx")
    typed = load(tmp_path / "src.xlsx")
    assert typed["document_number"].tolist() == ["NEW-1"]
    assert typed.attrs["notes"] == ["src.xlsx: read sheet 'Data' only (not 'Notes')"]
    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", "29AAACR5055K1Z3", "--period", "2025-10"]) == 0
    capsys.readouterr()
    assert main(["import", str(book), str(tmp_path / "src.xlsx")]) == 0
    assert "note: src.xlsx: read sheet 'Data' only (not 'Notes')" in capsys.readouterr().out


def test_a_repeated_header_is_refused_and_an_unknown_one_is_reported(tmp_path, capsys):
    """IGST given twice: pandas renamed the second IGST.1 and it was dropped unseen; refused, naming file, row and
    both columns, before the book is touched. `Remark` (for Remarks) and `Taxable Amt` matched nothing and were
    ignored silently; the import now says they were not imported, with "did you mean" for the near miss."""
    from ims_excel.cli import main

    book = tmp_path / "c.xlsm"
    assert main(["new", str(book), "--gstin", "29AAACR5055K1Z3", "--period", "2026-10"]) == 0
    src = tmp_path / "a.csv"
    src.write_text("Section,Supplier GSTIN,Document Number,Document Date,Document Value,Taxable Value,IGST,CGST,"
                   "SGST,Cess,igst ,Action,Remark,Taxable Amt,2B Period\n"
                   "B2B,27AAACS1111S1Z9,INV-1,05-10-2026,118000,100000,18000,0,0,0,9000,Reject,goods damaged,1,"
                   "2026-10\n", encoding="utf-8")
    before = book.read_bytes()
    capsys.readouterr()
    assert main(["import", str(book), str(src)]) == 2
    out = capsys.readouterr()
    assert (f"{src}, row 1, column 'IGST': columns G and K are both 'IGST' ('IGST' and 'igst'): one would be "
            "dropped; keep one") in out.out + out.err
    assert book.read_bytes() == before
    src.write_text(src.read_text().replace(",igst ,", ",").replace(",9000,Reject", ",Reject"), encoding="utf-8")
    assert main(["import", str(book), str(src)]) == 0
    assert ("note: a.csv: columns not imported: 'Remark' (did you mean 'Remarks'?), 'Taxable Amt'"
            in capsys.readouterr().out)
