"""What cannot be carried through a change to a client workbook.

:func:`process_blockers`: package signatures (any change voids them) and
anything a firm attached to the ``Validation`` sheet, which ``process``
rewrites. :func:`foreign_parts`: :mod:`ims_excel.book.upgrade` and
:mod:`ims_excel.book.roll` build a new workbook from the current template, so
charts, pivot tables, images, slicers, extra sheets or table columns a firm
added cannot go with them. Each refuses (:class:`CannotCarry`), naming the
parts, unless forced.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from pathlib import Path

from ims_excel.book.outputs import CHANGES_SHEET
from ims_excel.book.read import HISTORY, VALIDATION
from ims_excel.template.build import build_workbook
from ims_excel.xlsx.package import Package


class CannotCarry(Exception):
    """Parts of the workbook that the requested change would lose; ``parts`` names them."""

    def __init__(self, path: Path, parts: list[str], what: str):
        self.parts = parts
        listed = "\n".join(f"  {p}" for p in parts)
        super().__init__(f"{path}: {what} would not keep these parts:\n{listed}\n"
                         "Nothing was written. Move them elsewhere, or run again with --force to go ahead "
                         "without them (the previous file is kept as the backup).")


_KINDS = (("xl/charts/", "chart"), ("xl/chartsheets/", "chart sheet"), ("xl/drawings/", "drawing"),
          ("xl/media/", "image"), ("xl/pivotTables/", "pivot table"), ("xl/pivotCache/", "pivot cache"),
          ("xl/slicers/", "slicer"), ("xl/slicerCaches/", "slicer cache"), ("xl/timelines/", "timeline"),
          ("xl/timelineCaches/", "timeline cache"), ("xl/externalLinks/", "external link"),
          ("xl/queryTables/", "query table"), ("xl/connections.xml", "data connection"),
          ("customXml/", "custom XML"), ("xl/embeddings/", "embedded object"), ("xl/ctrlProps/", "form control"),
          ("xl/threadedComments/", "threaded comment"), ("xl/persons/", "people list"),
          ("xl/model/", "data model"), ("_xmlsignatures/", "digital signature"), ("xl/tables/", "table"),
          ("xl/worksheets/", "worksheet"), ("xl/comments", "comments"), ("xl/richData/", "rich data"))


def part_kind(name: str) -> str:
    for prefix, kind in _KINDS:
        if name.startswith(prefix):
            return kind
    return "part"


def _owners(pkg: Package) -> dict[str, list[str]]:
    """Which parts point at each part (through .rels)."""
    out: dict[str, list[str]] = {}
    for name in pkg.names():
        if not name.endswith(".rels"):
            continue
        folder, base = posixpath.split(name)
        source = posixpath.join(posixpath.dirname(folder), base[:-5]) if folder.endswith("_rels") else name
        for _, (typ, target, mode) in pkg.rels(source).items():
            if mode != "External":
                out.setdefault(target, []).append(source)
    return out


def _sheet_of(pkg: Package) -> dict[str, str]:
    """Sheet name of every part reachable from a worksheet (its drawing, charts, tables...)."""
    owners = _owners(pkg)
    sheets = {s.part: s.name for s in pkg.sheets()}
    memo: dict[str, str] = {}

    def find(part: str, seen: frozenset = frozenset()) -> str:
        if part in sheets:
            return sheets[part]
        if part in memo:
            return memo[part]
        for o in owners.get(part, []):
            if o not in seen:
                s = find(o, seen | {part})
                if s:
                    memo[part] = s
                    return s
        return ""
    return {name: find(name) for name in pkg.names()}


def process_blockers(pkg: Package) -> list[str]:
    """Parts ``process`` would lose: package signatures, and what hangs off the Validation sheet."""
    out = []
    for name in pkg.names():
        if name.startswith("_xmlsignatures/"):
            out.append(f"{name} (digital signature: any change to the file voids it)")
    val = pkg.sheet(VALIDATION)
    if val is not None:
        for rid, (typ, target, mode) in pkg.rels(val.part).items():
            what = typ.rsplit("/", 1)[-1]
            out.append(f"{target if mode != 'External' else target + ' (external)'} ({what} on the "
                       f"{VALIDATION} sheet, which process rewrites)")
    return out


def template_parts(built: Path) -> tuple[set[str], set[str], dict[str, list[str]]]:
    with Package(built) as t:
        return set(t.names()), {s.name for s in t.sheets()}, {tb.name: tb.columns for tb in t.tables()}


_OURS = re.compile(r"xl/worksheets/(_rels/)?sheet\d+\.xml(\.rels)?$|xl/tables/table\d+\.xml$|docProps/|"
                   r"xl/(styles|workbook|sharedStrings|vbaProject|calcChain)\.|xl/theme/|xl/_rels/|"
                   r"_rels/|\[Content_Types\]\.xml$|xl/drawings/vmlDrawing\d+\.vml$|xl/comments\d+\.xml$|"
                   r"xl/drawings/_rels/vmlDrawing\d+\.vml\.rels$|xl/printerSettings/")


def foreign_parts(pkg: Package, template: Path | None = None, *, sheets: bool = True) -> list[str]:
    """What a firm added that a fresh template would not have (for ``upgrade`` and ``roll``).

    Parts of the kinds a template never has (charts, drawings, images, pivot
    tables and caches, slicers, timelines, external links, connections, custom
    XML, embedded objects, signatures...), sheets the template does not have
    (other than Validation and History, which are rewritten, and the Changes log, which stays with
    the old file), tables other
    than the template's, and extra columns in the template's tables.
    """
    built = template
    tmpdir = None
    if built is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="ims-template-")
        built = build_workbook(Path(tmpdir.name) / "template.xlsm")
    try:
        _, t_sheets, t_tables = template_parts(built)
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()
    where = _sheet_of(pkg)
    out = []
    for name in pkg.names():
        kind = part_kind(name)
        if _OURS.match(name) or name.endswith(".rels"):
            continue
        on = f" on sheet {where[name]!r}" if where.get(name) else ""
        out.append(f"{name} ({kind}{on})")
    for s in pkg.sheets():
        if not sheets and s.part.startswith("xl/worksheets/"):
            continue
        if s.name not in t_sheets and s.name not in (VALIDATION, HISTORY, CHANGES_SHEET):
            out.append(f"sheet {s.name!r} (not in the template)")
    for t in pkg.tables():
        if t.name == HISTORY:
            continue
        if t.name not in t_tables:
            out.append(f"table {t.name!r} on sheet {t.sheet!r} (not in the template)")
            continue
        extra = [c for c in t.columns if c not in t_tables[t.name] and c not in t.formulas]
        for c in extra:
            out.append(f"column {c!r} of table {t.name!r} (not in the template)")
    return out
