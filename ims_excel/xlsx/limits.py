"""Excel's limits, in one table, and the guards every writer runs before it writes anything.

Microsoft's "Excel specifications and limits" (Excel 2007 and later, the same
in 2016, 2019, 2021 and Microsoft 365): a worksheet has 1,048,576 rows and
16,384 columns; a cell holds at most 32,767 characters; a formula's contents
at most 8,192 characters and 64 levels of nested functions; a data-validation
list typed into the rule at most 255 characters. A file past them is not an
error for the zip or the XML: Excel repairs it on open (rows dropped, text cut)
and says so, so they are checked here, before a part is written.

Each guard returns the :class:`LimitProblem` list (empty: within the limits)
or raises :class:`OverLimits` (a :class:`~ims_excel.xlsx.package.PackageProblem`,
which the doors report as bad input: exit 2, nothing written), naming the
file, sheet, row and column a person can find.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ims_excel.xlsx.package import MAX_COLS, MAX_ROWS, PackageProblem
from ims_excel.xlsx.problems import Problem

# MAX_ROWS (1,048,576: the last row; a table with a header row holds 1,048,575 records) and MAX_COLS
# (16,384, A to XFD) are the package layer's, which the import's room check uses: one value each.
MAX_COLUMNS = MAX_COLS
__all__ = ["MAX_ROWS", "MAX_COLUMNS", "MAX_CELL_TEXT", "MAX_FORMULA", "MAX_NESTING", "MAX_LIST_VALIDATION",
           "LimitProblem", "OverLimits", "text_problems", "check_text", "formula_problem", "check_formula",
           "check_rows"]
MAX_CELL_TEXT = 32_767
"""Characters in one cell."""
MAX_FORMULA = 8_192
"""Characters in a formula's contents."""
MAX_NESTING = 64
"""Levels of nested functions in a formula."""
MAX_LIST_VALIDATION = 255
"""Characters of a data-validation list typed into the rule (a list from a range has no such limit)."""


LimitProblem = Problem
"""One cell (or a whole sheet) past a limit: the same shape as ``normalise.InputProblem``."""


class OverLimits(PackageProblem):
    """Writing would pass Excel's limits; ``problems`` lists every place."""

    def __init__(self, problems: list[LimitProblem]):
        super().__init__(problems[0].file, "; ".join(str(p) for p in problems))
        self.items = problems

    @property
    def problems(self) -> list[LimitProblem]:  # type: ignore[override]
        return self.items


def text_problems(values: Sequence | pd.Series | np.ndarray, *, file: str, column: str,
                  rows: Sequence[int] | np.ndarray | None = None, sheet: str | None = None,
                  what: str = "this text") -> list[LimitProblem]:
    """The cells of one column longer than :data:`MAX_CELL_TEXT` characters (vectorised).

    ``rows``: the row each value is found at (an Excel row, or a data row of a
    CSV); default 1..n.
    """
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if not len(s):
        return []
    try:
        lengths = s.str.len().fillna(0).to_numpy()  # not text (numbers, None): 0
    except AttributeError:  # no text in the column at all
        return []
    over = np.flatnonzero(lengths > MAX_CELL_TEXT)
    if not len(over):
        return []
    where = np.asarray(rows) if rows is not None else np.arange(1, len(s) + 1)
    return [LimitProblem(file, int(where[i]), column,
                         f"{what} is {int(lengths[i]):,} characters; an Excel cell holds at most "
                         f"{MAX_CELL_TEXT:,}", sheet) for i in over]


def check_text(columns: dict[str, Sequence | pd.Series | np.ndarray], *, file: str,
               rows: Sequence[int] | np.ndarray | None = None, sheet: str | None = None) -> None:
    """Raise :class:`OverLimits` naming every cell of ``columns`` over :data:`MAX_CELL_TEXT`."""
    problems = [p for name, values in columns.items()
                for p in text_problems(values, file=file, column=name, rows=rows, sheet=sheet)]
    if problems:
        raise OverLimits(problems)


def formula_problem(formula: str, *, file: str, column: str | None = None, row: int | None = None,
                    sheet: str | None = None) -> LimitProblem | None:
    """A problem if ``formula`` (as stored, without the leading ``=``) is over :data:`MAX_FORMULA`."""
    text = formula[1:] if formula.startswith("=") else formula
    if len(text) <= MAX_FORMULA:
        return None
    return LimitProblem(file, row, column, f"the formula is {len(text):,} characters; Excel allows at most "
                                           f"{MAX_FORMULA:,}", sheet)


def check_formula(formula: str, **where) -> None:
    """Raise :class:`OverLimits` if ``formula`` is over :data:`MAX_FORMULA` characters."""
    problem = formula_problem(formula, **where)
    if problem:
        raise OverLimits([problem])


def check_rows(last_row: int, *, file: str, sheet: str | None = None, what: str = "the records") -> None:
    """Raise :class:`OverLimits` if a write would reach past row :data:`MAX_ROWS`."""
    if last_row > MAX_ROWS:
        raise OverLimits([LimitProblem(
            file, None, None, f"{what} would need rows up to {last_row:,}; an Excel sheet has "
                              f"{MAX_ROWS:,} rows ({last_row - MAX_ROWS:,} too many)", sheet)])
