"""Formula helpers shared by the column and summary extension points.

Write references in the long structured form that both LibreOffice 7.4 and
Excel read (shared/domain/excel-tooling.md):

>>> this_row("Inward", "Action")
'Inward[[#This Row],[Action]]'
>>> col("Inward", "Section")
'Inward[Section]'
>>> check_formula('=IF(Inward[[#This Row],[Action]]="","",1)')
[]
>>> check_formula('=XLOOKUP(1,Inward[@Action],1)')
['XLOOKUP is missing in LibreOffice 7.4', "'[@' short form: write [[#This Row],[Col]]"]
>>> check_formula('=ROWS(Rules[#Data])+ROWS(Rules[[#Data]])')
["'T[#Data]' form gives #NAME? in LibreOffice: write T[[#Data]]"]
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Missing in LibreOffice 7.4 (or needing an _xlfn. prefix that XlsxWriter adds only when
# asked): write INDEX/MATCH, SUMIFS, COUNTIFS, IF, AND/OR instead.
FORBIDDEN_FUNCTIONS = ("XLOOKUP", "XMATCH", "LET", "FILTER", "UNIQUE", "SORT", "SORTBY", "SEQUENCE",
                       "LAMBDA", "TEXTJOIN", "IFS", "SWITCH", "MAXIFS", "MINIFS", "AGGREGATE",
                       "CONCAT", "TEXTSPLIT", "TEXTBEFORE", "TEXTAFTER", "VSTACK", "HSTACK",
                       "CHOOSECOLS", "CHOOSEROWS", "TAKE", "DROP", "ISOMITTED", "BYROW", "MAP")


def _escape(name: str) -> str:
    """Escape a column name for a structured reference (' before [ ] # ')."""
    return re.sub(r"([\[\]#'])", r"'\1", name)


def this_row(table: str, column: str) -> str:
    """``Table[[#This Row],[Column]]``: the long form LibreOffice 7.4 understands."""
    return f"{table}[[#This Row],[{_escape(column)}]]"


def col(table: str, column: str) -> str:
    """``Table[Column]``: a whole data column (summaries only, never per row)."""
    if re.fullmatch(r"[\w ]+", column):
        return f"{table}[{column}]"
    return f"{table}[[{_escape(column)}]]"


def text(ref: str) -> str:
    """A cell as text: a blank cell gives "" rather than 0."""
    return f'({ref}&"")'


def quote(value: str) -> str:
    """A string literal for a formula."""
    return '"' + str(value).replace('"', '""') + '"'


def gstin_valid(ref: str, expected: str | None = None) -> str:
    """TRUE when ``ref`` holds a valid GSTIN: ``ims_excel.gstin.valid`` as a formula (issue 12.3).

    Cheapest test first, each behind an IF (which evaluates only the branch it takes, in Excel and
    LibreOffice alike):

    1. ``EXACT(ref, expected)``: ``expected`` is :func:`gstin_expected` of ``ref`` (the first 14
       characters and the right check character, "" unless those 14 are ``0-9A-Z``), so this alone
       says 15 characters, all of ``0-9A-Z`` (upper case, as the portal writes GSTINs), and the Luhn
       mod-36 check character right;
    2. the state code in ``GSTINStates`` (``gstin.STATE_CODES``);
    3. the registration shape (``gstin.SHAPES``), for a text now known to be ``0-9A-Z``: one SUMPRODUCT
       over positions 1-14 works out ``gstin.shape_key`` (per position the group of the character,
       ``GSTINAtomCodes``, at its mixed-radix place, ``GSTINAtomWeights``), which MATCH finds among
       the keys of the registrations (``GSTINShapeKeys``).

    The Rules-sheet names are laid out from ``ims_excel.gstin`` (``rules_sheet._write_gstin``), so the
    rule is written once; SUMPRODUCT evaluates its arrays without CSE in Excel and LibreOffice.
    ``expected``: a cell holding :func:`gstin_expected` of ``ref`` (a row's helper column); without it
    the check character is worked out here.
    """
    if expected is None:
        expected = _expected_text(ref)
    key = (f"SUMPRODUCT(CODE(MID(GSTINAtomCodes,FIND(MID({ref},GSTINCheckPositions,1),{quote(ALPHABET)}),1))"
           f"*GSTINAtomWeights)")
    shape = f"ISNUMBER(MATCH({key},GSTINShapeKeys,0))"
    return (f"IFERROR(IF(EXACT({ref},{expected}),"
            f"IF(ISNUMBER(MATCH(LEFT({ref},2),GSTINStates,0)),{shape},FALSE),FALSE),FALSE)")


def _expected_text(ref: str) -> str:
    return f'IF(LEN({ref})>=14,LEFT({ref},14)&{gstin_check_char(ref)},"")'


def gstin_expected(ref: str) -> str:
    """``ref`` with the right check character (its first 14 characters and :func:`gstin_check_char`),
    "" when shorter than 14 characters or one of them is not in ``0-9A-Z`` (``gstin.expected``; the
    15th character and any after it are not read)."""
    return f'IFERROR({_expected_text(ref)},"")'


def gstin_check_char(ref: str) -> str:
    """The right 15th character for the first 14 characters of ``ref`` (an error if one of
    them is not in ``0-9A-Z``): ``gstin.check_char`` as a formula. A character's place in its
    position's ``GSTINCheckOrders`` string (``gstin.CHECK_ORDERS``) is its Luhn mod-36 contribution
    plus one, so the sum of the 14 FINDs less 14 is the Luhn sum and the check is its negative mod 36.

    >>> gstin_check_char("A1")
    'MID("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",MOD(14-SUMPRODUCT(FIND(MID(A1,GSTINCheckPositions,1),GSTINCheckOrders)),36)+1,1)'
    """
    alphabet = quote(ALPHABET)
    total = f"SUMPRODUCT(FIND(MID({ref},GSTINCheckPositions,1),GSTINCheckOrders))"
    return f"MID({alphabet},MOD(14-{total},36)+1,1)"


def check_formula(formula: str, *, per_row_table: str | None = None) -> list[str]:
    """Problems that would break the formula in LibreOffice 7.4 or make it slow.

    ``per_row_table``: the formula is a computed column of that table, so it must
    not reference whole columns of it (O(1) per row; lookups into the small
    Rules/Codes tables are fine).
    """
    problems = []
    body = re.sub(r'"(?:[^"]|"")*"', '""', formula)  # ignore string literals
    for name in FORBIDDEN_FUNCTIONS:
        if re.search(rf"(?<![\w.]){name}\s*\(", body, re.IGNORECASE):
            problems.append(f"{name} is missing in LibreOffice 7.4")
    if "[@" in body:
        problems.append("'[@' short form: write [[#This Row],[Col]]")
    if re.search(r"\w\[#(Data|All|Headers|Totals|This Row)\]", body):
        problems.append("'T[#Data]' form gives #NAME? in LibreOffice: write T[[#Data]]")
    if "@" in body.replace("[@", ""):
        problems.append("the @ operator is missing in LibreOffice 7.4")
    if per_row_table:
        whole = re.findall(rf"\b{re.escape(per_row_table)}\[(?!\[#This Row\])", body)
        if whole:
            problems.append(f"whole-column reference to {per_row_table} in a per-row formula")
    if body.count("(") != body.count(")"):
        problems.append("unbalanced parentheses")
    return problems
