"""Synthetic inward and outward records for benchmarks and the workbook equality test.

Every section, action, previous action, amendment direction, original state,
portal flag and GSTR-2B period on both sides of the Oct-2025 changes appear;
every supplier GSTIN has a valid check digit except a deliberate few. The
result is the typed canonical frame (as :func:`ims_excel.normalise.normalise`
returns it), built with numpy only, so a million rows take about a second.

>>> df = inward(1000, seed=1)
>>> len(df), sorted(df["section"].unique())[:3]
(1000, ['B2B', 'B2B-CN', 'B2B-CNA'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine.validation import decision_fingerprint, declaration_part
from ims_excel.gstin import check_char
from ims_excel.normalise import field_name
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, SECTIONS, categories

STATES = [f"{i:02d}" for i in range(1, 39)]
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def gstins(n: int, rng: np.random.Generator, bad: int = 0) -> np.ndarray:
    """``n`` valid GSTINs across all states; the last ``bad`` get a wrong check character."""
    out = []
    for i in range(n):
        state = STATES[i % len(STATES)]
        pan = "".join(rng.choice(_LETTERS, 3)) + "C" + rng.choice(_LETTERS) + f"{rng.integers(0, 10000):04d}" \
            + rng.choice(_LETTERS)
        first14 = f"{state}{pan}1Z"
        c = check_char(first14)
        if i >= n - bad:
            c = "0" if c != "0" else "1"
        out.append(first14 + c)
    return np.array(out, dtype=object)


def _pick(rng: np.random.Generator, values: list, n: int, p: list[float] | None = None) -> np.ndarray:
    return np.array(values, dtype=object)[rng.choice(len(values), n, p=p)]


def inward(n: int, seed: int = 0, period: str = "2026-10", suppliers: int = 2000,
           recipient_state: str = "27") -> pd.DataFrame:
    """``n`` typed inward records for a recipient whose return period is ``period``."""
    rng = np.random.default_rng(seed)
    ret = periods.parse(period)
    df = pd.DataFrame(index=pd.RangeIndex(n))
    df["row"] = np.arange(1, n + 1)
    section = _pick(rng, list(SECTIONS), n)
    df["section"] = section
    pool = gstins(suppliers, rng, bad=max(1, suppliers // 500))
    g = pool[rng.integers(0, len(pool), n)]
    boe = np.isin(section, ["IMPG", "IMPGA"])
    df["supplier_gstin"] = np.where(boe, "", g)
    df["supplier_name"] = "Supplier"
    df["document_number"] = np.char.add("D", np.arange(n).astype(str)).astype(object)
    # periods: mostly current, some carried pending, some before Oct-2025 and a few pre-IMS
    offsets = rng.choice([0, 0, 0, 0, 0, 1, 2, 5, 9, 13, 14, 25], n)
    p2b = ret - offsets
    df["period_2b"] = p2b
    doc_month = p2b - rng.choice([0, 0, 1, 2], n)
    day = rng.integers(0, 28, n)
    base = (doc_month - periods.make(1970, 1)).astype("datetime64[M]").astype("datetime64[D]")
    df["document_date"] = (base + day.astype("timedelta64[D]")).astype("datetime64[ns]")
    amend = np.isin(section, ["B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA", "ISDA"])
    df["original_document_number"] = np.where(amend, df["document_number"], "")
    df["original_document_date"] = df["document_date"].where(amend)
    df["place_of_supply"] = np.where(rng.random(n) < 0.03, np.char.add("", pd.Series(g).str[:2].to_numpy(
        dtype=str)), recipient_state).astype(object)
    df["reverse_charge"] = np.where(rng.random(n) < 0.03, 1, 0).astype("int8")
    df["supply_type"] = _pick(rng, ["R", "R", "R", "DE", "SEWP", "SEWOP"], n)
    taxable = np.round(rng.uniform(100, 500000, n), 2)
    inter = rng.random(n) < 0.5
    tax = np.round(taxable * rng.choice([0.05, 0.12, 0.18, 0.28], n), 2)
    df["taxable_value"] = taxable
    df["igst"] = np.where(inter | boe | np.isin(section, ["IMPGSEZ", "IMPGSEZA"]), tax, 0.0)
    half = np.round(tax / 2, 2)
    df["cgst"] = np.where(df["igst"] == 0, half, 0.0)
    df["sgst"] = df["cgst"]
    df["cess"] = np.where(rng.random(n) < 0.1, np.round(taxable * 0.01, 2), 0.0)
    df["document_value"] = np.round(taxable + df["igst"] + df["cgst"] + df["sgst"] + df["cess"], 2)
    # amendments: up, down or unchanged against the original
    factor = np.where(amend, rng.choice([0.5, 1.0, 1.25, 0.0], n, p=[0.4, 0.2, 0.3, 0.1]), 1.0)
    for c in ("taxable_value", "igst", "cgst", "sgst", "cess"):
        df[f"original_{c}"] = np.where(amend, df[c], 0.0)
        df[c] = np.round(df[c] * factor, 2)
    df["original_action"] = np.where(amend, _pick(rng, ["Accepted", "Rejected", "Pending", "No Action",
                                                        "Pre-IMS"], n), "")
    df["original_3b_filed"] = np.where(amend, rng.choice([0, 1, 1], n), -1).astype("int8")
    form = _pick(rng, ["GSTR-1", "GSTR-1", "GSTR-1", "IFF", "GSTR-1A", "GSTR-5"], n, None)
    df["source_form"] = np.where(np.isin(section, ["IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"]), "ICEGATE",
                                 np.where(np.isin(section, ["ISD", "ISDA"]), "GSTR-6", form))
    filed = rng.random(n) > 0.05
    df["supplier_filing_status"] = np.where(filed, "Filed", "Not Filed")
    fdate = ((p2b + 1 - periods.make(1970, 1)).astype("datetime64[M]").astype("datetime64[D]")
             + rng.integers(0, 12, n).astype("timedelta64[D]"))
    df["supplier_filing_date"] = pd.Series(fdate.astype("datetime64[ns]")).where(filed)
    df["supplier_return_period"] = np.char.add(np.char.zfill((p2b % 12 + 1).astype(str), 2),
                                               (p2b // 12).astype(str)).astype(object)
    df["not_in_ims"] = np.where(rng.random(n) < 0.01, "37A", "")
    df["itc_available"] = np.where(rng.random(n) < 0.02, 0, -1).astype("int8")
    df["pending_blocked"] = rng.choice([-1, -1, -1, 0, 1], n).astype("int8")
    df["declaration_blocked"] = np.where(rng.random(n) < 0.02, 1, -1).astype("int8")
    df["remarks_blocked"] = np.full(n, -1, dtype="int8")
    df["gstin_override"] = np.where(rng.random(n) < 0.3, 1, -1).astype("int8")
    df["action"] = _pick(rng, ["", "Accept", "Reject", "Pending", "No Action"], n, [0.3, 0.3, 0.15, 0.2, 0.05])
    prev = _pick(rng, ["", "Accepted", "Rejected", "Pending", "No Action"], n, [0.5, 0.1, 0.05, 0.3, 0.05])
    df["previous_action"] = np.where(offsets > 0, np.where(rng.random(n) < 0.8, "Pending", prev), prev)
    df["itc_reduction"] = _pick(rng, ["", "", "Full", "Partial", "No"], n)
    for h in ("igst", "cgst", "sgst", "cess"):
        df[f"declared_{h}"] = np.where(df["itc_reduction"] == "Partial",
                                       np.round(df[h] * rng.choice([0.0, 0.5, 1.0, 1.2], n), 2), 0.0)
    df["remarks"] = _pick(rng, ["", "", "", "checked", "x" * 260], n, [0.3, 0.3, 0.3, 0.099, 0.001])
    # the portal round trip (issue 10): an error from the portal's error file (matching the row's decision
    # or not), a supplier's change that reset the action, a record gone from IMS
    err = rng.random(n) < 0.02
    df["portal_error"] = np.where(err, "Invalid action", "")
    df["portal_error_for"] = np.where(err & (rng.random(n) < 0.6), decision_fingerprint(df), "")
    # what the last download held (no random draw: the stream of the columns below stays as it was)
    df["portal_declaration"] = np.where(df["previous_action"] != "", declaration_part(df), "")
    df["supplier_change"] = np.where(rng.random(n) < 0.02, "IGST 1.00 -> 2.00; your Accept was reset", "")
    df["gone_from_ims"] = np.where(rng.random(n) < 0.01, 1, -1).astype("int8")
    # what reconcile wrote (issue 11): values only, read by no formula and no rule
    df["match_status"] = _pick(rng, ["", "matched", "mismatch", "missing_in_books"], n, [0.7, 0.1, 0.1, 0.1])
    df["match_note"] = np.where(df["match_status"] == "mismatch", "books row 5 (books.csv): IGST +200.00; "
                                "Pending: rule D1 allows Pending", "")
    df["suggested_action"] = np.where(df["match_status"] == "matched", "Accept", "")
    df["extra"] = [{}] * n
    _check_columns(df, INWARD_COLUMNS)
    return df


def outward(n: int, seed: int = 0, period: str = "2026-10") -> pd.DataFrame:
    """``n`` typed outward records (our documents, with recipients' actions)."""
    base = inward(n, seed=seed + 1, period=period)
    rng = np.random.default_rng(seed + 7)
    df = base.rename(columns={"supplier_gstin": "recipient_gstin", "supplier_name": "recipient_name"})
    df["recipient_gstin"] = np.where(df["recipient_gstin"] == "", "27AAACR5055K1Z7", df["recipient_gstin"])
    df["recipient_action"] = _pick(rng, ["Accepted", "Rejected", "Pending", "No Action"], n)
    df["recipient_3b_filed"] = rng.choice([0, 1, 1], n).astype("int8")
    filed_on = (df["period_2b"].to_numpy() + rng.choice([1, 1, 2], n) - periods.make(1970, 1))
    df["recipient_3b_filed_on"] = pd.Series(
        (filed_on.astype("datetime64[M]").astype("datetime64[D]") + np.timedelta64(19, "D")).astype(
            "datetime64[ns]")).where(df["recipient_3b_filed"] == 1)
    keep = [field_name(c.name) for c in OUTWARD_COLUMNS] + ["row", "extra"]
    df = df[keep].copy()
    _check_columns(df, OUTWARD_COLUMNS)
    return df


def _check_columns(df: pd.DataFrame, columns) -> None:
    """All canonical columns present; enum columns categorical, as normalise() makes them."""
    missing = {field_name(c.name) for c in columns} - set(df.columns)
    if missing:
        raise AssertionError(f"synthetic frame lacks {sorted(missing)}")
    for c in columns:
        if c.kind == "enum":
            name = field_name(c.name)
            df[name] = pd.Categorical(df[name].astype(object), categories=categories(c))


def to_raw(df: pd.DataFrame, direction: str = "inward") -> pd.DataFrame:
    """The typed frame back as a user would type it (canonical headers, text/number cells)."""
    columns = INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS
    out = {}
    for c in columns:
        v = df[field_name(c.name)]
        if c.kind == "date":
            out[c.name] = pd.to_datetime(v).dt.strftime("%Y-%m-%d").fillna("")
        elif c.kind == "period":
            out[c.name] = [periods.iso(int(p)) if p >= 0 else "" for p in v]
        elif c.kind == "flag":
            out[c.name] = v.map({1: "Y", 0: "N", -1: ""})
        else:
            out[c.name] = v
    return pd.DataFrame(out)
