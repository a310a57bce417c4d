"""Bad input gets a clear error naming file, row and column; text that looks like a number stays text."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ims_excel.engine import Context, evaluate
from ims_excel.normalise import InputError, normalise, parse_amounts

BASE = {"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "INV-1",
        "Document Date": "2025-11-05", "IGST": "900", "2B Period": "2025-11"}
CTX = Context.make("27AAACR5055K1Z7", "2025-11")


def problems(rows: list[dict], **kw) -> list[str]:
    with pytest.raises(InputError) as e:
        evaluate(normalise(pd.DataFrame(rows, dtype=object), file="in.csv", **kw), CTX, inward_name="in.csv")
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize("change, expected", [
    ({"Section": "B2C"}, "in.csv, row 1, column 'Section': 'B2C' is not one of B2B"),
    ({"Action": "Approve"}, "in.csv, row 1, column 'Action': 'Approve' is not one of Accept, Reject"),
    ({"Supplier GSTIN": "29AAACS2222T1"}, "in.csv, row 1, column 'Supplier GSTIN': '29AAACS2222T1' is not a GSTIN"),
    ({"IGST": "9OO"}, "in.csv, row 1, column 'IGST': '9OO' is not an amount"),
    ({"IGST": "1,0,0"}, "in.csv, row 1, column 'IGST': '1,0,0' is not an amount"),
    ({"IGST": "-5"}, "in.csv, row 1, column 'IGST': '-5' is negative"),
    ({"Document Date": "31/02/2025"}, "in.csv, row 1, column 'Document Date': '31/02/2025' is not a date"),
    ({"Document Date": "Nov 5"}, "in.csv, row 1, column 'Document Date': 'Nov 5' is not a date"),
    # a day pandas' nanoseconds cannot hold: a named cell, not an OutOfBoundsDatetime traceback
    ({"Document Date": "01-01-2300"}, "in.csv, row 1, column 'Document Date': '01-01-2300' is not a date"),
    ({"Document Date": 2958465}, "in.csv, row 1, column 'Document Date': 2958465 is not a date"),
    ({"2B Period": "2025-12"}, "in.csv, row 1, column '2B Period': 2025-12 is after the return period 2025-11"),
    ({"2B Period": "Nov"}, "in.csv, row 1, column '2B Period': 'Nov' is not a period"),
    ({"Document Number": ""}, "in.csv, row 1, column 'Document Number': is blank"),
    # a state's name is no state code: read as none it turned off NOT_IN_IMS_POS (ineligible ITC in 4A(5))
    ({"Place Of Supply": "Maharashtra"},
     "in.csv, row 1, column 'Place Of Supply': 'Maharashtra' is not a place-of-supply state code"),
    ({"Place Of Supply": "00"}, "in.csv, row 1, column 'Place Of Supply': '00' is not a place-of-supply state code"),
    ({"Place Of Supply": "27.5"},
     "in.csv, row 1, column 'Place Of Supply': '27.5' is not a place-of-supply state code"),
])
def test_one_bad_cell_is_named(change, expected):
    got = problems([{**BASE, **change}])
    assert any(p.startswith(expected) for p in got), got


@pytest.mark.parametrize("typed, code", [("27", "27"), ("7", "07"), (7, "07"), (27.0, "27"),
                                         ("27-Maharashtra", "27"), ("38", "38"), ("96", "96"), ("97", "97"),
                                         ("", "")])
def test_place_of_supply_is_read_as_its_state_code(typed, code):
    """The forms the portal readers already convert (formats._values.state_codes) and the codes
    gstin.PLACE_OF_SUPPLY_CODES knows: 38 Ladakh, 96 Other Countries, 97 Other Territory."""
    assert normalise(pd.DataFrame([{**BASE, "Place Of Supply": typed}], dtype=object))["place_of_supply"].tolist() == [code]


def test_a_place_of_supply_the_engine_could_not_read_is_refused_not_made_eligible():
    """The supplier's state is the place of supply, ours is not (NOT_IN_IMS_POS): a state's name typed there
    was read as no state and the ITC went to 4A(5); the coded one is ineligible (4D(2))."""
    row = {**BASE, "Supplier GSTIN": "29AAACS2222T1ZX", "Place Of Supply": "29-Karnataka"}
    res = evaluate(normalise(pd.DataFrame([row], dtype=object), file="in.csv"), CTX, inward_name="in.csv")
    assert res.records.loc[0, "primary_code"] == "NOT_IN_IMS_POS" and res.records.loc[0, "gstr3b_table"] == "4D2"
    assert problems([{**row, "Place Of Supply": "Karnataka"}]) == [
        "in.csv, row 1, column 'Place Of Supply': 'Karnataka' is not a place-of-supply state code (2 digits: 01-38, "
        "96 Other Countries, 97 Other Territory, 99 Centre jurisdiction; 27 or 27-Maharashtra)"]


def test_missing_required_column_is_named():
    rows = [{k: v for k, v in BASE.items() if k != "Document Number"}]
    assert problems(rows) == ["in.csv, column 'Document Number': required column 'Document Number' is missing"]


def test_duplicates_name_both_rows():
    got = problems([BASE, {**BASE, "IGST": "100"}])
    assert got == ["in.csv, row 2, column 'Document Number': 'INV-1' of 29AAACS2222T1ZX "
                   "(B2B, 2B 2025-11) duplicates row 1"]


def test_every_problem_is_listed_not_just_the_first():
    got = problems([{**BASE, "IGST": "x"}, {**BASE, "Document Number": "INV-2", "CGST": "y"}])
    assert len(got) == 2 and "row 1" in got[0] and "row 2" in got[1]


def test_headers_match_case_and_space_insensitively_and_extras_are_kept():
    raw = pd.DataFrame([{"section": "B2B", "SUPPLIER_GSTIN": "29AAACS2222T1ZX", "document  number": "000123",
                         "Document-Date": "05-11-2025", "igst": "1,00,000.50", "My Notes": "keep me"}])
    df = normalise(raw, file="x.csv")
    assert df.loc[0, "document_number"] == "000123"
    assert df.loc[0, "igst"] == 100000.5
    assert df.loc[0, "extra"] == {"My Notes": "keep me"}


@pytest.mark.parametrize("number", ["000123", "1234567890123456", "INV/24-25/0891", '=HYPERLINK("x")', " 12 "])
def test_document_numbers_stay_exactly_as_typed(number):
    df = normalise(pd.DataFrame([{**BASE, "Document Number": number}], dtype=object), file="x.csv")
    assert df.loc[0, "document_number"] == number


def test_a_number_cell_that_lost_digits_is_refused():
    raw = pd.DataFrame([{**BASE, "Document Number": 1234567890123456789.0}], dtype=object)
    with pytest.raises(InputError, match="format the column as Text"):
        normalise(raw, file="x.xlsx")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**13 - 1), st.integers(min_value=0, max_value=99))
def test_indian_and_western_grouping_read_the_same(rupees, paise):
    indian = f"{rupees:,}"  # western grouping
    head, tail = str(rupees)[:-3], str(rupees)[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    lakh = ",".join(([head] if head else []) + groups + [tail]) if rupees >= 1000 else str(rupees)
    texts = pd.Series([f"{indian}.{paise:02d}", f"{lakh}.{paise:02d}", f"{rupees}.{paise:02d}"])
    vals, bad = parse_amounts(texts)
    assert not bad.any()
    assert (vals == round(rupees + paise / 100, 2)).all()


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_amount_parser_never_guesses(text):
    vals, bad = parse_amounts(pd.Series([text]))
    # either refused, or blank (0), or the text without grouping commas is a plain number
    if not bad.iloc[0]:
        plain = text.replace("₹", "").strip().replace(",", "")
        assert plain.lower() in ("", "nan", "none", "nat") or float(plain) == pytest.approx(vals.iloc[0], abs=0.005)


AMENDED = {"Original Document Number": "INV-0", "Original Document Date": "2025-10-05"}
BLANK_ORIGINAL = "is blank: an amendment (B2BA, B2B-DNA, B2B-CNA, ECOA, ISDA) names the document it amends"


def typed_problems(rows: list[dict]) -> list[str]:
    """The problems of the readers' typed step (to_typed: every file read, the workbook's table)."""
    from ims_excel.formats import to_typed
    with pytest.raises(InputError) as e:
        to_typed(pd.DataFrame(rows, dtype=object), file="in.csv")
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize("section", ["B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "ISDA"])
@pytest.mark.parametrize("blank", ["Original Document Number", "Original Document Date"])
def test_an_amendment_without_its_original_is_refused(section, blank):
    """The portal needs the original of an amendment (oinum/oidt, ont_num/ont_dt: formats doc 2.3, 10): a
    blank one is refused like any bad cell, named by file, row and column, instead of uploading "oinum":""."""
    from ims_excel.formats import to_typed
    row = {**BASE, **AMENDED, "Section": section, blank: ""}
    assert typed_problems([BASE, row]) == [f"in.csv, row 2, column '{blank}': {BLANK_ORIGINAL}, and the portal "
                                           "needs it (oinum/oidt, ont_num/ont_dt)"]
    assert len(to_typed(pd.DataFrame([BASE, {**row, **AMENDED}], dtype=object), file="in.csv")) == 2


def test_amendment_originals_checked_where_they_exist():
    """Both blanks of one row are named; a Bill-of-Entry amendment (GSTR-2B's impg carries no original BoE,
    formats doc 2.4) and an Outward amendment are not checked; records built from dicts are not either."""
    from ims_excel.formats import to_typed
    got = typed_problems([{**BASE, "Section": "B2BA"}])
    assert [p.split(":")[0] for p in got] == ["in.csv, row 1, column 'Original Document Number'",
                                              "in.csv, row 1, column 'Original Document Date'"]
    boe = {**BASE, "Section": "IMPGA", "Supplier GSTIN": ""}
    assert len(to_typed(pd.DataFrame([boe], dtype=object), file="in.csv")) == 1
    outward = {"Section": "B2BA", "Recipient GSTIN": "29AAACS2222T1ZX", "Document Number": "S-1",
               "Document Date": "2025-11-05"}
    assert len(to_typed(pd.DataFrame([outward], dtype=object), file="out.csv", direction="outward")) == 1
    assert len(normalise(pd.DataFrame([{**BASE, "Section": "B2BA"}], dtype=object))) == 1


def test_yes_in_itc_reduction_is_full_without_amounts_and_partial_with_them():
    """Rulebook G9 (the portal's itcRedReq Y: no values = the whole reduction, values = the declared amounts): a
    user's own file that says Yes/Y is read as the IMS JSON and portal Excel readers read the portal's Y, so
    Yes with declared amounts is Partial, not Full with amounts (which DECL_AMOUNTS_NOT_PARTIAL refuses)."""
    import pandas as pd

    from ims_excel.normalise import normalise
    raw = pd.DataFrame({"Section": ["B2B-CN"] * 4, "Supplier GSTIN": ["29AAACS2222T1ZX"] * 4,
                        "Document Number": ["C1", "C2", "C3", "C4"], "Document Date": ["2025-11-05"] * 4,
                        "IGST": [1800] * 4, "ITC Reduction": ["Yes", " y ", "Yes", "Full"],
                        "Declared IGST": [900, "450.50", None, 900]})
    assert normalise(raw)["itc_reduction"].tolist() == ["Partial", "Partial", "Full", "Full"]
