"""The port: what a use case needs from a client workbook, whichever way the workbook is reached (issue 13).

The use cases (:func:`ims_excel.book.imports.merge_into`, :func:`ims_excel.book.export.upload_from`,
:func:`ims_excel.book.reconcile.reconcile_into`, :func:`ims_excel.book.processing.process_into`,
:func:`evaluate_workbook`) take a :class:`Workbook`; two adapters give it:

* :class:`ims_excel.book.filebook.FileBook` - a closed ``.xlsm`` on disk, through the fast xlsx layer
  (streamed, edited in place, saved atomically with a backup): what the ``ims-excel`` commands pass;
* :class:`ims_excel.xl.openbook.OpenBook` - the workbook open in Excel, through xlwings' object model:
  what the Start sheet's buttons pass.

So a button and its command differ only in the adapter, as xlwings itself puts one object model over
several backends. Rows and columns are sheet numbers (1-based); cell values are what
:func:`ims_excel.template.tables.cell_columns` gives (text, floats for amounts and Excel date serials,
None for blank).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ims_excel.book import outputs
from ims_excel.book.read import INWARD, no_inward_table
from ims_excel.engine import Context, Result, evaluate


@dataclass
class Table:
    """A data table (Inward / Outward) as read through a port."""

    name: str
    direction: str  # "inward" / "outward"
    frame: pd.DataFrame  # typed records (or the raw cells, typed=False), one per non-blank table row
    rows: np.ndarray  # sheet row of each record
    inputs: dict[str, int]  # canonical input column name -> sheet column
    last_filled: int  # last sheet row with an input value (the header row if none)
    handle: Any = None  # the adapter's own (the file's TableData, the xlwings table)


class Workbook(Protocol):
    """The operations on a client workbook that the use cases need (see the module doc)."""

    path: Path  # the workbook's file (the open workbook's ``fullname``)
    name: str  # how messages name the workbook (the file: its path; the open workbook: its file name)

    def config(self) -> tuple[dict[str, object], dict[str, tuple[str, int, str]]]:
        """Config values by defined name, and each name's (sheet, row, label with the cell address)."""

    def table(self, name: str, direction: str, *, typed: bool = True) -> Table | None:
        """The records of the table ``name`` (None: the workbook has no such table)."""

    def history(self) -> pd.DataFrame | None:
        """The History table's rows as text/number cells by header (None: no History table)."""

    def write_table(self, table: Table, updates: dict[int, dict[str, object]], added: pd.DataFrame
                    ) -> tuple[int, int] | None:
        """Rewrite cells of existing rows (``updates``: {sheet row: {canonical column: cell value}}; the
        other cells, styles and formulas stay) and append the typed records ``added`` after the last
        filled row (the table grows, its formulas fill); (first, last) sheet rows added, None if none."""

    def append_rows(self, sheet: str, header: list[str], rows: list[list[object]]) -> None:
        """Append rows below a log sheet's last row (the sheet, with ``header``, added the first time)."""

    def put_sheet(self, sheet: str, grid: outputs.Grid, *, after: str) -> None:
        """Replace the sheet's contents with ``grid`` (the sheet added after ``after`` the first time)."""

    def find_mark(self, sheet: str, mark: str) -> tuple[int | None, int] | None:
        """(the row of the first cell starting with ``mark``, or None; the last filled row above it) of the
        sheet; None: the workbook has no such sheet."""

    def put_rows(self, sheet: str, grid: outputs.Grid, *, first_row: int) -> None:
        """Replace the sheet's rows from ``first_row`` down with ``grid`` (the old block cleared; the rows
        above, their cells and formulas, stay)."""

    def cache_results(self, result: Result) -> None:
        """The engine's result for the formula cells' values (issue 9): the file caches it in every formula
        cell as it saves (and gives a typed-over formula cell its formula back); the open workbook: nothing,
        Excel calculates its own formulas."""

    def save(self, *, backup: bool = True) -> bool:
        """Make the writes last (the file: one atomic save, if anything was written; the open workbook:
        nothing, the user saves in Excel); whether anything was written."""


@dataclass
class Inputs:
    """What the engine evaluates, as read through a port."""

    config: dict[str, object]  # Config values by defined name
    context: Context
    inward: Table
    outward: Table | None


@dataclass(frozen=True)
class ConfigRead:
    """A workbook's Config sheet as read once: its values and each value's cell (by defined name), and the
    engine's Context from them."""

    values: dict[str, object]
    cells: dict[str, tuple[str, int, str]]
    context: Context


def config_and_context(wb: Workbook, *, as_of: dt.date | None = None, gstr3b_filed: bool | None = None,
                       overrides: dict[str, object] | None = None) -> ConfigRead:
    """The workbook's Config values (read once), their cells, and the engine's Context from them (each problem
    named by its cell; ``overrides`` go into the Context only)."""
    values, cells = wb.config()
    ctx = outputs.context_from_config({**values, **(overrides or {})}, file=wb.name, cells=cells, as_of=as_of,
                                      gstr3b_filed=gstr3b_filed)
    return ConfigRead(values, cells, ctx)


def context_of(wb: Workbook, *, as_of: dt.date | None = None, gstr3b_filed: bool | None = None,
               overrides: dict[str, object] | None = None) -> Context:
    """The engine's Context from the workbook's Config (each problem named by its cell)."""
    return config_and_context(wb, as_of=as_of, gstr3b_filed=gstr3b_filed, overrides=overrides).context


def inward_table(wb: Workbook) -> Table:
    """The workbook's Inward table, or the problem that it has none."""
    inward = wb.table(INWARD, "inward")
    if inward is None:
        raise no_inward_table(wb.path)
    return inward


def read_inputs(wb: Workbook, *, outward: bool = True, as_of: dt.date | None = None) -> Inputs:
    """The Config, the Context and the Inward (and Outward) records of a workbook."""
    config = config_and_context(wb, as_of=as_of)
    inward = inward_table(wb)
    out = wb.table("Outward", "outward") if outward else None
    return Inputs(config.values, config.context, inward, out)


def evaluate_inputs(wb: Workbook, inputs: Inputs) -> tuple[Result, np.ndarray, np.ndarray | None]:
    """(the engine's result, the Inward sheet row of each record, the Outward rows) of read inputs."""
    out = inputs.outward
    out_frame = out.frame if out is not None and len(out.frame) else None
    result = evaluate(inputs.inward.frame, inputs.context, out_frame, inward_name=wb.name, outward_name=wb.name)
    return result, inputs.inward.rows, (out.rows if out_frame is not None else None)


def evaluate_workbook(wb: Workbook, *, outward: bool = True, as_of: dt.date | None = None
                      ) -> tuple[Result, np.ndarray, np.ndarray | None]:
    """(the engine's result, the Inward sheet row of each record, the Outward rows) of a workbook."""
    return evaluate_inputs(wb, read_inputs(wb, outward=outward, as_of=as_of))


__all__ = ["Table", "Workbook", "Inputs", "ConfigRead", "config_and_context", "context_of", "inward_table", "read_inputs", "evaluate_inputs", "evaluate_workbook"]
