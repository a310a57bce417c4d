"""Structured references (``Table[[#This Row],[Col]]``, ``Table[Col]``) rewritten as A1 references.

Excel stores a table's calculated-column formula in the table part in structured
form, but writes *shared* formulas (``<f t="shared" ref=.. si=..>``) only with
A1 references: no Excel-saved file holds a structured reference inside a shared
formula, and MS-XLS's SharedParsedFormula (§2.5.198.118) has no place for the
table tokens (shared/domain/excel-tooling.md, last section). So a column stored
as one shared formula gets the A1 form of its calculated-column formula, written
for the shared range's first row:

* ``T[[#This Row],[C]]`` -> ``$X7`` (column absolute, row relative: the shared
  formula moves it down row by row), with ``'Sheet'!`` when T is on another sheet;
* ``T[C]`` / ``T[[C]]`` / ``T[[#Data],[C]]`` -> ``'Sheet'!$X$5:$X$60`` (the data body);
* ``T[[#Data]]`` / ``T[#Data]`` -> the whole data body;
* ``T[[#This Row],[C]:[D]]`` -> ``$X7:$Y7`` (columns C to D of the row: ``SUMPRODUCT(ROUND(..,2))``
  over adjacent amount columns reads them with one reference).

>>> g = {"Inward": Table("Inward", "Inward", 1, 2, 9, 1, ["Section", "Supplier GSTIN"]),
...      "Codes": Table("Codes", "Rules", 40, 41, 60, 1, ["code", "message"])}
>>> to_a1('IF(Inward[[#This Row],[Section]]="","",MATCH("a]",Codes[code],0))', 7, g, "Inward")
'IF($A7="","",MATCH("a]",Rules!$A$41:$A$60,0))'
>>> to_a1("Inward[[#This Row],[Supplier GSTIN]]&Codes[[message]]", 2, g, "Rules")
'Inward!$B2&Rules!$B$41:$B$60'
>>> to_a1("SUM(Inward[[#This Row],[Section]:[Supplier GSTIN]])", 7, g, "Inward")
'SUM($A7:$B7)'
>>> has_structured('IF(A2="[x]",{1,2},0)'), has_array_constant('IF(A2="{1}",1,0)')
(False, False)
>>> has_structured("T[[#This Row],[A]]"), has_array_constant("MATCH(A1,{1,2},0)")
(True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRING = re.compile(r'"(?:[^"]|"")*"')
_NAME = re.compile(r"(?<![\w.$!'])([A-Za-z_\\][\w.]*)\[")


@dataclass(frozen=True)
class Table:
    """Where a table's columns are: ``first_data_row..last_data_row`` (1-based), ``first_col`` (1-based)."""

    name: str
    sheet: str
    header_row: int
    first_data_row: int
    last_data_row: int
    first_col: int
    columns: list[str]


def col_letters(index: int) -> str:
    """1-based column number -> letters."""
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def sheet_prefix(sheet: str) -> str:
    """``Sheet!`` or ``'GSTR-3B'!`` (quoted when the name is not a plain word)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        return sheet + "!"
    return "'" + sheet.replace("'", "''") + "'!"


def tables_of(infos) -> dict[str, Table]:
    """:class:`Table` geometry from ``package.TableInfo`` objects (header row 1 line, no totals row)."""
    from ims_excel.xlsx.package import ref_bounds

    out = {}
    for t in infos:
        r1, c1, r2, _ = ref_bounds(t.ref)
        out[t.name.casefold()] = Table(t.name, t.sheet, r1, r1 + 1, max(r2, r1 + 1), c1, list(t.columns))
    return out


def _unescape(name: str) -> str:
    return re.sub(r"'(.)", r"\1", name)


def _bracket_end(text: str, i: int) -> int:
    """Index just after the bracket group opening at ``text[i] == '['`` (``'`` escapes one character)."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced structured reference in {text!r}")


def _items(inner: str) -> list[str]:
    """``[#This Row],[Col]`` -> ['#This Row', 'Col']; ``Col`` -> ['Col']; ``[A]:[B]`` -> ['A', ':', 'B']."""
    inner = inner.strip()
    if not inner.startswith("["):
        return [_unescape(inner)]
    out, i = [], 0
    while i < len(inner):
        if inner[i] == "[":
            j = _bracket_end(inner, i)
            out.append(_unescape(inner[i + 1:j - 1]))
            i = j
        elif inner[i] in ", ":
            i += 1
        elif inner[i] == ":" and out and not out[-1].startswith("#"):
            out.append(":")
            i += 1
        else:
            raise ValueError(f"structured reference form not supported: [{inner}]")
    return out


def _translate(table: Table, items: list[str], row: int, home_sheet: str) -> str:
    specials = [s.casefold() for s in items if s.startswith("#")]
    cols = [s for s in items if not s.startswith("#")]
    span = len(cols) == 3 and cols[1] == ":"
    if len(cols) > 1 and not span:
        raise ValueError(f"{table.name}: column lists are not supported: {items}")

    def letters(name: str) -> str:
        try:
            return col_letters(table.first_col + [c.casefold() for c in table.columns].index(name.casefold()))
        except ValueError:
            raise ValueError(f"{table.name} has no column {name!r}") from None

    if cols:
        c_first, c_last = letters(cols[0]), letters(cols[-1])
    else:
        c_first, c_last = col_letters(table.first_col), col_letters(table.first_col + len(table.columns) - 1)
    if specials == ["#this row"]:
        if not cols:
            raise ValueError(f"{table.name}: a whole This Row is not supported")
        prefix = "" if table.sheet == home_sheet else sheet_prefix(table.sheet)
        return f"{prefix}${c_first}{row}" + (f":${c_last}{row}" if span else "")
    if specials in ([], ["#data"]):
        return (f"{sheet_prefix(table.sheet)}${c_first}${table.first_data_row}:"
                f"${c_last}${table.last_data_row}")
    raise ValueError(f"{table.name}: structured reference {items} not supported")


def to_a1(formula: str, row: int, tables: dict[str, Table], home_sheet: str) -> str:
    """``formula`` with every structured reference to a known table in A1 form, for a cell on ``row``
    of ``home_sheet``. A reference to an unknown table is an error (it would stay structured)."""
    by_name = {k.casefold(): v for k, v in tables.items()}
    out, last = [], 0
    spans = [(m.start(), m.end()) for m in _STRING.finditer(formula)]

    def in_string(pos: int) -> bool:
        return any(a <= pos < b for a, b in spans)

    for m in _NAME.finditer(formula):
        if m.start() < last or in_string(m.start()):
            continue
        table = by_name.get(m.group(1).casefold())
        if table is None:
            raise ValueError(f"structured reference to unknown table {m.group(1)!r} in {formula[:80]!r}")
        open_at = m.end() - 1
        end = _bracket_end(formula, open_at)
        out.append(formula[last:m.start()])
        out.append(_translate(table, _items(formula[open_at + 1:end - 1]), row, home_sheet))
        last = end
    out.append(formula[last:])
    return "".join(out)


def has_structured(formula: str) -> bool:
    """True when ``formula`` (outside its string literals) holds a structured reference ``Name[``."""
    return bool(_NAME.search(_STRING.sub('""', formula)))


def has_array_constant(formula: str) -> bool:
    """True when ``formula`` (outside its string literals) holds an array constant ``{...}``."""
    return "{" in _STRING.sub('""', formula)
