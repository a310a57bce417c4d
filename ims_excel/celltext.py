"""The cells of one imported column classified and their text cut and checked a column at a time (issue 11:
"no per-row Python loop on a hot path"; a file has hundreds of thousands of rows).

:func:`ims_excel.normalise.parse_amounts` and :func:`~ims_excel.normalise.parse_dates` decide what a
cell means; this module gives them the means, the way ``formats/_amounts.py`` does for a register's amount
text: a cell's kind by its type, tested once per distinct type (:func:`by_type`); text through numpy's
string functions on fixed-width text (``np.strings`` on ``<U``: C loops, no Python call per cell), and
Python's own str methods only for the few cells fixed-width text cannot hold (:func:`numpy_way`); an
amount's shape by a small automaton over the characters (:func:`amount_shape`), a date's by its
character classes position by position (:func:`date_shapes`).

>>> t = np.array(["1,00,000.50", "100,000.50", "1,0,0", "-12", "+1.", ""])
>>> amount_shape(t).tolist()
[True, True, False, True, False, False]
>>> {k: v.tolist() for k, v in date_shapes(np.array(["2025-11-30", "1/2/2025", "30-11-25"])).items()}
{'iso': [True, False, False], 'dmy-': [False, False, False], 'dmy/': [False, True, False], 'isoT': [False, False, False]}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

_TYPE_OF = np.frompyfunc(type, 1, 1)

WIDEST = 32
"""Cells longer than this take Python's way: numpy's fixed-width text is as wide as its longest cell (4
bytes a character), and one pasted paragraph must not make a million-row column gigabytes. No amount or
date is this long (``-₹ 1,00,00,00,000.50`` has 20 characters, ``2025-11-30T00:00:00`` 19)."""


def by_type(values: np.ndarray, *tests: Callable[[type], bool]) -> list[np.ndarray]:
    """One boolean mask per test: the cells whose type passes it. Each test runs once per distinct type
    (a column holds a handful), not once per cell.

    >>> by_type(np.array(["a", 1, None, 2.5], dtype=object), lambda t: issubclass(t, str),
    ...         lambda t: t is int)
    [array([ True, False, False, False]), array([False,  True, False, False])]
    """
    if not len(values):
        return [np.zeros(0, dtype=bool) for _ in tests]
    kinds = _TYPE_OF(values)
    first = kinds[0]
    if (kinds == np.array(first, dtype=object)).all():  # one type (a CSV column: all str), in a C loop
        return [np.full(len(values), bool(test(first)), dtype=bool) for test in tests]
    codes, types = pd.factorize(kinds)
    return [np.array([bool(test(t)) for t in types], dtype=bool)[codes] for test in tests]


def plain_str(t: type) -> bool:
    """``str`` and ``np.str_`` (which keeps str's text methods): numpy's string functions do to them what
    Python's str methods do. A str subclass of its own may change those methods: the callers take it
    Python's way."""
    return t is str or t is np.str_


def plain_float(t: type) -> bool:
    """``float``, ``np.float64`` and float subclasses that override none of float's own methods (the IMS JSON
    reader's ``JsonNumber``): its value, NaN and whole-number tests are those of its float64 value."""
    if t is float or t is np.float64:
        return True
    return issubclass(t, float) and all(getattr(t, name) is getattr(float, name) for name in _FLOAT_OWN)


_FLOAT_OWN = ("__str__", "__repr__", "__format__", "is_integer", "__int__", "__float__", "__abs__", "__eq__",
              "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__", "__round__")


def numpy_way(cells: np.ndarray) -> np.ndarray:
    """Which cells of an object array of text numpy's fixed-width text takes: not longer than
    :data:`WIDEST` and without NUL (fixed-width text cannot end in NUL: ``"12\\x00"`` would read ``"12"``).
    The others (none, in an ordinary column) take Python's own str methods."""
    if not len(cells):
        return np.zeros(0, dtype=bool)
    ok = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)) <= WIDEST
    if "\x00" in "".join(cells):  # one C scan; per cell only when some cell has a NUL
        ok &= ~np.array(["\x00" in c for c in cells], dtype=bool)
    return ok


def _codes(t: np.ndarray) -> np.ndarray:
    """Fixed-width text as a (cells, width) array of code points, 0 after each cell's end."""
    width = t.dtype.itemsize // 4
    if not width:
        return np.zeros((len(t), 0), dtype=np.uint32)
    return np.ascontiguousarray(t).view(np.uint32).reshape(len(t), width)


# ---------------------------------------------------------------- amounts

# character classes and the states of the automaton that reads _AMOUNT_RE of ims_excel.normalise:
#   [+-]?(?:[0-9]+(?:\.[0-9]+)?                                    plain
#        |[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?                    Western grouping
#        |[0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}(?:\.[0-9]+)?)          Indian grouping
_END, _DIGIT, _COMMA, _DOT, _SIGN, _OTHER = range(6)
_START, _SIGNED, _H1, _H2, _H3, _H4 = range(6)  # _Hk: k leading digits (4 = four or more), no comma yet
_WEST, _IND, _BOTH = range(3)  # after a comma: which grouping is still possible


def _group(mode: int, digits: int) -> int:
    """State: after a comma, ``digits`` (0-3) digits of the current group read, ``mode`` still possible."""
    return 6 + 4 * mode + digits


_FRAC0, _FRAC1, _DEAD = 18, 19, 20


def _amount_automaton() -> tuple[np.ndarray, np.ndarray]:
    table = np.full((21, 6), _DEAD, dtype=np.uint8)
    table[:, _END] = np.arange(21)  # past a cell's end: stay
    table[_START, _SIGN], table[_START, _DIGIT], table[_SIGNED, _DIGIT] = _SIGNED, _H1, _H1
    table[_H1, _DIGIT], table[_H2, _DIGIT], table[_H3, _DIGIT], table[_H4, _DIGIT] = _H2, _H3, _H4, _H4
    table[_H1, _COMMA] = table[_H2, _COMMA] = _group(_BOTH, 0)  # 1-2 leading digits: Western or Indian
    table[_H3, _COMMA] = _group(_WEST, 0)  # 3: Western only; 4 or more: neither
    table[[_H1, _H2, _H3, _H4], _DOT] = _FRAC0
    for mode in (_WEST, _IND, _BOTH):
        for digits in range(4):
            state = _group(mode, digits)
            if digits < 3:
                table[state, _DIGIT] = _group(mode, digits + 1)
            if digits == 3:  # a whole group of three: may end the number; another comma = Western
                table[state, _DOT] = _FRAC0
                if mode != _IND:
                    table[state, _COMMA] = _group(_WEST, 0)
            if digits == 2 and mode != _WEST:  # a group of two: Indian, more groups follow
                table[state, _COMMA] = _group(_IND, 0)
    table[_FRAC0, _DIGIT] = table[_FRAC1, _DIGIT] = _FRAC1
    accept = np.zeros(21, dtype=bool)
    accept[[_H1, _H2, _H3, _H4, _FRAC1] + [_group(m, 3) for m in (_WEST, _IND, _BOTH)]] = True
    return table, accept


_AMOUNT_TABLE, _AMOUNT_ACCEPT = _amount_automaton()
_AMOUNT_CLASS = np.full(128, _OTHER, dtype=np.uint8)  # an ASCII code point's class (0: past the cell's end)
_AMOUNT_CLASS[0], _AMOUNT_CLASS[48:58], _AMOUNT_CLASS[[44, 46, 43, 45]] = _END, _DIGIT, [_COMMA, _DOT, _SIGN, _SIGN]


def amount_shape(t: np.ndarray) -> np.ndarray:
    """Which cells of fixed-width text (``<U``, no NUL) are an amount as ``normalise._AMOUNT_RE`` says with
    ``re.fullmatch``: the automaton above, run over the characters one position at a time for every cell
    at once (a column's width steps; ASCII digits only, as ``[0-9]`` is)."""
    cls = _AMOUNT_CLASS[np.minimum(_codes(t), 127)]  # anything past ASCII: other
    state = np.full(len(t), _START, dtype=np.uint8)
    for j in range(cls.shape[1]):
        state = _AMOUNT_TABLE[state, cls[:, j]]
    return _AMOUNT_ACCEPT[state]


# ---------------------------------------------------------------- dates

DATE_PATTERNS = {"iso": r"\d{4}-\d{2}-\d{2}", "dmy-": r"\d{1,2}-\d{1,2}-\d{4}", "dmy/": r"\d{1,2}/\d{1,2}/\d{4}",
                 "isoT": r"\d{4}-\d{2}-\d{2}T00:00:00"}
"""The text dates :func:`ims_excel.normalise.parse_dates` reads, as ``re.fullmatch`` patterns (``\\d``: any
Unicode decimal digit, as Python's ``re`` has it; ``str.isdecimal`` is the same set, every code point
checked in the tests)."""


def _templates() -> dict[str, list[str]]:
    """Each pattern as the fixed-length templates it stands for: ``d`` a decimal digit, else the character."""
    dmy = [("d" * a, "d" * b) for a in (1, 2) for b in (1, 2)]
    return {"iso": ["dddd-dd-dd"], "dmy-": [f"{a}-{b}-dddd" for a, b in dmy],
            "dmy/": [f"{a}/{b}/dddd" for a, b in dmy], "isoT": ["dddd-dd-ddT00:00:00"]}


_TEMPLATES = _templates()


def date_shapes(t: np.ndarray) -> dict[str, np.ndarray]:
    """Which cells of fixed-width text (``<U``, no NUL) match each of :data:`DATE_PATTERNS` in full:
    length, then position by position a decimal digit or the literal character."""
    codes = _codes(t)
    n, width = codes.shape
    length = np.strings.str_len(t)
    digit = (codes >= 48) & (codes <= 57)
    wide = codes >= 128  # other scripts' digits (१, ٣): Unicode's own table, through numpy's isdecimal
    if wide.any():
        digit[wide] = np.strings.isdecimal(np.ascontiguousarray(codes[wide]).view("<U1"))
    out = {}
    for name, templates in _TEMPLATES.items():
        hit = np.zeros(n, dtype=bool)
        for template in templates:
            if len(template) > width:
                continue
            m = length == len(template)
            for j, ch in enumerate(template):
                m &= digit[:, j] if ch == "d" else codes[:, j] == ord(ch)
            hit |= m
        out[name] = hit
    return out


__all__ = ["WIDEST", "DATE_PATTERNS", "amount_shape", "by_type", "date_shapes", "numpy_way", "plain_float",
           "plain_str"]
