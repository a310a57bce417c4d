"""Raw table -> typed canonical frame, with every problem named by row and column.

Nothing is coerced silently:

* document numbers stay text exactly as typed (``"000123"`` stays ``"000123"``);
  a number cell that cannot be written back digit for digit is refused;
* amounts accept plain, Western (``100,000.50``) and Indian (``1,00,000.50``)
  grouping and nothing else;
* dates accept ISO ``2025-11-30``, ``30-11-2025``, ``30/11/2025`` and Excel
  serials; anything else is refused.

>>> parse_amounts(pd.Series(["1,00,000.50", "100,000.50", "12.5", "", "1,0,0"]))[0].tolist()
[100000.5, 100000.5, 12.5, 0.0, nan]
>>> parse_dates(pd.Series(["2025-11-30", "30-11-2025", 45991, ""]))[0].dt.strftime("%Y-%m-%d").tolist()
['2025-11-30', '2025-11-30', '2025-11-30', nan]
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from ims_excel import celltext, gstin as gstin_mod, periods
from ims_excel.records import (ACTIONS, AMENDMENT_SECTIONS, BOE_SECTIONS, Column, INWARD_COLUMNS, OUTWARD_COLUMNS,
                               STATES, categories, header_key)
from ims_excel.vec import by_unique
from ims_excel.xlsx.dates import timestamps
from ims_excel.xlsx.problems import Problem

MAX_PROBLEMS_PER_COLUMN = 20


InputProblem = Problem
"""One thing wrong with the input (the shape the xlsx layer's limit guards use too)."""


class InputError(ValueError):
    """Unusable input. ``problems`` lists every place, not just the first."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def field_name(column: str) -> str:
    """The snake_case field name of a canonical column.

    >>> field_name("Supplier GSTIN"), field_name("2B Period"), field_name("Original 3B Filed")
    ('supplier_gstin', 'period_2b', 'original_3b_filed')
    """
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", column).strip("_").lower()
    return "period_2b" if snake == "2b_period" else snake


# ---------------------------------------------------------------- cells

_BLANK = {""}
"""Text that means "no value". Only the empty cell: ``NaN``, ``None`` or ``#N/A`` typed in a cell are refused,
never read as 0 (a reader's own missing value, float NaN or None, is a blank cell)."""
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+")
"""A number in scientific notation (``1.23E+15``): what Excel shows for a long document number stored as a number."""
EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number; a longer document number stored as a number lost its tail."""
_PLAIN = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_WESTERN = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
_INDIAN = r"[+-]?[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}(?:\.[0-9]+)?"
_AMOUNT_RE = f"(?:{_PLAIN}|{_WESTERN}|{_INDIAN})"


def _missing(v: object) -> bool:
    """A reader's own "no value" (None, float NaN, NaT, pd.NA), as opposed to text typed in a cell."""
    return v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v)


def _as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped text ('' for blank), without touching digits (work per distinct value)."""
    text = by_unique(series, lambda v: "" if _missing(v) else (v if isinstance(v, str) else _number_text(v)).strip(),
                     default="")
    return pd.Series(text, index=series.index, dtype=object)


def _number_text(v: object) -> str:
    if isinstance(v, bool):
        return "Y" if v else "N"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v)


def blank_mask(series: pd.Series) -> pd.Series:
    blank = by_unique(series, lambda v: _missing(v) or str(v).strip() == "", default=True, dtype=bool)
    return pd.Series(blank, index=series.index)


def parse_amounts(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Amounts as float rounded to the paisa; returns (values, bad-mask). Blank = 0.

    Text is plain (``1234.50``), Western (``100,000.50``) or Indian (``1,00,000.50``) grouping, a ``₹``
    anywhere and whitespace around ignored; a number cell is its value; a JSON integer of 10**18 or more,
    anything not finite (``1e400``, a 400-digit number), ``True`` and any other text is bad. A column at
    a time (issue 11): cells classified by their type once per distinct type, text through numpy's string
    functions and :func:`ims_excel.celltext.amount_shape` (no Python call per cell; long cells and cells
    with NUL through Python's own str methods). The same values and bad-mask as the per-value version
    this replaced, for every input (``tests/test_parse_columns.py`` keeps that version as the reference).
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        vals = pd.to_numeric(series, errors="coerce").astype(float)
        bad = pd.Series(np.isinf(vals.to_numpy()), index=series.index)
        return vals.fillna(0.0).round(2).where(~bad, np.nan), bad
    obj = series.astype(object)
    values = obj.to_numpy(dtype=object)
    n = len(values)
    text, ints, floats, gone, int_like, float_like = celltext.by_type(
        values, celltext.plain_str, lambda t: t is int, celltext.plain_float,
        lambda t: t is type(None) or t is type(pd.NA),
        lambda t: issubclass(t, int) and not issubclass(t, bool), lambda t: issubclass(t, float))
    huge = np.zeros(n, dtype=bool)  # JSON integers past what float keeps
    if int_like.any():
        huge[int_like] = (np.abs(values[int_like]) >= 10**18).astype(bool)  # Python's abs and >=, in C loops
    numeric = np.zeros(n, dtype=bool)
    numeric[ints] = True
    if floats.any():
        numeric[floats] = ~np.isnan(values[floats].astype(np.float64))
    odd = (int_like & ~ints) | (float_like & ~floats)  # int / float subclasses of their own (not bool)
    if odd.any():
        numeric[odd] = [bool(v == v) for v in values[odd]]
    numeric &= ~huge
    cleaned = np.full(n, None, dtype=object)  # what pandas parses; None = not an amount
    if (text | ints | floats | gone).all():
        # ordinary cells: text cut here; a number's text (only its kind matters to pandas, see below) not made
        cells = np.where(text, values, "")
        blank, shaped, plain = _amount_texts(cells, ~numeric)
        numeric_text = _number_kinds(values, ints & numeric, floats & numeric)
    else:
        # anything else in the column (True, numpy integers, Decimal, dates, ...): each distinct value's
        # text made by Python as before (equal values share the first one's text, 1 and True included)
        cells = _as_text(obj.where(~pd.Series(huge, index=obj.index), "")).to_numpy(dtype=object)
        blank, shaped, plain = _amount_texts(cells, np.ones(n, dtype=bool))
        numeric_text = plain
    blank &= ~huge
    ok = (shaped | blank | numeric) & ~huge
    cleaned[ok] = plain[ok]
    cleaned[blank] = "0"
    cleaned[numeric] = numeric_text[numeric]
    return _amount_values(obj, pd.Series(cleaned, index=obj.index, dtype=object),
                          *(pd.Series(a, index=obj.index) for a in (ok, blank, numeric)))


def _amount_values(obj: pd.Series, cleaned: pd.Series, ok: pd.Series, blank: pd.Series,
                   numeric: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The numbers, as the per-value version made them: pandas parses the cleaned text of the whole column
    at once (``cleaned``, None where not an amount), number cells take their own value."""
    vals = pd.to_numeric(cleaned, errors="coerce")
    if numeric.any():  # (where nothing is a number this changed nothing: the values are made float below)
        vals = vals.where(~numeric, pd.to_numeric(obj.where(numeric, np.nan), errors="coerce"))
    vals = vals.astype(float).round(2)
    bad = ~ok | (ok & ~blank & ~np.isfinite(vals.fillna(0.0)))  # 1e400, a 400-digit number: not finite
    return vals.where(~bad, np.nan).astype(float), bad


def _amount_texts(cells: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an object array of text (only where ``wanted``): blank after the ``₹`` is dropped and the
    whitespace stripped, shaped as an amount (:data:`_AMOUNT_RE` in full), and the text with its commas
    dropped (None where not wanted)."""
    n = len(cells)
    blank, shaped = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    plain = np.full(n, None, dtype=object)
    where = np.flatnonzero(wanted)
    fast = celltext.numpy_way(cells[where])
    if fast.any():
        at = where[fast]
        t = np.strings.strip(np.strings.replace(cells[at].astype(str), "₹", ""))
        blank[at] = np.strings.str_len(t) == 0
        shaped[at] = celltext.amount_shape(t)
        plain[at] = np.strings.replace(t, ",", "").astype(object)
    for i in where[~fast]:  # a cell longer than celltext.WIDEST or with NUL: Python's way
        t = cells[i].strip().replace("₹", "").strip()
        blank[i], shaped[i], plain[i] = t == "", _AMOUNT.fullmatch(t) is not None, t.replace(",", "")
    return blank, shaped, plain


def _number_kinds(values: np.ndarray, ints: np.ndarray, floats: np.ndarray) -> np.ndarray:
    """Stand-ins for the text of number cells in the column pandas parses (``_amount_values``): a number
    cell takes its own value, but its text still tells pandas whether the column is whole numbers (kept
    as integers, then made float: ``-0`` reads 0) or not (read as float: ``-0`` reads -0.0), and which
    integers (negative, past 2**63). A whole number's own digits, or ``0.5`` for a float with a fraction
    or infinite (its text, ``1.5`` or ``inf``, is not whole either)."""
    out = np.full(len(values), None, dtype=object)
    if ints.any():
        out[ints] = values[ints].astype(np.int64).astype(str).astype(object)  # below 10**18: int64 holds it
    if floats.any():
        at = np.flatnonzero(floats)
        f = values[at].astype(np.float64)
        whole = np.isfinite(f) & (np.floor(f) == f)
        small = whole & (np.abs(f) < 2.0**62)
        out[at] = "0.5"
        out[at[small]] = f[small].astype(np.int64).astype(str).astype(object)
        for i in at[whole & ~small]:  # a float of 2**62 or more, whole: its digits by Python
            out[i] = str(int(values[i]))
    return out


_AMOUNT = re.compile(_AMOUNT_RE)


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates (datetime64) from ISO, dd-mm-yyyy, dd/mm/yyyy or Excel serials; (values, bad-mask).

    Date and datetime objects are their day; whole numbers 1 to 2958465 Excel serials; text (stripped)
    one of :data:`ims_excel.celltext.DATE_PATTERNS` read by pandas with its format; blank text and cells
    of any other type are blank; a day pandas cannot hold in nanoseconds (before 1677-09-22, after
    2262-04-11: ``01-01-2300``, Excel's last serial 2958465 = 9999-12-31) is bad like any other date that
    is none, so the reader names its cell (it raised ``OutOfBoundsDatetime``, a traceback, before).
    A column at a time (issue 11): cells classified by their type once per distinct type, text through
    numpy's string functions and :func:`ims_excel.celltext.date_shapes` (long cells and cells with NUL
    through Python's own). The same values, bad-mask and errors as the per-value version this replaced
    (``tests/test_parse_columns.py`` keeps it as the reference).
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=series.index)
    obj = series.astype(object)
    values = obj.to_numpy(dtype=object)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    dated, number_like, ints, floats, text, plain = celltext.by_type(
        values, lambda t: issubclass(t, (dt.date, pd.Timestamp)),
        lambda t: issubclass(t, (int, float)) and not issubclass(t, bool), lambda t: t is int,
        celltext.plain_float, lambda t: issubclass(t, str), celltext.plain_str)
    number = number_like.copy()  # a number, not NaN (v == v)
    if floats.any():
        number[floats] = ~np.isnan(values[floats].astype(np.float64))
    odd = number_like & ~ints & ~floats  # int / float subclasses of their own (not bool): Python's ==
    if odd.any():
        number[odd] = [bool(v == v) for v in values[odd]]
    is_dt = pd.Series(dated, index=obj.index, name=obj.name)
    is_num = pd.Series(number, index=obj.index, name=obj.name)
    if is_dt.any():
        _put_days(out, dated, pd.to_datetime(obj[is_dt]).dt.normalize())
    if is_num.any():  # by position: an index with repeated labels is no problem
        nums = pd.to_numeric(obj[is_num])
        good = ((nums >= 1) & (nums <= _LAST_NS_SERIAL) & (nums == nums.round())).to_numpy()
        sel = np.zeros(len(out), dtype=bool)
        sel[np.flatnonzero(number)[good]] = True
        out[sel] = timestamps(nums[good]).to_numpy()
    stripped, shapes = _date_texts(values, text, plain)
    blank_np = ~text | (stripped == "")
    blank = pd.Series(blank_np, index=obj.index, name=obj.name)
    for fmt, shape in (("%Y-%m-%d", "iso"), ("%d-%m-%Y", "dmy-"), ("%d/%m/%Y", "dmy/"),
                       ("%Y-%m-%dT%H:%M:%S", "isoT")):
        hit = shapes[shape] & ~blank_np
        m = pd.Series(hit, index=obj.index, name=obj.name)
        if m.any():
            matched = pd.Series(list(stripped[hit]), index=obj.index[hit], name=obj.name)
            _put_days(out, hit, pd.to_datetime(matched, format=fmt, errors="coerce"))
    bad = out.isna() & ~(blank & ~is_dt & ~is_num)
    return out, bad


_FIRST_NS_DAY, _LAST_NS_DAY = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")
_LAST_NS_SERIAL = (dt.date(2262, 4, 11) - dt.date(1899, 12, 30)).days
"""The days a ``datetime64[ns]`` column holds, and the last of them as an Excel serial (132,320)."""


def _put_days(out: pd.Series, where: np.ndarray, days: pd.Series) -> None:
    """``out[where] = days`` (any datetime64 unit, NaT for none), the days outside what nanoseconds hold
    left NaT (bad) instead of raising."""
    held = ((days >= _FIRST_NS_DAY) & (days <= _LAST_NS_DAY)).to_numpy()
    sel = np.zeros(len(out), dtype=bool)
    sel[np.flatnonzero(where)[held]] = True
    out[sel] = days.to_numpy()[held].astype("datetime64[ns]")


def _date_texts(values: np.ndarray, text: np.ndarray, plain: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Text cells stripped (object array, '' elsewhere) and which of them match each date pattern."""
    n = len(values)
    stripped = np.full(n, "", dtype=object)
    shapes = {name: np.zeros(n, dtype=bool) for name in celltext.DATE_PATTERNS}
    where = np.flatnonzero(plain)
    fast = celltext.numpy_way(values[where])
    at = where[fast]
    if len(at):
        t = np.strings.strip(values[at].astype(str))
        short = np.strings.str_len(t) <= 19  # no pattern is longer
        stripped[at] = t.astype(object)
        for name, hit in celltext.date_shapes(t[short]).items():
            shapes[name][at[short]] = hit
    for i in np.concatenate([where[~fast], np.flatnonzero(text & ~plain)]).astype(np.intp):
        t = values[i].strip()  # Python's way: long, NUL, or a str subclass of its own
        stripped[i] = t
        for name, pattern in celltext.DATE_PATTERNS.items():
            shapes[name][i] = _DATE_RE[name].fullmatch(t) is not None
    return stripped, shapes


_DATE_RE = {name: re.compile(pattern) for name, pattern in celltext.DATE_PATTERNS.items()}


def parse_periods(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """GSTR-2B periods as month indices (see :mod:`ims_excel.periods`); -1 = blank."""
    obj = series.astype(object)
    out = pd.Series(-1, index=series.index, dtype="int64")
    is_dt = pd.Series(by_unique(obj, lambda v: isinstance(v, (dt.date, pd.Timestamp)), default=False, dtype=bool),
                      index=obj.index)
    if is_dt.any():
        d = pd.to_datetime(obj[is_dt])
        out[is_dt] = (d.dt.year * 12 + d.dt.month - 1).astype("int64")
    text = _as_text(obj.where(~is_dt, ""))
    blank = text.isin(_BLANK) & ~is_dt
    parsed = pd.Series(by_unique(text, periods.parse_or_none, default=None), index=text.index)  # per distinct value
    good = parsed.notna()
    out[good] = parsed[good].astype("int64")
    bad = ~good & ~blank & ~is_dt
    return out, bad


_FLAG_WORDS = {"y": 1, "yes": 1, "true": 1, "1": 1, "n": 0, "no": 0, "false": 0, "0": 0}


def parse_flags(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Y/N flags as int8: 1 = Y, 0 = N, -1 = blank."""
    text = _as_text(series).str.lower()
    vals = text.map(_FLAG_WORDS)
    blank = text.isin(_BLANK)
    bad = vals.isna() & ~blank
    return vals.fillna(-1).astype("int8"), bad


def _enum_lookup(col: Column) -> dict[str, str]:
    table = {header_key(v): v for v in col.values}
    if col.name in ("Action",):
        for code, word in ACTIONS.items():
            table[code.lower()] = word
            table[header_key(STATES[code])] = word  # "Accepted" typed for "Accept"
    if col.name in ("Previous Action", "Original Action", "Recipient Action"):
        for code, word in STATES.items():
            table[code.lower()] = word
        for code, word in ACTIONS.items():
            table[header_key(word)] = STATES[code]
        table["deemedaccepted"] = "No Action"
    if col.name == "ITC Reduction":
        table.update({"yes": "Full", "y": "Full", "n": "No", "zero": "No", "custom": "Partial"})
    if col.name == "Source Form":
        table.update({"r1": "GSTR-1", "gstr1": "GSTR-1", "r1a": "GSTR-1A", "gstr1a": "GSTR-1A",
                      "r5": "GSTR-5", "gstr5": "GSTR-5", "r6": "GSTR-6", "gstr6": "GSTR-6"})
    if col.name == "Supplier Filing Status":
        table.update({"f": "Filed", "nf": "Not Filed", "y": "Filed", "n": "Not Filed"})
    return table


def parse_enum(series: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Enum values spelled canonically ('' for blank); (values, bad-mask)."""
    table = _enum_lookup(col)

    def spell(v: object) -> str | None:
        text = "" if _missing(v) else (v if isinstance(v, str) else _number_text(v)).strip()
        return "" if text in _BLANK else table.get(header_key(text))

    vals = by_unique(series, spell, default="")
    bad = pd.Series([v is None for v in vals], index=series.index) if None in set(vals) else \
        pd.Series(False, index=series.index)
    vals = np.where(bad, "", vals)
    return pd.Series(pd.Categorical(vals, categories=categories(col)), index=series.index), bad


def parse_text(series: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Text kept exactly as typed; numbers that cannot round-trip digit for digit are refused."""
    gstin = col.name.endswith("GSTIN")

    def keep(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        t = v if isinstance(v, str) else _number_text(v)
        return t.strip().upper() if gstin else t

    unsafe = by_unique(series, lambda v: isinstance(v, float) and v == v
                       and (not v.is_integer() or abs(v) >= 10**EXCEL_DIGITS), default=False, dtype=bool)
    text = by_unique(series, keep, default="")
    return pd.Series(text, index=series.index, dtype=object), pd.Series(unsafe, index=series.index)


def parse_places(series: pd.Series, names: bool = False) -> tuple[pd.Series, pd.Series]:
    """Place Of Supply as its 2-digit state code ('' for blank); (values, bad-mask).

    Spelled as the portal readers spell it (:func:`ims_excel.gstin.place_of_supply`: ``27``, ``7`` ->
    ``07``, ``27-Maharashtra`` -> ``27``); a value that is not then one of
    :data:`ims_excel.gstin.PLACE_OF_SUPPLY_CODES` (``Maharashtra``, ``00``, ``27.5``) is bad: read as no
    state, it silently turned off the place-of-supply rule (NOT_IN_IMS_POS) and put ineligible ITC in
    4A(5). With ``names`` (the accountant's own books, where Tally and Busy write the state's name) a
    state's name of the GST state code list is read as its code (``Maharashtra``, ``Maharashtra (27)``;
    :data:`ims_excel.gstin.STATE_NAME_CODES`), and a name that is neither, or contradicts its code, is bad.

    >>> vals, bad = parse_places(pd.Series(["27-Maharashtra", 7, "07", "", None, "Maharashtra", "96"]))
    >>> vals.tolist(), bad.tolist()
    (['27', '07', '07', '', '', '', '96'], [False, False, False, False, False, True, False])
    >>> vals, bad = parse_places(pd.Series(["Maharashtra", "Karnataka (29)", "Atlantis"]), names=True)
    >>> vals.tolist(), bad.tolist()
    (['27', '29', ''], [False, False, True])
    """
    codes = frozenset(gstin_mod.PLACE_OF_SUPPLY_CODES)

    def code(v: object) -> str | None:
        if _missing(v) or (isinstance(v, str) and v.strip() == ""):
            return ""
        c = gstin_mod.place_of_supply(v, names=names)
        return c if c in codes else None

    vals = by_unique(series, code, default="")
    bad = pd.isna(vals)  # None: not a code
    return (pd.Series(np.where(bad, "", vals), index=series.index, dtype=object),
            pd.Series(bad, index=series.index))


def mangled_numbers(text: pd.Series) -> pd.Series:
    """Document numbers that Excel turned into scientific notation (``1.23E+15``, text in a text column):
    the digits typed are gone, so the value is refused rather than taken as typed."""
    return pd.Series(by_unique(text, lambda v: bool(_SCIENTIFIC.fullmatch(v.strip())), default=False, dtype=bool),
                     index=text.index)


# ---------------------------------------------------------------- tables

def match_headers(headers: list[object], columns: tuple[Column, ...]) -> dict[str, str]:
    """Map canonical column name -> header as it appears in the file."""
    by_key = {header_key(h): h for h in headers if h is not None}
    out = {}
    for col in columns:
        for key in (col.key, *map(header_key, col.aliases)):
            if key in by_key:
                out[col.name] = by_key[key]
                break
    return out


PLACE_NAMES_PROBLEM = ("is neither a place-of-supply state code (2 digits: 01-38, 96 Other Countries, 97 Other "
                       "Territory, 99 Centre jurisdiction) nor a state's name in the GST state code list "
                       "(27, 27-Maharashtra, Maharashtra or Maharashtra (27); a name with another state's code "
                       "is refused too)")
"""The problem of a Place Of Supply of the books (:func:`normalise` with ``place_names``)."""


def normalise(raw: pd.DataFrame, *, file: str = "<input>", sheet: str | None = None,
              direction: str = "inward", row_offset: int = 0, place_names: bool = False) -> pd.DataFrame:
    """Type a raw table into the canonical frame, or raise :class:`InputError`.

    ``raw`` holds one row per record, headers as columns, cells as read. The
    result has one snake_case column per canonical column (see
    :func:`field_name`), plus ``row`` (1-based data row) and ``extra`` (a dict
    of the columns we do not know, kept for export). ``place_names``: the
    accountant's own books, whose Place Of Supply may be a state's name
    (:func:`parse_places`); the portal's files carry codes and are read without.
    """
    columns = INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS
    found = match_headers(list(raw.columns), columns)
    problems: list[InputProblem] = []
    for col in columns:
        if col.required and col.name not in found:
            problems.append(InputProblem(file, None, col.name,
                                         f"required column {col.name!r} is missing", sheet))
    if problems:
        raise InputError(problems)

    n = len(raw)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["row"] = np.arange(1, n + 1, dtype="int64") + row_offset
    for col in columns:
        name = field_name(col.name)
        if col.name not in found:
            out[name] = _default(col, n)
            continue
        series = raw[found[col.name]].reset_index(drop=True)
        if col.kind == "amount":
            vals, bad = parse_amounts(series)
            neg = (vals < 0) & ~bad
            _report(problems, bad, series, file, sheet, col, out["row"],
                    "is not an amount (use 1234.50, 1,234.50 or 1,00,000.50)")
            _report(problems, neg, series, file, sheet, col, out["row"],
                    "is negative: the portal reports amounts positive, notes included")
            vals = vals.fillna(0.0)
        elif col.kind == "date":
            vals, bad = parse_dates(series)
            _report(problems, bad, series, file, sheet, col, out["row"],
                    "is not a date (use 2025-11-30 or 30-11-2025)")
        elif col.kind == "period":
            vals, bad = parse_periods(series)
            _report(problems, bad, series, file, sheet, col, out["row"], "is not a period (use 2025-11)")
        elif col.kind == "flag":
            vals, bad = parse_flags(series)
            _report(problems, bad, series, file, sheet, col, out["row"], "is not Y or N")
        elif col.kind == "enum":
            vals, bad = parse_enum(series, col)
            _report(problems, bad, series, file, sheet, col, out["row"],
                    f"is not one of {', '.join(col.values)}")
        elif col.name == "Place Of Supply":
            vals, bad = parse_places(series, names=place_names)
            _report(problems, bad, series, file, sheet, col, out["row"], PLACE_NAMES_PROBLEM if place_names else
                    "is not a place-of-supply state code (2 digits: 01-38, 96 Other Countries, 97 Other "
                    "Territory, 99 Centre jurisdiction; 27 or 27-Maharashtra)")
        else:
            vals, bad = parse_text(series, col)
            _report(problems, bad, series, file, sheet, col, out["row"],
                    f"is a number Excel cannot store digit for digit (more than {EXCEL_DIGITS} digits, or a "
                    "fraction); format the column as Text and enter it again")
            if col.name.endswith("Number"):
                _report(problems, mangled_numbers(vals) & ~bad, series, file, sheet, col, out["row"],
                        "is a number in scientific notation: Excel turned a long number into this and lost "
                        "its digits; format the column as Text and enter the number again")
        out[name] = vals.values
    if "ITC Reduction" in found and "itc_reduction" in out:
        # the portal's Y/Yes means full when no amounts are declared, the declared amounts when some are
        # (rulebook G9): a Yes typed with amounts is Partial, as the IMS JSON and portal Excel readers read it
        said = by_unique(raw[found["ITC Reduction"]], lambda v: isinstance(v, str) and header_key(v) in ("yes", "y"),
                         default=False, dtype=bool)
        declared = np.zeros(n, dtype=bool)
        for h in ("declared_igst", "declared_cgst", "declared_sgst", "declared_cess"):
            if h in out:
                declared |= out[h].to_numpy(dtype=float) > 0
        out.loc[said & declared, "itc_reduction"] = "Partial"
    for col in columns:
        if col.required and col.name in found:
            missing = blank_mask(raw[found[col.name]].reset_index(drop=True))
            _report(problems, missing, pd.Series([""] * n), file, sheet, col, out["row"], "is blank")
    if "supplier_gstin" in out:
        need = ~out["section"].isin(["IMPG", "IMPGA", ""]) & (out["supplier_gstin"].str.strip() == "")
        _report(problems, need, out["supplier_gstin"], file, sheet,
                next(c for c in columns if c.name == "Supplier GSTIN"), out["row"], "is blank")
    gcol = "supplier_gstin" if direction == "inward" else "recipient_gstin"
    malformed = ~gstin_mod.format_ok(out[gcol]) & (out[gcol] != "")
    _report(problems, malformed, out[gcol], file, sheet,
            next(c for c in columns if field_name(c.name) == gcol), out["row"],
            "is not a GSTIN (15 characters: 2-digit state, PAN, entity, Z, check)")
    if problems:
        raise InputError(problems)
    # where each record sits in its file (importers record it; else the data row)
    out["source_row"] = raw["_row"].to_numpy() if "_row" in raw else out["row"].to_numpy()
    out["source_sheet"] = raw["_sheet"].to_numpy(dtype=object) if "_sheet" in raw else None
    known = set(found.values()) | {"_row", "_sheet"}
    extras = [c for c in raw.columns if c not in known]
    if extras:
        ex = raw[extras].reset_index(drop=True)
        out["extra"] = ex.to_dict("records")
    else:
        out["extra"] = [{} for _ in range(n)]
    return out



NEED_ORIGINAL = frozenset(AMENDMENT_SECTIONS - BOE_SECTIONS)
"""Amendments that must name the document they amend: B2BA, B2B-DNA, B2B-CNA, ECOA (uploaded with
``oinum``/``oidt`` or ``ont_num``/``ont_dt``, formats-and-market.md 2.3 and 10) and ISDA (GSTR-2B's
``odocnum``/``odocdt``, 2.4). Not the Bill-of-Entry amendments IMPGA/IMPGSEZA: GSTR-2B's ``impg`` record
(2.4: ``refdt, recdt, portcode, boenum, boedt, isamd, ...``) carries no original BoE, and the offline upload
has no Import of Goods (10)."""


def amendment_problems(typed: pd.DataFrame, *, file: str = "<input>", sheet: str | None = None) -> list[InputProblem]:
    """The problems of typed Inward records (:func:`normalise`'s frame) that are amendments (:data:`NEED_ORIGINAL`)
    with a blank *Original Document Number* or *Original Document Date*: the portal needs both (an upload
    would carry ``"oinum": ""``). Named like every bad cell (file, sheet, row, column); the readers' typed
    step (:func:`ims_excel.formats.to_typed`: every file read, the workbook's table) refuses them, so nothing
    is written. Records built from dicts (:mod:`ims_excel.engine.sample`) are not checked."""
    problems: list[InputProblem] = []
    if not len(typed) or "section" not in typed:
        return problems
    amend = typed["section"].astype(object).isin(NEED_ORIGINAL).to_numpy()
    if not amend.any():
        return problems
    blank = pd.Series([""] * len(typed))
    for name, missing in (("Original Document Number",
                           typed["original_document_number"].astype(object).fillna("").astype(str).str.strip() == ""),
                          ("Original Document Date", typed["original_document_date"].isna())):
        col = next(c for c in INWARD_COLUMNS if c.name == name)
        _report(problems, amend & missing.to_numpy(), blank, file, sheet, col, typed["row"],
                "is blank: an amendment (B2BA, B2B-DNA, B2B-CNA, ECOA, ISDA) names the document it amends, "
                "and the portal needs it (oinum/oidt, ont_num/ont_dt)")
    return problems


def _default(col: Column, n: int) -> object:
    if col.kind == "amount":
        return np.zeros(n)
    if col.kind == "date":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    if col.kind == "period":
        return np.full(n, -1, dtype="int64")
    if col.kind == "flag":
        return np.full(n, -1, dtype="int8")
    if col.kind == "enum":
        return pd.Categorical(np.full(n, "", dtype=object), categories=categories(col))
    return np.full(n, "", dtype=object)


def _report(problems: list[InputProblem], mask: pd.Series, series: pd.Series, file: str,
            sheet: str | None, col: Column, rows: pd.Series, what: str) -> None:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    for i in idx[:MAX_PROBLEMS_PER_COLUMN]:
        value = series.iloc[i]
        shown = f"{shown_value(value)} " if str(value) != "" else ""
        problems.append(InputProblem(file, int(rows.iloc[i]), col.name, f"{shown}{what}", sheet))
    if len(idx) > MAX_PROBLEMS_PER_COLUMN:
        problems.append(InputProblem(file, None, col.name,
                                     f"... and {len(idx) - MAX_PROBLEMS_PER_COLUMN} more rows like these",
                                     sheet))


def shown_value(value: object) -> str:
    """A cell as a message shows it: text quoted, numbers plain (``-450.00``, ``7``, never ``np.float64(-450.0)``).

    >>> shown_value(np.float64(-450.0)), shown_value(3), shown_value("INV-1"), shown_value(float("inf"))
    ('-450.00', '3', "'INV-1'", 'inf')
    """
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        return f"{v:.2f}" if abs(v) < 1e15 else f"{v:.15g}"
    return repr(str(value))
