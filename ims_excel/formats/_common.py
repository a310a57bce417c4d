"""Shared pieces of the format readers: places, problems, labels, the typed step.

Every reader returns a *raw* frame: canonical headers (see
:mod:`ims_excel.records`), cells as read, plus bookkeeping columns that
:func:`ims_excel.normalise.normalise` keeps in ``extra``:

``_path``
    JSON readers: where the record sits, e.g. ``imsDetails.b2b[3]``.
``_sheet``, ``_row``
    Excel readers: sheet name and the 1-based Excel row (CSV: ``_row`` only,
    the line number, the header being row 1).
``_source``, ``_section_key``
    IMS JSON only: the portal's record as read (from a file: its JSON text,
    streamed; from :func:`ims_json.parse` given objects: the dict), and its
    section key, so that the upload can send it back unchanged.

``raw.attrs`` holds ``format`` (which reader), ``file`` and, when the file
names it, ``gstin`` (the recipient / the return's GSTIN).

>>> label_key("Taxable Value (₹)*"), label_key("State/UT Tax(Rs.)"), label_key(" Invoice  number ")
('taxablevalue', 'stateuttax', 'invoicenumber')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ims_excel.normalise import InputError, InputProblem, amendment_problems, normalise
from ims_excel.xlsx.guard import Refused, check_file, env_limit

MAX_FILE_BYTES = 512 * 1024 * 1024
"""Largest input file we read at all (CSV, an xlsx/xlsm source); ``IMS_EXCEL_MAX_INPUT_MB`` overrides it."""

INTERNAL = ("_path", "_sheet", "_row", "_source", "_section_key")

SECTION_KEYS = {
    "B2B": "b2b", "B2BA": "b2ba", "B2B-DN": "b2bdn", "B2B-DNA": "b2bdna",
    "B2B-CN": "b2bcn", "B2B-CNA": "b2bcna", "ECO": "ecom", "ECOA": "ecoma",
    "IMPG": "impg", "IMPGA": "impga", "IMPGSEZ": "impgsez", "IMPGSEZA": "impgasez",
}
"""Canonical section -> IMS API section key (the upload's ``invdata`` keys)."""

SECTION_OF_KEY = {v: k for k, v in SECTION_KEYS.items()}

SUPPLIER_RETURN_PERIOD = "Supplier Return Period"
"""Not a canonical column (yet): the supplier's return period ``rtnprd`` (MMYYYY).

Readers keep it under this header, so it lands in ``extra``; the upload needs
it to rebuild a record that did not come from an IMS JSON."""


@dataclass(frozen=True)
class JsonProblem(InputProblem):
    """An :class:`InputProblem` inside a JSON file; ``path`` is e.g. ``imsDetails.b2b[3]``."""

    path: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


def file_problem(file: str | os.PathLike, message: str) -> InputError:
    """An :class:`InputError` about the whole file."""
    return InputError([InputProblem(str(file), None, None, message)])


def check_input(path: str | os.PathLike, limit: int | None = None, *, limit_name: str = "MAX_INPUT_MB") -> int:
    """Refuse, before reading a byte, an input that is missing, unreadable (permission denied named as such),
    a folder, not a regular file (a FIFO would block forever, ``/dev/zero`` fill memory) or too big
    (:func:`ims_excel.xlsx.guard.check_file`). ``limit``: bytes, default :data:`MAX_FILE_BYTES` or
    ``IMS_EXCEL_<limit_name>``; 0 = no size limit. Returns the size."""
    try:
        if limit is None:
            limit = env_limit(limit_name, MAX_FILE_BYTES)
        return check_file(path, limit, limit_name)
    except Refused as r:
        raise file_problem(r.file, r.message) from None


def check_size(path: Path, limit: int | None = None) -> int:
    """:func:`check_input` (the older name)."""
    return check_input(path, limit)


# ---------------------------------------------------------------- labels

_LABEL_NOISE = re.compile(r"\((?:₹|rs\.?|inr|in ₹|in rs\.?)\)|₹|\*", re.IGNORECASE)


def label_key(label: object) -> str:
    """A header as a matching key: lower case, no currency suffix, letters and digits only."""
    text = _LABEL_NOISE.sub("", str(label)).lower()
    return re.sub(r"[^0-9a-z]+", "", text)


# ---------------------------------------------------------------- typed step

def to_typed(raw: pd.DataFrame, *, file: str | None = None, direction: str = "inward") -> pd.DataFrame:
    """Normalise a raw frame and name every problem by its place in the file.

    Inward amendments without their original document are refused here
    (:func:`ims_excel.normalise.amendment_problems`), so every file read and the
    workbook's own table are checked. Rows are numbered 1..n in the typed frame
    (``row``); a problem is reported
    at the JSON path (``_path``) or the sheet and Excel row (``_sheet``/``_row``)
    the raw frame recorded, else at the 1-based data row.
    """
    file = str(file or raw.attrs.get("file") or "<input>")
    try:
        # the GSTN purchase-register template is the accountant's books: a state's name is its code
        typed = normalise(raw.reset_index(drop=True), file=file, direction=direction,
                          place_names=raw.attrs.get("format") == "purchase_register")
        problems = amendment_problems(typed, file=file) if direction == "inward" else []
        if problems:
            raise InputError(problems)
    except InputError as err:
        raise InputError(relocate(err.problems, raw)) from None
    typed.attrs.update(raw.attrs)
    return typed


def relocate(problems: list[InputProblem], raw: pd.DataFrame) -> list[InputProblem]:
    """Replace positional data rows by the places the raw frame recorded."""
    paths = raw["_path"].tolist() if "_path" in raw else None
    sheets = raw["_sheet"].tolist() if "_sheet" in raw else None
    rows = raw["_row"].tolist() if "_row" in raw else None
    out: list[InputProblem] = []
    for p in problems:
        if p.row is None or not 1 <= p.row <= len(raw):
            out.append(p)
            continue
        i = p.row - 1
        if paths is not None:
            out.append(JsonProblem(p.file, p.row, p.column, f"{p.column}: {p.message}" if p.column
                                   else p.message, None, paths[i]))
        elif rows is not None:
            out.append(InputProblem(p.file, int(rows[i]), p.column, p.message,
                                    sheets[i] if sheets is not None else None))
        else:
            out.append(p)
    return out
