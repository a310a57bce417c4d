"""Reconciliation use case: IMS records + the client's books -> match, suggestions, and their JSON.

One function for every door (``report --purchases``, ``reconcile``, the workbook button and UDF):
:func:`reconcile`. Matching: :mod:`ims_excel.engine.reconcile`; suggestions:
:mod:`ims_excel.engine.suggest`; books in: :mod:`ims_excel.formats.books`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.engine.context import Context
from ims_excel.engine.reconcile import FIELDS, Match, Settings, match
from ims_excel.engine.suggest import suggest
from ims_excel.formats.books import read_books


@dataclass
class Reconciliation:
    """``match.ims`` / ``suggestions`` follow the IMS records' order; ``match.books`` the books rows'."""

    inward: pd.DataFrame
    books: pd.DataFrame
    match: Match
    suggestions: pd.DataFrame


def reconcile(inward: pd.DataFrame, ctx: Context, books: pd.DataFrame | list[str | Path],
              settings: Settings | None = None) -> Reconciliation:
    """Match typed IMS records with the books (a typed frame, or files to read) and suggest actions."""
    if not isinstance(books, pd.DataFrame):
        books = read_books(list(books))
    m = match(inward, books, settings)
    return Reconciliation(inward, books, m, suggest(inward, ctx, m, books))


def _num(v: float) -> float:
    return round(float(v), 2) + 0.0


def record_fields(rec: Reconciliation) -> list[dict]:
    """Per IMS record: ``match`` {status, purchase_rows, purchase_file, differences}, ``suggested_action``,
    ``suggestion_reason`` (the ``report --purchases --json`` contract)."""
    mi = rec.match.ims
    pos = mi["books_pos"].to_numpy()
    rows = rec.books["source_row"].to_numpy() if len(rec.books) else np.zeros(0, dtype=int)
    files = rec.books["book_file"].astype(str).to_numpy(dtype=object) if len(rec.books) else np.zeros(0, object)
    status = mi["status"].astype(str).tolist()
    diffs = {f: mi[f"diff_{f}"].to_numpy() for f in FIELDS}
    ims_vals = {f: rec.inward[f].to_numpy(dtype=float) for f in FIELDS}
    ddiff = mi["date_diff"].to_numpy()
    idate = pd.to_datetime(rec.inward["document_date"]).dt.strftime("%Y-%m-%d").tolist()
    bdate = pd.to_datetime(rec.books["document_date"]).dt.strftime("%Y-%m-%d").tolist() if len(rec.books) else []
    action = rec.suggestions["suggested_action"].tolist()
    reduction = rec.suggestions["suggested_itc_reduction"].tolist()
    remark = rec.suggestions["suggested_remarks"].tolist()
    reason = rec.suggestions["suggestion_reason"].tolist()
    out = []
    for i in range(len(mi)):
        p = int(pos[i])
        differences = {}
        if p >= 0:
            for f in FIELDS:
                if abs(diffs[f][i]) >= 0.005:
                    differences[f] = [_num(ims_vals[f][i]), _num(ims_vals[f][i] - diffs[f][i])]
            if ddiff[i]:
                differences["date"] = [idate[i], bdate[p]]
        out.append({
            "match": {"status": status[i], "purchase_rows": [int(rows[p])] if p >= 0 else [],
                      "purchase_file": str(files[p]) if p >= 0 else None, "differences": differences},
            "suggested_action": action[i], "suggested_itc_reduction": reduction[i],
            "suggested_remarks": remark[i], "suggestion_reason": reason[i],
        })
    return out


def purchases_json(rec: Reconciliation, inward_rows: np.ndarray | None = None) -> list[dict]:
    """One dict per books row: row (in its file), file, document_number, supplier_gstin, status, inward_row."""
    b = rec.books
    mb = rec.match.books
    rows_in = rec.inward["row"].to_numpy() if inward_rows is None else inward_rows
    ims_pos = mb["ims_pos"].to_numpy()
    inward_row = [int(rows_in[p]) if p >= 0 else None for p in ims_pos.tolist()]
    return [{"row": int(r), "file": f, "document_number": d, "supplier_gstin": g, "status": s, "inward_row": ir}
            for r, f, d, g, s, ir in zip(b["source_row"].tolist(), b["book_file"].astype(str).tolist(),
                                         b["document_number"].astype(str).tolist(),
                                         b["supplier_gstin"].astype(str).tolist(),
                                         mb["status"].astype(str).tolist(), inward_row)]


def reconcile_text(rec: Reconciliation) -> str:
    """The reconciliation's counts as lines of text (``report --purchases`` without ``--json``)."""
    counts = status_counts(rec)
    sug = rec.suggestions["suggested_action"].value_counts()
    return "\n".join([
        "Reconciliation with the purchase register",
        "  IMS records: " + "  ".join(f"{k} {v}" for k, v in counts["ims"].items()),
        "  books rows:  " + "  ".join(f"{k} {v}" for k, v in counts["books"].items()),
        "  suggested:   " + ("  ".join(f"{k} {int(v)}" for k, v in sug.items() if k and v) or "none")])


def status_counts(rec: Reconciliation) -> dict[str, dict[str, int]]:
    ims = rec.match.ims["status"].value_counts()
    books = rec.match.books["status"].value_counts()
    return {"ims": {str(k): int(v) for k, v in ims.items() if v},
            "books": {str(k): int(v) for k, v in books.items() if v}}


__all__ = ["Reconciliation", "reconcile", "record_fields", "purchases_json", "status_counts", "reconcile_text",
           "Settings"]
