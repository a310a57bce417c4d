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
M); a GSTR-1A of ``Supplier Return Period`` M reaches the 2B of M+1 (S0), or
the filing day's if later (``gstr1a_2b_period``); else it is the return period.

A record is *pending in IMS* when its previous action is Pending, or when it
is marked Pending with no previous action recorded: it is never frozen (G4,
G5); a carried one enters this return's GSTR-2B only while the return's
GSTR-3B is unfiled (S3). A downward amendment is never barred by s.16(4)
(``cutoff_164_reductions``), and with no filing date the cut-off is judged
from the 2B period (``cutoff_164_filing_unknown``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod
from ims_excel import periods
from ims_excel.engine import deadlines
from ims_excel.engine.context import Context
from ims_excel.records import AMENDMENT_SECTIONS, HEADS, SECTIONS
from ims_excel.rules import RuleBook
from ims_excel.vec import by_unique, codes_in, labels

# action codes as small integers
A, R, P, N, X = 0, 1, 2, 3, 4
ACTION_CODE = {"Accept": A, "Reject": R, "Pending": P, "No Action": N, "": N}
STATE_CODE = {"Accepted": A, "Rejected": R, "Pending": P, "No Action": N, "Pre-IMS": X, "": N}

FAMILY = {"B2B": "INV", "B2BA": "INV", "B2B-DN": "DN", "B2B-DNA": "DN", "B2B-CN": "CN",
          "B2B-CNA": "CN", "ECO": "ECO", "ECOA": "ECO", "IMPG": "BOE", "IMPGA": "BOE",
          "IMPGSEZ": "BOE", "IMPGSEZA": "BOE", "ISD": "ISD", "ISDA": "ISD"}
NOT_IN_IMS_RULE = {"RCM": "D19", "GSTR5": "D21", "ISD": "D20", "POS": "D22", "164": "D23", "37A": "D24"}


CELL = {"Y": 0, "N": 1, "W": 2, "F": 3, "": 4}
"""Decision-table cells as small integers: allowed, refused, one-period window, portal flag, no version."""
Y_, N_, W_, F_ = 0, 1, 2, 3
KINDS = ("ims", "not_in_ims", "frozen", "time_barred", "modifier")


@dataclass
class RuleArrays:
    """The decision table as integer arrays indexed [rule, regime] (built once per evaluation)."""

    ids: list[str]
    eras: np.ndarray
    cells: np.ndarray        # [rule, era, action A/R/P/N] -> CELL code
    code: np.ndarray         # [rule, era] -> index into ``code_names`` or -1
    code_names: list[str]
    decl: np.ndarray         # [rule, era] -> bool
    specified: np.ndarray    # [rule] -> bool
    kind: np.ndarray         # [rule] -> index into KINDS
    table: np.ndarray        # [rule] -> str (GSTR-3B table of records outside IMS)
    bucket: np.ndarray       # [rule] -> str
    addback: np.ndarray      # [rule] -> str
    accept_reversal: np.ndarray

    @classmethod
    def build(cls, rb: RuleBook) -> "RuleArrays":
        eras = np.array(rb.eras, dtype="int64")
        n, m = len(rb.rules), len(eras)
        names = list(rb.codes)
        cells = np.full((n, m, 4), CELL[""], dtype="int8")
        code = np.full((n, m), -1, dtype="int16")
        decl = np.zeros((n, m), dtype=bool)
        for i, r in enumerate(rb.rules):
            for j, era in enumerate(eras):
                for v in r.versions:
                    if v.start <= era and (v.end is None or era <= v.end):
                        cells[i, j] = [CELL[c] for c in (v.accept, v.reject, v.pending, v.no_action)]
                        code[i, j] = names.index(v.code) if v.code else -1
                        decl[i, j] = v.decl
        arr = lambda attr, dtype=object: np.array([getattr(r, attr) for r in rb.rules], dtype=dtype)  # noqa: E731
        kind = np.array([KINDS.index(r.kind) for r in rb.rules], dtype="int8")
        return cls([r.id for r in rb.rules], eras, cells, code, names, decl, arr("specified", bool),
                   kind, arr("table"), arr("bucket"), arr("addback"), arr("accept_reversal"))


FAMILIES = np.array(["INV", "DN", "CN", "ECO", "BOE", "ISD"], dtype=object)
INV, DN, CN, ECO, BOE, ISD = range(6)
_FAMILY_CODE = {s: int(np.flatnonzero(FAMILIES == f)[0]) for s, f in FAMILY.items()}
_SECTION_FAMILY = np.array([_FAMILY_CODE[s] for s in SECTIONS] + [INV], dtype="int8")  # [-1]: unknown
_SECTION_AMENDMENT = np.array([s in AMENDMENT_SECTIONS for s in SECTIONS] + [False], dtype=bool)


def _codes(series: pd.Series, table: dict[str, int]) -> np.ndarray:
    return by_unique(series, table, default=N, dtype="int8")


def _state_number(value: object) -> int:
    """The 2-digit state code at the start of a GSTIN or place of supply ("27-Maharashtra"), -1 if none."""
    text = str(value)[:2]
    return int(text) if text.isdigit() else -1


def _period_or_minus_one(value: object) -> int:
    """A supplier return period (MMYYYY, YYYY-MM, MM-YYYY) as a month index, -1 if blank or unreadable."""
    p = periods.parse_or_none(str(value)) if value not in (None, "") else None
    return -1 if p is None else p


def _per_date(dates: np.ndarray, fn, missing: object) -> np.ndarray:
    """``fn`` over the few distinct dates of a column, broadcast back (NaT -> ``missing``)."""
    codes, uniques = pd.factorize(dates)
    values = fn(np.asarray(uniques, dtype="datetime64[D]"))
    return np.append(values, np.array([missing], dtype=values.dtype))[codes]


def _dates(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy(dtype="datetime64[D]")


def record_kinds(fam: np.ndarray, amend: np.ndarray, down: np.ndarray, orig: np.ndarray, consumed: np.ndarray,
                 nil_boe: np.ndarray, pre_oct25: np.ndarray, rb: RuleBook, rid_of: dict[str, int]) -> np.ndarray:
    """The record kind (rule index of D1-D17, or D18 for a BoE of a GSTR-2B period before the Oct-2025
    changes) from a record's family, amendment, direction (``down``; an amendment not down is up),
    original state (``orig``: A/R/P/N/X), whether the original was consumed, whether a BoE amendment
    takes the whole BoE away (``nil_boe``) and whether its period is before ``oct25_changes_period``.

    The Rules sheet's ``RecordRules`` grid is this function over every combination (the workbook's
    Record Rule looks it up), so the two can never disagree.
    """
    D = lambda k: rid_of[f"D{k}"]  # noqa: E731
    up = amend & ~down
    inv_dn = (fam == INV) | (fam == DN)
    orig_r = orig == R
    rid = np.where(fam == DN, D(2), D(1))
    rid = np.where(inv_dn & up, D(3), rid)
    rid = np.where(inv_dn & amend & down, np.where(orig_r, D(4), np.where(consumed, D(6), D(5))), rid)
    rid = np.where((fam == CN) & ~amend, D(7), rid)
    rid = np.where((fam == CN) & up, D(8), rid)
    rid = np.where((fam == CN) & amend & down, np.where(orig_r, D(9), np.where(orig == P, D(11), D(10))), rid)
    rid = np.where((fam == ECO) & ~amend, D(12), rid)
    rid = np.where((fam == ECO) & amend, np.where(down & consumed, D(14), D(13)), rid)
    boe = fam == BOE
    boe_down = D(17) if rb.param("boe_value_decrease") == "D17" else D(16)
    rid = np.where(boe, np.where(~amend, D(15), np.where(nil_boe, D(17), np.where(down, boe_down, D(16)))), rid)
    return np.where(boe & pre_oct25, D(18), rid)


def classify(df: pd.DataFrame, ctx: Context, rb: RuleBook, ra: RuleArrays,
             party: str = "supplier_gstin") -> pd.DataFrame:
    """Derived per-record facts: family, direction, original state, 2B period, rule and regime."""
    n = len(df)
    rid_of = {r: i for i, r in enumerate(ra.ids)}
    D = lambda k: rid_of[f"D{k}"]  # noqa: E731  (rule index of D<k>)
    out: dict[str, object] = {}
    sec = codes_in(df["section"], SECTIONS)
    fam = _SECTION_FAMILY[sec]
    amend = _SECTION_AMENDMENT[sec]
    out["section_code"] = sec
    out["family"] = labels(fam, FAMILIES)
    out["fam"] = fam
    out["amendment"] = amend

    # --- 2B period (section 4.1)
    p2b = df["period_2b"].to_numpy(dtype="int64").copy()
    filing = _dates(df["supplier_filing_date"])
    cut_day = int(rb.param("gstr1_cutoff_day"))

    def first_2b(d: np.ndarray) -> np.ndarray:
        months = d.astype("datetime64[M]")
        day = (d - months.astype("datetime64[D]")).astype("int64") + 1
        return months.astype("int64") + 1970 * 12 - np.where(day <= cut_day, 1, 0)

    from_filing = _per_date(filing, first_2b, -1)
    # GSTR-1A of month M reaches the GSTR-2B of M+1 (4.1, S0; S6 example 4), never an earlier one than
    # the filing day reaches; without the return period, the month it was filed in (gstr1a_2b_period, INF)
    is_1a = by_unique(df["source_form"], {"GSTR-1A": True}, default=False, dtype=bool)
    ret_p = by_unique(df["supplier_return_period"], _period_or_minus_one, default=-1, dtype="int64")
    filed_month = _per_date(filing, lambda d: d.astype("datetime64[M]").astype("int64") + 1970 * 12, -1)
    ret_next = np.where(ret_p >= 0, ret_p + int(rb.param("gstr1a_2b_period", "months_after")), -1)
    from_1a = np.where(ret_p >= 0, np.maximum(ret_next, from_filing), filed_month)
    from_filing = np.where(is_1a, from_1a, from_filing)
    blank = p2b < 0
    p2b = np.where(blank & (from_filing >= 0), from_filing, p2b)
    p2b = np.where(p2b < 0, ctx.return_period, p2b)
    out["period_2b"] = p2b
    era_idx = np.clip(np.searchsorted(ra.eras, p2b, side="right") - 1, 0, len(ra.eras) - 1)
    out["era"] = era_idx

    # --- amounts, direction, original state
    tot = sum(df[h].to_numpy(dtype=float) for h in HEADS)
    otot = sum(df[f"original_{h}"].to_numpy(dtype=float) for h in HEADS)
    down = np.where(fam == BOE, tot < otot - 0.005, tot <= otot + 0.005) & amend
    up = amend & ~down
    orig = _codes(df["original_action"], STATE_CODE)
    orig_filed = df["original_3b_filed"].to_numpy() == 1
    consumed = ((orig == A) | (orig == N)) & orig_filed | (orig == X)
    out["down"], out["up"], out["orig"], out["consumed"] = down, up, orig, consumed

    # --- record kinds D1-D17 (D18: a BoE before the Oct-2025 changes)
    oct25 = rb.period_param("oct25_changes_period")
    boe = fam == BOE
    # D17 is the amendment that takes the whole BoE away from this GSTIN (Customs amended the GSTIN: amended
    # value nil); a value decrease is D16 unless boe_value_decrease says otherwise (issue 12.6e, INF)
    nil_boe = amend & (tot <= 0.005) & (otot > 0.005)
    rid = record_kinds(fam, amend, down, orig, consumed, nil_boe, p2b < oct25, rb, rid_of)
    in_ims_kind = rid != D(18)  # so far every rule is a D1-D17 kind, or D18
    out["record_rule"] = labels(rid, ra.ids)

    # --- records never in IMS (D19-D24), explicit or derived
    rev = df["reverse_charge"].to_numpy() == 1
    form = by_unique(df["source_form"], {"GSTR-5": 5, "GSTR-6": 6}, default=0, dtype="int8")
    doc_date = _dates(df["document_date"])
    odate = _dates(df["original_document_date"])
    date_164 = np.where(amend & ~np.isnat(odate), odate, doc_date)
    itc_family = (fam == INV) | (fam == DN) | (fam == ECO)
    # a Bill of Entry has the cut-off for warnings only (cutoff_164_boe, Q11, INF): never D23 / D26 below
    warned = itc_family | ((fam == BOE) & (rb.param("cutoff_164_boe") == "warn"))
    cut164 = _per_date(date_164, lambda d: deadlines.cutoff_164(d, ctx.annual_return_date), deadlines.NAT)
    cut164 = np.where(warned, cut164, deadlines.NAT)
    out["cutoff_164"] = cut164
    pos = by_unique(df["place_of_supply"], _state_number, default=-1, dtype="int64")
    g_codes, g_uniques = pd.factorize(df[party].to_numpy(dtype=object))
    party_state = np.array([_state_number(v) for v in g_uniques] + [-1], dtype="int64")[g_codes]
    g_uniques = np.asarray(g_uniques, dtype=object)
    g_ok = np.append(gstin_mod.valid(g_uniques) | (g_uniques == ""), True)[g_codes]  # the one GSTIN rule
    if party == "supplier_gstin":
        sup_state, recip = party_state, _state_number(ctx.gstin)
    else:  # outward: the recipient is the row's party, the supplier is us
        sup_state, recip = _state_number(ctx.gstin), party_state
    pos_inelig = (pos >= 0) & (pos == sup_state) & (recip != pos) & ~boe & (fam != ISD)
    # s.16(4) bars taking ITC, not giving it back: a downward amendment filed after the cut-off still reduces
    # ITC in IMS (cutoff_164_reductions, issue 12.6a, INF). With no filing date, the earliest day that
    # reaches the record's GSTR-2B period (cutoff_164_filing_unknown, issue 12.6c, INF)
    reduces = down & (rb.param("cutoff_164_reductions") == "in_ims")
    earliest = ((p2b - periods.make(1970, 1)).astype("datetime64[M]").astype("datetime64[D]")
                + np.timedelta64(cut_day, "D"))
    judged = np.where(np.isnat(filing) & (rb.param("cutoff_164_filing_unknown") == "earliest"),
                      earliest, filing)
    late = itc_family & ~reduces & ~np.isnat(judged) & ~np.isnat(cut164) & (judged > cut164)
    outside = np.full(n, -1, dtype="int64")
    for mask, rule in ((late, D(23)), (pos_inelig, D(22)), (fam == ISD, D(20)), (form == 6, D(20)),
                       (form == 5, D(21)), (rev, D(19))):
        outside = np.where(mask, rule, outside)
    explicit = by_unique(df["not_in_ims"], {k: rid_of[v] for k, v in NOT_IN_IMS_RULE.items()},
                         default=-1, dtype="int64")
    outside = np.where(explicit >= 0, explicit, outside)
    rid = np.where(outside >= 0, outside, rid)
    out["outside_rule"] = labels(np.where(outside >= 0, outside, len(ra.ids)), [*ra.ids, ""])
    in_ims_kind &= outside < 0

    # --- frozen (D25) and time-barred (D26)
    prev = _codes(df["previous_action"], STATE_CODE) if "previous_action" in df else np.full(n, N, "int8")
    act = _codes(df["action"], ACTION_CODE) if "action" in df else np.full(n, N, "int8")
    start, end = ctx.window
    current = (p2b >= start) & (p2b <= end)
    # a record is pending in IMS when its previous action is Pending, or when it is marked Pending with no
    # previous action recorded (a portal download's state, or a Pending kept when the 3B was filed)
    prev_blank = by_unique(df["previous_action"], {"": True}, default=False, dtype=bool) \
        if "previous_action" in df else np.ones(n, dtype=bool)
    pend_state = (prev == P) | ((act == P) & prev_blank)
    carried = (p2b < start) & pend_state
    # the recipient's own freeze (our IMS); an outward record's state is the recipient's columns
    inward = party == "supplier_gstin"
    # G4/G5: filing the 3B freezes the period's accepted / rejected / no-action records; pending ones
    # stay in IMS (past their window too: G8 then deems them accepted, PEND_WINDOW_OVER), and whatever is
    # done with them after this return's 3B is filed lands in the next GSTR-2B, not this (final) one (S3)
    frozen = inward & in_ims_kind & ~pend_state & ((current & ctx.gstr3b_filed) | (p2b < start))
    out["live"] = (current | carried) & ~(ctx.gstr3b_filed & pend_state)
    out["pend_state"] = pend_state
    rid = np.where(frozen, D(25), rid)
    out["frozen"] = frozen
    spec = ra.specified[rid]
    as_of = np.datetime64(ctx.as_of, "D")
    barred = (inward & in_ims_kind & ~frozen & itc_family & ~spec & ~reduces & ((prev == P) | (act == P))
              & ~np.isnat(cut164) & (as_of > cut164))
    rid = np.where(barred, D(26), rid)

    # --- beyond everything: IMS access and pre-IMS periods
    rid = np.where(p2b < rb.period_param("ims_start_period"), D(28), rid)
    if not ctx.has_ims:
        rid = np.full(n, D(29), dtype="int64")

    out["rule"] = labels(rid, ra.ids)
    out["rule_idx"] = rid
    out["current"], out["carried"] = current, carried
    out["act"], out["prev"] = act, prev
    out["filed"] = by_unique(df["supplier_filing_status"], {"Not Filed": False}, default=True, dtype=bool)
    out["gstin_bad"] = ~g_ok
    out["reduces"] = reduces
    out["party_code"] = g_codes
    return pd.DataFrame(out, index=df.index)
