"""``export``: the IMS upload JSON of a route (offline by default; api: and its RESET file) from a
workbook, after running the engine (see :mod:`ims_excel.formats.upload_json`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from ims_excel.book.read import evaluate_book, load_book
from ims_excel.formats.upload_json import build_upload


def export_upload(path: str | os.PathLike, out: str | os.PathLike, *, only_valid: bool = False,
                  as_of: dt.date | None = None, route: str = "offline"):
    """Engine + upload JSON of ``route`` (offline: one SAVE file; api: SAVE, and a RESET file beside it
    when records go back to No Action)."""

    book = load_book(path, as_of=as_of)
    result = evaluate_book(book)
    recs = book.inward.frame.copy()
    recs["row"] = book.inward.rows  # name records by their sheet row
    statuses = result.records[["status", "primary_code"]].copy()
    statuses.index = recs.index
    up = build_upload(recs, statuses, book.context.gstin, specified=pd.Series(
        result.records["specified"].to_numpy(), index=recs.index), only_valid=only_valid, route=route)
    out = Path(out)
    up.write(out)
    reset = None
    if up.reset_payload:
        reset = up.write_reset(out.with_name(out.stem + ".reset" + out.suffix))
    return up, book, result, reset
