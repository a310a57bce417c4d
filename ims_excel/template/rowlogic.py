"""Per-row formula pieces shared by the Inward and Outward tables: the classification of
``engine.classify`` (which decision-table rule governs a record) written as formulas.

Each function returns the formula of one computed column of a table, given
``r`` (same-row reference maker of that table). The engine is the
specification; the docstrings name the engine lines each formula mirrors.
Rules data is looked up, never repeated:

* ``Sections`` (family, amendment), ``NotInIMS`` and ``AddbackTables`` tables,
  ``Rules`` (by ``key`` = rule@regime for version cells, by ``id`` for rule-level
  attributes) and ``Codes`` (by ``code``; the row number is the precedence);
* ``Param_<name>`` for the rule parameters, Config names for the return.

Every formula gives "" (text columns) or 0 (amounts) on an empty row
(``Section`` blank), so the template's one empty data row stays clean.
"""

from __future__ import annotations

from typing import Callable

Ref = Callable[[str], str]

HEADS = ("IGST", "CGST", "SGST", "Cess")
ITC_FAMILIES = ("INV", "DN", "ECO")  # engine: itc_family (s.16(4) applies)


# ------------------------------------------------------------------ tiny formula DSL

def q(text: str) -> str:
    """A string literal."""
    return '"' + str(text).replace('"', '""') + '"'


def IF(cond: str, then: str, other: str) -> str:  # noqa: N802 - spreadsheet spelling
    return f"IF({cond},{then},{other})"


def IFERROR(value: str, fallback: str) -> str:  # noqa: N802
    return f"IFERROR({value},{fallback})"


def AND(*args: str) -> str:  # noqa: N802
    return f"AND({','.join(args)})"


def OR(*args: str) -> str:  # noqa: N802
    return f"OR({','.join(args)})"


def eq(ref: str, value: str) -> str:
    return f"{ref}={q(value)}"


def ne(ref: str, value: str) -> str:
    return f"{ref}<>{q(value)}"


def one_of(ref: str, values: tuple[str, ...] | list[str]) -> str:
    return OR(*(eq(ref, v) for v in values)) if len(values) > 1 else eq(ref, values[0])


def code_in(ref: str, codes: tuple[str, ...] | list[str]) -> str:
    """TRUE when a computed code cell (Family, Kind: exact upper/lower case, no ``|``) is one of
    ``codes``, the cell read once: ``|`` + it + ``|`` found in ``|a|b|c|`` (FIND: exact, no wildcards)."""
    return f'ISNUMBER(FIND("|"&{ref}&"|",{q("|" + "|".join(codes) + "|")}))'


def num(ref: str) -> str:
    """A cell as a number (blank or text = 0), as the engine reads amounts."""
    return f"N({ref})"


def lookup(table: str, column: str, key_column: str, key: str, default: str = '""') -> str:
    """``table[column]`` of the row whose ``key_column`` equals ``key`` (text; blank = "")."""
    return f"IFERROR(INDEX({table}[{column}],MATCH({key},{table}[{key_column}],0))&\"\",{default})"


def rule_attr(r: Ref, column: str, default: str = '""') -> str:
    """A rule-level attribute (kind, specified, bucket, table, addback): Rules row of the rule id."""
    return lookup("Rules", column, "id", r("Rule"), default)


def version_attr(r: Ref, column: str, default: str = '""') -> str:
    """A version cell (accept ... no_action, code, declaration): Rules row ``Rule Row``."""
    return f'IFERROR(INDEX(Rules[{column}],{r("Rule Row")})&"",{default})'


def code_rank(code: str) -> str:
    """Position of a reason code in the Codes table = its precedence (1 = first)."""
    return f"MATCH({code},Codes[code],0)"


def blank_guard(r: Ref, body: str, empty: str = '""') -> str:
    return f'=IF({r("Section")}="",{empty},{body})'


def dmy(ref: str) -> str:
    """A date as DD-MM-YYYY text (locale-independent), "" if not a date."""
    return IF(f"ISNUMBER({ref})",
              f'TEXT(DAY({ref}),"00")&"-"&TEXT(MONTH({ref}),"00")&"-"&YEAR({ref})', '""')


def period_label(index: str) -> str:
    """A month index (year*12 + month - 1) as ``Mon-YYYY`` (``periods.label``)."""
    return f'MID("JanFebMarAprMayJunJulAugSepOctNovDec",MOD({index},12)*3+1,3)&"-"&INT({index}/12)'


def period_iso(index: str) -> str:
    """A month index as ``YYYY-MM`` (``periods.iso``)."""
    return f'INT({index}/12)&"-"&TEXT(MOD({index},12)+1,"00")'


def month_date(index: str, day: str) -> str:
    """The date of ``day`` in month ``index`` (year*12 + month - 1), the index written once: DATE rolls
    a month number past 12 into the following years (Excel and LibreOffice alike)."""
    return f"DATE(2000,{index}-23999,{day})"


QUARTERLY = 'FilingFrequency="Quarterly"'


# ------------------------------------------------------------------ classification (engine.classify)

def family(r: Ref) -> str:
    """INV / DN / CN / ECO / BOE / ISD from the ``Sections`` table (unknown: INV)."""
    return blank_guard(r, lookup("Sections", "family", "section", r("Section"), q("INV")))


def amendment(r: Ref) -> str:
    """Y for an amendment section (B2BA, B2B-DNA, B2B-CNA, ECOA, IMPGA, IMPGSEZA, ISDA)."""
    return blank_guard(r, lookup("Sections", "amendment", "section", r("Section"), q("N")))


def _period_text(t: str) -> str:
    """A trimmed period text (YYYY-MM, YYYY/MM, MM-YYYY or MMYYYY) as a month index (``periods.parse``):
    a ``-`` or ``/`` 5th character means the year comes first; else the year is the last four
    characters and the month what comes before them, read as the text less its ``-`` over 10000
    (``t`` written 5 times)."""
    return IF(f'ISNUMBER(FIND("|"&MID({t},5,1)&"|","|-|/|"))',
              f"VALUE(LEFT({t},4))*12+VALUE(MID({t},6,2))-1",
              f'VALUE(RIGHT({t},4))*12+INT(VALUE(SUBSTITUTE({t},"-",""))/10000)-1')


def month_index(d: str) -> str:
    """The month index (year*12 + month - 1) of a date, ``d`` written once: the whole months from
    1 March 1900 (serial 61, the same day in Excel and LibreOffice) plus that month's index, 22802."""
    return f'DATEDIF(61,{d},"m")+22802'


def period_index(r: Ref) -> str:
    """GSTR-2B period as year*12 + month - 1 (engine ``period_2b``, ims-rules.md 4.1).

    The ``2B Period`` cell (YYYY-MM, YYYY/MM, MM-YYYY, MMYYYY or a date), else
    the supplier's filing date (filed up to ``Param_gstr1_cutoff_day`` of M+1:
    the 2B of M), else the return's last month ``WindowEnd``. A GSTR-1A of
    ``Supplier Return Period`` M: the 2B of M+1, or the filing day's if later;
    without the return period, the month it was filed in (``gstr1a_2b_period``).
    A ``2B Period`` text that is no period counts as blank (engine: ``normalise`` reads it as
    none, ``classify`` derives the period).
    """
    p = r("2B Period")
    fd = r("Supplier Filing Date")
    rt = f'TRIM({r("Supplier Return Period")}&"")'
    # filed up to the cut-off day of a month: that month's 2B is the previous one, i.e. the month of the
    # filing date less the cut-off day (the day is below 28, so it never steps back two months)
    def from_filing(other: str) -> str:
        # a filing date that is no date (blank: 0 less the day; text): DATEDIF's error, so ``other``
        return IFERROR(month_index(f"{fd}-Param_gstr1_cutoff_day"), other)
    # the return period read once: an error when blank or unreadable, which IFERROR turns into the fallback
    after = f'IF(LEN({rt})<6,NA(),{_period_text(rt)})+Param_gstr1a_2b_period_months_after'
    # a GSTR-1A: the later of its return period's and the filing day's 2B (an unreadable return period:
    # the month it was filed in, else the window's last); any other form the filing day's, else WindowEnd
    gstr1a = IFERROR(f"MAX({after},{from_filing('-1')})", IFERROR(month_index(fd), "WindowEnd"))
    either = IF(eq(r("Source Form"), "GSTR-1A"), gstr1a, from_filing("WindowEnd"))
    body = IF(f"ISNUMBER({p})", month_index(p), IFERROR(_period_text(f'TRIM({p}&"")'), either))
    return blank_guard(r, body)


def period(r: Ref) -> str:
    """The GSTR-2B period as YYYY-MM."""
    return blank_guard(r, period_iso(r("Period Index")))


def era(r: Ref) -> str:
    """The rule regime of the period: the last ``RuleEras`` start on or before it (else the first)."""
    return blank_guard(r, f'IFERROR(INDEX(RuleEras,MATCH({r("Period")},RuleEras,1)),INDEX(RuleEras,1))')


def _total(r: Ref, prefix: str = "") -> str:
    """The total tax of the row (``prefix`` "Original ": the original's), each head rounded to the paisa
    first as the engine reads amounts (``normalise.parse_amounts``), the four adjacent head columns read
    with one reference."""
    return f"SUMPRODUCT(ROUND({span(r, prefix + HEADS[0], prefix + HEADS[-1])},2))"


def span(r: Ref, first: str, last: str) -> str:
    """The same-row cells from column ``first`` to ``last`` (adjacent columns):
    ``T[[#This Row],[first]:[last]]``.

    >>> span(lambda c: f"T[[#This Row],[{c}]]", "IGST", "Cess")
    'T[[#This Row],[IGST]:[Cess]]'
    """
    a, b = r(first), r(last)
    return a[:-1] + ":" + b[b.rindex(",[") + 1:]


def direction(r: Ref) -> str:
    """Amendment direction (``engine.classify``): "down" when the amended total tax is at most the
    original's + 0.005 ("unchanged" counts as down), for a Bill of Entry only below the original's
    - 0.005 (a real decrease); else "up"; "" for a record that is no amendment.

    The engine compares totals of amounts rounded to the paisa, so the difference is a whole number of
    paise and ``<= 0.005`` is ``< 0.005``; the formula rounds each head as the engine does (a cell
    holding 100.004 against an original 99.996 is unchanged: down). Only a head of exactly half a paisa
    can still differ: ROUND rounds it away from zero, numpy rounds the binary value half to even.
    """
    down = f'{_total(r)}-{_total(r, "Original ")}<IF({eq(r("Family"), "BOE")},-0.005,0.005)'
    # no Section guard: Amendment is guarded, so an empty row gives "" already
    return "=" + IF(ne(r("Amendment"), "Y"), '""', IF(down, q("down"), q("up")))


ORIGINAL_STATES = "|REJECTED|PENDING|ACCEPTED|NO ACTION|PRE-IMS|"
"""The text of the ``OriginalStates`` name: the ``Original Action`` values (upper case) whose position
:func:`original_state` reads. Blank or another value: position 20, with Accepted and No Action (the
engine's ``STATE_CODE``, default No Action).

>>> [ORIGINAL_STATES.find("|" + v + "|") + 1 for v in ("REJECTED", "PENDING", "ACCEPTED", "NO ACTION", "PRE-IMS")]
[1, 10, 18, 27, 37]
>>> [min((p // 9) + 1, 3) for p in (1, 10, 18, 27, 37, 20)]  # the class Record Rule reads: R, P, other
[1, 2, 3, 3, 3, 3]
>>> [(p + 20 > 36, p > 36) for p in (1, 10, 18, 27, 37, 20)]  # consumed when filed / when not filed
[(False, False), (False, False), (True, False), (True, False), (True, True), (True, False)]
"""


def original_state(r: Ref) -> str:
    """The position of ``Original Action`` in ``OriginalStates`` (:data:`ORIGINAL_STATES`; FIND of the
    upper-cased value: no wildcards, case as ``=`` ignores it, no lookup miss per row); 20 for blank or
    any other value."""
    return f'IFERROR(FIND("|"&UPPER({r("Original Action")})&"|",OriginalStates),20)'


def consumed(r: Ref) -> str:
    """Y when the original was consumed (``engine.classify``): accepted or no action and its GSTR-3B
    filed, or pre-IMS. With the position of :func:`original_state`: above 36 (Pre-IMS), or at least 18
    (Accepted, No Action, blank) and filed, i.e. the position + 20 when filed is above 36."""
    return blank_guard(r, IF(f'{original_state(r)}+20*({eq(r("Original 3B Filed"), "Y")})>36', q("Y"), q("N")))


def record_rule(r: Ref) -> str:
    """The record kind D1-D17, or D18 for a Bill of Entry before the Oct-2025 changes: the Rules sheet's
    ``RecordRules`` grid (``engine.classify.record_kinds`` over every combination,
    ``rules_sheet.record_rule_grid``), row ``Family`` & ``Direction``, column the original action's
    class (1 Rejected, 2 Pending, 3 other: from :func:`original_state`) + 3 when consumed + 6 before
    ``oct25_changes_period`` + 12 for a Bill of Entry amended to a nil total tax from a non-nil one (taken
    away: D17; the only family nil changes, so the totals are summed on BoE rows only). An empty row: ""."""
    nil = IF(eq(r("Family"), "BOE"), AND(f"{_total(r)}<=0.005", f'{_total(r, "Original ")}>0.005'), "FALSE")
    col = (f"MIN(INT({original_state(r)}/9)+1,3)+3*({eq(r('Consumed'), 'Y')})"
           f"+6*({r('Period Index')}<Param_oct25_changes_period_index)+12*{nil}")
    return "=" + IFERROR(f"INDEX(RecordRules,MATCH({r('Family')}&{r('Direction')},RecordRuleRows,0),{col})", '""')


def state_number(ref: str, invalid: str = "-1") -> str:
    """The state code at the start of a GSTIN or place of supply as a number ("27-Maharashtra" ->
    27, "7" -> 7), -1 when its first one or two characters are not digits (``classify._state_number``;
    ``invalid``: another negative number for that, so two unreadable codes never compare equal).

    ``ref`` read once: the first two characters between ``|`` found in ``StateNumbers``
    (:data:`STATE_NUMBERS`; FIND: exact, no wildcards, "" is not found), whose layout puts the
    first match of every one- and two-digit string at 1 + 6 * (a number whose last two digits are it).
    """
    return f'IFERROR(MOD((FIND("|"&LEFT({ref}&"",2)&"|",StateNumbers)-1)/6,100),{invalid})'


STATE_NUMBERS = ("".join(f"|{d}" * 3 for d in range(10))
                 + "".join(f"|{n:02d}" * 2 for n in [*range(10, 100), *range(10)]) + "|")
"""The text of the ``StateNumbers`` name: ``|0|0|0|1|1|1...|9|9|9`` (each digit three times, 2
characters apart: the first ``|d|`` at 1 + 6d) then ``|10|10|11|11...|99|99|00|00...|09|09|`` (each
two-digit string twice, 3 characters apart: the first ``|nn|`` at 61 + 6(n - 10), ``|0n|`` at 601 + 6n),
so (position - 1) / 6 is d, n or 100 + n, and MOD 100 the number. No ``||`` and no ``|x|`` with x not a
digit, so nothing else is found.

>>> p = lambda t: STATE_NUMBERS.find("|" + t + "|")
>>> [(p(t) // 6) % 100 for t in ("0", "7", "9", "10", "27", "99", "00", "07")]
[0, 7, 9, 10, 27, 99, 0, 7]
>>> [p(t) for t in ("", "x", "7-", "2A", "|")]
[-1, -1, -1, -1, -1]
"""


def outside_rule(r: Ref, party: str, inward: bool) -> str:
    """D19-D24 for a record GSTR-2B holds outside IMS, else "".

    ``Not In IMS`` when given (NotInIMS table), else derived, strongest first:
    reverse charge (D19), GSTR-5 (D21), GSTR-6 or an ISD section (D20), ITC
    ineligible by place of supply (D22: supplier state = POS, recipient state
    differs; not BoE / ISD), filed after the s.16(4) cut-off (D23).
    ``party``: the row's GSTIN column; on the Inward table the supplier, on the
    Outward table the recipient (we are then the supplier).
    """
    fam = r("Family")
    pos = state_number(r("Place Of Supply"))
    own = "OwnState"  # Config: state_number of our GSTIN
    not_boe_isd = ne(fam, "BOE")  # an ISD record is D20 before this test
    if inward:
        # supplier state = place of supply and our state differs, each read once: (pos - ours) / (supplier
        # - ours) is 1 exactly then (the supplier's state is -2 when unreadable, never the place of
        # supply's -1; ours = the supplier's: #DIV/0!, FALSE)
        sup_state = state_number(r(party), "-2")
        pos_inelig = AND(IFERROR(f"({pos}-{own})/({sup_state}-{own})=1", "FALSE"), not_boe_isd)
    else:
        # we are the supplier: place of supply = our state (readable), the recipient's differs
        pos_inelig = AND(f"{pos}={own}", f"{own}>=0", f"{state_number(r(party))}<>{own}", not_boe_isd)
    fd, cut = r("Supplier Filing Date"), r("16(4) Cut-off")
    earliest = month_date(r("Period Index"), "Param_gstr1_cutoff_day+1")
    judged = IF(f"ISNUMBER({fd})", fd, IF('Param_cutoff_164_filing_unknown="earliest"', earliest, "-1"))
    # 16(4) Cut-off is "" (text) unless an invoice / debit note / ECO document or a BoE has one, and a
    # number is never greater than a text: so no ISNUMBER here; a BoE's is for warnings only (Q11)
    late = AND(f"NOT({reduces(r)})", f"{judged}>{cut}", not_boe_isd)
    derived = IF(eq(r("Reverse Charge"), "Y"), q("D19"),
                 IF(eq(r("Source Form"), "GSTR-5"), q("D21"),
                    IF(OR(eq(r("Source Form"), "GSTR-6"), eq(fam, "ISD")), q("D20"),
                       IF(pos_inelig, q("D22"), IF(late, q("D23"), '""')))))
    # looked up only when given (a lookup that misses on every row is slow in LibreOffice)
    nii = r("Not In IMS")
    return blank_guard(r, IF(f'{nii}&""=""', derived, lookup("NotInIMS", "rule", "value", nii)))


def reduces(r: Ref) -> str:
    """A downward amendment that s.16(4) does not bar (``Param_cutoff_164_reductions`` = in_ims): TRUE/FALSE."""
    return AND(eq(r("Direction"), "down"), 'Param_cutoff_164_reductions="in_ims"')


def cutoff_164(r: Ref) -> str:
    """Section 16(4) cut-off of an invoice / debit note / ECO document (engine ``cutoff_164``).

    30 November (``Param_cutoff_164_*``) after the end of the FY of the document
    date (an amendment: the original's date when given), or the annual return's
    filing date when it is earlier and for that FY. Credit notes, ISD: "". A Bill of Entry has one
    when ``Param_cutoff_164_boe`` is warn (Q11: for the warnings only; never D23 / D26).
    """
    def cut(d: str) -> str:
        # the year the FY of d ends: 1 April + 275 days is 1 January, 31 March + 275 days 31 December
        fy = f"YEAR({d}+275)"
        # the earlier of 30 November and the annual return's filing date when it is of that FY
        # (9999-12-31, serial 2958465, when it is not; AnnualReturnFYEnd is "" without a filing date)
        return (f"MIN(DATE({fy},Param_cutoff_164_month,Param_cutoff_164_day),"
                f"{IF(f'AnnualReturnFYEnd={fy}', 'AnnualReturnFiledOn', '2958465')})")
    odd, dd = r("Original Document Date"), r("Document Date")
    warned = OR(code_in(r('Family'), ITC_FAMILIES), AND(eq(r("Family"), "BOE"), 'Param_cutoff_164_boe="warn"'))
    body = IF(f"NOT({warned})", '""',
              IF(AND(eq(r("Amendment"), "Y"), f"ISNUMBER({odd})"), cut(odd),
                 IF(f"ISNUMBER({dd})", cut(dd), '""')))
    return "=" + body  # no Section guard: Family is guarded, so an empty row gives "" already


__all__ = ["q", "IF", "AND", "OR", "eq", "ne", "one_of", "code_in", "num", "lookup", "rule_attr", "version_attr",
           "code_rank", "blank_guard", "dmy", "period_label", "period_iso", "QUARTERLY", "family", "amendment",
           "period_index", "period", "era", "direction", "consumed", "record_rule", "state_number", "outside_rule",
           "cutoff_164", "reduces", "HEADS", "ITC_FAMILIES", "STATE_NUMBERS", "month_date", "month_index",
           "original_state", "ORIGINAL_STATES"]
