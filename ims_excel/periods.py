"""Tax periods as month indices, and the GSTR-3B due dates built on them.

A period is stored as ``year * 12 + month - 1`` so that "next period" is ``+ 1``
and vectorised arithmetic stays integer arithmetic.

>>> p = parse("2025-11"); label(p), label(p + 2), iso(p)
('Nov-2025', 'Jan-2026', '2025-11')
>>> parse("112025") == parse("2025-11") == parse("11-2025")
True
>>> quarter_end(parse("2025-11")) == parse("2025-12")
True
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def make(year: int, month: int) -> int:
    return year * 12 + month - 1


def parse_or_none(text: str) -> int | None:
    """Read ``YYYY-MM``, ``MM-YYYY`` or the portal's ``MMYYYY``; None if it is none of these."""
    t = str(text).strip()
    for pattern, order in ((r"(\d{4})-(\d{1,2})", "ym"), (r"(\d{1,2})-(\d{4})", "my"),
                           (r"(\d{2})(\d{4})", "my"), (r"(\d{4})/(\d{1,2})", "ym")):
        m = re.fullmatch(pattern, t)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            year, month = (a, b) if order == "ym" else (b, a)
            if 1 <= month <= 12 and 2000 <= year <= 2200:
                return make(year, month)
            return None
    return None


def parse(text: str) -> int:
    p = parse_or_none(text)
    if p is None:
        raise ValueError(f"{text!r} is not a period (use YYYY-MM)")
    return p


def year_month(p: int) -> tuple[int, int]:
    return p // 12, p % 12 + 1


def iso(p: int) -> str:
    y, m = year_month(p)
    return f"{y:04d}-{m:02d}"


def label(p: int) -> str:
    y, m = year_month(p)
    return f"{_MONTHS[m - 1]}-{y}"


def of_date(d: dt.date) -> int:
    return make(d.year, d.month)


def quarter_end(p: int) -> int:
    """The last month of the (calendar) quarter holding ``p``; GST quarters are calendar quarters."""
    return p - p % 3 + 2

