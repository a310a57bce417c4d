"""What a rebuilt workbook would leave behind: the user's own cells, comments, names, validations and formats.

``upgrade`` rebuilds a workbook on the current template and moves the data across
(Config values, the Inward / Outward rows, History). Anything else a user put in the
old book has to be found, or it is lost without a word (issue 14): a note typed in an
empty cell of Config or Summary, a cell below a table, a cell comment, a defined name,
a data validation or conditional format added to a sheet. :func:`left_behind` compares
the old book with the rebuilt one and names each such thing; ``upgrade`` refuses to go
ahead while the list is not empty (``--force`` goes ahead without them).

What counts as the user's: a constant cell of the old book at a place that is empty in
the rebuilt one (a place the template fills is the template's, even if its text changed
between versions); a comment at a cell the rebuilt sheet has no comment on; a defined
name the rebuilt book lacks; a validation or conditional format whose rule (all but its
range) the rebuilt sheet has nowhere. Rows inside the tables are the data that is moved
across, and the Validation and History sheets are rewritten, so they are not compared.
"""

from __future__ import annotations

import re
from pathlib import Path

from ims_excel.xlsx import fastread, sheetxml, units
from ims_excel.xlsx.package import REL_TABLE, Package, col_index, col_letters, unescape

REWRITTEN = ("Validation", "History", "Liability")
"""Sheets that `process` (Validation, Liability) or `upgrade` (History) write whole: nothing of the user lives there."""
REL_COMMENTS = "/comments"

_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_V = re.compile(rb"<v>([^<]*)</v>")
_IS_T = re.compile(rb"<t\b[^>]*>([^<]*)</t>")


def _cell_value(attrs: bytes, body: bytes | None, sst: list[str]) -> tuple[bool, str]:
    """(is a formula, the value as text) of one ``<c>``; ("", False) for an empty cell."""
    if not body:
        return False, ""
    if b"<f" in body:
        return True, ""
    t = re.search(rb'\bt="(\w+)"', attrs)
    kind = t.group(1) if t else b"n"
    if kind == b"inlineStr":
        return False, unescape(b"".join(_IS_T.findall(body)).decode("utf-8"))
    v = _V.search(body)
    if not v:
        return False, ""
    text = v.group(1).decode("utf-8")
    if kind == b"s":
        try:
            return False, sst[int(text)]
        except (ValueError, IndexError):
            return False, f"(shared string {text})"
    return False, unescape(text)


def _table_rows(pkg: Package, part: str) -> list[tuple[int, int, int, int]]:
    """The cell ranges of the tables on a sheet part (rows inside them are data moved across)."""
    out = []
    for typ, target, _ in pkg.rels(part).values():
        if typ == REL_TABLE and pkg.has(target):
            t = next((t for t in pkg.tables() if t.part == target), None)
            if t is not None:
                out.append(t.bounds)
    return out


_REF = re.compile(rb'<c r="([A-Z]+)\d+"')


def _within(row: bytes, spans: list[tuple[int, int]]) -> bool:
    """Are the first and last cells of a row (cells are in column order) inside one of ``spans``?"""
    first = _REF.search(row)
    if not first:
        return True
    last = _REF.search(row, row.rfind(b"<c r="))
    a, b = col_index(first.group(1).decode()), col_index(last.group(1).decode()) if last else 0
    return any(c1 <= a and b <= c2 for c1, c2 in spans)


def _cells(pkg: Package, part: str, sst: list[str]) -> tuple[dict[str, tuple[bool, str]], str]:
    """({A1 ref: (is formula, value)} of every non-empty cell outside the sheet's tables, the sheet's XML
    without its rows)."""
    tables = _table_rows(pkg, part)
    out: dict[str, tuple[bool, str]] = {}
    rest = []
    for kind, blob in units.units(pkg.stream(part)):
        if kind != "rows":
            rest.append(blob.decode("utf-8", errors="replace"))
            continue
        for rnum, row in sheetxml.iter_rows(blob):
            inside = [(c1, c2) for r1, c1, r2, c2 in tables if r1 <= rnum <= r2]
            if inside and _within(row, inside):
                continue  # a table row and nothing beside it: data moved across
            for m in _CELL.finditer(row):
                ref = re.search(rb'\br="([A-Z]+)(\d+)"', m.group(1))
                if not ref:
                    continue
                col = col_index(ref.group(1).decode())
                if any(c1 <= col <= c2 for c1, c2 in inside):
                    continue
                formula, value = _cell_value(m.group(1), m.group(2), sst)
                if formula or value != "":
                    out[f"{col_letters(col)}{rnum}"] = (formula, value)
    return out, "".join(rest)


def _comments(pkg: Package, part: str) -> dict[str, str]:
    out = {}
    for typ, target, _ in pkg.rels(part).values():
        if typ.endswith(REL_COMMENTS) and pkg.has(target):
            for ref, body in re.findall(r'<comment\b[^>]*\bref="([A-Z]+\d+)"[^>]*>(.*?)</comment>',
                                        pkg.text(target), re.S):
                out[ref] = unescape(re.sub(r"<[^>]+>", "", body)).strip()
    return out


def _rules(xml: str, tag: str) -> dict[str, str]:
    """{rule without its range: range} of a sheet's ``dataValidation`` / ``conditionalFormatting`` elements."""
    out = {}
    for m in re.finditer(rf"<{tag}\b([^>]*?)(?:/>|>(.*?)</{tag}>)", xml, re.S):
        sqref = re.search(r'\bsqref="([^"]*)"', m.group(1))
        rest = re.sub(r'\s*\bsqref="[^"]*"', "", m.group(1)) + (m.group(2) or "")
        rest = re.sub(r'\s(priority|dxfId|xr:uid)="[^"]*"', "", rest)  # renumbered between builds
        out[rest] = sqref.group(1) if sqref else ""
    return out


def _names(pkg: Package) -> dict[str, str]:
    wb = pkg.text("xl/workbook.xml")
    sheets = [s.name for s in pkg.sheets()]
    out = {}
    for attrs, body in re.findall(r"<definedName\b([^>]*)>([^<]*)</definedName>", wb):
        name = re.search(r'\bname="([^"]*)"', attrs)
        local = re.search(r'\blocalSheetId="(\d+)"', attrs)
        if name:
            scope = f" (sheet {sheets[int(local.group(1))]!r})" if local and int(local.group(1)) < len(sheets) else ""
            out[unescape(name.group(1)) + scope] = unescape(body)
    return out


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def left_behind(old_path: Path, new_path: Path) -> list[str]:
    """What the book at ``old_path`` has that its rebuilt version at ``new_path`` does not (module doc)."""
    out: list[str] = []
    with Package(old_path) as old, Package(new_path) as new:
        old_sst, new_sst = _sst(old), _sst(new)
        for s in old.sheets():
            if s.name in REWRITTEN or not s.part or not old.has(s.part):
                continue
            ns = new.sheet(s.name)
            if ns is None or not new.has(ns.part):
                continue  # a sheet the template does not have: named by foreign_parts
            new_cells, new_xml = _cells(new, ns.part, new_sst)
            old_cells, old_xml = _cells(old, s.part, old_sst)
            for ref, (formula, value) in old_cells.items():
                if not formula and ref not in new_cells:
                    out.append(f"cell {s.name}!{ref} ({_short(value)!r}, typed where the template has nothing)")
            new_comments = _comments(new, ns.part)
            for ref, text in _comments(old, s.part).items():
                if ref not in new_comments:
                    out.append(f"comment on {s.name}!{ref} ({_short(text)!r})")
            for tag, what in (("dataValidation", "data validation"), ("conditionalFormatting", "conditional format")):
                kept = _rules(new_xml, tag)
                for rule, sqref in _rules(old_xml, tag).items():
                    if rule not in kept:
                        out.append(f"{what} on {s.name}!{sqref}")
        new_names = _names(new)
        for name, ref in _names(old).items():
            if name not in new_names and not name.startswith("_xlnm."):
                out.append(f"defined name {name} ({_short(ref)})")
    return out


def _sst(pkg: Package) -> list[str]:
    t = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
              if typ.endswith("/sharedStrings") and pkg.has(t)), None)
    return fastread.shared_strings(pkg.read(t)) if t else []

