"""The client's purchase register ("books") in: several files, each in any supported layout.

Layouts, one module each (its docstring says which public description it follows):

* :mod:`.purchase_register` - GSTN's GSTR-2B matching-tool template v2.4;
* :mod:`.tally_books` - Tally's GSTR-2 Excel export and Purchase Register;
* :mod:`.busy_books` - Busy's purchase register;
* the canonical headers (:mod:`ims_excel.records`: ``Section`` or a ``Document Type``, ``Supplier
  GSTIN``, ``Document Number``, ``Document Date``, ``Taxable Value``, ``IGST``... and the user's own
  columns, kept).

Reading is header-driven: in .xlsx/.xlsm every sheet, in .csv the file, the header is the row among the
first 40 that names the most fields of one layout; title rows above it are skipped; a two-level
header (a band such as ``Amount of Tax`` over ``Integrated Tax`` / ``Central Tax``) is read as band +
label, else as the label, else as the band above a blank cell. ``*`` and ``(₹)`` / ``(Rs.)`` are
ignored. Rows without a supplier GSTIN (unregistered purchases: never in IMS) and total rows are
skipped and counted (``attrs["skipped"]``). Place Of Supply may be a state's name, as Tally and Busy
export it (``Karnataka``, ``29-Karnataka``, ``Karnataka (29)``: read as 29 through the GST state code
list, :data:`ims_excel.gstin.STATE_NAMES`); a name not in that list is refused. A bad cell is an
:class:`InputError` naming the file, sheet, row and the column as the file heads it; nothing is half-read.

The result is the typed canonical frame (:func:`ims_excel.normalise.normalise`) plus ``book_file``
(the file's name), ``book_index`` (its position among the files) and ``source_row`` (its row).
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from ims_excel.formats import busy_books, purchase_register, tally_books
from ims_excel.formats._common import check_size, file_problem, label_key, relocate
from ims_excel.formats._excel import open_workbook, reading, sheet_rows
from ims_excel.normalise import InputError, InputProblem, normalise, parse_amounts
from ims_excel.formats._amounts import amount_texts
from ims_excel.formats._values import month_name_dates
from ims_excel.records import INWARD_COLUMNS, header_key

BOE_TYPES = {"billofentry": "IMPG", "boe": "IMPG", "import": "IMPG", "importofgoods": "IMPG"}
"""Bills of Entry in any layout (no supplier GSTIN: they are kept, unlike unregistered purchases)."""
CANONICAL_KEYS = frozenset(c.key for c in INWARD_COLUMNS)
AMOUNTS = ("Taxable Value", "IGST", "CGST", "SGST", "Cess", "Document Value")


class _Canonical:
    NAME = "canonical"
    LABELS = {label_key(c.name): (c.name, 2) for c in INWARD_COLUMNS}
    LABELS.update({"documenttype": ("_doctype", 2), "doctype": ("_doctype", 2), "type": ("_doctype", 1)})
    MARKERS = frozenset({"suppliergstin", "documentnumber"})
    DOC_TYPES = {**purchase_register.DOC_TYPES, "purchase": "B2B"}
    RATE_WISE = False


LAYOUTS: tuple = (tally_books, busy_books, _Canonical)


def read_books(paths: list[str | Path]) -> pd.DataFrame:
    """Read every file and return one typed frame, files in the order given (rows in file order)."""
    frames = []
    skipped = 0
    for k, path in enumerate(paths):
        typed = read_one(path)
        typed["book_file"] = Path(path).name
        typed["book_index"] = k
        skipped += typed.attrs.get("skipped", 0)
        frames.append(typed)
    if not frames:
        raise InputError([InputProblem("<books>", None, None, "no purchase-register file given")])
    out = pd.concat(frames, ignore_index=True)
    out["row"] = np.arange(1, len(out) + 1)
    out.attrs = {"skipped": skipped, "files": [str(p) for p in paths]}
    return out


def read_one(path: str | Path) -> pd.DataFrame:
    """One file -> typed frame (see the module doc)."""
    path = Path(path)
    if not path.exists():
        raise file_problem(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        sheets = {"": _csv_rows(path)}
    elif suffix in (".xlsx", ".xlsm"):
        with reading(path):
            wb = open_workbook(path)
            sheets = {s: sheet_rows(wb, s) for s in wb.sheet_names}
    else:
        raise file_problem(path, f"has an unsupported type {suffix or '(no extension)'!r}: use .csv, .xlsx or .xlsm")
    raws = []
    for sheet, rows in sheets.items():
        raw = _sheet_raw(rows, sheet, path)
        if raw is not None:
            raws.append(raw)
    if not raws:
        raise file_problem(path, "has no purchase-register header (e.g. Supplier GSTIN / GSTIN of Supplier, "
                                 "Document Number / Invoice Number, Document Date, Taxable Value, IGST...)")
    raw = pd.concat(raws, ignore_index=True)
    skipped = int(sum(r.attrs.get("skipped", 0) for r in raws))
    headers = {}
    for r in raws:
        headers.update({(r.attrs.get("sheet") or None, k): v for k, v in r.attrs.get("headers", {}).items()})
    try:
        typed = normalise(raw.reset_index(drop=True), file=str(path), direction="inward", place_names=True)
    except InputError as err:
        problems = relocate(err.problems, raw)
        raise InputError([_as_headed(p, headers) for p in problems]) from None
    typed.attrs.update({"skipped": skipped, "file": str(path)})
    return typed


def from_rows(rows: list[list], name: str = "Books") -> pd.DataFrame:
    """Cells of one sheet or range (header row included, titles above it allowed) -> typed frame, as
    :func:`read_one` reads a file (the workbook's UDF passes a range here)."""
    rows = [list(r) for r in rows]
    raw = _sheet_raw(rows, name, Path(name))
    if raw is None:
        raise file_problem(name, "has no purchase-register header (e.g. Supplier GSTIN, Document Number, "
                                 "Document Date, Taxable Value, IGST...)")
    headers = {(name, k): v for k, v in raw.attrs.get("headers", {}).items()}
    try:
        typed = normalise(raw.reset_index(drop=True), file=name, direction="inward", place_names=True)
    except InputError as err:
        raise InputError([_as_headed(p, headers) for p in relocate(err.problems, raw)]) from None
    typed["book_file"] = name
    typed["book_index"] = 0
    return typed


def _as_headed(p: InputProblem, headers: dict[tuple, str]) -> InputProblem:
    """The problem with the column named as the file heads it."""
    head = headers.get((p.sheet, p.column))
    if p.column and head and head != p.column:
        return InputProblem(p.file, p.row, head, p.message, p.sheet)
    return p


def _csv_rows(path: Path) -> list[list]:
    check_size(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [row for row in csv.reader(fh)]
    except UnicodeDecodeError as exc:
        raise file_problem(path, f"is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    except csv.Error as exc:
        raise file_problem(path, f"is not a readable CSV: {exc}") from None


def _resolve(layout, parent: list | None, row: list) -> list[tuple[str, int] | None]:
    """Per column: (canonical name, priority) from band + label, the label, or the band over a blank."""
    out = []
    band = ""
    for c, cell in enumerate(row):
        up = parent[c] if parent is not None and c < len(parent) else ""
        if up not in ("", None):
            band = label_key(up)
        elif cell in ("", None):
            band = ""  # a band ends where neither row has text
        lab = label_key(cell) if cell not in ("", None) else ""
        hit = None
        if lab:
            hit = layout.LABELS.get(band + lab) or layout.LABELS.get(lab)
        elif band and up not in ("", None):
            hit = layout.LABELS.get(band)
        out.append(hit)
    return out


def _names(resolved: list[tuple[str, int] | None], row: list, parent: list | None) -> list[str]:
    """Column names: the best-priority column of each canonical field gets its name, others keep theirs."""
    best: dict[str, tuple[int, int]] = {}
    for c, hit in enumerate(resolved):
        if hit and (hit[0] not in best or hit[1] > best[hit[0]][0]):
            best[hit[0]] = (hit[1], c)
    winner = {c: name for name, (_, c) in best.items()}
    names, seen = [], set()
    for c, cell in enumerate(row):
        text = str(cell).strip() if cell not in ("", None) else ""
        if not text and parent is not None and c < len(parent) and parent[c] not in ("", None):
            text = str(parent[c]).strip()
        name = winner.get(c) or text or f"Column {c + 1}"
        if c not in winner and (name in best or header_key(name) in CANONICAL_KEYS):
            name = f"{text or name} (books)"  # kept as the user's column, not read as a field
        while name in seen:
            name = f"{name} (2)"
        seen.add(name)
        names.append(name)
    return names


def _score(resolved) -> int:
    return len({h[0] for h in resolved if h})


def _pick(rows: list[list]):
    """(layout, header row index, resolved) with the most fields, a layout's own markers first."""
    best = None
    for layout in LAYOUTS:
        for r, row in enumerate(rows[:40]):
            parent = rows[r - 1] if r > 0 else None
            keys = {label_key(c) for c in row + (parent or []) if isinstance(c, str)}
            resolved = _resolve(layout, parent, row)
            fields = {h[0] for h in resolved if h}
            if not {"Document Number", "Supplier GSTIN"} <= fields:
                continue
            marked = bool(keys & layout.MARKERS)
            score = (marked, _score(resolved))
            if best is None or score > best[0]:
                best = (score, layout, r, resolved)
    return best


def _sheet_raw(rows: list[list], sheet: str, path: Path) -> pd.DataFrame | None:
    if any(purchase_register.is_purchase_register(r) for r in rows[:40]):
        raw = purchase_register.from_rows(rows, sheet or path.stem, str(path))
        if not sheet:
            raw = raw.drop(columns=["_sheet"])
        return _clean(raw, purchase_register, sheet, path, {})
    picked = _pick(rows)
    if picked is None:
        return None
    _, layout, r, resolved = picked
    parent = rows[r - 1] if r > 0 else None
    names = _names(resolved, rows[r], parent)
    width = len(names)
    body, where = [], []
    for i in range(r + 1, len(rows)):
        cells = list(rows[i][:width]) + [""] * max(0, width - len(rows[i]))
        if any(v not in ("", None) for v in cells):
            body.append(cells)
            where.append(i + 1)
    raw = pd.DataFrame(body, columns=names, dtype=object) if body else pd.DataFrame(columns=names, dtype=object)
    raw["_row"] = where
    if sheet:
        raw["_sheet"] = sheet
    headers = {n: (str(rows[r][c]).strip() or n) if c < len(rows[r]) else n for c, n in enumerate(names)}
    return _clean(raw, layout, sheet, path, headers)


def _clean(raw: pd.DataFrame, layout, sheet: str, path: Path, headers: dict[str, str]) -> pd.DataFrame:
    """Drop total and unregistered rows, map document types to sections, amounts to magnitudes, add up
    rate-wise rows."""
    n0 = len(raw)
    if "_doctype" in raw:
        doc = raw["_doctype"].astype(object).map(
            lambda v: {**BOE_TYPES, **layout.DOC_TYPES}.get(label_key(v), str(v).strip()))
        raw["Section"] = doc.where(doc != "", "B2B") if "Section" not in raw else raw["Section"]
        raw = raw.drop(columns=["_doctype"])
    elif "Section" not in raw:
        raw["Section"] = "B2B"
    first = raw.iloc[:, 0].astype(object).map(lambda v: str(v).strip().lower())
    total = first.str.fullmatch(r"(grand\s*)?totals?:?").fillna(False).to_numpy(dtype=bool)
    gst = raw["Supplier GSTIN"].astype(object).map(lambda v: "" if v is None else str(v).strip())
    boe = raw["Section"].astype(str).isin(["IMPG", "IMPGA"]).to_numpy()
    keep = ~total & ((gst != "").to_numpy() | boe)
    raw = raw[keep].reset_index(drop=True)
    skipped = int(n0 - len(raw))
    problems = []
    for col in AMOUNTS:
        if col not in raw:
            continue
        vals, bad = parse_amounts(amount_texts(raw[col]))
        for i in np.flatnonzero(bad.to_numpy())[:20]:
            problems.append(InputProblem(str(path), int(raw["_row"].iat[i]), headers.get(col, col),
                                         f"{raw[col].iat[i]!r} is not an amount (use 1234.50, 1,234.50, "
                                         "1,00,000.50; Dr/Cr and a minus sign are read as the amount)",
                                         sheet or None))
        raw[col] = vals.abs().fillna(0.0).to_numpy()
    if problems:
        raise InputError(problems)
    ledgers = [c for c in raw.columns if c not in AMOUNTS and not c.startswith("_")
               and label_key(c).startswith(getattr(layout, "TAXABLE_LEDGERS", ("\0",)))]
    if "Taxable Value" not in raw and ledgers:
        total_ledger = np.zeros(len(raw))
        for col in ledgers:
            vals, bad = parse_amounts(amount_texts(raw[col]))
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                problems.append(InputProblem(str(path), int(raw["_row"].iat[i]), headers.get(col, col),
                                             f"{raw[col].iat[i]!r} is not an amount", sheet or None))
            total_ledger += vals.abs().fillna(0.0).to_numpy()
        if problems:
            raise InputError(problems)
        raw["Taxable Value"] = total_ledger
    if "Document Date" in raw:
        raw["Document Date"] = month_name_dates(raw["Document Date"]).to_numpy()
    if getattr(layout, "RATE_WISE", False) and "_rate" in raw:
        raw = _add_up(raw)
    if "_rate" in raw:
        raw = raw.drop(columns=["_rate"])
    raw.attrs.update({"skipped": skipped, "headers": headers, "sheet": sheet})
    return raw


def _add_up(raw: pd.DataFrame) -> pd.DataFrame:
    """Rate-wise rows of one document (same sheet, GSTIN, section, number, date) as one row: amounts
    summed, the first row's other cells and place kept."""
    keys = [c for c in ("_sheet", "Supplier GSTIN", "Section", "Document Number", "Document Date") if c in raw]
    sums = [c for c in ("Taxable Value", "IGST", "CGST", "SGST", "Cess") if c in raw]
    groups = raw.groupby([raw[k].astype(str) for k in keys], sort=False, dropna=False)
    first = groups.nth(0).index
    totals = groups[sums].transform("sum")
    out = raw.loc[first].copy()
    out[sums] = totals.loc[first].to_numpy()
    out.attrs = dict(raw.attrs)
    return out.reset_index(drop=True)


__all__ = ["read_books", "read_one", "from_rows", "LAYOUTS"]
