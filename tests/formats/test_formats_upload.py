"""IMS upload JSON out: what goes in, byte-for-byte return of downloaded records, refusals."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from formats_helpers import FIXTURES, RTIN, TRICKY, ok_statuses, original_records
from ims_excel.formats import UploadRefused, build_upload, load, write_upload
from ims_excel.formats._jsonio import JsonNumber, dumps
from ims_excel.formats.upload_json import MAX_REMARKS

DOWNLOAD = FIXTURES / "ims_offline_download.json"
CHANGED_KEYS = {"action", "prev_status", "itcRedReq", "declIgst", "declCgst", "declSgst", "declCess",
                "itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess", "remarks"}


def _index(typed: pd.DataFrame, doc: str) -> int:
    return int(typed.index[typed["document_number"] == doc][0])


def test_import_then_export_with_no_change_is_empty():
    typed = load(DOWNLOAD)
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.payload == {"rtin": RTIN, "reqtyp": "SAVE", "invdata": {}}
    assert up.to_json() == '{"rtin":"29AAACS2222T1ZX","reqtyp":"SAVE","invdata":{}}'
    assert up.left_out == [] and up.resets == [] and up.reset_payload is None


def test_three_changes_upload_exactly_those_three_records_byte_for_byte():
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "000123"), "action"] = "Accept"           # N -> A
    typed.loc[_index(typed, '=HYPERLINK("x")'), "action"] = "Accept"  # R -> A, remarks blocked
    typed.loc[_index(typed, "INV/24-25/0891"), "action"] = "Reject"    # P -> R, keeps its remarks
    up = build_upload(typed, ok_statuses(typed), RTIN)
    text = up.to_json()
    payload = json.loads(text, parse_float=JsonNumber)
    assert list(payload["invdata"]) == ["b2b"]
    sent = payload["invdata"]["b2b"]
    assert [r["inum"] for r in sent] == ["000123", "INV/24-25/0891", '=HYPERLINK("x")']
    assert [(r["action"], r["prev_status"]) for r in sent] == [("A", "N"), ("R", "P"), ("A", "R")]
    originals = original_records(DOWNLOAD)
    for rec, path in zip(sent, ["imsDetails.b2b[0]", "imsDetails.b2b[2]", "imsDetails.b2b[3]"]):
        orig = originals[path]
        kept = {k: v for k, v in rec.items() if k not in CHANGED_KEYS}
        want = {k: v for k, v in orig.items() if k not in CHANGED_KEYS}
        assert dumps(kept) == dumps(want)  # same keys, same order, same number spellings
    assert '"val":11800.00' in text and '"txval":10000.00' in text and '"val":1000.10' in text
    assert '"inum":"=HYPERLINK(\\"x\\")"' in text
    assert sent[1]["remarks"] == "awaiting goods"
    assert "remarks" not in sent[2]  # isRemarksBlocked = Y
    assert up.count == 3 and len(up.included) == 3


def test_reset_to_no_action_is_not_saved_but_listed():
    typed = load(DOWNLOAD)
    i = _index(typed, "1234567890123456")  # saved as A
    typed.loc[i, "action"] = "No Action"
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.payload["invdata"] == {}
    assert [r.document_number for r in up.resets] == ["1234567890123456"]
    rec = up.reset_payload["invdata"]["b2b"][0]
    assert up.reset_payload["reqtyp"] == "RESET"
    assert "action" not in rec and rec["prev_status"] == "A" and rec["inum"] == "1234567890123456"


def test_itc_reduction_block_only_for_specified_accepts():
    typed = load(DOWNLOAD)
    cn0042, cn9, cn5a = (_index(typed, d) for d in ("CN/0042", "CN-9", "CN-5A"))
    dn77 = _index(typed, "DN-77")
    typed.loc[cn0042, ["action", "itc_reduction"]] = ["Accept", "Partial"]
    typed.loc[cn0042, ["declared_igst", "declared_cgst"]] = [90.0, 0.0]
    typed.loc[cn9, "action"] = "Pending"            # not an accept: no block
    typed.loc[cn5a, "action"] = "Reject"
    typed.loc[dn77, ["action", "itc_reduction"]] = ["Accept", "Full"]  # not specified: no block
    specified = typed["section"].isin(["B2B-CN", "B2B-CNA"])
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=specified)
    recs = {r["nt_num"]: r for sec in up.payload["invdata"].values() for r in sec}
    assert recs["CN/0042"]["itcRedReq"] == "Y"
    assert [recs["CN/0042"][k] for k in ("declIgst", "declCgst", "declSgst", "declCess")] == [90, 0, 0, 0]
    assert '"declIgst":90.00,"declCgst":0.00' in up.to_json()
    assert not CHANGED_KEYS - {"action", "prev_status", "remarks"} & set(recs["CN-9"])
    assert "itc_red_req" not in recs["CN-9"] and "decl_igst" not in recs["CN-9"]
    assert recs["CN-9"]["remarks"] == "half reversed earlier"
    assert "itcRedReq" not in recs["CN-5A"]
    assert "itcRedReq" not in recs["DN-77"]


@pytest.mark.parametrize("reduction, expected", [
    ("Full", {"itc_red_req": "Y"}),
    ("Partial", {"itc_red_req": "Y", "decl_igst": 40.0, "decl_cgst": 0.0, "decl_sgst": 0.0, "decl_cess": 0.0}),
    ("No", {"itc_red_req": "N"}),
])
def test_itc_reduction_keeps_the_source_spelling(reduction, expected):
    typed = load(DOWNLOAD)
    i = _index(typed, "CN-9")  # downloaded with itc_red_req / decl_igst (snake_case), action A
    typed.loc[i, "previous_action"] = "Pending"  # force a change
    typed.loc[i, ["itc_reduction", "declared_igst"]] = [reduction, 40.0]
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=typed["section"] == "B2B-CN")
    rec = up.payload["invdata"]["b2bcn"][0]
    got = {k: v for k, v in rec.items() if k.startswith(("itc_", "decl"))}
    assert got == expected
    assert rec["itcRedReqBlocked"] == "N"  # untouched download key


def test_declaration_blocked_sends_no_block():
    typed = load(DOWNLOAD)
    i = _index(typed, "CN/0042")
    typed.loc[i, ["action", "itc_reduction", "declaration_blocked"]] = ["Accept", "Full", 1]
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=pd.Series(True, index=typed.index))
    assert "itcRedReq" not in up.payload["invdata"]["b2bcn"][0]


def test_specified_accept_without_answer_is_a_warning():
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "CN/0042"), "action"] = "Accept"
    up = build_upload(typed, ok_statuses(typed), RTIN)  # default: B2B-CN is specified
    assert "itcRedReq" not in up.payload["invdata"]["b2bcn"][0]
    assert [w.document_number for w in up.warnings] == ["CN/0042"]


def test_error_status_refuses_and_only_valid_leaves_out():
    typed = load(DOWNLOAD)
    for doc in ("000123", "DN-77", "ECO-2025-0001"):
        typed.loc[_index(typed, doc), "action"] = "Accept"
    statuses = ok_statuses(typed)
    statuses.loc[_index(typed, "DN-77"), ["status", "primary_code"]] = ["error", "PENDING_BLOCKED"]
    statuses.loc[_index(typed, "AMD/001-R"), ["status", "primary_code"]] = ["error", "GSTIN_CHECK"]
    statuses.loc[_index(typed, "000123"), "status"] = "warning"
    with pytest.raises(UploadRefused) as err:
        build_upload(typed, statuses, RTIN)
    assert [r.document_number for r in err.value.rows] == ["AMD/001-R", "DN-77"]
    assert "row 6 (B2B-DN 29AAACM7777M1ZN 'DN-77'): validation error [PENDING_BLOCKED]" in str(err.value)
    up = build_upload(typed, statuses, RTIN, only_valid=True)
    sent = [r.get("inum") or r.get("nt_num") for sec in up.payload["invdata"].values() for r in sec]
    assert sent == ["000123", "ECO-2025-0001"]
    assert [(r.document_number, r.code) for r in up.left_out] == [("DN-77", "PENDING_BLOCKED")]


def test_missing_status_counts_as_error():
    typed = load(DOWNLOAD)
    typed.loc[0, "action"] = "Accept"
    with pytest.raises(UploadRefused, match="NOT_VALIDATED"):
        build_upload(typed, ok_statuses(typed).iloc[1:], RTIN)


def test_long_remarks_are_refused_and_blocked_remarks_not_sent():
    typed = load(DOWNLOAD)
    i = _index(typed, "000123")
    typed.loc[i, ["action", "remarks"]] = ["Reject", "x" * (MAX_REMARKS + 1)]
    with pytest.raises(UploadRefused, match="251 characters"):
        build_upload(typed, ok_statuses(typed), RTIN)
    typed.loc[i, "remarks"] = "x" * MAX_REMARKS
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.payload["invdata"]["b2b"][0]["remarks"] == "x" * MAX_REMARKS
    typed.loc[i, "remarks_blocked"] = 1
    typed.loc[i, "remarks"] = "x" * 999  # blocked: not sent, so not refused
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert "remarks" not in up.payload["invdata"]["b2b"][0]


def test_records_not_in_ims_are_never_uploaded():
    typed = load(FIXTURES / "gstr2b.json")
    typed.loc[typed["not_in_ims"] != "", "action"] = "Accept"
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.payload["invdata"] == {}
    assert {r.document_number for r in up.left_out} == set(typed.loc[typed["not_in_ims"] != "", "document_number"])


def test_records_from_a_csv_are_built_from_the_columns():
    typed = load(FIXTURES / "canonical_inward.csv")
    up = build_upload(typed, ok_statuses(typed), RTIN)
    text = up.to_json()
    b2b = up.payload["invdata"]["b2b"]
    assert [r["inum"] for r in b2b] == ["000123", "1234567890123456", '=HYPERLINK("x")']
    assert b2b[0] == {"stin": "27AAACR5055K1Z7", "inum": "000123", "idt": "05-10-2025", "inv_typ": "R",
                      "val": 11800.0, "pos": "29", "txval": 10000.0, "iamt": 1800.0, "camt": 0.0,
                      "samt": 0.0, "cess": 0.0, "srcform": "R1", "rtnprd": "102025", "action": "A",
                      "prev_status": "N"}
    assert '"val":11800.00,"pos":"29","txval":10000.00,"iamt":1800.00,"camt":0.00' in text
    assert b2b[1]["remarks"] == "wrong rate" and b2b[1]["srcform"] == "R1A"
    cn = up.payload["invdata"]["b2bcn"][0]
    assert cn["nt_num"] == "CN-9" and cn["nt_dt"] == "26-10-2025"
    assert cn["itcRedReq"] == "Y" and '"declIgst":45.00' in text


def test_snake_style_for_built_records():
    typed = load(FIXTURES / "canonical_inward.csv")
    up = build_upload(typed, ok_statuses(typed), RTIN, decl_style="snake")
    assert up.payload["invdata"]["b2bcn"][0]["itc_red_req"] == "Y"


def test_bad_rtin_is_refused():
    typed = load(DOWNLOAD)
    with pytest.raises(ValueError, match="not a valid GSTIN"):
        build_upload(typed, ok_statuses(typed), "29AAACS2222T1ZA")


def test_write_is_atomic(tmp_path, monkeypatch):
    typed = load(DOWNLOAD)
    typed.loc[0, "action"] = "Accept"
    out = tmp_path / "upload.json"
    up = write_upload(out, typed, ok_statuses(typed), RTIN)
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(up.to_json())
    assert os.listdir(tmp_path) == ["upload.json"]
    before = out.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", boom)
    typed.loc[1, "action"] = "Reject"
    with pytest.raises(OSError, match="disk full"):
        write_upload(out, typed, ok_statuses(typed), RTIN)
    assert out.read_bytes() == before
    assert os.listdir(tmp_path) == ["upload.json"]


def test_upload_of_an_upload_is_the_same_upload(tmp_path):
    typed = load(DOWNLOAD)
    for doc in TRICKY:
        typed.loc[_index(typed, doc), "action"] = "Pending"
    first = build_upload(typed, ok_statuses(typed), RTIN)
    path = tmp_path / "upload.json"
    first.write(path)
    again = load(path)
    assert again["document_number"].tolist() == [d for d in TRICKY if d != "INV/24-25/0891"]
    second = build_upload(again, ok_statuses(again), RTIN)
    assert second.to_json() == first.to_json()
