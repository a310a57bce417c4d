"""A purchase register's amount cells, cleaned a column at a time (:func:`ims_excel.formats._amounts.amount_texts`,
issue 11: "no per-row loop on a hot path"), give exactly what the per-value function it replaced gave (kept
below as the reference) for every kind of cell, through numpy's string ufuncs and through the fallback to
Python's str methods (cells with NUL, cells longer than 32) alike, and both of the books reader's call sites
use it."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from ims_excel.formats import books
from ims_excel.formats._amounts import amount_texts
from ims_excel.normalise import parse_amounts

BOOKS = Path(__file__).parent.parent / "fixtures" / "books"


def reference_amount_text(v: object) -> object:
    """``formats/books._amount_text`` as it was before (commit fc8af30), verbatim."""
    if isinstance(v, str):
        t = v.strip().replace("₹", "").strip()
        low = t.lower()
        if low.endswith((" dr", " cr")):
            t = t[:-3].strip()
        elif low.endswith(("dr", "cr")) and t[:-2].strip().replace(",", "").replace(".", "").isdigit():
            t = t[:-2].strip()
        if t.startswith("(") and t.endswith(")"):
            t = t[1:-1]
        return t.lstrip("-").strip()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return abs(v)
    return v


def assert_same(cells: list) -> None:
    """The new function on the column equals the reference mapped value by value: dtype, values, and each
    value's type (``1``, ``1.0`` and ``True`` compare equal), and so what ``parse_amounts`` makes of it."""
    series = pd.Series(cells, dtype=object)
    want = series.astype(object).map(reference_amount_text)  # how books.py called it
    got = amount_texts(series)
    pd.testing.assert_series_equal(got, want)
    assert [type(v) for v in got] == [type(v) for v in want]
    for a, b in zip(got.tolist(), want.tolist()):
        assert a is b or a == b or (a != a and b != b), (a, b)
    want_vals, want_bad = parse_amounts(want)
    got_vals, got_bad = parse_amounts(got)
    pd.testing.assert_series_equal(got_vals, want_vals)
    pd.testing.assert_series_equal(got_bad, want_bad)


# Pieces an amount cell is made of in Tally / Busy / hand-made registers, and the characters that could
# trip a column-at-a-time version: Unicode whitespace (NBSP, ideographic space, \x1c), digits that
# str.isdigit takes (Devanagari, superscript), characters whose lower case is longer (İ) or ASCII (K the
# Kelvin sign), a lone parenthesis, NUL (numpy's fixed-width text drops a trailing one: those cells take
# Python's way), and (below) cells longer than 32 characters (Python's way too) and lone surrogates.
PIECES = ["\x00", "12\x00", "₹", " ", "  ", "-", "--", "(", ")", ",", ".", "Dr", "dr", "DR", "dR", "Cr", "cr",
          "CR", " Dr", " cr", "0", "1", "12", "1,234.50", "1,00,000.50", "A", "ABC", "c", "d", "r", "İ", "K", "\u00a0",
          "\u3000", "\x1c", "\t", "\n", "१", "²", "e", "+", "₹ "]
texts = (st.lists(st.sampled_from(PIECES), max_size=8).map("".join) | st.text(max_size=12)
         | st.lists(st.sampled_from(PIECES), min_size=20, max_size=40).map("".join))  # most over 32
surrogates = st.lists(st.characters(categories=["Cs", "Nd", "Zs"]) | st.sampled_from(PIECES),
                      max_size=8).map("".join)
numbers = (st.integers() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats()
           | st.floats(allow_nan=False).map(np.float64) | st.integers(-10**6, 10**6).map(np.int64))
others = st.sampled_from([None, float("nan"), True, False, np.True_, np.nan, pd.NaT, b"12 Dr",
                          decimal.Decimal("-1.5"), np.str_("-12 Dr")]) | st.datetimes() | st.dates()
cells = texts | numbers | others


@settings(max_examples=400, deadline=None)
@given(st.lists(cells, max_size=30))
def test_same_as_reference_for_any_cells(column):
    assert_same(column)


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, min_size=1, max_size=30))
def test_same_as_reference_for_text_columns(column):  # a CSV: every cell text
    assert_same(column)


@settings(max_examples=150, deadline=None)
@given(st.lists(numbers | st.none(), min_size=1, max_size=30))
def test_same_as_reference_for_number_columns(column):  # an Excel sheet: numbers and blanks, inferred float
    assert_same(column)


@settings(max_examples=100, deadline=None)
@given(st.lists(texts | surrogates, min_size=1, max_size=20))
def test_same_as_reference_with_lone_surrogates(column):  # not UTF-8, but Python text all the same
    assert_same(column)


@pytest.mark.parametrize("cell, want", [
    ("1,234.50 Dr", "1,234.50"), ("1,234.50 cR", "1,234.50"), ("1234.50dr", "1234.50"),
    ("1234.50 DR", "1234.50"), ("(1,234.50)", "1,234.50"), ("-₹ 1,00,000.50 Cr", "1,00,000.50"),
    ("₹(1,234.50) Dr", "1,234.50"), ("12Cr", "12"), ("1,2.3cr", "1,2.3"), ("ABCcr", "ABCcr"),
    ("12 ABCcr", "12 ABCcr"), ("Cr", "Cr"), (" Cr", "Cr"), ("x Cr", "x"), ("   ", ""), ("", ""),
    ("(", "("), ("()", ""), (")", ")"), ("--12", "12"), ("- 12", "12"), ("12-", "12-"), ("\u00a012\u00a0", "12"),
    ("१२Cr", "१२"), (-5, 5), (-2.5, 2.5), (2**70 * -1, 2**70), (True, True), (False, False),
    (None, None), (dt.datetime(2026, 10, 7), dt.datetime(2026, 10, 7)), ("12\x00", "12\x00"),
    ("1\x00 Dr", "1\x00"), ("\x00(1)", "\x00(1)"), ("\ud800 12 Dr", "\ud800 12"),
])
def test_examples(cell, want):
    got = amount_texts(pd.Series([cell, "x", 1], dtype=object)).iloc[0]  # text and a number: object
    assert got == want and type(got) is type(want)
    assert reference_amount_text(cell) == want


def test_ordinary_text_never_takes_pythons_way(monkeypatch):
    """Only cells with NUL or over 32 characters go through Python's str methods (a call per cell); a
    register's amounts, whatever their Dr / Cr / ₹ / parentheses, go through numpy's string ufuncs."""
    from ims_excel.formats import _amounts

    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"Python's {name} called on ordinary amount text")

    cells = ["1,234.50 Dr", "(1,234.50)", "-₹ 1,00,000.50 Cr", "12Cr", "ABCcr", " ", "", "१२ dr",
             "-₹ 1,00,00,00,000.50 Cr", "x" * 32]
    want = [reference_amount_text(c) for c in cells]
    monkeypatch.setattr(_amounts, "_PY", Refuse())
    assert amount_texts(pd.Series(cells, dtype=object)).tolist() == want
    assert amount_texts(pd.Series(cells + [None, -3.5], dtype=object)).tolist() == want + [None, 3.5]
    with pytest.raises(AssertionError, match="Python's"):
        amount_texts(pd.Series(cells + ["x" * 33], dtype=object))
    with pytest.raises(AssertionError, match="Python's"):
        amount_texts(pd.Series(cells + ["1\x00"], dtype=object))


def test_nan_stays_nan_and_dtype_follows_the_cells():
    assert amount_texts(pd.Series([float("nan"), -1.5], dtype=object)).tolist()[1] == 1.5
    assert amount_texts(pd.Series([float("nan"), -1.5], dtype=object)).dtype == np.float64
    assert amount_texts(pd.Series([-1, 2], dtype=object)).dtype == np.int64
    assert amount_texts(pd.Series([True, False], dtype=object)).dtype == bool
    assert amount_texts(pd.Series([], dtype=object)).dtype == object
    s = pd.Series(["-1 Dr"], index=[7], name="IGST", dtype=object)
    out = amount_texts(s)
    assert out.index.tolist() == [7] and out.name == "IGST" and out.tolist() == ["1"]


def test_both_call_sites_clean_a_column_at_a_time(monkeypatch, tmp_path):
    """The amount columns and Tally's taxable-ledger columns both go through ``amount_texts``, once per
    column (not per value), and read Dr/Cr, parentheses and ₹ as before."""
    calls = []

    def spy(series):
        calls.append(series.name)
        return amount_texts(series)

    monkeypatch.setattr(books, "amount_texts", spy)
    t = books.read_one(BOOKS / "tally_purchase_register.xlsx")  # taxable value from the ledger columns
    assert "Taxable Value" not in calls and any(c.lower().startswith("purchase") for c in calls)
    assert {"IGST", "CGST", "SGST"} <= set(calls)
    assert len(t) == 4
    calls.clear()
    p = tmp_path / "books.csv"
    p.write_text("Supplier GSTIN,Document Number,Document Date,Taxable Value,IGST,CGST\n"
                 "29AAACS2222T1ZX,INV-1,07-10-2026,\"₹ 1,00,000.50 Dr\",(18.00),-0\n"
                 "29AAACS2222T1ZX,INV-2,08-10-2026,12Cr,\"-1,234.5 cr\",\n", encoding="utf-8")
    c = books.read_one(p)
    assert calls == ["Taxable Value", "IGST", "CGST"]
    assert c["taxable_value"].tolist() == [100000.5, 12.0]
    assert c["igst"].tolist() == [18.0, 1234.5] and c["cgst"].tolist() == [0.0, 0.0]
