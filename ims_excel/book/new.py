"""New workbooks from the current template: ``new``, the template's layout signature and
version stamp, and writing records into a freshly built book (shared by ``roll``, ``upgrade``
and :func:`make_book`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd

import ims_excel
from ims_excel.xlsx import fileio
from ims_excel.book import outputs
from ims_excel.book.edit import Edit, add_sheet, borrow_styles, full_calc_on_load, set_custom_properties
from ims_excel.book.history import add_history_sheet
from ims_excel.book.filebook import append_estimate, append_plan, changes_xml
from ims_excel.book.read import BookProblem, INWARD, OUTWARD, read_config, read_table
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS
from ims_excel.rules import rulebook
from ims_excel.template import config as config_mod, inward as inward_mod, outward as outward_mod
from ims_excel.template.build import build_workbook
from ims_excel.xlsx.dates import date_of
from ims_excel.xlsx.package import Package, check_not_open


def layout_signature(pkg: Package | None = None) -> str:
    """A short hash of the table layout and formulas (the workbook's, or this version's template)."""

    h = hashlib.sha1()
    if pkg is None:
        for cols, comp in ((INWARD_COLUMNS, inward_mod.COMPUTED), (OUTWARD_COLUMNS, outward_mod.COMPUTED)):
            h.update(repr([c.name for c in cols] + [c.header for c in comp]).encode())
            h.update(repr(sorted((c.header, c.formula.lstrip("=")) for c in comp)).encode())
        h.update(repr(sorted(config_mod.NAMES)).encode())
    else:
        for name in (INWARD, OUTWARD):
            t = pkg.table(name)
            h.update(repr(t.columns if t else []).encode())
            h.update(repr(sorted(t.formulas.items()) if t else []).encode())
        h.update(repr(sorted(n for n in pkg.defined_names() if n in config_mod.NAMES)).encode())
    return h.hexdigest()[:12]


def version_stamp() -> dict[str, str]:
    return {"IMSPackageVersion": ims_excel.__version__, "IMSLayout": layout_signature(),
            "RulesVersion": rulebook().version}


def config_for_build(values: dict[str, object]) -> dict[str, object]:
    """``build_workbook(config=...)`` values from Config values by defined name (as read from a book): a
    blank is left out (the template's default), except a reconciliation setting the book has (issue 11: a
    blank policy = no suggestion, a blank tolerance = reconcile.yaml's; the cell the user cleared stays
    clear); amounts and days stay numbers; anything else as the user typed it."""
    out = {}
    recon = {f.name for f in config_mod.RECON_FIELDS}
    for f in config_mod.ALL_FIELDS:
        v = values.get(f.name)
        if v is None or v == "" or (isinstance(v, float) and v != v):
            if f.name in recon and f.name in values:
                out[f.name] = ""
            continue
        if f.kind == "date":
            if isinstance(v, (dt.datetime, dt.date)):
                v = v.strftime("%Y-%m-%d")
            elif isinstance(v, (int, float)):
                v = date_of(v).strftime("%Y-%m-%d")
        elif f.kind in ("amount", "count") and isinstance(v, (int, float)) and not isinstance(v, bool):
            v = int(v) if float(v).is_integer() else float(v)
        elif isinstance(v, float) and v.is_integer():
            v = str(int(v))
        out[f.name] = v
    return out


def build_client(out: Path, config: dict[str, object], *, stamp: dict[str, str] | None = None) -> Path:
    """A fresh workbook from the current template with these Config values, stamped, written atomically."""

    with tempfile.TemporaryDirectory(prefix="ims-new-", dir=out.parent) as tmp:
        built = build_workbook(Path(tmp) / out.name, config=config_for_build(config), today=dt.date.today())
        with Package(built) as pkg:
            edit = Edit(pkg)
            set_custom_properties(edit, {**version_stamp(), **(stamp or {})})
            edit.save(out, backup=True)
    return out


def new_workbook(path: str | os.PathLike, *, gstin: str, name: str = "", period: str, frequency: str = "Monthly",
                 state: str = "", taxpayer_type: str | None = None, force: bool = False) -> Path:
    """A client workbook from the template, with its Config filled in."""
    path = Path(path)
    if path.suffix.lower() != ".xlsm":
        raise BookProblem(path, "a client workbook needs the .xlsm extension (it carries the buttons' macros)")
    if path.exists() and not force:
        raise BookProblem(path, "exists already; choose another name (or --force to replace it, keeping a backup)")
    values = {"RecipientGSTIN": gstin.strip().upper(), "LegalName": name, "ReturnPeriod": period,
              "FilingFrequency": frequency.capitalize(), "StateCodeOverride": state}
    if taxpayer_type:
        values["TaxpayerType"] = taxpayer_type
    outputs.context_from_config(values, file=str(path))  # refuse bad settings before writing anything
    path.parent.mkdir(parents=True, exist_ok=True)
    with fileio.exclusive(path):
        check_not_open(path)
        return build_client(path, values)


def write_records(built: Path, out: Path, frames: dict[str, pd.DataFrame], history: pd.DataFrame | None,
                   stamp: dict[str, str], *, backup: bool = True, shared_formulas: bool = False,
                   changes: list[list[object]] | None = None) -> None:
    """Append records (typed or raw frames) to a freshly built book and write it to ``out``
    (``changes``: the rows of a Changes sheet to carry)."""
    with Package(built) as pkg:
        edit = Edit(pkg)
        for d, frame in frames.items():
            if frame is None or not len(frame):
                continue
            table = pkg.table(INWARD if d == "inward" else OUTWARD)
            td = read_table(pkg, table, d, typed=False)
            _, _, stream, txml = append_plan(pkg, td, frame, d, shared_formulas=shared_formulas)
            edit.stream[table.sheet_part] = stream
            edit.size_hint[table.sheet_part] = append_estimate(td, len(frame), shared_formulas)
            edit.replace[table.part] = txml.encode("utf-8")
        if history is not None and len(history):
            add_history_sheet(edit, history, borrow_styles(pkg, pkg.table(INWARD)))
        if changes:
            add_sheet(edit, outputs.CHANGES_SHEET, changes_xml(changes))
        set_custom_properties(edit, stamp)
        full_calc_on_load(edit)
        edit.save(out, backup=backup)


def set_config_as_of(path: Path, as_of: str | None) -> None:
    """Write the As-of date into Config (the demo's fixed date) by rebuilding the fresh workbook."""
    if not as_of:
        return
    with Package(path) as pkg:
        values, _ = read_config(pkg)
    values["AsOfDateOverride"] = as_of
    kept = set(fileio.backups(path))
    build_client(path, values)
    for bak in set(fileio.backups(path)) - kept:
        bak.unlink()


def make_book(path: str | os.PathLike, inward: pd.DataFrame | None = None, outward: pd.DataFrame | None = None,
              config: dict[str, object] | None = None, *, shared_formulas: bool = False) -> Path:
    """A client workbook from the template with these records (typed or raw frames) and Config values.

    Config keys are defined names (``RecipientGSTIN``...) or ``config.FIELDS`` keys
    (``gstin``, ``period``...). The records are streamed in, so large books (1M rows)
    are quick to make; ``shared_formulas`` stores each formula column once.
    """

    path = Path(path)
    values = {config_mod.field_for(k).name: v for k, v in (config or {}).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ims-make-", dir=path.parent) as tmp:
        built = build_workbook(Path(tmp) / "template.xlsm", config=config_for_build(values))
        write_records(built, path, {"inward": inward, "outward": outward}, None, version_stamp(),
                       backup=False, shared_formulas=shared_formulas)
    return path
