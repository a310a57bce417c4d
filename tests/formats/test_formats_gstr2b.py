"""GSTR-2B JSON in: sections, records outside IMS, rejected documents."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from formats_helpers import FIXTURES
from ims_excel import periods
from ims_excel.formats import detect, gstr2b_json, load
from ims_excel.normalise import InputError

GSTR2B = FIXTURES / "gstr2b.json"


@pytest.fixture(scope="module")
def t2b() -> pd.DataFrame:
    return load(GSTR2B).set_index("document_number")


def test_detected_and_every_section_read(t2b):
    assert detect(GSTR2B) == "gstr2b_json"
    assert sorted(set(t2b["section"])) == sorted(
        ["B2B", "B2BA", "B2B-CN", "B2B-DN", "B2B-CNA", "B2B-DNA", "ECO", "ECOA", "ISD", "ISDA",
         "IMPG", "IMPGA", "IMPGSEZ"])
    assert t2b.attrs["gstin"] == "29AAACS2222T1ZX"


def test_supplier_level_fields(t2b):
    row = t2b.loc["000123"]
    assert row["supplier_gstin"] == "27AAACR5055K1Z7" and row["supplier_name"] == "Reliance Test Supplies"
    assert row["supplier_filing_status"] == "Filed"
    assert row["supplier_filing_date"] == pd.Timestamp("2025-11-11")
    assert row["period_2b"] == periods.parse("2025-10")
    assert row["supplier_return_period"] == "102025"
    assert row["not_in_ims"] == "" and row["itc_available"] == 1 and row["reverse_charge"] == 0
    assert row["taxable_value"] == 10000.0 and row["igst"] == 1800.0


def test_notes_split_by_type(t2b):
    assert t2b.loc["CN/0042", "section"] == "B2B-CN"
    assert t2b.loc["DN-77", "section"] == "B2B-DN"
    assert t2b.loc["CN-5A", "section"] == "B2B-CNA" and t2b.loc["CN-5A", "original_document_number"] == "CN-5"
    assert t2b.loc["DN-5A", "section"] == "B2B-DNA" and t2b.loc["DN-5A", "supply_type"] == "DE"


def test_records_outside_ims_are_marked(t2b):
    assert t2b.loc["RCM/7", ["not_in_ims", "reverse_charge"]].tolist() == ["RCM", 1]
    assert t2b.loc["POS/1", ["not_in_ims", "itc_available"]].tolist() == ["POS", 0]
    assert t2b.loc["LATE/1", "not_in_ims"] == "164"
    assert t2b.loc["37A/9", "not_in_ims"] == "37A"
    assert (t2b.loc[t2b["section"].isin(["ISD", "ISDA"]), "not_in_ims"] == "ISD").all()


def test_isd_eligibility_and_form(t2b):
    assert t2b.loc["ISD/001", ["itc_available", "source_form", "cgst"]].tolist() == [1, "GSTR-6", 200.0]
    assert t2b.loc["ISD/002", "itc_available"] == 0
    assert t2b.loc["ISD/000A", "original_document_number"] == "ISD/000"
    assert t2b.loc["ISD/001", "extra"]["ISD Document Type"] == "ISDI"


def test_bills_of_entry(t2b):
    assert t2b.loc["2566282", ["section", "source_form", "supplier_gstin"]].tolist() == ["IMPG", "ICEGATE", ""]
    assert t2b.loc["2566001", "section"] == "IMPGA"  # isamd = Y
    assert t2b.loc["7788990", ["section", "supplier_gstin"]].tolist() == ["IMPGSEZ", "29AAACM7777M1ZN"]
    assert t2b.loc["2566282", "extra"]["Port Code"] == "INMAA1"


def test_items_are_summed_when_the_document_has_no_totals(t2b):
    assert t2b.loc["LATE/1", ["taxable_value", "igst"]].tolist() == [200.0, 36.0]


def test_temporary_itc_is_available_and_kept(t2b):
    assert t2b.loc["ECO-2025-0000A", "itc_available"] == 1
    assert t2b.loc["ECO-2025-0000A", "extra"]["ITC Availability Code"] == "T"


def test_rejected_documents(t2b):
    assert t2b.loc["REJ/1", ["action", "previous_action"]].tolist() == ["Reject", "Rejected"]
    assert (t2b.drop(index="REJ/1")["action"] == "").all()


def test_bare_envelope_and_problems(tmp_path):
    obj = json.loads(GSTR2B.read_text(encoding="utf-8"))["data"]
    raw = gstr2b_json.parse({"rtnprd": obj["rtnprd"], "docdata": {"b2b": obj["docdata"]["b2b"]}})
    assert len(raw) == 4
    bad = {"data": {"rtnprd": "102025", "docdata": {"b2b": [{"ctin": "27AAACR5055K1Z7", "inv": [
        {"inum": "X1", "dt": "2025-10-01", "txval": "abc"}]}], "cdnr": {"nt": []}}}}
    path = tmp_path / "2b.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load(path)
    text = str(err.value)
    assert "data.docdata.b2b[0].inv[0]: date '2025-10-01' is not DD-MM-YYYY" in text
    assert "data.docdata.b2b[0].inv[0]: txval 'abc' is not a number" in text
    assert "data.docdata.cdnr: is a dict; a section is a list" in text


@pytest.mark.parametrize("doctyp", ["ISDC", "C", " isdc "])
def test_an_isd_credit_note_is_refused_not_counted_as_credit(tmp_path, doctyp):
    """ims-rules.md section 5: 4A(4) is ISD invoices net of ISD credit notes; the records cannot yet say
    that an ISD document is a credit note, so an ISDC would be added to 4A(4). Refused, named by path.
    Every spelling the reader takes as a credit note (gstr2b_json.ISD_CREDIT_NOTE; formats doc 2.4: ISDC)."""
    doc = json.loads(GSTR2B.read_text())
    isd = doc["data"]["docdata"]["isd"]
    note = json.loads(json.dumps(isd[0]))
    first = note["doclist"][0] if "doclist" in note else note
    first.update(doctyp=doctyp, docnum="ISDCN/9")
    isd.append(note)
    path = tmp_path / "2b.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        load(path)
    text = str(err.value)
    assert f"ISD credit note 'ISDCN/9' (doctyp {doctyp.strip().upper()})" in text and "docdata.isd[" in text
    assert len(load(GSTR2B)) > 0  # the fixture's ISD invoices (ISDI) still load
