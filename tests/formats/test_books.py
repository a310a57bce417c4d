"""Purchase registers in (issue 11): Tally, Busy, GSTN's template and canonical layouts, several files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_excel.formats.books import read_books, read_one
from ims_excel.normalise import InputError

BOOKS = Path(__file__).parent.parent / "fixtures" / "books"
PR = Path(__file__).parent.parent / "fixtures" / "formats"


def _docs(frame):
    return {(r.section, r.supplier_gstin, r.document_number): (r.taxable_value, r.igst, r.cgst, r.sgst)
            for r in frame.itertuples()}


def test_tally_gstr2_export_sheets_and_rate_wise_rows():
    t = read_one(BOOKS / "tally_gstr2.xlsx")
    docs = _docs(t)
    # INV-2003 is listed at 18% and 12%: one document, amounts added up
    assert docs[("B2B", "29AAACS2222T1ZX", "INV-2003")] == (25000.0, 4200.0, 0.0, 0.0)
    # cdnr sheet: Document Type C / D is the supplier's note type
    assert ("B2B-CN", "29AAACS2222T1ZX", "CN-401") in docs and ("B2B-DN", "29AAACS2222T1ZX", "DN-301") in docs
    assert set(t["source_sheet"]) == {"b2b", "cdnr"}
    assert str(t.loc[t["document_number"] == "CN-401", "document_date"].iloc[0].date()) == "2026-10-22"


def test_tally_purchase_register_titles_dr_cr_ledgers_totals():
    t = read_one(BOOKS / "tally_purchase_register.xlsx")
    docs = _docs(t)
    # the supplier's invoice number wins over Tally's voucher number; taxable = purchase ledger column
    assert docs[("B2B", "27AAACS1111S1Z9", "INV/2001")] == (100000.0, 0.0, 9000.0, 9000.0)
    # a Debit Note voucher (purchase return, amounts negative) is the supplier's credit note
    assert docs[("B2B-CN", "29AAACS2222T1ZX", "CN-401")] == (10000.0, 1800.0, 0.0, 0.0)
    assert len(t) == 4 and t.attrs["skipped"] == 2  # the unregistered purchase and the Grand Total row
    assert t["source_row"].tolist() == [6, 7, 8, 9]


def test_busy_two_level_header_rupee_suffix_title_rows():
    t = read_one(BOOKS / "busy_purchase_register.xlsx")
    docs = _docs(t)
    assert docs[("B2B", "29AAACS2222T1ZX", "INV-2002")] == (50000.0, 9000.0, 0.0, 0.0)
    assert docs[("B2B", "27AAACS1111S1Z9", "INV-0002001")] == (100000.0, 0.0, 9000.0, 9000.0)
    assert t.attrs["skipped"] == 1


def test_canonical_csv_with_title_row_keeps_user_columns():
    t = read_one(BOOKS / "canonical_books.csv")
    assert t["section"].tolist() == ["B2B", "B2B-CN"]
    assert t["extra"].iloc[0] == {"Cost Centre": "Pune"}
    assert t["source_row"].tolist() == [3, 4]


def test_gstn_template_still_read():
    t = read_one(PR / "purchase_register.csv")
    assert len(t) > 0 and {"B2B"} <= set(t["section"].astype(str))


def test_several_files_in_order():
    b = read_books([BOOKS / "canonical_books.csv", BOOKS / "busy_purchase_register.xlsx"])
    assert b["book_file"].tolist() == ["canonical_books.csv"] * 2 + ["busy_purchase_register.xlsx"] * 3
    assert b["book_index"].tolist() == [0, 0, 1, 1, 1]


def test_bad_amount_names_file_row_and_column():
    with pytest.raises(InputError) as e:
        read_books([BOOKS / "canonical_books.csv", BOOKS / "bad_books.csv"])
    text = str(e.value)
    assert "bad_books.csv" in text and "row 3" in text and "'IGST'" in text and "45OO" in text


def test_bad_date_names_the_files_own_header(tmp_path):
    p = tmp_path / "tally.csv"
    p.write_text("GSTIN of Supplier,Invoice Number,Invoice date,Taxable Value,Integrated Tax Paid\n"
                 "29AAACS2222T1ZX,INV-1,31-13-2026,100,18\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_one(p)
    assert "row 2" in str(e.value) and "'Invoice date'" in str(e.value)


def test_no_header_is_a_clear_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="no purchase-register header"):
        read_one(p)


# --- Place Of Supply as a state's name (the accountant's books; the portal's files carry codes) ---------------

def _busy(path: Path, place: object) -> Path:
    """A Busy purchase register as the reviewer's repro wrote it: a title row, then Busy's headers."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Purchase Register"
    ws.append(["Purchase Register"])
    ws.append(["Date", "Vch/Bill No", "Party Name", "GSTIN/UIN", "Place of Supply", "Taxable Amt.", "IGST Amt.",
               "CGST Amt.", "SGST Amt.", "Bill Amount", "Vch Type"])
    ws.append(["05-10-2026", "INV-1", "Kaveri", "29AAACS2222T1ZX", place, 1000, 180, 0, 0, 1180, "Purchase"])
    wb.save(path)
    return path


@pytest.mark.parametrize("place, code", [
    ("Karnataka", "29"), ("KARNATAKA", "29"), (" karnataka ", "29"), ("29-Karnataka", "29"),
    ("29 - Karnataka", "29"), ("Karnataka (29)", "29"), ("Karnataka-29", "29"), ("29", "29"), (29, "29"),
    ("Jammu & Kashmir", "01"), ("Orissa", "21"), ("Dadra & Nagar Haveli and Daman & Diu", "26"),
    ("Other Territory", "97"), ("Foreign Country", "96"), ("Andhra Pradesh", "37"), ("Ladakh", "38")])
def test_books_place_of_supply_may_be_a_state_name(tmp_path, place, code):
    """Tally/Busy write the state's name in Place of Supply: read as its code through the one GST state code
    list (gstin.STATE_NAMES; formats-and-market.md 7 "Accounting exports", 8 state codes), so the register
    is read and reconcile runs (before, the whole register was refused)."""
    assert read_one(_busy(tmp_path / "busy.xlsx", place))["place_of_supply"].tolist() == [code]


def test_every_gst_state_code_has_its_name_and_each_name_reads_as_its_code():
    """One table, one name per place-of-supply code (formats-and-market.md 8: 01-38, 96, 97, 99)."""
    import pandas as pd

    from ims_excel import gstin
    from ims_excel.normalise import parse_places
    assert sorted(gstin.STATE_NAMES) == sorted(gstin.PLACE_OF_SUPPLY_CODES)
    names = pd.Series(list(gstin.STATE_NAMES.values()) + [f"{c}-{n}" for c, n in gstin.STATE_NAMES.items()])
    vals, bad = parse_places(names, names=True)
    assert not bad.any() and vals.tolist() == list(gstin.STATE_NAMES) * 2


@pytest.mark.parametrize("place", ["Atlantis", "29-Maharashtra", "Maharashtra (29)", "Maharashtra 29", "Maharashtra29",
                                   "Maharashtra / 29", "27.5", "00"])
def test_books_place_of_supply_neither_a_code_nor_its_state_is_refused_naming_file_sheet_row_column(tmp_path, place):
    """A name not in the GST state code list, or another state's code with it, is refused, not read as no
    state (that turned off NOT_IN_IMS_POS and put ineligible ITC in 4A(5)); the problem names the file, sheet,
    row and the column as the file heads it."""
    with pytest.raises(InputError) as e:
        read_one(_busy(tmp_path / "busy.xlsx", place))
    assert str(e.value).startswith(f"{tmp_path / 'busy.xlsx'}, sheet 'Purchase Register', row 3, column "
                                   f"'Place of Supply': {place!r} is neither a place-of-supply state code "
                                   "(2 digits: 01-38, 96 Other Countries"), str(e.value)


def test_portal_files_keep_requiring_a_state_code(tmp_path):
    """The portal's files carry codes (formats-and-market.md 2.1 ``29-Karnataka``, 2.3 ``pos``): a state's name
    in the offline tool's Excel is refused as before; names are the books' only."""
    import sys

    import openpyxl

    from ims_excel.formats import load
    sys.path.insert(0, str(Path(__file__).parent))
    from formats_helpers import build_portal_workbook
    p = build_portal_workbook(tmp_path / "portal.xlsx")
    wb = openpyxl.load_workbook(p)
    wb["B2B"]["H7"] = "Karnataka"  # Place of supply of the first B2B record
    wb.save(p)
    with pytest.raises(InputError, match=r"sheet 'B2B', row 7, column 'Place Of Supply': 'Karnataka' is not a "
                                         "place-of-supply state code"):
        load(p)
