"""Safe xlsx/xlsm in: zip-bomb and XML-entity checks, then python-calamine.

Before calamine opens a workbook, :func:`check_xlsx` refuses a file that is
not a zip, has more than :data:`MAX_ENTRIES` parts, declares a part larger
than :data:`MAX_ENTRY_BYTES` or all parts together larger than
:data:`MAX_TOTAL_BYTES` uncompressed, compresses a part larger than 1 MB
more than :data:`ims_excel.xlsx.package.MAX_RATIO` times (the one zip-bomb ratio), or has an XML
part whose prolog holds a ``<!DOCTYPE`` / ``<!ENTITY`` (or a prolog longer than 64 KB, which could
hide one; :func:`ims_excel.xlsx.package.prolog_ok`). The sizes are the ones the zip directory declares.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import python_calamine as pc

from ims_excel.formats._common import check_size, file_problem, label_key
from ims_excel.xlsx.package import MAX_RATIO, PROLOG_BYTES, prolog_ok

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
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise file_problem(path, f"has {len(infos)} parts; more than {MAX_ENTRIES} is refused")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > MAX_ENTRY_BYTES:
                raise file_problem(path, f"part {info.filename!r} declares {info.file_size / 2**20:.0f} MB "
                                         "uncompressed; refused as a zip bomb")
            if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise file_problem(path, f"part {info.filename!r} compresses "
                                         f"{info.file_size / max(info.compress_size, 1):.0f} to 1; "
                                         "refused as a zip bomb")
        if total > MAX_TOTAL_BYTES:
            raise file_problem(path, f"declares {total / 2**20:.0f} MB uncompressed; refused as a zip bomb")
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels", ".vml")) and info.file_size:
                try:
                    with zf.open(info) as fh:
                        head = fh.read(PROLOG_BYTES)
                except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
                    raise file_problem(path, f"part {info.filename!r} cannot be read: {exc}") from None
                if not prolog_ok(head):
                    raise file_problem(path, f"part {info.filename!r} declares a DOCTYPE or ENTITY; "
                                             "refused (XML entity expansion)")


def open_workbook(path: str | Path, tables: bool = False) -> pc.CalamineWorkbook:
    """Check, then open with python-calamine; problems as :class:`InputError`."""
    check_xlsx(path)
    try:
        return pc.CalamineWorkbook.from_path(str(path), load_tables=tables)
    except pc.PasswordError:
        raise file_problem(path, "is password-protected; save an unprotected copy") from None
    except Exception as exc:  # calamine's errors have no common base beyond Exception
        raise file_problem(path, f"cannot be read as a workbook: {exc}") from None


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


def table(rows: list[list], first: int, names: list[str]) -> pd.DataFrame:
    """Rows ``first..`` as a frame with ``names``; blank rows dropped, ``_row`` = Excel row."""
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
