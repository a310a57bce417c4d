"""EXTENSION POINT: the computed columns of the ``Inward`` table, equal to the engine.

``COMPUTED`` is the ordered list of :class:`~ims_excel.template.tables.Computed`
columns placed after the canonical ``records.INWARD_COLUMNS``: first what a user
reads (Status ... IMS State), then helper columns (grouped and collapsed at the
right) that spell out the engine step by step. The reconciliation's Match Status,
Match Note and Suggested Action (``records.INWARD_RECONCILE``) are not formulas:
they depend on the purchase register, which the workbook does not hold, so
``ims-excel reconcile`` writes them as values, just before these columns (styled
like them; formula columns stay last in a row, as ``process`` needs). Each formula mirrors a line of
``ims_excel.engine`` (the specification) and is proven equal to it by
``tests/workbook/test_equality.py`` (LibreOffice recalculation of every rulebook
case and of thousands of synthetic records).

How a row is worked out (helper columns, in the engine's order):

1. classification (``engine.classify``, formulas in :mod:`.rowlogic`): Family,
   Amendment, Period Index / Period / Era (the GSTR-2B period and its rule
   regime), Direction, Consumed, Record Rule (D1-D18), Outside Rule (D19-D24),
   Frozen, and the visible Rule (D25 frozen, D26 time-barred, D28 pre-IMS, D29
   no IMS access);
2. the rule's row of the ``Rules`` table (``Rule Row`` = MATCH of rule@regime):
   Kind, Action Cell / Pending Cell (Y, N, W = one-period window, F = portal flag),
   Rule Code (the version's reason code), Specified, May Declare;
3. reason codes (``engine.validation``): each code is a condition; ``Error Rank``,
   ``Warning Rank``, ``Info Rank`` hold the first (lowest Codes-table row) code of
   each severity that applies, 999 if none (``Declaring``, ``GSTIN OK`` / ``GSTIN
   Expected`` are steps of those conditions). Status is the worst severity, ``Code
   Row`` the Codes row of its first code, Reason Code that code, Message the Codes
   text with its blanks filled in (``engine.explain.message``; how, per code, is
   Codes-table data: :mod:`.messages`);
4. the action the portal keeps (``Applied``: a refused action is not applied; an
   expired pending is deemed accepted) and Effective Action;
5. amounts (``engine.amounts``): Signed (credit notes negative, an amendment of a
   consumed original as the delta), Amount (after an ITC-reduction declaration),
   2B Bucket, 3B Table, ITC per head.

Every formula is O(1): same-row references, Config names, ``Param_*`` and
lookups into the small ``Rules``/``Codes``/``Sections``/``NotInIMS`` tables,
never whole ``Inward`` columns. The summaries (``summaries.py``) read ``Period``,
``IMS State``, ``Status``, ``2B Bucket``, ``3B Table``, ``Amount *`` and ``ITC *``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ims_excel.engine.validation import REMARK_SPACE
from ims_excel.records import ACTIONS
from ims_excel.rules import rulebook
from ims_excel.template import rowlogic as L
from ims_excel.template.cached import inward_values
from ims_excel.template.formulas import gstin_expected, gstin_valid, this_row
from ims_excel.template.messages import FILLS
from ims_excel.template.rowlogic import AND, IF, OR, eq, ne, num, q
from ims_excel.template.tables import Computed

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE = "Inward"
NONE_RANK = 999
"""Rank of "no code of this severity" (the Codes table has far fewer rows)."""


def r(column: str) -> str:
    """Same-row reference into the Inward table."""
    return this_row(TABLE, column)


def _g(body: str, empty: str = '""') -> str:
    return L.blank_guard(r, body, empty)


def _u(body: str) -> str:
    """A column with no ``Section`` blank guard: every cell it reads is a guarded helper column (or read
    only behind one), so on an empty row it gives "" / 0 already (the guard would be ~40 characters of
    text per cell, read on every row)."""
    return "=" + body


# ------------------------------------------------------------------ reusable conditions

KIND_IMS = eq(r("Kind"), "ims")
ACT_P = eq(r("Act"), "P")
FLAG = r("Pending Blocked")
DECL_BLOCKED = eq(r("Declaration Blocked"), "Y")
RED = r("ITC Reduction")
MAY = eq(r("May Declare"), "Y")
IN_WINDOW = AND(f'{r("Period Index")}>=WindowStart', f'{r("Period Index")}<=WindowEnd')
"""The GSTR-2B period is of this return's window (``classify`` current); the ``In Window`` helper."""
CURRENT = eq(r("In Window"), "Y")
CUT = r("16(4) Cut-off")
DEADLINE = r("Pending Deadline")
DECLARED = f'MAX({",".join(r("Declared " + h) for h in L.HEADS)})>0'
"""An amount is declared on some head (MAX skips blank and text cells, which the engine reads as 0)."""
HAS_DECL = OR(ne(RED, ""), DECLARED)
DECLARING = eq(r("Declaring"), "Y")
"""A declaration may go with this Accept and the portal has not locked it (``may_declare & ~blocked``)."""
GONE = eq(r("Gone From IMS"), "Y")
FINGERPRINT = "&\"|\"&".join([f'{r("Action")}&""', f'{RED}&""',
                               *(f'TEXT({num(r("Declared " + h))},"0.00")' for h in L.HEADS), f'{r("Remarks")}&""'])
"""``validation.decision_fingerprint``: the row's decision as text, compared with Portal Error For."""


PENDING_STATE = OR(eq(r("Prev"), "P"), AND(eq(r("Act"), "P"), eq(r("Previous Action"), "")))
"""Pending in IMS: previous action Pending, or marked Pending with none recorded (``classify`` pend_state);
the ``Pending State`` helper."""
PEND_STATE = eq(r("Pending State"), "Y")

_LIVE = AND(OR(CURRENT, AND(f'{r("Period Index")}<WindowStart', PEND_STATE)),
            f'NOT({AND(eq("GSTR3BFiled", "Y"), PEND_STATE)})')
"""``classify`` live: of this return's window, or carried pending; never a pending record once the
return's GSTR-3B is filed (G4, S3: what is done with it now feeds the next GSTR-2B)."""
_FILED = AND(ne(r("Supplier Filing Status"), "Not Filed"), f"NOT({GONE})")
"""Filed by the supplier and still in IMS (a record Gone From IMS is in no GSTR-2B)."""


LOCAL_PENDING_OK = OR(eq(r("Pending Cell"), "Y"), eq(r("Pending Cell"), "F"),
                      AND(eq(r("Pending Cell"), "W"), ne(r("Window Over"), "Y")))
"""The local rule allows Pending: Y, F (the portal flag decides), or W within the window."""


def _reduction(h: str) -> str:
    """What a Full declaration reduces (positive) on a specified record (``amounts.full_reduction``)."""
    return IF(eq(r("Specified"), "Y"), f'MAX(-{r("Signed " + h)},0)', "0")


# ------------------------------------------------------------------ the remark as sent (validation.remark_text)

def _space_literal(c: str) -> str:
    """A whitespace character in a formula: CHAR(n) for ASCII controls (same on every code page; XML would
    turn a literal CR into LF), else the character itself as a string literal (CHAR(160) depends on the
    code page, UNICHAR is not in Excel 2010)."""
    return f"CHAR({ord(c)})" if ord(c) < 32 else q(c)


def _flat() -> str:
    text = f'{r("Remarks")}&""'
    for c in REMARK_SPACE.replace(" ", ""):
        text = f'SUBSTITUTE({text},{_space_literal(c)}," ")'
    return _g(text)


REMARKS_FLAT = _flat()
"""The remark with every :data:`~ims_excel.engine.validation.REMARK_SPACE` character as a space, same length
(the ``Remarks Flat`` helper): TRIM can then find its first and last characters that are not whitespace."""

_FLAT = r("Remarks Flat")
_TRIMMED = f"TRIM({_FLAT})"
_LAST = (f'FIND(CHAR(9),SUBSTITUTE({_FLAT},RIGHT({_TRIMMED},1),CHAR(9),'
         f'LEN({_FLAT})-LEN(SUBSTITUTE({_FLAT},RIGHT({_TRIMMED},1),""))))')
REMARKS_LENGTH = _g(IF(f'{_TRIMMED}=""', "0", f"{_LAST}-FIND(LEFT({_TRIMMED},1),{_FLAT})+1"))
"""``len(validation.remark_text(remarks))``: last minus first character that is not whitespace, plus one
(0 for none; TRIM alone would also collapse inner spaces). The last is the final occurrence of the trimmed
text's last character: its count-th occurrence, marked with a tab, which Remarks Flat never holds."""


# ------------------------------------------------------------------ reason-code conditions (validation.py)

OFFLINE_REMARKS = rulebook().param("remarks_with_action", "offline")
"""The actions the default (offline) upload carries a remark with: parameters.yaml ``remarks_with_action``."""
_DROPPED = [a for a, word in ACTIONS.items() if a != "N" and word not in OFFLINE_REMARKS]
REMARK_DROPPED = OR(*(eq(r("Applied"), a) for a in _DROPPED)) if _DROPPED else "FALSE"
"""The action the portal keeps is one the offline upload carries no remark with (No Action sends none)."""

PENDING_IN_IMS = AND(KIND_IMS, ACT_P)
"""An IMS record marked Pending."""

CLAIMS_164 = AND(KIND_IMS, eq(r("2B Bucket"), "available"), f"NOT({L.reduces(r)})", f"ISNUMBER({CUT})")
"""ITC-increasing and accepted or deemed into this GSTR-2B, with a s.16(4) cut-off (``validation`` claims)."""
RETURN_OPENS = "DATE(INT((WindowEnd+1)/12),MOD(WindowEnd+1,12)+1,1)"
"""The first day this return's GSTR-3B can be filed: the day after its period ends (``deadlines.gstr3b_opens``)."""

GROUPS: dict[str, str] = {"pending": PENDING_IN_IMS, "declared": HAS_DECL, "declaring": DECLARING}
"""Conditions several codes share: a rank formula tests each once (``IF(group, first code of the group
that applies, 999)``), and the MIN of the groups is the first code overall."""

GROUPED: dict[str, tuple[str | None, str]] = {
    "PEND_WINDOW_OVER": ("pending", AND(eq(r("Window Over"), "Y"), eq(FLAG, ""))),
    "PEND_BLOCKED_PORTAL": ("pending", eq(FLAG, "Y")),
    "PEND_FLAG_DISAGREES": (None, AND(KIND_IMS, ne(FLAG, ""), f'{LOCAL_PENDING_OK}<>({FLAG}="N")')),
    "PEND_DEADLINE_NEAR": ("pending", AND(eq(r("Pending Cell"), "W"), ne(r("Window Over"), "Y"),
                                          f"N({DEADLINE})-AsOfDate<=Param_warning_days")),
    "CUTOFF_164_NEAR": ("pending", AND(f"ISNUMBER({CUT})", f"N({CUT})>=AsOfDate",
                                       f"N({CUT})-AsOfDate<=Param_warning_days")),
    "DECL_NOT_APPLICABLE": ("declared", AND(KIND_IMS, ne(r("May Declare"), "Y"))),
    "DECL_BLOCKED": ("declared", AND(MAY, DECL_BLOCKED)),
    # declared with no answer: amounts typed (with ITC Reduction blank, "declared" means amounts)
    "DECL_AMOUNTS_NO_ANSWER": ("declared", AND(DECLARING, eq(RED, ""))),
    # amounts typed with an answer that takes none (Full: the whole ITC; No: none; G9)
    "DECL_AMOUNTS_NOT_PARTIAL": ("declaring", AND(OR(eq(RED, "Full"), eq(RED, "No")), DECLARED)),
    "DECL_REQUIRED": ("declaring", AND(eq(RED, ""), f'{r("Act")}<>{r("Prev")}',
                                       "WindowEnd>=Param_declaration_required_from_index")),
    "DECL_EXCEEDS": (None, ne(r("Declared Over"), "")),
    "DECL_CGST_NE_SGST": ("declaring", AND(eq(RED, "Partial"),
                                           f'ABS({num(r("Declared CGST"))}-{num(r("Declared SGST"))})>0.005')),
    # accepted or deemed into this GSTR-2B = an IMS record in the available bucket (``amounts.place``); a
    # cut-off before the day this return's GSTR-3B can first be filed (``deadlines.gstr3b_opens``) loses the
    # ITC, one before its due date unless the 3B is filed early (ims-rules.md 7)
    "CUTOFF_164_PASSED": (None, AND(CLAIMS_164, f"N({CUT})<{RETURN_OPENS}")),
    "CUTOFF_164_BEFORE_DUE": (None, AND(CLAIMS_164, f"N({CUT})>={RETURN_OPENS}", f"N({CUT})<ReturnDueDate")),
    "GSTIN_CHECK_DIGIT": (None, AND(eq(r("GSTIN OK"), "N"), ne(r("GSTIN Override"), "Y"))),
    "GSTIN_OVERRIDDEN": (None, AND(eq(r("GSTIN OK"), "N"), eq(r("GSTIN Override"), "Y"))),
    "REMARKS_TOO_LONG": (None, f'{r("Remarks Length")}>Param_remarks_max_length'),
    # a remark with an applied action the offline upload carries none with (remarks_with_action, G10)
    "REMARK_NOT_UPLOADED": (None, AND(KIND_IMS, f'{r("Remarks Length")}>0', REMARK_DROPPED)),
    "PORTAL_ERROR": (None, AND(ne(r("Portal Error"), ""), f'({FINGERPRINT})={r("Portal Error For")}&""')),
    "SUPPLIER_CHANGED": (None, AND(ne(r("Supplier Change"), ""), eq(r("Action"), ""))),
    "GONE_FROM_IMS": (None, GONE),
    "NOT_FILED": (None, eq(r("Supplier Filing Status"), "Not Filed")),
}
"""When each reason code that is not a decision-table version code applies (``engine.validation``):
(group of :data:`GROUPS` or None, the rest of the condition). Version codes (not in IMS, frozen,
time-barred, refusals) come from ``Rule Code``."""

CONDITIONS: dict[str, str] = {c: AND(GROUPS[g], rest) if g else rest for c, (g, rest) in GROUPED.items()}
"""Each code's whole condition."""


def _codes_by_severity() -> dict[str, list[str]]:
    """The CONDITIONS codes grouped by their Codes-table severity, in precedence order."""

    out: dict[str, list[str]] = {"error": [], "warning": [], "info": []}
    for code, rc in rulebook().codes.items():
        if code in CONDITIONS:
            out[rc.severity].append(code)
    return out


def _rank(severity: str) -> str:
    """The Codes row of the first code of ``severity`` that applies, 999 if none: the MIN of the rule
    version's code (looked up) and, per group of :data:`GROUPED` (and for the codes in none), the first
    condition that holds in Codes order (nested IFs stop there). A code's row is written as a number:
    the Codes table is written from the same ``rulebook().codes``, in this order (``rules_sheet``)."""
    row = {code: i for i, code in enumerate(rulebook().codes, start=1)}
    codes = _codes_by_severity()[severity]
    parts = [IF(eq(r("Rule Code Severity"), severity), L.code_rank(r("Rule Code")), str(NONE_RANK))]
    for group in (None, *GROUPS):
        first = str(NONE_RANK)
        members = [c for c in codes if GROUPED[c][0] == group]
        for c in reversed(members):
            first = IF(GROUPED[c][1], str(row[c]), first)
        if members:
            parts.append(first if group is None else IF(GROUPS[group], first, str(NONE_RANK)))
    return _g(f"MIN({','.join(parts)})")


# ------------------------------------------------------------------ the rule and its row

_STATE_KIND = L.code_in(r("Kind"), ("not_in_ims", "frozen", "time_barred"))
_ATTEMPT = IF(eq(r("Kind"), "not_in_ims"), ne(r("Act"), "N"), f'{r("Act")}<>{r("Prev")}')
_REFUSAL = AND(KIND_IMS, eq(r("Action Cell"), "N"), f"NOT({AND(ACT_P, ne(FLAG, ''))})")

_FROZEN = IF(AND(ne(r("Record Rule"), "D18"), eq(r("Outside Rule"), ""), f"NOT({PEND_STATE})",
                 OR(AND(CURRENT, eq("GSTR3BFiled", "Y")), f'{r("Period Index")}<WindowStart')),
             q("Y"), q("N"))

_BARRED = AND(ne(r("Record Rule"), "D18"), eq(r("Outside Rule"), ""), L.code_in(r("Family"), L.ITC_FAMILIES),
              f"NOT({L.reduces(r)})",
              ne(L.lookup("Rules", "specified", "id", r("Record Rule"), q("N")), "Y"),
              OR(eq(r("Previous Action"), "Pending"), eq(r("Action"), "Pending")),
              f"ISNUMBER({CUT})", f"AsOfDate>N({CUT})")

_RULE = IF(eq("HasIMS", "N"), q("D29"),
           IF(f'{r("Period Index")}<Param_ims_start_period_index', q("D28"),
              IF(eq(r("Frozen"), "Y"), q("D25"),
                 IF(_BARRED, q("D26"),
                    IF(ne(r("Outside Rule"), ""), r("Outside Rule"), r("Record Rule"))))))

_ACT = IF(eq(r("Action"), "Accept"), q("A"), IF(eq(r("Action"), "Reject"), q("R"),
                                                  IF(eq(r("Action"), "Pending"), q("P"), q("N"))))
_PA = r("Previous Action")
_PREV = IF(eq(_PA, "Accepted"), q("A"), IF(eq(_PA, "Rejected"), q("R"), IF(eq(_PA, "Pending"), q("P"),
                                                                          IF(eq(_PA, "Pre-IMS"), q("X"), q("N")))))
_ACTION_CELL = "IFERROR(CHOOSE(FIND({act},\"ARPN\"),{cells})&\"\",\"\")".format(
    act=r("Act"),
    cells=",".join(f'INDEX(Rules[{c}],{r("Rule Row")})' for c in ("accept", "reject", "pending", "no_action")))
"""The Rules cell of the chosen action (Act A / R / P / N: the 1st to 4th of accept ... no_action)."""

_DUE_MONTH = f'({r("Period Index")}+IF({L.QUARTERLY},6-MOD({r("Period Index")},3),2))'
_WINDOW_DEADLINE = L.month_date(_DUE_MONTH, "DueDay")
"""G8: GSTR-3B due date of (2B period + one tax period) (``deadlines.pending_deadline``)."""

_RULE_CODE_SEVERITY = IF(eq(r("Rule Code"), ""), '""',
                         IF(_STATE_KIND, IF(_ATTEMPT, q("error"),
                                            L.lookup("Codes", "quiet", "code", r("Rule Code"))),
                            IF(_REFUSAL, q("error"), '""')))

_KEPT = IF(f'{r("Error Rank")}<{NONE_RANK}', f'SUBSTITUTE({r("Prev")},"X","N")', r("Act"))
_NOT_KEPT = AND(KIND_IMS, OR(AND(eq(r("Window Over"), "Y"), ne(FLAG, "N")), eq(FLAG, "Y")))
_APPLIED = f'SUBSTITUTE({_KEPT},"P",{IF(_NOT_KEPT, q("N"), q("P"))})'
"""The kept action, a Pending the portal does not keep (window over, or blocked) made No action."""

_EFFECTIVE = IF(OR(eq(r("Kind"), "not_in_ims"), eq(r("Kind"), "time_barred")), q("Not in IMS"),
                IF(eq(r("Applied"), "A"), q("Accepted"), IF(eq(r("Applied"), "R"), q("Rejected"),
                                                              IF(eq(r("Applied"), "P"), q("Pending"),
                                                                 q("Deemed Accepted")))))

# ------------------------------------------------------------------ amounts and placement (amounts.py)

_IN_IMS = OR(KIND_IMS, AND(eq(r("Kind"), "frozen"), CURRENT))
_ACCEPTED = AND(ne(r("Kind"), "not_in_ims"), OR(eq(r("Applied"), "A"), eq(r("Applied"), "N")),
                ne(r("Effective Action"), "Not in IMS"))
_RULE_BUCKET = L.rule_attr(r, "bucket")
_BUCKET = IF(f"NOT({_FILED})", '""',
             IF(_IN_IMS,
                IF(eq(r("Applied"), "P"), q("pending"),
                   IF(_LIVE, IF(_ACCEPTED, q("available"), IF(eq(r("Applied"), "R"), q("rejected"), '""')), '""')),
                IF(AND(eq(r("Kind"), "not_in_ims"), CURRENT),
                   IF(f'{_RULE_BUCKET}="available"',
                      IF(eq(r("ITC Available"), "N"), q("not_available"), q("available")),
                      f'SUBSTITUTE({_RULE_BUCKET},"none","")'), '""')))
"""``amounts.place``: a filed IMS record (or one frozen by this return's own filing) is pending, or,
when of this return's window or carried pending, available (accepted / deemed) or rejected; a filed
record outside IMS of this window goes to its rule's bucket (ITC available unless GSTR-2B says not)."""
_TABLE = IF(eq(r("2B Bucket"), "not_available"), q("4D2"),
            IF(eq(r("2B Bucket"), "reversal"), q("4B2"),
               IF(eq(r("2B Bucket"), "available"),
                  IF(eq(r("Kind"), "not_in_ims"), L.rule_attr(r, "gstr3b_table"),
                     IF(eq(r("Family"), "BOE"), q("4A1"), q("4A5"))), '""')))


def _signed(h: str) -> str:
    base = f'{num(r(h))}-IF(AND({eq(r("Amendment"), "Y")},{eq(r("Consumed"), "Y")}),{num(r("Original " + h))},0)'
    return _g(f'ROUND(IF({eq(r("Family"), "CN")},-1,1)*({base}),2)', "0")


_DECLARATION_APPLIES = IF(AND(DECLARING, f'{r("Error Rank")}>={NONE_RANK}', OR(eq(RED, "Partial"), eq(RED, "No")),
                             eq(r("Specified"), "Y")), q("Y"), q("N"))
"""G9, ``amounts.apply_declaration``: a Partial / No declaration goes with this accepted specified record
and no error refuses it (``validation`` decl_applies, reduction choice Partial or No)."""


def _amount(h: str) -> str:
    applies = AND(eq(r("Declaration Applies"), "Y"), f'{r("Signed " + h)}<0')
    return _u(IF(applies, IF(eq(RED, "Partial"), f'ROUND(-{num(r("Declared " + h))},2)', "0"), r("Signed " + h)))


def _declared_over() -> str:
    partial = AND(DECLARING, eq(RED, "Partial"))
    body = '""'
    for h in reversed(L.HEADS):
        body = IF(f'{num(r("Declared " + h))}>{_reduction(h)}+0.005', q(h), body)
    return _u(IF(partial, body, '""'))


# ------------------------------------------------------------------ message (engine.explain.message)

def _message() -> str:
    """The Codes message of the Reason Code with its blanks filled (``explain.message``): the
    code's ``fill`` (Codes table, :mod:`.messages`) chooses the two values, ``blank_x`` and
    ``blank_y`` name the blanks they replace."""
    row = r("Code Row")
    head = r("Declared Over")

    def at(column: str) -> str:
        return f"INDEX(Codes[{column}],{row})"

    def pick(value) -> str:  # the figure of head Declared Over: its place in "IGSTCGSTSGSTCess" (no array constant)
        return f'CHOOSE((FIND({head},{q("".join(L.HEADS))})+3)/4,{",".join(value(h) for h in L.HEADS)})'

    g = r("Supplier GSTIN")
    signed = pick(lambda h: r("Signed " + h))
    full = IF(eq(r("Specified"), "Y"), f"MAX(-{signed},0)", "0")  # _reduction of head Declared Over
    nxt = f'({r("Period Index")}+IF({L.QUARTERLY},5-MOD({r("Period Index")},3),1))'
    def dmy(d: str) -> str:  # DD-MM-YYYY; a code that names this date is raised only when it is one
        return f'TEXT(DAY({d}),"00")&"-"&TEXT(MONTH({d}),"00")&"-"&YEAR({d})'
    x = {"none": '""', "period": L.period_label(r("Period Index")), "date": dmy(CUT), "deadline": dmy(DEADLINE),
         "declared": f'TEXT({pick(lambda h: num(r("Declared " + h)))},"0.00")',
         "gstin": f"{g}&\"\"", "pending_flag": IF(eq(FLAG, "Y"), q("Y"), q("N")),
         "remarks_length": r("Remarks Length"), "portal_error": f'{r("Portal Error")}&""',
         "supplier_change": f'{r("Supplier Change")}&""', "remark_actions": q(" or ".join(OFFLINE_REMARKS))}
    y = {"deadline": f'IF({L.QUARTERLY},"the quarter ending ","")&{L.period_label(nxt)}',
         "declared": f'TEXT({full},"0.00")',
         "gstin": r("GSTIN Expected"),
         "pending_flag": IF(eq(FLAG, "N"), q("Pending not allowed"), q("Pending allowed"))}

    def choose(values: dict[str, str]) -> str:  # the value of the row's fill ("" for the fills not listed)
        return f"CHOOSE({at('fill')},{','.join(values.get(f.name, q('')) for f in FILLS)})"
    text = f'SUBSTITUTE({at("message")},"{{head}}",{head})'
    text = f"SUBSTITUTE(SUBSTITUTE({text},{at('blank_x')},{choose(x)}),{at('blank_y')},{choose(y)})"
    return _u(IF(f'{row}=""', '""', text))


# ------------------------------------------------------------------ the columns

def _c(header: str, formula: str, kind: str, doc: str, width: float | None = None, helper: bool = False) -> Computed:
    return Computed(header, formula, kind, doc, width if width is not None else (7 if helper else None), helper)


_VISIBLE: tuple[Computed, ...] = (
    _c("Status", _g(IF(f'{r("Error Rank")}<{NONE_RANK}', q("error"),
                       IF(f'{r("Warning Rank")}<{NONE_RANK}', q("warning"),
                          IF(f'{r("Info Rank")}<{NONE_RANK}', q("info"), q("ok"))))),
       "text", "ok / info / warning / error: the worst severity of the record's reason codes.", 9),
    _c("Reason Code", _u(IF(f'{r("Code Row")}=""', '""', f'INDEX(Codes[code],{r("Code Row")})')),
       "text", "Primary reason code: the first code (Codes table order) of the worst severity.", 30),
    _c("Message", _message(), "text", "What to do about it (the Codes message, dates filled in).", 100),
    _c("Effective Action", _g(_EFFECTIVE), "text",
       "What the portal keeps: Accepted / Rejected / Pending / Deemed Accepted / Not in IMS. "
       "A refused action is not applied.", 16),
    _c("In 2B", _g(IF(OR(eq(r("2B Bucket"), "available"), eq(r("2B Bucket"), "not_available"),
                         eq(r("2B Bucket"), "reversal")), q("Y"), q("N"))),
       "text", "Y when the record's ITC is in this return's GSTR-2B (and so in a GSTR-3B Table 4 row).", 6),
    _c("2B Bucket", _u(_BUCKET), "text",
       "GSTR-2B bucket: available / not_available / reversal / rejected / pending (carried in IMS).", 11),
    _c("3B Table", _u(_TABLE), "text", "GSTR-3B Table 4 row: 4A1 / 4A3 / 4A4 / 4A5 / 4B2 / 4D2.", 8),
    *(_c(f"ITC {h}", _u(IF(eq(r("In 2B"), "Y"), r("Amount " + h), "0")), "amount",
         f"Signed {h} this record puts into its GSTR-3B row.", 13) for h in L.HEADS),
    _c("Pending Deadline", _u(IF(eq(r("Pending Cell"), "W"), _WINDOW_DEADLINE,
                                 IF(AND(KIND_IMS, eq(r("Pending Cell"), "Y"), f"ISNUMBER({CUT})"), CUT, '""'))),
       "date", "Last day the record may stay Pending: the one-period window of an ITC-reducing record "
       "(G8), else the s.16(4) cut-off.", 11),
    _c("16(4) Cut-off", L.cutoff_164(r), "date",
       "Section 16(4) cut-off (30-Nov after the FY, or the annual return if earlier); invoices, "
       "debit notes and ECO documents (Bills of Entry: for warnings only, Q11).", 11),
    _c("Rule", _g(_RULE), "text", "Decision-table rule D1-D29 that governs the record (Rules table).", 7),
    _c("Period", L.period(r), "period", "GSTR-2B period of the record (YYYY-MM): 2B Period, else from the "
       "supplier's filing date, else the return's last month.", 9),
    _c("IMS State", _u(IF(OR(ne(r("Kind"), "ims"), GONE), '""', IF(eq(r("Effective Action"), "Deemed Accepted"),
                                                        q("No Action"), r("Effective Action")))),
       "text", "State on the portal's IMS dashboard (No Action / Accepted / Rejected / Pending); blank "
       "when the record is not in IMS (or gone from it).", 11),
)

_HELPERS: tuple[Computed, ...] = (
    _c("Family", L.family(r), "text", "Helper: INV / DN / CN / ECO / BOE / ISD (Sections table).", helper=True),
    _c("Amendment", L.amendment(r), "text", "Helper: Y for an amendment section.", helper=True),
    _c("Period Index", L.period_index(r), "general", "Helper: GSTR-2B period as year*12 + month - 1.",
       helper=True),
    _c("Era", L.era(r), "text", "Helper: rule regime of the period (RuleEras).", helper=True),
    _c("In Window", _g(IF(IN_WINDOW, q("Y"), q("N"))), "text",
       "Helper: Y when the GSTR-2B period is of this return's window (WindowStart ... WindowEnd).", helper=True),
    _c("Direction", L.direction(r), "text", "Helper: amendment up / down (unchanged = down).", helper=True),
    _c("Consumed", L.consumed(r), "text",
       "Helper: Y when the original was accepted or deemed with its GSTR-3B filed, or pre-IMS.", helper=True),
    _c("Record Rule", L.record_rule(r), "text", "Helper: record kind D1-D18.", helper=True),
    _c("Outside Rule", L.outside_rule(r, "Supplier GSTIN", inward=True), "text",
       "Helper: D19-D24 when GSTR-2B holds the record outside IMS.", helper=True),
    _c("Frozen", _g(_FROZEN), "text", "Helper: Y when the GSTR-3B of the record's period is filed (D25).",
       helper=True),
    _c("Rule Row", _u(f'IFERROR(MATCH({r("Rule")}&"@"&{r("Era")},Rules[key],0),"")'), "general",
       "Helper: row of rule@regime in the Rules table.", helper=True),
    _c("Kind", _u(L.rule_attr(r, "kind")), "text",
       "Helper: ims / not_in_ims / frozen / time_barred (Rules table).", helper=True),
    _c("Act", _g(_ACT), "text", "Helper: chosen action A / R / P / N.", helper=True),
    _c("Prev", _g(_PREV), "text", "Helper: previous action A / R / P / N / X (pre-IMS).", helper=True),
    _c("Pending State", _g(IF(PENDING_STATE, q("Y"), q("N"))), "text",
       "Helper: Y when the record is pending in IMS (previous action Pending, or marked Pending with none "
       "recorded).", helper=True),
    _c("Action Cell", _u(_ACTION_CELL), "text",
       "Helper: Rules cell of the chosen action: Y allowed, N refused, W one-period window, F portal flag.",
       helper=True),
    _c("Pending Cell", _u(L.version_attr(r, "pending")), "text", "Helper: Rules cell of Pending.", helper=True),
    _c("Window Over", _g(IF(AND(eq(r("Pending Cell"), "W"), f"AsOfDate>N({DEADLINE})"), q("Y"), q("N"))),
       "text", "Helper: Y when the one-period pending window has passed.", helper=True),
    _c("Rule Code", _u(L.version_attr(r, "code")), "text", "Helper: reason code of the rule version.",
       helper=True),
    _c("Rule Code Severity", _u(_RULE_CODE_SEVERITY), "text",
       "Helper: error when the rule refuses the action (or it tries to change a record outside IMS), "
       "else the code's quiet severity for a record outside IMS.", helper=True),
    _c("GSTIN OK", _g(IF(f'{r("Supplier GSTIN")}&""=""', '""',
                         IF(gstin_valid(r("Supplier GSTIN"), r("GSTIN Expected")), q("Y"), q("N")))),
       "text", "Helper: Y / N: the supplier GSTIN is valid (state code, registration pattern, check digit).", helper=True),
    _c("GSTIN Expected", _g(gstin_expected(r("Supplier GSTIN"))), "text",
       "Helper: the supplier GSTIN with the right check character (blank when it cannot be worked out).",
       helper=True),
    _c("Specified", _g(L.rule_attr(r, "specified", q("N"))), "text",
       "Helper: Y for an ITC-reducing (specified) record (G7).", helper=True),
    _c("May Declare", _g(IF(AND(KIND_IMS, f'{L.version_attr(r, "declaration", q("N"))}="Y"', eq(r("Act"), "A")),
                            q("Y"), q("N"))),
       "text", "Helper: Y when an ITC-reduction declaration may go with this Accept (G9).", helper=True),
    _c("Declaring", _g(IF(AND(MAY, f"NOT({DECL_BLOCKED})"), q("Y"), q("N"))), "text",
       "Helper: Y when a declaration may go with this Accept and the portal has not locked it.", helper=True),
    *(_c(f"Signed {h}", _signed(h), "amount",
         f"Helper: {h} before any declaration (credit notes negative, amendments of a consumed "
         "original as the delta).", helper=True) for h in L.HEADS),
    _c("Declared Over", _declared_over(), "text",
       "Helper: first head whose declared reduction exceeds the document's.", helper=True),
    _c("Remarks Flat", REMARKS_FLAT, "text",
       "Helper: the remark with every whitespace character (non-breaking and Unicode spaces, tabs, line "
       "breaks) as a space.", helper=True),
    _c("Remarks Length", REMARKS_LENGTH, "general",
       "Helper: characters of the remark as uploaded: surrounding whitespace not counted (G10).", helper=True),
    _c("Error Rank", _rank("error"), "general", "Helper: first error code (Codes row), 999 if none.", helper=True),
    _c("Warning Rank", _rank("warning"), "general", "Helper: first warning code, 999 if none.", helper=True),
    _c("Info Rank", _rank("info"), "general", "Helper: first info code, 999 if none.", helper=True),
    _c("Code Row", _u(IF(f'{r("Error Rank")}<{NONE_RANK}', r("Error Rank"),
                         IF(f'{r("Warning Rank")}<{NONE_RANK}', r("Warning Rank"),
                            IF(f'{r("Info Rank")}<{NONE_RANK}', r("Info Rank"), '""')))), "general",
       "Helper: Codes row of the Reason Code (the first rank of the worst severity), blank if none.",
       helper=True),
    _c("Applied", _g(_APPLIED), "text", "Helper: action the portal keeps, A / R / P / N.", helper=True),
    _c("Declaration Applies", _g(_DECLARATION_APPLIES), "text",
       "Helper: Y when a Partial / No ITC-reduction declaration changes this record's amounts (G9).",
       helper=True),
    *(_c(f"Amount {h}", _amount(h), "amount",
         f"Helper: {h} in the record's GSTR-2B bucket (declared reduction applied).", helper=True)
      for h in L.HEADS),
)

COMPUTED: tuple[Computed, ...] = _VISIBLE + _HELPERS
"""Computed columns of the Inward table, in order (visible, then helpers)."""


def cached_values(result) -> "pd.DataFrame":
    """The value each computed column's formula gives, per record, from the engine's result.

    ``process`` writes these as the formulas' cached values, so a workbook opened
    without recalculation (or read by a program) shows the engine's answers. One
    column per :data:`COMPUTED` header, one row per ``result.records`` row. Values
    are what LibreOffice / Excel compute: text (``""`` for blank), floats for
    numbers, and dates as Excel serial numbers (floats; ``""`` for none).
    """

    return inward_values(result, [c.header for c in COMPUTED])
