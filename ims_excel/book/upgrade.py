"""``upgrade``: move a workbook's data into the current template.

The book is rebuilt on the current template with its Config values, Inward / Outward rows, History
and Changes; then everything else the user put in it (cells, comments, sheets, defined names, data
validations, conditional formats) is carried across (:mod:`ims_excel.book.additions`). What cannot be
carried, and parts of the kinds a template never has (charts, pivot tables...:
:func:`ims_excel.book.carry.foreign_parts`), are refused by name (exit 2) unless ``force``, which
drops them and lists them. The rebuilt book is compared with the old one once more
(:func:`ims_excel.book.leftovers.left_behind`) before it replaces the file, keeping a dated backup.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ims_excel.xlsx import fileio
from ims_excel.book import typedover
from ims_excel.book.additions import Additions
from ims_excel.book.carry import CannotCarry, foreign_parts
from ims_excel.book.edit import shares_formulas
from ims_excel.book.history import read_history
from ims_excel.book.filebook import read_changes
from ims_excel.book.leftovers import left_behind
from ims_excel.book.new import config_for_build, layout_signature, version_stamp, write_records
from ims_excel.book.cached import cache_book
from ims_excel.book.outputs import CHANGES_HEADER
from ims_excel.book.read import read_config, read_table, require_tables
from ims_excel.template.build import SHARED_ROWS, build_workbook
from ims_excel.xlsx.package import Package, check_not_open, now_stamp


@dataclass
class UpgradeReport:
    path: Path
    old_layout: str
    new_layout: str
    inward: int
    outward: int
    history: int
    dropped: list[str]
    changed: bool
    carried: list[str]
    not_cached: str = ""
    """Why the formula values were left to Excel's calculation on load ("" when cached)."""
    typed: dict[str, list[typedover.TypedOver]] | None = None
    """Values found typed over the old book's formula cells, by table: the rebuilt book has the formulas,
    its Changes sheet what was typed (as ``process`` keeps them)."""


@fileio.locked
def upgrade(path: str | os.PathLike, *, force: bool = False) -> UpgradeReport:
    """Move the workbook's data into the current template (Config values, Inward/Outward cells as typed, History)
    and carry the user's own additions (module doc)."""
    path = Path(path)
    check_not_open(path)
    with Package(path) as pkg:
        old = layout_signature(pkg)
        new = layout_signature()
        foreign = foreign_parts(pkg, sheets=False)  # the user's worksheets are carried
        if foreign and not force:
            raise CannotCarry(path, foreign, "upgrade (moving the data into the current template)")
        inward_t, outward_t = require_tables(pkg)
        values, _ = read_config(pkg)  # every setting (outputs.CONFIG_NAMES = the template's Config fields)
        tables = [read_table(pkg, inward_t, "inward", typed=False),
                  read_table(pkg, outward_t, "outward", typed=False) if outward_t else None]
        inward = tables[0].frame
        outward = tables[1].frame if tables[1] is not None else None
        history = read_history(pkg)
        changes = read_changes(pkg)
        # the records' rows in the rebuilt tables (blank rows are not kept): what the user put on one goes with it
        rows = {t.sheet: f["_row"].astype(int).tolist() for t, f in ((inward_t, inward), (outward_t, outward))
                if f is not None}
        # a value typed over a formula cell is not a record's input: kept on the Changes sheet, not dropped
        typed = {td.table.name: found for td in tables if (found := typedover.find(pkg, td))}
        logged = [r for cells in typed.values() for r in typedover.changes_rows(cells, now_stamp())]
        if logged:
            changes = (changes or [list(CHANGES_HEADER)]) + logged
        shared = shares_formulas(pkg, inward_t) or max(len(inward), 0 if outward is None else len(outward)) > SHARED_ROWS
    with tempfile.TemporaryDirectory(prefix="ims-upgrade-", dir=path.parent) as tmp:
        built = build_workbook(Path(tmp) / "template.xlsm", config=config_for_build(values))
        rebuilt = Path(tmp) / "rebuilt.xlsm"
        write_records(built, rebuilt, {"inward": inward.drop(columns=["_row", "_sheet"]),
                                       "outward": outward.drop(columns=["_row", "_sheet"]) if outward is not None else None},
                      history, {**version_stamp(), "IMSUpgradedFrom": old, "IMSUpgradedOn": now_stamp()},
                      backup=False, changes=changes, shared_formulas=shared)
        carried = Path(tmp) / "carried.xlsm"
        with Package(path) as before, Package(rebuilt) as after:
            adds = Additions(before, after, rows=rows)
            if adds.refused and not force:
                raise CannotCarry(path, adds.refused, "upgrade (moving the data into the current template)")
            adds.write(carried)
        # the user's cells, comments, names, rules: never dropped silently
        lost = [x for x in left_behind(path, carried, adds.seen, rows) if x not in adds.refused_found]
        if lost and not force:
            raise CannotCarry(path, lost, "upgrade (moving the data into the current template)")
        # every formula cell caches the engine's value (issue 9); the book is written once, with its backup
        cached = cache_book(carried, path, backup=True)
    return UpgradeReport(path, old, new, len(inward), 0 if outward is None else len(outward),
                         0 if history is None else len(history), (foreign + adds.refused + lost) if force else [],
                         old != new, adds.carried, cached.why_not, typed)
