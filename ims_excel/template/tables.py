"""Data tables (Inward, Outward): canonical input columns, then computed columns.

A :class:`TableSpec` is all the builder needs. Input columns come from
``ims_excel.records``; computed columns are :class:`Computed` entries that
``inward.py`` / ``outward.py`` list (the formula author's extension point).

What the writer does for every table:

* one Excel Table named ``spec.name`` with the headers in order, header row 1,
  data from row 2 (at least one, empty, row so that Excel extends the table
  and its column formulas when rows are pasted below);
* input columns unlocked, formatted by kind (text ``@``, dates dd-mm-yyyy,
  amounts Indian grouping); computed columns locked, grey (styled as computed); the value columns a
  command writes (``records.Column.tool``: reconcile's Match Status, Match Note, Suggested Action)
  styled as computed too, without a drop-down: not for typing, a later run overwrites them;
* drop-downs for every enum and flag column, plus light checks on dates,
  amounts and lengths (whole columns, so they hold for appended rows);
* red rows for Status = "error", amber for "warning";
* frozen header row and columns up to Document Number, the table's autofilter, and no sheet
  protection: Excel sorts only unlocked cells of a protected sheet, so a protected table with
  formula columns could not be sorted (issue 9). The formulas are guarded instead by ``process``,
  which restores any computed cell typed over and reports it (``sheetxml.Injector``);
* ``<ignoredErrors>``: no "number stored as text" triangles on text codes, no "inconsistent
  calculated column" flags on the computed columns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from ims_excel import periods
from ims_excel.normalise import blank_mask, field_name, parse_amounts, parse_dates
from ims_excel.records import Column, header_key
from ims_excel.template import formulas, values
from ims_excel.template.styles import Styles
from ims_excel.xlsx.dates import serials
from ims_excel.xlsx import limits

MAX_ROW = 1_048_575  # last 0-based worksheet row
NOTE_AUTHOR = "ims_excel"
"""Who the header notes are by (``upgrade`` knows an older template's note on a column it no longer has by it)."""


@dataclass(frozen=True)
class Computed:
    """One computed (formula) column of a data table.

    ``formula`` is the column formula, written to every data row and stored as
    the table's calculated-column formula. Refer to the same row with
    ``formulas.this_row(table, col)`` (``Inward[[#This Row],[Col]]``), to Config
    values by their defined names (``ReturnPeriod``, ``AsOfDate``, see
    ``config.FIELDS``), and to the small ``Rules``/``Codes`` tables with
    INDEX/MATCH. No whole-column references to the own table (O(1) per row).
    ``kind`` picks the number format (styles.NUM_FORMATS). ``helper`` columns are
    intermediate steps: grouped (outline level 1) and collapsed at the right.
    """

    header: str
    formula: str
    kind: str = "text"
    doc: str = ""
    width: float | None = None
    helper: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A data table: its name, sheet, canonical input columns and computed columns."""

    name: str
    sheet: str
    inputs: tuple[Column, ...]
    computed: tuple[Computed, ...]
    status_column: str | None = "Status"
    grouped: tuple[str, ...] = ()
    """Input columns (adjacent) shown as one outline group, collapsed: details a person rarely reads."""

    @property
    def headers(self) -> list[str]:
        return [c.name for c in self.inputs] + [c.header for c in self.computed]

    def column_index(self, header: str) -> int:
        return self.headers.index(header)

    def problems(self) -> list[str]:
        """Formula problems (LibreOffice compatibility, O(1) per row, unknown columns)."""
        out = []
        known = set(self.headers)
        if len(known) != len(self.headers):
            out.append(f"{self.name}: duplicate headers")
        for c in self.computed:
            for p in formulas.check_formula(c.formula, per_row_table=self.name):
                out.append(f"{self.name}[{c.header}]: {p}")
            for ref in _this_row_refs(c.formula, self.name):
                if ref not in known:
                    out.append(f"{self.name}[{c.header}]: unknown column {ref!r}")
        return out


def _this_row_refs(formula: str, table: str) -> list[str]:
    pattern = re.escape(table) + r"\[\[#This Row\],\[((?:[^\]']|'.)*)\]\]"
    return [re.sub(r"'(.)", r"\1", m) for m in re.findall(pattern, formula)]


_WIDTHS = {"text": 16, "enum": 13, "flag": 11, "period": 9, "date": 11, "amount": 14}


_TOOL_WIDTHS = {"Match Note": 95, "Suggested Action": 11, "Match Status": 24}


def _width(col: Column) -> float:
    if col.name in _TOOL_WIDTHS:
        return _TOOL_WIDTHS[col.name]
    if col.name.endswith("GSTIN"):
        return 17
    if col.name.endswith("Name") or col.name == "Remarks":
        return 26
    return _WIDTHS.get(col.kind, 14)


def _validation(col: Column, remarks_max: int) -> dict | None:
    """Data validation for one input column (None: free input, or a column a command writes)."""
    if col.tool:
        return None
    if col.kind in ("enum", "flag"):
        values = list(col.values) if col.kind == "enum" else ["Y", "N"]
        if len(",".join(values)) > 255:
            raise ValueError(f"{col.name}: drop-down list longer than 255 characters")
        rule = {"validate": "list", "source": values, "error_type": "stop",
                "error_title": col.name[:32], "error_message": "Pick a value from the list."}
        if col.doc:
            rule.update(input_title=col.name[:32], input_message=col.doc[:255])
        return rule
    if col.kind == "date":
        return {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2199, 12, 31), "error_type": "warning",
                "error_message": "Enter a date as dd-mm-yyyy."}
    if col.kind == "amount":
        return {"validate": "decimal", "criteria": "between", "minimum": 0,
                "maximum": 9999999999999.99, "error_type": "stop",
                "error_message": "Amounts are positive (notes too), at most 9999999999999.99."}
    if col.kind == "period":
        return {"validate": "length", "criteria": "==", "value": 7, "error_type": "warning",
                "error_message": "Write the period as YYYY-MM, e.g. 2025-11."}
    if col.name.endswith("GSTIN"):
        return {"validate": "length", "criteria": "==", "value": 15, "error_type": "warning",
                "error_message": "A GSTIN has 15 characters."}
    if col.name == "Document Number" or col.name == "Original Document Number":
        return {"validate": "length", "criteria": "<=", "value": 16, "error_type": "warning",
                "error_message": "Document numbers have at most 16 characters."}
    if col.name == "Remarks":
        # a warning, not a stop: spaces around the remark are not counted (validation.remark_text, G10), which a
        # length rule cannot see; REMARKS_TOO_LONG refuses what is really too long
        return {"validate": "length", "criteria": "<=", "value": remarks_max, "error_type": "warning",
                "error_message": f"Remarks have at most {remarks_max} characters (spaces before and after "
                                 "are not counted)."}
    return None


# ------------------------------------------------------------------ data -> cells

def cell_columns(spec: TableSpec, frame: pd.DataFrame | None) -> tuple[int, dict[str, list]]:
    """(row count, {input column: cell values}) from a raw or normalised frame.

    Accepts canonical headers (matched like ``records.header_key``) or the
    snake_case fields of ``normalise.normalise`` (periods as month indices,
    flags as -1/0/1). Cells: ``str`` for text, ``float`` for amounts and dates
    (Excel serials), ``None`` for blank. Unknown columns are ignored.
    """
    if frame is None or len(frame) == 0:
        return 0, {}

    by_key = {header_key(c): c for c in frame.columns}
    by_field = {str(c): c for c in frame.columns}
    out: dict[str, list] = {}
    for col in spec.inputs:
        src = by_field.get(field_name(col.name))
        if src is None:
            src = by_key.get(col.key)
        if src is None:
            continue
        out[col.name] = _cells(col, frame[src])
    return len(frame), out


def _cells(col: Column, series: pd.Series) -> list:
    s = series.reset_index(drop=True)
    if col.kind == "amount":
        vals, bad = parse_amounts(s)  # plain, Western and Indian grouping, as the engine reads them
        blank = blank_mask(s)
        return [str(raw) if b else (None if k or pd.isna(v) else float(v))
                for raw, v, b, k in zip(s.to_numpy(), vals.to_numpy(), bad.to_numpy(), blank.to_numpy())]
    if col.kind == "date":
        dates, bad = parse_dates(s)  # ISO, dd-mm-yyyy, dd/mm/yyyy, Excel serials: as the engine reads them
        serial = serials(dates)
        return [str(raw) if b else (None if pd.isna(v) else float(v))  # unreadable: kept as typed
                for raw, v, b in zip(s.to_numpy(), serial, bad.to_numpy())]
    if col.kind == "period" and pd.api.types.is_integer_dtype(s.dtype):
        return [periods.iso(int(v)) if v >= 0 else None for v in s.to_numpy()]
    if col.kind == "flag" and pd.api.types.is_integer_dtype(s.dtype):
        return [{1: "Y", 0: "N"}.get(int(v)) for v in s.to_numpy()]
    out = []
    for v in s.astype(object).to_numpy():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
            out.append(None)
        else:
            t = v if isinstance(v, str) else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                               else str(v))
            out.append(t if t != "" else None)
    return out


# ------------------------------------------------------------------ writer

SHARE_MARKER = '="#ims-shared#"'
"""Formula written in rows 3.. of a computed column when the column is to be stored as one shared
formula (``shared.share_formulas`` replaces it): keeps the XML small while XlsxWriter writes it."""


def write_table(ws: Any, styles: Styles, spec: TableSpec, frame: pd.DataFrame | None = None,
                *, remarks_max: int = 250, shared: bool = False, file: str = "<workbook>") -> int:
    """Write the table (and its data rows, if any) on ``ws``; returns the data row count.

    Excel's limits (:mod:`ims_excel.xlsx.limits`: rows, text in a cell, formula
    length) are checked first; past one, :class:`~ims_excel.xlsx.limits.OverLimits`
    names ``file``, the sheet, row and column, and the book is not written.

    ``shared``: the computed columns' rows after the first hold :data:`SHARE_MARKER`,
    for ``shared.share_formulas`` to turn into one shared formula per column.
    """
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    n, cells = cell_columns(spec, frame)
    check_limits(spec, n, cells, file=file, first_row=2)
    rows = max(n, 1)
    ncols = len(spec.headers)
    by_header = {col.name: {"header": col.name, "format": _input_format(styles, col)} for col in spec.inputs}
    by_header.update({c.header: {"header": c.header, "formula": c.formula, "format": styles.computed(c.kind)}
                      for c in spec.computed})
    columns = [by_header[h] for h in spec.headers]
    ws.add_table(0, 0, rows, ncols - 1, {"name": spec.name, "columns": columns,
                                          "style": "Table Style Light 9"})
    if n == 0:  # the one empty row caches what its formulas give there (values.blank_row_values)
        for k, value in enumerate(values.blank_row_values(spec).values(), start=len(spec.inputs)):
            ws.table[1][k] = ws.table[1][k]._replace(value=value)  # XlsxWriter's Formula cell tuple
    header = styles.header()
    for j, name in enumerate(spec.headers):
        ws.write_string(0, j, name, header)
    grouped = [spec.column_index(h) for h in spec.grouped]
    if grouped and grouped != list(range(grouped[0], grouped[0] + len(grouped))):
        raise ValueError(f"{spec.name}: the grouped columns are not adjacent")
    for col in spec.inputs:
        j = spec.column_index(col.name)
        fmt = _input_format(styles, col)
        options = {"level": 1, "hidden": True} if j in grouped else {}
        if grouped and j == grouped[-1] + 1:
            options = {"collapsed": True}  # the group's [+] button
        ws.set_column(j, j, _width(col), fmt, options)
        _write_column(ws, j, cells.get(col.name), fmt, col.kind)
        rule = _validation(col, remarks_max)
        if rule:
            ws.data_validation(1, j, MAX_ROW, j, rule)
        if col.doc:
            ws.write_comment(0, j, col.doc, {"author": NOTE_AUTHOR, "x_scale": 1.6})
    if shared and rows > 1:
        for c in spec.computed:
            fmt = styles.computed(c.kind)
            for i in range(2, rows + 1):
                ws.write_formula(i, spec.column_index(c.header), SHARE_MARKER, fmt)
    if spec.status_column and spec.status_column in spec.headers:
        _status_colours(ws, styles, spec)
    runs = column_runs([spec.column_index(c.header) for c in spec.computed if c.kind == "amount"])
    if runs:
        styles.indian_grouping(ws, 1, runs[0][0], MAX_ROW, runs[0][1], more=runs[1:])
    for c in spec.computed:
        j = spec.column_index(c.header)
        options = {"level": 1, "hidden": True} if c.helper else {}
        ws.set_column(j, j, c.width or 14, styles.computed(c.kind), options)
        if c.doc:
            ws.write_comment(0, j, c.doc, {"author": NOTE_AUTHOR, "x_scale": 1.6})
    if any(c.helper for c in spec.computed):  # the outline's [+] button, right of the helper group
        ws.set_column(ncols, ncols, None, None, {"collapsed": True})
    ws.set_row(0, 45)
    ws.freeze_panes(1, frozen_columns(spec))  # the header row and the columns up to the document number
    ws.ignore_errors(_ignored_errors(spec))
    ws.set_landscape()
    ws.set_paper(9)
    ws.repeat_rows(0)
    ws.fit_to_pages(3, 0)
    return n


def _input_format(styles: Styles, col: Column) -> Any:
    """An input column's cell format: unlocked by kind; a column a command writes looks computed."""
    return styles.computed(col.kind) if col.tool else styles.input(col.kind)


def _ignored_errors(spec: TableSpec) -> dict[str, str]:
    """Excel's error-checking flags switched off where they are expected (``<ignoredErrors>``):
    "number stored as text" on the text input columns (a place of supply ``07``, a GSTIN, a document
    number ``0012`` are text on purpose), and "inconsistent calculated column formula" on the computed
    columns, whose rows hold the column formula in A1 form when it is stored as a shared formula."""
    def ranges(headers: list[str]) -> str:
        return " ".join(f"{xl_col_to_name(spec.column_index(h))}2:{xl_col_to_name(spec.column_index(h))}"
                        f"{MAX_ROW + 1}" for h in headers)
    text = [c.name for c in spec.inputs if c.kind not in ("amount", "date")]
    return {"number_stored_as_text": ranges(text), "calculated_column": ranges([c.header for c in spec.computed])}


def check_limits(spec: TableSpec, n: int, cells: dict[str, list], *, file: str, first_row: int,
                 formulas: dict[str, str] | None = None) -> None:
    """Raise :class:`~ims_excel.xlsx.limits.OverLimits` if ``n`` records from sheet row ``first_row`` (their
    ``cells``, :func:`cell_columns`) or the computed columns' formulas are past Excel's limits."""
    limits.check_rows(first_row + n - 1, file=file, sheet=spec.sheet, what=f"{n:,} {spec.name} records")
    limits.check_text(cells, file=file, rows=np.arange(first_row, first_row + n), sheet=spec.sheet)
    for header, formula in (formulas or {c.header: c.formula for c in spec.computed}).items():
        limits.check_formula(formula, file=file, column=header, row=first_row, sheet=spec.sheet)


def _write_column(ws: Any, j: int, values: Sequence | None, fmt: Any, kind: str) -> None:
    if not values:
        return
    if kind in ("amount", "date"):
        for i, v in enumerate(values, start=1):
            if isinstance(v, float):
                ws.write_number(i, j, v, fmt)
            elif v is not None:
                ws.write_string(i, j, v, fmt)
    else:
        write = ws.write_string
        for i, v in enumerate(values, start=1):
            if v is not None:
                write(i, j, v, fmt)


def frozen_columns(spec: TableSpec) -> int:
    """How many columns the sheet keeps in view when scrolled right: those up to Document Number."""
    key = "Document Number" if "Document Number" in spec.headers else spec.headers[0]
    return spec.column_index(key) + 1


def column_runs(cols: Sequence[int]) -> list[tuple[int, int]]:
    """Adjacent column indexes as (first, last) runs.

    >>> column_runs([56, 57, 58, 59, 90, 91, 101])
    [(56, 59), (90, 91), (101, 101)]
    """
    out: list[tuple[int, int]] = []
    for j in sorted(cols):
        if out and j == out[-1][1] + 1:
            out[-1] = (out[-1][0], j)
        else:
            out.append((j, j))
    return out


def _status_colours(ws: Any, styles: Styles, spec: TableSpec) -> None:
    """Red rows for Status = "error", amber for "warning": one element, two expression rules on ``$AX2`` over
    every column of the table, whole columns (Excel and LibreOffice apply them to appended rows).

    Whole rows cost LibreOffice nothing measurable: 20,000 rows, loads side by side, this layout vs the same
    rules on the frozen and Status / Reason Code / Message columns only, on the Status column only, or no
    conditional formats at all were within the loads' noise (README "Performance", issue 9;
    ``benchmarks/bench_recalc.py --variants``), so the accountant keeps the whole row coloured."""
    status = xl_col_to_name(spec.column_index(spec.status_column))
    for word, fmt in (("error", styles.red()), ("warning", styles.amber())):
        ws.conditional_format(1, 0, MAX_ROW, len(spec.headers) - 1, {
            "type": "formula", "criteria": f'=${status}2="{word}"', "format": fmt})
