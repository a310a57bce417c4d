"""Reconciliation with the purchase register (issue 11): matching, suggestions, the report door.

Rule references: shared/domain/ims-rules.md section 3 (D1 invoices, D7 credit notes with the G8 window
and G9 declaration, D15 Bills of Entry: no Reject, D19 RCM outside IMS, D25 frozen).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ims_excel.cli.app import main
from ims_excel.engine import Context, evaluate
from ims_excel.engine.reconcile import Match, Settings, match
from ims_excel.engine.sample import frame
from ims_excel.engine.suggest import suggest
from ims_excel.recon import reconcile

K, S, S_OTHER = "29AAACS2222T1ZX", "27AAACS1111S1Z9", "29AAACS1111S1Z5"  # S_OTHER: same PAN as S
CTX = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))


def rec(num, **kw):
    row = {"Section": "B2B", "Supplier GSTIN": K, "Document Number": num, "Document Date": "2025-11-05",
           "Taxable Value": 10000, "IGST": 1800, "2B Period": "2025-11"}
    row.update(kw)
    return row


def statuses(ims_rows, book_rows, **kw):
    m = match(frame(ims_rows), frame(book_rows), Settings.make(**kw))
    return m.ims["status"].astype(str).tolist(), m.books["status"].astype(str).tolist(), m


def test_number_normalisation_separators_zeros_fy():
    i, b, _ = statuses([rec("GST/0007"), rec("INV 12/25-26"), rec("2025-26/A.9")],
                       [rec("gst-7"), rec("INV-12"), rec("A9")])
    assert i == ["matched"] * 3 and b == ["matched"] * 3


def test_tolerance_per_field_and_date():
    i, _, m = statuses([rec("A1"), rec("A2"), rec("A3", **{"Document Date": "2025-11-06"})],
                       [rec("A1", IGST=1800.6), rec("A2", IGST=1850), rec("A3")])
    assert i == ["matched_within_tolerance", "mismatch", "mismatch"]
    assert m.ims["differs"].tolist()[:2] == ["IGST -0.60", "IGST -50.00"]
    assert m.ims["diff_igst"].tolist()[1] == -50.0
    i, _, _ = statuses([rec("A3", **{"Document Date": "2025-11-06"})], [rec("A3")], days=1)
    assert i == ["matched_within_tolerance"]
    i, _, _ = statuses([rec("A2")], [rec("A2", IGST=1850)], amount=100)
    assert i == ["matched_within_tolerance"]


def test_family_and_financial_year_are_part_of_the_key():
    i, b, _ = statuses([rec("X1", Section="B2B-CN"), rec("X2", **{"Document Date": "2025-03-31"})],
                       [rec("X1"), rec("X2", **{"Document Date": "2025-04-01"})])
    # another family never pairs; the same number in another financial year is only probable (date differs)
    assert i == ["missing_in_books", "probable"]
    assert b == ["missing_in_ims", "probable"]


def test_one_to_one_and_duplicates_in_books():
    i, b, m = statuses([rec("D1"), rec("D2")], [rec("D1"), rec("D-1"), rec("D01"), rec("Z9", IGST=5)])
    assert i == ["matched", "missing_in_books"]
    assert b == ["matched", "duplicate_in_books", "duplicate_in_books", "missing_in_ims"]
    assert m.ims["books_pos"].tolist() == [0, -1]


def test_probable_by_close_number_and_by_pan():
    i, b, m = statuses([rec("INV-2005"), rec("000123", **{"Supplier GSTIN": S}), rec("Q1", IGST=999)],
                       [rec("INV-205"), rec("123", **{"Supplier GSTIN": S_OTHER}), rec("ZZZ", IGST=999)])
    assert i == ["probable", "probable", "missing_in_books"]  # "Q1" vs "ZZZ": not close
    assert b == ["probable", "probable", "missing_in_ims"]
    assert m.ims["score"].iloc[0] >= 80


def test_probable_needs_amounts_within_tolerance_and_is_one_to_one():
    i, b, m = statuses([rec("INV-2005"), rec("INV-2006")], [rec("INV-205"), rec("INV-20006", IGST=1700)])
    assert i == ["probable", "missing_in_books"]
    assert m.ims["books_pos"].tolist() == [0, -1]


def test_deterministic_whatever_the_order():
    ims = [rec(f"N{k}") for k in range(8)] + [rec("INV-77")]
    books = [rec(f"N{k}") for k in range(0, 8, 2)] + [rec("N1"), rec("N1"), rec("INV-777")]
    _, _, m1 = statuses(ims, books)
    shuffled = books[:]
    random.Random(4).shuffle(shuffled)
    _, _, m2 = statuses(ims, shuffled)
    assert m1.ims["status"].tolist() == m2.ims["status"].tolist()


def sug(ims_rows, book_rows, ctx=CTX):
    ims = frame(ims_rows)
    books = frame(book_rows)
    m = match(ims, books)
    return suggest(ims, ctx, m, books)


def test_matched_invoice_accept_credit_note_accept_with_full_reduction():
    s = sug([rec("I1"), rec("C1", Section="B2B-CN")], [rec("I1"), rec("C1", Section="B2B-CN")])
    assert s["suggested_action"].tolist() == ["Accept", "Accept"]
    assert s["suggested_itc_reduction"].tolist() == ["", "Full"]  # G9: CN of the Oct-2025 era
    assert "rule D1 allows Accept" in s["suggestion_reason"].iloc[0]
    assert "rule D7" in s["suggestion_reason"].iloc[1]


def test_mismatch_pending_else_reject_with_remark():
    # invoice: Pending allowed until the 16(4) cut-off (D1); CN: window over -> Reject (D7, G8)
    late = Context.make("27AAACR5055K1Z7", "2026-01", as_of=dt.date(2026, 2, 25))
    s = sug([rec("I1", **{"2B Period": "2026-01"}),
             rec("C1", Section="B2B-CN", **{"2B Period": "2025-11", "Previous Action": "Pending"})],
            [rec("I1", IGST=1000), rec("C1", Section="B2B-CN", IGST=1000)], late)
    assert s["suggested_action"].tolist() == ["Pending", "Reject"]
    assert s["suggested_remarks"].iloc[1] == "Differs from our books: IGST +800.00"
    assert "Pending refused (PEND_WINDOW_OVER)" in s["suggestion_reason"].iloc[1]


def test_missing_in_books_and_bill_of_entry_never_rejected():
    # BoE (D15): Reject is refused, so a mismatch whose Pending is blocked by the portal gets none
    s = sug([rec("I9"), rec("7001", Section="IMPG", **{"Supplier GSTIN": "", "Pending Blocked": "Y"})],
            [rec("7001", Section="IMPG", **{"Supplier GSTIN": ""}, IGST=1)])
    assert s["suggested_action"].tolist() == ["Pending", ""]
    assert s["suggestion_reason"].iloc[1].startswith("review:")


def test_no_suggestion_when_actioned_frozen_outside_or_probable():
    filed = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16), gstr3b_filed=True)
    s = sug([rec("A1", Action="Reject"), rec("R1", **{"Reverse Charge": "Y"}), rec("INV-2005")],
            [rec("A1"), rec("R1"), rec("INV-205")])
    assert s["suggested_action"].tolist() == ["", "", ""]
    assert s["suggestion_reason"].tolist()[0] == "no suggestion: already actioned (Reject)"
    assert "not an IMS record (rule D19)" in s["suggestion_reason"].iloc[1]
    assert s["suggestion_reason"].iloc[2].startswith("review: probable match with books row 3")
    s = sug([rec("F1")], [rec("F1")], filed)
    assert s["suggested_action"].tolist() == [""] and "frozen (rule D25)" in s["suggestion_reason"].iloc[0]


def test_typed_remark_is_not_overwritten():
    s = sug([rec("I1", Remarks="asked supplier")], [rec("I1", IGST=1)])
    assert s["suggested_action"].iloc[0] == "Pending" and s["suggested_remarks"].iloc[0] == ""


# --- property: a suggestion is never an action the engine refuses
SUPPLIERS = ["27AAACS1111S1Z9", "29AAACS2222T1ZX", "07AAACE4444E1Z0"]
SECTIONS = ["B2B", "B2BA", "B2B-DN", "B2B-DNA", "B2B-CN", "B2B-CNA", "ECO", "ECOA", "IMPG", "IMPGA",
            "IMPGSEZ", "IMPGSEZA", "ISD"]
money = st.integers(min_value=0, max_value=2_000_000).map(lambda p: p / 100)


@st.composite
def record(draw, i):
    section = draw(st.sampled_from(SECTIONS))
    row = {"Section": section, "Supplier GSTIN": "" if section in ("IMPG", "IMPGA") else draw(st.sampled_from(SUPPLIERS)),
           "Document Number": f"D-{i}",
           "Document Date": draw(st.dates(dt.date(2024, 4, 1), dt.date(2025, 12, 31))).isoformat(),
           "IGST": draw(money), "CGST": draw(money), "SGST": draw(money),
           "2B Period": draw(st.sampled_from(["2024-08", "2025-06", "2025-09", "2025-10", "2025-11", "2025-12"])),
           "Action": draw(st.sampled_from(["", "", "", "Accept"])),
           "Previous Action": draw(st.sampled_from(["", "Accepted", "Rejected", "Pending", "No Action"])),
           "Reverse Charge": draw(st.sampled_from(["", "N", "Y"])),
           "Pending Blocked": draw(st.sampled_from(["", "", "N", "Y"])),
           "Declaration Blocked": draw(st.sampled_from(["", "", "Y"])),
           "Remarks Blocked": draw(st.sampled_from(["", "Y"])),
           "Supplier Filing Status": draw(st.sampled_from(["Filed", "Filed", "Not Filed"]))}
    if section.endswith("A"):
        row.update({"Original IGST": draw(money),
                    "Original Action": draw(st.sampled_from(["", "Accepted", "Rejected", "Pending", "Pre-IMS"])),
                    "Original 3B Filed": draw(st.sampled_from(["Y", "N"]))})
    return row


records = st.integers(min_value=1, max_value=20).flatmap(lambda n: st.tuples(*[record(i) for i in range(n)]))
contexts = st.builds(
    lambda period, freq, as_of, filed: Context.make("27AAACR5055K1Z7", period, frequency=freq, as_of=as_of,
                                                    gstr3b_filed=filed),
    st.sampled_from(["2025-12", "2026-01", "2026-04"]), st.sampled_from(["monthly", "quarterly"]),
    st.dates(dt.date(2025, 12, 1), dt.date(2026, 12, 31)), st.booleans())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, contexts, st.lists(st.sampled_from(["matched", "matched_within_tolerance", "mismatch",
                                                    "missing_in_books", "probable"]), min_size=20, max_size=20))
def test_suggestions_are_actions_the_engine_takes(rows, ctx, st_list):
    ims = frame(list(rows))
    n = len(ims)
    m = match(ims, frame([rec("ZZZ-1")]))
    m.ims["status"] = st_list[:n]
    m.ims["differs"] = np.where(np.array(st_list[:n]) == "mismatch", "IGST +5.00", "")
    s = suggest(ims, ctx, m)
    chosen = s["suggested_action"].to_numpy(dtype=object) != ""
    if not chosen.any():
        return
    sa, sr, sk = (s[c].tolist() for c in ("suggested_action", "suggested_itc_reduction", "suggested_remarks"))
    applied = frame([{**r, "Action": sa[k], "ITC Reduction": sr[k], **({"Remarks": sk[k]} if sk[k] else {})}
                     if sa[k] else r for k, r in enumerate(rows)])
    res = evaluate(applied, ctx, check=False)
    idx = np.flatnonzero(chosen)
    assert (res.records["status"].astype(str).to_numpy()[idx] != "error").all()
    eff = res.records["effective_action"].astype(str).to_numpy()[idx]
    want = {"Accept": "Accepted", "Reject": "Rejected", "Pending": "Pending"}
    assert [want[a] for a in s["suggested_action"].to_numpy()[idx]] == list(eff)
    # nothing typed or outside IMS got a suggestion
    assert not (chosen & (ims["action"].astype(str).to_numpy() != "")).any()


def test_report_json_with_purchases(tmp_path, capsys):
    from ims_excel.cli.demo import sample_path

    code = main(["report", str(sample_path("sample_inward.csv")), "--gstin", "27AAACR5055K1Z7", "--period",
                 "2026-10", "--as-of", "2026-11-26", "--purchases", str(sample_path("sample_purchases.csv")),
                 "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    by_doc = {r["document_number"]: r for r in out["records"]}
    assert by_doc["INV-2004"]["match"] == {"status": "mismatch", "purchase_rows": [5],
                                           "purchase_file": "sample_purchases.csv",
                                           "differences": {"igst": [1800.0, 1600.0]}}
    assert by_doc["DN-301"]["suggested_action"] == "Accept"
    assert by_doc["7001101"]["suggested_action"] == "Pending"  # BoE missing in books (D16: Pending allowed)
    rows = {p["document_number"]: p for p in out["purchases"]}
    assert rows["INV-2099"]["status"] == "missing_in_ims" and rows["INV-2099"]["inward_row"] is None
    assert rows["INV/2001"]["inward_row"] == by_doc["INV-2001"]["row"]
    assert [p["status"] for p in out["purchases"]].count("duplicate_in_books") == 1


def test_report_purchases_missing_file(capsys):
    from ims_excel.cli.demo import sample_path

    code = main(["report", str(sample_path("sample_inward.csv")), "--gstin", "27AAACR5055K1Z7", "--period",
                 "2026-10", "--purchases", "/nonexistent.csv"])
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_use_case_reads_files():
    from ims_excel.cli.demo import sample_path
    from ims_excel.formats import load

    r = reconcile(load(sample_path("sample_inward.csv")), Context.make("27AAACR5055K1Z7", "2026-10",
                                                                       as_of=dt.date(2026, 11, 26)),
                  [sample_path("sample_purchases.csv")])
    assert isinstance(r.match, Match) and len(r.suggestions) == len(r.inward)


# ------------------------------------------------ the policy and tolerances as data (Config, issue 11)


def test_the_policy_is_data_on_the_settings():
    """``suggest`` takes the policy of the match's Settings (a workbook's Config) or a ``policy`` parameter;
    the YAML's is the default for a status the given policy leaves out."""
    ims, books = frame([rec("I1"), rec("I2")]), frame([rec("I1", IGST=1000), rec("I2")])
    default = suggest(ims, CTX, match(ims, books), books)
    assert default["suggested_action"].tolist() == ["Pending", "Accept"]
    s = Settings.make(policy={"mismatch": ("reject  with remark",)})
    assert s.policy["mismatch"] == ("Reject with remark",) and s.policy["matched"] == Settings().policy["matched"]
    got = suggest(ims, CTX, match(ims, books, s), books)
    assert got["suggested_action"].tolist() == ["Reject", "Accept"]
    assert got["suggested_remarks"].iloc[0] == "Differs from our books: IGST +800.00"
    none = suggest(ims, CTX, match(ims, books), books, policy={"matched": ()})
    assert none["suggested_action"].tolist() == ["Pending", ""]
    with pytest.raises(ValueError, match="'Accept maybe' of 'matched'"):
        Settings.make(policy={"matched": ("Accept maybe",)})
    with pytest.raises(ValueError, match="unknown match status"):
        Settings.make(policy={"missing_in_ims": ("Accept",)})


def _cells(*names):
    return {n: ("Config", 27 + k, f"{n} (Config!B{27 + k})") for k, n in enumerate(names)}


def test_settings_from_config_reads_and_refuses_by_cell():
    """``settings_from_config``: numbers (or text that is one) and option lists are taken; blank tolerance /
    a name the workbook lacks = the YAML's; a blank policy cell = no suggestion; every bad value is listed
    with its cell, all at once (never the default instead)."""
    from ims_excel.book.reconcile import settings_from_config
    from ims_excel.normalise import InputError

    yaml_default = Settings()
    assert settings_from_config({}) == yaml_default
    s = settings_from_config({"MatchTolerance": "5", "MatchDateTolerance": 2.0, "MatchPolicy_mismatch": "",
                              "MatchPolicy_matched": "accept; Reject with remark;"})
    assert s.tolerance == {f: 5.0 for f in s.tolerance} and s.date_days == 2
    assert s.policy["mismatch"] == () and s.policy["matched"] == ("Accept", "Reject with remark")
    assert s.policy["missing_in_books"] == yaml_default.policy["missing_in_books"]
    assert settings_from_config({"MatchTolerance": "", "MatchDateTolerance": None}).tolerance == yaml_default.tolerance
    names = ("MatchTolerance", "MatchDateTolerance", "MatchPolicy_mismatch", "MatchPolicy_missing_in_books")
    with pytest.raises(InputError) as e:
        settings_from_config({"MatchTolerance": -0.5, "MatchDateTolerance": "two", "MatchPolicy_mismatch": 3.0,
                              "MatchPolicy_missing_in_books": "Pending with remark; Hold"}, file="c.xlsm",
                             cells=_cells(*names))
    text = [str(p) for p in e.value.problems]
    assert text == [
        "c.xlsm, sheet 'Config', row 27, column 'MatchTolerance (Config!B27)': -0.5 is negative: write rupees, "
        "0 or more (e.g. 1.00)",
        "c.xlsm, sheet 'Config', row 28, column 'MatchDateTolerance (Config!B28)': 'two' is not a whole number of "
        "days (e.g. 0 or 2)",
        "c.xlsm, sheet 'Config', row 29, column 'MatchPolicy_mismatch (Config!B29)': '3' is not a list of options "
        "(e.g. 'Pending with remark; Reject with remark')",
        "c.xlsm, sheet 'Config', row 30, column 'MatchPolicy_missing_in_books (Config!B30)': 'Hold' is not an "
        "option: write Accept or Accept with ITC Reduction Full; Reject or Pending, optionally 'with remark', "
        "options separated by ';'"]
    with pytest.raises(InputError, match="'inf' is not an amount"):
        settings_from_config({"MatchTolerance": float("inf")})


@pytest.mark.parametrize("value,message", [
    ("Accept with remark", "'Accept with remark' is not an option"),  # the offline upload refuses it
    ("Reject with ITC Reduction Full", "'Reject with ITC Reduction Full' is not an option"),
    ("Pending with remark with ITC Reduction Full", "is not an option"),
    (";", "';' holds no option (leave the cell blank for no suggestion)"),
    (" ; ; ", "holds no option"),
])
def test_a_policy_the_upload_or_the_rules_would_refuse_is_refused(value, message):
    """Only ``Accept [with ITC Reduction Full]`` and ``Reject|Pending [with remark]``: a remark goes with Reject
    and Pending only (the offline upload refuses REMARKS_ON_ACCEPT), a declaration with Accept only; a cell of
    separators is no silent "no suggestion"."""
    from ims_excel.book.reconcile import settings_from_config
    from ims_excel.normalise import InputError

    with pytest.raises(InputError, match=re.escape(message)):
        settings_from_config({"MatchPolicy_mismatch": value})
    if value.strip(" ;"):  # the engine's Settings (the YAML's grammar) refuses the same option
        with pytest.raises(ValueError, match="is not one of"):
            Settings.make(policy={"mismatch": (value,)})


@pytest.mark.parametrize("text", ["1,5", "1e3", "1_0", "0x10", "5 rupees"])
def test_a_tolerance_typed_as_text_follows_the_import_amount_rule(text):
    """Text in a tolerance cell counts only if it is an amount as every import reads one
    (``normalise.parse_amounts``): ``1,5`` is not ₹15 and ``1e3`` is not ₹1,000."""
    from ims_excel.book.reconcile import settings_from_config
    from ims_excel.normalise import InputError

    with pytest.raises(InputError, match="is not an amount"):
        settings_from_config({"MatchTolerance": text})
    assert settings_from_config({"MatchTolerance": "1,00,000.50"}).tolerance["igst"] == 100000.5


def test_a_probable_match_is_never_suggested():
    """A probable match (another number, or the same PAN under another GSTIN) is for a person to confirm:
    no policy may give it an action, and the template has no cell for it."""
    from ims_excel.book.outputs import CONFIG_NAMES

    with pytest.raises(ValueError, match="never suggested"):
        Settings.make(policy={"probable": ("Accept",)})
    assert Settings.make(policy={"probable": ()}).policy["probable"] == ()
    assert "MatchPolicy_probable" not in CONFIG_NAMES


def test_the_templates_settings_are_the_yamls():
    """One source of truth: the committed template's Config reconciliation cells hold reconcile.yaml's
    tolerance, date tolerance and policy (read through the doors' Config reader), each with its defined name
    below every older Config row, a note and a data validation."""
    import openpyxl

    from ims_excel.book.read import read_config
    from ims_excel.book.reconcile import settings_from_config
    from ims_excel.rules import reconcile_policy
    from ims_excel.template import config as config_sheet
    from ims_excel.xlsx.package import Package

    path = __import__("pathlib").Path(__file__).resolve().parents[1] / "workbook" / "IMS_Workbook.xlsm"
    data = reconcile_policy()
    with Package(path) as pkg:
        values, cells = read_config(pkg)
    assert values["MatchTolerance"] == data["tolerance"]["igst"] == 1.0
    assert values["MatchDateTolerance"] == data["tolerance"]["date_days"] == 0
    for row in data["policy"]:
        if row["status"] == "probable":  # never suggested: no cell
            assert row["options"] == [] and "MatchPolicy_probable" not in values
            continue
        assert values[f"MatchPolicy_{row['status']}"] == "; ".join(row["options"])
    s = settings_from_config(values, file=str(path), cells=cells)
    d = Settings()
    assert (s.tolerance, s.date_days, s.policy) == (d.tolerance, d.date_days, d.policy)
    last_derived = config_sheet.derived_row(config_sheet.DERIVED[-1].name)
    rows = [cells[f.name][1] for f in config_sheet.RECON_FIELDS]
    assert rows == list(range(last_derived + 3, last_derived + 3 + len(rows)))
    ws = openpyxl.load_workbook(path)["Config"]
    assert ws.cell(rows[0] - 1, 1).value == "Reconciliation with the purchase register"
    validated = {str(c) for dv in ws.data_validations.dataValidation for c in dv.sqref.ranges}
    kinds = {str(c): dv.type for dv in ws.data_validations.dataValidation for c in dv.sqref.ranges}
    for r in rows:
        assert ws.cell(r, 4).value and f"B{r}" in validated
    assert (kinds[f"B{rows[0]}"], kinds[f"B{rows[1]}"]) == ("decimal", "whole")


def test_suggested_remarks_are_cut_to_the_rulebooks_limit(monkeypatch):
    """The remark limit is parameters.yaml remarks_max_length (rulebook G10; formats-and-market.md 10), the one
    place the upload (upload_json.MAX_REMARKS) and the engine read it: the suggestions read it too."""
    import importlib

    from ims_excel.engine import suggest as suggest_mod
    from ims_excel.rules import rulebook

    monkeypatch.setitem(rulebook().params["remarks_max_length"], "value", 20)
    try:
        importlib.reload(suggest_mod)
        assert suggest_mod.REMARK_MAX == 20
        late = Context.make("27AAACR5055K1Z7", "2026-01", as_of=dt.date(2026, 2, 25))  # as the mismatch test
        ims = frame([rec("C1", Section="B2B-CN", **{"2B Period": "2025-11", "Previous Action": "Pending"})])
        books = frame([rec("C1", Section="B2B-CN", IGST=1000)])
        s = suggest_mod.suggest(ims, late, match(ims, books), books)
        assert s["suggested_action"].iloc[0] == "Reject"
        assert s["suggested_remarks"].iloc[0] == "Differs from our books: IGST +800.00"[:20]
    finally:
        monkeypatch.undo()
        importlib.reload(suggest_mod)
    assert suggest_mod.REMARK_MAX == int(rulebook().param("remarks_max_length"))
