"""One thing wrong with a file, named so that a person can find it: file, sheet, row, column.

The one shape every "bad input" list uses, whether the reader found it (``normalise.InputProblem``:
a cell that cannot be read) or a writer's guard did (``xlsx.limits.LimitProblem``: a cell past
Excel's limits). It lives in the xlsx layer, which imports nothing of IMS, so both sides can use it
without an upward import (pyproject ``[tool.importlinter]``).

>>> str(Problem("in.csv", 3, "IGST", "'abc' is not an amount", sheet="Inward"))
"in.csv, sheet 'Inward', row 3, column 'IGST': 'abc' is not an amount"
>>> str(Problem("in.csv", None, None, "empty file"))
'in.csv: empty file'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, named so that a person can find it."""

    file: str
    row: int | None  # 1-based data row (or sheet row, as the caller says); None for a whole-file problem
    column: str | None
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"
