"""Invariants of the engine, checked on random records (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ims_excel.engine import Context, evaluate
from ims_excel.engine.amounts import TABLES
from ims_excel.engine.sample import frame
from ims_excel.records import HEADS

SUPPLIERS = ["27AAACS1111S1Z9", "29AAACS2222T1ZX", "07AAACE4444E1Z0", "24AAACA1111A1ZY"]
SECTIONS = ["B2B", "B2BA", "B2B-DN", "B2B-DNA", "B2B-CN", "B2B-CNA", "ECO", "ECOA",
            "IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA", "ISD"]
PERIODS = ["2024-08", "2025-06", "2025-09", "2025-10", "2025-11", "2025-12"]
money = st.integers(min_value=0, max_value=5_000_000).map(lambda p: p / 100)


@st.composite
def record(draw, i: int):
    section = draw(st.sampled_from(SECTIONS))
    row = {
        "Section": section,
        "Supplier GSTIN": draw(st.sampled_from(SUPPLIERS)),
        "Document Number": f"D-{i}",
        "Document Date": draw(st.dates(dt.date(2024, 4, 1), dt.date(2025, 12, 31))).isoformat(),
        "IGST": draw(money), "CGST": draw(money), "SGST": draw(money), "Cess": draw(money),
        "2B Period": draw(st.sampled_from(PERIODS)),
        "Action": draw(st.sampled_from(["", "Accept", "Reject", "Pending", "No Action"])),
        "Previous Action": draw(st.sampled_from(["", "Accepted", "Rejected", "Pending", "No Action"])),
        "Reverse Charge": draw(st.sampled_from(["", "N", "Y"])),
        "Pending Blocked": draw(st.sampled_from(["", "", "N", "Y"])),
        "Supplier Filing Status": draw(st.sampled_from(["Filed", "Filed", "Not Filed"])),
        "ITC Reduction": draw(st.sampled_from(["", "", "Full", "No", "Partial"])),
        "Declared IGST": draw(money), "Remarks": draw(st.sampled_from(["", "ok"])),
    }
    if section.endswith("A"):
        row.update({"Original IGST": draw(money), "Original CGST": draw(money),
                    "Original Action": draw(st.sampled_from(["", "Accepted", "Rejected", "Pending", "Pre-IMS"])),
                    "Original 3B Filed": draw(st.sampled_from(["Y", "N"]))})
    return row


records = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(*[record(i) for i in range(n)]))
contexts = st.builds(
    lambda period, freq, as_of, filed: Context.make("27AAACR5055K1Z7", period, frequency=freq,
                                                    as_of=as_of, gstr3b_filed=filed),
    st.sampled_from(["2025-12", "2026-01"]), st.sampled_from(["monthly", "quarterly"]),
    st.dates(dt.date(2025, 12, 1), dt.date(2026, 12, 31)), st.booleans())

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(records, contexts)
def test_record_itc_adds_up_to_table_4(rows, ctx):
    res = evaluate(frame(list(rows)), ctx, check=False)
    recs = res.records
    for tab in TABLES:
        part = recs[recs["gstr3b_table"] == tab]
        for h in HEADS:
            assert round(part[f"itc_{h}"].sum(), 2) == res.gstr3b[tab][h]
    # only records in GSTR-2B carry ITC
    assert (recs.loc[~recs["in_2b"], [f"itc_{h}" for h in HEADS]] == 0).all().all()


@SETTINGS
@given(records, contexts, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows, ctx, rnd):
    rows = list(rows)
    res = evaluate(frame(rows), ctx, check=False)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    res2 = evaluate(frame(shuffled), ctx, check=False)
    assert res.gstr3b == res2.gstr3b
    cols = ["status", "primary_code", "effective_action", "gstr3b_table", *[f"itc_{h}" for h in HEADS]]
    a = res.records.assign(doc=res.inward["document_number"]).set_index("doc")[cols].sort_index()
    b = res2.records.assign(doc=res2.inward["document_number"]).set_index("doc")[cols].sort_index()
    assert a.equals(b)


@SETTINGS
@given(records, contexts)
def test_signs_and_refusals(rows, ctx):
    res = evaluate(frame(list(rows)), ctx, check=False)
    recs, inp = res.records, res.inward
    itc = recs[[f"itc_{h}" for h in HEADS]].to_numpy()
    original = ~recs["amendment"].to_numpy()
    cn = recs["family"].to_numpy() == "CN"
    # an original credit note never adds ITC; an original invoice, note or BoE never removes it
    assert (itc[original & cn] <= 0).all()
    assert (itc[original & ~cn] >= 0).all()
    # a refused action is not applied
    action = inp["action"].astype(object)
    previous = inp["previous_action"].astype(object)
    chosen = action.replace({"": "No Action"}).map(
        {"Accept": "Accepted", "Reject": "Rejected", "Pending": "Pending", "No Action": "Deemed Accepted"})
    err = recs["status"] == "error"
    changed = action.replace({"": "No Action"}) != previous.replace(
        {"": "No Action", "Accepted": "Accept", "Rejected": "Reject", "No Action": "No Action"})
    assert not (err & changed & (recs["effective_action"] == chosen) & (chosen != "Deemed Accepted")).any()
    # status follows the masks
    assert ((recs["err_bits"] != 0) == err).all()
    assert np.isin(recs["effective_action"], ["Accepted", "Deemed Accepted", "Rejected", "Pending",
                                              "Not in IMS"]).all()
