"""The report sheets' grid writer (:func:`ims_excel.book.edit.grid_sheet_rows`: Validation, Liability,
Reconciliation, Suppliers) writes the record rows column by column, once per distinct value (issue 11:
"never a per-row loop on a hot path"); its XML must be, byte for byte, what the cell-by-cell writer it
replaced gave (kept below as the reference), for every kind of value a grid holds."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ims_excel.book import outputs
from ims_excel.book.edit import Styles, grid_sheet_rows
from ims_excel.xlsx import dates, sheetxml
from ims_excel.xlsx.package import col_letters


def reference_rows(grid: outputs.Grid, styles: Styles, first_row: int = 1) -> list[str]:
    """The cell-by-cell writer as it was before (commit 3575bcd), verbatim."""
    width = max((len(r) for r in grid.rows), default=1)
    letters = [col_letters(j) for j in range(1, width + 1)]
    special = set(grid.headers) | set(grid.titles)
    s_text, s_date, s_amount, s_head = (sheetxml.style_attr(styles.text), sheetxml.style_attr(styles.date),
                                        sheetxml.style_attr(styles.amount), sheetxml.style_attr(styles.header))
    out = []
    for k, values in enumerate(grid.rows):
        r = first_row + k
        head = k in special
        st_text = (s_head if k in grid.headers else "") if head else s_text
        cells = []
        for j, v in enumerate(values):
            if v is None:
                continue
            ref = f"{letters[j]}{r}"
            tv = type(v)
            if tv is str:
                if v:
                    cells.append(f'<c r="{ref}"{st_text} t="inlineStr"><is>{sheetxml.inline_text(v)}</is></c>')
            elif tv is bool or tv is np.bool_:
                cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
            elif tv is pd.Timestamp:
                if v is not pd.NaT:
                    serial = dates.serial(v)
                    cells.append(f'<c r="{ref}"{"" if head else s_date}><v>{sheetxml.number_text(serial)}</v></c>')
            elif isinstance(v, (int, float, np.integer, np.floating)):
                if v == v:
                    st = s_amount if (j + 1) in grid.amount_cols and not head else ""
                    cells.append(f'<c r="{ref}"{st}><v>{sheetxml.number_text(v)}</v></c>')
            else:
                cells.append(sheetxml.value_cell(ref, v, styles.text))
        tall = ' ht="30" customHeight="1"' if k in grid.headers else ""
        out.append(f'<row r="{r}"{tall}>' + "".join(cells) + "</row>")
    return out


# every kind of value: text needing escapes (&, <, >, quotes, control characters, _xHHHH_, leading /
# trailing spaces, newlines, non-ASCII), "" and None (blank), numbers (int, float, -0.0, NaN, numpy
# ints/floats, big and tiny), dates (Timestamp, NaT, datetime.date), booleans (Python and numpy), and a
# text that looks like a formula (written as text: a report sheet never holds a formula)
VALUES = ["plain", "A & B <c> \"q\" 'a'", "tab\there\x01\x1f", "_x0041_ literal", "  padded ", "two\nlines",
          "cr\rline", "₹ 1,200 नमस्ते", "", None, "=SUM(A1:A2)", "+91", 0, 7, -12, 10 ** 15, 0.1, -0.0, 2.5e-9,
          1e21, float("nan"), np.int64(42), np.float64(3.25), np.float64("nan"), np.int32(-5),
          pd.Timestamp("2026-10-31"), pd.Timestamp("2026-11-26 13:45"), pd.NaT, dt.date(2026, 4, 1), True,
          False, np.bool_(True), np.bool_(False), 1.0, 1, "1"]


def _grid(rng: np.random.Generator, n: int) -> outputs.Grid:
    rows: list[list[object]] = [["Title & <stamp>"], ["second title", 5], [], ["Head A", "Head B", "Date", 3.5]]
    for _ in range(n):  # ragged rows of mixed values, some columns one kind, some every kind
        width = int(rng.integers(0, 9))
        row = [VALUES[int(rng.integers(len(VALUES)))] for _ in range(width)]
        if width > 2:
            row[1] = float(rng.integers(-5, 5)) / 4  # an amount column, repeating values
        rows.append(row)
    rows += [[], ["Second list header", None, "x"], ["tail", 1.5, pd.Timestamp("2026-01-02")]]
    return outputs.Grid(rows, titles=[0, 1], headers=[3, n + 5], date_cols={3}, amount_cols={2, 4},
                        widths={1: 10})


@pytest.mark.parametrize("styles", [Styles(7, 3, 4, 5, None), Styles(None, None, None, None, None)])
@pytest.mark.parametrize("first_row", [1, 40])
def test_grid_xml_equals_cell_by_cell_writer(styles: Styles, first_row: int) -> None:
    grid = _grid(np.random.default_rng(11), 600)
    got = grid_sheet_rows(grid, styles, first_row=first_row)
    want = reference_rows(grid, styles, first_row=first_row)
    assert len(got) == len(want) == len(grid.rows)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"grid row {k}"


def test_grid_xml_every_value_once_per_column() -> None:
    """Each value alone in a column, and every value in one column (the per-distinct-value lookup must
    keep 1, 1.0, True and "1" apart, NaN and NaT blank)."""
    styles = Styles(7, 3, 4, 5, None)
    grid = outputs.Grid([["t"], *[[v, v] for v in VALUES], list(VALUES)], titles=[0], headers=[],
                        date_cols=set(), amount_cols={2}, widths={})
    got = grid_sheet_rows(grid, styles)
    assert got == reference_rows(grid, styles)
    assert '<c r="A' not in got[VALUES.index(None) + 1] and '<c r="A' not in got[VALUES.index("") + 1]
    assert '<c r="B{}" t="b"><v>1</v></c>'.format(VALUES.index(True) + 2) in got[VALUES.index(True) + 1]
    assert "&amp;" in got[2] and "&lt;c&gt;" in got[2]
