"""GSTIN: format and check digit (Luhn mod 36).

Spec: shared/domain/formats-and-market.md section 8. The check character is
the Luhn mod-36 check over the first 14 characters (weight 1 on odd, 2 on even
positions, counting from the left). python-stdnum implements the same
algorithm; we use it for single values and keep a vectorised twin for whole
columns (unique values only, so a million rows of a few thousand suppliers
cost a few thousand checks).

>>> check_char("27AAPFU0939F1Z")
'V'
>>> is_valid("27AAPFU0939F1ZV"), is_valid("27AAPFU0939F1ZA")
(True, False)
>>> state_code("29AAACS2222T1ZX")
'29'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from stdnum.in_ import gstin as _stdnum_gstin

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Normal, government-department, TDS/TCS, UIN, NRTP and OIDAR shapes (india-compliance
# constants citing developer.gst.gov.in): 2 digits, 10 PAN-like, entity, 1 letter, check.
FORMAT = r"[0-9]{2}[0-9A-Z]{10}[0-9A-Z][0-9A-Z][0-9A-Z]"


def check_char(first14: str) -> str:
    """The 15th character of a GSTIN whose first 14 characters are given."""
    total = 0
    for pos, ch in enumerate(first14.upper(), start=1):
        p = ALPHABET.index(ch) * (1 if pos % 2 else 2)
        total += p // 36 + p % 36
    return ALPHABET[(36 - total % 36) % 36]


def is_valid(value: str) -> bool:
    """Format and check digit both right (python-stdnum's ``is_valid``)."""
    return bool(_stdnum_gstin.is_valid(value))


def state_code(value: str) -> str:
    return str(value)[:2]


def format_ok(values: pd.Series) -> pd.Series:
    """Vectorised: does each value have the shape of a GSTIN?"""
    return values.astype(str).str.fullmatch(FORMAT)


def check_ok(value: str) -> bool:
    """Is the 15th character the right check? (format aside)"""
    v = str(value)
    return len(v) == 15 and all(c in ALPHABET for c in v) and check_char(v[:14]) == v[14]


def check_digit_ok(values: pd.Series) -> pd.Series:
    """Vectorised over unique values: is the 15th character the right check?"""
    uniq = pd.unique(values.astype(str))
    ok = {v: check_ok(v) for v in uniq}
    return values.astype(str).map(ok).astype(bool)


def expected(values: pd.Series) -> pd.Series:
    """The GSTIN with the right check character (for messages)."""
    uniq = pd.unique(values.astype(str))
    fixed = {v: (v[:14] + check_char(v[:14]) if len(v) >= 14 and all(c in ALPHABET for c in v[:14])
                 else "") for v in uniq}
    return values.astype(str).map(fixed)


__all__ = ["ALPHABET", "FORMAT", "check_char", "check_ok", "is_valid", "state_code", "format_ok",
           "check_digit_ok", "expected", "np"]
