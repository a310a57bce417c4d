"""Portal files in and out.

One module per format, each module's docstring its spec:

* :mod:`.ims_json` - IMS JSON (offline-tool download, GETINV, our upload) in;
* :mod:`.gstr2b_json` - GSTR-2B JSON in;
* :mod:`.portal_excel` - the IMS Excel download (offline-tool layout) in;
* :mod:`.canonical` - CSV / xlsx / xlsm in the canonical headers in;
* :mod:`.purchase_register` - GSTN's purchase-register template v2.4 in;
* :mod:`.books` - the client's purchase register (that template, :mod:`.tally_books`,
  :mod:`.busy_books`, canonical) in, several files at once, for reconciliation;
* :mod:`.upload_json` - the IMS upload JSON (SAVE) out.

:func:`detect_and_read` picks the reader by extension and content and returns
the *raw* frame (canonical headers, cells as read); :func:`load` types it
with :func:`ims_excel.normalise.normalise`. Every problem is an
:class:`~ims_excel.normalise.InputError` naming the file and the place
(JSON path, or sheet + row + column). Oversized, over-nested and zip-bomb
inputs and XML with DOCTYPE/ENTITY are refused before parsing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ims_excel.formats import canonical, gstr2b_json, ims_json, portal_excel, purchase_register
from ims_excel.formats._common import check_size, file_problem, to_typed
from ims_excel.formats._excel import open_workbook, reading
from ims_excel.formats._jsonstream import read_with
from ims_excel.formats.upload_json import Upload, UploadRefused, build_upload, write_upload
from ims_excel.normalise import InputError, InputProblem

__all__ = ["detect_and_read", "load", "detect", "to_typed", "build_upload", "write_upload", "Upload",
           "UploadRefused", "InputError", "InputProblem", "canonical", "gstr2b_json", "ims_json",
           "portal_excel", "purchase_register"]


def detect(path: str | Path) -> str:
    """Which reader a file needs: ims_json, gstr2b_json, portal_excel, canonical or purchase_register."""
    return detect_and_read(path).attrs["format"]


def detect_and_read(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    """Read any supported file into the raw canonical frame (``attrs["format"]`` says which)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_json(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, direction)
    if suffix == ".csv":
        return canonical.read_csv(path)
    check_size(path)
    with open(path, "rb") as fh:
        head = fh.read(8).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return _read_json(path)
    if head.startswith(b"PK"):
        return _read_excel(path, direction)
    raise file_problem(path, f"has an unsupported type {suffix or '(no extension)'!r}: "
                             "use .json, .xlsx, .xlsm or .csv")


def load(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    """:func:`detect_and_read` then normalise: the typed canonical frame."""
    return to_typed(detect_and_read(path, direction), file=str(path), direction=direction)


def _read_json(path: Path) -> pd.DataFrame:
    return read_with(parse_json, path)  # streamed: a section's records a few MB at a time


def parse_json(obj: object, file: str = "<json>") -> pd.DataFrame:
    """The raw frame of a parsed (or streamed) GSTR-2B or IMS JSON document, whichever it is."""
    if gstr2b_json.is_gstr2b(obj):
        return gstr2b_json.parse(obj, file)
    return ims_json.parse(obj, file)  # raises the envelope problem if it is neither


def _read_excel(path: Path, direction: str) -> pd.DataFrame:
    with reading(path):
        return _read_excel_cells(path, direction)


def _read_excel_cells(path: Path, direction: str) -> pd.DataFrame:
    wb = open_workbook(path, tables=True)
    want = "outward" if direction == "outward" else "inward"
    try:
        tables = {t.lower() for t in wb.table_names}
    except Exception:
        tables = set()
    sheets = {s.lower() for s in wb.sheet_names}
    if want not in tables and want not in sheets and portal_excel.section_sheets(wb.sheet_names):
        return portal_excel.read(path, wb)
    return canonical.read_excel(path, direction, wb=wb)
