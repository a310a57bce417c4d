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
    characters and the month what comes before them (less a ``-``)."""
    return IF(f'ISNUMBER(FIND("|"&MID({t},5,1)&"|","|-|/|"))',
              f"VALUE(LEFT({t},4))*12+VALUE(MID({t},6,2))-1",
              f'VALUE(RIGHT({t},4))*12+VALUE(LEFT({t},LEN({t})-4-ISNUMBER(FIND("-",{t}))))-1')


def period_index(r: Ref) -> str:
    """GSTR-2B period as year*12 + month - 1 (engine ``period_2b``, ims-rules.md 4.1).

    The ``2B Period`` cell (YYYY-MM, YYYY/MM, MM-YYYY, MMYYYY or a date), else
    the supplier's filing date (filed up to ``Param_gstr1_cutoff_day`` of M+1:
    the 2B of M), else the return's last month ``WindowEnd``. A GSTR-1A of
    ``Supplier Return Period`` M: the 2B of M+1, or the filing day's if later;
    without the return period, the month it was filed in (``gstr1a_2b_period``).
    """
    p = r("2B Period")
    t = f'TRIM({p}&"")'
    fd = r("Supplier Filing Date")
    rt = f'TRIM({r("Supplier Return Period")}&"")'
    # filed up to the cut-off day of a month: that month's 2B is the previous one, i.e. the month of the
    # filing date less the cut-off day (the day is below 28, so it never steps back two months)
    from_filing = f"YEAR({fd}-Param_gstr1_cutoff_day)*12+MONTH({fd}-Param_gstr1_cutoff_day)-1"
    # the return period read once: an error when blank or unreadable, which IFERROR turns into the fallback
    after = f'IF(LEN({rt})<6,NA(),{_period_text(rt)})+Param_gstr1a_2b_period_months_after'
    # one MAX for both forms, the filing date's 2B written once: a GSTR-1A takes the later of its return
    # period's and the filing day's (an unreadable return period: the month it was filed in, else the
    # window's last); any other form the filing day's (WindowEnd without a filing date, never below -1)
    either = IFERROR(f"MAX({IF(eq(r('Source Form'), 'GSTR-1A'), after, IF(f'ISNUMBER({fd})', '-1', 'WindowEnd'))},"
                     f"{IF(f'ISNUMBER({fd})', from_filing, '-1')})",
                     IF(f'ISNUMBER({fd})', f'YEAR({fd})*12+MONTH({fd})-1', 'WindowEnd'))
    body = IF(f"ISNUMBER({p})", f"YEAR({p})*12+MONTH({p})-1", IF(f'{t}<>""', _period_text(t), either))
    return blank_guard(r, body)


def period(r: Ref) -> str:
    """The GSTR-2B period as YYYY-MM."""
    return blank_guard(r, period_iso(r("Period Index")))


def era(r: Ref) -> str:
    """The rule regime of the period: the last ``RuleEras`` start on or before it (else the first)."""
    return blank_guard(r, f'IFERROR(INDEX(RuleEras,MATCH({r("Period")},RuleEras,1)),INDEX(RuleEras,1))')


def _total(r: Ref, prefix: str = "") -> str:
    return "+".join(num(r(prefix + h)) for h in HEADS)


def direction(r: Ref) -> str:
    """Amendment direction: "down" when the amended total tax is at most the original's
    ("unchanged" counts as down), for a Bill of Entry only a real decrease; else "up"."""
    t, o = _total(r), _total(r, "Original ")
    # the totals written once: down when total - original is below -0.005 (BoE) or 0.005 (the engine's
    # <= o + 0.005: the two differ only on a difference of exactly half a paisa)
    down = f'{t}-({o})<IF({eq(r("Family"), "BOE")},-0.005,0.005)'
    # no Section guard: Amendment is guarded, so an empty row gives "" already
    return "=" + IF(ne(r("Amendment"), "Y"), '""', IF(down, q("down"), q("up")))


def consumed(r: Ref) -> str:
    """Y when the original was consumed: accepted or no action and its GSTR-3B filed, or pre-IMS."""
    oa = r("Original Action")
    body = IF(OR(AND(one_of(oa, ("Accepted", "No Action", "")), eq(r("Original 3B Filed"), "Y")),
                 eq(oa, "Pre-IMS")), q("Y"), q("N"))
    return blank_guard(r, body)


def record_rule(r: Ref) -> str:
    """The record kind D1-D17, or D18 for a Bill of Entry before the Oct-2025 changes. A BoE amended to
    nil (its GSTIN amended away) is D17, a value decrease ``Param_boe_value_decrease`` (D16)."""
    fam, amend, dirn, oa, cons = r("Family"), r("Amendment"), r("Direction"), r("Original Action"), r("Consumed")
    not_amend = ne(amend, "Y")
    nil = AND(f"{_total(r)}<=0.005", f'{_total(r, "Original ")}>0.005')
    boe = IF(f'{r("Period Index")}<Param_oct25_changes_period_index', q("D18"),
             IF(not_amend, q("D15"), IF(nil, q("D17"), IF(eq(dirn, "down"), "Param_boe_value_decrease", q("D16")))))
    cn = IF(not_amend, q("D7"), IF(eq(dirn, "up"), q("D8"),
                                   IF(eq(oa, "Rejected"), q("D9"), IF(eq(oa, "Pending"), q("D11"), q("D10")))))
    eco = IF(not_amend, q("D12"), IF(AND(eq(dirn, "down"), eq(cons, "Y")), q("D14"), q("D13")))
    inv_dn = IF(not_amend, IF(eq(fam, "DN"), q("D2"), q("D1")),
                IF(eq(dirn, "up"), q("D3"), IF(eq(oa, "Rejected"), q("D4"), IF(eq(cons, "Y"), q("D6"), q("D5")))))
    body = IF(eq(fam, "BOE"), boe, IF(eq(fam, "CN"), cn, IF(eq(fam, "ECO"), eco,
                                                              IF(one_of(fam, ("INV", "DN")), inv_dn, q("D1")))))
    return blank_guard(r, body)


def state_number(ref: str, invalid: str = "-1") -> str:
    """The state code at the start of a GSTIN or place of supply as a number ("27-Maharashtra" ->
    27, "7" -> 7), -1 when its first one or two characters are not digits (``classify._state_number``;
    ``invalid``: another negative number for that, so two unreadable codes never compare equal).
    ``StateNumbers`` (Rules sheet) is ``|0|1|...|9|00|01|...|99|``: the first two characters are
    digits exactly when ``|`` + them + ``|`` is in it (FIND: no wildcards, "" is not found)."""
    t = f'LEFT({ref}&"",2)'
    return IF(f'ISNUMBER(FIND("|"&{t}&"|",StateNumbers))', f"VALUE({t})", invalid)


STATE_NUMBERS = "|" + "|".join([str(d) for d in range(10)] + [f"{d:02d}" for d in range(100)]) + "|"
"""The text of the ``StateNumbers`` name: every one- and two-digit string, ``|``-separated."""


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
    not_boe_isd = f"NOT({code_in(fam, ('BOE', 'ISD'))})"
    if inward:
        # pos >= 0 and pos = supplier state: the supplier's state read with -2 for unreadable (never equal
        # to the place of supply's -1), so the place of supply is read once and compared with it
        sup_state = state_number(r(party), "-2")
        pos_inelig = AND(f"{pos}={sup_state}", f"{own}<>{sup_state}", not_boe_isd)
    else:
        pos_inelig = AND(f"{pos}>=0", f"{pos}={own}", f"{state_number(r(party))}<>{pos}", not_boe_isd)
    fd, cut, pi = r("Supplier Filing Date"), r("16(4) Cut-off"), r("Period Index")
    earliest = month_date(pi, "Param_gstr1_cutoff_day+1")
    judged = IF(f"ISNUMBER({fd})", f"N({fd})", IF('Param_cutoff_164_filing_unknown="earliest"', earliest, "-1"))
    late = AND(code_in(fam, ITC_FAMILIES), f"NOT({reduces(r)})", f"ISNUMBER({cut})", f"{judged}>N({cut})")
    nii = r("Not In IMS")
    derived = IF(eq(r("Reverse Charge"), "Y"), q("D19"),
                 IF(eq(r("Source Form"), "GSTR-5"), q("D21"),
                    IF(OR(eq(r("Source Form"), "GSTR-6"), eq(fam, "ISD")), q("D20"),
                       IF(pos_inelig, q("D22"), IF(late, q("D23"), '""')))))
    body = IF(f'{nii}&""<>""', lookup("NotInIMS", "rule", "value", nii), derived)
    return blank_guard(r, body)


def reduces(r: Ref) -> str:
    """A downward amendment that s.16(4) does not bar (``Param_cutoff_164_reductions`` = in_ims): TRUE/FALSE."""
    return AND(eq(r("Direction"), "down"), 'Param_cutoff_164_reductions="in_ims"')


def cutoff_164(r: Ref) -> str:
    """Section 16(4) cut-off of an invoice / debit note / ECO document (engine ``cutoff_164``).

    30 November (``Param_cutoff_164_*``) after the end of the FY of the document
    date (an amendment: the original's date when given), or the annual return's
    filing date when it is earlier and for that FY. Credit notes, BoE, ISD: "".
    """
    def cut(d: str) -> str:
        # the year the FY of d ends: 1 April + 275 days is 1 January, 31 March + 275 days 31 December
        fy = f"YEAR({d}+275)"
        # the earlier of 30 November and the annual return's filing date when it is of that FY
        # (9999-12-31, serial 2958465, when it is not)
        return (f"MIN(DATE({fy},Param_cutoff_164_month,Param_cutoff_164_day),"
                f"{IF(AND('ISNUMBER(AnnualReturnFiledOn)', f'AnnualReturnFYEnd={fy}'), 'AnnualReturnFiledOn', '2958465')})")
    odd, dd = r("Original Document Date"), r("Document Date")
    body = IF(f"NOT({code_in(r('Family'), ITC_FAMILIES)})", '""',
              IF(AND(eq(r("Amendment"), "Y"), f"ISNUMBER({odd})"), cut(odd),
                 IF(f"ISNUMBER({dd})", cut(dd), '""')))
    return "=" + body  # no Section guard: Family is guarded, so an empty row gives "" already


__all__ = ["q", "IF", "AND", "OR", "eq", "ne", "one_of", "code_in", "num", "lookup", "rule_attr", "version_attr",
           "code_rank", "blank_guard", "dmy", "period_label", "period_iso", "QUARTERLY", "family", "amendment",
           "period_index", "period", "era", "direction", "consumed", "record_rule", "state_number", "outside_rule",
           "cutoff_164", "reduces", "HEADS", "ITC_FAMILIES", "STATE_NUMBERS", "month_date"]
