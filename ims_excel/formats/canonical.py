"""Canonical tables in: CSV, xlsx and xlsm with the headers of :mod:`ims_excel.records`.

Spec:

CSV
    Read as text only (``dtype=str``, ``keep_default_na=False``, UTF-8 with or
    without BOM), so ``000123`` and ``=HYPERLINK("x")`` stay as typed. Rows
    are named as the file shows them (``_row``: the header is row 1).

xlsx / xlsm (python-calamine)
    The Excel Table named ``Inward`` (``Outward`` for direction="outward") if
    there is one; else the visible sheet of that name; else the first visible
    sheet (a hidden sheet is never read; with more than one visible sheet the
    import says which one it read, ``attrs["notes"]``). Without
    a table, the header row is the row among the first 40 with the most
    canonical headers (at least two, one of them Section or Document Number);
    rows above it (titles) are ignored, blank rows skipped, ``_sheet``/``_row``
    name each row's place.

A table whose headers are those of GSTN's purchase-register template goes to
:mod:`.purchase_register` instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ims_excel.formats import purchase_register
from ims_excel.formats._common import check_size, file_problem, to_typed
from ims_excel.formats._excel import best_row, check_cells, open_workbook, sheet_rows, table
from ims_excel.normalise import InputError, InputProblem
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.xlsx.package import col_letters

CANONICAL_KEYS = frozenset(c.key for c in INWARD_COLUMNS + OUTWARD_COLUMNS)
_NAME_OF_KEY = {c.key: c.name for c in INWARD_COLUMNS + OUTWARD_COLUMNS}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def read(path: str | Path, direction: str = "inward", kind: str | None = None) -> pd.DataFrame:
    """Read a canonical (or purchase-register) CSV / xlsx / xlsm into a raw frame."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, kind)
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, direction, kind)
    raise file_problem(path, f"has an unsupported extension {suffix!r} (use .csv, .xlsx or .xlsm)")


def load(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    return to_typed(read(path, direction), direction=direction)


def csv_dialect(head: bytes) -> tuple[str, str]:
    """(encoding, delimiter) of a CSV from its first bytes.

    UTF-8 (BOM or not) or UTF-16 (Excel's "Unicode Text", with a BOM, or without one: every other byte
    NUL); the delimiter is the one of ``,`` ``;`` tab ``|`` that the header line has most of, outside
    quotes (Excel writes ``;`` where the decimal separator is a comma).

    >>> csv_dialect(b"Section;Document Number;IGST")
    ('utf-8-sig', ';')
    >>> csv_dialect("Section,Document Number".encode("utf-16"))
    ('utf-16', ',')
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(head) >= 4 and head[1:4:2] == b"\0\0" and head[0:3:2] != b"\0\0":
        encoding = "utf-16-le"
    elif len(head) >= 4 and head[0:3:2] == b"\0\0" and head[1:4:2] != b"\0\0":
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    text = head.decode(encoding, errors="ignore")
    line = re.sub(r'"[^"]*"', "", text.splitlines()[0] if text else "")
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return encoding, best if counts[best] else ","


def read_csv(path: Path, kind: str | None = None) -> pd.DataFrame:
    check_size(path)
    with open(path, "rb") as fh:
        encoding, sep = csv_dialect(fh.read(65536))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, sep=sep)
    except UnicodeError as exc:
        where = f" (byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        raise file_problem(path, f"is not {'UTF-16' if encoding.startswith('utf-16') else 'UTF-8'} "
                                 f"text{where}; save it as CSV UTF-8") from None
    except pd.errors.EmptyDataError:
        raise file_problem(path, "is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise file_problem(path, f"is not a readable CSV: {exc}") from None
    frame = frame.astype(object)
    frame.attrs["delimiter"] = sep
    frame["_row"] = range(2, len(frame) + 2)
    if kind == "purchase_register" or purchase_register.is_purchase_register(list(frame.columns)):
        return purchase_register.from_frame(frame, str(path))
    _require_header(list(frame.columns), path, None, 1)
    # the header as typed: pandas renames a repeated one (IGST, IGST.1) and the second was dropped unseen
    typed_header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding=encoding,
                               sep=sep).iloc[0].tolist()
    notes = check_headers(typed_header, path, None, 1)
    frame.attrs.update({"format": "canonical", "file": str(path), "notes": notes})
    return frame


def check_headers(headers: list[object], path: Path, sheet: str | None, row: int | None,
                  first_col: int = 1) -> list[str]:
    """Refuse a canonical header given twice (compared as the reader matches them, :func:`header_key`),
    naming file, sheet, row and both columns: one of the two would be dropped. Return the note for the
    headers that match no canonical column (they are not imported), with "did you mean" for a singular /
    plural near miss (``Remark`` for ``Remarks``)."""
    first: dict[str, int] = {}
    problems, unknown = [], []
    for c, h in enumerate(headers):
        text = "" if h is None else str(h).strip()
        key = header_key(text)
        if not key:
            continue
        if key in CANONICAL_KEYS:
            if key in first:
                a, b = col_letters(first[key] + first_col), col_letters(c + first_col)
                problems.append(InputProblem(str(path), row, _NAME_OF_KEY[key],
                                             f"columns {a} and {b} are both {_NAME_OF_KEY[key]!r}"
                                             + (f" ({str(headers[first[key]]).strip()!r} and {text!r})"
                                                if str(headers[first[key]]).strip() != text else "")
                                             + ": one would be dropped; keep one", sheet))
            else:
                first[key] = c
            continue
        near = next((k for k in (key + "s", key[:-1] if key.endswith("s") else "") if k in CANONICAL_KEYS), "")
        unknown.append(f"{text!r}" + (f" (did you mean {_NAME_OF_KEY[near]!r}?)" if near else ""))
    if problems:
        raise InputError(problems)
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    return [f"{path.name}: column{'s' if len(unknown) > 1 else ''} not imported: {', '.join(unknown[:10])}{more}"] \
        if unknown else []


def _score(keys: list[str]) -> int:
    return sum(1 for k in keys if k in CANONICAL_KEYS)


def _require_header(headers: list[object], path: Path, sheet: str | None, row: int | None) -> None:
    keys = {header_key(h) for h in headers}
    if len(keys & CANONICAL_KEYS) < 2 or not keys & {"section", "documentnumber"}:
        raise InputError([InputProblem(str(path), row, None, "no recognisable header: expected the "
                                       "canonical headers (Section, Supplier GSTIN, Document Number, "
                                       "...), the IMS portal layout or the purchase-register template",
                                       sheet)])


def read_excel(path: Path, direction: str = "inward", kind: str | None = None, wb=None) -> pd.DataFrame:
    wb = wb or open_workbook(path, tables=True)
    want = "outward" if direction == "outward" else "inward"
    try:
        tables = {t.lower(): t for t in wb.table_names}
    except Exception:  # TablesNotLoaded / not supported: fall back to sheets
        tables = {}
    if want in tables and kind != "purchase_register":
        t = wb.get_table_by_name(tables[want])
        names = [str(c) for c in t.columns]
        check_cells(path, t.sheet, t.start[0] + 1, len(names), t.start[1] + 1, names)
        data = pd.DataFrame(t.to_python(), columns=names, dtype=object)
        data["_row"] = range(t.start[0] + 1, t.start[0] + 1 + len(data))
        data["_sheet"] = t.sheet
        _require_header(names, path, t.sheet, t.start[0])
        notes = check_headers(names, path, t.sheet, t.start[0] + 1, t.start[1] + 1)
        data.attrs.update({"format": "canonical", "file": str(path), "table": tables[want], "notes": notes})
        return data
    visible = visible_sheets(wb)
    sheets = {s.lower(): s for s in visible}
    sheet = sheets.get(want, visible[0] if visible else None)
    if sheet is None:
        raise file_problem(path, "has no visible sheets" if wb.sheet_names else "has no sheets")
    rows = sheet_rows(wb, sheet)
    if kind == "purchase_register" or any(purchase_register.is_purchase_register(r) for r in rows[:40]):
        return purchase_register.from_rows(rows, sheet, str(path))
    r, _ = best_row(rows, _score)
    header = rows[r] if r >= 0 else []
    _require_header(header, path, sheet, None)
    notes = check_headers(header, path, sheet, r + 1)
    names = _unique([str(h).strip() if str(h).strip() else f"Column {c + 1}" for c, h in enumerate(header)])
    data = table(rows, r + 1, names, file=path, sheet=sheet)
    data["_sheet"] = sheet
    data.attrs.update({"format": "canonical", "file": str(path), "sheet": sheet, "notes": notes})
    if len(visible) > 1:  # say which one: the others are not read
        others = ", ".join(repr(v) for v in visible if v != sheet)
        data.attrs["notes"] = [*data.attrs.get("notes", []),
                               f"{path.name}: read sheet {sheet!r} only (not {others})"]
    return data


def visible_sheets(wb) -> list[str]:
    """The workbook's visible worksheets, in order: a hidden sheet (an old copy, a lookup list) is never
    the one read (python-calamine's ``sheets_metadata``)."""
    try:
        meta = wb.sheets_metadata
    except AttributeError:  # an older python-calamine: every sheet
        return list(wb.sheet_names)
    return [m.name for m in meta if str(m.visible).endswith("Visible") and str(m.typ).endswith("WorkSheet")]


def _unique(names: list[str]) -> list[str]:
    out, seen = [], set()
    for n in names:
        while n in seen:
            n = f"{n} (2)"
        seen.add(n)
        out.append(n)
    return out
