"""Per-record validation: may the chosen action be taken, and what does the portal then do?

Implements shared/domain/ims-rules.md section 3 (G1-G11, D1-D30, the codes
of 3.3) on top of :func:`ims_excel.engine.classify.classify`:

* the decision-table cell of the chosen action decides (Y, N, W = G8 window,
  F = portal flag);
* the portal's ``Pending Blocked`` flag, when present, overrides the local
  Pending rule (G11); a disagreement is a warning;
* declarations (G9, D30) are checked only where an Accept may carry one;
* a refused action is not applied: the record keeps its previous action
  (none = deemed accepted; a pending record whose window is over is deemed
  accepted, Q5).

Every reason is a bit in one of three masks (error, warning, info); the
primary code is the first, in ``reason_codes.yaml`` order, of the record's
worst severity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine import deadlines
from ims_excel.engine.classify import F_, KINDS, N_, W_, Y_, A, N, P, R, RuleArrays
from ims_excel.vec import by_unique, labels
from ims_excel.engine.context import Context
from ims_excel.records import ACTIONS, HEADS
from ims_excel.rules import RuleBook

EFFECTIVE = np.array(["Accepted", "Rejected", "Pending", "Deemed Accepted"], dtype=object)
NOT_IN_IMS = "Not in IMS"
STATUS = np.array(["ok", "info", "warning", "error"], dtype=object)
REDUCTION = {"Full": 1, "Partial": 2, "No": 3}
"""ITC Reduction answers as codes; 0 = blank (no answer)."""
FULL, PARTIAL, NIL = 1, 2, 3


def validate(df: pd.DataFrame, cl: pd.DataFrame, ctx: Context, rb: RuleBook,
             ra: RuleArrays, reduction: np.ndarray) -> pd.DataFrame:
    """Validation columns for every record.

    ``reduction`` [n, 4] is the full ITC reduction per head of a specified
    record (what "Full" declares), used for DECL_EXCEEDS.
    """
    n = len(df)
    bit = {c: np.int64(1) << np.int64(rc.bit) for c, rc in rb.codes.items()}
    err = np.zeros(n, dtype="int64")
    warn = np.zeros(n, dtype="int64")
    info = np.zeros(n, dtype="int64")

    def add(mask: np.ndarray, code: str, severity: str) -> None:
        target = {"error": err, "warning": warn, "info": info}[severity]
        target |= np.where(mask, bit[code], 0)

    ridx = cl["rule_idx"].to_numpy()
    era = cl["era"].to_numpy()
    act = cl["act"].to_numpy()
    prev = cl["prev"].to_numpy()
    kind = ra.kind[ridx]
    changed = act != prev
    as_of = np.datetime64(ctx.as_of, "D")
    warn_days = np.timedelta64(int(rb.param("warning_days")), "D")

    # --- state rules: not in IMS, frozen, time-barred (codes that describe the record)
    code = ra.code[ridx, era]
    not_in_ims = kind == KINDS.index("not_in_ims")
    state = not_in_ims | (kind == KINDS.index("frozen")) | (kind == KINDS.index("time_barred"))
    attempt = np.where(not_in_ims, act != N, changed)
    for ci in np.flatnonzero(np.bincount(code[state] + 1, minlength=len(ra.code_names) + 1)[1:]):
        c = ra.code_names[ci]
        on = state & (code == ci)
        add(on & attempt, c, "error")
        add(on & ~attempt, c, rb.codes[c].quiet)
    ims = kind == KINDS.index("ims")

    # --- the decision-table cell for the chosen action
    cell = ra.cells[ridx, era, np.minimum(act, 3)]
    pend_cell = ra.cells[ridx, era, P]
    p2b = cl["period_2b"].to_numpy()
    window = pend_cell == W_
    p_codes, p_uniques = pd.factorize(p2b)
    p_deadline = np.where(window, deadlines.pending_deadline(p_uniques, ctx.frequency, ctx.state)[p_codes],
                          deadlines.NAT)
    window_over = window & (as_of > p_deadline)
    flag = df["pending_blocked"].to_numpy()
    local_pending_ok = (pend_cell == Y_) | (pend_cell == F_) | (window & ~window_over)
    flag_known = flag != -1
    pending = act == P
    # refusals by the local table, except Pending where the portal flag speaks
    local_refusal = ims & (cell == N_) & ~(pending & flag_known)
    for ci in np.flatnonzero(np.bincount(code[local_refusal] + 1, minlength=len(ra.code_names) + 1)[1:]):
        add(local_refusal & (code == ci), ra.code_names[ci], "error")
    add(ims & pending & window_over & ~flag_known, "PEND_WINDOW_OVER", "error")
    add(ims & pending & (flag == 1), "PEND_BLOCKED_PORTAL", "error")
    add(ims & flag_known & (local_pending_ok != (flag == 0)), "PEND_FLAG_DISAGREES", "warning")
    near = ims & pending & window & ~window_over & (p_deadline - as_of <= warn_days)
    add(near, "PEND_DEADLINE_NEAR", "warning")
    cut = cl["cutoff_164"].to_numpy(dtype="datetime64[D]")
    add(ims & pending & ~np.isnat(cut) & (cut >= as_of) & (cut - as_of <= warn_days),
        "CUTOFF_164_NEAR", "warning")

    # --- declarations (G9, D30)
    red = by_unique(df["itc_reduction"], REDUCTION, default=0, dtype="int8")
    declared = np.column_stack([df[f"declared_{h}"].to_numpy(dtype=float) for h in HEADS])
    has_decl = (red != 0) | (declared > 0).any(axis=1)
    may_declare = ims & ra.decl[ridx, era] & (act == A)
    blocked = df["declaration_blocked"].to_numpy() == 1
    add(ims & has_decl & ~may_declare, "DECL_NOT_APPLICABLE", "error")
    add(may_declare & blocked & has_decl, "DECL_BLOCKED", "error")
    required_from = rb.period_param("declaration_required_from")
    # amounts typed with no answer: refused rather than read as Full (issue 12.6d, INF)
    add(may_declare & ~blocked & (red == 0) & (declared > 0).any(axis=1), "DECL_AMOUNTS_NO_ANSWER", "error")
    # amounts typed with Full or No, which take none: refused rather than dropped (G9, 4.3; S20 sends values
    # only with a partial reduction; reason_codes.yaml DECL_AMOUNTS_NOT_PARTIAL)
    add(may_declare & ~blocked & ((red == FULL) | (red == NIL)) & (declared > 0).any(axis=1),
        "DECL_AMOUNTS_NOT_PARTIAL", "error")
    add(may_declare & ~blocked & (red == 0) & changed & (ctx.return_period >= required_from),
        "DECL_REQUIRED", "error")
    partial = may_declare & ~blocked & (red == PARTIAL)
    over = np.flatnonzero(partial)
    exceeds = declared[over] > reduction[over] + 0.005  # [partial rows, head]
    too_much = np.zeros(n, dtype=bool)
    too_much[over[exceeds.any(axis=1)]] = True
    add(too_much, "DECL_EXCEEDS", "error")
    add(partial & (np.abs(declared[:, 1] - declared[:, 2]) > 0.005), "DECL_CGST_NE_SGST", "warning")
    r_codes, r_uniques = pd.factorize(df["remarks"].to_numpy(dtype=object))
    # a remark counts as typed (Excel's LEN, the Remarks cell's length rule) and is blank when nothing but
    # spaces and control characters (Excel's TRIM(CLEAN())): G10, remark_length / remark_text
    uniq = pd.Series(r_uniques, dtype=object)
    remark_len = np.append(remark_length(uniq).to_numpy(dtype="int64"), 0)[r_codes]
    has_remark = np.append((remark_text(uniq) != "").to_numpy(dtype=bool), False)[r_codes]
    # no remark is asked for with a partial or nil reduction (Q9): remarks go with Reject or Pending only
    # in the offline upload (parameters.yaml remarks_with_action)

    # --- data checks
    override = df["gstin_override"].to_numpy() == 1
    bad_gstin = cl["gstin_bad"].to_numpy()
    add(bad_gstin & ~override, "GSTIN_CHECK_DIGIT", "error")
    add(bad_gstin & override, "GSTIN_OVERRIDDEN", "warning")
    add(has_remark & (remark_len > int(rb.param("remarks_max_length"))), "REMARKS_TOO_LONG", "error")
    # --- the portal round trip (issue 10): its error file, a supplier's change, a record gone from IMS
    portal_error = _text(df, "portal_error") != ""
    add(portal_error & (decision_fingerprint(df) == _text(df, "portal_error_for")), "PORTAL_ERROR", "error")
    add((_text(df, "supplier_change") != "") & (_text(df, "action") == ""), "SUPPLIER_CHANGED", "warning")
    add(gone_from_ims(df), "GONE_FROM_IMS", "info")
    add(~cl["filed"].to_numpy(), "NOT_FILED", "info")

    # --- effective action (what the portal keeps)
    is_error = err != 0
    applied = np.where(is_error, prev, act)
    applied = np.where(applied > N, N, applied)  # Pre-IMS as a previous action means none here
    expired = (applied == P) & ims & ((window_over & (flag != 0)) | (flag == 1))
    applied = np.where(expired, N, applied)

    # --- ITC this return claims although its GSTR-3B may be filed after the s.16(4) cut-off (section 7, INF):
    # accepted or deemed accepted into this GSTR-2B, ITC-increasing. A cut-off before the day this return's
    # GSTR-3B can first be filed (the day after its period ends) loses the ITC (CUTOFF_164_PASSED); one
    # between that day and the due date loses it unless the 3B is filed early (CUTOFF_164_BEFORE_DUE, 12.6b)
    this_return = np.array([ctx.return_period])
    due = deadlines.gstr3b_due(this_return, ctx.frequency, ctx.state)[0]
    opens = deadlines.gstr3b_opens(this_return, ctx.frequency)[0]
    claims = ims & ((applied == A) | (applied == N)) & cl["live"].to_numpy() & cl["filed"].to_numpy()
    claims &= ~cl["reduces"].to_numpy() & ~np.isnat(cut)
    add(claims & (cut < opens), "CUTOFF_164_PASSED", "warning")
    add(claims & (cut >= opens) & (cut < due), "CUTOFF_164_BEFORE_DUE", "warning")

    # --- a remark the default (offline) upload refuses with the action the portal keeps: parameters.yaml
    # remarks_with_action, the one place (G10; formats-and-market.md 10; utility v1.1: remarks only with R or P)
    add(ims & has_remark & (applied != N) & offline_drops_remark(rb)[applied], "REMARK_NOT_UPLOADED", "warning")

    # --- status, primary code (first in precedence among the worst severity)
    status = np.where(err != 0, 3, np.where(warn != 0, 2, np.where(info != 0, 1, 0)))
    worst = np.where(err != 0, err, np.where(warn != 0, warn, info))
    lowest = worst & -worst  # lowest set bit = first code in precedence order
    primary = labels(np.where(lowest == 0, 0, np.log2(np.maximum(lowest, 1)).round().astype("int64") + 1),
                     ["", *rb.codes])

    gone = not_in_ims | (kind == KINDS.index("time_barred"))
    effective = labels(np.where(gone, len(EFFECTIVE), applied), [*EFFECTIVE, NOT_IN_IMS])

    out: dict[str, object] = {}
    out["status"] = labels(status, STATUS)
    out["primary_code"] = primary
    out["err_bits"], out["warn_bits"], out["info_bits"] = err, warn, info
    out["effective_action"] = effective
    out["applied"] = applied
    out["decl_applies"] = may_declare & ~is_error & ~blocked
    out["reduction_choice"] = red
    out["pending_deadline"] = np.where(
        window, p_deadline, np.where(ims & (pend_cell == Y_), cut, deadlines.NAT)).astype("datetime64[D]")
    out["next_period"] = deadlines.next_tax_period(p2b, ctx.frequency)
    head = np.full(n, -1, dtype="int64")
    head[over] = np.where(exceeds.any(axis=1), exceeds.argmax(axis=1), -1)
    out["exceeds_head"] = head
    return pd.DataFrame(out, index=df.index)


REMARK_SPACE = " " + "".join(map(chr, range(32)))
"""What a remark may be made of and still be no remark: the space and the control characters 0-31 (tab,
line breaks), exactly what Excel's (and LibreOffice's) ``TRIM(CLEAN(x))`` removes, so the engine and the
workbook's ``REMARK_NOT_UPLOADED`` agree without a helper column. A non-breaking or other Unicode space
is text to both (and would be sent)."""


def remark_text(remarks: pd.Series) -> pd.Series:
    """The remark as the upload sends it (G10; formats-and-market.md 10): the text typed, stripped of
    :data:`REMARK_SPACE` at both ends (inner spaces kept as typed); ``""`` (no remark) for a blank cell or
    spaces, tabs and line breaks only. One rule for the engine (REMARK_NOT_UPLOADED needs it not blank),
    the workbook (``TRIM(CLEAN(Remarks))<>""``) and the upload.

    >>> remark_text(pd.Series([" wrong  rate ", "\\t \\n", "\\xa0", None])).tolist()
    ['wrong  rate', '', '\\xa0', '']
    """
    return _typed_text(remarks).str.strip(REMARK_SPACE)


def remark_length(remarks: pd.Series) -> pd.Series:
    """Characters of each remark as typed, what REMARKS_TOO_LONG compares with 250 (G10): Excel's
    ``LEN`` of the cell and its length rule count the same (spaces around included, so the text sent,
    :func:`remark_text`, is never longer), except for characters beyond the Basic Multilingual Plane
    (emoji), which Excel counts as two and Python as one (how the portal counts them is not known).

    >>> remark_length(pd.Series(["ab ", None])).tolist()
    [3, 0]
    """
    return _typed_text(remarks).str.len()


def _typed_text(remarks: pd.Series) -> pd.Series:
    """Each remark cell as text, a blank one as ``""``."""
    s = pd.Series(remarks, dtype=object)
    return s.where(s.notna(), "").astype(str)


def offline_drops_remark(rb: RuleBook) -> np.ndarray:
    """[4] bool by action code (A, R, P, N): the offline upload does not carry a remark with that action.

    From parameters.yaml ``remarks_with_action`` ``offline`` (G10; formats-and-market.md 10), the list the
    upload's route table reads too; No Action sends no remark (not a refusal) and is masked by the caller.
    """
    carried = set(rb.param("remarks_with_action", "offline"))
    out = np.zeros(4, dtype=bool)
    for letter, i in (("A", A), ("R", R), ("P", P), ("N", N)):
        out[i] = ACTIONS[letter] not in carried
    return out


def _text(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df:
        return np.full(len(df), "", dtype=object)
    s = df[name]
    return s.astype(object).where(s.notna(), "").astype(str).to_numpy(dtype=object)


def gone_from_ims(df: pd.DataFrame) -> np.ndarray:
    """Gone From IMS = Y: a newer complete IMS download no longer has the record (G3, a deleted saved record)."""
    if "gone_from_ims" not in df:
        return np.zeros(len(df), dtype=bool)
    return df["gone_from_ims"].to_numpy() == 1


def decision_fingerprint(df: pd.DataFrame) -> np.ndarray:
    """``Action|ITC Reduction|Declared IGST|CGST|SGST|Cess|Remarks`` (amounts as ``0.00``) of each row.

    Stored in *Portal Error For* when the portal's error file is imported; the
    error counts (PORTAL_ERROR) while the row's decision is the same, i.e. until
    the user changes it. The workbook formula builds the same text.
    """
    return (_text(df, "action") + "|" + declaration_part(df)).astype(object)


def declaration_part(df: pd.DataFrame) -> np.ndarray:
    """``ITC Reduction|Declared IGST|CGST|SGST|Cess|Remarks`` (amounts as ``0.00``) of each row: what goes
    with the action (rulebook G9 declaration, G10 remarks); :func:`decision_fingerprint` without the action.

    Stored in *Portal Declaration* from a portal download (what the portal holds), so the upload can send
    a record whose action is unchanged but whose declaration or remark is not (``upload_json``).
    """
    out = pd.Series(_text(df, "itc_reduction"), index=df.index, dtype=object)
    for h in HEADS:
        col = f"declared_{h}"
        v = (pd.to_numeric(df[col], errors="coerce").fillna(0.0) if col in df
             else pd.Series(0.0, index=df.index)) + 0.0
        out = out + "|" + v.map("{:.2f}".format)
    return (out + "|" + _text(df, "remarks")).to_numpy(dtype=object)


DECLARATION_UNKNOWN = "unknown"
"""*Portal Declaration* of a record whose last download cannot tell what the portal holds from what the user
typed (the IMS offline tool's Excel: its Status, ITC-reduction and Remarks columns are the user's to edit,
formats-and-market.md 1 row 8, 2.1): the upload then sends the record's declaration and remark whenever they
are not blank (``upload_json``), as a remark typed in the tool must reach the portal (G10). Blank stays "no
download yet": never a change."""
NO_DECLARATION = declaration_part(pd.DataFrame(index=[0]))[0]
""":func:`declaration_part` of a row with no ITC answer, declared amount or remark (``|0.00|0.00|0.00|0.00|``):
what an ``unknown`` *Portal Declaration* is compared as (``upload_json``) and the tool's blank declaration
(``book.merge``)."""


def codes_of(row_bits: tuple[int, int, int], rb: RuleBook) -> list[str]:
    """The reason codes set in one record's masks, in precedence order."""
    err, warn, info = row_bits
    return [c for c, rc in rb.codes.items() if (err | warn | info) >> rc.bit & 1]


__all__ = ["validate", "codes_of", "decision_fingerprint", "declaration_part", "DECLARATION_UNKNOWN", "NO_DECLARATION", "gone_from_ims", "EFFECTIVE",
           "REMARK_SPACE", "remark_text", "remark_length",
           "NOT_IN_IMS", "R"]
