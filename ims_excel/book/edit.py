"""Editing a workbook package: only the parts that change are written.

:class:`Edit` collects parts replaced, streamed, added or dropped; every
other part, ``xl/vbaProject.bin`` included, is copied byte for byte
(:mod:`ims_excel.xlsx.package`), and the save is atomic with a backup
(:func:`ims_excel.xlsx.package.save_atomically`). Also here: adding a sheet,
dropping the calc chain, asking for a full recalculation on load, custom
document properties, and the cell styles we borrow from the workbook's own
Inward sheet for the sheets we write (:func:`grid_sheet_rows`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.book import outputs
from ims_excel.book.read import table_columns
from ims_excel.template import inward as inward_mod
from ims_excel.xlsx import dates, sheetxml
from ims_excel.xlsx import units as units_mod
from ims_excel.xlsx.package import (CT_WORKSHEET, NS_REL, Package, PackageWriter, REL_WORKSHEET, TableInfo,
                                    attr_escape, col_letters, save_atomically, unescape)


BIG_PART = 2 << 30
"""Streamed parts that may grow past this (uncompressed) get ZIP64 room (needed from 4 GiB)."""


def next_free(names: set[str], pattern: str) -> str:
    k = 1
    while pattern.format(k) in names:
        k += 1
    return pattern.format(k)


@dataclass
class Edit:
    """A new package: parts replaced, streamed, added, dropped; the rest copied byte for byte."""

    pkg: Package
    replace: dict[str, bytes] = field(default_factory=dict)
    stream: dict[str, Callable[[], Iterator[bytes]]] = field(default_factory=dict)
    add: dict[str, bytes] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)
    size_hint: dict[str, int] = field(default_factory=dict)  # expected size of a streamed part
    deflated: dict[str, Callable[[], Iterator[tuple[bytes, int, int]]]] = field(default_factory=dict)

    def text(self, name: str) -> str:
        if name in self.replace:
            return self.replace[name].decode("utf-8")
        return self.pkg.text(name)

    def set(self, name: str, text: str | bytes) -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text
        if self.pkg.has(name):
            self.replace[name] = data
        else:
            self.add[name] = data

    def write(self, fh) -> None:
        w = PackageWriter(fh)
        for info in self.pkg.infos:
            name = info.filename
            if name in self.drop:
                continue
            if name in self.replace:
                w.write(name, self.replace[name], date_time=info.date_time)
            elif name in self.deflated:
                size = max(info.file_size, self.size_hint.get(name, 0))
                w.write_deflated(name, self.deflated[name](), date_time=info.date_time, zip64=size > BIG_PART)
            elif name in self.stream:
                size = max(info.file_size, self.size_hint.get(name, 0))
                w.write_stream(name, self.stream[name](), date_time=info.date_time,
                               level=1 if size > (256 << 20) else 6, zip64=size > BIG_PART)
            else:
                w.copy(self.pkg, name)
        for name, data in self.add.items():
            w.write(name, data)
        w.close()

    def save(self, path: Path | None = None, *, backup: bool = True) -> Path:
        return save_atomically(path or self.pkg.path, self.write, backup=backup)


def add_sheet(edit: Edit, name: str, xml: bytes, *, after: str | None = None) -> str:
    """Add a worksheet (after sheet ``after``); returns its part name."""
    pkg = edit.pkg
    parts = set(pkg.names()) | set(edit.add)
    part = next_free(parts, "xl/worksheets/sheet{}.xml")
    edit.add[part] = xml
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = edit.text(rels_name)
    ids = set(re.findall(r'Id="([^"]+)"', rels))
    rid = next_free(ids, "rId{}")
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" '
                                            f'Target="{part[3:]}"/></Relationships>')
    edit.set(rels_name, rels)
    ct = edit.text("[Content_Types].xml")
    ct = ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="{CT_WORKSHEET}"/></Types>')
    edit.set("[Content_Types].xml", ct)
    wb = edit.text("xl/workbook.xml")
    sheet_tags = list(re.finditer(r"<sheet\b[^>]*/>", wb))
    ids_used = [int(x) for x in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', wb)]
    # a workbook saved by another program may declare the r: prefix on each <sheet> rather than the root
    r_ns = "" if re.search(r"<workbook\b[^>]*\bxmlns:r=", wb) else f' xmlns:r="{NS_REL}"'
    new_tag = f'<sheet{r_ns} name="{attr_escape(name)}" sheetId="{max(ids_used, default=0) + 1}" r:id="{rid}"/>'
    pos = len(sheet_tags)
    for k, m in enumerate(sheet_tags):
        if after and re.search(rf'\bname="{re.escape(attr_escape(after))}"', m.group(0)):
            pos = k + 1
    if pos < len(sheet_tags):
        at = sheet_tags[pos].start()
        wb = wb[:at] + new_tag + wb[at:]
        wb = re.sub(r'localSheetId="(\d+)"',
                    lambda m: f'localSheetId="{int(m.group(1)) + (1 if int(m.group(1)) >= pos else 0)}"', wb)
        wb = re.sub(r'\b(activeTab|firstSheet)="(\d+)"',
                    lambda m: f'{m.group(1)}="{int(m.group(2)) + (1 if int(m.group(2)) >= pos else 0)}"', wb)
    else:
        wb = wb.replace("</sheets>", new_tag + "</sheets>")
    edit.set("xl/workbook.xml", wb)
    return part


def drop_calc_chain(edit: Edit) -> None:
    pkg = edit.pkg
    if not pkg.has("xl/calcChain.xml"):
        return
    edit.drop.add("xl/calcChain.xml")
    rels = re.sub(r'<Relationship\b[^>]*Target="(?:/xl/)?calcChain\.xml"[^>]*/>', "",
                  edit.text("xl/_rels/workbook.xml.rels"))
    edit.set("xl/_rels/workbook.xml.rels", rels)
    ct = re.sub(r'<Override\b[^>]*PartName="/xl/calcChain\.xml"[^>]*/>', "", edit.text("[Content_Types].xml"))
    edit.set("[Content_Types].xml", ct)


def full_calc_on_load(edit: Edit, on: bool = True) -> None:
    """Ask Excel to calculate everything on load (``fullCalcOnLoad``), or, ``on`` False, stop asking: a
    book whose cached values are all right (issue 9) opens without a calculation and without the "save
    changes?" prompt that a full calculation brings."""
    wb = edit.text("xl/workbook.xml")
    m = re.search(r"<calcPr\b[^>]*?/?>", wb)
    if not on:
        if m and "fullCalcOnLoad" in m.group(0):
            edit.set("xl/workbook.xml", wb[:m.start()] + re.sub(r'\s+fullCalcOnLoad="[^"]*"', "", m.group(0))
                     + wb[m.end():])
        return
    if m and "fullCalcOnLoad" in m.group(0):
        tag = re.sub(r'fullCalcOnLoad="[^"]*"', 'fullCalcOnLoad="1"', m.group(0))
    elif m:
        tag = m.group(0).replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)
    else:
        tag = None
    if tag is None:
        wb = re.sub(r"(</workbook>)", r'<calcPr fullCalcOnLoad="1"/>\1', wb) if "<calcPr" not in wb else wb
    else:
        wb = wb[:m.start()] + tag + wb[m.end():]
    edit.set("xl/workbook.xml", wb)


CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"


def set_custom_properties(edit: Edit, props: dict[str, str]) -> None:
    """Set custom document properties (text), keeping the others."""
    pkg = edit.pkg
    name = "docProps/custom.xml"
    existing: list[tuple[str, str]] = []
    if pkg.has(name) or name in edit.add:
        xml = edit.text(name) if pkg.has(name) else edit.add[name].decode()
        for pname, body in re.findall(r'<property\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</property>', xml, re.S):
            existing.append((unescape(pname), body))
    else:
        ct = edit.text("[Content_Types].xml")
        if "/docProps/custom.xml" not in ct:
            edit.set("[Content_Types].xml", ct.replace(
                "</Types>", '<Override PartName="/docProps/custom.xml" ContentType="'
                '"application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>'.replace('""', '"')))
        rels = edit.text("_rels/.rels")
        if "custom-properties" not in rels:
            ids = set(re.findall(r'Id="([^"]+)"', rels))
            edit.set("_rels/.rels", rels.replace("</Relationships>", f'<Relationship Id="{next_free(ids, "rId{}")}" '
                                                 f'Type="{CUSTOM_REL}" Target="docProps/custom.xml"/></Relationships>'))
    keep = [(n, b) for n, b in existing if n not in props]
    body = "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{k}" name="{attr_escape(n)}">'
                   f"{b}</property>" for k, (n, b) in enumerate(keep, start=2))
    body += "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{k}" name="{attr_escape(n)}">'
                    f"<vt:lpwstr>{sheetxml.esc(str(v))}</vt:lpwstr></property>"
                    for k, (n, v) in enumerate(props.items(), start=2 + len(keep)))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.openxmlformats.'
           'org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
           f'2006/docPropsVTypes">{body}</Properties>')
    edit.set(name, xml)


def sheet_head(pkg: Package, part: str) -> bytes:
    for kind, blob in units_mod.units(pkg.stream(part, 1 << 16), unit=units_mod.PIECE_BYTES):
        return blob
    return b""


def _first_rows(pkg: Package, part: str, n: int = 2) -> list[bytes]:
    out = []
    for kind, blob in units_mod.units(pkg.stream(part, 1 << 16), unit=units_mod.PIECE_BYTES):
        if kind == "rows":
            for _, row in sheetxml.iter_rows(blob):
                out.append(row)
                if len(out) >= n:
                    return out
        if kind == "tail":
            break
    return out


_SHARED_F = re.compile(rb'<f\b[^>]*\bt="shared"')


def shares_formulas(pkg: Package, table: TableInfo, rows: int = 3) -> bool:
    """Whether a table's sheet stores its column formulas as shared formulas (``<f t="shared" ...>``, as
    big books are written: ``template.shared``), judged by the sheet's first rows."""
    return any(_SHARED_F.search(row) for row in _first_rows(pkg, table.sheet_part, rows))


@dataclass
class Styles:
    """Cell styles borrowed from the workbook's own Inward sheet (no change to styles.xml)."""

    header: int | None = None
    text: int | None = None
    date: int | None = None
    amount: int | None = None
    count: int | None = None


def borrow_styles(pkg: Package, inward: TableInfo) -> Styles:
    head = sheet_head(pkg, inward.sheet_part)
    col_styles = sheetxml.style_of_columns(head)
    rows = _first_rows(pkg, inward.sheet_part, 1)
    header = sheetxml.cell_styles(rows[0]).get(inward.bounds[1]) if rows else None
    inputs, computed, _ = table_columns(inward, "inward")

    def of(name: str) -> int | None:
        col = inputs.get(name)
        return col_styles.get(col) if col else None
    amount = None
    for c in inward_mod.COMPUTED:
        if c.kind == "amount" and c.header in computed:
            amount = col_styles.get(computed[c.header])
            break
    return Styles(header, of("Section"), of("Document Date"), amount or of("Taxable Value"), None)


class _GridCell:
    """How one cell of a report grid is written (the styles borrowed from the Inward sheet)."""

    def __init__(self, grid: outputs.Grid, styles: Styles):
        self.grid, self.text_style = grid, styles.text
        self.s_text, self.s_date, self.s_amount, self.s_head = (
            sheetxml.style_attr(styles.text), sheetxml.style_attr(styles.date),
            sheetxml.style_attr(styles.amount), sheetxml.style_attr(styles.header))

    def xml(self, ref: str, v: object, k: int, j: int, head: bool) -> str:
        """Cell ``ref`` holding ``v`` (grid row ``k``, 0-based column ``j``; ``head``: a title/header row);
        "" when nothing is written (None, "", NaN, NaT without a text style)."""
        if v is None:
            return ""
        tv = type(v)
        if tv is str:
            if not v:
                return ""
            st_text = (self.s_head if k in self.grid.headers else "") if head else self.s_text
            return f'<c r="{ref}"{st_text} t="inlineStr"><is>{sheetxml.inline_text(v)}</is></c>'
        if tv is bool or tv is np.bool_:
            return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
        if tv is pd.Timestamp:
            if v is pd.NaT:
                return ""
            return f'<c r="{ref}"{"" if head else self.s_date}><v>{sheetxml.number_text(dates.serial(v))}</v></c>'
        if isinstance(v, (int, float, np.integer, np.floating)):
            if v != v:
                return ""
            st = self.s_amount if (j + 1) in self.grid.amount_cols and not head else ""
            return f'<c r="{ref}"{st}><v>{sheetxml.number_text(v)}</v></c>'
        return sheetxml.value_cell(ref, v, self.text_style)

    def row(self, k: int, r: int, letters: list[str], head: bool) -> str:
        """Grid row ``k`` as sheet row ``r``, cell by cell (the title and header rows: a few)."""
        tall = ' ht="30" customHeight="1"' if k in self.grid.headers else ""  # a header wraps to two lines
        return (f'<row r="{r}"{tall}>'
                + "".join(self.xml(f"{letters[j]}{r}", v, k, j, head) for j, v in enumerate(self.grid.rows[k]))
                + "</row>")


_REF = "\x00"  # stands for a cell's reference while a cell is worked out per distinct value


def _column_cells(cell: _GridCell, vals: np.ndarray, j: int, letter: str, rtext: np.ndarray) -> list[np.ndarray]:
    """One grid column over the record rows as five piece columns whose concatenation is each cell's XML
    ("" pieces where nothing is written): ``<c r="`` + letter, the row number, then the rest. Worked out
    a column at a time: text escaped together (:func:`ims_excel.xlsx.sheetxml.inline_texts`), numbers
    formatted together (:func:`~ims_excel.xlsx.sheetxml.number_texts`), any other value once per distinct
    (type, value) by :meth:`_GridCell.xml` - the same text the cell-by-cell path writes. No cell's text
    is built here: the pieces are shared strings, joined once per row by the caller."""
    m = len(vals)
    a, b, c = (np.full(m, "", dtype=object) for _ in range(3))
    has = np.zeros(m, dtype=bool)
    kinds = list(map(type, vals.tolist()))
    of_id = {id(k): k for k in set(kinds)}
    tcodes, tids = pd.factorize(np.fromiter(map(id, kinds), dtype=np.int64, count=m))
    for t, kind in enumerate(of_id[i] for i in tids.tolist()):
        sel = np.flatnonzero(tcodes == t)
        sub = vals[sel]
        if kind is str:  # text: escaped a column at a time; "" writes nothing
            at = sel[sub != ""]
            a[at] = f'"{cell.s_text} t="inlineStr"><is>'
            b[at] = sheetxml.inline_texts(vals[at].tolist())
            c[at] = "</is></c>"
            has[at] = True
            continue
        if kind not in (bool, np.bool_) and issubclass(kind, (int, float, np.integer, np.floating)):
            num = np.asarray(sub.tolist(), dtype=float)  # numbers: NaN writes nothing
            at = sel[num == num]
            a[at] = f'"{cell.s_amount if (j + 1) in cell.grid.amount_cols else ""}><v>'
            b[at] = sheetxml.number_texts(num[num == num])
            c[at] = "</v></c>"
            has[at] = True
            continue
        try:
            codes, _ = pd.factorize(sub, use_na_sentinel=True)
        except TypeError:  # unhashable values: each its own
            codes = np.arange(len(sub))
        u, first = np.unique(codes, return_index=True)
        xml = [cell.xml(_REF, v, -1, j, False) for v in sub[first].tolist()]
        look = np.empty(len(xml), dtype=object)
        look[:] = [x.split(_REF, 1)[1] if x else "" for x in xml]
        a[sel] = look[np.searchsorted(u, codes)]
        has[sel] = a[sel] != ""
    pre, num = np.full(m, "", dtype=object), np.full(m, "", dtype=object)
    pre[has] = f'<c r="{letter}'
    num[has] = rtext[has]
    return [pre, num, a, b, c]


def grid_sheet_rows(grid: outputs.Grid, styles: Styles, first_row: int = 1) -> list[str]:
    """Rows of a report grid as worksheet XML (text as inline strings: never a formula).

    The title and header rows are written cell by cell; the record rows (all the others: up to a
    million) column by column, each cell's XML worked out once per distinct value
    (:func:`_column_cells`), the text the cell-by-cell path gives (``tests/test_grid_xml.py``)."""
    width = max((len(r) for r in grid.rows), default=1)
    letters = [col_letters(j) for j in range(1, width + 1)]
    special = set(grid.headers) | set(grid.titles)
    cell = _GridCell(grid, styles)
    n = len(grid.rows)
    out = np.full(n, "", dtype=object)
    for k in sorted(x for x in special if 0 <= x < n):
        out[k] = cell.row(k, first_row + k, letters, True)
    data = np.setdiff1d(np.arange(n), np.fromiter(special, dtype=np.int64, count=len(special)))
    if not len(data):
        return out.tolist()
    records = [grid.rows[k] for k in data.tolist()]
    rtext = np.empty(len(data), dtype=object)
    rtext[:] = (data + first_row).astype(str).tolist()
    pieces = [itertools.repeat('<row r="'), rtext.tolist(), itertools.repeat('">')]
    for j, column in enumerate(itertools.zip_longest(*records, fillvalue=None)):
        vals = np.empty(len(column), dtype=object)
        vals[:] = column
        pieces += [p.tolist() for p in _column_cells(cell, vals, j, letters[j], rtext)]
    pieces.append(itertools.repeat("</row>"))
    out[data] = list(map("".join, zip(*pieces)))  # each row's text built once, from shared pieces
    return out.tolist()
