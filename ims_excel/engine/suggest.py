"""Suggested action per IMS record from its match with the books, with a one-line reason.

Issue 11. The policy is data (``rules/reconcile.yaml``, ``policy``): per match status, options tried in
order. An option is suggested only if the engine's own validation (classify + validate, rulebook
section 3: decision table D1-D30, G8 pending window, G9 declarations, G11 portal flag) raises no error
for it on that record - so a suggestion is never an action the engine would refuse. The options of all
records are checked together, one pass per option position (vectorised).

No suggestion for records already actioned (any typed Action, "No Action" included), frozen (D25) or
outside IMS (D18-D24, D26, D28, D29), and for ``probable`` matches (a person confirms them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine import amounts
from ims_excel.engine.classify import KINDS, RuleArrays, classify
from ims_excel.engine.context import Context
from ims_excel.engine.reconcile import Match
from ims_excel.engine.validation import validate
from ims_excel.records import ACTIONS, INWARD_COLUMNS, categories
from ims_excel.rules import reconcile_policy, rulebook

_ACTION_CATS = categories(next(c for c in INWARD_COLUMNS if c.name == "Action"))
_REDUCTION_CATS = categories(next(c for c in INWARD_COLUMNS if c.name == "ITC Reduction"))
REMARK_MAX = 250


def parse_option(option: str) -> tuple[str, str, bool]:
    """``"Accept with ITC Reduction Full"`` -> ("Accept", "Full", False); ``"Reject with remark"`` ->
    ("Reject", "", True).

    >>> parse_option("Accept with ITC Reduction Full"), parse_option("Pending with remark")
    (('Accept', 'Full', False), ('Pending', '', True))
    """
    parts = [p.strip() for p in option.split(" with ")]
    reduction = next((p.split()[-1] for p in parts[1:] if p.lower().startswith("itc reduction")), "")
    remark = any(p.lower() == "remark" for p in parts[1:])
    return parts[0], reduction, remark


def check(inward: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The engine's verdict on the actions in ``inward``: classify + validate, as :func:`evaluate` runs
    them (``err_bits``, ``primary_code``, ``rule``, ``pending_deadline``, ``kind``)."""
    rb = rulebook()
    ra = RuleArrays.build(rb)
    cl = classify(inward, ctx, rb, ra)
    signed = amounts.document_amounts(inward, cl)
    reduction = amounts.full_reduction(signed, ra.specified[cl["rule_idx"].to_numpy()])
    val = validate(inward, cl, ctx, rb, ra, reduction)
    return pd.DataFrame({"err_bits": val["err_bits"].to_numpy(), "primary_code": val["primary_code"],
                         "rule": cl["rule"], "kind": ra.kind[cl["rule_idx"].to_numpy()],
                         "pending_deadline": val["pending_deadline"].to_numpy()}, index=inward.index)


def suggest(inward: pd.DataFrame, ctx: Context, m: Match, books: pd.DataFrame | None = None) -> pd.DataFrame:
    """Columns ``suggested_action`` (Accept / Reject / Pending / ''), ``suggested_itc_reduction``,
    ``suggested_remarks`` and ``suggestion_reason`` for every IMS record (``inward``'s order)."""
    policy = reconcile_policy()
    n = len(inward)
    status = m.ims["status"].astype(str).to_numpy(dtype=object)
    options = {row["status"]: [parse_option(o) for o in row["options"]] for row in policy["policy"]}
    base = check(inward, ctx)
    typed = inward["action"].astype(str).to_numpy(dtype=object) != ""
    in_ims = base["kind"].to_numpy() == KINDS.index("ims")
    eligible = ~typed & in_ims
    remark_text = _remarks(m, policy)
    user_remark = inward["remarks"].astype(str).str.strip().to_numpy(dtype=object) != ""
    may_remark = (inward["remarks_blocked"].to_numpy() != 1) & ~user_remark

    chosen_action = np.full(n, "", dtype=object)
    chosen_red = np.full(n, "", dtype=object)
    chosen_remark = np.full(n, "", dtype=object)
    chosen_rule = np.full(n, "", dtype=object)
    deadline = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    refused = np.full(n, "", dtype=object)  # first refused option: "Pending refused (PEND_WINDOW_OVER)"
    refused_action = np.full(n, "", dtype=object)
    decided = np.zeros(n, dtype=bool)
    depth = max((len(v) for v in options.values()), default=0)
    for k in range(depth):
        act = np.full(n, "", dtype=object)
        red = np.full(n, "", dtype=object)
        rem = np.full(n, "", dtype=object)
        for st, opts in options.items():
            if k >= len(opts):
                continue
            a, r, with_remark = opts[k]
            on = (status == st) & eligible & ~decided
            act[on], red[on] = a, r
            if with_remark:
                rem[on & may_remark] = remark_text[on & may_remark]
        trying = act != ""
        if not trying.any():
            continue
        frame = inward.assign(
            action=pd.Categorical(act, categories=_ACTION_CATS),
            itc_reduction=pd.Categorical(np.where(trying, red, inward["itc_reduction"].astype(str)),
                                         categories=_REDUCTION_CATS),
            remarks=np.where(trying & (rem != ""), rem, inward["remarks"].to_numpy(dtype=object)))
        verdict = check(frame, ctx)
        ok = trying & (verdict["err_bits"].to_numpy() == 0)
        chosen_action[ok], chosen_red[ok], chosen_remark[ok] = act[ok], red[ok], rem[ok]
        chosen_rule[ok] = verdict["rule"].astype(str).to_numpy(dtype=object)[ok]
        deadline[ok] = verdict["pending_deadline"].to_numpy(dtype="datetime64[D]")[ok]
        first_no = trying & ~ok & (refused == "")
        refused[first_no] = (pd.Series(act[first_no]) + " refused ("
                             + verdict["primary_code"].astype(str).to_numpy(dtype=object)[first_no] + ")").to_numpy()
        refused_action[first_no] = act[first_no]
        decided |= ok
    # a refusal worth telling: of another action than the one suggested (not "Accept with a declaration")
    refused = np.where((refused_action != "") & (refused_action == chosen_action), "", refused)

    reason = _reasons(inward, m, books, status, chosen_action, chosen_red, chosen_rule, deadline, refused,
                      typed, in_ims, base)
    return pd.DataFrame({"suggested_action": chosen_action, "suggested_itc_reduction": chosen_red,
                         "suggested_remarks": chosen_remark, "suggestion_reason": reason}, index=inward.index)


def _remarks(m: Match, policy: dict) -> np.ndarray:
    status = m.ims["status"].astype(str).to_numpy(dtype=object)
    out = np.full(len(status), "", dtype=object)
    texts = policy.get("remarks", {})
    mis = status == "mismatch"
    if "mismatch" in texts and mis.any():
        out[mis] = [texts["mismatch"].replace("{differences}", d)[:REMARK_MAX]
                    for d in m.ims["differs"].to_numpy(dtype=object)[mis]]
    if "missing_in_books" in texts:
        out[status == "missing_in_books"] = texts["missing_in_books"][:REMARK_MAX]
    return out


def _books_ref(books: pd.DataFrame | None, pos: np.ndarray) -> np.ndarray:
    """``"books row 12 (purchases.csv)"`` for each position (-1: '')."""
    out = np.full(len(pos), "", dtype=object)
    has = pos >= 0
    if books is None or not has.any():
        out[has] = pd.Series(pos[has] + 1).map("books row {}".format).to_numpy(dtype=object)
        return out
    rows = books["source_row"].to_numpy()[pos[has]]
    files = books["book_file"].to_numpy(dtype=object)[pos[has]] if "book_file" in books else None
    text = "books row " + pd.Series(rows).astype(str)
    if files is not None:
        text = text + " (" + pd.Series(files, dtype=object).astype(str) + ")"
    out[has] = text.to_numpy(dtype=object)
    return out


def _reasons(inward, m, books, status, action, red, rule, deadline, refused, typed, in_ims, base) -> np.ndarray:
    n = len(inward)
    ref = _books_ref(books, m.ims["books_pos"].to_numpy())
    differs = m.ims["differs"].to_numpy(dtype=object)
    S = lambda a: pd.Series(a, dtype=object)  # noqa: E731
    what = np.select(
        [status == "matched", status == "matched_within_tolerance", status == "mismatch",
         status == "missing_in_books"],
        [(S(["matches "] * n) + S(ref)).to_numpy(),
         (S(["matches "] * n) + S(ref) + " within tolerance (" + S(differs) + ")").to_numpy(),
         (S(["differs from "] * n) + S(ref) + ": " + S(differs)).to_numpy(),
         np.full(n, "not in the purchase register", dtype=object)], default="")
    label = S(action) + np.where(red != "", " with ITC Reduction " + S(red), "")
    dl = pd.Series(deadline).dt.strftime("%d-%m-%Y").fillna("")
    until = np.where((action == "Pending") & (dl != ""), " until " + dl, "")
    extra = np.where(refused != "", "; " + S(refused), "")
    good = (label + ": " + S(what) + "; rule " + S(rule) + " allows " + S(action) + S(until) + S(extra)).to_numpy(
        dtype=object)
    out = np.where(action != "", good, "")
    # no suggestion: say why
    probable = status == "probable"
    score = m.ims["score"].to_numpy()
    prob = ("review: probable match with " + S(ref) + " (score " + pd.Series(score).round(0).astype(int).astype(str)
            + np.where(S(differs) != "", "; " + S(differs), "") + ")").to_numpy(dtype=object)
    kind = base["kind"].to_numpy()
    base_rule = base["rule"].astype(str).to_numpy(dtype=object)
    state = np.where(kind == KINDS.index("frozen"), "frozen", np.where(
        kind == KINDS.index("time_barred"), "time-barred", "not an IMS record"))
    outside = ("no suggestion: " + S(state) + " (rule " + S(base_rule) + ")").to_numpy(dtype=object)
    actioned = ("no suggestion: already actioned (" + inward["action"].astype(str).astype(object) + ")").to_numpy(
        dtype=object)
    refused_all = ("review: " + S(what) + "; no policy option is allowed (" + S(refused) + ")").to_numpy(dtype=object)
    out = np.where(action != "", out,
                   np.where(typed, actioned,
                            np.where(~in_ims, outside, np.where(probable, prob, refused_all))))
    return out.astype(object)


__all__ = ["suggest", "check", "parse_option", "ACTIONS"]
