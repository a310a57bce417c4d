"""The Start sheet's buttons: Python targets of ``vba_stub/IMSButtons.bas``.

Each button runs ``RunPython "import ims_excel.xl.macros as m; m.<name>()"``
through the workbook's embedded xlwings module. The targets take the open
workbook as ``book`` (default: the calling workbook, ``xw.Book.caller()``,
asked for in :func:`_caller` only) and hand it to the use cases as an
:class:`~ims_excel.xl.openbook.OpenBook`, the port's open-workbook adapter
(:mod:`ims_excel.book.port`); the ``ims-excel`` commands hand the same use
cases the file (:class:`~ims_excel.book.filebook.FileBook`). So the tests drive
the very same code with an in-memory stand-in for xlwings' Book.

What each does in the open workbook (the ``ims-excel`` commands do the same
on a closed file):

* :func:`import_data` - portal / canonical files merged into the Inward table
  and new Outward records appended, as ``ims-excel import`` does
  (:func:`ims_excel.book.imports.merge_into`: changed cells rewritten in place,
  new rows appended, the Changes sheet appended to, the same summary); text
  that starts with ``= + - @`` is written with Excel's text prefix, never as a
  formula;
* :func:`validate` - the Validation sheet, and :func:`build_liability` - the add-back rows on the
  Liability sheet: the parts of ``ims-excel process`` (:func:`ims_excel.book.processing.process_into`;
  Excel calculates the formulas itself, so nothing is cached);
* :func:`compute` - recalculates and checks the GSTR-3B Table 4 formulas
  against the engine;
* :func:`export_upload_json` - the upload JSON beside the workbook
  (:func:`ims_excel.book.export.upload_from`);
* :func:`reconcile` - the purchase register matched with the Inward records: the Reconciliation and
  Suppliers sheets, and with ``apply`` the suggested actions copied into blank Action cells only.

Each returns a short text (also shown with ``book.app.alert``); what stays here is the dialogue
(file choosers, questions, messages).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Callable

from ims_excel.book import outputs
from ims_excel.book.export import upload_from
from ims_excel.book.imports import merge_into, read_sources
from ims_excel.book.port import evaluate_workbook
from ims_excel.book.processing import process_into
from ims_excel.book.reconcile import RECONCILIATION, SUPPLIERS, reconcile_into
from ims_excel.formats.upload_json import UploadRefused
from ims_excel.normalise import InputError
from ims_excel.recon import reconcile_text
from ims_excel.template import summaries
from ims_excel.xl.openbook import OpenBook, safe
from ims_excel.xlsx.package import PackageProblem

TITLE = "IMS Workbook"

def _caller() -> Any:
    import xlwings as xw  # here, not at the top: xlwings needs Excel (Windows/macOS); the tests drive a fake book

    return xw.Book.caller()


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


def _stamp(now: dt.datetime | None = None) -> str:
    """The "written by ims-excel <stamp>" time: ``now`` when the caller gives one (a test, a batch that
    stamps every sheet alike), else the wall clock."""
    return (now or dt.datetime.now()).strftime("%d-%m-%Y %H:%M")


@_door
def validate(book: Any, *, now: dt.datetime | None = None) -> str:
    """Check every record; write the Validation sheet (the use case of ``ims-excel process``,
    :func:`ims_excel.book.processing.process_into`, its Validation part)."""
    done = process_into(OpenBook(book), stamp=_stamp(now), liability=False)
    st = done.result.records["status"].astype(object)
    return (f"Validation: {len(st)} records, {int((st == 'error').sum())} errors, "
            f"{int((st == 'warning').sum())} warnings. See the {outputs.VALIDATION_SHEET} sheet.")


@_door
def compute(book: Any) -> str:
    """Recalculate, then check the GSTR-3B Table 4 cells against the engine."""

    app = getattr(book, "app", None)
    if app is not None and hasattr(app, "calculate"):
        app.calculate()
    result, _, _ = evaluate_workbook(OpenBook(book), outward=False)
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
    """Write the add-back rows (our rejected documents) below the Liability summary (the use case of
    ``ims-excel process``, :func:`ims_excel.book.processing.process_into`, its Liability part)."""
    done = process_into(OpenBook(book), stamp=_stamp(now), validation=False)
    n = len(done.result.liability)
    if done.liability_row is None:
        return "Liability: this workbook has no Liability sheet."
    return (f"Liability: {n} add-back rows written to the Liability sheet (row {done.liability_row})." if n else
            "Liability: no add-back (no frozen rejection of a specified record on the Outward sheet).")


@_door
def export_upload_json(book: Any, path: str | None = None, only_valid: bool | None = None) -> str:
    """Write the IMS upload JSON beside the workbook (asks before leaving out records with errors)."""

    wb = OpenBook(book)
    try:
        up, _ = upload_from(wb, only_valid=bool(only_valid))
    except UploadRefused as e:
        if only_valid is False:
            return str(e)
        answer = _alert(book, f"{len(e.rows)} records have errors and cannot be uploaded (Inward rows "
                              f"{', '.join(str(r.row) for r in e.rows[:10])}{' ...' if len(e.rows) > 10 else ''}).\n"
                              "Export the other records now? The ones left out are listed in the message after "
                              "this one and on the Validation sheet.", buttons="yes_no")
        if answer not in ("yes", "Yes", True):
            return "Nothing exported: fix the records with errors (Validation sheet), or export the valid ones."
        up, _ = upload_from(wb, only_valid=True)
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
    """Merge portal / canonical files into the open workbook, as ``ims-excel import`` does the file
    (:func:`ims_excel.book.imports.merge_into`); the same summary."""

    paths = list(paths) if paths is not None else _ask_files()
    if not paths:
        return "Nothing imported (no file chosen)."
    rep = merge_into(OpenBook(book), read_sources(paths, direction), sources=paths)
    return "\n".join(rep.lines()) + "\nNext: Validate."


__all__ = ["import_data", "validate", "compute", "build_liability", "export_upload_json", "safe"]


@_door
def reconcile(book: Any, paths: list[str] | None = None, apply: bool | None = None, *,
              now: dt.datetime | None = None) -> str:
    """Match the Inward records with purchase-register files (asked for when not given): write the
    Reconciliation and Suppliers sheets and Inward's Match Status / Match Note / Suggested Action; with
    ``apply`` (asked, showing the counts, when not given), copy each suggestion into a BLANK Action cell
    (with its ITC Reduction and remark where those are blank too); a typed action is never changed.
    The same use case as ``ims-excel reconcile`` (:func:`ims_excel.book.reconcile.reconcile_into`)."""
    paths = paths if paths is not None else _ask_files("Purchase register (books) to match")
    if not paths:
        return "No purchase-register file chosen."

    def ask(rec: Any) -> bool:
        return _alert(book, reconcile_text(rec) + "\n\nCopy the suggested actions into the blank Action cells? "
                            "(Actions you typed are not changed.)", "yes_no") == "yes"

    rep = reconcile_into(OpenBook(book), list(paths), apply=ask if apply is None else apply,
                         stamp=_stamp(now))
    text = reconcile_text(rep.rec)
    if rep.applied:
        text += f"\nFilled {len(rep.filled)} blank Action cells with the suggestion."
        if rep.refused:
            text += (f" Not filled ({len(rep.refused)}; the ITC Reduction / amounts typed there would make it "
                     "refused): rows " + ", ".join(str(r) for r, *_ in rep.refused[:20]) + ".")
    return text + f"\nSee the {RECONCILIATION} and {SUPPLIERS} sheets and Inward's Match Status / Match Note / " \
                  "Suggested Action columns."
