"""Which row of the decision table (D1-D30) governs each record.

shared/domain/ims-rules.md section 3.2. The order of the tests is the order
of precedence: no IMS access (D29), pre-IMS period (D28), records that never
enter IMS (D18-D24), frozen (D25), time-barred (D26), then the record kinds
D1-D17. Amendment direction compares the amended total tax with the
original's ("unchanged" counts as downward, so an unchanged re-report of a
rejected record is D4 / D9, as S4 describes); for Bills of Entry only a real
decrease is downward (D17).

A GSTR-2B period left blank is derived from the supplier's filing date
(section 4.1: filings up to the ``gstr1_cutoff_day`` of M+1 reach the 2B of
M), else it is the return period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod
from ims_excel.engine import deadlines
from ims_excel.engine.context import Context
from ims_excel.records import HEADS
from ims_excel.rules import RuleBook

# action codes as small integers
A, R, P, N, X = 0, 1, 2, 3, 4
ACTION_CODE = {"Accept": A, "Reject": R, "Pending": P, "No Action": N, "": N}
STATE_CODE = {"Accepted": A, "Rejected": R, "Pending": P, "No Action": N, "Pre-IMS": X, "": N}

FAMILY = {"B2B": "INV", "B2BA": "INV", "B2B-DN": "DN", "B2B-DNA": "DN", "B2B-CN": "CN",
          "B2B-CNA": "CN", "ECO": "ECO", "ECOA": "ECO", "IMPG": "BOE", "IMPGA": "BOE",
          "IMPGSEZ": "BOE", "IMPGSEZA": "BOE", "ISD": "ISD", "ISDA": "ISD"}
AMENDMENT = {"B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA", "ISDA"}
NOT_IN_IMS_RULE = {"RCM": "D19", "GSTR5": "D21", "ISD": "D20", "POS": "D22", "164": "D23", "37A": "D24"}


@dataclass
class RuleArrays:
    """The decision table as arrays indexed [rule, regime] (built once per evaluation)."""

    ids: list[str]
    eras: np.ndarray
    cells: np.ndarray        # [rule, era, action A/R/P/N] -> 'Y','N','W','F','' (no version)
    code: np.ndarray         # [rule, era] -> reason code or ''
    decl: np.ndarray         # [rule, era] -> bool
    specified: np.ndarray    # [rule] -> bool
    kind: np.ndarray         # [rule] -> str
    table: np.ndarray        # [rule] -> str
    bucket: np.ndarray       # [rule] -> str
    addback: np.ndarray      # [rule] -> str
    accept_reversal: np.ndarray

    @classmethod
    def build(cls, rb: RuleBook) -> "RuleArrays":
        eras = np.array(rb.eras, dtype="int64")
        n, m = len(rb.rules), len(eras)
        cells = np.full((n, m, 4), "", dtype=object)
        code = np.full((n, m), "", dtype=object)
        decl = np.zeros((n, m), dtype=bool)
        for i, r in enumerate(rb.rules):
            for j, era in enumerate(eras):
                for v in r.versions:
                    if v.start <= era and (v.end is None or era <= v.end):
                        cells[i, j] = [v.accept, v.reject, v.pending, v.no_action]
                        code[i, j] = v.code
                        decl[i, j] = v.decl
        arr = lambda attr, dtype=object: np.array([getattr(r, attr) for r in rb.rules], dtype=dtype)  # noqa: E731
        return cls([r.id for r in rb.rules], eras, cells, code, decl, arr("specified", bool),
                   arr("kind"), arr("table"), arr("bucket"), arr("addback"), arr("accept_reversal"))

    def index(self, rule_id: str) -> int:
        return self.ids.index(rule_id)


def _codes(series: pd.Series, table: dict[str, int]) -> np.ndarray:
    return series.map(table).fillna(N).to_numpy(dtype="int8")


def _dates(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy(dtype="datetime64[D]")


def classify(df: pd.DataFrame, ctx: Context, rb: RuleBook, ra: RuleArrays,
             party: str = "supplier_gstin") -> pd.DataFrame:
    """Derived per-record facts: family, direction, original state, 2B period, rule and regime."""
    n = len(df)
    out = pd.DataFrame(index=df.index)
    section = df["section"].astype(object)
    family = section.map(FAMILY).fillna("INV").to_numpy(dtype=object)
    amend = section.isin(AMENDMENT).to_numpy()
    out["family"] = family
    out["amendment"] = amend

    # --- 2B period (section 4.1)
    p2b = df["period_2b"].to_numpy(dtype="int64").copy()
    filing = _dates(df["supplier_filing_date"])
    cut_day = int(rb.param("gstr1_cutoff_day"))
    months = filing.astype("datetime64[M]")
    day = (filing - months.astype("datetime64[D]")).astype("int64") + 1
    from_filing = months.astype("int64") + 1970 * 12 - np.where(day <= cut_day, 1, 0)
    blank = p2b < 0
    p2b = np.where(blank & ~np.isnat(filing), from_filing, p2b)
    p2b = np.where(p2b < 0, ctx.return_period, p2b)
    out["period_2b"] = p2b
    era_idx = np.searchsorted(ra.eras, p2b, side="right") - 1
    era_idx = np.clip(era_idx, 0, len(ra.eras) - 1)
    out["era"] = era_idx

    # --- amounts, direction, original state
    tot = sum(df[h].to_numpy(dtype=float) for h in HEADS)
    otot = sum(df[f"original_{h}"].to_numpy(dtype=float) for h in HEADS)
    down = np.where(family == "BOE", tot < otot - 0.005, tot <= otot + 0.005) & amend
    up = amend & ~down
    orig = _codes(df["original_action"], STATE_CODE)
    orig_filed = df["original_3b_filed"].to_numpy() == 1
    consumed = ((orig == A) | (orig == N)) & orig_filed | (orig == X)
    out["down"], out["up"], out["orig"], out["consumed"] = down, up, orig, consumed

    # --- record kinds D1-D17
    fam = family
    rid = np.full(n, "D1", dtype=object)
    inv_dn = (fam == "INV") | (fam == "DN")
    orig_r = orig == R
    rid = np.where(inv_dn & ~amend, np.where(fam == "DN", "D2", "D1"), rid)
    rid = np.where(inv_dn & up, "D3", rid)
    rid = np.where(inv_dn & down, np.where(orig_r, "D4", np.where(consumed, "D6", "D5")), rid)
    rid = np.where((fam == "CN") & ~amend, "D7", rid)
    rid = np.where((fam == "CN") & up, "D8", rid)
    rid = np.where((fam == "CN") & down, np.where(orig_r, "D9", np.where(orig == P, "D11", "D10")), rid)
    rid = np.where((fam == "ECO") & ~amend, "D12", rid)
    rid = np.where((fam == "ECO") & amend, np.where(down & consumed, "D14", "D13"), rid)
    oct25 = rb.period_param("oct25_changes_period")
    boe = fam == "BOE"
    rid = np.where(boe, np.where(~amend, "D15", np.where(down, "D17", "D16")), rid)
    rid = np.where(boe & (p2b < oct25), "D18", rid)

    # --- records never in IMS (D19-D24), explicit or derived
    nim = df["not_in_ims"].astype(object).to_numpy()
    rev = df["reverse_charge"].to_numpy() == 1
    form = df["source_form"].astype(object).to_numpy()
    doc_date = _dates(df["document_date"])
    odate = _dates(df["original_document_date"])
    date_164 = np.where(amend & ~np.isnat(odate), odate, doc_date)
    itc_family = (fam == "INV") | (fam == "DN") | (fam == "ECO")
    cut164 = np.where(itc_family, deadlines.cutoff_164(date_164, ctx.annual_return_date), deadlines.NAT)
    out["cutoff_164"] = cut164
    pos = df["place_of_supply"].astype(str).str[:2].to_numpy(dtype=object)
    gst = df[party].astype(str)
    sup_state = gst.str[:2].to_numpy(dtype=object)
    recip_state = ctx.gstin[:2] if party == "supplier_gstin" else None
    if recip_state is None:  # outward: the recipient is the row's party, the supplier is us
        recip = gst.str[:2].to_numpy(dtype=object)
        sup_state = np.full(n, ctx.gstin[:2], dtype=object)
    else:
        recip = np.full(n, recip_state, dtype=object)
    pos_inelig = (pos != "") & (pos == sup_state) & (recip != pos) & ~boe & (fam != "ISD")
    late = itc_family & ~np.isnat(filing) & ~np.isnat(cut164) & (filing > cut164)
    derived = np.full(n, "", dtype=object)
    derived = np.where(late, "D23", derived)
    derived = np.where(pos_inelig, "D22", derived)
    derived = np.where(fam == "ISD", "D20", derived)
    derived = np.where(form == "GSTR-6", "D20", derived)
    derived = np.where(form == "GSTR-5", "D21", derived)
    derived = np.where(rev, "D19", derived)
    explicit = pd.Series(nim).map(NOT_IN_IMS_RULE).fillna("").to_numpy(dtype=object)
    outside = np.where(explicit != "", explicit, derived)
    rid = np.where(outside != "", outside, rid)

    # --- frozen (D25) and time-barred (D26)
    prev = _codes(df["previous_action"], STATE_CODE) if "previous_action" in df else np.full(n, N, "int8")
    act = _codes(df["action"], ACTION_CODE) if "action" in df else np.full(n, N, "int8")
    start, end = ctx.window
    current = (p2b >= start) & (p2b <= end)
    carried = (p2b < start) & (prev == P)
    in_ims_kind = np.isin(rid, [f"D{i}" for i in range(1, 18)])
    # the recipient's own freeze (our IMS); an outward record's state is the recipient's columns
    inward = party == "supplier_gstin"
    frozen = inward & in_ims_kind & ((current & ctx.gstr3b_filed) | ((p2b < start) & (prev != P)))
    rid = np.where(frozen, "D25", rid)
    spec = ra.specified[_rule_index(ra, rid)]
    as_of = np.datetime64(ctx.as_of, "D")
    barred = (inward & in_ims_kind & ~frozen & itc_family & ~spec & ((prev == P) | (act == P))
              & ~np.isnat(cut164) & (as_of > cut164))
    rid = np.where(barred, "D26", rid)

    # --- beyond everything: IMS access and pre-IMS periods
    rid = np.where(p2b < rb.period_param("ims_start_period"), "D28", rid)
    if not ctx.has_ims:
        rid = np.full(n, "D29", dtype=object)

    out["rule"] = rid
    ridx = _rule_index(ra, rid)
    out["rule_idx"] = ridx
    out["current"], out["carried"] = current, carried
    out["act"], out["prev"] = act, prev
    out["filed"] = (df["supplier_filing_status"].astype(object) != "Not Filed").to_numpy()
    out["pos_state"] = pos
    gcheck = gstin_mod.check_digit_ok(gst)
    out["gstin_bad"] = ((gst != "") & ~gcheck).to_numpy()
    return out


def _rule_index(ra: RuleArrays, rid: np.ndarray) -> np.ndarray:
    lookup = {r: i for i, r in enumerate(ra.ids)}
    return pd.Series(rid).map(lookup).to_numpy(dtype="int64")
