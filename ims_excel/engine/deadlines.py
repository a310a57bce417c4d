"""Deadlines: GSTR-3B due dates, the one-period pending window (G8), the s.16(4) cut-off (section 7).

All functions are vectorised over numpy arrays of period indices (see
:mod:`ims_excel.periods`) or ``datetime64[D]`` dates.

>>> import numpy as np
>>> from ims_excel import periods as P
>>> str(gstr3b_due(np.array([P.parse("2025-12")]), "monthly", "27")[0])
'2026-01-20'
>>> str(gstr3b_due(np.array([P.parse("2025-11")]), "quarterly", "27")[0])  # Oct-Dec 2025, Maharashtra
'2026-01-22'
>>> str(gstr3b_due(np.array([P.parse("2025-11")]), "quarterly", "07")[0])  # Delhi: 24th
'2026-01-24'
>>> str(pending_deadline(np.array([P.parse("2025-11")]), "monthly", "27")[0])  # E14: CN in 2B Nov-25
'2026-01-20'
>>> str(cutoff_164(np.array(["2026-01-10"], dtype="datetime64[D]"), None)[0])  # E43
'2026-11-30'
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ims_excel import periods
from ims_excel.rules import rulebook

NAT = np.datetime64("NaT", "D")


def _month_start(p: np.ndarray) -> np.ndarray:
    """First day of each period, as datetime64[D]."""
    return (p.astype("int64") - periods.make(1970, 1)).astype("datetime64[M]").astype("datetime64[D]")


def qrmp_due_day(state: str) -> int:
    """22nd or 24th by state (Notification 76/2020-CT) [INF: categories as we read them]."""
    q = rulebook().params["qrmp_due_day"]
    return 22 if str(state).zfill(2) in q["day_22_states"] else int(q["default"])


def gstr3b_due(p: np.ndarray, frequency: str, state: str) -> np.ndarray:
    """Due date of the GSTR-3B for the tax period holding each month ``p``."""
    day = qrmp_due_day(state) if frequency == "quarterly" else int(rulebook().param("gstr3b_due_day_monthly"))
    return gstr3b_opens(p, frequency) + np.timedelta64(day - 1, "D")


def gstr3b_opens(p: np.ndarray, frequency: str) -> np.ndarray:
    """First day the GSTR-3B for the tax period holding each month ``p`` can be filed: the day after the period
    ends (section 7: with a 30-Nov-2026 cut-off, "the next 3B (Nov-2026, filed in Dec) is too late").

    >>> from ims_excel import periods as P
    >>> str(gstr3b_opens(np.array([P.parse("2026-11")]), "monthly")[0])
    '2026-12-01'
    >>> str(gstr3b_opens(np.array([P.parse("2026-11")]), "quarterly")[0])  # Oct-Dec 2026
    '2027-01-01'
    """
    p = np.asarray(p, dtype="int64")
    end = p - p % 3 + 2 if frequency == "quarterly" else p
    return _month_start(end + 1)


def next_tax_period(p: np.ndarray, frequency: str) -> np.ndarray:
    """The tax period after the one holding ``p`` (for a quarter: its last month)."""
    p = np.asarray(p, dtype="int64")
    if frequency == "quarterly":
        return p - p % 3 + 5
    return p + 1


def pending_deadline(p_2b: np.ndarray, frequency: str, state: str) -> np.ndarray:
    """G8: Pending on a specified record is allowed until the GSTR-3B due date of (2B period + 1 tax period)."""
    return gstr3b_due(next_tax_period(p_2b, frequency), frequency, state)


def cutoff_164(doc_date: np.ndarray, annual_return: dt.date | None) -> np.ndarray:
    """Section 16(4): 30 November after the end of the document's FY, or the annual return if earlier.

    The annual return date applies to the FY that ended before it was filed
    (an annual return filed on 15-Oct-2025 is the one for FY 2024-25).
    """
    d = np.asarray(doc_date, dtype="datetime64[D]")
    months = d.astype("datetime64[M]").astype("int64")  # months since 1970-01
    year = months // 12 + 1970
    month = months % 12 + 1
    fy_end = np.where(month >= 4, year + 1, year)
    c = rulebook().params["cutoff_164"]
    cut = (np.asarray(fy_end - 1970, dtype="int64") * 12 + (int(c["month"]) - 1)).astype(
        "datetime64[M]").astype("datetime64[D]") + np.timedelta64(int(c["day"]) - 1, "D")
    if annual_return is not None:
        ar_fy_end = annual_return.year if annual_return.month >= 4 else annual_return.year - 1
        ar = np.datetime64(annual_return, "D")
        cut = np.where((fy_end == ar_fy_end) & (ar < cut), ar, cut)
    return np.where(np.isnat(d), NAT, cut)
