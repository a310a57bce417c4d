"""``reconcile``: match a client workbook's Inward records with the purchase register, write the result.

Issue 11. The match and the suggestions come from :func:`ims_excel.recon.reconcile` (the same use case
as ``report --purchases`` and the UDF). :func:`reconcile_into` writes them into a workbook through the
port (:mod:`ims_excel.book.port`: the closed file for ``ims-excel reconcile``, every other part copied
byte for byte and the save atomic with a backup; the open workbook for the Start button):

``Reconciliation`` sheet
    totals per status (IMS side and books side) and per supplier, then every Inward record (its row,
    match status, the books row it matched, the differences, the suggested action and why), then every
    books row (file, row, status, the Inward row it matched).
``Suppliers`` sheet
    per supplier: documents missing in IMS (the supplier has not reported them), mismatches, records
    rejected and pending, and the add-back our rejections will cause in the supplier's GSTR-3B
    (rulebook section 6.1: specified records only; the amount the engine's full reduction gives), with
    totals - the list a firm sends each vendor. ``followup`` writes the same, one CSV per supplier
    (cells neutralised by :mod:`ims_excel.csvout`).

The Inward table's ``Match Status``, ``Match Note`` and ``Suggested Action`` columns
    (``records.INWARD_RECONCILE``: the tool's, each run overwrites them; :func:`ims_excel.recon.inward_columns`)
    get every record's values, written in place through the port (the file: the merge's cell rewrite,
    :func:`ims_excel.book.filebook.append_plan`; only cells whose value changes).
``apply``
    copies each suggestion into a BLANK Action cell (with its ITC Reduction and remark where those are
    blank), each row checked by the engine as it would then be (:func:`ims_excel.recon.apply_plan`).

Nothing else the user typed is changed: a typed action, ITC Reduction or remark is never overwritten.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import ims_excel
from ims_excel.xlsx import fileio
from ims_excel.book import outputs
from ims_excel.book.edit import set_custom_properties
from ims_excel.book.filebook import FileBook
from ims_excel.book.port import Table, Workbook, config_and_context, inward_table
from ims_excel.book.read import INWARD, read_config
from ims_excel.csvout import write_csv
from ims_excel.engine import Context, evaluate
from ims_excel.engine.reconcile import BOOKS_STATUSES, EDITABLE_STATUSES, FIELDS, IMS_STATUSES, Settings
from ims_excel.normalise import InputError, InputProblem, field_name, parse_amounts
from ims_excel.recon import Applied, Reconciliation, apply_plan, inward_columns, reconcile
from ims_excel.records import HEADS, INWARD_RECONCILE
from ims_excel.rules import POLICY_GRAMMAR, policy_option
from ims_excel.template import config as config_sheet
from ims_excel.xlsx.package import Package, check_not_open, now_stamp

RECONCILIATION, SUPPLIERS = outputs.RECONCILIATION_SHEET, outputs.SUPPLIERS_SHEET
CONFIG_TOLERANCE, CONFIG_DATE_TOLERANCE = (config_sheet.field_for(k).name for k in ("match_tolerance",
                                                                                   "match_date_tolerance"))
"""Config names (defined names) that set the tolerances, when the workbook has them (the policy:
``MatchPolicy_<status>``, :func:`ims_excel.template.config.policy_name`)."""

IMS_HEADER = ["Inward row", "Section", "Supplier GSTIN", "Supplier Name", "Document Number", "Document Date",
              "Action", "Match Status", "Books file", "Books row", "Differences", "Suggested Action",
              "ITC Reduction", "Remark", "Why"]
BOOKS_HEADER = ["Books file", "Books row", "Section", "Supplier GSTIN", "Supplier Name", "Document Number",
                "Document Date", "Taxable Value", "IGST", "CGST", "SGST", "Cess", "Match Status", "Inward row"]
SUPPLIER_HEADER = ["Supplier GSTIN", "Supplier Name", "Missing in IMS (not reported)", "Missing in IMS: tax",
                   "Mismatches", "Rejected", "Pending", "Add-back from our rejections", "Missing in our books"]


@dataclass
class ReconcileReport:
    path: Path
    rec: Reconciliation
    suppliers: pd.DataFrame
    followup: list[Path] = field(default_factory=list)
    filled: list[tuple[int, str, str]] = field(default_factory=list)
    """``apply``: (Inward sheet row, document number, action) of each blank Action filled with its suggestion."""
    refused: list[tuple[int, str, str, str]] = field(default_factory=list)
    """``apply``: (row, document number, suggested action, the engine's reason code) left blank: the cells typed beside it
    (ITC Reduction, declared amounts) would make the suggestion an action the engine refuses."""
    columns_written: int = 0
    """Cells of the Match Status / Match Note / Suggested Action columns that changed."""
    missing_columns: list[str] = field(default_factory=list)
    """Those columns the workbook's Inward table lacks (a workbook from an older template)."""
    applied: bool = False
    """Whether the suggestions were copied into blank Actions (asked, for the Excel button)."""
    context: Context | None = None


def _amount(v: object) -> float | None:
    """A Config cell as a number: a number, or text that is an amount by the one rule every import follows
    (:func:`ims_excel.normalise.parse_amounts`: "5", "1.50", "1,00,000.50"; not "1,5" or "1e3"); else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    vals, bad = parse_amounts(pd.Series([str(v)], dtype=object))
    return None if bool(bad.iloc[0]) else float(vals.iloc[0])


def settings_from_config(config: dict[str, object], base: Settings | None = None, *, file: str = "workbook",
                         cells: dict[str, tuple[str, int, str]] | None = None) -> Settings:
    """The reconciliation settings of a workbook's Config sheet (issue 11;
    :data:`ims_excel.template.config.RECON_FIELDS`): ``MatchTolerance`` (rupees, every head and the taxable
    value), ``MatchDateTolerance`` (days) and ``MatchPolicy_<status>`` (options separated by ``;``, tried
    left to right; blank: no suggestion), over ``base`` (default: ``rules/reconcile.yaml``'s). A name the
    workbook lacks (an older template) or a blank tolerance keeps ``base``'s value. A bad value - a
    negative or non-numeric tolerance, days that are not a whole number, an option that is not Accept /
    Reject / Pending as :data:`ims_excel.rules.POLICY_GRAMMAR` allows, a cell of separators only - is an :class:`InputError`
    naming the file, sheet and cell (``cells``, as :func:`ims_excel.book.read.read_config` gives them),
    never ignored."""
    base = base or Settings()
    cells = cells or {}
    problems: list[InputProblem] = []

    def bad(name: str, message: str) -> None:
        sheet, row, label = cells.get(name, ("Config", None, outputs.LABELS.get(name, name)))
        problems.append(InputProblem(file, row, label, message, sheet))

    def given(name: str) -> object | None:
        v = config.get(name)
        return None if v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v) \
            else v

    tol, days, policy = dict(base.tolerance), base.date_days, dict(base.policy)
    raw = given(CONFIG_TOLERANCE)
    if raw is not None:
        amount = _amount(raw)
        if amount is None or not math.isfinite(amount):
            bad(CONFIG_TOLERANCE, f"{outputs.cell_text(raw)!r} is not an amount: write rupees, 0 or more (e.g. 1.00)")
        elif amount < 0:
            bad(CONFIG_TOLERANCE, f"{outputs.cell_text(raw)} is negative: write rupees, 0 or more (e.g. 1.00)")
        else:
            tol = {f: amount for f in FIELDS}
    raw = given(CONFIG_DATE_TOLERANCE)
    if raw is not None:
        d = _amount(raw)
        if d is None or not math.isfinite(d) or not float(d).is_integer():
            bad(CONFIG_DATE_TOLERANCE, f"{outputs.cell_text(raw)!r} is not a whole number of days (e.g. 0 or 2)")
        elif d < 0:
            bad(CONFIG_DATE_TOLERANCE, f"{outputs.cell_text(raw)} is negative: write a whole number of days, 0 or more")
        else:
            days = int(d)
    for status in EDITABLE_STATUSES:
        name = config_sheet.policy_name(status)
        if name not in config:
            continue  # an older template: the base's (reconcile.yaml's) options
        raw = given(name)
        if raw is None:
            policy[status] = ()
            continue
        if not isinstance(raw, str):
            bad(name, f"{outputs.cell_text(raw)!r} is not a list of options (e.g. "
                      f"'Pending with remark{config_sheet.POLICY_SEPARATOR} Reject with remark')")
            continue
        pieces = [p.strip() for p in raw.split(config_sheet.POLICY_SEPARATOR) if p.strip()]
        spelt = [policy_option(p) for p in pieces]
        wrong = [p for p, o in zip(pieces, spelt) if o is None]
        if wrong or not pieces:
            what = (", ".join(repr(w) for w in wrong) + " is not an option") if wrong else \
                f"{raw!r} holds no option (leave the cell blank for no suggestion)"
            bad(name, f"{what}: write {POLICY_GRAMMAR}, options separated by '{config_sheet.POLICY_SEPARATOR}'")
            continue
        policy[status] = tuple(spelt)
    if problems:
        raise InputError(problems)
    return dataclasses.replace(base, tolerance=tol, date_days=days, policy=policy)


def book_settings(path: str | os.PathLike) -> Settings:
    """The reconciliation settings of a client workbook's Config sheet (:func:`settings_from_config`),
    for ``reconcile`` and ``report BOOK --purchases`` before their flags override them."""
    with Package(path) as pkg:
        values, cells = read_config(pkg)
    return settings_from_config(values, file=str(path), cells=cells)


def _tax(frame: pd.DataFrame) -> np.ndarray:
    return sum(frame[h].to_numpy(dtype=float) for h in HEADS)


def supplier_table(rec: Reconciliation, ctx) -> pd.DataFrame:
    """Per supplier GSTIN: the follow-up counts and amounts (see the module doc), a Total row last."""
    inward = rec.inward
    status = rec.match.ims["status"].astype(str).to_numpy()
    bstatus = rec.match.books["status"].astype(str).to_numpy()
    # what the engine does with the actions as typed: rejected / pending, and the add-back of a rejection
    result = evaluate(inward, ctx, check=False)
    eff = result.records["effective_action"].astype(str).to_numpy()
    addback = np.where((eff == "Rejected") & result.records["specified"].to_numpy(),
                       sum(np.abs(result.records[f"reduction_{h}"].to_numpy(dtype=float)) for h in HEADS), 0.0)
    ims = pd.DataFrame({"gstin": inward["supplier_gstin"].astype(str).to_numpy(),
                        "name": inward["supplier_name"].astype(str).to_numpy(),
                        "mismatch": status == "mismatch", "missing_books": status == "missing_in_books",
                        "rejected": eff == "Rejected", "pending": eff == "Pending", "addback": addback})
    books = pd.DataFrame({"gstin": rec.books["supplier_gstin"].astype(str).to_numpy(),
                          "name": rec.books["supplier_name"].astype(str).to_numpy(),
                          "missing_ims": bstatus == "missing_in_ims",
                          "missing_tax": np.where(bstatus == "missing_in_ims", _tax(rec.books), 0.0)})
    a = ims.groupby("gstin", sort=True).agg(name=("name", "first"), mismatch=("mismatch", "sum"),
                                            missing_books=("missing_books", "sum"), rejected=("rejected", "sum"),
                                            pending=("pending", "sum"), addback=("addback", "sum"))
    b = books.groupby("gstin", sort=True).agg(bname=("name", "first"), missing_ims=("missing_ims", "sum"),
                                              missing_tax=("missing_tax", "sum"))
    t = a.join(b, how="outer").fillna({"mismatch": 0, "missing_books": 0, "rejected": 0, "pending": 0,
                                       "addback": 0.0, "missing_ims": 0, "missing_tax": 0.0})
    t["name"] = t["name"].where(t["name"].notna() & (t["name"] != ""), t["bname"]).fillna("")
    t = t.drop(columns=["bname"]).reset_index().rename(columns={"index": "gstin"})
    t = t[t["gstin"] != ""]  # Bills of Entry from ICEGATE have no supplier to write to
    keep = (t[["mismatch", "missing_books", "rejected", "pending", "missing_ims"]].sum(axis=1) > 0) | (t["addback"] > 0)
    t = t[keep].reset_index(drop=True)
    for c in ("mismatch", "missing_books", "rejected", "pending", "missing_ims"):
        t[c] = t[c].astype("int64")
    total = {"gstin": "Total", "name": "", **{c: t[c].sum() for c in t.columns if c not in ("gstin", "name")}}
    return pd.concat([t, pd.DataFrame([total])], ignore_index=True)


def _ts(v) -> pd.Timestamp | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v)


def reconciliation_grid(rec: Reconciliation, inward_rows: np.ndarray, stamp: str) -> outputs.Grid:
    rows: list[list[object]] = []
    titles, headers = [0], []
    rows.append([f"Reconciliation with the purchase register  ({stamp}; files: "
                 + ", ".join(sorted(set(rec.books["book_file"].astype(str)))) + ")"])
    st = rec.match.settings
    rows.append([f"Tolerance: ₹{st.tolerance['igst']:.2f} per head and taxable value, {st.date_days} day(s) on the "
                 f"date; probable from a number similarity of {st.min_score:.0f}"])
    rows.append([])
    headers.append(len(rows))
    rows.append(["Status", "IMS records", "Books rows"])
    ims_counts = rec.match.ims["status"].astype(str).value_counts()
    books_counts = rec.match.books["status"].astype(str).value_counts()
    for s in dict.fromkeys(IMS_STATUSES + BOOKS_STATUSES):
        rows.append([s, int(ims_counts.get(s, 0)), int(books_counts.get(s, 0))])
    rows.append([])
    # per supplier: books rows by status
    headers.append(len(rows))
    per = pd.crosstab(rec.books["supplier_gstin"].astype(str), rec.match.books["status"].astype(str))
    rows.append(["Supplier GSTIN (books)", *per.columns.tolist(), "Total"])
    for g, r in per.iterrows():
        rows.append([g or "(no GSTIN)", *[int(x) for x in r.tolist()], int(r.sum())])
    rows.append([])
    # every Inward record
    headers.append(len(rows))
    first_ims = len(rows)
    rows.append(IMS_HEADER)
    inw = rec.inward
    mi, sug = rec.match.ims, rec.suggestions
    pos = mi["books_pos"].to_numpy()
    bfile = rec.books["book_file"].astype(str).to_numpy(dtype=object)
    brow = rec.books["source_row"].to_numpy()
    cols = zip(inward_rows.tolist(), inw["section"].astype(str).tolist(), inw["supplier_gstin"].astype(str).tolist(),
               inw["supplier_name"].astype(str).tolist(), inw["document_number"].astype(str).tolist(),
               inw["document_date"].tolist(), inw["action"].astype(str).tolist(), mi["status"].astype(str).tolist(),
               pos.tolist(), mi["differs"].tolist(), sug["suggested_action"].tolist(),
               sug["suggested_itc_reduction"].tolist(), sug["suggested_remarks"].tolist(),
               sug["suggestion_reason"].tolist())
    for r, sec, g, name, doc, date, act, status, p, diff, sa, red, rem, why in cols:
        rows.append([int(r), sec, g, name, doc, _ts(date), act, status, bfile[p] if p >= 0 else "",
                     int(brow[p]) if p >= 0 else None, diff, sa, red, rem, why])
    rows.append([])
    headers.append(len(rows))
    rows.append(BOOKS_HEADER)
    b, mb = rec.books, rec.match.books
    ip = mb["ims_pos"].to_numpy()
    cols = zip(b["book_file"].astype(str).tolist(), b["source_row"].tolist(), b["section"].astype(str).tolist(),
               b["supplier_gstin"].astype(str).tolist(), b["supplier_name"].astype(str).tolist(),
               b["document_number"].astype(str).tolist(), b["document_date"].tolist(),
               *(b[f].tolist() for f in FIELDS), mb["status"].astype(str).tolist(), ip.tolist())
    for f, r, sec, g, name, doc, date, tv, i, c, s, cs, status, p in cols:
        rows.append([f, int(r), sec, g, name, doc, _ts(date), tv, i, c, s, cs, status,
                     int(inward_rows[p]) if p >= 0 else None])
    return outputs.Grid(rows, titles, headers, date_cols={6, 7}, amount_cols={8, 9, 10, 11, 12},
                        widths={1: 14, 2: 10, 3: 18, 4: 24, 5: 18, 6: 12, 7: 10, 8: 22, 9: 18, 10: 10, 11: 30,
                                12: 16, 13: 12, 14: 30, 15: 80},
                        listed=len(inw), first_list=first_ims, tab=outputs.RECONCILIATION_TAB)


def suppliers_grid(table: pd.DataFrame, stamp: str) -> outputs.Grid:
    rows: list[list[object]] = [[f"Supplier follow-up  ({stamp})"],
                                ["Send each supplier its line: documents in our books it has not reported, "
                                 "amounts that differ, and what we rejected or keep pending."], [], SUPPLIER_HEADER]
    for r in table.itertuples(index=False):
        rows.append([r.gstin, r.name, int(r.missing_ims), float(r.missing_tax), int(r.mismatch), int(r.rejected),
                     int(r.pending), float(r.addback), int(r.missing_books)])
    return outputs.Grid(rows, [0, 1], [3], date_cols=set(), amount_cols={4, 8},
                        widths={1: 18, 2: 28, 3: 14, 4: 14, 5: 12, 6: 10, 7: 10, 8: 16, 9: 14},
                        tab=outputs.SUPPLIERS_TAB)


def _safe_name(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")[:60] or "supplier"


def write_followup(rec: Reconciliation, table: pd.DataFrame, folder: str | os.PathLike, ctx) -> list[Path]:
    """One CSV per supplier with something to follow up: its documents missing in IMS, mismatches, rejected
    and pending records (cells neutralised by :func:`ims_excel.csvout.write_csv`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result = evaluate(rec.inward, ctx, check=False)
    eff = result.records["effective_action"].astype(str).to_numpy()
    status = rec.match.ims["status"].astype(str).to_numpy()
    bstatus = rec.match.books["status"].astype(str).to_numpy()
    head = ["Item", "Document Number", "Document Date", "Taxable Value", "IGST", "CGST", "SGST", "Cess", "Note"]
    out = []
    for r in table.itertuples(index=False):
        if r.gstin == "Total":
            continue
        rows = [["Supplier", r.gstin, r.name], head]
        bsel = np.flatnonzero((rec.books["supplier_gstin"].astype(str).to_numpy() == r.gstin)
                              & (bstatus == "missing_in_ims"))
        for k in bsel:
            b = rec.books.iloc[k]
            rows.append(["Not reported by you (in our books)", b["document_number"],
                         pd.Timestamp(b["document_date"]).strftime("%d-%m-%Y"),
                         *[round(float(b[f]), 2) for f in FIELDS], f"{b['book_file']} row {b['source_row']}"])
        isel = np.flatnonzero((rec.inward["supplier_gstin"].astype(str).to_numpy() == r.gstin)
                              & ((status == "mismatch") | (eff == "Rejected") | (eff == "Pending")))
        for k in isel:
            x = rec.inward.iloc[k]
            item = "Amounts differ from our books" if status[k] == "mismatch" else f"{eff[k]} by us"
            rows.append([item, x["document_number"], pd.Timestamp(x["document_date"]).strftime("%d-%m-%Y"),
                         *[round(float(x[f]), 2) for f in FIELDS], rec.match.ims["differs"].iat[k]])
        if len(rows) > 2:
            out.append(write_csv(folder / f"{_safe_name(r.gstin)}_{_safe_name(r.name)}.csv", rows))
    return out


def inward_updates(table: Table, rec: Reconciliation, applied: Applied | None
                   ) -> tuple[dict[int, dict[str, object]], int, list[str]]:
    """{sheet row: {column: value}} of the Inward table (the port's :meth:`~ims_excel.book.port.Workbook.write_table`):
    the tool columns where their value changes, and the applied suggestions; (updates, tool cells changed,
    tool columns the table lacks: a workbook from an older template). The changes are found per column
    over numpy arrays; only the changed cells go into the dict."""
    values = inward_columns(rec)
    rows = np.asarray(table.rows, dtype="int64")
    updates: dict[int, dict[str, object]] = {}
    changed = 0
    missing = [name for name in INWARD_RECONCILE if name not in table.inputs]

    def put(positions: np.ndarray, name: str, vals: np.ndarray) -> None:
        for r, v in zip(rows[positions].tolist(), vals.tolist()):
            updates.setdefault(r, {})[name] = v if v != "" else None

    for name in INWARD_RECONCILE:
        if name in missing:
            continue
        new = values[name].to_numpy(dtype=object)
        old = rec.inward[field_name(name)].astype(str).to_numpy(dtype=object)
        diff = np.flatnonzero(new != old)
        changed += len(diff)
        put(diff, name, new[diff])
    if applied is not None:
        for name, vals in (("Action", applied.action), ("ITC Reduction", applied.itc_reduction),
                           ("Remarks", applied.remarks)):
            keep = vals != ""
            if name in table.inputs and keep.any():
                put(applied.positions[keep], name, vals[keep])
    return updates, changed, missing


Apply = bool | Callable[[Reconciliation], bool]
"""Whether to copy the suggestions into blank Actions: a bool, or asked once the reconciliation is known
(the Excel button shows the counts and asks)."""


def reconcile_into(wb: Workbook, books: list[str | os.PathLike], *, settings: Settings | None = None,
                   as_of: dt.date | None = None, apply: Apply = False, stamp: str | None = None) -> ReconcileReport:
    """The use case behind ``ims-excel reconcile`` (a :class:`~ims_excel.book.filebook.FileBook`) and the
    Start sheet's button (an :class:`~ims_excel.xl.openbook.OpenBook`): reconcile the Inward records with
    ``books``; put the Reconciliation and Suppliers sheets; write the Inward table's reconcile columns and,
    with ``apply``, the suggestions into blank Actions (module doc). The caller saves."""
    config = config_and_context(wb, as_of=as_of)
    ctx = config.context
    settings = settings or settings_from_config(config.values, file=wb.name, cells=config.cells)
    inward = inward_table(wb)
    rec = reconcile(inward.frame, ctx, list(books), settings)
    table = supplier_table(rec, ctx)
    stamp = stamp or now_stamp()
    rows = np.asarray(inward.rows, dtype="int64")
    wb.put_sheet(RECONCILIATION, reconciliation_grid(rec, rows, stamp), after=INWARD)
    wb.put_sheet(SUPPLIERS, suppliers_grid(table, stamp), after=RECONCILIATION)
    applied = apply_plan(rec, ctx) if (apply(rec) if callable(apply) else apply) else None
    updates, changed, missing = inward_updates(inward, rec, applied)
    if updates:  # only these cells are rewritten; every other cell of the sheet stays as it was
        wb.write_table(inward, updates, pd.DataFrame())
    filled, refused = [], []
    if applied is not None:
        docs = rec.inward["document_number"].astype(str).to_numpy(dtype=object)
        filled = list(zip(rows[applied.positions].tolist(), docs[applied.positions].tolist(),
                          applied.action.tolist()))
        refused = list(zip(rows[applied.refused].tolist(), docs[applied.refused].tolist(),
                           rec.suggestions["suggested_action"].to_numpy(dtype=object)[applied.refused].tolist(),
                           applied.codes.tolist()))
    return ReconcileReport(wb.path, rec, table, [], filled, refused, changed, missing, applied is not None, ctx)


@fileio.locked
def reconcile_book(path: str | os.PathLike, books: list[str | os.PathLike], *, settings: Settings | None = None,
                   followup: str | os.PathLike | None = None, as_of: dt.date | None = None, backup: bool = True,
                   stamp: str | None = None, apply: bool = False) -> ReconcileReport:
    """``ims-excel reconcile``: :func:`reconcile_into` on the closed file, saved atomically with a backup
    (every part it does not write copied byte for byte); ``followup``: one CSV per supplier into that folder."""
    path = Path(path)
    check_not_open(path)
    stamp = stamp or now_stamp()
    with FileBook(path) as wb:
        rep = reconcile_into(wb, books, settings=settings, as_of=as_of, apply=apply, stamp=stamp)
        set_custom_properties(wb.edit, {"IMSLastReconciled": f"{stamp}; ims_excel {ims_excel.__version__}"})
        wb.save(backup=backup)
    if followup:
        rep.followup = write_followup(rep.rec, rep.suppliers, followup, rep.context)
    return rep


__all__ = ["reconcile_book", "reconcile_into", "ReconcileReport", "inward_updates", "settings_from_config",
           "book_settings", "supplier_table", "write_followup", "RECONCILIATION", "SUPPLIERS"]
