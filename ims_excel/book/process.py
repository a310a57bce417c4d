"""``process``: read the workbook, run the engine, write the results into the same file.

The command's door onto the one use case (:func:`ims_excel.book.processing.process_into`, which the
Excel buttons call on the open workbook) with the file's adapter
(:class:`ims_excel.book.filebook.FileBook`): the Validation sheet and the Liability add-back rows are
rewritten, and in the same single pass the Inward and Outward worksheets are streamed row by row with the
engine's answers put into their formula cells as cached values (:mod:`ims_excel.book.cached`: whole
blocks of regular rows at once; for a big sheet in worker processes, each unit deflated where it was
rewritten); everything else is copied. What is file-only stays here: the lock, the open-in-Excel check,
the signatures ``--force`` drops, the custom property that records the run.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import ims_excel
from ims_excel.book.carry import CannotCarry, process_blockers
from ims_excel.book.edit import set_custom_properties
from ims_excel.book.filebook import FileBook
from ims_excel.book.processing import process_into
from ims_excel.book.read import VALIDATION
from ims_excel.engine import Result
from ims_excel.xlsx import fileio
from ims_excel.xlsx.package import check_not_open, now_stamp
from ims_excel.xlsx.tableread import Progress


@dataclass
class ProcessReport:
    path: Path
    result: Result
    records: int
    flagged: int
    listed: int
    stats: dict
    dropped: list[str]
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    restored: dict[str, list[str]] = field(default_factory=dict)
    """Formula cells found typed over (a value where a computed column's formula belongs), by table:
    their formula is written back (``sheetxml.Injector``)."""
    typed: dict = field(default_factory=dict)
    """Those cells with what was typed, by table (:class:`ims_excel.book.typedover.TypedOver`; the values
    are appended to the Changes sheet)."""


@fileio.locked
def process(path: str | os.PathLike, *, force: bool = False, as_of: dt.date | None = None,
            backup: bool = True, stamp: str | None = None, progress: Progress | None = None) -> ProcessReport:
    """Read the workbook, run the engine, write the results into the same file (see the module doc).

    ``progress(phase, done, total)`` hears how far reading and writing the Inward sheet have got.
    """

    path = Path(path)
    check_not_open(path)
    t0 = time.perf_counter()
    with FileBook(path, keep_xml=True, progress=progress) as wb:
        pkg, edit = wb.pkg, wb.edit
        blockers = process_blockers(pkg)
        if blockers and not force:
            raise CannotCarry(path, blockers, "process")
        dropped = []
        val = pkg.sheet(VALIDATION)
        if val is not None:  # its relationships go with the old sheet (FileBook.put_sheet)
            rels = posixpath.join(posixpath.dirname(val.part), "_rels", posixpath.basename(val.part) + ".rels")
            if pkg.has(rels):
                dropped += [b for b in blockers if VALIDATION in b]
        if blockers and force:
            for name in pkg.names():
                if name.startswith("_xmlsignatures/"):
                    edit.drop.add(name)
                    dropped.append(name)
            if any(n.startswith("_xmlsignatures/") for n in pkg.names()):
                rels = re.sub(r'<Relationship\b[^>]*digital-signature/origin[^>]*/>', "", edit.text("_rels/.rels"))
                edit.set("_rels/.rels", rels)
                ct = re.sub(r'<Override\b[^>]*PartName="/_xmlsignatures/[^"]*"[^>]*/>', "",
                            edit.text("[Content_Types].xml"))
                edit.set("[Content_Types].xml", ct)
        stamp = stamp or now_stamp()
        done = process_into(wb, stamp=stamp, as_of=as_of, progress=progress)
        seconds = dict(done.seconds)
        t1 = time.perf_counter()
        set_custom_properties(edit, {"IMSLastProcessed": f"{stamp}; ims_excel {ims_excel.__version__}"})
        wb.save(backup=backup)  # plans the cached values (the injectors), then writes the book once
        seconds["write"] = time.perf_counter() - t1
    cached = wb.cached
    seconds["total"] = time.perf_counter() - t0
    grid = done.validation
    return ProcessReport(path, done.result, len(done.result.records), grid.flagged, grid.listed,
                         cached.injector.stats if cached.injector else {}, dropped, seconds, cached.warnings,
                         cached.restored(), cached.typed)
