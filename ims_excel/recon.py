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
from ims_excel.engine.suggest import check, suggest
from ims_excel.formats.books import read_books
from ims_excel.records import INWARD_COLUMNS, categories


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


def inward_columns(rec: Reconciliation) -> pd.DataFrame:
    """What ``reconcile`` writes into the Inward table's tool columns (``records.INWARD_RECONCILE``), per
    IMS record (``rec.inward``'s order): ``Match Status`` (the match's status), ``Suggested Action``
    (Accept / Reject / Pending / '') and ``Match Note``: the suggestion's reason, which names the books
    row, the differences and the rule; where there is no suggestion because of the record itself
    (already actioned, frozen, outside IMS) the books row and the differences first, then why."""
    mi = rec.match.ims
    n = len(mi)
    pos = mi["books_pos"].to_numpy()
    has = pos >= 0
    where = np.full(n, "not in the purchase register", dtype=object)
    if has.any() and len(rec.books):
        rows = rec.books["source_row"].to_numpy()[pos[has]].astype("int64").astype(str).astype(object)
        files = rec.books["book_file"].astype(str).to_numpy(dtype=object)[pos[has]]
        where[has] = "books row " + rows + " (" + files + ")"
    differs = mi["differs"].astype(str).to_numpy(dtype=object)
    where = np.where(has & (differs != ""), where + ": " + differs, where)
    reason = rec.suggestions["suggestion_reason"].astype(str).to_numpy(dtype=object)
    itself = pd.Series(reason).str.startswith("no suggestion").to_numpy()
    note = np.where(itself, where + "; " + reason, reason)
    return pd.DataFrame({"Match Status": mi["status"].astype(str).to_numpy(dtype=object),
                         "Match Note": note.astype(object),
                         "Suggested Action": rec.suggestions["suggested_action"].to_numpy(dtype=object)},
                        index=rec.inward.index)


_CATS = {c.name: categories(c) for c in INWARD_COLUMNS if c.name in ("Action", "ITC Reduction")}


@dataclass
class Applied:
    """``reconcile --apply``: per record that gets a suggestion copied in (positions in ``rec.inward``),
    the cells to write (``action``; ``itc_reduction`` / ``remarks`` '' = leave the cell as it is);
    ``refused``: positions whose suggestion, with the cells the user typed beside it, the engine would
    refuse (``codes``: its reason code), so they are left blank."""

    positions: np.ndarray
    action: np.ndarray
    itc_reduction: np.ndarray
    remarks: np.ndarray
    refused: np.ndarray
    codes: np.ndarray


def apply_plan(rec: Reconciliation, ctx: Context) -> Applied:
    """Which suggestions go into the Action cells: only where Action is blank (a typed action, "No
    Action" included, is never changed); the suggested ITC Reduction and remark only where those cells
    are blank too (what the user typed stays). Each row as it would then be is checked by the engine
    (:func:`ims_excel.engine.suggest.check`, the same check the suggestion passed): a row it would
    refuse - a typed ITC Reduction or declaration that does not go with the suggestion - is left
    blank and listed, so applying never adds an error."""
    inward, sug = rec.inward, rec.suggestions
    action = sug["suggested_action"].to_numpy(dtype=object)
    todo = np.flatnonzero((inward["action"].astype(str).to_numpy(dtype=object) == "") & (action != ""))
    red = sug["suggested_itc_reduction"].to_numpy(dtype=object)[todo]
    rem = sug["suggested_remarks"].to_numpy(dtype=object)[todo]
    sub = inward.iloc[todo]
    typed_red = sub["itc_reduction"].astype(str).to_numpy(dtype=object)
    typed_rem = sub["remarks"].astype(str).to_numpy(dtype=object)
    red = np.where((red != "") & (typed_red == ""), red, "").astype(object)
    rem = np.where((rem != "") & (pd.Series(typed_rem).str.strip().to_numpy() == ""), rem, "").astype(object)
    frame = sub.assign(action=pd.Categorical(action[todo], categories=_CATS["Action"]),
                       itc_reduction=pd.Categorical(np.where(red != "", red, typed_red),
                                                    categories=_CATS["ITC Reduction"]),
                       remarks=np.where(rem != "", rem, typed_rem))
    verdict = check(frame, ctx)
    ok = verdict["err_bits"].to_numpy() == 0
    return Applied(todo[ok], action[todo][ok], red[ok], rem[ok], todo[~ok],
                   verdict["primary_code"].astype(str).to_numpy(dtype=object)[~ok])


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


__all__ = ["Reconciliation", "reconcile", "inward_columns", "apply_plan", "Applied", "record_fields", "purchases_json", "status_counts", "reconcile_text",
           "Settings"]
