"""Suggested action per IMS record from its match with the books, with a one-line reason.

Issue 11. The policy is data: per match status, options tried in order - the match's
:class:`~ims_excel.engine.reconcile.Settings` ``policy`` (a workbook's Config sheet), by default
``rules/reconcile.yaml``'s ``policy``. An option is suggested only if the engine's own validation
(classify + validate, rulebook section 3: decision table D1-D30, G8 pending window, G9 declarations,
G11 portal flag) raises no error for it on that record - so a suggestion is never an action the engine
would refuse. The options of all records are checked together, one pass per option position
(vectorised).

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
from ims_excel.engine.validation import remark_text, validate
from ims_excel.records import ACTIONS, INWARD_COLUMNS, categories
from ims_excel.rules import reconcile_policy, rulebook

_ACTION_CATS = categories(next(c for c in INWARD_COLUMNS if c.name == "Action"))
_REDUCTION_CATS = categories(next(c for c in INWARD_COLUMNS if c.name == "ITC Reduction"))
REMARK_MAX = int(rulebook().param("remarks_max_length"))
"""Suggested remarks are cut to the portal's limit: parameters.yaml ``remarks_max_length`` (G10), the one place."""


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


def suggest(inward: pd.DataFrame, ctx: Context, m: Match, books: pd.DataFrame | None = None,
            policy: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """Columns ``suggested_action`` (Accept / Reject / Pending / ''), ``suggested_itc_reduction``,
    ``suggested_remarks`` and ``suggestion_reason`` for every IMS record (``inward``'s order).

    ``policy``: {match status: options tried left to right}; default the match's settings' policy (the
    workbook's Config, else ``reconcile.yaml``)."""
    data = reconcile_policy()
    n = len(inward)
    status = m.ims["status"].astype(str).to_numpy(dtype=object)
    chosen_policy = m.settings.policy if policy is None else {**m.settings.policy, **policy}
    options = {st: [parse_option(o) for o in opts] for st, opts in chosen_policy.items()}
    base = check(inward, ctx)
    typed = inward["action"].astype(str).to_numpy(dtype=object) != ""
    in_ims = base["kind"].to_numpy() == KINDS.index("ims")
    eligible = ~typed & in_ims
    proposed_remark = _remarks(m, data)
    user_remark = remark_text(inward["remarks"]).to_numpy(dtype=object) != ""  # G10: whitespace only = none
    may_remark = (inward["remarks_blocked"].to_numpy() != 1) & ~user_remark

    chosen_action = np.full(n, "", dtype=object)
    chosen_red = np.full(n, "", dtype=object)
    chosen_remark = np.full(n, "", dtype=object)
    chosen_rule = np.full(n, "", dtype=object)
    deadline = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    refused = np.full(n, "", dtype=object)  # the first option refused: its action and the engine's code
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
                rem[on & may_remark] = proposed_remark[on & may_remark]
        idx = np.flatnonzero(act != "")
        if not len(idx):
            continue
        # the engine's verdict on the records that try this option (rows are independent)
        sub = inward.iloc[idx]
        frame = sub.assign(
            action=pd.Categorical(act[idx], categories=_ACTION_CATS),
            itc_reduction=pd.Categorical(red[idx], categories=_REDUCTION_CATS),
            remarks=np.where(rem[idx] != "", rem[idx], sub["remarks"].to_numpy(dtype=object)))
        verdict = check(frame, ctx)
        ok_sub = verdict["err_bits"].to_numpy() == 0
        ok, no = idx[ok_sub], idx[~ok_sub]
        chosen_action[ok], chosen_red[ok], chosen_remark[ok] = act[ok], red[ok], rem[ok]
        chosen_rule[ok] = verdict["rule"].astype(str).to_numpy(dtype=object)[ok_sub]
        deadline[ok] = verdict["pending_deadline"].to_numpy(dtype="datetime64[D]")[ok_sub]
        first_no = no[refused[no] == ""]
        codes = verdict["primary_code"].astype(str).to_numpy(dtype=object)[~ok_sub][refused[no] == ""]
        refused[first_no] = codes
        refused_action[first_no] = act[first_no]
        decided[ok] = True
    # a refusal worth telling: of another action than the one suggested (not "Accept with a declaration")
    refused = np.where((refused_action != "") & (refused_action != chosen_action), refused, "")
    refused_action = np.where(refused != "", refused_action, "")
    reason = _reasons(inward, m, books, status, chosen_action, chosen_red, chosen_rule, deadline, refused,
                      refused_action, typed, in_ims, base)
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
    has = np.flatnonzero(pos >= 0)
    if not len(has):
        return out
    p = pos[has]
    if books is None:
        out[has] = [f"books row {r}" for r in (p + 1).tolist()]
        return out
    rows = books["source_row"].to_numpy()[p].tolist()
    if "book_file" in books:
        files = books["book_file"].astype(str).to_numpy(dtype=object)[p].tolist()
        out[has] = [f"books row {r} ({f})" for r, f in zip(rows, files)]
    else:
        out[has] = [f"books row {r}" for r in rows]
    return out


_WHAT = {
    "matched": ("matches ", ""),
    "matched_within_tolerance": ("matches ", " within tolerance ("),
    "mismatch": ("differs from ", ": "),
    "missing_in_books": ("not in the purchase register", None),
    "probable": ("review: probable match with ", " ("),
}


def _reasons(inward, m, books, status, action, red, rule, deadline, refused, refused_action, typed, in_ims,
             base) -> np.ndarray:
    """One line per record. Built per distinct case (status, action, rule, refusal, deadline...) as
    ``head + books reference + middle + differences + tail``, so a million records join five arrays."""
    ref = _books_ref(books, m.ims["books_pos"].to_numpy())
    differs = m.ims["differs"].to_numpy(dtype=object)
    dl = pd.Series(deadline).dt.strftime("%d-%m-%Y").fillna("").to_numpy(dtype=object)
    score = np.round(m.ims["score"].to_numpy()).astype("int64")
    kind = base["kind"].to_numpy()
    case = pd.DataFrame({
        "status": status, "action": action, "red": red, "rule": rule, "refused": refused,
        "refused_action": refused_action, "until": np.where(action == "Pending", dl, ""),
        "typed": np.where(typed, inward["action"].astype(str).to_numpy(dtype=object), ""),
        "kind": np.where(typed | in_ims, -1, kind),
        "base_rule": np.where(typed | in_ims, "", base["rule"].astype(str).to_numpy(dtype=object)),
        "score": np.where(status == "probable", score, 0), "has_diff": differs != ""})
    group = case.groupby(list(case.columns), sort=False, observed=True, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(case))).groupby(group).min().sort_index().to_numpy()
    firsts = case.iloc[first]
    head, mid, tail, use_ref, use_diff = [], [], [], [], []
    for c in firsts.itertuples(index=False):
        h, md, t, r, d = _case_text(c)
        head.append(h), mid.append(md), tail.append(t), use_ref.append(r), use_diff.append(d)
    head, mid, tail = (np.array(x, dtype=object)[group] for x in (head, mid, tail))
    use_ref, use_diff = np.array(use_ref)[group], np.array(use_diff)[group]
    out = head + np.where(use_ref, ref, "") + mid + np.where(use_diff, differs, "") + tail
    return out.astype(object)


def _case_text(c) -> tuple[str, str, str, bool, bool]:
    """(head, middle, tail, uses the books reference, uses the differences) for one case."""
    if c.typed:
        return f"no suggestion: already actioned ({c.typed})", "", "", False, False
    if c.kind >= 0:
        state = {KINDS.index("frozen"): "frozen", KINDS.index("time_barred"): "time-barred"}.get(
            c.kind, "not an IMS record")
        return f"no suggestion: {state} (rule {c.base_rule})", "", "", False, False
    lead, middle = _WHAT.get(c.status, ("", None))
    diff_tail = ")" if c.status in ("matched_within_tolerance",) else ""
    if c.status == "probable":
        return (f"review: probable match with ", f" (score {c.score}" + ("; " if c.has_diff else ""), ")",
                True, c.has_diff)
    what_mid = middle if middle is not None else ""
    refusal = f"; {c.refused_action} refused ({c.refused})" if c.refused else ""
    if c.action:
        label = c.action + (f" with ITC Reduction {c.red}" if c.red else "")
        until = f" until {c.until}" if c.until else ""
        tail = f"{diff_tail}; rule {c.rule} allows {c.action}{until}{refusal}"
        return f"{label}: {lead}", what_mid, tail, middle is not None, middle is not None and c.has_diff
    return f"review: {lead}", what_mid, f"{diff_tail}; no policy option is allowed{refusal}", \
        middle is not None, middle is not None and c.has_diff


__all__ = ["suggest", "check", "parse_option", "ACTIONS"]
