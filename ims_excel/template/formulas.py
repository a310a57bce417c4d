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

    15 characters; the state code in ``GSTINStates``; the characters, position by position,
    allowed by one of the registration shapes (``GSTINShapes``: one column per shape, one row per
    position, each cell the allowed characters); the Luhn mod-36 check character
    (:func:`gstin_check_char`). The Rules-sheet names are laid out from ``gstin.SHAPES`` and the
    ``STATE_CODES``, so the rule is written once. Upper case only, as the portal
    writes GSTINs. O(1): SUMPRODUCT over 15 x 7 cells, which Excel and LibreOffice evaluate as
    arrays without CSE. ``expected``: a cell holding :func:`gstin_expected` of ``ref`` (a row's
    helper column), compared with ``ref`` instead of working the check character out again.
    """
    shape = f"SUMPRODUCT(--(MMULT(GSTINOnes,--ISNUMBER(FIND(MID({ref},GSTINPositions,1),GSTINShapes)))=15))>0"
    return (f"IFERROR(AND(LEN({ref})=15,ISNUMBER(MATCH(LEFT({ref},2),GSTINStates,0)),{shape},"
            f"{f'EXACT({ref},{expected})' if expected else f'EXACT(MID({ref},15,1),{gstin_check_char(ref)})'}),FALSE)")


def gstin_expected(ref: str) -> str:
    """``ref`` with the right check character (its first 14 characters and :func:`gstin_check_char`),
    "" when shorter than 14 characters or one of them is not in ``0-9A-Z`` (``gstin.expected``)."""
    return f'IFERROR(IF(LEN({ref})>=14,LEFT({ref},14)&{gstin_check_char(ref)},""),"")'


def gstin_check_char(ref: str) -> str:
    """The right 15th character for the first 14 characters of ``ref`` (an error if one of
    them is not in ``0-9A-Z``): ``gstin.check_char`` as a formula. Value = position in ``0-9A-Z``,
    weight ``GSTINWeights`` (1 on odd, 2 on even positions, 0 on the 15th), contribution
    INT(p/36)+MOD(p,36), check = MOD(36-MOD(sum,36),36)."""
    alphabet = quote(ALPHABET)
    p = f"(FIND(MID({ref},GSTINPositions,1),{alphabet})-1)*GSTINWeights"
    total = f"SUMPRODUCT(INT({p}/36)+MOD({p},36))"
    return f"MID({alphabet},MOD(36-MOD({total},36),36)+1,1)"


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
