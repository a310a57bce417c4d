"""``export``: the IMS upload JSON of a route (offline by default; api: and its RESET file) from a
workbook, after running the engine (see :mod:`ims_excel.formats.upload_json`).

:func:`upload_of` is the one path from an evaluated workbook to the upload, shared by the ``export``
command (:func:`export_upload`, the file on disk) and the Excel button (:mod:`ims_excel.xl.macros`,
the open workbook); they differ only in how they reach the workbook's records.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.book.read import evaluate_book, load_book
from ims_excel.engine import Result
from ims_excel.formats.upload_json import Upload, build_upload


def upload_of(result: Result, rows: np.ndarray, *, only_valid: bool = False, route: str = "offline") -> Upload:
    """The upload of an evaluated workbook, each record named by its Inward sheet row (``rows``);
    refused (:class:`~ims_excel.formats.upload_json.UploadRefused`) when a record to upload has an
    error, unless ``only_valid``."""
    recs = result.inward.copy()
    recs["row"] = rows
    statuses = result.records[["status", "primary_code"]].copy()
    statuses.index = recs.index
    specified = pd.Series(result.records["specified"].to_numpy(), index=recs.index)
    return build_upload(recs, statuses, result.context.gstin, specified=specified, only_valid=only_valid,
                        route=route)


def export_upload(path: str | os.PathLike, out: str | os.PathLike, *, only_valid: bool = False,
                  as_of: dt.date | None = None, route: str = "offline"):
    """Engine + upload JSON of ``route`` (offline: one SAVE file; api: SAVE, and a RESET file beside it
    when records go back to No Action)."""

    book = load_book(path, as_of=as_of)
    result = evaluate_book(book)
    up = upload_of(result, book.inward.rows, only_valid=only_valid, route=route)
    out = Path(out)
    up.write(out)
    reset = None
    if up.reset_payload:
        reset = up.write_reset(out.with_name(out.stem + ".reset" + out.suffix))
    return up, book, result, reset
