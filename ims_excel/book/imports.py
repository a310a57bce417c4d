"""``import``: merge the records of portal or canonical files into a workbook's tables.

Inward: records are matched by their identity (:mod:`ims_excel.engine.identity`,
not the 2B period) and merged as :mod:`ims_excel.book.merge` says (a newer
download updates the portal's fields and keeps the user's; a supplier's change
resets the action; records gone from IMS are marked; the user's own files apply
decisions; the portal's error file marks rows); the changed cells are rewritten
in place and every change is reported (and appended to the ``Changes`` sheet).
Outward: records already in the workbook (same section, party GSTIN, document
number and 2B period) are kept as they are. New rows take the table's blank
rows, then grow it, with the table's formulas and styles (streamed, so a
million rows append in one pass).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine as pc

from ims_excel import periods
from ims_excel.xlsx import fileio
from ims_excel.book.edit import Edit, add_sheet, sheet_head
from ims_excel.book.history import fill_originals, read_history
from ims_excel.book import merge
from ims_excel.book.outputs import CHANGES_SHEET
from ims_excel.book.process import save_with_cached_values
from ims_excel.book.read import BookProblem, TableData, read_config, read_table, require_tables
from ims_excel.formats import detect_and_read, to_typed
from ims_excel.formats._common import check_input
from ims_excel.normalise import field_name
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.template.specs import spec
from ims_excel.template.tables import cell_columns, check_limits
from ims_excel.xlsx import limits, sheetxml, structured, units as units_mod
from ims_excel.xlsx.package import MAX_ROWS, Package, check_not_open, col_letters


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

    def as_dict(self) -> dict:
        return {"book": str(self.path), "added": self.added, "kept": self.skipped, "counts": self.counts,
                "originals_filled": self.originals_filled,
                "rows": {k: list(v) for k, v in self.rows.items()},
                "changes": [c.as_dict() for c in self.changes],
                "restored": self.restored, "values_left_to_excel": self.not_cached}


def append_plan(pkg: Package, td: TableData, frame: pd.DataFrame, direction: str, *,
                 shared_formulas: bool = False, updates: dict[int, dict[int, object]] | None = None,
                 ) -> tuple[int, int, Callable[[], Iterator[bytes]], str]:
    """(first row, last row, sheet stream, new table XML) to append ``frame``'s records to a table.

    ``updates``: {sheet row: {sheet column: cell value}} of existing rows to rewrite (merge), their
    cells keeping their styles.
    """
    updates = updates or {}

    table = td.table
    r1, c1, r2, c2 = table.bounds
    n, cells = cell_columns(spec(direction), frame)
    reusable = td.last_filled  # rows after it, inside the table, are blank: reuse them
    first_new = max(reusable, r1) + 1
    last_new = first_new + n - 1
    if last_new > MAX_ROWS:
        room = max(0, MAX_ROWS - first_new + 1)
        raise BookProblem(pkg.path, f"{n:,} records do not fit in the {table.name} table: its sheet has room for "
                                    f"{room:,} more rows (rows {first_new:,}-{MAX_ROWS:,}; Excel's limit is "
                                    f"{MAX_ROWS:,} rows); nothing was written. Import fewer, or start the next "
                                    "period's workbook (ims-excel roll)")
    check_limits(spec(direction), n, cells, file=str(pkg.path), first_row=first_new,
                 formulas={h: table.formulas[h] for h in td.computed})  # Excel's limits, before writing
    part = table.sheet_part
    head = sheet_head(pkg, part)
    col_styles = sheetxml.style_of_columns(head)
    canon = {c.name: c for c in (INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS)}
    columns: list[tuple[sheetxml.Column, list | None]] = []
    for name, col in td.inputs.items():
        columns.append((sheetxml.Column(col, canon[name].kind, col_styles.get(col)), cells.get(name)))
    geometry = structured.tables_of(pkg.tables()) if shared_formulas else {}
    for header, col in td.computed.items():
        formula = table.formulas[header]  # shared: in A1 form for the first new row, as Excel writes them
        a1 = structured.to_a1(formula, first_new, geometry, table.sheet) if shared_formulas else None
        columns.append((sheetxml.Column(col, "formula", col_styles.get(col), formula, a1), None))
    for header, col in td.others.items():
        columns.append((sheetxml.Column(col, "text", col_styles.get(col)), None))
    kinds = {col: canon[name].kind for name, col in td.inputs.items()}
    new_r2 = max(r2, last_new)

    def stream() -> Iterator[bytes]:
        emitted = False
        max_si = -1
        for kind, blob in units_mod.units(pkg.stream(part), unit=units_mod.PIECE_BYTES):
            if kind == "head":
                yield sheetxml.set_dimension(blob, f"A1:{col_letters(max(c2, 1))}{new_r2}")
                continue
            if kind == "tail":
                if not emitted and n:
                    yield from sheetxml.rows_xml(columns, first_new, n,
                                                 shared_si=(max_si + 1) if shared_formulas else None)
                yield blob
                continue
            if shared_formulas:
                max_si = max(max_si, sheetxml.max_shared_index(blob))
            out = []
            for rnum, row in sheetxml.iter_rows(blob):
                if rnum in updates:
                    row = _patch(row, rnum, updates[rnum], kinds)
                if n and first_new <= rnum <= r2 and rnum <= max(r2, last_new):
                    if _has_constants(row):
                        raise BookProblem(pkg.path, f"row {rnum} of the {table.name} table has values outside "
                                                    "the input columns; clear it or add the records by hand")
                    continue  # a blank table row: the new records take its place
                if r2 < rnum <= last_new and b"<c" in row:
                    raise BookProblem(pkg.path, f"row {rnum} below the {table.name} table is in use; the "
                                                f"{n} new records need rows {first_new}-{last_new}: move it")
                if rnum > last_new and not emitted and n:
                    if out:
                        yield b"".join(out)
                        out = []
                    yield from sheetxml.rows_xml(columns, first_new, n,
                                                 shared_si=(max_si + 1) if shared_formulas else None)
                    emitted = True
                out.append(row)
            if out:
                yield b"".join(out)
    ref = f"{col_letters(c1)}{r1}:{col_letters(c2)}{new_r2}"
    txml = pkg.text(table.part)
    txml = re.sub(r'(<table\b[^>]*\bref=")[^"]*(")', rf"\g<1>{ref}\2", txml, count=1)
    txml = re.sub(r'(<autoFilter\b[^>]*\bref=")[^"]*(")', rf"\g<1>{ref}\2", txml, count=1)
    return first_new, last_new, stream, txml


def _patch(row: bytes, rnum: int, values: dict[int, object], kinds: dict[int, str]) -> bytes:
    """One row with the cells of ``values`` ({column: cell value}) rewritten (styles kept)."""
    head, cells, tail = sheetxml.row_cells(row)
    styles = sheetxml.cell_styles(row)
    by_col = dict(cells)
    for col, value in values.items():
        xml = sheetxml.column_cells(sheetxml.Column(col, kinds.get(col, "text"), styles.get(col)),
                                    [value], rnum, 1)[0]
        by_col[col] = xml.encode("utf-8")
    body = b"".join(by_col[c] for c in sorted(by_col) if by_col[c])
    return head + body + tail


def append_estimate(td: TableData, n: int, shared: bool) -> int:
    """A generous size of ``n`` new rows' XML (for ZIP64 room): 80 bytes an input cell, the formulas."""
    per_formula = 60 if shared else 60 + max((len(f) for f in td.table.formulas.values()), default=0)
    return n * (80 * len(td.inputs) + per_formula * len(td.computed) + 40)


def _has_constants(row: bytes) -> bool:
    _, cells, _ = sheetxml.row_cells(row)
    for _, cell in cells:
        if b"<f" not in cell and (b"<v>" in cell or b"<is>" in cell):
            return True
    return False


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


@fileio.locked
def import_sources(path: str | os.PathLike, sources: list[str | os.PathLike], *, direction: str = "auto",
                   shared_formulas: bool = False, backup: bool = True) -> ImportReport:
    """Merge (Inward, :mod:`ims_excel.book.merge`) or append (Outward) the records of portal / canonical
    files into the workbook's tables."""
    path = Path(path)
    check_not_open(path)
    loaded = read_sources(sources, direction)
    with Package(path) as pkg:
        inward_t, outward_t = require_tables(pkg)
        history = read_history(pkg)
        edit = Edit(pkg)
        added, skipped, rows = {}, {}, {}
        filled = 0
        changes: list = []
        counts: dict[str, int] = {}
        for d, table in (("inward", inward_t), ("outward", outward_t)):
            if not loaded[d]:
                continue
            if table is None:
                raise BookProblem(path, f"has no {d.capitalize()} table for {', '.join(map(str, sources))}")
            updates: dict[int, dict[int, object]] = {}
            if d == "inward":
                td = read_table(pkg, table, d, typed=True)
                recipient = str(read_config(pkg)[0].get("RecipientGSTIN") or "")
                mp = merge.plan(td.frame, td.rows, loaded[d], recipient, dt.date.today(), set(td.inputs))
                changes, counts = mp.changes, mp.counts()
                updates = {int(td.rows[i]): {td.inputs[name]: v for name, v in vals.items()}
                           for i, vals in mp.updates.items()}
                new = mp.added.reset_index(drop=True) if len(mp.added) else mp.added
                skipped[table.name] = counts.get("unchanged", 0)
                if len(new):
                    filled += fill_originals(new, history)
            else:
                td = read_table(pkg, table, d, typed=False)
                new, skipped[table.name], n_filled = new_records(td.frame, loaded[d], d, history)
                filled += n_filled
            added[table.name] = len(new)
            if not len(new) and not updates:
                continue
            first, last, stream, txml = append_plan(pkg, td, new, d, shared_formulas=shared_formulas,
                                                    updates=updates)
            edit.stream[table.sheet_part] = stream
            edit.size_hint[table.sheet_part] = (pkg.by_name[table.sheet_part].file_size
                                                + append_estimate(td, len(new), shared_formulas))
            edit.replace[table.part] = txml.encode("utf-8")
            if len(new):
                rows[table.name] = (first, last)
                if d == "inward":
                    for c, r in zip([c for c in changes if c.what == "added"], range(first, last + 1)):
                        c.row = r
        cached = None
        if edit.stream:
            if changes:
                changes_sheet(pkg, edit, changes)
            # every formula cell (the new rows', the summaries', Config's) caches the engine's value (issue 9)
            cached = save_with_cached_values(edit, path, backup=backup)
    return ImportReport(path, added, skipped, filled, rows, changes, counts,
                        cached.restored() if cached else {}, cached.why_not if cached else "")


CHANGES_HEADER = ["Imported On", "What", "Row", "Section", "Supplier GSTIN", "Document Number", "Column",
                  "Old", "New", "Note"]


def changes_rows(changes: list, when: str) -> list[list[object]]:
    """One row per changed field (one per record when no field is named) for the Changes sheet."""
    out = []
    for c in changes:
        base = [when, c.what, float(c.row) if c.row else "", c.section, c.supplier_gstin, c.document_number]
        for col, old, new in (c.fields or [("", "", "")]):
            out.append(base + [col, old, new, c.note])
    return out


def changes_xml(rows: list[list[object]]) -> bytes:
    """The Changes sheet part from its rows (header first; frozen header row)."""
    widths = (16, 11, 7, 9, 18, 18, 18, 16, 16, 60)
    body = "".join(f'<row r="{r}">' + "".join(sheetxml.value_cell(f"{col_letters(j)}{r}", v)
                                              for j, v in enumerate(values, start=1)) + "</row>"
                   for r, values in enumerate(rows, start=1))
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in enumerate(widths, 1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           f'<dimension ref="A1:{col_letters(len(CHANGES_HEADER))}{max(len(rows), 1)}"/>'
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
           'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{body}</sheetData>'
           '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    return xml.encode("utf-8")


def read_changes(pkg: Package) -> list[list[object]] | None:
    """The rows of the workbook's Changes sheet (header first), None if it has none."""
    ref = pkg.sheet(CHANGES_SHEET)
    if ref is None:
        return None
    return [list(r) for r in pc.CalamineWorkbook.from_path(str(pkg.path)).get_sheet_by_name(ref.name).to_python()]


def changes_sheet(pkg: Package, edit: Edit, changes: list) -> None:
    """Append the import's changes (dated) to the ``Changes`` sheet, adding the sheet the first time."""
    when = dt.datetime.now().strftime("%d-%m-%Y %H:%M")
    ref = pkg.sheet(CHANGES_SHEET)
    rows = read_changes(pkg) or [CHANGES_HEADER]
    rows += changes_rows(changes, when)
    xml = changes_xml(rows)
    if ref is not None:
        part = ref.part if ref.part.startswith("xl/") else "xl/" + ref.part.lstrip("/")
        edit.set(part, xml)
    else:
        add_sheet(edit, CHANGES_SHEET, xml)
