"""Merge on import: a newer download updates the workbook's rows instead of being skipped (issue 10).

Records are matched by :func:`ims_excel.engine.identity.identity` (recipient,
supplier, document family, original/amendment, number, financial year; not the
2B period). What a source may change depends on whose it is:

Portal downloads (IMS JSON ``imsDetails``/GETINV, GSTR-2B JSON, the portal Excel)
    own the portal's fields: amounts, dates, type, place of supply, filing
    status and date, source form and return period, 2B period, the portal's
    flags and its current action (*Previous Action*). They are updated when the
    file supplies a value that differs. An IMS download (JSON, or a portal
    Excel with its declaration / remarks columns) also sets *Portal
    Declaration*, on new and updated rows, not reported as a change: the upload
    compares the user's declaration with it (``formats.upload_json``). From the
    IMS JSON, and from a portal Excel sheet without a Previous Status column
    (its Status is the portal's saved one), it is what the portal holds (the
    ITC-reduction answer, declared amounts and remarks,
    :func:`~ims_excel.engine.validation.declaration_part`). The offline
    utility's sheets (with a Previous Status column) cannot tell the portal's
    saved declaration and remarks from the user's edits in the tool, so there
    it is ``unknown`` (:data:`~ims_excel.engine.validation.DECLARATION_UNKNOWN`):
    the upload sends a declaration or remark that is not blank, so a remark
    typed in the tool is uploaded. The user's fields (*Action*, *ITC
    Reduction*, *Declared* amounts, *Remarks*, any column the user added) are
    kept. When the supplier changed the record (date, type, place of supply or
    an amount) and it carried an action, the portal has reset that action
    (rulebook G3): *Action* (and its declaration) is cleared, *Previous Action*
    follows the download, and *Supplier Change* keeps the old choice and what
    changed, a warning (SUPPLIER_CHANGED) until the user chooses again.
    The offline tool's sheets (``attrs["edited_sheets"]``) also carry the decisions made in the tool
    (:func:`tool_decisions`): a Status that differs from the row's Previous Status, a non-blank remark, and
    an ITC declaration (the answer and the four declared amounts, G9) where the Status was changed in the
    tool or the answer is not "No" (the utility's default "No", formats-and-market.md 2.1, is nobody's
    declaration). They are applied as a decisions file applies its own where the workbook's cell is not
    the user's (blank; an *Action* equal to the *Previous Action*; a declaration, a remark, equal to what
    the *Portal Declaration* holds) or is already equal; the declaration as one unit (all five cells, a
    declared amount of 0.00 or blank in the tool being none) or, against another typed in the workbook,
    not at all (one conflict for it). Where the workbook holds a different value of its own, the
    workbook's is kept and the difference is reported (``conflict``, on the Changes sheet too): never
    silently dropped either way. That value may have been typed in the workbook or set by an earlier
    import (a first tool file whose decision was changed in the tool since): the Changes sheet is not read
    to tell the two apart, so the conflict says either, and the user settles it in the workbook.
    A record of a section the IMS download has, that the download no longer
    holds and that its supplier had not filed (a saved record the supplier
    deleted, G3; india-compliance drops exactly these, ``handle_missing_transactions``
    in ``gst_india/utils/gstr_2/ims.py``), is marked *Gone From IMS* (kept, out
    of GSTR-2B/3B); one that comes back is unmarked.
The user's own files (canonical CSV/xlsx, the purchase register, an upload JSON)
    carry decisions: their non-blank *Action*, *ITC Reduction*, *Declared* and
    *Remarks* are applied to the matching rows; nothing else is touched (the
    rows they add have no *Portal Declaration*). So
    importing our own upload file back changes nothing.
Reconcile's columns (*Match Status*, *Match Note*, *Suggested Action*)
    are the tool's: no source sets them on an existing row and none counts as a
    decision; when the supplier changes the record (as above) they are cleared,
    as the match they describe no longer holds (``reconcile`` fills them again).
The portal's error file (``imsDetailsErr``)
    sets *Portal Error* (its ``error_msg``) and *Portal Error For* (the row's
    decision then, :func:`~ims_excel.engine.validation.decision_fingerprint`):
    an error (PORTAL_ERROR) until the user changes that decision.

Records no row matches are added, except those the book's History sheet holds as filed (listed "in
History", :func:`plan`'s ``filed``); those of the error file and of a decisions file (the user's own
file with none of the amount columns, :data:`AMOUNTS`: Section, GSTIN, number, Action, Remarks...)
are not: they are listed "not found" (a mistyped number must not become a new zero-value record
that the upload would send). Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.book.history import history_identity
from ims_excel.engine.classify import ACTION_CODE, STATE_CODE
from ims_excel.engine.identity import identity
from ims_excel.engine.validation import DECLARATION_UNKNOWN, NO_DECLARATION, decision_fingerprint, declaration_part
from ims_excel.formats._common import SECTION_OF_KEY
from ims_excel.normalise import field_name
from ims_excel.records import INWARD_COLUMNS, INWARD_RECONCILE
from ims_excel.template.specs import spec
from ims_excel.template.tables import cell_columns
from ims_excel.vec import by_unique

USER_OWNED = ("Action", "ITC Reduction", "Declared IGST", "Declared CGST", "Declared SGST", "Declared Cess",
              "Remarks")
ROUND_TRIP = ("Portal Error", "Portal Error For", "Portal Declaration", "Supplier Change", "Gone From IMS")
HELD = "Portal Declaration"
"""What the portal holds of a record's declaration: set from an IMS download only, never reported."""
TOOL_OWNED = INWARD_RECONCILE
"""Written by ``reconcile`` (each run overwrites them): neither the portal's nor the user's."""
SUPPLIER_FIELDS = ("Document Date", "Supply Type", "Place Of Supply", "Document Value", "Taxable Value",
                   "IGST", "CGST", "SGST", "Cess")
"""A change in any of these is the supplier editing the record: the portal resets the action (G3)."""
AMOUNTS = ("Document Value", "Taxable Value", "IGST", "CGST", "SGST", "Cess")
"""A user's file with none of these is a decisions file: a row no record matches is listed "not found",
never added as a zero-value record (that the upload would then send)."""
NOT_FROM_PORTAL = ("GSTIN Override", "Original Action", "Original 3B Filed")
PORTAL_OWNED = tuple(c.name for c in INWARD_COLUMNS
                     if c.name not in USER_OWNED + ROUND_TRIP + NOT_FROM_PORTAL + TOOL_OWNED)
KIND = {c.name: c.kind for c in INWARD_COLUMNS}


@dataclass
class Change:
    """One row of the import report (and of the Changes sheet)."""

    what: str  # added / updated / reset / gone / back / decision / conflict / portal error / not found / in History
    section: str
    supplier_gstin: str
    document_number: str
    row: int | None = None  # sheet row (None: added, row known after writing)
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new)
    note: str = ""

    def text(self) -> str:
        where = f"row {self.row} " if self.row else ""
        doc = f"{where}({self.section} {self.supplier_gstin} {self.document_number!r})".replace("  ", " ")
        arrow = " kept, not " if self.what == "conflict" else " -> "  # a conflict: (workbook's, file's)
        parts = "; ".join(f"{c}: {o or '(blank)'}{arrow}{n or '(blank)'}" for c, o, n in self.fields)
        return f"{self.what}: {doc}" + (f" {parts}" if parts else "") + (f" - {self.note}" if self.note else "")

    def as_dict(self) -> dict:
        return {"what": self.what, "row": self.row, "section": self.section, "supplier_gstin": self.supplier_gstin,
                "document_number": self.document_number,
                "fields": [{"column": c, "old": o, "new": n} for c, o, n in self.fields], "note": self.note}


@dataclass
class Plan:
    """What a merge does: cell updates of existing rows, records to add, the report."""

    updates: dict[int, dict[str, object]]  # position in the old frame -> {column name: cell value}
    added: pd.DataFrame
    changes: list[Change]
    unchanged: int

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.what] = out.get(c.what, 0) + 1
        out["unchanged"] = self.unchanged
        return out


def source_kind(typed: pd.DataFrame) -> str:
    """``portal`` (a download), ``errors`` (the portal's error file) or ``user`` (the user's own file)."""
    fmt = typed.attrs.get("format", "")
    env = typed.attrs.get("envelope", "")
    if fmt == "ims_json":
        return "errors" if env == "imsDetailsErr" else "user" if env == "invdata" else "portal"
    return "portal" if fmt in ("gstr2b_json", "portal_excel") else "user"


def portal_declarations(src: pd.DataFrame) -> np.ndarray | None:
    """*Portal Declaration* of each record of a typed source, or None when the source does not say what the
    portal holds: an IMS download (``imsDetails`` or GETINV; a record without ``itcRedReq``/``remarks`` holds
    none), the portal / offline-utility Excel when it has the declaration or remarks columns; not GSTR-2B,
    the error file or the user's own files (:func:`~ims_excel.engine.validation.declaration_part`). The
    records of the offline utility's sheets (``attrs["edited_sheets"]``, where those columns may be the
    user's edits) are :data:`~ims_excel.engine.validation.DECLARATION_UNKNOWN`: not known, so sent."""
    if source_kind(src) != "portal":
        return None
    fmt = src.attrs.get("format", "")
    supplied = set(src.attrs.get("supplied", ()))
    if fmt == "ims_json":
        return declaration_part(src)
    if fmt == "portal_excel" and supplied & {"ITC Reduction", "Remarks"}:
        return np.where(_edited(src), DECLARATION_UNKNOWN, declaration_part(src)).astype(object)
    return None


def _edited(src: pd.DataFrame) -> np.ndarray:
    """Rows of the offline tool's sheets (``attrs["edited_sheets"]``: those with a Previous Status column),
    whose Status, ITC answer, declared amounts and remarks may be the user's edits (portal_excel's doc)."""
    if src.attrs.get("format") != "portal_excel" or "source_sheet" not in src:
        return np.zeros(len(src), dtype=bool)
    return src["source_sheet"].isin(list(src.attrs.get("edited_sheets", ()))).to_numpy()


_ACTION_OF = {**STATE_CODE, **ACTION_CODE}
"""An *Action* or *Previous Action* word (Accept, Accepted...) -> its action code, to compare the two."""


def _action_codes(values: object) -> np.ndarray:
    return by_unique(pd.Series(values, dtype=object).fillna(""), _ACTION_OF, default=-1, dtype="int8")


DECLARATION = USER_OWNED[1:]
"""The ITC-reduction answer, declared amounts and remarks: what goes with the action (G9, G10)."""
ITC_DECLARATION = DECLARATION[:5]
"""The ITC-reduction answer and the four declared amounts: one declaration (G9), applied or refused whole."""


def _itc_part(parts: object) -> np.ndarray:
    """The ITC-reduction answer and declared amounts of :func:`~ims_excel.engine.validation.declaration_part`
    values (their first five fields; the remark, last, may itself hold ``|``)."""
    return pd.Series(parts, dtype=object).fillna("").astype(str).str.split("|", n=5).str[:5].str.join("|").to_numpy()


def _remark_part(parts: object) -> np.ndarray:
    """The remark of :func:`~ims_excel.engine.validation.declaration_part` values ("" when there is none)."""
    return pd.Series(parts, dtype=object).fillna("").astype(str).str.split("|", n=5).str[5].fillna("").to_numpy()


def tool_decisions(src: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Status chosen, ITC declaration made, remark typed) per row of a typed source: the decisions made in
    the offline tool.

    On the tool's sheets (:func:`_edited`) the Status is the user's and the Previous Status the portal's
    (formats-and-market.md 2.1; portal_excel's doc), so a Status that is not blank and differs from it is an
    action chosen in the tool (G2); a non-blank remark there is typed in the tool (G10). The ITC declaration
    (:data:`ITC_DECLARATION`, G9) is the tool's decision only where it is not blank and either the Status was
    changed in the tool or the answer is not "No": the utility fills "Whether ITC to be reduced" with "No" by
    default (formats-and-market.md 2.1, B2B-CN: '14 "whether ITC to be reduced" (default "No")'), so an
    unchanged Status with that "No" is the tool's default, not a declaration anybody made. All False for
    every other source (an IMS JSON's action is the portal's: it never decides)."""
    edited = _edited(src)
    if not edited.any():
        return edited, edited, edited
    blank = pd.Series("", index=src.index, dtype=object)
    act = _action_codes(src["action"] if "action" in src else blank)
    prev = _action_codes(src["previous_action"] if "previous_action" in src else blank)
    status = (src["action"] if "action" in src else blank).astype(object).fillna("").astype(str).str.strip()
    chose = edited & (status != "").to_numpy() & (act >= 0) & (act != prev)
    parts = declaration_part(src)
    answer = (src["itc_reduction"] if "itc_reduction" in src else blank).astype(object).fillna("").astype(str)
    declared = (_itc_part(parts) != _itc_part([NO_DECLARATION])[0]) & (chose | (answer.str.strip() != "No").to_numpy())
    remarked = _remark_part(parts) != ""
    return chose, edited & declared, edited & remarked


def _cells(frame: pd.DataFrame) -> dict[str, list]:
    return cell_columns(spec("inward"), frame)[1]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):  # an amount: blank is 0
        a = 0.0 if a is None or a == "" else a
        b = 0.0 if b is None or b == "" else b
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) < 0.005
    return (a if a is not None else "") == (b if b is not None else "")


def _show(name: str, v: object) -> str:
    if v is None or v == "":
        return ""
    kind = KIND.get(name, "text")
    if kind == "date" and isinstance(v, float):
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(v))).strftime("%d-%m-%Y")
    if kind == "amount" and isinstance(v, float):
        return f"{v:.2f}"
    if kind == "period" and isinstance(v, float):
        return periods.iso(int(v))
    return str(v)


CONFLICT_NOTE = ("the workbook's value (typed there, or set by an earlier import) is kept; {} has the other: "
                 "if the tool's is right, change it in the workbook")
"""A decision of the offline tool not applied. The workbook's value may be the user's or an earlier import's
(an earlier tool file whose decision was changed in the tool since): the Changes sheet is not read to tell."""


def _declaration_text(cells: dict[str, object]) -> str:
    """An ITC declaration (:data:`ITC_DECLARATION` cells) as one text: ``Partial (IGST 45.00, Cess 5.00)``."""
    amounts = ", ".join(f"{n.removeprefix('Declared ')} {_show(n, v)}" for n, v in cells.items()
                        if n != "ITC Reduction" and not _same(v, None))
    answer = _show("ITC Reduction", cells.get("ITC Reduction"))
    return f"{answer} ({amounts})" if amounts and answer else answer or amounts


def plan(old: pd.DataFrame, old_rows: np.ndarray, sources: list[pd.DataFrame], recipient: str,
         today: dt.date, columns: set[str] | None = None, filed: dict[str, str] | None = None) -> Plan:
    """The merge of typed ``sources`` (in order; later wins) into the typed ``old`` rows (see the module doc).

    ``columns``: the input columns the workbook's table has (others are neither compared nor written).
    ``filed``: the records the book's History sheet holds as filed
    (:func:`~ims_excel.book.history.filed_in_history`): a source record no row matches whose identity is there
    is listed "in History (filed in <period>)", never added again (rulebook D25: frozen once its return was filed;
    re-importing the old period's download must not bring it back to be uploaded). An amendment of it is another
    record and is added.
    """
    have = set(columns) if columns is not None else {c.name for c in INWARD_COLUMNS}
    old_key = identity(old, recipient).tolist() if len(old) else []
    where: dict[str, int] = {}
    for i, k in enumerate(old_key):
        where.setdefault(k, i)
    old_cells = _cells(old) if len(old) else {}
    fp_old = decision_fingerprint(old) if len(old) else np.array([], dtype=object)
    # the workbook's own decisions: an Action equal to its Previous Action, a declaration equal to its Portal
    # Declaration, is the portal's, not the user's (as the upload judges a change, formats.upload_json)
    book_act = _action_codes(old_cells.get("Action", [""] * len(old)))
    book_prev = _action_codes(old_cells.get("Previous Action", [""] * len(old)))
    if len(old) and any(_edited(s).any() for s in sources):
        book_parts, held_parts = declaration_part(old), old_cells.get(HELD, [""] * len(old))
        itc_open = _itc_part(book_parts) == _itc_part(held_parts)  # the ITC declaration the portal holds
        remark_open = _remark_part(book_parts) == _remark_part(held_parts)
    else:
        itc_open = remark_open = None
    current: dict[int, dict[str, object]] = {}  # the row as merged so far (cells), per touched position
    updates: dict[int, dict[str, object]] = {}
    changes: list[Change] = []
    added: list[pd.DataFrame] = []
    added_keys: set[str] = set()
    listed: set[str] = set()  # records found in History (``filed``), listed once
    touched: set[int] = set()
    seen_positions: set[int] = set()

    def cell(i: int, name: str) -> object:
        if i in current and name in current[i]:
            return current[i][name]
        col = old_cells.get(name)
        return col[i] if col is not None else None

    def setv(i: int, name: str, value: object, fields: list, report: bool = True) -> None:
        if name not in have or _same(cell(i, name), value):
            return
        if report:
            fields.append((name, _show(name, cell(i, name)), _show(name, value)))
        current.setdefault(i, {})[name] = value
        updates.setdefault(i, {})[name] = value

    def decide(i: int, j: int, names: tuple[str, ...], fields: list, conflicts: list | None = None,
               mine=None) -> None:
        """Apply the non-blank decisions (``names``) of source row ``j`` to row ``i``: all of a decisions
        file's (the user's own file wins); the offline tool's (``conflicts`` given) only where the workbook's
        cell is not the user's (``mine(name)`` False) or equal, the others listed in ``conflicts``."""
        for name in names:
            v = new_cells.get(name, [None] * len(src))[j]
            if v is None or v == "" or name not in supplied:
                continue
            if conflicts is not None and name in have and mine(name) and not _same(cell(i, name), v):
                conflicts.append((name, _show(name, cell(i, name)), _show(name, v)))
                continue
            setv(i, name, v, fields)

    def declare(i: int, j: int, fields: list, conflicts: list) -> None:
        """Apply the offline tool's ITC declaration (:data:`ITC_DECLARATION`, G9) of source row ``j`` to row ``i``
        as one unit: all five cells take the tool's (a declared amount of 0.00, as a blank one reads, is none)
        where the workbook's declaration is not the user's (blank; equal to what the *Portal Declaration*
        holds), else none does and, unless the two agree (the same answer and, with Partial, each amount the
        tool declares), one conflict names both declarations."""
        tool = {n: new_cells.get(n, [None] * len(src))[j] if n in supplied else None for n in ITC_DECLARATION}
        tool = {n: None if isinstance(v, float) and abs(v) < 0.005 else v for n, v in tool.items()}
        book = {n: cell(i, n) for n in ITC_DECLARATION}
        changed = any(not _same(book[n], old_cells[n][i]) for n in ITC_DECLARATION if n in old_cells)
        mine = any(not _same(v, None) for v in book.values()) and (changed or not itc_open[i])
        if mine:
            agree = _same(book["ITC Reduction"], tool["ITC Reduction"]) and (
                tool["ITC Reduction"] != "Partial"
                or all(_same(book[n], v) for n, v in tool.items() if n != "ITC Reduction" and v is not None))
            if not agree:
                conflicts.append(("ITC declaration", _declaration_text(book), _declaration_text(tool)))
            return
        for name, v in tool.items():
            setv(i, name, v, fields)

    for src in sources:
        if not len(src):
            continue
        kind = source_kind(src)
        supplied = set(src.attrs.get("supplied", {c.name for c in INWARD_COLUMNS}))
        # the user's file with none of the amount columns is a decisions file: it cannot add a record
        decisions_only = kind == "user" and not supplied & set(AMOUNTS)
        keys = identity(src, recipient).tolist()
        new_cells = _cells(src)
        held = portal_declarations(src)
        ident = src[["section", "supplier_gstin", "document_number"]].astype(object).astype(str).to_numpy()
        chose, declared, remarked = tool_decisions(src)
        src_prev = _action_codes(new_cells.get("Previous Action", [""] * len(src)))
        src_rows = src["source_row"].to_numpy() if "source_row" in src else np.zeros(len(src), dtype=int)
        src_sheets = src["source_sheet"].astype(object).to_numpy() if "source_sheet" in src else [""] * len(src)
        positions = []
        hkeys = history_identity(src).tolist() if filed else None
        for j, k in enumerate(keys):
            i = where.get(k)
            sec, gst, doc = ident[j]
            if i is None:
                if hkeys is not None and hkeys[j] in filed:
                    if hkeys[j] not in listed:  # once, however many files of this import hold it
                        listed.add(hkeys[j])
                        changes.append(Change("in History", sec, gst, doc, note=f"in History (filed in "
                                              f"{filed[hkeys[j]]}), frozen since that return was filed (D25): "
                                              "not added again"))
                elif kind == "errors":
                    changes.append(Change("not found", sec, gst, doc, note="a portal error for a record not in "
                                                                           "the workbook"))
                elif decisions_only:
                    changes.append(Change("not found", sec, gst, doc, note="a decision for a record not in the "
                                                                           "workbook (check the number); not "
                                                                           "added: the file has no amounts"))
                elif k not in added_keys:
                    added_keys.add(k)
                    positions.append(j)
                continue
            seen_positions.add(i)
            row = int(old_rows[i])
            fields: list[tuple[str, str, str]] = []
            if kind == "errors":
                msg = new_cells.get("Portal Error", [None] * len(src))[j]
                setv(i, "Portal Error", msg, fields)
                setv(i, "Portal Error For", str(fp_old[i]), fields, report=False)
                if fields:
                    changes.append(Change("portal error", sec, gst, doc, row, fields))
                continue
            if kind == "user":
                decide(i, j, USER_OWNED, fields)
                if fields:
                    changes.append(Change("decision", sec, gst, doc, row, fields))
                continue
            # a portal download
            for name in PORTAL_OWNED:
                if name not in supplied:
                    continue
                v = new_cells.get(name, [None] * len(src))[j]
                if v is None or v == "":
                    continue
                setv(i, name, v, fields)
            if held is not None:
                setv(i, HELD, held[j], fields, report=False)
            if cell(i, "Gone From IMS") == "Y":
                setv(i, "Gone From IMS", None, fields)
            supplier = [f for f in fields if f[0] in SUPPLIER_FIELDS]
            if supplier:  # the match reconcile recorded was with the record as it was
                for name in TOOL_OWNED:
                    setv(i, name, None, fields, report=False)
            old_action = str(cell(i, "Action") or "")
            old_prev = next((o for c, o, _ in fields if c == "Previous Action"), str(cell(i, "Previous Action") or ""))
            was = next((a for a in (old_action, old_prev) if a not in ("", "No Action")), "")
            if supplier and was:
                what = "; ".join(f"{c} {o or '(blank)'} -> {n or '(blank)'}" for c, o, n in supplier)
                red = str(cell(i, "ITC Reduction") or "")
                note = (f"{today:%d-%m-%Y}: supplier changed {what}; your {was}"
                        f"{f' (ITC Reduction {red})' if red else ''} was reset to No Action (G3)")
                for name in ("Action", "ITC Reduction", "Declared IGST", "Declared CGST", "Declared SGST",
                             "Declared Cess"):
                    setv(i, name, None, fields)
                setv(i, "Supplier Change", note, fields, report=False)
                changes.append(Change("reset", sec, gst, doc, row, fields, note))
            elif fields:
                changes.append(Change("updated", sec, gst, doc, row, fields))
            if chose[j] or declared[j] or remarked[j]:  # decisions made in the offline tool
                def mine(name: str, i: int = i, j: int = j) -> bool:
                    """Whether the workbook's cell holds a value the user typed in the workbook (or an earlier
                    import set: the Changes sheet is not read, so the two are not told apart)."""
                    now = cell(i, name)
                    if _same(now, None):
                        return False
                    if not _same(now, old_cells[name][i]):  # set by an earlier file of this import
                        return True
                    if name == "Action":
                        return book_act[i] != book_prev[i] and book_act[i] != src_prev[j]
                    return not remark_open[i]
                names = (("Action",) if chose[j] else ()) + (("Remarks",) if remarked[j] else ())
                decided: list[tuple[str, str, str]] = []
                conflicts: list[tuple[str, str, str]] = []
                decide(i, j, names, decided, conflicts, mine)
                if declared[j]:
                    declare(i, j, decided, conflicts)
                origin = f"the offline tool's sheet {src_sheets[j]} row {int(src_rows[j])}"
                if decided:
                    changes.append(Change("decision", sec, gst, doc, row, decided, f"chosen in {origin}"))
                if conflicts:
                    changes.append(Change("conflict", sec, gst, doc, row, conflicts, CONFLICT_NOTE.format(origin)))
            touched.add(i)
        if positions:
            rows_added = src.iloc[positions].copy()
            rows_added[field_name(HELD)] = held[positions] if held is not None else ""
            added.append(rows_added)
    for src in sources:  # records a complete IMS download no longer has (G3: a deleted saved record)
        if source_kind(src) != "portal" or src.attrs.get("format") != "ims_json" or not len(old):
            continue
        sections = {SECTION_OF_KEY[k] for k in src.attrs.get("sections", []) if k in SECTION_OF_KEY}
        sec = old["section"].astype(object).astype(str).to_numpy()
        unfiled = old["supplier_filing_status"].astype(object).astype(str).to_numpy() == "Not Filed"
        for i in np.flatnonzero(np.isin(sec, list(sections)) & unfiled):
            if i in seen_positions or cell(int(i), "Gone From IMS") == "Y":
                continue
            fields = []
            setv(int(i), "Gone From IMS", "Y", fields)
            if fields:
                changes.append(Change("gone", sec[i], str(old["supplier_gstin"].iloc[i]),
                                      str(old["document_number"].iloc[i]), int(old_rows[i]), fields,
                                      "no longer in the IMS download (deleted by the supplier); kept, out of 2B/3B"))
    new = pd.concat(added, ignore_index=True) if added else None
    for _, r in (new.iterrows() if new is not None else []):
        changes.append(Change("added", str(r["section"]), str(r["supplier_gstin"]), str(r["document_number"])))
    unchanged = sum(1 for i in seen_positions if set(updates.get(i, ())) <= {HELD})  # HELD alone: not shown
    return Plan(updates, new if new is not None else pd.DataFrame(), changes, unchanged)


__all__ = ["plan", "Plan", "Change", "source_kind", "AMOUNTS", "USER_OWNED", "PORTAL_OWNED", "SUPPLIER_FIELDS", "TOOL_OWNED"]
