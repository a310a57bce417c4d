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
from ims_excel.engine.classify import A, N, P, R, RuleArrays
from ims_excel.engine.context import Context
from ims_excel.records import HEADS
from ims_excel.rules import RuleBook

EFFECTIVE = np.array(["Accepted", "Rejected", "Pending", "Deemed Accepted"], dtype=object)
NOT_IN_IMS = "Not in IMS"
STATUS = np.array(["ok", "info", "warning", "error"], dtype=object)


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
        np.bitwise_or(target, np.where(mask, bit[code], 0), out=target)

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
    not_in_ims = kind == "not_in_ims"
    for c in np.unique(code[not_in_ims | (kind == "frozen") | (kind == "time_barred")]):
        rc = rb.codes[c]
        on = code == c
        attempt = (act != N) if kind[on][0] == "not_in_ims" else changed
        add(on & attempt, c, "error")
        add(on & ~attempt, c, rc.quiet)
    ims = kind == "ims"

    # --- the decision-table cell for the chosen action
    cell = ra.cells[ridx, era, np.minimum(act, 3)]
    pend_cell = ra.cells[ridx, era, P]
    spec_p2b = cl["period_2b"].to_numpy()
    window = (pend_cell == "W")
    p_deadline = np.where(window, deadlines.pending_deadline(spec_p2b, ctx.frequency, ctx.state),
                          deadlines.NAT)
    window_over = window & (as_of > p_deadline)
    flag = df["pending_blocked"].to_numpy()
    local_pending_ok = ((pend_cell == "Y") | (pend_cell == "F") | (window & ~window_over))
    flag_known = flag != -1
    pending = act == P
    # refusals by the local table, except Pending where the portal flag speaks
    local_refusal = ims & (cell == "N") & ~(pending & flag_known)
    for c in np.unique(code[local_refusal]):
        add(local_refusal & (code == c), c, "error")
    add(ims & pending & window_over & ~flag_known, "PEND_WINDOW_OVER", "error")
    add(ims & pending & (flag == 1), "PEND_BLOCKED_PORTAL", "error")
    add(ims & flag_known & (local_pending_ok != (flag == 0)), "PEND_FLAG_DISAGREES", "warning")
    near = ims & pending & window & ~window_over & (p_deadline - as_of <= warn_days)
    add(near, "PEND_DEADLINE_NEAR", "warning")
    cut = cl["cutoff_164"].to_numpy(dtype="datetime64[D]")
    add(ims & pending & ~np.isnat(cut) & (cut >= as_of) & (cut - as_of <= warn_days),
        "CUTOFF_164_NEAR", "warning")

    # --- declarations (G9, D30)
    red = df["itc_reduction"].astype(object).to_numpy()
    declared = np.column_stack([df[f"declared_{h}"].to_numpy(dtype=float) for h in HEADS])
    has_decl = (red != "") | (declared > 0).any(axis=1)
    may_declare = ims & ra.decl[ridx, era] & (act == A)
    blocked = df["declaration_blocked"].to_numpy() == 1
    add(ims & has_decl & ~may_declare, "DECL_NOT_APPLICABLE", "error")
    add(may_declare & blocked & has_decl, "DECL_BLOCKED", "error")
    required_from = rb.period_param("declaration_required_from")
    add(may_declare & ~blocked & (red == "") & changed & (ctx.return_period >= required_from),
        "DECL_REQUIRED", "error")
    partial = may_declare & ~blocked & (red == "Partial")
    exceeds = partial[:, None] & (declared > reduction + 0.005)
    add(exceeds.any(axis=1), "DECL_EXCEEDS", "error")
    add(partial & (np.abs(declared[:, 1] - declared[:, 2]) > 0.005), "DECL_CGST_NE_SGST", "warning")
    remarks = df["remarks"].astype(object)
    no_remark = (remarks.fillna("").astype(str).str.strip() == "").to_numpy()
    add(may_declare & ~blocked & ((red == "Partial") | (red == "No")) & no_remark,
        "DECL_NO_REMARK", "warning")

    # --- data checks
    override = df["gstin_override"].to_numpy() == 1
    bad_gstin = cl["gstin_bad"].to_numpy()
    add(bad_gstin & ~override, "GSTIN_CHECK_DIGIT", "error")
    add(bad_gstin & override, "GSTIN_OVERRIDDEN", "warning")
    max_len = int(rb.param("remarks_max_length"))
    add((remarks.fillna("").astype(str).str.len() > max_len).to_numpy(), "REMARKS_TOO_LONG", "error")
    add(~cl["filed"].to_numpy(), "NOT_FILED", "info")

    # --- status, primary code
    status = np.where(err != 0, 3, np.where(warn != 0, 2, np.where(info != 0, 1, 0)))
    worst = np.where(err != 0, err, np.where(warn != 0, warn, info))
    primary = np.full(n, "", dtype=object)
    for c in reversed(list(rb.codes)):  # first in precedence wins: apply it last
        primary = np.where((worst & bit[c]) != 0, c, primary)

    # --- effective action (what the portal keeps)
    is_error = err != 0
    applied = np.where(is_error, prev, act)
    applied = np.where(applied > N, N, applied)  # Pre-IMS as a previous action means none here
    expired = (applied == P) & ims & ((window_over & (flag != 0)) | (flag == 1))
    applied = np.where(expired, N, applied)
    effective = EFFECTIVE[applied]
    gone = not_in_ims | (kind == "time_barred")
    effective = np.where(gone, NOT_IN_IMS, effective)

    out = pd.DataFrame(index=df.index)
    out["status"] = STATUS[status]
    out["primary_code"] = primary
    out["err_bits"], out["warn_bits"], out["info_bits"] = err, warn, info
    out["effective_action"] = effective
    out["applied"] = applied
    out["decl_applies"] = may_declare & ~is_error & ~blocked
    out["pending_deadline"] = np.where(
        window, p_deadline,
        np.where(ims & (pend_cell == "Y"), cut, deadlines.NAT)).astype("datetime64[D]")
    out["next_period"] = deadlines.next_tax_period(spec_p2b, ctx.frequency)
    out["exceeds_head"] = np.where(exceeds.any(axis=1), exceeds.argmax(axis=1), -1)
    return out


def codes_of(row_bits: tuple[int, int, int], rb: RuleBook) -> list[str]:
    """The reason codes set in one record's masks, in precedence order."""
    err, warn, info = row_bits
    return [c for c, rc in rb.codes.items() if (err | warn | info) >> rc.bit & 1]


__all__ = ["validate", "codes_of", "EFFECTIVE", "NOT_IN_IMS", "R"]
