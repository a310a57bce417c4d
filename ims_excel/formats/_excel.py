"""Safe xlsx/xlsm in: zip-bomb and XML-entity checks, then python-calamine.

Before calamine opens a workbook, :func:`check_xlsx` refuses a file that is
not a zip, has more than :data:`MAX_ENTRIES` parts, declares a part larger
than :data:`MAX_ENTRY_BYTES` or all parts together larger than
:data:`MAX_TOTAL_BYTES` uncompressed, compresses a part larger than 1 MB
more than :data:`ims_excel.xlsx.package.MAX_RATIO` times (the one
zip-bomb ratio), or has a part that is XML *by content*
(whatever its name) whose prolog holds a ``<!DOCTYPE`` / ``<!ENTITY`` (or a
prolog longer than 64 KB, which could hide one). The sizes are the ones the
zip directory declares; the limits are absolute and can be changed with
``IMS_EXCEL_MAX_SOURCE_PART_MB`` and ``IMS_EXCEL_MAX_SOURCE_TOTAL_MB``.

"""

from __future__ import annotations

import contextlib
import html
import posixpath
import re
import zipfile
from pathlib import Path

import pandas as pd
import python_calamine as pc

from ims_excel.formats._common import check_size, file_problem, label_key
from ims_excel.normalise import InputError, InputProblem
from ims_excel.xlsx import fastread
from ims_excel.xlsx.guard import Refused, check_parts, env_limit, limit_part
from ims_excel.xlsx.package import MAX_RATIO, UNREADABLE, col_letters

MAX_ENTRIES = 10_000
MAX_ENTRY_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 4 * 1024**3


def check_xlsx(path: str | Path) -> None:
    """Refuse zip bombs and XML entity tricks (see the module doc)."""
    path = Path(path)
    check_size(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise file_problem(path, "is not an Excel workbook (.xlsx/.xlsm are zip files; this is not one)") from None
    try:
        with zf:
            _check_zip(zf, path)
    except Refused as r:
        raise file_problem(r.file, r.message) from None


def _check_zip(zf: zipfile.ZipFile, path: Path) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise file_problem(path, f"has {len(infos)} parts; more than {MAX_ENTRIES} is refused")
    total = 0
    part_limit = env_limit("MAX_SOURCE_PART_MB", MAX_ENTRY_BYTES)
    for info in infos:
        total += info.file_size
        limit_part(path, info, part_limit, "MAX_SOURCE_PART_MB")
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise file_problem(path, f"part {info.filename!r} compresses "
                                     f"{info.file_size / max(info.compress_size, 1):.0f} to 1; "
                                     "refused as a zip bomb")
    total_limit = env_limit("MAX_SOURCE_TOTAL_MB", MAX_TOTAL_BYTES)
    if total > total_limit:
        raise file_problem(path, f"declares {total / 2**20:.0f} MB uncompressed, over the limit of "
                                 f"{total_limit / 2**20:.0f} MB (IMS_EXCEL_MAX_SOURCE_TOTAL_MB); refused as a "
                                 "zip bomb")
    check_parts(zf, infos, path)


def open_workbook(path: str | Path, tables: bool = False) -> pc.CalamineWorkbook:
    """Check, then open with python-calamine; problems as :class:`InputError`."""
    check_xlsx(path)
    try:
        return pc.CalamineWorkbook.from_path(str(path), load_tables=tables)
    except pc.PasswordError:
        raise file_problem(path, "is password-protected; save an unprotected copy") from None
    except Exception as exc:  # calamine's errors have no common base beyond Exception
        raise file_problem(path, f"cannot be read as a workbook: {exc}") from None


@contextlib.contextmanager
def reading(path: str | Path):
    """Name the SOURCE workbook when its content cannot be decoded while its cells are read (malformed
    UTF-8, a lone surrogate, ``&#1114112;``, a bad CRC...; python-calamine raises ``CalamineError``),
    rather than let the error reach a door that would blame the client workbook (issue 14, "Faults")."""
    try:
        yield
    except (pc.CalamineError, *UNREADABLE) as exc:
        raise file_problem(path, f"cannot be read ({type(exc).__name__}: {exc}); the file is damaged: export "
                                 "or download it again") from None


def sheet_rows(wb: pc.CalamineWorkbook, name: str) -> list[list]:
    """All cells of a sheet from A1 (row i of the list is Excel row i + 1)."""
    return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def best_row(rows: list[list], score, scan: int = 40) -> tuple[int, int]:
    """(index, score) of the row among the first ``scan`` whose ``score(keys)`` is highest."""
    best, best_score = -1, 0
    for r, row in enumerate(rows[:scan]):
        s = score([label_key(c) if isinstance(c, str) else "" for c in row])
        if s > best_score:
            best, best_score = r, s
    return best, best_score


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str | None:
    """The worksheet part of the sheet called ``sheet`` (from workbook.xml and its relationships)."""
    try:
        wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return None
    for tag in re.findall(r"<sheet\b[^>]*>", wb):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]*)"', tag)
        if name and rid and html.unescape(name.group(1)) == sheet:
            m = re.search(r'<Relationship\b[^>]*\bId="' + re.escape(rid.group(1)) + r'"[^>]*>', rels)
            t = re.search(r'\bTarget="([^"]*)"', m.group(0)) if m else None
            if t:
                target = t.group(1)
                return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    return None


def check_cells(path: str | Path, sheet: str, first_row: int, ncols: int, first_col: int = 1,
                names: list[str] | None = None) -> None:
    """Refuse cells calamine would read as blank: an error (``#N/A``), a formula with no saved value, ``NaN`` or
    ``1e400`` in a number cell, a row that appears twice (see :func:`ims_excel.xlsx.fastread.hazards`), in
    rows ``first_row..`` and the ``ncols`` columns from ``first_col`` of the sheet read."""
    cols = set(range(first_col, first_col + ncols))
    found: list[tuple[int, int, str]] = []
    with zipfile.ZipFile(path) as zf:
        part = _sheet_part(zf, sheet)
        if part is None or part not in zf.NameToInfo:
            return
        buf = b""
        with zf.open(part) as fh:
            while chunk := fh.read(1 << 24):
                buf += chunk
                cut = buf.rfind(b"</row>")
                if cut >= 0:
                    found += fastread.hazards(buf[:cut + 6], cols, first_row)
                    buf = buf[cut + 6:]
        found += fastread.hazards(buf, cols, first_row)
    if found:
        def column(c: int) -> str | None:
            return names[c - first_col] if names and 0 <= c - first_col < len(names) else None
        raise InputError([InputProblem(str(path), r, column(c), f"cell {col_letters(c)}{r} {msg}" if c else msg, sheet)
                          for r, c, msg in found[:40]])


def table(rows: list[list], first: int, names: list[str], *, file: str | Path | None = None,
          sheet: str | None = None) -> pd.DataFrame:
    """Rows ``first..`` as a frame with ``names``; blank rows dropped, ``_row`` = Excel row.

    With ``file`` and ``sheet``, cells that cannot be read are refused first (:func:`check_cells`)."""
    if file is not None and sheet is not None and str(file).lower().endswith((".xlsx", ".xlsm")) \
            and Path(file).is_file():  # rows handed in by a caller that read no file are taken as given
        check_cells(file, sheet, first + 1, len(names), names=names)
    width = len(names)
    body, excel_rows = [], []
    for r in range(first, len(rows)):
        cells = rows[r]
        if any(v != "" and v is not None for v in cells[:width]):
            body.append(cells[:width] if len(cells) >= width else cells + [""] * (width - len(cells)))
            excel_rows.append(r + 1)
    data = pd.DataFrame(body, columns=names, dtype=object) if body else \
        pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    data["_row"] = excel_rows
    return data
