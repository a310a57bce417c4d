"""What a rebuilt workbook would leave behind: the user's own cells, comments, names, validations and formats.

``upgrade`` rebuilds a workbook on the current template and moves the data across
(Config values, the Inward / Outward rows, History). Anything else a user put in the
old book has to be found, or it is lost without a word (issue 14): a note typed in an
empty cell of Config or Summary, a cell below a table, a cell comment, a defined name,
a data validation or conditional format added to a sheet. :func:`left_behind` compares
the old book with the rebuilt one and names each such thing; ``upgrade`` carries them across
and checks with it afterwards that nothing was left behind.

What counts as the user's: a cell of the old book (a constant or a formula) at a place that
is empty in the rebuilt one (a place the template fills is the template's, even if its text
changed between versions); a comment at a cell the rebuilt sheet has no comment on, unless its text
is a note the rebuilt template puts on that sheet (an older template's note on a column that has moved
since); a defined name the rebuilt book lacks; a validation or conditional format whose rule (all but its
range) the rebuilt sheet has nowhere; merged cells and hyperlinks the rebuilt sheet does not
have. Within a table's columns, comments on its rows and the ranges and references of validations and
conditional formats are compared where their header is in the rebuilt table (:class:`Moves`; issue 9
moved Action and the columns after it): an older template's ``$AQ2="error"`` Status colouring is the
template's ``$AY2="error"``, and the user's own note or format on the old Action column goes to the new
one; one on a column the rebuilt table no longer has cannot be carried (``Leftover.why_not``), except an
older template's header note there (by :data:`~ims_excel.template.tables.NOTE_AUTHOR`), which went with its
column. A formula of the user's anywhere — a free cell on any sheet, a defined name, a validation or conditional
format on any sheet, a sheet the user added (:mod:`ims_excel.book.additions`) — that points into a moved column
(``COUNTIF(Inward!AI:AI,"Reject")``, ``MyActions = Inward!$AI$2:$AI$1000``) points at its header's new column
(:func:`moved_refs`); one into a column the rebuilt table no longer has cannot be carried (kept as typed it would
read another column without a word). A cell of a table's records in a format no table column has (:func:`table_formats`: the template
formats a column once) has the user's format, compared with the same record's cell in the rebuilt book.
Rows inside the tables are otherwise the data that is moved across, and the Validation and
History sheets are rewritten, so they are not compared. The Rules sheet is the rule data of the version
that wrote the book (protected, written whole by the template): its cells, and the defined names that
point only into it, are that version's, never the user's — an earlier version's longer Rules sheet or a
name it no longer uses (issue 9 replaced ``GSTINShapes``...) is left behind, not carried.

:func:`find` gives each such thing with the XML it has in the old book, so that
:mod:`ims_excel.book.additions` can carry it into the rebuilt one; :func:`left_behind` names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ims_excel.template.tables import NOTE_AUTHOR
from ims_excel.xlsx import fastread, sheetxml, units
from ims_excel.xlsx.styles import StyleCopy
from ims_excel.xlsx.package import REL_TABLE, Package, col_index, col_letters, ref_bounds, unescape, xml_escape

REWRITTEN = ("Validation", "History", "Liability")
"""Sheets that `process` (Validation, Liability) or `upgrade` (History) write whole: nothing of the user lives there."""
TEMPLATE_OWNED = ("Rules",)
"""Sheets the template writes whole and protects: the rule data of the version that wrote them. Neither their
cells nor a defined name pointing only into them is the user's (an upgrade takes the new version's)."""
_SHEET_OF_REF = re.compile(r"(?:'((?:[^']|'')+)'|([^\s!'(),=+*/&<>:\-^\[\]{}\"]+))!")


def template_owned_name(ref: str) -> bool:
    """True when a defined name's reference points only into :data:`TEMPLATE_OWNED` sheets.

    >>> template_owned_name("Rules!$B$201:$P$201"), template_owned_name("'Rules'!$A$1")
    (True, True)
    >>> template_owned_name("Summary!$C$9"), template_owned_name("Rules!$A$1+Config!$B$2"), template_owned_name("42")
    (False, False, False)
    """
    sheets = [(quoted.replace("''", "'") if quoted else plain) for quoted, plain in _SHEET_OF_REF.findall(ref)]
    return bool(sheets) and all(s in TEMPLATE_OWNED for s in sheets)
REL_COMMENTS = "/comments"
TYPED = ", typed where the template has nothing"
"""Why a free cell is named as the user's."""

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


@dataclass
class FreeCell:
    """A non-empty cell outside the sheet's tables: its XML and its row's open tag as the book has them."""

    row: int
    col: int
    formula: bool
    value: str  # the constant as text ("" for a formula)
    xml: bytes  # the <c> element
    row_tag: bytes  # the <row ...> open tag


def free_cells(pkg: Package, part: str, sst: list[str]) -> tuple[dict[str, FreeCell], str]:
    """({A1 ref: cell} of every non-empty cell outside the sheet's tables, the sheet's XML without its rows)."""
    tables = _table_rows(pkg, part)
    out: dict[str, FreeCell] = {}
    rest = []
    for kind, blob in units.units(pkg.stream(part)):
        if kind != "rows":
            rest.append(blob.decode("utf-8", errors="replace"))
            continue
        for rnum, row in sheetxml.iter_rows(blob):
            inside = [(c1, c2) for r1, c1, r2, c2 in tables if r1 <= rnum <= r2]
            if inside and _within(row, inside):
                continue  # a table row and nothing beside it: data moved across
            for m in sheetxml.CELL_PARTS.finditer(row):
                ref = re.search(rb'\br="([A-Z]+)(\d+)"', m.group(1))
                if not ref:
                    continue
                col = col_index(ref.group(1).decode())
                if any(c1 <= col <= c2 for c1, c2 in inside):
                    continue
                formula, value = _cell_value(m.group(1), m.group(3), sst)
                if formula or value != "":
                    out[f"{col_letters(col)}{rnum}"] = FreeCell(rnum, col, formula, value, m.group(0),
                                                               row[:row.find(b">") + 1])
    return out, "".join(rest)


def table_formats(pkg: Package, part: str) -> dict[tuple[int, int], int]:
    """{(row, column): cell format} of the cells of a sheet's table rows formatted by the user: a format that is
    no column's (the template formats each table column once, ``<col style>``, and writes its cells so; a fill or
    font the user gives a cell is a format of its own), found where such a format is used, not cell by cell."""
    tables = _table_rows(pkg, part)
    if not tables:
        return {}
    out: dict[tuple[int, int], int] = {}
    for kind, blob in units.units(pkg.stream(part)):
        if kind == "head":
            own = set(sheetxml.style_of_columns(blob).values()) | {0}
            other = re.compile(rb' s="(?!(?:' + b"|".join(b"%d" % k for k in sorted(own)) + rb')")(\d+)"')
            continue
        if kind != "rows":
            continue
        for m in other.finditer(blob):  # a format no column has: the cell it is on (a row's own format is not)
            cell = sheetxml.CELL_REF.match(blob, blob.rfind(b"<", 0, m.start()))
            if cell:
                rnum, col = int(cell.group(2)), col_index(cell.group(1).decode())
                if any(r1 < rnum <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in tables):
                    out[rnum, col] = int(m.group(1))
    return out


def styles_at(pkg: Package, part: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """{(row, column): cell format (0 when it has none or is absent)} of ``cells`` of a sheet."""
    out = dict.fromkeys(cells, 0)
    wanted = {r for r, _ in cells}
    if not wanted:
        return out
    for kind, blob in units.units(pkg.stream(part)):
        if kind != "rows":
            continue
        for rnum, row in sheetxml.iter_rows(blob):
            if rnum in wanted:
                for col, k in sheetxml.cell_styles(row).items():
                    if (rnum, col) in out:
                        out[rnum, col] = k
    return out


def styles_part(pkg: Package) -> str:
    return next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values() if typ.endswith("/styles")), "xl/styles.xml")


@dataclass
class Comment:
    text: str
    xml: str  # the <comment> element
    author: str
    at: str = ""
    """The cell it is on in the old book when it moves with its table column (:class:`Moves`); "" when it stays."""


def comments_part(pkg: Package, part: str) -> str | None:
    """The comments part of a sheet part, if it has one."""
    return next((t for typ, t, _ in pkg.rels(part).values() if typ.endswith(REL_COMMENTS) and pkg.has(t)), None)


def sheet_comments(pkg: Package, part: str) -> dict[str, Comment]:
    out = {}
    target = comments_part(pkg, part)
    if target:
        xml = pkg.text(target)
        authors = [unescape(a) for a in re.findall(r"<author>([^<]*)</author>", xml)]
        for m in re.finditer(r'<comment\b[^>]*\bref="([A-Z]+\d+)"[^>]*>(.*?)</comment>', xml, re.S):
            who = re.search(r'\bauthorId="(\d+)"', m.group(0)[:m.group(0).find(">")])
            k = int(who.group(1)) if who else -1
            out[m.group(1)] = Comment(unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip(), m.group(0),
                                      authors[k] if 0 <= k < len(authors) else "")
    return out


def rules(xml: str, tag: str) -> dict[str, tuple[str, str]]:
    """{rule without its range: (range, the element)} of a sheet's ``dataValidation`` / ``conditionalFormatting``
    elements.

    The same rule on two ranges (two drop-downs alike, written as two elements) is one entry over both ranges.
    A conditional format's formulas are keyed relative to the top-left cell of its range (:func:`relative`):
    ``ABS(BF2)>=100000`` on ``BF2:BF1048576`` is the same rule as ``ABS(BE2)>=100000`` on
    ``BE2:BH1048576 CM2:CP1048576``, so a book whose template wrote one element per amount column still has
    the template's own formats when the rebuilt one writes one element over all of them.
    """
    out = {}
    for m in re.finditer(rf"<{tag}\b([^>]*?)(?:/>|>(.*?)</{tag}>)", xml, re.S):
        sqref = re.search(r'\bsqref="([^"]*)"', m.group(1))
        rest = re.sub(r'\s*\bsqref="[^"]*"', "", m.group(1)) + (m.group(2) or "")
        rest = re.sub(r'\s(priority|dxfId|xr:uid)="[^"]*"', "", rest)  # renumbered between builds
        if tag == "conditionalFormatting" and sqref:
            rest = re.sub(r"(<formula>)(.*?)(</formula>)",
                          lambda f: f.group(1) + relative(f.group(2), sqref.group(1)) + f.group(3), rest, flags=re.S)
        ranges = sqref.group(1) if sqref else ""
        if rest in out and ranges:  # the same rule twice (two drop-downs alike): one rule over both ranges, as
            first, element = out[rest]  # Excel keeps it when the ranges are selected together; never one of them lost
            ranges = f"{first} {ranges}" if first else ranges
            out[rest] = (ranges, re.sub(r'\bsqref="[^"]*"', f'sqref="{ranges}"', element, count=1))
            continue
        out[rest] = (ranges, m.group(0))
    return out


_A1 = re.compile(r"(&quot;.*?&quot;|\"[^\"]*\")|(?<![A-Za-z0-9_.$])(\$?)([A-Z]{1,3})(\$?)([0-9]+)(?![A-Za-z0-9_(.])")


def relative(formula: str, sqref: str) -> str:
    """``formula`` (A1, as a ``<formula>`` element holds it) with its relative references written as offsets from
    the top-left cell of ``sqref``'s first range (R1C1-like); text in quotes is left alone.

    >>> relative('ABS(BF2)&gt;=100000', "BF2:BF1048576") == relative('ABS(BE2)&gt;=100000', "BE2:BH9 CM2:CP9")
    True
    >>> relative('$AX2="error"', "A2:DA1048576"), relative('$AX2="error"', "AX2:AZ9")
    ('R[0]C50="error"', 'R[0]C50="error"')
    >>> relative('LOG10(A1)+$B$3', "A1")
    'LOG10(R[0]C[0])+R3C2'
    """
    try:
        row0, col0, _, _ = ref_bounds(sqref.split()[0])
    except (ValueError, IndexError):
        return formula

    def one(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)
        col, row = col_index(m.group(3)), int(m.group(5))
        if col > 16384 or row > 1048576:
            return m.group(0)
        r = f"R{row}" if m.group(4) else f"R[{row - row0}]"
        c = f"C{col}" if m.group(2) else f"C[{col - col0}]"
        return r + c
    return _A1.sub(one, formula)


@dataclass
class Moves:
    """Where the columns of a sheet's tables went in the rebuilt book, by their header (issue 9 moved Action and
    the columns after it): ``cols`` maps an old column to its header's column in the rebuilt table (None: the
    rebuilt table has no such header); ``tables`` the old tables (name, bounds)."""

    cols: dict[int, int | None] = field(default_factory=dict)
    headers: dict[int, str] = field(default_factory=dict)
    tables: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)
    rows: dict[int, int] | None = None
    """Old sheet row -> its record's row in the rebuilt table (``upgrade`` keeps the rows in order, without the
    blank ones); None: the rows stay where they are."""
    after: tuple[int, int] = (0, 0)
    """(the old row of the last record, its row in the rebuilt table): blank rows after it follow it."""

    def column(self, col: int) -> int | None:
        return self.cols.get(col, col)

    def _on(self, r1: int, c1: int, r2: int, c2: int) -> bool:
        """Does the range meet one of the old tables (rows and columns)?"""
        return any(r1 <= b[2] and b[0] <= r2 and c1 <= b[3] and b[1] <= c2 for _, b in self.tables)

    def cell(self, ref: str) -> tuple[str, str]:
        """(where cell ``ref`` of a table's rows is in the rebuilt book, "" or why it has no place there)."""
        r, c, _, _ = ref_bounds(ref)
        if not self._on(r, c, r, c):
            return ref, ""
        new = self.column(c)
        if new is None:
            return ref, self._gone([c])
        if self.rows is not None and not self.header(ref):
            if r in self.rows:
                r = self.rows[r]
            elif r > self.after[0]:
                r = self.after[1] + r - self.after[0]
            else:
                return ref, "its row of the table was blank (the rebuilt table keeps no blank rows between records)"
        return f"{col_letters(new)}{r}", ""

    def record_row(self, r: int) -> int | None:
        """The row in the rebuilt table of the record on old row ``r`` (None: not a record's row, or unmoved)."""
        if self.rows is None or not any(b[0] < r <= b[2] for _, b in self.tables):
            return None
        return self.rows.get(r)

    def header(self, ref: str) -> bool:
        """Is ``ref`` a cell of a table's header row?"""
        r, c, _, _ = ref_bounds(ref)
        return any(r == b[0] and b[1] <= c <= b[3] for _, b in self.tables)

    def _gone(self, cols: list[int]) -> str:
        heads = ", ".join(repr(self.headers[c]) for c in cols)
        table = next(n for n, b in self.tables if b[1] <= cols[0] <= b[3])
        return f"the current template's table {table} has no column {heads}"

    def rule(self, xml: str) -> tuple[str, str]:
        """A data validation / conditional format element of the old book with its range moved to the columns
        their headers have in the rebuilt book (its formulas' references: :func:`moved_formulas`): ("", why) when
        its range is only on columns the rebuilt table does not have; as it was when it does not meet a table."""
        sq = re.search(r'\bsqref="([^"]*)"', xml)
        if not self.cols or not sq:
            return xml, ""
        try:
            ranges = [ref_bounds(x.replace("$", "")) for x in sq.group(1).split()]
        except ValueError:
            return xml, ""
        if not any(self._on(*b) for b in ranges):
            return xml, ""
        out = xml  # its formulas: moved_formulas (every sheet's rules, not only those on a table)
        spans = []  # (row1, row2, its columns' new places, its columns that are gone) of each range
        for r1, c1, r2, c2 in ranges:
            cols = [self.column(c) for c in range(c1, c2 + 1)]
            spans.append((r1, r2, [c for c in cols if c is not None], [c for c, n in zip(range(c1, c2 + 1), cols)
                                                                        if n is None]))
        if not any(s[2] for s in spans):
            return "", self._gone(sorted({c for s in spans for c in s[3]}))
        anchor = next(s[2][0] for s in spans if s[2])  # where the first range's first cell went
        refs = []
        for k, (r1, r2, cols, _) in enumerate(spans):
            runs: list[list[int]] = []
            for c in sorted(set(cols)):
                if runs and c == runs[-1][1] + 1:
                    runs[-1][1] = c
                else:
                    runs.append([c, c])
            for a, b in runs:
                ref = f"{col_letters(a)}{r1}" + ("" if (a, r1) == (b, r2) else f":{col_letters(b)}{r2}")
                refs.append((0 if k == 0 and a <= anchor <= b else 1, ref))
        refs.sort(key=lambda x: x[0])  # the run holding the anchor first: relative references stay relative to it
        return out.replace(sq.group(0), f'sqref="{" ".join(r for _, r in refs)}"', 1), ""


_A1_IN_FORMULA = re.compile(
    r'("(?:[^"]|"")*")'  # text in quotes
    r"|(?<![\w.$!'\[\]\\])(?:('(?:[^']|'')+'|[^\W\d][\w.]*(?::[^\W\d][\w.]*)?)!)?"  # the sheet(s), if named
    r"(\$?)([A-Z]{1,3})(\$?)(\d*)(?::(\$?)([A-Z]{1,3})(\$?)(\d*))?(?![\w(.!\[])")
"""An A1 reference in a formula: a cell, a range or whole columns (``AI:AI``), with or without its sheet (quoted
or not); text in quotes, names, functions and structured references (``Inward[Action]``) are not references."""


def moved_refs(formula: str, home: str, moves: dict[str, Moves]) -> tuple[str, list[str]]:
    """``formula`` (as typed, on sheet ``home``) with each A1 reference into a table column that moved (issue 9
    moved Action from AI to AN and the columns after it) pointing at the column its header has in the rebuilt
    table, and why not for each reference into a column the rebuilt table no longer has (the caller refuses the
    formula: kept as it was it would read another column); ``moves``: :func:`column_moves` by sheet name.

    A reference's sheet is the one it names, else ``home``; ranges and whole columns move when every column they
    span keeps its header and their order (``$X$2:$AI$500``); rows are left as they are.
    """
    why: list[str] = []

    def one(m: re.Match) -> str:
        if m.group(1):
            return m.group(0)
        named, d1, c1, d2, r1, d3, c2, d4, r2 = m.group(2, 3, 4, 5, 6, 7, 8, 9, 10)
        sheet = (named[1:-1].replace("''", "'") if named.startswith("'") else named) if named else home
        if (c2 is None and not r1) or (c2 is not None and bool(r1) != bool(r2)):
            return m.group(0)  # a name rather than a reference
        a, b = col_index(c1), col_index(c2 or c1)
        lo, hi = min(a, b), max(a, b)
        top = int(r1) if r1 else 1
        bottom = int(r2 or r1) if r1 else 1048576
        top, bottom = min(top, bottom), max(top, bottom)
        if ":" in sheet:  # a 3-D reference (Config:Inward!AI5): the sheets between are the workbook's order
            if hi <= 16384 and any(mv._on(top, lo, bottom, hi) and any(mv.column(c) != c for c in range(lo, hi + 1))
                                   for mv in moves.values()):
                why.append(f"its 3-D reference {m.group(0).lstrip('=')} may span a table whose columns moved: "
                           "write one reference per sheet")
            return m.group(0)
        mv = moves.get(sheet)
        if mv is None or not mv.cols or hi > 16384 or not mv._on(top, lo, bottom, hi):
            return m.group(0)  # not a table sheet with moved columns, or cells outside its tables (they stay)
        to = [mv.column(c) for c in range(lo, hi + 1)]
        gone = [c for c, n in zip(range(lo, hi + 1), to) if n is None]
        said = m.group(0).lstrip("=")
        if gone:
            why.append(f"its reference {said}: {mv._gone(gone)}")
            return m.group(0)
        if to != list(range(to[0], to[0] + len(to))):
            why.append(f"its reference {said} spans columns the current template's table has apart or in another "
                       "order")
            return m.group(0)
        out = (named + "!" if named else "") + f"{d1}{col_letters(mv.column(a))}{d2}{r1}"
        return out + (f":{d3}{col_letters(mv.column(b))}{d4}{r2}" if c2 is not None else "")
    return _A1_IN_FORMULA.sub(one, formula), why


def moved_formulas(xml: str, home: str, moves: dict[str, Moves]) -> tuple[str, list[str]]:
    """:func:`moved_refs` on each formula of an XML element (``<f>`` of a cell, ``<formula>`` / ``<formula1|2>`` of
    a conditional format / data validation; their text escaped as XML holds it): (the element, why not)."""
    why: list[str] = []

    def one(f: re.Match) -> str:
        text, said = moved_refs(unescape(f.group(2)), home, moves)
        why.extend(said)
        return f.group(1) + (xml_escape(text) if text != unescape(f.group(2)) else f.group(2)) + f.group(3)
    if not any(mv.cols for mv in moves.values()):
        return xml, []
    return re.sub(r"(<(?:f|formula[12]?)\b[^>]*(?<!/)>)(.*?)(</(?:f|formula[12]?)>)", one, xml, flags=re.S), why


def all_moves(old: Package, new: Package, rows: dict[str, list[int]] | None = None) -> dict[str, Moves]:
    """:func:`column_moves` of every sheet of ``old`` with a table, by sheet name (a formula on any sheet may refer
    to a table's columns)."""
    out = {}
    for s in old.sheets():
        ns = new.sheet(s.name)
        if s.part and old.has(s.part) and ns is not None and new.has(ns.part):
            mv = column_moves(old, s.part, new, ns.part, (rows or {}).get(s.name))
            if mv.tables:
                out[s.name] = mv
    return out


_WORDING = re.compile(r'\s(?:error|errorTitle|prompt|promptTitle|errorStyle|showInputMessage|showErrorMessage)="[^"]*"')


def _unworded(rule: str) -> str:
    """A validation's rule without its messages: an older template's validation on the same cells whose message
    a later version reworded (Remarks: "at most 250 characters (spaces before and after are not counted)", G10)
    is the template's own, not the user's; one whose rule itself differs (a drop-down the user changed) is not."""
    return _WORDING.sub("", rule)


def column_moves(old: Package, old_part: str, new: Package, new_part: str, rows: list[int] | None = None) -> Moves:
    """:class:`Moves` of the tables on sheet part ``old_part`` into the same-named tables on ``new_part``;
    ``rows``: the old sheet rows of the records in the order the rebuilt table holds them (None: unmoved)."""
    out = Moves()
    rebuilt = {t.name: t for t in new.tables() if t.part in {tt for typ, tt, _ in new.rels(new_part).values()
                                                             if typ == REL_TABLE}}
    for typ, target, _ in old.rels(old_part).values():
        if typ != REL_TABLE or not old.has(target):
            continue
        t = next((t for t in old.tables() if t.part == target), None)
        n = rebuilt.get(t.name) if t is not None else None
        if n is None:
            continue
        r1, c1, r2, c2 = t.bounds
        if rows is not None:
            out.rows = {int(r): n.bounds[0] + 1 + k for k, r in enumerate(rows)}
            out.after = (max(out.rows, default=r1), n.bounds[0] + len(out.rows))
        where = {h: n.bounds[1] + k for k, h in enumerate(n.columns)}
        out.tables.append((t.name, t.bounds))
        for k, h in enumerate(t.columns):
            out.headers[c1 + k] = h
            if where.get(h) != c1 + k:
                out.cols[c1 + k] = where.get(h)
    return out


@dataclass
class Hyperlink:
    ref: str
    xml: str  # the <hyperlink> element
    target: str  # the external address its r:id points at ("" for a place in the workbook)
    location: str


def hyperlinks(pkg: Package, part: str, xml: str) -> list[Hyperlink]:
    """The hyperlinks of a sheet (``xml``: its XML without the rows)."""
    rels = pkg.rels(part)
    out = []
    for m in re.finditer(r"<hyperlink\b[^>]*/>", xml):
        ref = re.search(r'\bref="([^"]*)"', m.group(0))
        rid = re.search(r'\br:id="([^"]*)"', m.group(0))
        loc = re.search(r'\blocation="([^"]*)"', m.group(0))
        target = rels.get(rid.group(1), ("", "", ""))[1] if rid else ""
        if ref:
            out.append(Hyperlink(ref.group(1), m.group(0), target, unescape(loc.group(1)) if loc else ""))
    return out


@dataclass
class Name:
    name: str
    sheet: str  # the sheet it is local to ("" for the workbook)
    ref: str
    xml: str  # the <definedName> element


def names(pkg: Package) -> dict[str, Name]:
    """{name with its scope: the defined name} of a workbook."""
    wb = pkg.text("xl/workbook.xml")
    sheets = [s.name for s in pkg.sheets()]
    out = {}
    for m in re.finditer(r"<definedName\b([^>]*)>([^<]*)</definedName>", wb):
        attrs, body = m.group(1), m.group(2)
        name = re.search(r'\bname="([^"]*)"', attrs)
        local = re.search(r'\blocalSheetId="(\d+)"', attrs)
        if name:
            sheet = sheets[int(local.group(1))] if local and int(local.group(1)) < len(sheets) else ""
            scope = f" (sheet {sheet!r})" if sheet else ""
            out[unescape(name.group(1)) + scope] = Name(unescape(name.group(1)), sheet, unescape(body), m.group(0))
    return out


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


@dataclass
class Leftover:
    """One thing of the user's the rebuilt book lacks: ``kind`` (cell, comment, data validation,
    conditional format, merged cells, hyperlink, defined name), where, how :func:`left_behind` names it, and
    what it is."""

    kind: str
    sheet: str
    ref: str  # A1 cell, range, or the name
    text: str
    item: object = field(default=None, repr=False)
    """FreeCell, Comment, the rule's element, Hyperlink, Name; merged cells: (the element, the rebuilt sheet's
    non-empty cells outside its tables)."""
    why_not: str = ""
    """Why it has no place in the rebuilt book (the table column it was on is gone), "" when it has one."""


def find(old: Package, new: Package, tails: dict[str, str] | None = None, seen: dict | None = None,
         rows: dict[str, list[int]] | None = None) -> list[Leftover]:
    """What ``old`` has that its rebuilt version ``new`` does not (module doc); ``tails`` gets each compared
    sheet's XML in ``new`` without its rows, by sheet name; ``seen`` keeps what was read of ``old``'s sheets
    for a second comparison with another rebuilt version (a sheet of a million rows is read once); ``rows``: by
    sheet, the old rows of the records in the order the rebuilt table holds them (:func:`column_moves`)."""
    out: list[Leftover] = []
    copy = None  # old cell formats as the new book has them (StyleCopy), made when a table has the user's
    old_sst, new_sst = shared_strings(old), shared_strings(new)
    by_sheet = all_moves(old, new, rows)
    for s in old.sheets():
        if s.name in REWRITTEN or s.name in TEMPLATE_OWNED or not s.part or not old.has(s.part):
            continue
        ns = new.sheet(s.name)
        if ns is None or not new.has(ns.part):
            continue  # a sheet the template does not have: named by foreign_parts
        new_cells, new_xml = free_cells(new, ns.part, new_sst)
        if seen is not None and s.part in seen:
            old_cells, old_xml = seen[s.part]
        else:
            old_cells, old_xml = free_cells(old, s.part, old_sst)
            if seen is not None:
                seen[s.part] = old_cells, old_xml
        if tails is not None:
            tails[s.name] = new_xml
        moves = by_sheet.get(s.name, Moves())
        placed_at: set[str] = set()  # where the cells decided so far end up (rows ascending: records move up)
        went: dict[str, str] = {}  # a note beside a record that moved with it: old ref -> new (its comment follows)
        for ref, c in sorted(old_cells.items(), key=lambda kv: (kv[1].row, kv[1].col)):
            what = "a formula" if c.formula else repr(_short(c.value))
            why = ""
            if c.formula:  # its references into a table column that moved: to the column's new place
                xml, whys = moved_formulas(c.xml.decode("utf-8"), s.name, by_sheet)
                why = "; ".join(whys)
                c = FreeCell(c.row, c.col, c.formula, c.value, xml.encode("utf-8"), c.row_tag)
            row = moves.record_row(c.row)
            if row is not None and row != c.row:  # beside a record that moves up (blank rows are not kept)
                if c.formula or f"{col_letters(c.col)}{row}" in placed_at:  # its references are to the rows as
                    what += f", beside the record now on row {row}"  # they were, or a cell ends up there: it
                    placed_at.add(ref)  # stays, said so
                else:  # a note beside a record goes with it (a note above it that moved too freed its place)
                    to = f"{col_letters(c.col)}{row}"
                    what += f", {ref} in the old book"
                    c = FreeCell(row, c.col, c.formula, c.value, c.xml.replace(f'r="{ref}"'.encode(), f'r="{to}"'.encode(), 1),
                                 re.sub(rb'\br="\d+"', b'r="%d"' % row, c.row_tag, count=1))
                    went[ref] = to
                    ref = to
                    placed_at.add(ref)
            else:
                placed_at.add(ref)
            if ref not in new_cells:
                out.append(Leftover("cell", s.name, ref, f"cell {s.name}!{ref} ({what}{TYPED})", c, why))
        key = ("formats", s.part)
        formats = seen[key] if seen is not None and key in seen else table_formats(old, s.part)
        if seen is not None:
            seen[key] = formats
        placed = {}
        for (r, c), k in formats.items():
            to, why = moves.cell(f"{col_letters(c)}{r}")
            placed[r, c] = (to, why, ref_bounds(to)[:2])
        if formats:
            if copy is None:
                copy = StyleCopy(*(p.text(styles_part(p)) if p.has(styles_part(p)) else "" for p in (old, new)))
            now = styles_at(new, ns.part, {at for to, why, at in placed.values() if not why})
            for (r, c), k in formats.items():
                to, why, at = placed[r, c]
                if why or copy.xf(k) != now[at]:
                    ref = f"{col_letters(c)}{r}"
                    moved = f" ({ref} in the old book)" if to != ref else ""
                    out.append(Leftover("cell format", s.name, to, f"format of cell {s.name}!{to}{moved}",
                                        (at, k), why))
        new_comments = sheet_comments(new, ns.part)
        notes = {c.text for c in new_comments.values()}
        for ref, c in sheet_comments(old, s.part).items():
            if c.text in notes:
                continue  # a note the template writes on this sheet (an older template wrote it elsewhere)
            to, why = (went[ref], "") if ref in went else moves.cell(ref)  # on a moved note: with it
            if why and c.author == NOTE_AUTHOR and moves.header(ref):
                continue  # an older template's note on a column the current one no longer has
            if why or to not in new_comments:
                moved = f", {ref} in the old book" if to != ref else ""
                if to != ref:
                    c = Comment(c.text, re.sub(r'(<comment\b[^>]*?\sref=")[^"]*"', rf'\g<1>{to}"', c.xml, count=1),
                                c.author, ref)
                out.append(Leftover("comment", s.name, to, f"comment on {s.name}!{to} ({_short(c.text)!r}{moved})",
                                    c, why))
        for tag, what in (("dataValidation", "data validation"), ("conditionalFormatting", "conditional format")):
            kept = rules(new_xml, tag)
            reworded = {(_unworded(r), sq) for r, (sq, _) in kept.items()}
            for rule, (sqref, xml) in rules(old_xml, tag).items():
                xml_to, whys = moved_formulas(xml, s.name, by_sheet)
                xml_to, why = moves.rule(xml_to) if not whys else ("", "; ".join(whys))
                if why:
                    out.append(Leftover(what, s.name, sqref, f"{what} on {s.name}!{sqref}", xml, why))
                    continue
                if xml_to != xml:
                    (rule, (to, _)), = rules(xml_to, tag).items()
                else:
                    to = sqref
                if rule not in kept and (_unworded(rule), to) not in reworded:
                    moved = f" ({sqref} in the old book)" if to != sqref else ""
                    out.append(Leftover(what, s.name, to, f"{what} on {s.name}!{to}{moved}", xml_to))
        new_merged = set(re.findall(r'<mergeCell\b[^>]*\bref="([^"]*)"', new_xml))
        for m in re.finditer(r'<mergeCell\b[^>]*\bref="([^"]*)"[^>]*/>', old_xml):
            if m.group(1) not in new_merged:
                out.append(Leftover("merged cells", s.name, m.group(1), f"merged cells {s.name}!{m.group(1)}",
                                    (m.group(0), sorted(new_cells))))
        new_links = {h.ref for h in hyperlinks(new, ns.part, new_xml)}
        for h in hyperlinks(old, s.part, old_xml):
            if h.ref not in new_links:
                out.append(Leftover("hyperlink", s.name, h.ref, f"hyperlink on {s.name}!{h.ref} "
                                    f"({_short(h.target or h.location)})", h))
    new_names = names(new)
    for key, n in names(old).items():
        if key not in new_names and not n.name.startswith("_xlnm.") and not template_owned_name(n.ref):
            ref, whys = moved_refs(n.ref, n.sheet, by_sheet)  # MyActions = Inward!$AI$2:$AI$1000: Action moved
            if ref != n.ref:
                n = Name(n.name, n.sheet, ref, n.xml[:n.xml.find(">") + 1] + xml_escape(ref) + "</definedName>")
            out.append(Leftover("defined name", n.sheet, n.name, f"defined name {key} ({_short(n.ref)})", n,
                                "; ".join(whys)))
    return out


def left_behind(old_path: Path, new_path: Path, seen: dict | None = None,
                rows: dict[str, list[int]] | None = None) -> list[str]:
    """What the book at ``old_path`` has that its rebuilt version at ``new_path`` does not (module doc)."""
    with Package(old_path) as old, Package(new_path) as new:
        return [x.text for x in find(old, new, seen=seen, rows=rows)]


def shared_strings(pkg: Package) -> list[str]:
    t = next((t for typ, t, _ in pkg.rels("xl/workbook.xml").values()
              if typ.endswith("/sharedStrings") and pkg.has(t)), None)
    return fastread.shared_strings(pkg.read(t)) if t else []

