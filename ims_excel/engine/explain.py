"""Plain-English messages of the engine's reason codes, dates and figures filled in.

:func:`message` explains one record; :func:`messages` every record, worked out
once per distinct combination of the values a message uses (so a million
records take seconds). The message texts are rule data
(``ims_excel/rules/reason_codes.yaml``); the workbook's own Message formula
(:mod:`ims_excel.template.inward`) gives the same text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine import Result
from ims_excel.gstin import expected as gstin_expected
from ims_excel.engine.validation import remark_text
from ims_excel.records import HEADS
from ims_excel.rules import rulebook

HEAD_LABEL = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}


def _dmy(v: object) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%d-%m-%Y")


def _period_label(p: int, frequency: str) -> str:
    label = periods.label(int(p))
    return f"the quarter ending {label}" if frequency == "quarterly" else label


class _Row:
    """One row of a wide frame, read a field at a time (``frame.iloc[i]`` builds the whole row);
    ``columns`` keeps the columns read, for many calls on the same frame."""

    def __init__(self, frame: pd.DataFrame, i: int, columns: dict | None = None):
        self.frame, self.i, self.columns = frame, i, columns

    def __getitem__(self, name: str) -> object:
        if self.columns is None:
            return self.frame[name].iat[self.i]
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = self.frame[name]
        return col.iat[self.i]


def message(result: Result, i: int, code: str | None = None, *, cache: dict | None = None) -> str:
    """The plain-English message of one record's primary (or given) code, dates filled in.

    ``cache``: an empty dict to pass to every call on the same result (keeps the columns read).
    """
    rb = rulebook()
    if cache is not None:
        cache.setdefault("records", {})
        cache.setdefault("inward", {})
    rec = _Row(result.records, i, cache and cache["records"])
    code = code or rec["primary_code"]
    if not code:
        return ""
    inp = _Row(result.inward, i, cache and cache["inward"])
    text = rb.codes[code].message
    head = int(rec["exceeds_head"])
    x = y = ""
    if code == "DECL_EXCEEDS" and head >= 0:
        h = HEADS[head]
        x = f"{inp[f'declared_{h}']:.2f}"
        y = f"{_full_reduction(result, i, head, cache):.2f}"
        text = text.replace("{head}", HEAD_LABEL[h])
    elif code in ("GSTIN_CHECK_DIGIT", "GSTIN_OVERRIDDEN"):
        g = str(inp["supplier_gstin"])
        x, y = g, gstin_expected(pd.Series([g])).iloc[0]
    elif code == "REMARKS_TOO_LONG":
        x = str(len(remark_text(pd.Series([inp["remarks"]], dtype=object)).iloc[0]))  # as counted (G10)
    elif code == "REMARK_NOT_UPLOADED":
        x = " or ".join(rb.param("remarks_with_action", "offline"))
    elif code in _BY_TEXT:
        x = str(inp[_BY_TEXT[code]])
    elif code == "PEND_FLAG_DISAGREES":
        x = "Y" if inp["pending_blocked"] == 1 else "N"
        y = "Pending not allowed" if inp["pending_blocked"] == 0 else "Pending allowed"
    subs = {
        "{deadline}": _dmy(rec["pending_deadline"]),
        "{next_period}": _period_label(rec["next_period"], result.context.frequency),
        "{period}": periods.label(int(rec["period_2b"])),
        "{date}": _dmy(rec["cutoff_164"]),
        "{x}": x, "{y}": y,
    }
    for k, v in subs.items():
        text = text.replace(k, v)
    return text


def _full_reduction(result: Result, i: int, head: int, cache: dict | None = None) -> float:
    """What a Full declaration reduces on head ``head`` (the engine's figure DECL_EXCEEDS compares with)."""
    rec = _Row(result.records, i, cache and cache["records"])
    return abs(float(rec[f"reduction_{HEADS[head]}"]))


_PER_ROW = {"DECL_EXCEEDS"}
_BY_FIELD = {"GSTIN_CHECK_DIGIT": "supplier_gstin", "GSTIN_OVERRIDDEN": "supplier_gstin",
             "PEND_FLAG_DISAGREES": "pending_blocked", "PORTAL_ERROR": "portal_error",
             "SUPPLIER_CHANGED": "supplier_change"}
_BY_TEXT = {"PORTAL_ERROR": "portal_error", "SUPPLIER_CHANGED": "supplier_change"}
"""Codes whose {x} is a text column of the record, as typed."""


def messages(result: Result, which: np.ndarray | None = None) -> pd.Series:
    """Message of each record's primary code (``which``: positions to do; default all).

    Same text as :func:`message`, computed once per distinct
    combination of the values a message uses.
    """
    recs = result.records
    pos = np.arange(len(recs)) if which is None else np.asarray(which, dtype="int64")
    if len(pos) == 0:
        return pd.Series([], dtype=object)
    code = recs["primary_code"].astype(object).to_numpy()[pos]
    key = pd.DataFrame({
        "code": code,
        "deadline": recs["pending_deadline"].to_numpy()[pos],
        "next": recs["next_period"].to_numpy()[pos],
        "p2b": recs["period_2b"].to_numpy()[pos],
        "cutoff": recs["cutoff_164"].to_numpy()[pos],
    })
    extra = np.full(len(pos), "", dtype=object)
    for c, fieldname in _BY_FIELD.items():
        m = code == c
        if m.any():
            extra[m] = result.inward[fieldname].astype(object).to_numpy()[pos[m]].astype(str)
    m = code == "REMARKS_TOO_LONG"
    if m.any():
        extra[m] = remark_text(result.inward["remarks"].iloc[pos[m]]).str.len().astype(str).to_numpy(dtype=object)
    m = np.isin(code, list(_PER_ROW))
    extra[m] = pos[m].astype(str)
    key["extra"] = extra
    out = np.empty(len(pos), dtype=object)
    out[:] = ""
    flagged = code != ""
    if flagged.any():
        k = key[flagged]
        groups = k.groupby(list(k.columns), dropna=False, sort=False).indices
        idx = np.flatnonzero(flagged)
        cache: dict = {}
        for members in groups.values():
            members = idx[members]
            out[members] = message(result, int(pos[members[0]]), cache=cache)
    return pd.Series(out, dtype=object)


__all__ = ["message", "messages"]
