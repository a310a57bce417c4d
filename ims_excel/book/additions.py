"""The user's own additions carried into a workbook rebuilt on the current template (issue 14, "No data loss").

``upgrade`` rebuilds a client workbook and moves its data across (Config values, the Inward / Outward
rows, History, Changes). Whatever else the user put in the old book (:mod:`ims_excel.book.leftovers`
finds it) is carried here into the rebuilt book, at the XML level, as the old book has it:

* **cells** typed in a free place (a note in Config!H2, a cell below a table or beside it, a cell on
  Summary): the ``<c>`` element goes into the same row of the same sheet; numbers, booleans, errors and
  formulas (with their cached value) as they are, a shared string as an inline string of the same
  content (rich text runs kept), the cell format copied into the new book's styles
  (:class:`ims_excel.xlsx.styles.StyleCopy`: number format, font, fill, border, alignment);
* **formats the user gave cells of a table's records** (a fill, a font: a format no table column has),
  copied into the new book's styles and set on the same record's cell, found by its header and its row
  in the rebuilt table (blank rows are not kept, :class:`ims_excel.book.leftovers.Moves`);
* **comments** (the legacy comments part and its VML note shape, made when the sheet has none; one on a
  table's column or record goes with it);
* **sheets** the user added (their cells, formats, merged cells, validations, conditional formats,
  hyperlinks and comments; sheet-level names);
* **defined names** (and print areas / titles of the template's sheets), **data validations**,
  **conditional formats** (their differential formats copied), **merged cells** and **hyperlinks**.

What cannot be carried is named in :attr:`Additions.refused` (the caller refuses unless forced): a cell
where the current template has a table now, a cell whose formula is one piece of a shared formula whose
first cell is not carried, a dynamic-array / linked-data cell (it needs a metadata part the template
does not have), a data validation on cells that have the template's own validation now (a cell takes one),
cells merged over the template's cells, tables or merges, a name local to a sheet the rebuilt book does not have,
a comment or format on a table column the current template no longer has or on a blank row between records.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ims_excel.book.edit import Edit, add_sheet, next_free
from ims_excel.book.leftovers import (REWRITTEN, TYPED, Leftover, all_moves, find, moved_formulas, names, rules,
                                      sheet_comments, styles_part)
from ims_excel.book.outputs import CHANGES_SHEET
from ims_excel.book.read import HISTORY, VALIDATION
from ims_excel.xlsx import sheetxml, units
from ims_excel.xlsx.package import NS_MAIN, NS_REL, Package, col_letters, ref_bounds, unescape, xml_escape
from ims_excel.xlsx.styles import StyleCopy

REL_COMMENTS = NS_REL + "/comments"
REL_VML = NS_REL + "/vmlDrawing"
REL_HYPERLINK = NS_REL + "/hyperlink"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NOT_CARRIED_SHEETS = (VALIDATION, HISTORY, CHANGES_SHEET, *REWRITTEN)
"""Sheets rewritten by ``process`` or ``upgrade`` (their content is not the user's to carry)."""

_ROW_R = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_TAG = re.compile(r"<[A-Za-z][^>]*>")
_PREFIXED = re.compile(r'\s([A-Za-z_][\w.-]*):[\w.-]+="[^"]*"')


def _strip_foreign_attrs(xml: str) -> str:
    """Drop attributes whose namespace prefix (``xr:uid``, ``x14ac:dyDescent``) the target part may not declare;
    ``xml:``, ``r:`` and prefixes the element declares itself stay."""
    declared = set(re.findall(r"\sxmlns:([\w.-]+)=", xml)) | {"xml", "xmlns", "r"}

    def clean(tag: re.Match) -> str:
        return _PREFIXED.sub(lambda a: a.group(0) if a.group(1) in declared else "", tag.group(0))
    return _TAG.sub(clean, xml)


def _set_attr(tag: bytes, name: bytes, value: bytes | None) -> bytes:
    """An open tag with attribute ``name`` set to ``value`` (None: removed)."""
    tag = re.sub(rb"\s" + name + rb'="[^"]*"', b"", tag)
    if value is None:
        return tag
    end = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:end] + b" " + name + b'="' + value + b'"' + tag[end:]


@dataclass
class _Sheet:
    """What goes into one sheet part of the rebuilt book."""

    cells: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)  # row -> [(col, <c>)]
    row_tags: dict[int, bytes] = field(default_factory=dict)
    comments: list[tuple[str, object]] = field(default_factory=list)  # (ref, leftovers.Comment)
    validations: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    links: list = field(default_factory=list)  # leftovers.Hyperlink; written as link_xml
    restyle: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # row -> [(col, old cell format)]
    link_xml: list[str] = field(default_factory=list)
    old_part: str = ""


@dataclass
class Additions:
    """What of the user's ``old`` book its rebuilt version ``new`` lacks: what will be carried, what cannot be.

    :meth:`write` puts the carried things into ``new`` and saves it elsewhere (no backup: the caller saves
    the result over the user's file through :mod:`ims_excel.xlsx.fileio`).
    """

    old: Package
    new: Package
    carried: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # what was read of the old book's sheets (leftovers.find)
    refused_found: set = field(default_factory=set)  # the refused things as leftovers.left_behind names them
    rows: dict = field(default_factory=dict)  # by sheet, the old rows of the records in the rebuilt tables' order

    def __post_init__(self) -> None:
        old, new = self.old, self.new
        tails: dict[str, str] = {}
        self._sheets: dict[str, _Sheet] = {}  # by sheet name in the new book
        self._names: list = []
        self._added: list = []  # old SheetRefs of sheets the user added
        self._sst = _raw_shared_strings(old)
        self._styles = StyleCopy(*(p.text(styles_part(p)) if p.has(styles_part(p)) else "" for p in (old, new)))
        new_tables = [(t.sheet, t.name, t.bounds) for t in new.tables()]
        new_sheets = {s.name for s in new.sheets()}
        for s in old.sheets():
            if (s.name not in new_sheets and s.name not in NOT_CARRIED_SHEETS and s.part.startswith("xl/worksheets/")
                    and old.has(s.part)):
                self._added.append(s)
                self.carried.append(f"sheet {s.name!r}")
        final = new_sheets | {s.name for s in self._added}
        self._moved = all_moves(old, new, self.rows or None)  # table columns that moved (issue 9)
        self._unmovable: dict[str, list[str]] = {}  # by added sheet: its cells and rules refused by _check_refs
        for s in self._added:
            self._check_refs(s)
        for x in find(old, new, tails, self.seen, self.rows or None):
            sheet = self._sheets.setdefault(x.sheet, _Sheet()) if x.kind != "defined name" else None
            why = self._why_not(x, new_tables, tails)
            if x.kind == "defined name" and x.item.sheet and x.item.sheet not in final:
                why = f"it belongs to sheet {x.item.sheet!r}, which the rebuilt book does not have"
            if why:
                self.refused.append(f"{_said(x.text)}: {why}")
                self.refused_found.add(x.text)
                continue
            self.carried.append(_said(x.text))
            if x.kind == "cell":
                sheet.cells.setdefault(x.item.row, []).append((x.item.col, x.item.xml))
                sheet.row_tags.setdefault(x.item.row, x.item.row_tag)
            elif x.kind == "comment":
                sheet.comments.append((x.ref, x.item))
            elif x.kind == "data validation":
                sheet.validations.append(x.item)
            elif x.kind == "conditional format":
                sheet.formats.append(x.item)
            elif x.kind == "cell format":
                (row, col), k = x.item
                sheet.restyle.setdefault(row, []).append((col, k))
            elif x.kind == "merged cells":
                sheet.merged.append(x.item[0])
            elif x.kind == "hyperlink":
                sheet.links.append(x.item)
            else:
                self._names.append(x.item)
        new_names = names(new)
        added = {s.name for s in self._added}
        for key, n in names(old).items():
            if key in new_names or not n.sheet:
                continue
            if n.sheet in added and not n.name.startswith("_xlnm."):
                continue  # found above
            if n.sheet in added or (n.name in ("_xlnm.Print_Area", "_xlnm.Print_Titles") and n.sheet in new_sheets):
                self._names.append(n)
                self.carried.append(f"{n.name.replace('_xlnm.', '').replace('_', ' ').lower()} of sheet {n.sheet!r}")
        for name, sheet in self._sheets.items():
            self._check_shared(name, sheet)

    # ------------------------------------------------------------ what cannot be carried
    def _check_refs(self, s) -> None:
        """Refuse a formula of a sheet the user added that refers to a table column the current template no longer
        has (:func:`~ims_excel.book.leftovers.moved_refs`: kept as it was it would read another column); with
        ``--force`` the sheet goes without it (:meth:`_sheet_xml`)."""
        xml = self.old.read(s.part).decode("utf-8")
        found = []
        for m in re.finditer(r'<c\b[^>]*?\br="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', xml, re.S):
            if m.group(2) and "<f" in m.group(2):
                found += [(m.group(0), f"formula in cell {s.name}!{m.group(1)}: {why}")
                          for why in moved_formulas(m.group(0), s.name, self._moved)[1]]
        for tag, what in (("dataValidation", "data validation"), ("conditionalFormatting", "conditional format")):
            for sqref, rule in rules(xml, tag).values():
                found += [(rule, f"{what} on {s.name}!{sqref}: {why}")
                          for why in moved_formulas(rule, s.name, self._moved)[1]]
        self.refused += [said for _, said in found]
        if found:
            self._unmovable[s.name] = list(dict.fromkeys(x for x, _ in found))

    def _why_not(self, x: Leftover, tables: list, tails: dict[str, str]) -> str:
        if x.why_not:
            return x.why_not
        if x.kind == "cell":
            r, c = x.item.row, x.item.col
            for sheet, name, (r1, c1, r2, c2) in tables:
                if sheet == x.sheet and r1 <= r <= r2 and c1 <= c <= c2:
                    return f"the current template's table {name} covers that cell"
            attrs = sheetxml.CELL_PARTS.match(x.item.xml).group(1)
            if re.search(rb'\s(cm|vm)="', attrs):
                return "a dynamic-array or linked-data cell, which needs a part the template does not have"
        if x.kind == "data validation":
            for sqref, _ in _rules_of(tails.get(x.sheet, ""), "dataValidation"):
                if sheetxml.overlaps(sqref, x.ref):
                    return f"the current template validates {sqref} itself (a cell takes one validation)"
        if x.kind == "merged cells":
            for sheet, name, (r1, c1, r2, c2) in tables:
                if sheet == x.sheet and sheetxml.overlaps(x.ref, f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}"):
                    return f"the current template's table {name} reaches into them"
            for ref in re.findall(r'<mergeCell\b[^>]*\bref="([^"]*)"', tails.get(x.sheet, "")):
                if sheetxml.overlaps(x.ref, ref):
                    return f"the current template merges {ref}"
            first = x.ref.split(":")[0].replace("$", "")
            hidden = [c for c in x.item[1] if c != first and sheetxml.overlaps(x.ref, c)]
            if hidden:
                return f"they would hide the current template's cell {hidden[0]}"
        return ""

    def _check_shared(self, name: str, sheet: _Sheet) -> None:
        """Refuse a piece of a shared formula whose first cell (the one holding the formula) is not carried."""
        masters, pieces = set(), []
        for row, cells in sheet.cells.items():
            for col, xml in cells:
                f = re.search(rb'<f\b[^>]*\bt="shared"[^>]*>', xml)
                if f:
                    si = re.search(rb'\bsi="(\d+)"', f.group(0))
                    if b"ref=" in f.group(0):
                        masters.add(si.group(1) if si else b"")
                    else:
                        pieces.append((row, col, si.group(1) if si else b""))
        for row, col, si in pieces:
            if si not in masters:
                found = f"cell {name}!{col_letters(col)}{row} (a formula{TYPED})"
                self.carried.remove(_said(found))
                self.refused.append(f"{_said(found)}: one piece of a shared formula whose first cell is not carried")
                self.refused_found.add(found)
                sheet.cells[row] = [(c, x) for c, x in sheet.cells[row] if c != col]

    # ------------------------------------------------------------ cells
    def cell_xml(self, xml: bytes, *, strip: bool = True) -> bytes:
        """A cell of the old book for the new one: its format copied, a shared string as an inline string."""
        m = sheetxml.CELL_PARTS.match(xml)
        attrs, body = m.group(1), m.group(3)
        s = re.search(rb'\ss="(\d+)"', attrs)
        if s:
            new_s = self._styles.xf(int(s.group(1)))
            attrs = re.sub(rb'\ss="\d+"', b' s="%d"' % new_s if new_s else b"", attrs)
        t = re.search(rb'\st="(\w+)"', attrs)
        if t and t.group(1) == b"s" and body is not None:
            v = re.search(rb"<v>\s*(\d+)\s*</v>", body)
            k = int(v.group(1)) if v else -1
            si = self._sst[k] if 0 <= k < len(self._sst) else b""
            attrs = attrs.replace(t.group(0), b' t="inlineStr"')
            body = b"<is>" + si + b"</is>"
        out = b"<c" + attrs + (b"/>" if body is None else b">" + body + b"</c>")
        return _strip_foreign_attrs(out.decode("utf-8")).encode("utf-8") if strip else out

    def _row_tag(self, tag: bytes) -> bytes:
        tag = _set_attr(tag, b"spans", None)
        s = re.search(rb'\ss="(\d+)"', tag)
        if s:
            tag = _set_attr(tag, b"s", b"%d" % self._styles.xf(int(s.group(1))))
        return _strip_foreign_attrs(tag.decode("utf-8")).encode("utf-8")

    def _merge(self, row: bytes, cells: list[tuple[int, bytes]], styles: dict[int, int] | None = None) -> bytes:
        """A row of the rebuilt book with the carried cells in it, and the carried formats (column: the new book's
        cell format) on its cells."""
        open_tag, have, close = sheetxml.row_cells(row)
        by_col = dict(have)
        for col, xml in cells:
            by_col[col] = xml  # the place is free (at most a formatted blank of the template's)
        rnum = int(_ROW_R.match(open_tag).group(1))
        for col, k in (styles or {}).items():
            cell = by_col.get(col, b'<c r="%s%d"/>' % (col_letters(col).encode(), rnum))
            end = cell.find(b">")
            end -= cell[end - 1:end] == b"/"
            by_col[col] = _set_attr(cell[:end] + b">", b"s", b"%d" % k)[:-1] + cell[end:]
        return _set_attr(open_tag, b"spans", None) + b"".join(by_col[c] for c in sorted(by_col)) + close

    def _stream_sheet(self, part: str, sheet: _Sheet, si_base: int):
        rows = {r: [(c, self._shift_si(self.cell_xml(x), si_base)) for c, x in sorted(cells)]
                for r, cells in sheet.cells.items() if cells}
        styled = {r: {c: self._styles.xf(k) for c, k in cells} for r, cells in sheet.restyle.items()}
        for r, cells in styled.items():  # a carried format where the rebuilt row has no cell: a blank of it
            rows.setdefault(r, [])
            sheet.row_tags.setdefault(r, b'<row r="%d">' % r)
        pending = sorted(rows)
        refs = [(r, c) for r in rows for c, _ in rows[r]] + [(r, c) for r in styled for c in styled[r]]
        pkg = self.new

        def new_row(r: int) -> bytes:
            tag = self._row_tag(sheet.row_tags[r])
            tag = tag[:-2] + b">" if tag.endswith(b"/>") else tag
            return self._merge(tag + b"</row>", rows[r], styled.get(r, {}))

        def gen():
            i = 0
            for kind, blob in units.units(pkg.stream(part), unit=units.PIECE_BYTES):
                if kind == "head":
                    yield _widen_dimension(blob, refs)
                elif kind == "tail":
                    yield b"".join(new_row(r) for r in pending[i:])
                    yield self._tail(part, sheet, blob)
                else:
                    last = _ROW_R.match(blob, blob.rfind(b"<row"))
                    if i >= len(pending) or (last and pending[i] > int(last.group(1))):
                        yield blob
                        continue
                    out = []
                    for rnum, row in sheetxml.iter_rows(blob):
                        while i < len(pending) and pending[i] < rnum:
                            out.append(new_row(pending[i]))
                            i += 1
                        if i < len(pending) and pending[i] == rnum:
                            out.append(self._merge(row, rows[rnum], styled.get(rnum, {})))
                            i += 1
                        else:
                            out.append(row)
                    yield b"".join(out)
        return gen

    @staticmethod
    def _shift_si(xml: bytes, base: int) -> bytes:
        if b't="shared"' not in xml:
            return xml
        return re.sub(rb'(<f\b[^>]*\bsi=")(\d+)"', lambda m: m.group(1) + b"%d" % (base + int(m.group(2))) + b'"', xml)

    # ------------------------------------------------------------ validations, formats
    def _conditional(self, xml: str, priority: int) -> tuple[str, int]:
        def rule(m: re.Match) -> str:
            nonlocal priority
            tag = m.group(0)
            d = re.search(r'\sdxfId="(\d+)"', tag)
            if d:
                tag = tag.replace(d.group(0), f' dxfId="{self._styles.dxf(int(d.group(1)))}"')
            priority += 1
            return re.sub(r'\spriority="\d+"', f' priority="{priority}"', tag)
        return re.sub(r"<cfRule\b[^>]*>", rule, xml), priority

    def _tail(self, part: str, sheet: _Sheet, tail: bytes) -> bytes:
        if sheet.formats:
            priority = max((int(p) for p in re.findall(rb'<cfRule\b[^>]*\bpriority="(\d+)"', tail)), default=0)
            for xml in sheet.formats:
                xml, priority = self._conditional(_strip_foreign_attrs(xml), priority)
                tail = sheetxml.insert_in_tail(tail, "conditionalFormatting", xml.encode("utf-8"))
        tail = _append(tail, "dataValidations", [_strip_foreign_attrs(x) for x in sheet.validations])
        tail = _append(tail, "mergeCells", sheet.merged)
        tail = _append(tail, "hyperlinks", sheet.link_xml)
        rid = self._vml_rids.get(part)
        if rid:
            tail = sheetxml.insert_in_tail(tail, "legacyDrawing", f'<legacyDrawing r:id="{rid}"/>'.encode())
        return tail

    # ------------------------------------------------------------ comments
    def _comments(self, edit: Edit, part: str, sheet: _Sheet, old_part: str) -> None:
        """The sheet's carried comments into its comments part and their note shapes into its VML drawing
        (both made when the sheet has none; the sheet then gets its ``legacyDrawing``)."""
        rels = _rels(edit, part)
        target = next((t for _, (typ, t) in rels.items() if typ == REL_COMMENTS), None)
        if target is None:
            target = next_free(_names(edit), "xl/comments{}.xml")
            _put(edit, target, f'{XML_DECL}<comments xmlns="{NS_MAIN}"><authors></authors><commentList>'
                               "</commentList></comments>")
            _add_rel(edit, part, REL_COMMENTS, target)
            ct = edit.text("[Content_Types].xml")
            edit.set("[Content_Types].xml", ct.replace("</Types>", f'<Override PartName="/{target}" '
                                                                   f'ContentType="{CT_COMMENTS}"/></Types>'))
        xml = _text(edit, target)
        authors = [unescape(a) for a in re.findall(r"<author>([^<]*)</author>", xml)]
        added_authors, added = [], []
        for ref, c in sheet.comments:
            if c.author not in authors:
                authors.append(c.author)
                added_authors.append(f"<author>{xml_escape(c.author)}</author>")
            element = re.sub(r'(<comment\b[^>]*?\sauthorId=")\d+"', lambda m: f'{m.group(1)}{authors.index(c.author)}"',
                             _strip_foreign_attrs(c.xml), count=1)
            added.append(element)
        if "<authors/>" in xml:
            xml = xml.replace("<authors/>", "<authors></authors>")
        if "<commentList/>" in xml:
            xml = xml.replace("<commentList/>", "<commentList></commentList>")
        xml = xml.replace("</authors>", "".join(added_authors) + "</authors>", 1)
        xml = xml.replace("</commentList>", "".join(added) + "</commentList>", 1)
        _put(edit, target, xml)
        self._notes(edit, part, sheet, old_part)

    def _notes(self, edit: Edit, part: str, sheet: _Sheet, old_part: str) -> None:
        rels = _rels(edit, part)
        vml = next((t for _, (typ, t) in rels.items() if typ == REL_VML), None)
        model = self._note_model(edit)
        blocks = []
        for name in _names(edit):
            if name.endswith(".vml"):
                for data in re.findall(r'<o:idmap\b[^>]*\bdata="([\d,]+)"', _text(edit, name)):
                    blocks += [int(x) for x in data.split(",") if x]
        if vml is None:
            vml = next_free(_names(edit), "xl/drawings/vmlDrawing{}.vml")
            head = model[0]
            block = max(blocks, default=0) + 1
            head = re.sub(r'(<o:idmap\b[^>]*\bdata=")[\d,]+"', lambda m: f'{m.group(1)}{block}"', head)
            _put(edit, vml, head + "</xml>")
            self._vml_rids[part] = _add_rel(edit, part, REL_VML, vml)
        text = _text(edit, vml)
        if 'id="_x0000_t202"' not in text:  # a drawing of buttons only: the note shape type first
            k = text.find("<v:shape ")
            k = text.rfind("</xml>") if k < 0 else k
            text = text[:k] + model[1] + text[k:]
        ids = [int(x) for x in re.findall(r'<v:shape\b[^>]*\bid="_x0000_s(\d+)"', text)]
        block = int(re.search(r'<o:idmap\b[^>]*\bdata="(\d+)', text).group(1))
        next_id = max(ids + [block * 1024]) + 1
        old_shapes = _note_shapes(_text_of(self.old, _vml_of(self.old, old_part))) if old_part else {}
        shapes = []
        for ref, c in sheet.comments:
            r1, c1, _, _ = ref_bounds(ref)
            r0, c0, _, _ = ref_bounds(getattr(c, "at", "") or ref)  # where it was (it moved with its column)
            shape = old_shapes.get((r0 - 1, c0 - 1))
            shape = _placed(shape or model[2], r1 - 1, c1 - 1) if not shape or (r0, c0) != (r1, c1) else shape
            shape = re.sub(r'\so:spid="[^"]*"', "", shape)
            shapes.append(re.sub(r'(<v:shape\b[^>]*?\sid=")[^"]*"', lambda m: f'{m.group(1)}_x0000_s{next_id + len(shapes)}"',
                                 shape, count=1))
        k = text.rfind("</xml>")
        _put(edit, vml, text[:k] + "".join(shapes) + text[k:])

    def _note_model(self, edit: Edit) -> tuple[str, str, str]:
        """(a VML drawing's head up to its first shape, the note shape type, a note shape) from the rebuilt
        book's own comments (the template's notes on the Inward headers)."""
        for name in sorted(_names(edit)):
            if name.endswith(".vml"):
                text = _text(edit, name)
                st = re.search(r'<v:shapetype\b[^>]*\bid="_x0000_t202".*?</v:shapetype>', text, re.S)
                shape = re.search(r'<v:shape\b(?:(?!</v:shape>).)*ObjectType="Note".*?</v:shape>', text, re.S)
                if st and shape:
                    return text[:text.find("<v:shape ")], st.group(0), shape.group(0)
        raise ValueError("the rebuilt workbook has no note shape to model a comment's on")

    # ------------------------------------------------------------ sheets the user added
    def _add_sheets(self, edit: Edit) -> None:
        order = [s.name for s in self.old.sheets()]
        present = {s.name for s in self.new.sheets()}
        tags = {unescape(m.group(1)): m.group(0) for m in re.finditer(r'<sheet\b[^>]*?\sname="([^"]*)"[^>]*>',
                                                                       self.old.text("xl/workbook.xml"))}
        for s in self._added:
            k = order.index(s.name)
            after = next((n for n in reversed(order[:k]) if n in present), None)
            xml = self._sheet_xml(s.part, s.name)
            part = add_sheet(edit, s.name, xml.encode("utf-8"), after=after)
            present.add(s.name)
            state = re.search(r'\sstate="(\w+)"', tags.get(s.name, ""))
            if state:
                wb = edit.text("xl/workbook.xml")
                wb = re.sub(rf'(<sheet\b[^>]*\bname="{re.escape(xml_escape(s.name, quote=True))}")',
                            lambda m: m.group(1) + f' state="{state.group(1)}"', wb, count=1)
                edit.set("xl/workbook.xml", wb)
            for rid, (typ, target, mode) in self.old.rels(s.part).items():
                if typ == REL_HYPERLINK and mode == "External" and f'r:id="{rid}"' in xml:
                    _add_rel(edit, part, REL_HYPERLINK, target, rid=rid, external=True)
            comments = sheet_comments(self.old, s.part)
            if comments:
                sheet = _Sheet(comments=list(comments.items()), old_part=s.part)
                self._comments(edit, part, sheet, s.part)
                rid = self._vml_rids.pop(part, None)
                if rid:
                    t = edit.add[part]
                    k = t.find(b"</sheetData>")
                    edit.add[part] = t[:k] + sheetxml.insert_in_tail(
                        t[k:], "legacyDrawing", f'<legacyDrawing r:id="{rid}"/>'.encode())

    def _sheet_xml(self, part: str, name: str) -> str:
        xml = self.old.read(part)
        k, e = xml.find(b"<sheetData"), xml.find(b"</sheetData>")
        if k < 0 or e < 0:
            head, rows, tail = xml, b"", b""
        else:
            head, rows, tail = xml[:k], xml[k:e], xml[e:]
        for x in self._unmovable.get(name, ()):  # refused (_check_refs): left out when forced
            rows, tail = rows.replace(x.encode("utf-8"), b"", 1), tail.replace(x.encode("utf-8"), b"", 1)
        n = len(re.findall(rb"<dataValidation\b", tail))
        tail = re.sub(rb"<dataValidations\b[^>]*>\s*</dataValidations>" if not n else rb'(<dataValidations\b[^>]*?'
                      rb'\scount=")\d+"', b"" if not n else lambda m: m.group(1) + b'%d"' % n, tail, count=1)
        rows = sheetxml.CELL_PARTS.sub(lambda m: self.cell_xml(m.group(0), strip=False), rows)
        rows = re.sub(rb'(<row\b[^>]*?\ss=")(\d+)"', lambda m: m.group(1) + b"%d" % self._styles.xf(int(m.group(2)))
                      + b'"', rows)
        head = re.sub(rb'(<col\b[^>]*?\sstyle=")(\d+)"', lambda m: m.group(1) + b"%d" % self._styles.xf(
            int(m.group(2))) + b'"', head)
        head = re.sub(rb'\scodeName="[^"]*"', b"", head)  # the template's VBA project has no module for it
        head = re.sub(rb'\stabSelected="1"', b"", head)  # one selected tab, or Excel groups the sheets
        text = (head + rows + tail).decode("utf-8")
        text, _ = moved_formulas(text, name, self._moved)  # its references into moved table columns (_check_refs)
        text, _ = self._conditional(text, 0) if "<cfRule" in text else (text, 0)
        for name in ("drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture"):
            text = re.sub(rf"<{name}\b[^>]*/>", "", text)
        for name in ("tableParts", "oleObjects", "controls"):
            text = re.sub(rf"<{name}\b[^>]*?(?:/>|>.*?</{name}>)", "", text, flags=re.S)
        text = re.sub(r'(<pageSetup\b[^>]*?)\sr:id="[^"]*"', r"\1", text)
        return text

    # ------------------------------------------------------------ names
    def _put_names(self, edit: Edit) -> None:
        if not self._names:
            return
        wb = edit.text("xl/workbook.xml")
        order = [unescape(n) for n in re.findall(r'<sheet\b[^>]*?\sname="([^"]*)"', wb)]
        out = []
        for n in self._names:
            xml = re.sub(r'\slocalSheetId="\d+"', "", n.xml)
            if n.sheet:
                xml = re.sub(r'(<definedName\b[^>]*?\sname="[^"]*")', lambda m: f'{m.group(1)} localSheetId='
                             f'"{order.index(n.sheet)}"', xml, count=1)
            out.append(_strip_foreign_attrs(xml))
        if "</definedNames>" in wb:
            wb = wb.replace("</definedNames>", "".join(out) + "</definedNames>", 1)
        else:
            wb = wb.replace("</sheets>", "</sheets><definedNames>" + "".join(out) + "</definedNames>", 1)
        edit.set("xl/workbook.xml", wb)

    # ------------------------------------------------------------ writing
    def write(self, out) -> None:
        """Write the rebuilt book with the carried additions to ``out`` (no backup)."""
        edit = Edit(self.new)
        self._vml_rids: dict[str, str] = {}
        self._add_sheets(edit)
        old_parts = {s.name: s.part for s in self.old.sheets()}
        for s in self.new.sheets():
            sheet = self._sheets.get(s.name)
            if sheet is None or not (sheet.cells or sheet.comments or sheet.validations or sheet.formats
                                     or sheet.restyle):
                continue
            if sheet.comments:
                self._comments(edit, s.part, sheet, old_parts.get(s.name, ""))
            for h in sheet.links:
                xml = _strip_foreign_attrs(h.xml)
                if h.target:  # an address outside the book: the sheet's relationship to it
                    rid = _add_rel(edit, s.part, REL_HYPERLINK, h.target, external=True)
                    xml = re.sub(r'\br:id="[^"]*"', f'r:id="{rid}"', xml)
                sheet.link_xml.append(xml)
            if not (sheet.cells or sheet.validations or sheet.formats or sheet.merged or sheet.link_xml
                    or sheet.restyle or s.part in self._vml_rids):
                continue  # comments only, into the parts the sheet has: the sheet itself is as it was
            si_base = 0
            if any(b't="shared"' in x for cells in sheet.cells.values() for _, x in cells):
                si_base = 1 + max((sheetxml.max_shared_index(b) for k, b in units.units(self.new.stream(s.part))
                                   if k == "rows"), default=-1)
            edit.stream[s.part] = self._stream_sheet(s.part, sheet, si_base)
        self._put_names(edit)
        if self._styles.changed:
            _put(edit, styles_part(self.new), self._styles.xml())
        edit.save(out, backup=False)


# ---------------------------------------------------------------- helpers


def _said(found: str) -> str:
    """How a carried or refused thing is listed: as leftovers names it, without "typed where the template has
    nothing" (the reason a free cell is the user's)."""
    return found.replace(TYPED, "")



def _raw_shared_strings(pkg: Package) -> list[bytes]:
    """Each shared string's XML (the content of its ``<si>``: ``<t>`` or rich-text runs), as an ``<is>`` takes it."""
    part = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
                 if typ.endswith("/sharedStrings") and pkg.has(t)), None)
    if part is None:
        return []
    return [m or b"" for m in re.findall(rb"<si\b[^>]*?(?:/>|>(.*?)</si>)", pkg.read(part), re.S)]


def _rules_of(xml: str, tag: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(0)) for m in re.finditer(rf'<{tag}\b[^>]*?\ssqref="([^"]*)"[^>]*>', xml)]


def _append(tail: bytes, tag: str, items: list[str]) -> bytes:
    """``items`` added to the tail's ``<tag count="N">`` list (made where the schema wants it if there is none)."""
    if not items:
        return tail
    body = "".join(items).encode("utf-8")
    m = re.search(rb"<" + tag.encode() + rb"\b[^>]*>", tail)
    if m and not m.group(0).endswith(b"/>"):
        end = tail.find(b"</" + tag.encode() + b">", m.end())
        count = len(re.findall(rb"<" + tag[:-1].encode() + rb"\b", tail[m.end():end])) + len(items)
        head = m.group(0) if tag == "hyperlinks" else _set_attr(m.group(0), b"count", b"%d" % count)
        return tail[:m.start()] + head + tail[m.end():end] + body + tail[end:]
    counted = b' count="%d"' % len(items) if tag != "hyperlinks" else b""  # CT_Hyperlinks has no count
    return sheetxml.insert_in_tail(tail, tag, b"<" + tag.encode() + counted + b">" + body + b"</" + tag.encode() + b">")


def _widen_dimension(head: bytes, refs: list[tuple[int, int]]) -> bytes:
    m = re.search(rb'<dimension\b[^>]*\bref="([^"]*)"', head)
    if not m or not refs:
        return head
    try:
        r1, c1, r2, c2 = ref_bounds(m.group(1).decode())
    except ValueError:
        return head
    r1, r2 = min([r1] + [r for r, _ in refs]), max([r2] + [r for r, _ in refs])
    c1, c2 = min([c1] + [c for _, c in refs]), max([c2] + [c for _, c in refs])
    return sheetxml.set_dimension(head, f"{col_letters(c1)}{r1}:{col_letters(c2)}{r2}")


def _names(edit: Edit) -> set[str]:
    return (set(edit.pkg.names()) | set(edit.add)) - edit.drop


def _text(edit: Edit, name: str) -> str:
    if name in edit.add:
        return edit.add[name].decode("utf-8")
    return edit.text(name)


def _text_of(pkg: Package, name: str | None) -> str:
    return pkg.text(name) if name and pkg.has(name) else ""


def _put(edit: Edit, name: str, text: str) -> None:
    if name in edit.add or not edit.pkg.has(name):
        edit.add[name] = text.encode("utf-8")
    else:
        edit.set(name, text)


def _rels_name(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _rels(edit: Edit, part: str) -> dict[str, tuple[str, str]]:
    """{rId: (type, target part)} of ``part`` as the edit has it."""
    name = _rels_name(part)
    if name not in _names(edit):
        return {}
    folder = posixpath.dirname(part)
    out = {}
    for tag in re.findall(r"<Relationship\b[^>]*>", _text(edit, name)):
        a = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        target = a.get("Target", "")
        if a.get("TargetMode") != "External":
            target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[a.get("Id", "")] = (a.get("Type", ""), target)
    return out


def _add_rel(edit: Edit, part: str, typ: str, target: str, *, rid: str | None = None, external: bool = False) -> str:
    name = _rels_name(part)
    text = _text(edit, name) if name in _names(edit) else f'{XML_DECL}<Relationships xmlns="{RELS_NS}"></Relationships>'
    ids = set(re.findall(r'\bId="([^"]+)"', text))
    rid = rid if rid and rid not in ids else next_free(ids, "rId{}")
    ref = target if external else posixpath.relpath(target, posixpath.dirname(part))
    mode = ' TargetMode="External"' if external else ""
    text = text.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{typ}" '
                                            f'Target="{xml_escape(ref, quote=True)}"{mode}/></Relationships>')
    _put(edit, name, text)
    return rid


def _vml_of(pkg: Package, part: str) -> str | None:
    return next((t for typ, t, _ in pkg.rels(part).values() if typ == REL_VML and pkg.has(t)), None)


def _note_shapes(vml: str) -> dict[tuple[int, int], str]:
    """{(row, column), 0-based: the note's shape} of a VML drawing."""
    out = {}
    for m in re.finditer(r"<v:shape\b.*?</v:shape>", vml, re.S):
        shape = m.group(0)
        r, c = re.search(r"<x:Row>(\d+)</x:Row>", shape), re.search(r"<x:Column>(\d+)</x:Column>", shape)
        if 'ObjectType="Note"' in shape and r and c:
            out[int(r.group(1)), int(c.group(1))] = shape
    return out


def _placed(shape: str, row: int, col: int) -> str:
    """A note shape moved to cell (``row``, ``col``), 0-based: the box to the right of the cell, as Excel puts it."""
    shape = re.sub(r"<x:Row>\d+</x:Row>", f"<x:Row>{row}</x:Row>", shape)
    shape = re.sub(r"<x:Column>\d+</x:Column>", f"<x:Column>{col}</x:Column>", shape)
    return re.sub(r"<x:Anchor>[^<]*</x:Anchor>", f"<x:Anchor>{col + 1}, 15, {max(row - 1, 0)}, 2, {col + 3}, 15, "
                                                  f"{max(row - 1, 0) + 4}, 16</x:Anchor>", shape)
