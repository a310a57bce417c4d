"""The ``process`` use case: evaluate a client workbook and write the results into it (issue 13).

:func:`process_into` takes a :class:`~ims_excel.book.port.Workbook`: the ``ims-excel process`` command
hands it the file (:class:`~ims_excel.book.filebook.FileBook`, through
:func:`ims_excel.book.process.process`), the Start sheet's Validate and Build-liability buttons the
open workbook (:class:`~ims_excel.xl.openbook.OpenBook`); so both write the same Validation sheet and
the same Liability rows, by the same rules:

* the Validation sheet (:func:`ims_excel.book.outputs.validation_grid`), put after Inward;
* the add-back rows of the Liability sheet (:func:`ims_excel.book.outputs.liability_grid`), placed by
  :func:`liability_row`: where the block a previous run wrote starts (its title,
  :data:`ims_excel.book.outputs.LIABILITY_MARK`), else two blank rows below the summary; the old block
  is cleared, the summary above it stays;
* the engine's values for every formula cell (:meth:`~ims_excel.book.port.Workbook.cache_results`: the
  file caches them, issue 9; Excel calculates its own).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ims_excel.book import outputs
from ims_excel.book.port import Workbook, evaluate_inputs, read_inputs
from ims_excel.engine import Result

LIABILITY = "Liability"
LIABILITY_GAP = 3
"""The add-back block's first row is this many rows below the Liability summary's last filled row (two
blank rows between), the first time it is written."""


@dataclass
class Processed:
    """What :func:`process_into` wrote."""

    result: Result
    validation: outputs.Grid | None  # the Validation sheet's grid (None: not asked for)
    liability: outputs.Grid | None  # the Liability rows' grid (None: not asked for, or no Liability sheet)
    liability_row: int | None  # the Liability sheet row the block starts at
    seconds: dict[str, float] = field(default_factory=dict)  # read, engine


def liability_row(mark_row: int | None, last_filled: int) -> int:
    """Where the add-back block starts on the Liability sheet: at the block a previous run wrote (the
    row of its title), else :data:`LIABILITY_GAP` rows below the summary's last filled row.

    >>> liability_row(40, 30), liability_row(None, 30)
    (40, 33)
    """
    return mark_row if mark_row is not None else last_filled + LIABILITY_GAP


def process_into(wb: Workbook, *, stamp: str, as_of: dt.date | None = None, validation: bool = True,
                 liability: bool = True, progress: Callable[[str, int, int], None] | None = None) -> Processed:
    """Evaluate ``wb`` (Inward and Outward records, the Config's Context) and write, as asked, the
    Validation sheet and the Liability add-back rows, stamped ``stamp``; the engine's values go to the
    formula cells (:meth:`~ims_excel.book.port.Workbook.cache_results`). The caller saves ``wb``.

    ``progress(phase, done, total)`` hears when the engine starts (the adapter reports the reading).
    """
    t0 = time.perf_counter()
    inputs = read_inputs(wb, as_of=as_of)
    t1 = time.perf_counter()
    if progress is not None:
        progress("engine", 0, 0)
    result, rows, out_rows = evaluate_inputs(wb, inputs)
    seconds = {"read": t1 - t0, "engine": time.perf_counter() - t1}
    grid = lgrid = start = None
    if validation:
        grid = outputs.validation_grid(result, source_rows=rows, legal_name=outputs.cell_text(
            inputs.config.get("LegalName")), stamp=stamp)
        wb.put_sheet(outputs.VALIDATION_SHEET, grid, after=inputs.inward.name)
    found = wb.find_mark(LIABILITY, outputs.LIABILITY_MARK) if liability else None
    if found is not None:
        lgrid = outputs.liability_grid(result, source_rows=out_rows, stamp=stamp)
        start = liability_row(*found)
        wb.put_rows(LIABILITY, lgrid, first_row=start)
    wb.cache_results(result)
    return Processed(result, grid, lgrid, start, seconds)


__all__ = ["Processed", "process_into", "liability_row", "LIABILITY", "LIABILITY_GAP"]
