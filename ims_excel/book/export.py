"""``export``: the IMS upload JSON of a route (offline by default; api: and its RESET file) from a
workbook, after running the engine (see :mod:`ims_excel.formats.upload_json`).

:func:`upload_from` is the use case on a workbook reached through the port (:mod:`ims_excel.book.port`):
the ``export`` command (:func:`export_upload`) passes the file, the Excel button
(:mod:`ims_excel.xl.macros`) the open workbook; :func:`upload_of` is its step from an evaluated
workbook to the upload.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.book.filebook import FileBook
from ims_excel.book.port import Workbook, evaluate_workbook
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


def upload_from(wb: Workbook, *, only_valid: bool = False, route: str = "offline", as_of: dt.date | None = None
                ) -> tuple[Upload, Result]:
    """(the upload of ``route``, the engine's result) of a workbook: the engine on its Inward and Outward
    tables, then :func:`upload_of`."""
    result, rows, _ = evaluate_workbook(wb, as_of=as_of)
    return upload_of(result, rows, only_valid=only_valid, route=route), result


def export_upload(path: str | os.PathLike, out: str | os.PathLike, *, only_valid: bool = False,
                  as_of: dt.date | None = None, route: str = "offline") -> tuple[Upload, Result, Path | None]:
    """``ims-excel export``: (upload, result, RESET file) after writing the upload JSON of ``route``
    (offline: one SAVE file; api: SAVE, and a RESET file beside it when records go back to No Action)."""

    with FileBook(path) as wb:
        up, result = upload_from(wb, only_valid=only_valid, as_of=as_of, route=route)
    out = Path(out)
    up.write(out)
    reset = None
    if up.reset_payload:
        reset = up.write_reset(out.with_name(out.stem + ".reset" + out.suffix))
    return up, result, reset
