"""``import``: merge the records of portal or canonical files into a workbook's tables.

Inward: records are matched by their identity (:mod:`ims_excel.engine.identity`,
not the 2B period) and merged as :mod:`ims_excel.book.merge` says (a newer
download updates the portal's fields and keeps the user's; a supplier's change
resets the action; records gone from IMS are marked; the user's own files apply
decisions, the offline tool's Excel too where the workbook holds none of the user's;
the portal's error file marks rows; a record the History sheet holds as filed is listed, not added
again); the changed cells are rewritten in place and
every change, and every decision of the tool not applied (a conflict), is reported
(and appended to the ``Changes`` sheet).
Outward: records already in the workbook (same section, party GSTIN, document
number and 2B period) are kept as they are.

:func:`merge_into` is the use case, on a workbook reached through the port
(:mod:`ims_excel.book.port`): the ``import`` command passes the file
(:class:`~ims_excel.book.filebook.FileBook`: new rows take the table's blank
rows, then grow it, streamed, so a million rows append in one pass), the Excel
button the open workbook (:class:`ims_excel.xl.openbook.OpenBook`); both report
the same (:meth:`ImportReport.lines`).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.xlsx import fileio
from ims_excel.book import merge
from ims_excel.book.filebook import FileBook
from ims_excel.book.history import filed_in_history, fill_originals
from ims_excel.book.outputs import CHANGES_HEADER, CHANGES_SHEET, cell_text
from ims_excel.book.port import Workbook
from ims_excel.book.read import INWARD, OUTWARD, BookProblem
from ims_excel.formats import detect_and_read, to_typed
from ims_excel.formats._common import check_input
from ims_excel.engine.checks import duplicate_records
from ims_excel.normalise import InputError, InputProblem, field_name
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.xlsx import limits
from ims_excel.xlsx.package import check_not_open


def _key_text(section: object, gstin: object, doc: object, p2b: object) -> tuple[str, str, str, str]:
    def t(v: object) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
            return f"{v.year:04d}-{v.month:02d}"
        return str(v).strip()
    return t(section).upper(), t(gstin).upper(), t(doc), t(p2b)


def record_keys(frame: pd.DataFrame, direction: str = "inward") -> list[tuple[str, str, str, str]]:
    """(section, party GSTIN, document number, 2B period) of typed or raw records, as text."""
    party = "supplier_gstin" if direction == "inward" else "recipient_gstin"
    if "section" in frame:  # typed
        p2b = frame["period_2b"].to_numpy() if "period_2b" in frame else np.full(len(frame), -1)
        ptext = [periods.iso(int(p)) if p >= 0 else "" for p in p2b]
        return [_key_text(a, b, c, d) for a, b, c, d in zip(frame["section"].astype(object), frame[party],
                                                             frame["document_number"], ptext)]
    cols = {header_key(c): c for c in frame.columns}
    get = lambda k: frame[cols[k]].tolist() if k in cols else [""] * len(frame)  # noqa: E731
    return [_key_text(*v) for v in zip(get("section"), get(header_key(party.replace("_", " "))),
                                       get("documentnumber"), get("2bperiod"))]


def read_source(path: str | os.PathLike, direction: str = "auto") -> tuple[str, pd.DataFrame]:
    """(direction, typed records) of a file to import; ``auto``: Outward for a canonical file with
    Recipient GSTIN and no Supplier GSTIN, else Inward."""

    p = Path(path)
    check_input(p, 0)  # missing, unreadable, not a regular file: named before any reader runs
    if direction == "auto":
        raw = detect_and_read(p, "inward")
        keys = {header_key(c) for c in raw.columns}
        direction = "inward"
        if "recipientgstin" in keys and "suppliergstin" not in keys:
            direction = "outward"
            if p.suffix.lower() in (".xlsx", ".xlsm"):  # the Outward table or sheet, not the first one
                raw = detect_and_read(p, "outward")
    else:
        raw = detect_and_read(p, direction)
    typed = _typed(raw, p, direction)
    _check_cell_text(typed, p, direction)
    return direction, typed


def _typed(raw: pd.DataFrame, p: Path, direction: str) -> pd.DataFrame:
    """to_typed, remembering which canonical columns the file supplied (``attrs["supplied"]``)."""
    canon = {header_key(c.name): c.name for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    typed = to_typed(raw, file=str(p), direction=direction)
    typed.attrs["supplied"] = sorted({canon[header_key(c)] for c in raw.columns if header_key(c) in canon})
    return typed


def _check_cell_text(typed: pd.DataFrame, path: Path, direction: str) -> None:
    """Refuse a source whose text would not fit an Excel cell (:data:`limits.MAX_CELL_TEXT`), naming the
    file, row and column where it is, before anything is written."""
    columns = {c.name: typed[field_name(c.name)] for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)
               if c.kind == "text" and field_name(c.name) in typed}
    sheets = typed["source_sheet"].dropna().unique() if "source_sheet" in typed else []
    limits.check_text({k: v.astype(object) for k, v in columns.items()}, file=str(path),
                      rows=typed["source_row"].to_numpy() if "source_row" in typed else None,
                      sheet=str(sheets[0]) if len(sheets) == 1 else None)


@dataclass
class ImportReport:
    path: Path
    added: dict[str, int]
    skipped: dict[str, int]
    originals_filled: int
    rows: dict[str, tuple[int, int]]  # table -> (first, last) sheet rows written
    changes: list = field(default_factory=list)  # merge.Change of the Inward table (added rows too)
    counts: dict[str, int] = field(default_factory=dict)  # what -> how many (merge.Plan.counts)
    restored: dict[str, list[str]] = field(default_factory=dict)
    """Formula cells found typed over and given their formula back, by table (as ``process`` does)."""
    not_cached: str = ""
    """Why the formula cells' values were left to Excel's calculation on load ("" when they are cached)."""
    notes: list[str] = field(default_factory=list)
    """What the readers said about the sources (the sheet read of several, headers not imported)."""

    def as_dict(self) -> dict:
        return {"book": str(self.path), "added": self.added, "kept": self.skipped, "counts": self.counts,
                "originals_filled": self.originals_filled,
                "rows": {k: list(v) for k, v in self.rows.items()},
                "changes": [c.as_dict() for c in self.changes],
                "restored": self.restored, "values_left_to_excel": self.not_cached, "notes": self.notes}

    def lines(self, listed: int = 100) -> list[str]:
        """What the import did, as the command prints it and the Import button shows it (up to ``listed``
        changes named; all of them are on the Changes sheet)."""
        out = [f"note: {n}" for n in self.notes]
        for table, n in self.added.items():
            rows = self.rows.get(table)
            where = f" (rows {rows[0]}-{rows[1]})" if rows else ""
            if table == INWARD and self.counts:
                c = self.counts
                out.append(f"{table}: {n} added{where}, {c.get('updated', 0)} updated, {c.get('reset', 0)} action "
                           f"reset by a supplier's change, {c.get('gone', 0)} gone from IMS, {c.get('decision', 0)} "
                           f"decisions applied, {c.get('portal error', 0)} portal errors, {c.get('unchanged', 0)} "
                           "unchanged" + (f", {c['not found']} not found in the workbook (not added)"
                                          if c.get("not found") else "")
                           + (f", {c['in History']} in History (filed in an earlier period, frozen: not added "
                              "again)" if c.get("in History") else "")
                           + (f", {c['conflict']} decisions of the offline tool not applied (the workbook "
                              "holds another, typed there or set by an earlier import: kept)" if c.get("conflict") else ""))
                out += [f"  {ch.text()}" for ch in [c for c in self.changes if c.what != "added"][:listed]]
                if self.changes:
                    out.append("  (all changes are appended to the Changes sheet)")
            else:
                out.append(f"{table}: {n} records added{where}, {self.skipped.get(table, 0)} already in the workbook "
                           "(kept as they are)")
        if self.originals_filled:
            out.append(f"Original Action / Original 3B Filed filled from History for {self.originals_filled} "
                       "amendments.")
        return out

    def cache_lines(self) -> list[str]:
        """What the file's cache-only step did (``ims-excel import``; in Excel the book calculates itself)."""
        out = []
        for table, cells in self.restored.items():
            shown = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
            out.append(f"  {table}: {len(cells)} formula cells had been typed over; their formulas are restored: "
                       f"{shown}.")
        if self.not_cached:
            out.append(f"  note: the formula cells' values are left to Excel's calculation on opening: "
                       f"{self.not_cached}")
        return out


def read_sources(sources: list[str | os.PathLike], direction: str = "auto") -> dict[str, list[pd.DataFrame]]:
    """The typed records of the files to import, by table ("inward" / "outward"; see :func:`read_source`)."""
    loaded: dict[str, list[pd.DataFrame]] = {"inward": [], "outward": []}
    for src in sources:
        d, typed = read_source(src, direction)
        loaded[d].append(typed)
    return loaded


def new_records(existing: pd.DataFrame, loaded: list[pd.DataFrame], direction: str,
                history: pd.DataFrame | None) -> tuple[pd.DataFrame, int, int]:
    """(records not yet in the table, how many were skipped as already there, amendments whose
    original action was filled from History): the one import rule, shared by the ``import`` command
    and the Excel button (the command merges Inward records instead, :mod:`ims_excel.book.merge`).
    A record is already there when its (section, party GSTIN, document number, 2B period) is
    (:func:`record_keys`); the first of duplicates in the files is kept."""
    seen = set(record_keys(existing, direction))
    new = pd.concat(loaded, ignore_index=True)
    keep = []
    for i, k in enumerate(record_keys(new, direction)):
        if k not in seen:
            seen.add(k)
            keep.append(i)
    skipped = len(new) - len(keep)
    new = new.iloc[keep].reset_index(drop=True)
    filled = fill_originals(new, history) if direction == "inward" else 0
    return new, skipped, filled


def merge_into(wb: Workbook, loaded: dict[str, list[pd.DataFrame]], *, sources: list | None = None,
               today: dt.date | None = None) -> ImportReport:
    """The ``import`` use case on a workbook reached through the port (the file: ``ims-excel import``;
    the open workbook: the Import button): merge the typed records ``loaded`` (:func:`read_sources`)
    into the Inward table (:mod:`ims_excel.book.merge`: changed cells rewritten in place, new records
    appended, every change appended, dated, to the ``Changes`` sheet) and append new Outward records
    (:func:`new_records`). Nothing is written when nothing changes. An Inward table with duplicate records
    is refused (:class:`~ims_excel.normalise.InputError`, as ``process`` names them) before anything is
    written."""
    today = today or dt.date.today()
    check_recipient(wb, loaded)
    history = wb.history()
    added, skipped, rows = {}, {}, {}
    filled = 0
    changes: list = []
    counts: dict[str, int] = {}
    written = False
    for d, name in (("inward", INWARD), ("outward", OUTWARD)):
        if not loaded[d]:
            continue
        table = wb.table(name, d, typed=(d == "inward"))
        if table is None:
            raise BookProblem(wb.path, f"has no {d.capitalize()} table for {', '.join(map(str, sources or []))}")
        updates: dict[int, dict[str, object]] = {}
        if d == "inward":
            # a book process refuses for duplicate records is refused here too, before anything is written:
            # the download would match one twin and mark the other "Gone From IMS"
            twins = duplicate_records(table.frame, str(wb.path))
            if twins:
                raise InputError(twins)
            recipient = str(wb.config()[0].get("RecipientGSTIN") or "")
            mp = merge.plan(table.frame, table.rows, loaded[d], recipient, today, set(table.inputs),
                            filed=filed_in_history(history))
            changes, counts = mp.changes, mp.counts()
            updates = {int(table.rows[i]): vals for i, vals in mp.updates.items()}
            new = mp.added.reset_index(drop=True) if len(mp.added) else mp.added
            skipped[name] = counts.get("unchanged", 0)
            if len(new):
                filled += fill_originals(new, history)
        else:
            new, skipped[name], n_filled = new_records(table.frame, loaded[d], d, history)
            filled += n_filled
        added[name] = len(new)
        if not len(new) and not updates:
            continue
        span = wb.write_table(table, updates, new)
        written = True
        if span is not None:
            rows[name] = span
            if d == "inward":
                for ch, r in zip([c for c in changes if c.what == "added"], range(span[0], span[1] + 1)):
                    ch.row = r
    # a conflict (the offline tool's decision not applied, merge.plan) is logged even when nothing else is written
    if changes and (written or any(c.what == "conflict" for c in changes)):
        when = dt.datetime.now().strftime("%d-%m-%Y %H:%M")
        wb.append_rows(CHANGES_SHEET, CHANGES_HEADER, changes_rows(changes, when))
    notes = [n for frames in loaded.values() for f in frames for n in f.attrs.get("notes", [])]
    return ImportReport(wb.path, added, skipped, filled, rows, changes, counts, notes=notes)


def check_recipient(wb: Workbook, loaded: dict[str, list[pd.DataFrame]]) -> None:
    """Refuse, before anything is written, a file whose recipient GSTIN (``attrs["gstin"]``: an IMS JSON's
    ``rtin``/``gstin``, a GSTR-2B's ``data.gstin``, the offline utility's ``Home!C5``) is not the workbook's
    (Config ``RecipientGSTIN``): another client's download would be merged and later uploaded under this
    workbook's GSTIN. Naming the file, both GSTINs and where each was read. A workbook with no GSTIN yet,
    or a file that names none (a canonical CSV, the offline JSON download), is not checked."""
    values, cells = wb.config()
    mine = cell_text(values.get("RecipientGSTIN")).strip().upper()
    if not mine:
        return
    where = cells.get("RecipientGSTIN", ("Config", 0, "Recipient GSTIN"))[2]
    problems = []
    for frame in (f for frames in loaded.values() for f in frames):
        theirs = str(frame.attrs.get("gstin") or "").strip().upper()
        if theirs and theirs != mine:
            found = frame.attrs.get("gstin_from") or "the file"
            problems.append(InputProblem(
                str(frame.attrs.get("file") or "<input>"), None, None,
                f"is for recipient GSTIN {theirs} ({found}), not this workbook's {mine} ({where} of "
                f"{wb.path}): another client's file? Nothing was imported"))
    if problems:
        raise InputError(problems)


@fileio.locked
def import_sources(path: str | os.PathLike, sources: list[str | os.PathLike], *, direction: str = "auto",
                   shared_formulas: bool = False, backup: bool = True) -> ImportReport:
    """``ims-excel import``: :func:`merge_into` the workbook file (:class:`~ims_excel.book.filebook.FileBook`),
    saved atomically with a backup when anything changed."""
    path = Path(path)
    check_not_open(path)
    loaded = read_sources(sources, direction)
    with FileBook(path, shared_formulas=shared_formulas) as wb:
        rep = merge_into(wb, loaded, sources=list(sources))
        wb.save(backup=backup)  # with every formula cell caching the engine's value (issue 9)
    if wb.cached is not None:
        rep.restored, rep.not_cached = wb.cached.restored(), wb.cached.why_not
    return rep




def changes_rows(changes: list, when: str) -> list[list[object]]:
    """One row per changed field (one per record when no field is named) for the Changes sheet."""
    out = []
    for c in changes:
        base = [when, c.what, float(c.row) if c.row else "", c.section, c.supplier_gstin, c.document_number]
        for col, old, new in (c.fields or [("", "", "")]):
            out.append(base + [col, old, new, c.note])
    return out


