"""Match IMS records with the purchase register (the client's books): vectorised, one-to-one, deterministic.

Issue 11; how others do it: shared/domain/formats-and-market.md section 11 (GSTN's matching tool:
exact on GSTIN + type + number + date + amounts; india-compliance: exact, then GSTIN-level fuzzy with
the bill number cleaned of separators, leading zeros and year parts, then PAN-level).

Key
    supplier GSTIN, document family (invoice / debit note / credit note / Bill of Entry, ISD), the
    normalised document number (:func:`normalise_numbers`) and the financial year of the document date.
    The raw numbers stay as they are in both frames.

Steps
    1. *Exact*: rows with the same key pair off in order - the k-th IMS record of a key (by row)
       with the k-th books row (by file, then row). Books rows of a key beyond its IMS records are
       ``duplicate_in_books`` (the first of a key without any IMS record is left for step 2).
       A pair whose taxable value, heads and date all agree is ``matched``; all within the
       tolerances (:class:`Settings`) ``matched_within_tolerance``; else ``mismatch``.
    2. *Probable* (only what step 1 left over): same PAN and family, taxable value and every head
       within tolerance, and either the same GSTIN with a normalised number whose rapidfuzz ratio is
       at least ``min_score``, or another GSTIN of the same PAN (whatever the number). Candidates are
       taken greedily in this documented order: higher score, same GSTIN first, smaller date gap,
       smaller amount gap, lower IMS row, lower books position.
    3. Left over: ``missing_in_books`` (IMS side) and ``missing_in_ims`` (books side).

>>> normalise_numbers(pd.Series(["GST/0007", "gst-7", "INV 12/25-26", "2025-26/INV.12", "A_0.1", "25-26"])).tolist()
['GST7', 'GST7', 'INV12', 'INV12', 'A01', '2526']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from ims_excel.engine.classify import FAMILY
from ims_excel.rules import NEVER_SUGGESTED, POLICY_GRAMMAR, policy_option, reconcile_policy
from ims_excel.vec import labels

FIELDS = ("taxable_value", "igst", "cgst", "sgst", "cess")
"""Amount fields compared, in the order differences are reported."""
FIELD_LABEL = {"taxable_value": "taxable value", "igst": "IGST", "cgst": "CGST", "sgst": "SGST",
               "cess": "Cess", "date": "date"}

IMS_STATUSES = ("matched", "matched_within_tolerance", "probable", "mismatch", "missing_in_books")
BOOKS_STATUSES = ("matched", "matched_within_tolerance", "probable", "mismatch", "missing_in_ims",
                  "duplicate_in_books")
MATCHED, WITHIN, PROBABLE, MISMATCH, MISSING = range(5)
DUPLICATE = 5

# document family for matching: an ECO document is an invoice (issued by the operator), amendments
# fall in their original's family
_MATCH_FAMILY = {"INV": 0, "ECO": 0, "DN": 1, "CN": 2, "BOE": 3, "ISD": 4}
SECTION_FAMILY = {s: _MATCH_FAMILY[f] for s, f in FAMILY.items()}

_FY_PREFIX = re.compile(r"^(?:20\d{2}|\d{2})-(?:20)?\d{2}\s*/\s*(?=.)")
_FY_SUFFIX = re.compile(r"(?<=.)\s*/\s*(?:20\d{2}|\d{2})-(?:20)?\d{2}$")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")
_SEPARATORS = str.maketrans("", "", " \t/-_.")


def default_policy() -> dict[str, tuple[str, ...]]:
    """The suggestion policy of ``rules/reconcile.yaml``: {match status: options tried left to right}."""
    return {row["status"]: tuple(row["options"]) for row in reconcile_policy()["policy"]}


POLICY_STATUSES = tuple(default_policy())
"""The match statuses the policy has a row for (``reconcile.yaml``'s order)."""

EDITABLE_STATUSES = tuple(s for s in POLICY_STATUSES if s not in NEVER_SUGGESTED)
"""Those a firm may give options (the Config sheet's policy cells); a probable match never gets one."""


@dataclass(frozen=True)
class Settings:
    """Tolerances (rupees per field; days for the date), the fuzzy threshold and the suggestion policy
    ({match status: options tried left to right}, :func:`ims_excel.engine.suggest.suggest`).

    Defaults come from ``rules/reconcile.yaml``; a workbook's Config sheet (the reconciliation section,
    :func:`ims_excel.book.reconcile.settings_from_config`) and the CLI flags override them. A status the
    given ``policy`` leaves out keeps the YAML's options.
    """

    tolerance: dict[str, float] = field(default_factory=dict)
    date_days: int = -1
    min_score: float = -1.0
    policy: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = reconcile_policy()
        tol = {f: float(data["tolerance"][f]) for f in FIELDS}
        tol.update({k: float(v) for k, v in self.tolerance.items()})
        object.__setattr__(self, "tolerance", tol)
        if self.date_days < 0:
            object.__setattr__(self, "date_days", int(data["tolerance"]["date_days"]))
        if self.min_score < 0:
            object.__setattr__(self, "min_score", float(data["fuzzy"]["min_score"]))
        unknown = sorted(set(self.policy) - set(POLICY_STATUSES))
        if unknown:
            raise ValueError(f"policy for unknown match status(es) {unknown}; known: {list(POLICY_STATUSES)}")
        given = {}
        for status, options in self.policy.items():
            spelt = tuple(policy_option(o) for o in options)
            if None in spelt:
                bad = options[spelt.index(None)]
                raise ValueError(f"policy option {bad!r} of {status!r} is not one of: {POLICY_GRAMMAR}")
            if spelt and status in NEVER_SUGGESTED:
                raise ValueError(f"a {status} match is never suggested (a person confirms it): its policy must "
                                 "be empty")
            given[status] = spelt
        object.__setattr__(self, "policy", {**default_policy(), **given})

    @classmethod
    def make(cls, amount: float | None = None, days: int | None = None,
             min_score: float | None = None, policy: dict[str, tuple[str, ...]] | None = None) -> "Settings":
        """One amount tolerance for every field (``None``: the rule data's)."""
        return cls({f: float(amount) for f in FIELDS} if amount is not None else {},
                   -1 if days is None else int(days), -1.0 if min_score is None else float(min_score),
                   dict(policy or {}))


@dataclass
class Match:
    """The result: one row per IMS record (``ims``) and per books row (``books``), same order as given.

    ``ims``: ``status``, ``books_pos`` (position in the books frame, -1), ``score`` (0-100, probable),
    ``diff_<field>`` (IMS - books), ``date_diff`` (days, IMS - books), ``differs`` (text: which fields
    differ, by how much). ``books``: ``status``, ``ims_pos`` (position in the IMS frame, -1).
    """

    ims: pd.DataFrame
    books: pd.DataFrame
    settings: Settings


def normalise_number(text: str) -> str:
    """One document number as its matching key (see :func:`normalise_numbers`)."""
    t = text.strip().upper()
    if "/" in t and "-" in t:
        t = _FY_SUFFIX.sub("", _FY_PREFIX.sub("", t, count=1), count=1)
    if "0" in t:
        t = _LEADING_ZEROS.sub("", t)
    return t.translate(_SEPARATORS)


def normalise_numbers(numbers: pd.Series) -> pd.Series:
    """Document numbers as matching keys: upper case, no financial-year prefix/suffix, no zeros leading a
    digit run, no spaces or separators ``/ - _ .`` (once per distinct value)."""
    codes, uniques = pd.factorize(np.asarray(numbers, dtype=object))
    keys = [normalise_number(str(u)) for u in uniques]
    out = np.array(keys + [""], dtype=object)[codes]
    return pd.Series(out, index=numbers.index, dtype=object)


def _joint(a: pd.Series, b: pd.Series, fn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of ``fn(value)`` over both columns (``fn`` once per distinct raw value), and the keys."""
    both = np.concatenate([np.asarray(a, dtype=object), np.asarray(b, dtype=object)])
    codes, uniques = pd.factorize(both)
    keys = np.array([fn("" if u is None else str(u)) for u in uniques] + [""], dtype=object)
    kcodes, kuniq = pd.factorize(keys)
    full = kcodes[codes]
    return full[:len(a)], full[len(a):], np.asarray(kuniq, dtype=object)


def _fy(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    fy = d.dt.year.to_numpy(dtype="float64") + (d.dt.month.to_numpy(dtype="float64") >= 4)
    return np.nan_to_num(fy, nan=0).astype("int64")


def _family(section: pd.Series) -> np.ndarray:
    s = section.astype(object)
    return s.map(SECTION_FAMILY).fillna(0).to_numpy(dtype="int64")


def match(ims: pd.DataFrame, books: pd.DataFrame, settings: Settings | None = None) -> Match:
    """Match typed IMS records with typed books rows (both as :func:`ims_excel.normalise.normalise` returns
    them; books rows in file order). See the module doc for the steps."""
    settings = settings or Settings()
    n, m = len(ims), len(books)
    g_i, g_b, g_keys = _joint(ims["supplier_gstin"], books["supplier_gstin"], lambda t: t.strip().upper())
    d_i, d_b, d_keys = _joint(ims["document_number"], books["document_number"], normalise_number)
    ng, nd = len(g_keys) + 1, len(d_keys) + 1
    fami, famb = _family(ims["section"]), _family(books["section"])
    fyi, fyb = _fy(ims["document_date"]), _fy(books["document_date"])
    # one integer per key (gstin, family, number, fy); fy spans a few years, family 5 values
    fy0 = min(fyi.min(initial=3000), fyb.min(initial=3000))
    nfy = max(fyi.max(initial=0), fyb.max(initial=0)) - fy0 + 1
    nfy = max(int(nfy), 1)
    key_i = ((g_i * 5 + fami) * nd + d_i) * nfy + (fyi - fy0)
    key_b = ((g_b * 5 + famb) * nd + d_b) * nfy + (fyb - fy0)

    # --- step 1: exact keys, k-th with k-th
    rank_i = pd.Series(key_i).groupby(key_i).cumcount().to_numpy()
    rank_b = pd.Series(key_b).groupby(key_b).cumcount().to_numpy()
    left = pd.DataFrame({"key": key_i, "rank": rank_i, "i": np.arange(n)})
    right = pd.DataFrame({"key": key_b, "rank": rank_b, "b": np.arange(m)})
    pairs = left.merge(right, on=["key", "rank"], how="inner", sort=False)
    books_pos = np.full(n, -1, dtype="int64")
    ims_pos = np.full(m, -1, dtype="int64")
    books_pos[pairs["i"].to_numpy()] = pairs["b"].to_numpy()
    ims_pos[pairs["b"].to_numpy()] = pairs["i"].to_numpy()
    ims_per_key = pd.Series(key_i).value_counts()
    count_b = pd.Series(key_b).map(ims_per_key).fillna(0).to_numpy(dtype="int64")
    duplicate = rank_b >= np.maximum(count_b, 1)

    # --- differences of every pair (IMS - books)
    amt_i = np.column_stack([ims[f].to_numpy(dtype=float) for f in FIELDS]) if n else np.zeros((0, 5))
    amt_b = np.column_stack([books[f].to_numpy(dtype=float) for f in FIELDS]) if m else np.zeros((0, 5))
    tol = np.array([settings.tolerance[f] for f in FIELDS]) + 1e-6
    date_i = pd.to_datetime(ims["document_date"]).to_numpy(dtype="datetime64[D]")
    date_b = pd.to_datetime(books["document_date"]).to_numpy(dtype="datetime64[D]")

    status = np.full(n, MISSING, dtype="int64")
    diff = np.zeros((n, len(FIELDS)))
    ddiff = np.zeros(n, dtype="int64")
    score = np.zeros(n)
    paired = books_pos >= 0
    pi, pb = np.flatnonzero(paired), books_pos[paired]
    diff[pi] = np.round(amt_i[pi] - amt_b[pb], 2)
    dd = (date_i[pi] - date_b[pb]).astype("int64")
    ddiff[pi] = np.where(np.isnat(date_i[pi]) | np.isnat(date_b[pb]), 0, dd)
    exact = (np.abs(diff[pi]) < 0.005).all(axis=1) & (ddiff[pi] == 0)
    within = (np.abs(diff[pi]) <= tol).all(axis=1) & (np.abs(ddiff[pi]) <= settings.date_days)
    status[pi] = np.where(exact, MATCHED, np.where(within, WITHIN, MISMATCH))
    score[pi] = 100.0

    # --- step 2: probable, on what is left
    li = np.flatnonzero(~paired)
    lb = np.flatnonzero((ims_pos < 0) & ~duplicate)
    if len(li) and len(lb):
        cand = _candidates(li, lb, g_i, g_b, g_keys, fami, famb, amt_i, amt_b, tol)
        if len(cand):
            a = d_keys[d_i[cand["i"].to_numpy()]]
            b = d_keys[d_b[cand["b"].to_numpy()]]
            cand["score"] = np.asarray(cpdist(list(a), list(b), scorer=fuzz.ratio), dtype=float)
            cand["same"] = g_i[cand["i"].to_numpy()] == g_b[cand["b"].to_numpy()]
            keep = np.where(cand["same"].to_numpy(), cand["score"].to_numpy() >= settings.min_score, True)
            cand = cand[keep]
            gap = (date_i[cand["i"].to_numpy()] - date_b[cand["b"].to_numpy()]).astype("int64")
            cand["gap"] = np.abs(np.where(np.isnat(date_i[cand["i"].to_numpy()]), 0, gap))
            cand = cand.sort_values(["score", "same", "gap", "amount_gap", "i", "b"],
                                    ascending=[False, False, True, True, True, True], kind="stable")
            chosen = _greedy(cand)
            ci, cb = chosen["i"].to_numpy(), chosen["b"].to_numpy()
            books_pos[ci], ims_pos[cb] = cb, ci
            status[ci] = PROBABLE
            score[ci] = chosen["score"].to_numpy()
            diff[ci] = np.round(amt_i[ci] - amt_b[cb], 2)
            gap = (date_i[ci] - date_b[cb]).astype("int64")
            ddiff[ci] = np.where(np.isnat(date_i[ci]) | np.isnat(date_b[cb]), 0, gap)

    bstatus = np.full(m, 4, dtype="int64")  # missing_in_ims
    bstatus[duplicate & (ims_pos < 0)] = DUPLICATE
    has = ims_pos >= 0
    bstatus[has] = status[ims_pos[has]]  # the IMS statuses 0-3 share codes with the books side
    out_i = pd.DataFrame({"status": labels(status, IMS_STATUSES), "books_pos": books_pos, "score": score},
                         index=ims.index)
    for k, f in enumerate(FIELDS):
        out_i[f"diff_{f}"] = diff[:, k]
    out_i["date_diff"] = ddiff
    out_i["differs"] = differences_text(out_i, settings)
    out_b = pd.DataFrame({"status": labels(bstatus, BOOKS_STATUSES), "ims_pos": ims_pos}, index=books.index)
    return Match(out_i, out_b, settings)


def _candidates(li, lb, g_i, g_b, g_keys, fami, famb, amt_i, amt_b, tol) -> pd.DataFrame:
    """Leftover pairs with the same PAN and family and every amount within tolerance (bucketed join on
    the taxable value, so a supplier's many leftovers do not multiply out). No GSTIN (ICEGATE Bills of
    Entry): no probable match."""
    width = max(2 * float(tol[0]), 1.0)
    pan_of = pd.Series(g_keys, dtype=object).str[2:12].to_numpy(dtype=object)
    pan_codes, _ = pd.factorize(pan_of)
    pan_codes = np.where(pan_of == "", -1, pan_codes)
    p_i, p_b = pan_codes[g_i[li]], pan_codes[g_b[lb]]
    left = pd.DataFrame({"pan": p_i, "fam": fami[li], "bucket": np.floor(amt_i[li, 0] / width).astype("int64"),
                         "i": li})[p_i >= 0]
    right = pd.DataFrame({"pan": p_b, "fam": famb[lb], "b": lb})
    base = np.floor(amt_b[lb, 0] / width).astype("int64")
    parts = []
    for shift in (-1, 0, 1):
        r = right.assign(bucket=base + shift)
        parts.append(left.merge(r, on=["pan", "fam", "bucket"], how="inner", sort=False)[["i", "b"]])
    cand = pd.concat(parts, ignore_index=True)
    gap = np.abs(amt_i[cand["i"].to_numpy()] - amt_b[cand["b"].to_numpy()])
    ok = (gap <= tol).all(axis=1)
    cand = cand[ok].copy()
    cand["amount_gap"] = gap[ok].sum(axis=1)
    return cand.reset_index(drop=True)


def _greedy(cand: pd.DataFrame) -> pd.DataFrame:
    """One-to-one pairs from candidates sorted best first: the greedy choice, a round at a time (a pair
    that comes first for both its IMS record and its books row is what greedy would take)."""
    chosen = []
    while len(cand):
        first = ~cand["i"].duplicated() & ~cand["b"].duplicated()
        take = cand[first.to_numpy()]
        chosen.append(take)
        cand = cand[~cand["i"].isin(take["i"]) & ~cand["b"].isin(take["b"])]
    return pd.concat(chosen, ignore_index=True) if chosen else cand


def differences_text(out: pd.DataFrame, settings: Settings) -> np.ndarray:
    """``"IGST +1000.00; date -2 days"`` per record (fields beyond exact agreement; '' when none)."""
    n = len(out)
    text = np.full(n, "", dtype=object)
    rows = np.flatnonzero(out["status"].isin(["matched_within_tolerance", "mismatch", "probable"]).to_numpy())
    if not len(rows):
        return text
    parts = pd.Series([""] * len(rows), dtype=object)
    for f in FIELDS:
        d = out[f"diff_{f}"].to_numpy()[rows]
        on = np.abs(d) >= 0.005
        piece = pd.Series(np.where(on, FIELD_LABEL[f] + " ", ""), dtype=object)
        num = pd.Series(d).map("{:+.2f}; ".format).where(on, "")
        parts = parts + piece + num
    dd = out["date_diff"].to_numpy()[rows]
    parts = parts + pd.Series(np.where(dd != 0, "date ", ""), dtype=object) \
        + pd.Series(dd).map("{:+d} days; ".format).where(dd != 0, "")
    text[rows] = parts.str.rstrip("; ").to_numpy(dtype=object)
    return text


__all__ = ["Match", "Settings", "match", "normalise_numbers", "FIELDS", "IMS_STATUSES", "BOOKS_STATUSES"]
