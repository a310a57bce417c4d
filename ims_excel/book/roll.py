"""``roll``: the next period's workbook; pending records carried forward, the rest kept in History.

A carried record's *Previous Action* is its state when the return was filed (what the user chose is
taken as uploaded), and its *Portal Declaration* follows the same assumption: the declaration and remark
it had then (:func:`~ims_excel.engine.validation.declaration_part`), unless its action was blank or in
error (then the portal still holds what it held), so the rolled book uploads nothing it already sent.

The next period's book is a fresh one: what the user added to the filed period's book (notes typed beside or
below the tables or on Config / Summary, comments, names, validations, conditional formats...: what
:func:`ims_excel.book.leftovers.find` finds; not the Config settings roll itself changes) is not carried but
named in :attr:`RollReport.not_carried` (issue 14, "No data loss": never silently), and stays in that book,
which roll leaves unchanged. What
``--force`` went ahead without (:func:`~ims_excel.book.carry.foreign_parts`) is named in ``dropped``.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.xlsx import fileio
from ims_excel.book.carry import CannotCarry, foreign_parts
from ims_excel.book.edit import shares_formulas
from ims_excel.book.history import fill_originals, history_rows, read_history
from ims_excel.book.leftovers import TYPED, find
from ims_excel.book.outputs import CONFIG_NAMES
from ims_excel.book.new import config_for_build, version_stamp, write_records
from ims_excel.book.cached import cache_book
from ims_excel.book.read import BookProblem, load_book, split_ref
from ims_excel.engine import evaluate
from ims_excel.engine.validation import declaration_part
from ims_excel.normalise import field_name
from ims_excel.records import INWARD_COLUMNS, INWARD_RECONCILE, categories
from ims_excel.template.build import SHARED_ROWS, build_workbook
from ims_excel.xlsx.package import Package, check_not_open


@dataclass
class RollReport:
    source: Path
    out: Path
    to: str
    carried: int
    moved: int
    outward_carried: int
    outward_moved: int
    originals_filled: int
    not_cached: str = ""
    """Why the new book's formula values were left to Excel's calculation on load ("" when cached)."""
    not_carried: list[str] = dataclasses.field(default_factory=list)
    """The user's own cells, comments, names and rules of the filed period's book the new one does not have."""
    dropped: list[str] = dataclasses.field(default_factory=list)
    """Parts the new book could not take, gone ahead without by ``force``."""


def default_roll_path(path: Path, old: str, new: str) -> Path:
    if old in path.stem:
        return path.with_name(path.stem.replace(old, new) + path.suffix)
    return path.with_name(f"{path.stem}_{new}{path.suffix}")


def roll(path: str | os.PathLike, to: str, *, out: str | os.PathLike | None = None, filed: bool = False,
         force: bool = False) -> RollReport:
    """Next period's workbook: pending records carried forward, the rest kept in a History sheet."""
    path = Path(path)
    new_p = periods.parse_or_none(to)
    if new_p is None:
        raise BookProblem(path, f"--to {to!r} is not a period (use YYYY-MM)")
    with Package(path) as pkg:
        book = load_book(path, pkg, gstr3b_filed=True if filed else None)
        if not book.context.gstr3b_filed:
            raise BookProblem(path, f"the GSTR-3B for {periods.iso(book.context.return_period)} is not marked "
                                    "filed (Config: GSTR-3B filed = Y); accepted and rejected records freeze only "
                                    "when it is filed. Mark it, or pass --filed")
        if new_p <= book.context.return_period:
            raise BookProblem(path, f"--to {to} is not after the workbook's period "
                                    f"{periods.iso(book.context.return_period)}")
        foreign = foreign_parts(pkg)
        if foreign and not force:
            raise CannotCarry(path, foreign, "the next period's workbook (built from the current template)")
        # the states the records had when the return was filed: the period's own actions are not
        # "after filing" (that is how the engine reads an action typed into a filed period)
        at_filing = dataclasses.replace(book.context, gstr3b_filed=False)
        outward = book.outward.frame if book.outward is not None and len(book.outward.frame) else None
        result = evaluate(book.inward.frame, at_filing, outward, inward_name=str(path), outward_name=str(path))
        old_history = read_history(pkg)
        shared = shares_formulas(pkg, book.inward.table)
    target = Path(out) if out else default_roll_path(path, periods.iso(book.context.return_period), periods.iso(new_p))
    if target.exists() and not force:
        raise BookProblem(target, "exists already (use --out, or --force to replace it keeping a backup)")
    inp, recs = result.inward, result.records
    state = recs["effective_action"].astype(object).to_numpy()
    unfiled = inp["supplier_filing_status"].astype(object).to_numpy() == "Not Filed"
    carried = (state == "Pending") | (unfiled & ~recs["in_2b"].to_numpy().astype(bool))
    nxt = inp[carried].copy().reset_index(drop=True)
    held = field_name("Portal Declaration")
    own = ((recs["status"].astype(str).to_numpy() != "error")
           & (inp["action"].astype(object).fillna("").astype(str).to_numpy() != ""))[carried]
    before = (nxt[held].astype(object).fillna("").to_numpy() if held in nxt
              else np.full(len(nxt), "", dtype=object))
    nxt[held] = np.where(own, declaration_part(nxt), before)
    prev_state = {"Accepted": "Accepted", "Rejected": "Rejected", "Pending": "Pending",
                  "Deemed Accepted": "No Action"}
    cat = {c.name: c for c in INWARD_COLUMNS}
    nxt["previous_action"] = pd.Categorical([prev_state.get(s, "No Action") for s in state[carried]],
                                            categories=categories(cat["Previous Action"]))
    for name in ("action", "itc_reduction"):
        nxt[name] = pd.Categorical([""] * len(nxt), categories=categories(cat[{"action": "Action",
                                                                                "itc_reduction": "ITC Reduction"}[name]]))
    for h in ("igst", "cgst", "sgst", "cess"):
        nxt[f"declared_{h}"] = 0.0
    for name in INWARD_RECONCILE:  # last period's match with last period's books: reconcile again
        nxt[field_name(name)] = ""
    out_next, moved_out = None, None
    if book.outward is not None and len(book.outward.frame):
        o = book.outward.frame
        moved_out = o["recipient_3b_filed"].to_numpy() == 1
        out_next = o[~moved_out].reset_index(drop=True)
    hist_new = history_rows(book, result, carried, moved_out, periods.iso(new_p))
    history = pd.concat([old_history, hist_new], ignore_index=True) if old_history is not None else hist_new
    filled = fill_originals(nxt, history)
    values = dict(book.config)
    values.update({"ReturnPeriod": periods.iso(new_p), "GSTR3BFiled": "N", "AsOfDateOverride": ""})
    target.parent.mkdir(parents=True, exist_ok=True)
    with fileio.exclusive(target), tempfile.TemporaryDirectory(prefix="ims-roll-", dir=target.parent) as tmp:
        check_not_open(target)
        built = build_workbook(Path(tmp) / "template.xlsm", config=config_for_build(values))
        shared = shared or max(len(nxt), 0 if out_next is None else len(out_next)) > SHARED_ROWS
        rolled = Path(tmp) / "rolled.xlsm"
        write_records(built, rolled, {"inward": nxt, "outward": out_next}, history,
                      {**version_stamp(), "IMSRolledFrom": f"{path.name} ({periods.iso(book.context.return_period)})"},
                      backup=False, shared_formulas=shared)
        with Package(path) as before, Package(rolled) as after:  # the user's own additions: named (module doc)
            config = {split_ref(after.defined_names().get(n, "")) for n in CONFIG_NAMES}
            left = [x.text.replace(TYPED, "") for x in find(before, after)
                    if not (x.kind == "cell" and (x.sheet, x.ref) in config)]  # a setting roll changes (As-of date)
        # every formula cell caches the engine's value for the new period (issue 9)
        cached = cache_book(rolled, target)
    return RollReport(path, target, periods.iso(new_p), int(carried.sum()), int((~carried).sum()),
                      0 if out_next is None else len(out_next),
                      0 if moved_out is None else int(moved_out.sum()), filled, cached.why_not,
                      left, foreign)
