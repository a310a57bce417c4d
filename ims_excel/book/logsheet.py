"""Log sheets (the Changes sheet: one dated row per change an ``import`` made, or per value ``process``
found typed over a formula): their rows read, the sheet written again with rows appended."""

from __future__ import annotations

import posixpath

import python_calamine as pc

from ims_excel.book.edit import Edit, add_sheet
from ims_excel.book.outputs import CHANGES_SHEET
from ims_excel.xlsx import sheetxml
from ims_excel.xlsx.package import Package, col_letters


def changes_xml(rows: list[list[object]]) -> bytes:
    """The Changes sheet part (any log sheet's) from its rows (header first; frozen header row)."""
    widths = (16, 11, 7, 9, 18, 18, 18, 16, 16, 60)
    body = "".join(f'<row r="{r}">' + "".join(sheetxml.value_cell(f"{col_letters(j)}{r}", v)
                                              for j, v in enumerate(values, start=1)) + "</row>"
                   for r, values in enumerate(rows, start=1))
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in enumerate(widths, 1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
           f'<dimension ref="A1:{col_letters(max((len(r) for r in rows), default=1))}{max(len(rows), 1)}"/>'
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
           'state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>{body}</sheetData>'
           '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    return xml.encode("utf-8")


def read_changes(pkg: Package, sheet: str = CHANGES_SHEET) -> list[list[object]] | None:
    """The rows of the workbook's Changes sheet (or another log sheet; header first), None if it has none."""
    ref = pkg.sheet(sheet)
    if ref is None:
        return None
    return [list(r) for r in pc.CalamineWorkbook.from_path(str(pkg.path)).get_sheet_by_name(ref.name).to_python()]


def part_name(part: str) -> str:
    """A sheet's part as the package names it (``xl/worksheets/sheet3.xml``), from a workbook relationship's
    target (``worksheets/sheet3.xml`` or ``/xl/worksheets/sheet3.xml``)."""
    return part if part.startswith("xl/") else "xl/" + part.lstrip("/")


def put_sheet(edit: Edit, pkg: Package, name: str, xml: bytes, *, after: str | None) -> None:
    """The sheet ``name`` replaced by ``xml`` (its own relationships dropped), or added after ``after``."""
    ref = pkg.sheet(name)
    if ref is None:
        add_sheet(edit, name, xml, after=after)
        return
    part = part_name(ref.part)
    edit.replace[part] = xml
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if pkg.has(rels):
        edit.drop.add(rels)




def append_log(edit: Edit, pkg: Package, header: list[str], rows: list[list[object]],
               sheet: str = CHANGES_SHEET) -> None:
    """Plan, in ``edit``, the log sheet with ``rows`` appended below its rows (the sheet, with ``header``,
    added at the end the first time)."""
    old = read_changes(pkg, sheet) or [list(header)]
    put_sheet(edit, pkg, sheet, changes_xml(old + rows), after=None)


__all__ = ["changes_xml", "read_changes", "part_name", "put_sheet", "append_log"]
