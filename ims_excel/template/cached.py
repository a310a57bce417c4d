"""Cached values of the computed columns, from the engine's result (``inward.cached_values``,
``outward.cached_values``).

For every computed column, the value its formula gives, taken from the
engine's per-record output wherever the engine has it (status, codes, rule,
amounts, deadlines ...) and otherwise derived from it the way the formula
does (helper columns such as Record Rule or Error Rank). Vectorised: a
million records take seconds. ``tests/workbook/test_equality.py`` checks every
column against LibreOffice's recalculation.

Values: text (``""`` for blank), floats for numbers, dates as Excel serial
numbers (floats), ``""`` where a date or number column is blank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine.amounts import document_amounts
from ims_excel.engine.classify import A, N, P
from ims_excel.engine.explain import messages
from ims_excel.engine.summary import ims_state
from ims_excel.engine.validation import NIL, PARTIAL, REMARK_SPACE, remark_text
from ims_excel.gstin import expected as gstin_expected
from ims_excel.records import HEADS
from ims_excel.rules import rulebook
from ims_excel.xlsx.dates import epoch

EXCEL_EPOCH = epoch()
LETTERS = np.array(["A", "R", "P", "N", "X"], dtype=object)
HEAD_LABEL = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
NONE_RANK = 999.0
_FLAT = str.maketrans({c: " " for c in REMARK_SPACE})
"""Remarks Flat: every remark whitespace character as a space (``inward.REMARKS_FLAT``)."""


def serial(dates) -> np.ndarray:
    """datetime64 -> Excel serial (float), NaT -> ""."""
    d = np.asarray(dates, dtype="datetime64[D]")
    out = (d - EXCEL_EPOCH).astype("int64").astype(float).astype(object)
    out[np.isnat(d)] = ""
    return out


def yn(mask) -> np.ndarray:
    return np.where(np.asarray(mask, dtype=bool), "Y", "N").astype(object)


def _per_value(values, fn) -> np.ndarray:
    """``fn`` over the distinct values, broadcast back (object array)."""
    values = np.asarray(values)
    if not len(values):
        return np.array([], dtype=object)
    uniq, inv = np.unique(values, return_inverse=True)
    return np.array([fn(u) for u in uniq] + [None], dtype=object)[:-1][inv.reshape(-1)]


def iso(p) -> np.ndarray:
    return _per_value(np.asarray(p, dtype="int64"), lambda x: periods.iso(int(x)))


def _text(series) -> np.ndarray:
    """Text values of a column, categorical or not ("" for missing)."""
    return pd.Series(series).astype(object).fillna("").astype(str).to_numpy(dtype=object)


def _dates(series) -> np.ndarray:
    return pd.to_datetime(pd.Series(series)).to_numpy(dtype="datetime64[D]")


class _Rules:
    """The Rules table as the workbook holds it (one row per rule and regime)."""

    def __init__(self) -> None:
        rb = rulebook()
        self.rb = rb
        self.table = rb.table().fillna("")
        self.row_of = {k: i + 1 for i, k in enumerate(self.table["key"])}
        first = self.table.drop_duplicates("id").set_index("id")
        self.by_id = first
        self.codes = list(rb.codes)

    def rule_attr(self, rules: np.ndarray, column: str, default: str = "") -> np.ndarray:
        m = self.by_id[column].to_dict()
        return np.array([m.get(r, default) for r in rules], dtype=object)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Rules-table row (1-based) of each key, ``""`` when the key is not in the table."""
        found = pd.Series(np.asarray(keys, dtype=object)).map(self.row_of)
        miss = found.isna().to_numpy()
        out = np.empty(len(found), dtype=object)
        out[:] = ""
        out[~miss] = found.to_numpy()[~miss].astype(np.int64).tolist()
        return out

    def version_attr(self, rows: np.ndarray, column: str, default: str = "") -> np.ndarray:
        col = np.append(self.table[column].to_numpy(dtype=object), np.array([default], dtype=object))
        rows = np.asarray(rows, dtype=object)
        blank = rows == ""
        idx = np.where(blank, len(col), rows).astype(np.int64) - 1
        return col[idx]


def _lowest_bit_rank(bits: np.ndarray) -> np.ndarray:
    """Codes-table row (1-based) of the lowest set bit, 999 if none."""
    bits = np.asarray(bits, dtype="int64")
    low = bits & -bits
    rank = np.log2(np.maximum(low, 1)).round().astype("int64") + 1
    return np.where(bits == 0, NONE_RANK, rank.astype(float))


def inward_values(result, headers: list[str]) -> pd.DataFrame:
    """Every Inward computed column (see ``inward.cached_values``)."""

    rt = _Rules()
    rb = rt.rb
    recs, inp, ctx = result.records, result.inward, result.context
    v: dict[str, np.ndarray] = {}
    fam = _text(recs["family"])
    amend = recs["amendment"].to_numpy(dtype=bool)
    p2b = recs["period_2b"].to_numpy(dtype="int64")
    rule = _text(recs["rule"])
    act = recs["act"].to_numpy()
    prev = recs["prev"].to_numpy()
    start, end = ctx.window
    as_of = np.datetime64(ctx.as_of, "D")
    cut = recs["cutoff_164"].to_numpy(dtype="datetime64[D]")
    flag = inp["pending_blocked"].to_numpy()

    # classification
    v["Family"] = fam
    v["Amendment"] = yn(amend)
    v["Period Index"] = p2b.astype(float)
    v["Period"] = iso(p2b)
    eras = np.array([periods.iso(e) for e in rb.eras], dtype=object)
    v["Era"] = eras[recs["era"].to_numpy()]
    v["In Window"] = yn(recs["current"].to_numpy(dtype=bool))
    down, up = recs["down"].to_numpy(dtype=bool), recs["up"].to_numpy(dtype=bool)
    v["Direction"] = np.where(down, "down", np.where(up, "up", "")).astype(object)
    consumed = recs["consumed"].to_numpy(dtype=bool)
    v["Consumed"] = yn(consumed)
    record_rule = _text(recs["record_rule"])
    v["Record Rule"] = record_rule
    v["Outside Rule"] = _text(recs["outside_rule"])
    v["Frozen"] = yn(recs["frozen"].to_numpy(dtype=bool))
    v["Rule"] = rule
    rows = rt.rows(np.array([f"{a}@{b}" for a, b in zip(rule, v["Era"])], dtype=object))
    v["Rule Row"] = np.array([float(x) if x != "" else "" for x in rows], dtype=object)
    kind = rt.rule_attr(rule, "kind")
    v["Kind"] = kind
    v["Act"] = LETTERS[act]
    v["Prev"] = LETTERS[prev]
    v["Pending State"] = yn(recs["pend_state"].to_numpy(dtype=bool))
    cols = np.array(["accept", "reject", "pending", "no_action"])
    cells = {c: rt.version_attr(rows, c) for c in cols}
    v["Action Cell"] = np.choose(np.minimum(act, 3), [cells[c] for c in cols])
    pend = cells["pending"]
    v["Pending Cell"] = pend
    deadline = recs["pending_deadline"].to_numpy(dtype="datetime64[D]")
    window_over = (pend == "W") & ~np.isnat(deadline) & (as_of > deadline)
    v["Window Over"] = yn(window_over)
    rule_code = rt.version_attr(rows, "code")
    v["Rule Code"] = rule_code
    ims = kind == "ims"
    state = np.isin(kind, ["not_in_ims", "frozen", "time_barred"])
    attempt = np.where(kind == "not_in_ims", act != N, act != prev)
    quiet = {c: rc.quiet for c, rc in rb.codes.items()}
    refusal = ims & (v["Action Cell"] == "N") & ~((act == P) & (flag != -1))
    sev = np.where(state, np.where(attempt, "error", [quiet.get(c, "") for c in rule_code]),
                   np.where(refusal, "error", ""))
    v["Rule Code Severity"] = np.where(rule_code == "", "", sev).astype(object)
    gstin = _text(inp["supplier_gstin"])
    v["GSTIN Expected"] = gstin_expected(pd.Series(gstin)).to_numpy(dtype=object)
    v["GSTIN OK"] = np.where(gstin == "", "", yn(~recs["gstin_bad"].to_numpy(dtype=bool))).astype(object)
    specified = recs["specified"].to_numpy(dtype=bool)
    v["Specified"] = yn(specified)
    may = ims & (rt.version_attr(rows, "declaration", "N") == "Y") & (act == A)
    v["May Declare"] = yn(may)
    v["Declaring"] = yn(may & (inp["declaration_blocked"].to_numpy() != 1))
    signed = document_amounts(inp, recs)
    for i, h in enumerate(HEADS):
        v[f"Signed {HEAD_LABEL[h]}"] = signed[:, i].astype(float)
    eh = recs["exceeds_head"].to_numpy()
    v["Declared Over"] = np.where(eh >= 0, np.array([HEAD_LABEL[h] for h in HEADS] + [""], dtype=object)[eh], "")
    remarks = pd.Series(_text(inp["remarks"]), dtype=object)
    v["Remarks Flat"] = remarks.str.translate(_FLAT).to_numpy(dtype=object)
    v["Remarks Length"] = remark_text(remarks).str.len().to_numpy(dtype=float)
    err = _lowest_bit_rank(recs["err_bits"].to_numpy())
    v["Error Rank"] = err
    v["Warning Rank"] = _lowest_bit_rank(recs["warn_bits"].to_numpy())
    v["Info Rank"] = _lowest_bit_rank(recs["info_bits"].to_numpy())
    first = np.where(err < NONE_RANK, err, np.where(v["Warning Rank"] < NONE_RANK, v["Warning Rank"], v["Info Rank"]))
    code_row = first.astype(object)
    code_row[first >= NONE_RANK] = ""
    v["Code Row"] = code_row
    v["Applied"] = LETTERS[recs["applied"].to_numpy()]
    choice = recs["reduction_choice"].to_numpy()
    v["Declaration Applies"] = yn(recs["decl_applies"].to_numpy(dtype=bool) & specified
                                  & ((choice == PARTIAL) | (choice == NIL)))
    for h in HEADS:
        v[f"Amount {HEAD_LABEL[h]}"] = recs[f"amount_{h}"].to_numpy(dtype=float)

    # what the user reads
    v["Status"] = _text(recs["status"])
    v["Reason Code"] = _text(recs["primary_code"])
    v["Message"] = messages(result).to_numpy(dtype=object)
    v["Effective Action"] = _text(recs["effective_action"])
    v["In 2B"] = yn(recs["in_2b"].to_numpy(dtype=bool))
    bucket = _text(recs["bucket"])
    v["2B Bucket"] = np.where(bucket == "none", "", bucket).astype(object)
    v["3B Table"] = _text(recs["gstr3b_table"])
    for h in HEADS:
        v[f"ITC {HEAD_LABEL[h]}"] = recs[f"itc_{h}"].to_numpy(dtype=float)
    v["Pending Deadline"] = serial(deadline)
    v["16(4) Cut-off"] = serial(cut)
    v["IMS State"] = ims_state(result).astype(object)

    missing = [h for h in headers if h not in v]
    if missing:
        raise KeyError(f"no cached value for {missing}")
    return pd.DataFrame({h: v[h] for h in headers}, index=recs.index)


def outward_values(result, headers: list[str]) -> pd.DataFrame:
    """Every Outward computed column (see ``outward.cached_values``)."""
    out_df, ocl = result.outward, result.outward_records
    if out_df is None or ocl is None or not len(out_df):
        return pd.DataFrame({h: pd.Series(dtype=object) for h in headers})
    rt = _Rules()
    v: dict[str, np.ndarray] = {}
    fam = _text(ocl["family"])
    amend = ocl["amendment"].to_numpy(dtype=bool)
    p2b = ocl["period_2b"].to_numpy(dtype="int64")
    down, up = ocl["down"].to_numpy(dtype=bool), ocl["up"].to_numpy(dtype=bool)
    consumed = ocl["consumed"].to_numpy(dtype=bool)
    cut = ocl["cutoff_164"].to_numpy(dtype="datetime64[D]")
    v["Family"] = fam
    v["Amendment"] = yn(amend)
    v["Period Index"] = p2b.astype(float)
    v["Direction"] = np.where(down, "down", np.where(up, "up", "")).astype(object)
    v["Consumed"] = yn(consumed)
    v["16(4) Cut-off"] = serial(cut)
    v["Record Rule"] = _text(ocl["record_rule"])
    v["Outside Rule"] = _text(ocl["outside_rule"])
    rule = _text(ocl["rule"])
    v["Rule"] = rule
    v["Kind"] = rt.rule_attr(rule, "kind")
    n = len(out_df)
    kind_of = np.full(n, "", dtype=object)
    period = np.full(n, "", dtype=object)
    table = np.full(n, "", dtype=object)
    amounts = {c: np.zeros(n) for c in ("taxable_value", *HEADS)}
    pos = {int(r): i for i, r in enumerate(out_df["row"].to_numpy())}
    action = _text(out_df["recipient_action"])
    for rec in result.liability.itertuples(index=False):
        i = pos[int(rec.row)]
        kind_of[i] = "Add-back" if action[i] == "Rejected" else "Reversal"
        period[i] = rec.gstr3b_period
        table[i] = rec.gstr3b_table
        for c in amounts:
            amounts[c][i] = float(getattr(rec, c))
    v["Add-back"] = kind_of
    v["Add-back Period"] = period
    v["Add-back Table"] = table
    v["Add-back Taxable"] = amounts["taxable_value"]
    for h in HEADS:
        v[f"Add-back {HEAD_LABEL[h]}"] = amounts[h]
    missing = [h for h in headers if h not in v]
    if missing:
        raise KeyError(f"no cached value for {missing}")
    return pd.DataFrame({h: v[h] for h in headers}, index=out_df.index)
