"""IMS JSON in: envelopes, field mapping, spellings, places of problems."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from stdnum.in_ import gstin as stdnum_gstin

from formats_helpers import FIXTURES, SUPPLIERS, TRICKY
from ims_excel.formats import detect, detect_and_read, ims_json, load
from ims_excel.normalise import InputError

DOWNLOAD = FIXTURES / "ims_offline_download.json"


def test_fixture_gstins_are_valid():
    assert all(stdnum_gstin.is_valid(g) for g in SUPPLIERS)
    text = DOWNLOAD.read_text(encoding="utf-8") + (FIXTURES / "gstr2b.json").read_text(encoding="utf-8")
    found = set(pd.Series([text]).str.findall(r'"(\d{2}[A-Z0-9]{13})"')[0])
    assert found and all(stdnum_gstin.is_valid(g) for g in found)


def test_every_section_of_the_download_is_read():
    typed = load(DOWNLOAD)
    assert detect(DOWNLOAD) == "ims_json"
    assert typed["section"].tolist() == [
        "B2B", "B2B", "B2B", "B2B", "B2BA", "B2B-DN", "B2B-DNA", "B2B-CN", "B2B-CN", "B2B-CNA",
        "ECO", "ECOA", "IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"]
    by_doc = typed.set_index("document_number")
    assert by_doc.loc["AMD/001-R", "original_document_number"] == "AMD/001"
    assert by_doc.loc["DN-70A", "original_document_number"] == "DN-70"
    assert by_doc.loc["CN-5A", "original_document_date"] == pd.Timestamp("2025-08-01")
    assert by_doc.loc["2566001", "original_document_number"] == "2566000"
    assert by_doc.loc["2566282", "supplier_gstin"] == ""
    assert by_doc.loc["2566282", "source_form"] == "ICEGATE"
    assert by_doc.loc["2566282", "extra"]["Port Code"] == "INMAA1"
    assert by_doc.loc["DN-77", "cgst"] == 90.0


def test_document_numbers_stay_exactly_as_sent():
    typed = load(DOWNLOAD)
    assert typed["document_number"].tolist()[:4] == TRICKY


def test_values_are_mapped():
    t = load(DOWNLOAD).set_index("document_number")
    row = t.loc["000123"]
    assert (row["supplier_name"], row["document_date"], row["document_value"]) == (
        "Reliance Test Supplies", pd.Timestamp("2025-10-05"), 11800.0)
    assert (row["source_form"], row["supplier_filing_status"], row["place_of_supply"]) == ("GSTR-1", "Filed", "29")
    assert row["supplier_return_period"] == "102025"
    # string amounts, F / NF / Not Filed, R1A / GSTR1A spellings
    assert t.loc["1234567890123456", "taxable_value"] == 5000.5
    assert t.loc["1234567890123456", "supplier_filing_status"] == "Filed"
    assert t.loc["1234567890123456", "source_form"] == "GSTR-1A"
    assert t.loc['=HYPERLINK("x")', "source_form"] == "GSTR-1A"
    assert t.loc['=HYPERLINK("x")', "supplier_filing_status"] == "Not Filed"
    assert t.loc["INV/24-25/0891", "supplier_filing_status"] == "Not Filed"
    assert t.loc["INV/24-25/0891", "supply_type"] == "SEWP"
    assert t.loc["INV/24-25/0891", "remarks"] == "awaiting goods"
    # blocked flags, camelCase and itc-guard spellings
    assert t.loc['=HYPERLINK("x")', "pending_blocked"] == 1
    assert t.loc['=HYPERLINK("x")', "remarks_blocked"] == 1
    assert t.loc["CN-9", "declaration_blocked"] == 0  # itcRedReqBlocked
    assert t.loc["CN/0042", "declaration_blocked"] == 0  # isItcRedReqBlocked


def test_action_is_both_action_and_previous_action():
    t = load(DOWNLOAD)
    codes = {"Accept": "A", "Reject": "R", "Pending": "P", "No Action": "N"}
    prev = {"Accepted": "A", "Rejected": "R", "Pending": "P", "No Action": "N"}
    assert (t["action"].map(codes) == t["previous_action"].map(prev)).all()
    assert set(t["action"]) == {"Accept", "Reject", "Pending", "No Action"}


def test_itc_reduction_camel_and_snake():
    t = load(DOWNLOAD).set_index("document_number")
    assert t.loc["CN-9", "itc_reduction"] == "Partial"  # itc_red_req Y + decl_igst
    assert t.loc["CN-9", "declared_igst"] == 45.0
    assert t.loc["CN-5A", "itc_reduction"] == "Full"  # itcRedReq Y, nothing declared
    assert t.loc["DN-70A", "itc_reduction"] == "No"
    assert t.loc["CN/0042", "itc_reduction"] == ""


def test_source_record_is_kept_whole():
    """A file is streamed: ``_source`` is each record's JSON text as the file has it (not a dict)."""
    raw = detect_and_read(DOWNLOAD)
    original = json.loads(DOWNLOAD.read_text(encoding="utf-8"))
    first = json.loads(raw.loc[0, "_source"])
    assert first == original["imsDetails"]["b2b"][0]
    assert first["hash"].startswith("1f5fb5de")
    assert json.loads(raw.loc[1, "_source"])["ItcAvailabilityCheck"] == "Y"  # unknown keys survive
    assert raw.loc[1, "_section_key"] == "b2b" and raw.loc[1, "_path"] == "imsDetails.b2b[1]"
    # the typed frame carries it in extra, for the upload
    assert load(DOWNLOAD)["extra"].iloc[0]["_source"] is not None


@pytest.mark.parametrize("wrap", ["getinv", "data", "invdata", "grouped"])
def test_other_envelopes(tmp_path, wrap):
    rec = {"stin": SUPPLIERS[0], "inum": "A1", "idt": "01-10-2025", "val": 118, "txval": 100,
           "iamt": 18, "camt": 0, "samt": 0, "cess": 0, "action": "A", "pos": 29}
    if wrap == "getinv":
        obj = {"b2b": [rec], "B2BCN": [dict(rec, nt_num="C1", nt_dt="02-10-2025")]}
    elif wrap == "data":
        obj = {"status_cd": "1", "data": {"b2b": [rec]}}
    elif wrap == "invdata":
        obj = {"rtin": "29AAACS2222T1ZX", "reqtyp": "SAVE", "invdata": {"b2b": [dict(rec, prev_status="N")]}}
    else:
        grouped = {k: v for k, v in rec.items() if k != "stin"}
        obj = {"imsDetails": {"b2b": [{"stin": SUPPLIERS[0], "inv": [grouped]}]}}
    path = tmp_path / "in.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    t = load(path)
    assert t.loc[0, "document_number"] == "A1" and t.loc[0, "supplier_gstin"] == SUPPLIERS[0]
    assert t.loc[0, "place_of_supply"] == "29"
    assert t.loc[0, "action"] == "Accept"
    assert t.loc[0, "previous_action"] == ("No Action" if wrap == "invdata" else "Accepted")
    if wrap == "getinv":
        assert t["section"].tolist() == ["B2B", "B2B-CN"]
    if wrap == "invdata":
        assert t.attrs["gstin"] == "29AAACS2222T1ZX"


def test_snake_and_camel_spellings_of_one_field_merge():
    obj = {"b2bcn": [
        {"stin": SUPPLIERS[0], "nt_num": "C1", "nt_dt": "01-10-2025", "itcRedReq": "Y", "declIgst": 5},
        {"stin": SUPPLIERS[0], "nt_num": "C2", "nt_dt": "01-10-2025", "itc_red_req": "N"},
        {"stin": SUPPLIERS[0], "ntnum": "C3", "ntdt": "01-10-2025", "ITCREDREQ": "Y"}]}
    raw = ims_json.parse(obj)
    assert raw["ITC Reduction"].tolist() == ["Partial", "No", "Full"]
    assert raw["Document Number"].tolist() == ["C1", "C2", "C3"]


def test_integer_document_number_is_kept_digit_for_digit():
    raw = ims_json.parse({"b2b": [{"stin": SUPPLIERS[0], "inum": 1234567890123456, "idt": "01-10-2025"}]})
    assert raw.loc[0, "Document Number"] == "1234567890123456"


def test_empty_sections_give_an_empty_frame():
    raw = ims_json.parse({"imsDetails": {"b2b": [], "b2ba": None}})
    assert len(raw) == 0
    assert len(load_raw_typed(raw)) == 0


def load_raw_typed(raw):
    from ims_excel.formats._common import to_typed
    return to_typed(raw)


def test_problems_are_collected_across_sections(tmp_path):
    obj = {"imsDetails": {
        "b2b": [{"inum": "A1", "idt": "01-10-2025"}, {"stin": SUPPLIERS[0], "inum": "A2", "idt": "1-10-25"}],
        "b2bcn": [{"stin": SUPPLIERS[1], "nt_num": "C1", "nt_dt": "01-10-2025", "txval": "ten"}]}}
    path = tmp_path / "many.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load(path)
    text = str(err.value)
    assert "imsDetails.b2b[0]: missing stin" in text
    assert "imsDetails.b2b[1]: idt '1-10-25' is not a date in DD-MM-YYYY form" in text
    assert "imsDetails.b2bcn[0]: txval 'ten' is not a number" in text
    assert len(err.value.problems) == 3


def test_normalise_problems_are_named_by_json_path(tmp_path):
    obj = {"imsDetails": {"b2b": [
        {"stin": SUPPLIERS[0], "inum": "A1", "idt": "01-10-2025", "inv_typ": "XX"},
        {"stin": "27AAACR5055K1Z", "inum": "A2", "idt": "01-10-2025"}]}}
    path = tmp_path / "enum.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load(path)
    text = str(err.value)
    assert f"{path}: imsDetails.b2b[0]: Supply Type: 'XX' is not one of" in text
    assert f"{path}: imsDetails.b2b[1]: Supplier GSTIN: '27AAACR5055K1Z' is not a GSTIN" in text


def test_an_amendment_without_its_original_is_named_by_json_path(tmp_path):
    """A b2ba record without oinum (or oidt) is refused, named by its JSON path, not uploaded as "oinum":""."""
    obj = {"imsDetails": {"b2ba": [
        {"stin": SUPPLIERS[0], "inum": "A1R", "idt": "01-10-2025", "oinum": "A1", "oidt": "01-09-2025"},
        {"stin": SUPPLIERS[0], "inum": "A2R", "idt": "01-10-2025", "oidt": "01-09-2025"}]}}
    path = tmp_path / "amd.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}: imsDetails.b2ba[1]: Original Document Number: is blank: an amendment (B2BA, B2B-DNA, B2B-CNA, "
        "ECOA, ISDA) names the document it amends, and the portal needs it (oinum/oidt, ont_num/ont_dt)"]
