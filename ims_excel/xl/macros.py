"""The Start sheet's buttons: Python targets of ``vba_stub/IMSButtons.bas``.

Each button runs ``RunPython "import ims_excel.xl.macros as m; m.<name>()"``
through the workbook's embedded xlwings module. The targets take the open
workbook as ``book`` (default: the calling workbook, ``xw.Book.caller()``,
asked for in :func:`_caller` only) and use a small part of xlwings' object
model, so that tests drive the very same code with an in-memory stand-in:

``book.sheets[name]``, ``book.sheets.add(name, after=...)``, ``book.names[n].refers_to_range``,
``book.fullname``, ``book.app.alert(...)`` / ``.calculate()``; ``sheet.tables[name]``
(``.range``, ``.data_body_range``, ``.resize``), ``sheet.range(a1 | (row, col))``
(``.value``, ``.options(ndim=2)``, ``.resize(rows, cols)``, ``.clear_contents()``),
``sheet.used_range``, ``sheet.clear_contents()``, ``sheet.api.Unprotect/Protect``.

What each does in the open workbook (the ``ims-excel`` commands do the same
on a closed file):

* :func:`import_data` - portal / canonical files appended to the Inward
  (Outward) table; text that starts with ``= + - @`` is written with Excel's
  text prefix, never as a formula;
* :func:`validate` - the Validation sheet;
* :func:`compute` - recalculates and checks the GSTR-3B Table 4 formulas
  against the engine;
* :func:`build_liability` - the add-back rows on the Liability sheet;
* :func:`export_upload_json` - the upload JSON beside the workbook;
* :func:`reconcile` - the purchase register matched with the Inward records: the Reconciliation and
  Suppliers sheets, and with ``apply`` the suggested actions copied into blank Action cells only.

Each returns a short text (also shown with ``book.app.alert``). They call the same use cases as
the commands (:func:`ims_excel.book.imports.read_sources` and :func:`~ims_excel.book.imports.new_records`,
:func:`ims_excel.book.export.upload_of`, :func:`ims_excel.book.outputs.context_from_config`, the
grids of :mod:`ims_excel.book.outputs`); they differ only in how they reach the workbook: this
module is the adapter for the open workbook (xlwings' object model), :mod:`ims_excel.book.read` and
:mod:`ims_excel.book.edit` for the file's parts.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ims_excel.book import outputs
from ims_excel.book.export import upload_of
from ims_excel.book.imports import new_records, read_sources
from ims_excel.engine import evaluate
from ims_excel.formats import to_typed
from ims_excel.formats.upload_json import UploadRefused
from ims_excel.normalise import InputError
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.template import summaries
from ims_excel.template.specs import INWARD as IN_SPEC, OUTWARD as OUT_SPEC
from ims_excel.template.tables import cell_columns
from ims_excel.xlsx.package import PackageProblem

TITLE = "IMS Workbook"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PROTECT = {"Password": "", "DrawingObjects": True, "Contents": True, "Scenarios": True,
           "AllowFormattingColumns": True, "AllowFormattingRows": True, "AllowSorting": True,
           "AllowFiltering": True}
"""Protection put back on an Inward/Outward sheet that a user protected (the build leaves them unprotected,
so that Excel can sort them; no password)."""


def _caller() -> Any:
    import xlwings as xw  # here, not at the top: xlwings needs Excel (Windows/macOS); the tests drive a fake book

    return xw.Book.caller()


_CONVERTED = re.compile(r"[\s\d.,:/%()-]+|true|false|#\w.*", re.IGNORECASE)


def safe(value: object) -> object:
    """A value for ``range.value``: text Excel would read as a formula (or turn into a number, date or
    boolean) gets Excel's text prefix, which is not part of the value.

    >>> safe("=HYPERLINK(1)"), safe("-12"), safe("000123"), safe("01-11-2026"), safe("ok"), safe(12.5)
    ("'=HYPERLINK(1)", "'-12", "'000123", "'01-11-2026", 'ok', 12.5)
    """
    if isinstance(value, str) and (value.startswith(FORMULA_START) or _CONVERTED.fullmatch(value)):
        return "'" + value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value


def _door(func: Callable) -> Callable:
    """Get the workbook, run, and show problems (bad input, refusals) as a message, not a traceback."""
    @functools.wraps(func)
    def run(book: Any = None, *args: Any, **kwargs: Any) -> str:
        book = book if book is not None else _caller()
        try:
            text = func(book, *args, **kwargs)
        except (InputError, PackageProblem) as e:
            shown = "\n".join(str(p) for p in e.problems[:15])
            more = f"\n... and {len(e.problems) - 15} more" if len(e.problems) > 15 else ""
            text = f"Cannot use this input:\n{shown}{more}"
        _alert(book, text)
        return text
    return run


def _alert(book: Any, text: str, buttons: str = "ok") -> str | None:
    app = getattr(book, "app", None)
    if app is None or not hasattr(app, "alert"):
        return None
    return app.alert(text[:1000], title=TITLE, buttons=buttons)


# ---------------------------------------------------------------- reading the open workbook


def _names(book: Any, name: str) -> object:
    try:
        return book.names[name].refers_to_range.value
    except (KeyError, AttributeError, Exception):  # xlwings raises different errors for a missing name
        return None


def config(book: Any) -> tuple[dict[str, object], dict[str, tuple[str, int, str]]]:
    values, cells = {}, {}
    for name in outputs.CONFIG_NAMES:
        try:
            rng = book.names[name].refers_to_range
        except Exception:
            continue
        values[name] = rng.value
        cells[name] = (rng.sheet.name, rng.row, f"{outputs.LABELS.get(name, name)} ({rng.sheet.name}!"
                                               f"{rng.address.replace('$', '')})")
    return values, cells


def context(book: Any):
    values, cells = config(book)
    return outputs.context_from_config(values, file=Path(book.fullname).name, cells=cells)


def _sheet_names(book: Any) -> list[str]:
    return [s.name for s in book.sheets]


def read_table(book: Any, name: str, direction: str, typed: bool = True) -> tuple[pd.DataFrame, np.ndarray, Any]:
    """(records, their sheet rows, the table) of the Inward/Outward table; blank rows skipped."""
    sheet = book.sheets[name]
    table = sheet.tables[name]
    rng = table.range
    grid = rng.options(ndim=2).value
    header, body = [str(h) if h is not None else "" for h in grid[0]], grid[1:]
    canon = {c.key for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    keep_cols = [j for j, h in enumerate(header) if header_key(h) in canon]
    rows = [r for r in body]
    excel_rows = np.arange(rng.row + 1, rng.row + 1 + len(rows))
    data = {header[j]: [r[j] for r in rows] for j in keep_cols}
    raw = pd.DataFrame(data, dtype=object)
    if len(raw):
        blank = raw.map(lambda v: v is None or (isinstance(v, str) and not v.strip())).all(axis=1).to_numpy()
    else:
        blank = np.zeros(0, dtype=bool)
    raw = raw[~blank].reset_index(drop=True)
    excel_rows = excel_rows[~blank]
    raw["_row"] = excel_rows
    raw["_sheet"] = name
    if not typed:
        return raw, excel_rows, table
    typed_frame = to_typed(raw, file=Path(book.fullname).name, direction=direction)
    typed_frame["row"] = np.arange(1, len(typed_frame) + 1)
    return typed_frame, excel_rows, table


def evaluate_open(book: Any, *, outward: bool = True):
    ctx = context(book)
    inward, rows, _ = read_table(book, "Inward", "inward")
    out_frame, out_rows = None, None
    if outward and "Outward" in _sheet_names(book):
        out_frame, out_rows, _ = read_table(book, "Outward", "outward")
        if not len(out_frame):
            out_frame = None
    result = evaluate(inward, ctx, out_frame, inward_name=Path(book.fullname).name, outward_name="Outward")
    return result, rows, out_rows


# ---------------------------------------------------------------- writing


def _rect(rows: list[list[object]]) -> list[list[object]]:
    width = max((len(r) for r in rows), default=1) or 1
    return [[safe(v) for v in r] + [None] * (width - len(r)) for r in rows]


def _unprotect(sheet: Any) -> None:
    api = getattr(sheet, "api", None)
    if api is not None and hasattr(api, "Unprotect"):
        api.Unprotect("")


def _protected(sheet: Any) -> bool:
    """Is the sheet's content protected (``Worksheet.ProtectContents``)?"""
    return bool(getattr(getattr(sheet, "api", None), "ProtectContents", False))


def _protect(sheet: Any, **options: object) -> None:
    api = getattr(sheet, "api", None)
    if api is not None and hasattr(api, "Protect"):
        api.Protect(**(options or PROTECT))


def _validation_sheet(book: Any) -> Any:
    if outputs.VALIDATION_SHEET in _sheet_names(book):
        sheet = book.sheets[outputs.VALIDATION_SHEET]
        sheet.clear_contents()
        return sheet
    return book.sheets.add(outputs.VALIDATION_SHEET, after=book.sheets["Inward"])


def _stamp(now: dt.datetime | None = None) -> str:
    """The "written by ims-excel <stamp>" time: ``now`` when the caller gives one (a test, a batch that
    stamps every sheet alike), else the wall clock."""
    return (now or dt.datetime.now()).strftime("%d-%m-%Y %H:%M")


@_door
def validate(book: Any, *, now: dt.datetime | None = None) -> str:
    """Check every Inward record; write the Validation sheet."""
    result, rows, _ = evaluate_open(book, outward=False)
    legal = outputs.cell_text(_names(book, "LegalName"))
    grid = outputs.validation_grid(result, source_rows=rows, legal_name=legal, stamp=_stamp(now))
    sheet = _validation_sheet(book)
    sheet.range("A1").value = _rect(grid.rows)
    st = result.records["status"].astype(object)
    return (f"Validation: {len(st)} records, {int((st == 'error').sum())} errors, "
            f"{int((st == 'warning').sum())} warnings. See the {outputs.VALIDATION_SHEET} sheet.")


@_door
def compute(book: Any) -> str:
    """Recalculate, then check the GSTR-3B Table 4 cells against the engine."""

    app = getattr(book, "app", None)
    if app is not None and hasattr(app, "calculate"):
        app.calculate()
    result, _, _ = evaluate_open(book, outward=False)
    cells = summaries.cell_map()
    differ, checked = [], 0
    for (sheet_key, block, row, head), ref in cells.items():
        if sheet_key != "gstr3b" or row not in result.gstr3b:
            continue
        sheet_name, a1 = ref.rsplit("!", 1)
        try:
            shown = book.sheets[sheet_name.strip("'")].range(a1).value
        except Exception:
            continue
        engine = result.gstr3b[row][head.lower()]
        checked += 1
        if not isinstance(shown, (int, float)) or abs(float(shown) - engine) > 0.005:
            differ.append(f"{row} {head}: sheet {shown!r}, engine {engine:,.2f}")
    if not checked:
        return "Computed. (No GSTR-3B Table 4 cells found to check.)"
    if differ:
        return ("Computed. GSTR-3B Table 4 differs from the engine in " + f"{len(differ)} cells:\n"
                + "\n".join(differ[:12]))
    return f"Computed. GSTR-3B Table 4 agrees with the engine ({checked} cells)."


@_door
def build_liability(book: Any, *, now: dt.datetime | None = None) -> str:
    """Write the add-back rows (our rejected documents) below the Liability summary."""
    result, _, out_rows = evaluate_open(book, outward=True)
    grid = outputs.liability_grid(result, source_rows=out_rows, stamp=_stamp(now))
    sheet = book.sheets["Liability"]
    used = sheet.used_range
    values = used.options(ndim=2).value or []
    top = used.row
    start, last_filled = None, 0
    for k, row in enumerate(values):
        texts = [v for v in row if isinstance(v, str)]
        if start is None and any(t.startswith(outputs.LIABILITY_MARK) for t in texts):
            start = top + k
        if any(v not in (None, "") for v in row) and start is None:
            last_filled = top + k
    if start is None:
        start = last_filled + 3
    last = used.row + used.shape[0] - 1
    _unprotect(sheet)
    try:
        if last >= start:
            sheet.range((start, 1), (last, max(used.column + used.shape[1] - 1, len(outputs.LIABILITY_HEADER)))
                        ).clear_contents()
        sheet.range((start, 1)).value = _rect(grid.rows)
    finally:
        _protect(sheet, Password="", DrawingObjects=True, Contents=True, Scenarios=True, AllowFormattingColumns=True)
    n = len(result.liability)
    return (f"Liability: {n} add-back rows written to the Liability sheet (row {start})." if n else
            "Liability: no add-back (no frozen rejection of a specified record on the Outward sheet).")


@_door
def export_upload_json(book: Any, path: str | None = None, only_valid: bool | None = None) -> str:
    """Write the IMS upload JSON beside the workbook (asks before leaving out records with errors)."""

    result, rows, _ = evaluate_open(book, outward=False)
    try:
        up = upload_of(result, rows, only_valid=bool(only_valid))
    except UploadRefused as e:
        if only_valid is False:
            return str(e)
        answer = _alert(book, f"{len(e.rows)} records have errors and cannot be uploaded (Inward rows "
                              f"{', '.join(str(r.row) for r in e.rows[:10])}{' ...' if len(e.rows) > 10 else ''}).\n"
                              "Export the other records now? The ones left out are listed in the message after "
                              "this one and on the Validation sheet.", buttons="yes_no")
        if answer not in ("yes", "Yes", True):
            return "Nothing exported: fix the records with errors (Validation sheet), or export the valid ones."
        up = upload_of(result, rows, only_valid=True)
    target = Path(path) if path else Path(book.fullname).with_name(Path(book.fullname).stem + "_upload.json")
    up.write(target)
    text = f"Wrote {target}: {up.count} records to upload."
    if up.act_online:
        text += (f"\nAct on these online ({len(up.act_online)}; the offline upload cannot carry them):\n"
                 + "\n".join(str(r) for r in up.act_online[:12]))
    rest = [r for r in up.left_out if r.code != "ACT_ONLINE"]
    if rest:
        text += f"\nLeft out ({len(rest)}):\n" + "\n".join(str(r) for r in rest[:12])
    if up.reset_payload:
        reset = up.write_reset(target.with_name(target.stem + ".reset" + target.suffix))
        text += f"\nWrote {reset}: {len(up.resets)} records back to No Action (RESET)."
    return text


def _ask_files(title: str = "IMS data to import") -> list[str]:
    """A file dialog (tkinter, part of the Windows Python) for the files to import."""
    try:
        import tkinter
        from tkinter import filedialog
    except ImportError:  # pragma: no cover - Python without tkinter
        return []
    root = tkinter.Tk()
    root.withdraw()
    root.attributes("-topmost", True)
    try:
        names = filedialog.askopenfilenames(title=title, filetypes=[
            ("IMS / GSTR-2B / canonical", "*.json *.xlsx *.xlsm *.csv"), ("All files", "*.*")])
    finally:
        root.destroy()
    return list(names)


@_door
def import_data(book: Any, paths: list[str] | None = None, direction: str = "auto") -> str:
    """Append portal / canonical files to the Inward (or Outward) table of the open workbook."""

    paths = list(paths) if paths is not None else _ask_files()
    if not paths:
        return "Nothing imported (no file chosen)."
    loaded = read_sources(paths, direction)
    history = _history(book)
    report = []
    for d, name, spec in (("inward", "Inward", IN_SPEC), ("outward", "Outward", OUT_SPEC)):
        if not loaded[d]:
            continue
        existing, rows, table = read_table(book, name, d, typed=False)
        new, skipped, filled = new_records(existing, loaded[d], d, history)
        if len(new):
            _append(book, name, table, spec, new, int(rows.max()) if len(rows) else table.range.row)
        report.append(f"{name}: {len(new)} records added, {skipped} already there (kept as they are)"
                      + (f", {filled} amendments' original action filled from History" if filled else ""))
    return "\n".join(report) + "\nNext: Validate."


def _history(book: Any) -> pd.DataFrame | None:
    if "History" not in _sheet_names(book):
        return None
    try:
        grid = book.sheets["History"].tables["History"].range.options(ndim=2).value
    except Exception:
        return None
    return pd.DataFrame(grid[1:], columns=[str(h) for h in grid[0]], dtype=object)


def _append(book: Any, name: str, table: Any, spec: Any, frame: pd.DataFrame, last_filled: int) -> None:
    sheet = book.sheets[name]
    rng = table.range
    header = [str(h) for h in rng.options(ndim=2).value[0]]
    n, cells = cell_columns(spec, frame)
    by_key = {c.key: c.name for c in spec.inputs}
    cols = [cells.get(by_key.get(header_key(h), ""), None) for h in header]
    inputs = [j for j, h in enumerate(header) if header_key(h) in by_key]
    runs: list[list[int]] = []  # contiguous input columns: formula columns in between are not written over
    for j in inputs:
        if runs and runs[-1][-1] == j - 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    start = max(last_filled, rng.row) + 1
    protected = _protected(sheet)  # the build leaves Inward/Outward unprotected; a user may have protected it
    if protected:
        _unprotect(sheet)
    try:
        for run in runs:
            block = [[safe(cols[j][i]) if cols[j] is not None else None for j in run] for i in range(n)]
            sheet.range((start, rng.column + run[0])).value = block
        end = max(start + n - 1, rng.row + rng.shape[0] - 1)
        table.resize(sheet.range((rng.row, rng.column), (end, rng.column + rng.shape[1] - 1)))
    finally:
        if protected:
            _protect(sheet)


__all__ = ["import_data", "validate", "compute", "build_liability", "export_upload_json", "safe"]


def _sheet(book: Any, name: str, after: str) -> Any:
    if name in _sheet_names(book):
        sheet = book.sheets[name]
        sheet.clear_contents()
        return sheet
    return book.sheets.add(name, after=book.sheets[after])


@_door
def reconcile(book: Any, paths: list[str] | None = None, apply: bool | None = None, *,
              now: dt.datetime | None = None) -> str:
    """Match the Inward records with purchase-register files (asked for when not given): write the
    Reconciliation and Suppliers sheets; with ``apply`` (asked when not given), copy each suggestion into
    a BLANK Action cell (with its ITC Reduction and remark where those are blank too); a typed action is
    never changed.
    The same use case as ``ims-excel reconcile`` (:func:`ims_excel.recon.reconcile`)."""
    from ims_excel.book.reconcile import (RECONCILIATION, SUPPLIERS, reconciliation_grid, supplier_table,
                                          suppliers_grid)
    from ims_excel.recon import reconcile as reconcile_records, reconcile_text

    paths = paths if paths is not None else _ask_files("Purchase register (books) to match")
    if not paths:
        return "No purchase-register file chosen."
    ctx = context(book)
    inward, rows, table = read_table(book, "Inward", "inward")
    rec = reconcile_records(inward, ctx, list(paths))
    stamp = _stamp(now)
    _sheet(book, RECONCILIATION, "Inward").range("A1").value = _rect(reconciliation_grid(rec, rows, stamp).rows)
    _sheet(book, SUPPLIERS, RECONCILIATION).range("A1").value = _rect(
        suppliers_grid(supplier_table(rec, ctx), stamp).rows)
    text = reconcile_text(rec)
    if apply is None:
        apply = _alert(book, text + "\n\nCopy the suggested actions into the blank Action cells? (Actions "
                             "you typed are not changed.)", "yes_no") == "yes"
    if apply:
        text += f"\nFilled {_apply(book, table, rows, inward, rec.suggestions)} blank Action cells with the suggestion."
    return text + f"\nSee the {RECONCILIATION} and {SUPPLIERS} sheets."


def _apply(book: Any, table: Any, rows: np.ndarray, inward: pd.DataFrame, sug: pd.DataFrame) -> int:
    """Suggestions into blank Action cells (ITC Reduction / Remarks only where blank); how many."""
    sheet = book.sheets["Inward"]
    rng = table.range
    header = [header_key(h) for h in rng.options(ndim=2).value[0]]
    col = {k: rng.column + header.index(k) for k in ("action", "itcreduction", "remarks") if k in header}
    action = sug["suggested_action"].to_numpy(dtype=object)
    blank = inward["action"].astype(str).to_numpy(dtype=object) == ""
    todo = np.flatnonzero(blank & (action != ""))
    red = sug["suggested_itc_reduction"].to_numpy(dtype=object)
    rem = sug["suggested_remarks"].to_numpy(dtype=object)
    red_blank = inward["itc_reduction"].astype(str).to_numpy(dtype=object) == ""
    rem_blank = inward["remarks"].astype(str).str.strip().to_numpy(dtype=object) == ""
    _unprotect(sheet)
    try:
        for i in todo.tolist():
            r = int(rows[i])
            sheet.range((r, col["action"])).value = action[i]
            if red[i] and red_blank[i] and "itcreduction" in col:
                sheet.range((r, col["itcreduction"])).value = red[i]
            if rem[i] and rem_blank[i] and "remarks" in col:
                sheet.range((r, col["remarks"])).value = safe(rem[i])
    finally:
        _protect(sheet)
    return len(todo)
