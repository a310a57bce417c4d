"""Excel's date serials, in one place: day 0 is 30 Dec 1899 in the 1900 date system (so serial 1 is
1 Jan 1900 and, past Excel's phantom 29 Feb 1900, every serial from 61 on is exact), 1 Jan 1904 in the
1904 system (``<workbookPr date1904="1"/>``).

>>> serial(pd.Timestamp("2025-11-30")), date_of(45991)
(45991.0, datetime.date(2025, 11, 30))
>>> serials(np.array(["2025-11-30", "NaT"], dtype="datetime64[D]")).tolist()
[45991.0, nan]
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of the 1900 date system (what every workbook we write uses)."""
EPOCH_1904 = pd.Timestamp("1904-01-01")
"""Day 0 of the 1904 date system."""
_DAY = pd.Timedelta(days=1)


def epoch(date1904: bool = False) -> np.datetime64:
    """Day 0 as numpy datetime64[D], for arithmetic on whole arrays."""
    return np.datetime64(EPOCH_1904 if date1904 else EPOCH, "D")


def serial(value: object) -> float:
    """The serial of one date or timestamp (fractions for a time of day)."""
    return (pd.Timestamp(value) - EPOCH) / _DAY


def serials(dates: object) -> np.ndarray:
    """Serials (float) of an array or Series of dates; NaN for NaT."""
    d = np.asarray(dates, dtype="datetime64[ns]")
    out = (d - np.datetime64(EPOCH, "ns")) / np.timedelta64(1, "D")
    return np.where(np.isnat(d), np.nan, out)


def date_of(value: float) -> dt.date:
    """The date of a serial (its whole days)."""
    return (EPOCH + pd.Timedelta(days=int(value))).date()


def timestamps(days: object) -> pd.Series | pd.DatetimeIndex:
    """Timestamps of whole-day serials (a Series keeps its index)."""
    return EPOCH + pd.to_timedelta(days, unit="D")
