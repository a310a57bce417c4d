"""IMS upload JSON out: what goes in, byte-for-byte return of downloaded records, refusals."""

from __future__ import annotations

import datetime as dt
import json
import os

import pandas as pd
import pytest

from formats_helpers import FIXTURES, RTIN, TRICKY, ok_statuses, original_records
from ims_excel.formats import UploadRefused, build_upload, load, write_upload
from ims_excel.formats._jsonio import JsonNumber, dumps
from ims_excel.formats.upload_json import MAX_REMARKS, ROUTE_TABLE, ROUTES

DOWNLOAD = FIXTURES / "ims_offline_download.json"
DOWNLOAD_ONLY = {"tradenm", "hash", "srcfilstatus", "ispendactblocked", "isRemarksBlocked", "isItcRedReqBlocked",
                 "itcRedReqBlocked", "ItcAvailabilityCheck", "refdt"}
"""Keys of the IMS download that no SAVE record defines (formats-and-market.md 2.3: tradenm, hash 'download
only'; india-compliance reads srcfilstatus and the flags, never sends them)."""
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


def test_api_route_three_changes_upload_exactly_those_three_records_byte_for_byte():
    """API route: the downloaded record's values go back unchanged, its SAVE keys only (formats-and-market.md
    2.3 and 10; india-compliance utils/gstr_2/ims.py convert_data_to_gov_format)."""
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "000123"), "action"] = "Accept"           # N -> A
    typed.loc[_index(typed, '=HYPERLINK("x")'), "action"] = "Accept"  # R -> A, remarks blocked
    typed.loc[_index(typed, "INV/24-25/0891"), "action"] = "Reject"    # P -> R, keeps its remarks
    up = build_upload(typed, ok_statuses(typed), RTIN, route="api")
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
        want = {k: v for k, v in orig.items() if k not in CHANGED_KEYS and k in ROUTES["api"].record_keys}
        assert dumps(kept) == dumps(want)  # same keys, same order, same number spellings
        assert not set(rec) & DOWNLOAD_ONLY
    assert '"val":11800.00' in text and '"txval":10000.00' in text and '"val":1000.10' in text
    assert '"inum":"=HYPERLINK(\\"x\\")"' in text
    assert sent[1]["remarks"] == "awaiting goods"
    assert "remarks" not in sent[2]  # isRemarksBlocked = Y
    assert up.count == 3 and len(up.included) == 3


@pytest.mark.parametrize("route", ["offline", "api"])
def test_a_downloaded_record_goes_back_with_the_save_keys_only(route):
    """Every section of the download, every record changed: a SAVE/RESET record has the document keys the
    save defines (ROUTE_TABLE record_keys: itc-guard s.3 'Written on upload'; india-compliance
    convert_data_to_gov_format + get_category_details) and the decision keys; never the download-only
    tradenm, hash, srcfilstatus or the portal's flags (formats-and-market.md 2.3)."""
    typed = load(DOWNLOAD)
    typed["action"] = typed["previous_action"].astype(str).map(
        {"Accepted": "Reject", "Rejected": "Pending", "Pending": "Accept"}).fillna("Pending")
    typed[["itc_reduction", "remarks"]] = ""
    for h in ("igst", "cgst", "sgst", "cess"):
        typed[f"declared_{h}"] = 0.0
    typed["pending_blocked"] = -1
    up = build_upload(typed, ok_statuses(typed), RTIN, route=route, only_valid=True)
    recs = [r for sec in up.payload["invdata"].values() for r in sec]
    recs += [r for sec in (up.reset_payload or {"invdata": {}})["invdata"].values() for r in sec]
    assert len(recs) >= 8 and {"b2b", "b2bcn", "ecom"} <= set(up.payload["invdata"])
    if route == "api":
        assert {"impg", "impgsez"} <= set(up.payload["invdata"])
    allowed = ROUTES[route].record_keys | CHANGED_KEYS
    for rec in recs:
        assert set(rec) <= allowed, set(rec) - allowed
        assert not set(rec) & DOWNLOAD_ONLY


@pytest.mark.parametrize("route", ["offline", "api"])
def test_a_whitespace_only_remark_is_no_remark(route):
    """Blank after strip = no remark, as the refusals read it (REMARKS_ON_ACCEPT / REMARKS_TOO_LONG test the
    stripped text, and so does the engine's REMARK_NOT_UPLOADED): never sent, and no reason to upload an
    unchanged action (rulebook G10: remarks are optional; formats-and-market.md 10)."""
    from ims_excel.engine.validation import declaration_part

    typed = load(DOWNLOAD)
    pending = _index(typed, "INV/24-25/0891")  # Pending on the portal
    typed.loc[pending, "remarks"] = ""
    typed["portal_declaration"] = declaration_part(typed)  # the portal holds no remark on it
    typed.loc[pending, "remarks"] = " \t "
    typed.loc[_index(typed, "000123"), ["action", "remarks"]] = ["Reject", "   "]
    up = build_upload(typed, ok_statuses(typed), RTIN, route=route)
    assert [r["inum"] for r in up.payload["invdata"]["b2b"]] == ["000123"]
    assert "remarks" not in up.payload["invdata"]["b2b"][0]
    assert '"remarks"' not in up.to_json()


@pytest.mark.parametrize("route", ["offline", "api"])
def test_a_remark_is_sent_and_counted_without_the_whitespace_around_it(route):
    """One rule for the engine, the workbook and the upload (engine.validation.remark_text; rulebook G10,
    formats-and-market.md 10: at most 250 characters): surrounding whitespace, the non-breaking space and
    the Unicode spaces included, is neither sent nor counted; inner spaces are kept as typed."""
    typed = load(DOWNLOAD)
    i = _index(typed, "000123")
    typed.loc[i, ["action", "remarks"]] = ["Reject", "\u00a0" + "x" * MAX_REMARKS + " \n"]
    up = build_upload(typed, ok_statuses(typed), RTIN, route=route)
    assert up.payload["invdata"]["b2b"][0]["remarks"] == "x" * MAX_REMARKS
    typed.loc[i, "remarks"] = "\t wrong  rate\u3000"
    assert build_upload(typed, ok_statuses(typed), RTIN, route=route).payload["invdata"]["b2b"][0]["remarks"] \
        == "wrong  rate"
    typed.loc[i, "remarks"] = " " + "x" * 125 + "  " + "x" * 124 + "\u00a0"  # 251 as sent
    with pytest.raises(UploadRefused, match="remarks are 251 characters.*REMARKS_TOO_LONG"):
        build_upload(typed, ok_statuses(typed), RTIN, route=route)


def test_the_upload_reads_a_blank_remark_as_the_engine_does():
    """A non-breaking or Unicode space is whitespace for both (one helper, engine.validation.remark_text):
    the engine raises no REMARK_NOT_UPLOADED on an Accept with such a remark, and the offline upload neither
    refuses it (REMARKS_ON_ACCEPT) nor sends it (rulebook G10; formats-and-market.md 10)."""
    from ims_excel.engine import Context, evaluate

    typed = load(DOWNLOAD)
    i = _index(typed, "000123")
    for remark, is_remark in (("\u00a0\u2003", False), ("\u202f\u3000\x85", False), ("\u00a0ok\u00a0", True)):
        typed.loc[i, ["action", "remarks"]] = ["Accept", remark]
        one = typed.loc[[i]]
        result = evaluate(one, Context.make(RTIN, "2025-10", as_of=dt.date(2025, 11, 10)))
        warned = "REMARK_NOT_UPLOADED" in str(result.records["primary_code"].iloc[0])
        assert warned is is_remark, remark
        if is_remark:
            with pytest.raises(UploadRefused, match="REMARKS_ON_ACCEPT"):
                build_upload(one, ok_statuses(one), RTIN)
        else:
            assert "remarks" not in build_upload(one, ok_statuses(one), RTIN).payload["invdata"]["b2b"][0]


def test_srcform_is_the_code_offline_and_as_downloaded_on_the_api_route():
    """ROUTE_TABLE srcform: the offline file carries the code (R1A for GSTR-1A, formats-and-market.md 2.3;
    itc-guard s.3); the API route sends a downloaded record's srcform back as the portal gave it ("GSTR1A",
    the GSTN sheet sample's spelling), as india-compliance does (utils/gstr_2/ims.py: a plain copy in,
    convert_data_to_gov_format sends it back)."""
    assert ROUTE_TABLE["srcform"][:2] == ("code", "as_downloaded")
    typed = load(DOWNLOAD)
    assert original_records(DOWNLOAD)["imsDetails.b2b[3]"]["srcform"] == "GSTR1A"
    typed.loc[_index(typed, '=HYPERLINK("x")'), "action"] = "Accept"  # downloaded with srcform GSTR1A
    offline = build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"]["b2b"][0]
    api = build_upload(typed, ok_statuses(typed), RTIN, route="api").payload["invdata"]["b2b"][0]
    assert (offline["srcform"], api["srcform"]) == ("R1A", "GSTR1A")
    csv = load(FIXTURES / "canonical_inward.csv")  # no download: the api record gets the code too
    csv.loc[csv["document_number"] == "CN-9", "remarks"] = ""
    built = build_upload(csv, ok_statuses(csv), RTIN, route="api").payload["invdata"]["b2b"]
    assert [r["srcform"] for r in built][:2] == ["R1", "R1A"]


def test_api_route_reset_to_no_action_is_its_own_reset_payload():
    """API route: RESETIMS, reqtyp RESET, no action key (india-compliance taxpayer_returns.py)."""
    typed = load(DOWNLOAD)
    i = _index(typed, "1234567890123456")  # saved as A
    typed.loc[i, "action"] = "No Action"
    up = build_upload(typed, ok_statuses(typed), RTIN, route="api")
    assert up.payload["invdata"] == {}
    assert [r.document_number for r in up.resets] == ["1234567890123456"]
    rec = up.reset_payload["invdata"]["b2b"][0]
    assert up.reset_payload["reqtyp"] == "RESET"
    assert "action" not in rec and rec["prev_status"] == "A" and rec["inum"] == "1234567890123456"


def test_itc_reduction_block_only_for_specified_accepts():
    """G9 / D30: the declaration goes only with Accept on a specified record; elsewhere it is refused."""
    typed = load(DOWNLOAD)
    cn0042, cn9, cn5a = (_index(typed, d) for d in ("CN/0042", "CN-9", "CN-5A"))
    dn77 = _index(typed, "DN-77")
    typed.loc[cn0042, ["action", "itc_reduction"]] = ["Accept", "Partial"]
    typed.loc[cn0042, ["declared_igst", "declared_cgst"]] = [90.0, 0.0]
    typed.loc[cn9, ["action", "remarks"]] = ["Reject", "half reversed earlier"]  # keeps its declaration
    typed.loc[cn5a, "action"] = "Reject"
    typed.loc[dn77, ["action", "itc_reduction"]] = ["Accept", "Full"]  # not specified
    specified = typed["section"].isin(["B2B-CN", "B2B-CNA"])
    with pytest.raises(UploadRefused) as err:
        build_upload(typed, ok_statuses(typed), RTIN, specified=specified)
    assert [(r.document_number, r.code) for r in err.value.rows] == [
        ("DN-77", "DECL_NOT_APPLICABLE"), ("CN-9", "DECL_NOT_APPLICABLE"), ("CN-5A", "DECL_NOT_APPLICABLE")]
    for i in (cn9, cn5a, dn77):
        typed.loc[i, ["itc_reduction", "declared_igst"]] = ["", 0.0]
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=specified)
    recs = {r["nt_num"]: r for sec in up.payload["invdata"].values() for r in sec}
    assert recs["CN/0042"]["itc_red_req"] == "Y"
    assert [recs["CN/0042"][k] for k in ("decl_igst", "decl_cgst", "decl_sgst", "decl_cess")] == [90, 0, 0, 0]
    assert '"decl_igst":90.00,"decl_cgst":0.00' in up.to_json()
    assert not set(recs["CN-9"]) & (CHANGED_KEYS - {"action", "remarks"})
    assert recs["CN-9"]["remarks"] == "half reversed earlier"
    assert "itc_red_req" not in recs["CN-5A"] and "itc_red_req" not in recs["DN-77"]


@pytest.mark.parametrize("route, reduction, expected", [
    ("offline", "Full", {"itc_red_req": "Y"}),
    ("offline", "Partial", {"itc_red_req": "Y", "decl_igst": 40.0, "decl_cgst": 0.0, "decl_sgst": 0.0,
                            "decl_cess": 0.0}),
    ("offline", "No", {"itc_red_req": "N"}),
    ("api", "Full", {"itcRedReq": "Y"}),
    ("api", "Partial", {"itcRedReq": "Y", "declIgst": 40.0, "declCgst": 0.0, "declSgst": 0.0, "declCess": 0.0}),
    ("api", "No", {"itcRedReq": "N"}),
])
def test_itc_reduction_spelling_is_the_routes(route, reduction, expected):
    """Offline: itc_red_req/decl_* (itc-guard docs/ims-json-schema.md s.3, the utility's VBA); API:
    itcRedReq/declIgst.. (india-compliance); full = Y with values omitted (india-compliance ims.py)."""
    typed = load(DOWNLOAD)
    i = _index(typed, "CN-9")  # downloaded with itc_red_req / decl_igst (snake_case), action A
    typed.loc[i, "previous_action"] = "Pending"  # force a change
    typed.loc[i, ["itc_reduction", "declared_igst", "remarks"]] = [reduction, 40.0 * (reduction == "Partial"), ""]
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=typed["section"] == "B2B-CN", route=route)
    rec = up.payload["invdata"]["b2bcn"][0]
    got = {k: v for k, v in rec.items() if k.startswith(("itc", "decl"))}
    assert "itcRedReqBlocked" not in rec and "isItcRedReqBlocked" not in rec  # download-only flags
    assert got == expected


@pytest.mark.parametrize("route", ["offline", "api"])
@pytest.mark.parametrize("reduction", ["Full", "No"])
def test_declared_amounts_with_full_or_no_are_refused_not_dropped(route, reduction):
    """Full is sent as Y with no values (the portal reads absence as full), No as N (rulebook G9, 4.3;
    india-compliance set_itc_reduction): amounts typed with either would be dropped, so they are refused
    (DECL_AMOUNTS_NOT_PARTIAL, as the engine), even when the caller's statuses are all ok."""
    typed = load(DOWNLOAD)
    i = _index(typed, "CN-9")
    typed.loc[i, ["previous_action", "itc_reduction", "declared_igst", "remarks"]] = [
        "Pending", reduction, 40.0, ""]
    spec = typed["section"] == "B2B-CN"
    with pytest.raises(UploadRefused) as err:
        build_upload(typed, ok_statuses(typed), RTIN, specified=spec, route=route)
    assert [(r.document_number, r.code) for r in err.value.rows] == [("CN-9", "DECL_AMOUNTS_NOT_PARTIAL")]
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=spec, route=route, only_valid=True)
    assert up.count == 0 and [r.code for r in up.left_out] == ["DECL_AMOUNTS_NOT_PARTIAL"]


def test_declaration_blocked_is_refused_and_a_blank_one_sends_no_block():
    typed = load(DOWNLOAD)
    i = _index(typed, "CN/0042")
    typed.loc[i, ["action", "itc_reduction", "declaration_blocked"]] = ["Accept", "Full", 1]
    spec = pd.Series(True, index=typed.index)
    with pytest.raises(UploadRefused, match="DECL_BLOCKED"):
        build_upload(typed, ok_statuses(typed), RTIN, specified=spec)
    typed.loc[i, "itc_reduction"] = ""
    up = build_upload(typed, ok_statuses(typed), RTIN, specified=spec)
    assert "itc_red_req" not in up.payload["invdata"]["b2bcn"][0]


def test_specified_accept_without_answer_is_a_warning():
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "CN/0042"), "action"] = "Accept"
    up = build_upload(typed, ok_statuses(typed), RTIN)  # default: B2B-CN is specified
    assert "itc_red_req" not in up.payload["invdata"]["b2bcn"][0]
    assert [w.document_number for w in up.warnings] == ["CN/0042"]


def test_error_status_refuses_and_only_valid_leaves_out():
    typed = load(DOWNLOAD)
    for doc in ("000123", "DN-77", "ECO-2025-0001"):
        typed.loc[_index(typed, doc), "action"] = "Accept"
    typed.loc[_index(typed, "AMD/001-R"), "action"] = "Reject"
    statuses = ok_statuses(typed)
    statuses.loc[_index(typed, "DN-77"), ["status", "primary_code"]] = ["error", "PENDING_BLOCKED"]
    statuses.loc[_index(typed, "AMD/001-R"), ["status", "primary_code"]] = ["error", "GSTIN_CHECK"]
    statuses.loc[_index(typed, "000123"), "status"] = "warning"
    statuses.loc[_index(typed, "INV/24-25/0891"), "status"] = "error"  # unchanged: not uploaded, not refused
    with pytest.raises(UploadRefused) as err:
        build_upload(typed, statuses, RTIN)
    assert [r.document_number for r in err.value.rows] == ["AMD/001-R", "DN-77"]
    assert "row 6 (B2B-DN 29AAACM7777M1ZN 'DN-77'): validation error [PENDING_BLOCKED]" in str(err.value)
    up = build_upload(typed, statuses, RTIN, only_valid=True)
    sent = [r.get("inum") or r.get("nt_num") for sec in up.payload["invdata"].values() for r in sec]
    assert sent == ["000123", "ECO-2025-0001"]
    assert [(r.document_number, r.code) for r in up.left_out] == [("AMD/001-R", "GSTIN_CHECK"),
                                                                   ("DN-77", "PENDING_BLOCKED")]


def test_missing_status_counts_as_error():
    typed = load(DOWNLOAD)
    typed.loc[0, "action"] = "Accept"
    with pytest.raises(UploadRefused, match="NOT_VALIDATED"):
        build_upload(typed, ok_statuses(typed).iloc[1:], RTIN)


@pytest.mark.parametrize("route", ["offline", "api"])
def test_long_and_blocked_remarks_are_refused(route):
    """Remarks: at most 250 characters, never where isRemarksBlocked = Y (itc-guard s.3-4; india-compliance)."""
    typed = load(DOWNLOAD)
    i = _index(typed, "000123")
    typed.loc[i, ["action", "remarks"]] = ["Reject", "x" * (MAX_REMARKS + 1)]
    with pytest.raises(UploadRefused, match="251 characters.*REMARKS_TOO_LONG"):
        build_upload(typed, ok_statuses(typed), RTIN, route=route)
    typed.loc[i, "remarks"] = "x" * MAX_REMARKS
    up = build_upload(typed, ok_statuses(typed), RTIN, route=route)
    assert up.payload["invdata"]["b2b"][0]["remarks"] == "x" * MAX_REMARKS
    typed.loc[i, "remarks_blocked"] = 1
    with pytest.raises(UploadRefused, match="REMARKS_BLOCKED"):
        build_upload(typed, ok_statuses(typed), RTIN, route=route)
    up = build_upload(typed, ok_statuses(typed), RTIN, route=route, only_valid=True)
    assert up.payload["invdata"] == {} and [r.code for r in up.left_out] == ["REMARKS_BLOCKED"]


def test_remarks_on_accept_refused_offline_sent_by_api():
    """Offline: remarks only with R or P (itc-guard s.4 rule 1); API: any action (india-compliance)."""
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "000123"), ["action", "remarks"]] = ["Accept", "ok"]
    with pytest.raises(UploadRefused, match="REMARKS_ON_ACCEPT"):
        build_upload(typed, ok_statuses(typed), RTIN)
    assert build_upload(typed, ok_statuses(typed), RTIN, route="api").payload["invdata"]["b2b"][0]["remarks"] == "ok"


def test_remarks_rule_is_one_place_in_the_rule_data_and_the_engine_asks_for_none_on_accept():
    """The actions remarks go with live in parameters.yaml ``remarks_with_action`` (offline: R, P, the utility
    v1.1's VBA via itc-guard s.3/s.4 rule 1; api: A, R, P, india-compliance; formats-and-market.md 10), and
    the route table reads them. The engine no longer warns DECL_NO_REMARK on a partial/nil reduction
    (rulebook Q9, a blog claim, G10): that answer goes only with Accept (G9), where the offline upload
    refuses a remark, so following the warning would get the record refused (the engine side: worked example
    E09b, tests/cases/worked_examples.yaml)."""
    from ims_excel.rules import rulebook

    book = rulebook()
    words = {"offline": {"Reject", "Pending"}, "api": {"Accept", "Reject", "Pending"}}
    for route, expected in words.items():
        assert set(book.param("remarks_with_action", route)) == expected
        assert ROUTES[route].remarks_with == frozenset(w[0] for w in expected)
    assert "DECL_NO_REMARK" not in set(book.codes_table()["code"])
    typed = load(DOWNLOAD)
    typed = typed[typed["section"] == "B2B-CN"].head(1).copy()
    typed[["action", "itc_reduction", "remarks"]] = ["Accept", "No", "ITC never availed"]
    with pytest.raises(UploadRefused, match="REMARKS_ON_ACCEPT"):
        build_upload(typed, ok_statuses(typed), RTIN)


def test_pending_where_blocked_is_refused():
    """ispendactblocked = Y: uploading P fails (formats-and-market.md 1; rulebook G11)."""
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, '=HYPERLINK("x")'), "action"] = "Pending"  # downloaded with ispendactblocked Y
    with pytest.raises(UploadRefused, match="PEND_BLOCKED_PORTAL"):
        build_upload(typed, ok_statuses(typed), RTIN)


def test_offline_no_action_is_n_in_the_same_save_file():
    """Offline: N is an action code of the SAVE file (itc-guard s.3), no separate RESET file."""
    typed = load(DOWNLOAD)
    typed.loc[_index(typed, "1234567890123456"), "action"] = "No Action"  # saved as A
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.reset_payload is None and up.resets == []
    rec = up.payload["invdata"]["b2b"][0]
    assert rec["action"] == "N" and "prev_status" not in rec


def test_offline_record_has_the_upload_keys_only():
    """Offline: the keys the utility writes (itc-guard s.3 'Written on upload'), never tradenm/hash/flags;
    document numbers strings, dates dd-mm-yyyy, amounts numbers."""
    typed = load(DOWNLOAD)
    for doc in TRICKY:
        typed.loc[_index(typed, doc), "action"] = "Reject" if doc != '=HYPERLINK("x")' else "Accept"
    typed.loc[_index(typed, "INV/24-25/0891"), "remarks"] = "awaiting goods"
    typed.loc[_index(typed, "AMD/001-R"), "action"] = "Pending"
    up = build_upload(typed, ok_statuses(typed), RTIN)
    text = up.to_json()
    b2b = up.payload["invdata"]["b2b"]
    assert [r["inum"] for r in b2b] == ["000123", "1234567890123456", "INV/24-25/0891", '=HYPERLINK("x")']
    assert b2b[1] == {"stin": "27AAACS1111S1Z9", "inum": "1234567890123456", "idt": "07-10-2025",
                      "inv_typ": "R", "val": 5900.5, "pos": "29", "txval": 5000.5, "iamt": 900.0, "camt": 0.0,
                      "samt": 0.0, "cess": 0.0, "srcform": "R1A", "rtnprd": "102025", "action": "R"}
    assert b2b[2]["remarks"] == "awaiting goods" and b2b[2]["inv_typ"] == "SEWP"
    assert '"inum":"1234567890123456"' in text and '"val":5900.50' in text
    assert b2b[3]["srcform"] == "R1A"  # downloaded as "GSTR1A": sent as the code
    amd = up.payload["invdata"]["b2ba"][0]
    assert (amd["oinum"], amd["oidt"], amd["inum"], amd["action"]) == ("AMD/001", "15-09-2025", "AMD/001-R", "P")
    for rec in (*b2b, amd):
        assert not {"tradenm", "hash", "srcfilstatus", "ispendactblocked", "isRemarksBlocked",
                    "prev_status"} & set(rec)


def test_bills_of_entry_are_left_out_offline_and_listed_act_online():
    """Utility v1.1 has no Import of Goods sheets: BoEs are acted on online (itc-guard s.6; §10)."""
    recs = pd.DataFrame({"row": [5, 6], "section": ["IMPG", "B2B"], "supplier_gstin": ["", "27AAACR5055K1Z7"],
                         "document_number": ["1234567", "X-1"], "document_date": pd.to_datetime(["2025-10-02"] * 2),
                         "action": ["Accept", "Accept"], "previous_action": ["No Action", "No Action"]})
    ok = pd.DataFrame({"status": ["ok", "ok"]})
    up = build_upload(recs, ok, RTIN)
    assert list(up.payload["invdata"]) == ["b2b"]
    assert [(r.row, r.document_number, r.code) for r in up.act_online] == [(5, "1234567", "ACT_ONLINE")]
    assert "act on these online" in str(up.act_online[0])
    assert list(build_upload(recs, ok, RTIN, route="api").payload["invdata"]) == ["b2b", "impg"]


def test_route_table_is_the_one_place():
    assert set(ROUTES) == {"offline", "api"}
    for item, (off, api, source) in ROUTE_TABLE.items():
        assert getattr(ROUTES["offline"], item) == off and getattr(ROUTES["api"], item) == api
        assert source and ("itc-guard" in source or "india-compliance" in source)
    with pytest.raises(ValueError, match="route 'gsp'"):
        build_upload(load(DOWNLOAD), ok_statuses(load(DOWNLOAD)), RTIN, route="gsp")


def test_records_not_in_ims_are_never_uploaded():
    typed = load(FIXTURES / "gstr2b.json")
    typed.loc[typed["not_in_ims"] != "", "action"] = "Accept"
    up = build_upload(typed, ok_statuses(typed), RTIN)
    assert up.payload["invdata"] == {}
    assert {r.document_number for r in up.left_out} == set(typed.loc[typed["not_in_ims"] != "", "document_number"])


def test_records_from_a_csv_are_built_from_the_columns():
    typed = load(FIXTURES / "canonical_inward.csv")
    typed.loc[typed["document_number"] == "CN-9", "remarks"] = ""  # offline: no remarks with Accept
    up = build_upload(typed, ok_statuses(typed), RTIN)
    text = up.to_json()
    b2b = up.payload["invdata"]["b2b"]
    assert [r["inum"] for r in b2b] == ["000123", "1234567890123456", '=HYPERLINK("x")']
    assert b2b[0] == {"stin": "27AAACR5055K1Z7", "inum": "000123", "idt": "05-10-2025", "inv_typ": "R",
                      "val": 11800.0, "pos": "29", "txval": 10000.0, "iamt": 1800.0, "camt": 0.0,
                      "samt": 0.0, "cess": 0.0, "srcform": "R1", "rtnprd": "102025", "action": "A"}
    assert '"val":11800.00,"pos":"29","txval":10000.00,"iamt":1800.00,"camt":0.00' in text
    assert b2b[1]["remarks"] == "wrong rate" and b2b[1]["srcform"] == "R1A"
    cn = up.payload["invdata"]["b2bcn"][0]
    assert cn["nt_num"] == "CN-9" and cn["nt_dt"] == "26-10-2025"
    assert cn["itc_red_req"] == "Y" and '"decl_igst":45.00' in text
    api = build_upload(typed, ok_statuses(typed), RTIN, route="api")
    assert api.payload["invdata"]["b2b"][0]["prev_status"] == "N"
    assert api.payload["invdata"]["b2bcn"][0]["itcRedReq"] == "Y"


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


def test_api_upload_of_an_upload_is_the_same_upload(tmp_path):
    """API route: the file carries prev_status, so reading it back rebuilds the same request."""
    typed = load(DOWNLOAD)
    for doc in TRICKY:
        typed.loc[_index(typed, doc), "action"] = "Pending" if doc != '=HYPERLINK("x")' else "Accept"
    first = build_upload(typed, ok_statuses(typed), RTIN, route="api")
    path = tmp_path / "upload.json"
    first.write(path)
    again = load(path)
    assert again["document_number"].tolist() == [d for d in TRICKY if d != "INV/24-25/0891"]
    second = build_upload(again, ok_statuses(again), RTIN, route="api")
    assert second.to_json() == first.to_json()


def test_offline_upload_read_back_is_the_portal_state(tmp_path):
    """Offline route: the file read back is the records as the portal now holds them (action = saved
    status), so exporting again uploads nothing: the round trip is stable."""
    typed = load(DOWNLOAD)
    for doc in TRICKY:
        typed.loc[_index(typed, doc), "action"] = "Pending" if doc != '=HYPERLINK("x")' else "Accept"
    first = build_upload(typed, ok_statuses(typed), RTIN)
    path = tmp_path / "upload.json"
    first.write(path)
    again = load(path)
    assert again["document_number"].tolist() == [d for d in TRICKY if d != "INV/24-25/0891"]
    assert again["action"].astype(str).tolist() == ["Pending", "Pending", "Accept"]
    assert (again["action"].astype(str).map({"Pending": "Pending", "Accept": "Accepted"})
            == again["previous_action"].astype(str)).all()
    assert build_upload(again, ok_statuses(again), RTIN).payload["invdata"] == {}


def test_an_unchanged_action_is_uploaded_when_what_the_route_sends_differs_from_the_portal_declaration():
    """Portal Declaration (what the download held): a changed answer, Partial amounts or remark goes up with
    the unchanged action; Full's amounts and a remark the route does not carry do not count; blank = unknown."""
    from ims_excel.engine.validation import declaration_part

    typed = load(DOWNLOAD)
    typed["portal_declaration"] = declaration_part(typed)
    assert build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"] == {}
    cn = _index(typed, "CN-9")  # Accepted, Partial 45, remarks on the portal
    typed.loc[cn, "remarks"] = ""
    for route in ("offline", "api"):  # offline carries no remark with Accept; api does (cleared: sent)
        assert build_upload(typed, ok_statuses(typed), RTIN, route=route).count == (route == "api")
    typed.loc[cn, "declared_igst"] = 30.0
    rec = build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"]["b2bcn"][0]
    assert (rec["action"], rec["itc_red_req"], float(rec["decl_igst"])) == ("A", "Y", 30.0)
    typed.loc[cn, "portal_declaration"] = ""  # not known: as before, only a changed action is uploaded
    assert build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"] == {}
    cna = _index(typed, "CN-5A")  # Accepted, Full on the portal: amounts typed with Full are not sent
    typed.loc[cna, "declared_igst"] = 10.0
    assert build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"] == {}


def test_an_unknown_portal_declaration_sends_a_declaration_or_remark_that_is_not_blank():
    """*Portal Declaration* ``unknown`` (the offline tool's Excel, whose Status/ITC/Remarks columns may be the
    user's edits: formats-and-market.md 1 row 8, 2.1) is compared with no declaration: a remark with an
    unchanged Pending, or a declaration with an unchanged Accept, is sent (G4, G9, G10); nothing typed, or a
    remark the route does not carry, is not."""
    from ims_excel.engine.validation import DECLARATION_UNKNOWN

    typed = load(DOWNLOAD)
    typed["portal_declaration"] = DECLARATION_UNKNOWN
    cn = _index(typed, "CN-9")  # Accepted, Partial 45 and a remark: a declaration on an Accept is sent
    typed.loc[cn, "remarks"] = ""  # the offline route carries no remark with Accept (refused: REMARKS_ON_ACCEPT)
    pend = _index(typed, "INV/24-25/0891")  # Pending, remark "awaiting goods": sent with P
    sent = build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"]
    assert [(r["inum"], r["action"], r["remarks"]) for r in sent["b2b"]] == [("INV/24-25/0891", "P",
                                                                               "awaiting goods")]
    assert [(r["nt_num"], r["itc_red_req"], float(r["decl_igst"])) for r in sent["b2bcn"]] == [("CN-9", "Y", 45.0)]
    assert [(r["nt_num"], r["itc_red_req"], "decl_igst" in r) for r in sent["b2bcna"]] == [("CN-5A", "Y", False)]
    assert [(r["nt_num"], r["itc_red_req"]) for r in sent["b2bdna"]] == [("DN-70A", "N")]  # "No" is an answer
    assert sorted(sent) == ["b2b", "b2bcn", "b2bcna", "b2bdna"]
    typed[["itc_reduction", "remarks"]] = ""
    typed[["declared_igst", "declared_cgst", "declared_sgst", "declared_cess"]] = 0.0
    assert build_upload(typed, ok_statuses(typed), RTIN).payload["invdata"] == {}
