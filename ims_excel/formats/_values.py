"""Column converters shared by the readers (vectorised over unique values).

>>> supply_types(pd.Series(["Regular", "SEZ supplies with payment", "DE", "B2B", "odd"])).tolist()
['R', 'SEWP', 'DE', 'R', 'odd']
>>> state_codes(pd.Series(["27-Maharashtra", 7, "07", "", None])).tolist()
['27', '07', '07', '', '']
>>> vals, bad = json_amounts(pd.Series([1000, "12.50", None, "1,000", True, ""], dtype=object))
>>> vals.tolist()[:3], bad.tolist()
([1000.0, 12.5, nan], [False, False, False, True, True, False])
>>> json_dates(pd.Series(["01-10-2025", "2025-10-01", "31-02-2025", None], dtype=object)).tolist()
[False, True, True, False]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.formats._common import label_key
from ims_excel.gstin import place_of_supply

_SUPPLY = {
    "r": "R", "regular": "R", "regularb2b": "R", "b2b": "R",
    "de": "DE", "deemedexp": "DE", "deemedexport": "DE", "deemedexports": "DE",
    "sewp": "SEWP", "sezwp": "SEZWP", "sezsupplieswithpayment": "SEWP", "sezwithpayment": "SEWP",
    "sewop": "SEWOP", "sezwop": "SEZWOP", "sezsupplieswithoutpayment": "SEWOP",
    "sezwithoutpayment": "SEWOP", "cbw": "CBW",
    # a note's type where an invoice type is expected: the section already says it
    "c": "", "d": "", "creditnote": "", "debitnote": "",
}

_SOURCE = {
    "r1": "GSTR-1", "gstr1": "GSTR-1", "gstr1iff": "GSTR-1", "iff": "IFF",
    "r1a": "GSTR-1A", "gstr1a": "GSTR-1A", "r5": "GSTR-5", "gstr5": "GSTR-5",
    "r6": "GSTR-6", "gstr6": "GSTR-6", "icegate": "ICEGATE",
}


def map_unique(series: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value (blank cells become '')."""
    obj = series.astype(object).where(series.notna(), "")
    uniq = pd.unique(obj)
    table = {v: fn(v) for v in uniq}
    return obj.map(table).astype(object)


def _text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def supply_types(series: pd.Series) -> pd.Series:
    """Invoice-type words and codes to the canonical codes; unknown values pass through."""
    return map_unique(series, lambda v: _SUPPLY.get(label_key(v), _text(v)) if _text(v) else "")


def source_forms(series: pd.Series) -> pd.Series:
    """``R1``/``GSTR-1/IFF``/``GSTR1A``... to canonical names; unknown values pass through."""
    return map_unique(series, lambda v: _SOURCE.get(label_key(v), _text(v)) if _text(v) else "")


def state_codes(series: pd.Series) -> pd.Series:
    """Place of supply as the 2-digit code (``27-Maharashtra`` -> ``27``, ``7`` -> ``07``)."""
    return map_unique(series, lambda v: place_of_supply(v) if _text(v) else "")


_PLAIN = r"[+-]?\d+(?:\.\d+)?"


def json_amounts(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """JSON amounts (numbers, or plain numeric strings) as float; (values, bad-mask).

    Missing and ``""`` are NaN and not bad; booleans, grouped digits and words are bad.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        vals = series.astype(float)
        return vals, pd.Series(np.isinf(vals.to_numpy()), index=series.index)
    obj = series.astype(object)
    kind = obj.map(lambda v: "b" if isinstance(v, (bool, np.bool_)) else "n" if isinstance(v, (int, float))
                   else "s" if isinstance(v, str) else "x" if v is not None else "")
    text = obj.where(kind == "s", "").astype(str).str.strip()
    good_text = text.str.fullmatch(_PLAIN)
    vals = pd.Series(np.nan, index=series.index, dtype=float)
    num = kind == "n"
    if num.any():
        vals[num] = obj[num].map(_float)  # a 400-digit int does not fit a float: inf, refused below
    if good_text.any():
        vals[good_text] = text[good_text].map(_float)
    bad = (kind == "b") | (kind == "x") | ((kind == "s") & ~good_text & (text != ""))
    bad |= np.isinf(vals.to_numpy())  # 1e400, a 400-digit number: not a finite amount
    return vals, bad


def _float(v: object) -> float:
    try:
        return float(v)
    except OverflowError:
        return float("inf")


_DMY = r"\d{2}-\d{2}-\d{4}"


def json_dates(series: pd.Series) -> pd.Series:
    """Bad-mask of dates that are not a real ``DD-MM-YYYY`` (missing is not bad)."""
    obj = series.astype(object)
    present = obj.map(lambda v: v is not None and not (isinstance(v, float) and v != v) and v != "")
    is_str = obj.map(lambda v: isinstance(v, str))
    text = obj.where(is_str, "").astype(str).str.strip()
    shaped = is_str & text.str.fullmatch(_DMY)
    parsed = pd.to_datetime(text.where(shaped, None), format="%d-%m-%Y", errors="coerce")
    return present & parsed.isna()


def document_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Document numbers as text exactly as sent; (values, bad-mask for non-text, non-integer values)."""
    if pd.api.types.is_string_dtype(series) and not series.isna().any():
        return series.astype(object), pd.Series(False, index=series.index)

    def one(v: object) -> object:
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        return None

    out = series.astype(object).map(one)
    bad = out.isna()
    return out.where(~bad, ""), bad


_MON = r"\d{1,2}[-/ ][A-Za-z]{3}[-/ ](?:\d{4}|\d{2})"


def month_name_dates(series: pd.Series) -> pd.Series:
    """``14-Jul-2017`` / ``14-Jul-17`` text to ISO ``2017-07-14``; other cells unchanged."""
    obj = series.astype(object)
    text = obj.map(lambda v: v.strip() if isinstance(v, str) else "")
    hit = text.str.fullmatch(_MON)
    if not hit.any():
        return obj
    norm = text[hit].str.replace(r"[/ ]", "-", regex=True)
    long = pd.to_datetime(norm, format="%d-%b-%Y", errors="coerce")
    short = pd.to_datetime(norm, format="%d-%b-%y", errors="coerce")
    parsed = long.where(norm.str.len() > 9, short)
    out = obj.copy()
    ok = parsed.notna()
    out[ok.index[ok]] = parsed[ok].dt.strftime("%Y-%m-%d").values
    return out


def shown(value: object) -> str:
    """A cell for a message: numpy scalars as plain Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)
