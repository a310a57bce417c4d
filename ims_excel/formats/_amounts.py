"""A purchase register's amount cells as magnitudes, a column at a time (issue 11: "no per-row Python loop
on a hot path"; a register has hundreds of thousands of rows).

Tally and Busy write amounts as ``1,234.50 Dr``, ``(1,234.50)``, ``-₹ 1,00,000.50 Cr``, ``12Cr``; the books
reader keeps the magnitude (the document type says the sign) and hands the text to
:func:`ims_excel.normalise.parse_amounts`, which decides what is an amount.

>>> amount_texts(pd.Series(["1,234.50 Dr", "(1,234.50)", "-₹ 1,00,000.50 Cr", "12Cr", "ABCcr", -5, True],
...                        dtype=object)).tolist()
['1,234.50', '1,234.50', '1,00,000.50', '12', 'ABCcr', 5, True]
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from ims_excel import celltext

def _py(method, n_args: int, to_bool: bool = False):
    """A str method over an object array; its other arguments kept Python str (a plain str argument
    would become a numpy ``<U`` scalar, which drops a trailing NUL)."""
    ufunc = np.frompyfunc(method, n_args, 1)

    def call(a: np.ndarray, *args) -> np.ndarray:
        out = ufunc(a, *(np.array(x, dtype=object) for x in args))
        return out.astype(bool) if to_bool else out
    return call


_PY = SimpleNamespace(  # Python's own str methods over an object array: the fallback, see amount_texts
    strip=_py(str.strip, 1), lstrip=_py(str.lstrip, 2), replace=_py(str.replace, 3),
    slice=_py(lambda s, start, stop: s[start:stop], 3), startswith=_py(str.startswith, 2, to_bool=True),
    endswith=_py(str.endswith, 2, to_bool=True), isdigit=_py(str.isdigit, 1, to_bool=True),
)


def amount_texts(series: pd.Series) -> pd.Series:
    """The cells of one amount column as magnitudes: what ``series.astype(object).map(f)`` gave with the
    per-value function this replaced (``tests/formats/test_amount_texts.py`` keeps it as the reference
    and checks the two agree on any column), dtype included.

    Text (``str``): stripped, every ``₹`` dropped, stripped again; then a `` Dr`` / `` Cr`` suffix (any
    case) is cut, or else a glued ``Dr`` / ``Cr`` when what is before it is digits with ``,`` and ``.``
    (``12Cr``, not ``ABCcr``); then one pair of enclosing parentheses; then leading minus signs, then
    whitespace. Numbers (``int``, ``float``, not ``bool``): ``abs``. Anything else (``None``, dates,
    ``True``) passes through unchanged (NaN is a float: ``abs`` keeps it NaN).

    The text goes through numpy's string ufuncs on fixed-width text (``np.strings`` on ``<U``: C loops,
    no Python call per cell), which match Python's str methods (whitespace, digits: every code point
    checked) except on NUL, which fixed-width text cannot end with. Cells holding NUL and cells longer
    than :data:`ims_excel.celltext.WIDEST` take Python's own str methods instead (``_PY``), through the same rule.
    """
    values = series.to_numpy(dtype=object)
    out = values.copy()
    if len(values):  # a handful of distinct types, each classified once (a CSV column: one type, one C loop)
        is_str, is_num = celltext.by_type(values, lambda t: issubclass(t, str),
                                          lambda t: issubclass(t, (int, float)) and not issubclass(t, bool))
        if is_num.any():
            out[is_num] = np.abs(values[is_num])  # the object loop calls Python's abs (PyNumber_Absolute)
        if is_str.any():
            out[is_str] = _texts(values[is_str])
    # the dtype Series.map gives, by the Series constructor's own inference on the values (public API):
    # all numbers -> int64 / float64, all bool -> bool, all text -> str, [NaT] -> datetime64, else object
    return pd.Series(out.tolist(), index=series.index, name=series.name)


def _texts(cells: np.ndarray) -> np.ndarray:
    """Object array of str -> object array of the cleaned str."""
    python = ~celltext.numpy_way(cells)
    out = np.empty(len(cells), dtype=object)
    if not python.all():
        out[~python] = _clean(cells[~python].astype(str), np.strings).astype(object)
    if python.any():
        out[python] = _clean(cells[python], _PY)
    return out


_DR_CR = ("dr", "dR", "Dr", "DR", "cr", "cR", "Cr", "CR")


def _clean(t: np.ndarray, ops) -> np.ndarray:
    """The rule of :func:`amount_texts` on an array of text, with ``ops`` = ``np.strings`` or ``_PY``."""
    # (the old function stripped before dropping the ₹ too: the same, whitespace is never a ₹)
    t = ops.strip(ops.replace(t, "₹", ""))
    # "ends in ' dr' / 'dr', any case" by the last characters compared with every case of Dr and Cr:
    # no other character lowers to c, d, r or a space (every code point checked), so this is what the
    # old function's t.lower().endswith(...) said, without lowering every cell
    last2 = ops.slice(t, -2, None)
    dr_cr = np.zeros(len(t), dtype=bool)
    for suffix in _DR_CR:
        dr_cr |= last2 == suffix
    spaced = dr_cr & (ops.slice(t, -3, -2) == " ")
    glued = dr_cr & ~spaced
    if spaced.any():
        t[spaced] = ops.strip(ops.slice(t[spaced], None, -3))
    if glued.any():
        where = np.flatnonzero(glued)
        head = ops.strip(ops.slice(t[where], None, -2))
        digits = ops.isdigit(ops.replace(ops.replace(head, ",", ""), ".", ""))
        t[where[digits]] = head[digits]
    paren = ops.startswith(t, "(") & ops.endswith(t, ")")
    if paren.any():
        t[paren] = ops.slice(t[paren], 1, -1)
    return ops.strip(ops.lstrip(t, "-"))


__all__ = ["amount_texts"]
