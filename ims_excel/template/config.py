"""The Config sheet: named input cells (column B) and derived cells (column C).

Formulas elsewhere use the defined names, never addresses:

======================  =====================================================
``RecipientGSTIN``      input, text
``GSTINValid``          TRUE/FALSE: ``gstin.valid`` (state code, registration pattern, Luhn mod-36 check)
``LegalName``           input, text
``ReturnPeriod``        input, text ``YYYY-MM``
``ReturnPeriodLabel``   the return period as a person reads it (``Oct-2026``)
``FilingFrequency``     Monthly / Quarterly
``StateCodeOverride``   input; blank = from the GSTIN
``StateCode``           the override, else the GSTIN's first two characters
``AsOfDateOverride``    input date; blank = today
``AsOfDate``            the override, else TODAY()
``GSTR3BFiled``         Y / N: GSTR-3B for the return period filed
``AnnualReturnFiledOn`` input date
``TaxpayerType``        Normal / SEZ / Casual / Composition / ISD / NRTP / TDS / TCS
``HasIMS``              Y when the taxpayer type has IMS (rule D29), else N
======================  =====================================================

Derived values the row formulas use (below the settings, :data:`DERIVED`):

======================  =====================================================
``ReturnPeriodIndex``   year*12 + month - 1 (``periods.parse``), "" if invalid
``WindowStart``         first GSTR-2B month of the return (the quarter's first for QRMP)
``WindowEnd``           last GSTR-2B month of the return (``Context.return_period``)
``WindowEndPeriod``     ``WindowEnd`` as YYYY-MM
``NextReturnPeriod``    the tax period after the return, YYYY-MM (a quarter: its last month)
``QRMPDueDay``          22 or 24 by ``StateCode`` (``QRMPDay22States`` on the Rules sheet)
``DueDay``              GSTR-3B due day of a tax period: ``QRMPDueDay`` or the monthly 20th
``OwnState``            the state code of ``RecipientGSTIN`` as a number (-1 if not digits)
``AnnualReturnFYEnd``   calendar year in which the FY of the annual return ends, "" if none
``ReturnDueDate``       GSTR-3B due date of the return (``deadlines.gstr3b_due``)
======================  =====================================================

Reconciliation with the purchase register (issue 11; below the derived values, :data:`RECON_FIELDS`, so
no older row moves), each defaulted from ``rules/reconcile.yaml`` (:func:`recon_fields`) and read by
:func:`ims_excel.book.reconcile.settings_from_config`:

==============================================  =======================================================
``MatchTolerance``                              rupees an amount (each head, taxable value) may differ
``MatchDateTolerance``                          days a document date may differ
``MatchPolicy_<status>``                        the suggestion options for a match status, tried left to
                                                right, separated by ``;`` (blank: no suggestion)
==============================================  =======================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ims_excel import periods
from ims_excel.engine.context import IMS_TAXPAYER_TYPES
from ims_excel.rules import NEVER_SUGGESTED, reconcile_policy, rulebook
from ims_excel.template import formulas
from ims_excel.template.rowlogic import state_number
from ims_excel.template.styles import Styles

FIRST_ROW = 4  # 1-based row of the first setting

IMS_START = rulebook().period_param("ims_start_period")
PRE_IMS_LABEL = f"before IMS ({periods.label(IMS_START)})"
"""ReturnPeriodLabel of a return period before IMS (D28; S1, S2): the engine refuses it
(``engine.context.pre_ims_period``), the Config sheet says so beside the cell."""

TAXPAYER_TYPES = ("Normal", "SEZ", "Casual", "Composition", "ISD", "NRTP", "TDS", "TCS")
"""The Config drop-down; ``engine.context`` takes them lower-cased."""


def _has_ims_formula() -> str:
    labels = [t for t in TAXPAYER_TYPES if t.casefold() in IMS_TAXPAYER_TYPES]
    tests = ",".join(f'{{input}}="{t}"' for t in labels)
    return f'=IF(OR({{input}}&""="",{tests}),"Y","N")'


_HAS_IMS = _has_ims_formula()


@dataclass(frozen=True)
class Field:
    """One setting: ``key`` for ``build_workbook(config=...)``, ``name`` the input cell's defined name."""

    key: str
    name: str
    label: str
    kind: str
    values: tuple[str, ...] = ()
    default: Any = None
    derived: str = ""
    derived_formula: str = ""  # uses {input} for the input cell's name
    derived_kind: str = "text"
    note: str = ""


FIELDS: tuple[Field, ...] = (
    Field("gstin", "RecipientGSTIN", "Recipient GSTIN", "text",
          derived="GSTINValid", derived_formula="=" + formulas.gstin_valid("{input}"), derived_kind="bool",
          note="Your GSTIN. Column C checks it: state code, registration pattern and check character."),
    Field("legal_name", "LegalName", "Legal name", "text"),
    Field("period", "ReturnPeriod", "Return period (YYYY-MM)", "period",
          derived="ReturnPeriodLabel",
          derived_formula='=IF(ReturnPeriodIndex="","not YYYY-MM",'
                          f'IF(ReturnPeriodIndex<Param_ims_start_period_index,"{PRE_IMS_LABEL}",'
                          'MID("JanFebMarAprMayJunJulAugSepOctNovDec",MOD(ReturnPeriodIndex,12)*3+1,3)'
                          '&"-"&INT(ReturnPeriodIndex/12)))',
          note="The GSTR-2B / GSTR-3B period you are working on, e.g. 2025-11. Column C shows it as a "
               f"month (Nov-2025). IMS started with {periods.label(IMS_START)}: an earlier period is refused "
               "(rule D28)."),
    Field("frequency", "FilingFrequency", "Filing frequency", "enum", ("Monthly", "Quarterly"), "Monthly"),
    Field("state_code", "StateCodeOverride", "State code", "text",
          derived="StateCode",
          derived_formula='=IF({input}&""="",LEFT(RecipientGSTIN&"",2),{input}&"")',
          note="Leave blank to take it from the GSTIN (first two digits)."),
    Field("as_of", "AsOfDateOverride", "As-of date", "date",
          derived="AsOfDate", derived_formula='=IF({input}="",TODAY(),{input})', derived_kind="date",
          note="Leave blank for today. Deadlines and warnings are computed as of this date."),
    Field("gstr3b_filed", "GSTR3BFiled", "GSTR-3B filed for the period", "flag", ("Y", "N"), "N"),
    Field("annual_return_filed_on", "AnnualReturnFiledOn", "Annual return filed on", "date",
          note="Date the annual return (GSTR-9) of the financial year was filed, if it was."),
    Field("taxpayer_type", "TaxpayerType", "Taxpayer type", "enum", TAXPAYER_TYPES, "Normal",
          derived="HasIMS", derived_formula=_HAS_IMS,
          note="IMS is for normal (incl. SEZ units/developers) and casual taxpayers (rule D29)."),
)
"""The settings, in sheet order."""


@dataclass(frozen=True)
class Derived:
    """A computed value below the settings: defined name, label, formula, format kind."""

    name: str
    label: str
    formula: str
    kind: str = "general"
    note: str = ""


_QUARTERLY = 'FilingFrequency="Quarterly"'


def _state_number(ref: str) -> str:
    return state_number(ref)
_RPI = "ReturnPeriodIndex"


def _iso(index: str) -> str:
    return f'INT({index}/12)&"-"&TEXT(MOD({index},12)+1,"00")'


DERIVED: tuple[Derived, ...] = (
    Derived("ReturnPeriodIndex", "Return period (index)",
            '=IF(AND(LEN(ReturnPeriod)=7,MID(ReturnPeriod,5,1)="-"),'
            'IFERROR(VALUE(LEFT(ReturnPeriod,4))*12+VALUE(MID(ReturnPeriod,6,2))-1,""),"")',
            note="year*12 + month - 1 (periods.parse), blank if the return period is not YYYY-MM."),
    Derived("WindowStart", "First GSTR-2B month of the return (index)",
            f'=IF({_RPI}="","",IF({_QUARTERLY},{_RPI}-MOD({_RPI},3),{_RPI}))',
            note="year*12 + month - 1; a quarterly return covers the three months of its quarter."),
    Derived("WindowEnd", "Last GSTR-2B month of the return (index)",
            f'=IF({_RPI}="","",IF({_QUARTERLY},{_RPI}-MOD({_RPI},3)+2,{_RPI}))'),
    Derived("WindowEndPeriod", "Last GSTR-2B month of the return", f'=IF(WindowEnd="","",{_iso("WindowEnd")})',
            "text"),
    Derived("NextReturnPeriod", "Next tax period (its last month)",
            f'=IF(WindowEnd="","",{_iso("(WindowEnd+IF(" + _QUARTERLY + ",3,1))")})', "text",
            "Supplier add-back of rejections frozen in this return's period lands here at the earliest."),
    Derived("QRMPDueDay", "QRMP GSTR-3B due day for the state",
            '=IF(COUNTIF(QRMPDay22States,IF(LEN(StateCode)<2,"0"&StateCode,StateCode))>0,22,'
            'Param_qrmp_due_day_default)', note="22nd or 24th by state (Notification 76/2020-CT)."),
    Derived("DueDay", "GSTR-3B due day", f"=IF({_QUARTERLY},QRMPDueDay,Param_gstr3b_due_day_monthly)"),
    Derived("OwnState", "Our state code (number)",
            "=" + _state_number("RecipientGSTIN"),
            note="First two digits of the GSTIN as a number (-1 if not digits): the place-of-supply test."),
    Derived("AnnualReturnFYEnd", "Year the annual return's FY ends",
            '=IF(ISNUMBER(AnnualReturnFiledOn),YEAR(AnnualReturnFiledOn)-IF(MONTH(AnnualReturnFiledOn)<4,1,0),"")',
            note="The annual return filed on a date is the one for the FY that ended before it."),
    Derived("ReturnDueDate", "GSTR-3B due date of the return",
            '=IF(WindowEnd="","",DATE(INT((WindowEnd+1)/12),MOD(WindowEnd+1,12)+1,DueDay))', "date",
            "Compared with each record's s.16(4) cut-off (CUTOFF_164_BEFORE_DUE; a cut-off on or before the "
            "return period's last day: CUTOFF_164_PASSED)."),
)
"""Derived values, in sheet order, below the settings."""

POLICY_SEPARATOR = ";"
"""Between the options of a policy cell (``Accept with ITC Reduction Full; Accept``)."""

_STATUS_LABEL = {"matched": "matched", "matched_within_tolerance": "within tolerance",
                 "mismatch": "mismatch", "missing_in_books": "missing in our books"}

RECON_NOTE = "Suggest if ...: options tried in order, separated by ';' (select a cell to see how)."
"""The section title's note (column D): how a policy cell is written, said once for its policy rows."""


def policy_name(status: str) -> str:
    """The defined name of a match status's policy cell (``MatchPolicy_mismatch``)."""
    return f"MatchPolicy_{status}"


def policy_text(options: tuple[str, ...] | list[str]) -> str:
    """A policy cell's text for its options (``"Pending with remark; Reject with remark"``)."""
    return f"{POLICY_SEPARATOR} ".join(options)


def recon_fields() -> tuple[Field, ...]:
    """The reconciliation settings, their defaults from ``rules/reconcile.yaml`` (one source of truth: the
    YAML; the template is built from it). One amount tolerance for every head and the taxable value: the
    YAML's when its heads agree (1.00), else blank (blank: the YAML's per head)."""
    data = reconcile_policy()
    amounts = {float(v) for k, v in data["tolerance"].items() if k != "date_days"}
    amount = amounts.pop() if len(amounts) == 1 else None
    out = [
        Field("match_tolerance", "MatchTolerance", "Match tolerance (₹)", "amount",
              default=amount,
              note="Rupees each tax head and the taxable value may differ from the books and still agree."),
        Field("match_date_tolerance", "MatchDateTolerance", "Match date tolerance (days)", "count",
              default=int(data["tolerance"]["date_days"]),
              note="Days the document date may differ from the purchase register. Whole, 0 or more."),
    ]
    for row in data["policy"]:
        status = row["status"]
        if status in NEVER_SUGGESTED:  # a probable match is for a person to confirm: no cell to fill
            continue
        out.append(Field(f"policy_{status}", policy_name(status), f"Suggest if {_STATUS_LABEL.get(status, status)}",
                         "policy", default=policy_text(row["options"]),
                         note=f"Default: {row.get('why', '')}."))
    return tuple(out)


RECON_FIELDS: tuple[Field, ...] = recon_fields()
"""The reconciliation section's settings, in sheet order (below the derived values)."""

ALL_FIELDS: tuple[Field, ...] = FIELDS + RECON_FIELDS
"""Every input cell of the sheet (what ``new`` / ``upgrade`` write from given values)."""

NAMES = ({f.name for f in ALL_FIELDS} | {f.derived for f in FIELDS if f.derived}
         | {d.name for d in DERIVED})


def field_for(key: str) -> Field:
    """A field by its key or defined name (case-insensitive)."""
    k = key.casefold()
    for f in ALL_FIELDS:
        if k in (f.key.casefold(), f.name.casefold()):
            return f
    raise KeyError(f"unknown Config setting {key!r}")


def derived_row(name: str) -> int:
    """1-based Config row of a derived value (column C)."""
    return FIRST_ROW + len(FIELDS) + 2 + [d.name for d in DERIVED].index(name)


RECON_FIRST_ROW = FIRST_ROW + len(FIELDS) + 2 + len(DERIVED) + 2
"""1-based row of the first reconciliation setting: below the derived values, a blank row and the
section's title (older rows never move)."""


def recon_row(name: str) -> int:
    """1-based Config row of a reconciliation setting (column B)."""
    return RECON_FIRST_ROW + [f.name for f in RECON_FIELDS].index(name)


def from_context(ctx) -> dict:
    """``build_workbook(config=...)`` values for an engine :class:`~ims_excel.engine.Context`."""

    types = {t.casefold(): t for t in TAXPAYER_TYPES}
    return {
        "gstin": ctx.gstin,
        "period": periods.iso(ctx.period),
        "frequency": ctx.frequency.capitalize(),
        "state_code": "" if ctx.state == ctx.gstin[:2] else ctx.state,
        "as_of": ctx.as_of,
        "gstr3b_filed": "Y" if ctx.gstr3b_filed else "N",
        "annual_return_filed_on": ctx.annual_return_date,
        "taxpayer_type": types.get(ctx.taxpayer_type, ctx.taxpayer_type),
    }


def write_config(workbook: Any, ws: Any, styles: Styles, values: dict | None = None,
                 cached: dict[str, Any] | None = None) -> None:
    """Lay out the Config sheet and define its names; ``cached``: each derived name's value
    (``template.values.config_values``), stored as its formula cell's cached value."""
    cached = cached or {}
    given = {field_for(k).name: v for k, v in (values or {}).items()}
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 24, styles.get(locked=False))
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 70, styles.note())
    ws.write(0, 0, "Configuration", styles.title())
    ws.write(1, 0, "Fill column B. Column C is computed. Names in the formulas: see column E.",
             styles.get(italic=True, font_color="#595959"))  # one line: not wrapped over the header row
    for j, head in enumerate(("Setting", "Value", "Check / in use", "Notes", "Defined names")):
        ws.write(FIRST_ROW - 2, j, head, styles.header())
    for i, f in enumerate(FIELDS):
        _write_field(workbook, ws, styles, FIRST_ROW - 1 + i, f, given.get(f.name, f.default), cached)
    ws.write(derived_row(DERIVED[0].name) - 2, 0, "Derived (used by the formulas; do not edit)",
             styles.subtitle())
    for d in DERIVED:
        i = derived_row(d.name) - 1
        ws.write_string(i, 0, d.label, styles.label())
        ws.write_formula(i, 2, d.formula, styles.computed(d.kind), cached.get(d.name, 0))
        workbook.define_name(d.name, f"=Config!$C${i + 1}")
        if d.note:
            ws.write_string(i, 3, d.note, styles.note())
        ws.write_string(i, 4, d.name, styles.note())
    ws.write(RECON_FIRST_ROW - 2, 0, "Reconciliation with the purchase register", styles.subtitle())
    ws.write_string(RECON_FIRST_ROW - 2, 3, RECON_NOTE, styles.note())
    for f in RECON_FIELDS:
        _write_field(workbook, ws, styles, recon_row(f.name) - 1, f, given.get(f.name, f.default), cached)
    ws.set_column(4, 4, 34, styles.note())
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


_VALIDATION: dict[str, dict[str, Any]] = {
    "amount": {"validate": "decimal", "criteria": ">=", "value": 0, "error_type": "stop",
               "error_message": "Write an amount in rupees, 0 or more (e.g. 1.00)."},
    "count": {"validate": "integer", "criteria": ">=", "value": 0, "error_type": "stop",
              "error_message": "Write a whole number of days, 0 or more."},
    "policy": {"validate": "length", "criteria": "<=", "value": 255, "error_type": "stop",
               "input_title": "Suggestion options",
               "input_message": "Tried left to right, separated by ';': Accept or Accept with ITC Reduction "
                                "Full; Reject or Pending, optionally with remark. Blank: no suggestion.",
               "error_message": "At most 255 characters."},
}
"""Data validation of the reconciliation inputs by kind (the other kinds: :func:`_write_field`)."""


def _write_field(workbook: Any, ws: Any, styles: Styles, row: int, f: Field, value: Any,
                 cached: dict[str, Any]) -> None:
    """One setting's row (0-based ``row``): label, input cell with its defined name and validation, the
    derived cell if any, the note and the names."""
    ws.write_string(row, 0, f.label, styles.label())
    _write_input(ws, row, 1, f.kind, value, styles.input("text" if f.kind == "policy" else f.kind))
    workbook.define_name(f.name, f"=Config!$B${row + 1}")
    names = f.name
    if f.derived:
        formula = f.derived_formula.replace("{input}", f.name)
        ws.write_formula(row, 2, formula, styles.computed(f.derived_kind), cached.get(f.derived, 0))
        workbook.define_name(f.derived, f"=Config!$C${row + 1}")
        names += f", {f.derived}"
    if f.note:
        ws.write_string(row, 3, f.note, styles.note())
    ws.write_string(row, 4, names, styles.note())
    if f.values:
        ws.data_validation(row, 1, row, 1, {"validate": "list", "source": list(f.values),
                                            "error_type": "stop"})
    elif f.kind == "date":
        ws.data_validation(row, 1, row, 1, {"validate": "date", "criteria": "between",
                                            "minimum": dt.date(2017, 7, 1),
                                            "maximum": dt.date(2199, 12, 31), "error_type": "stop"})
    elif f.kind == "period":
        ws.data_validation(row, 1, row, 1, {"validate": "length", "criteria": "==", "value": 7,
                                            "error_type": "stop",
                                            "error_message": "Write the period as YYYY-MM."})
    elif f.kind in _VALIDATION:
        ws.data_validation(row, 1, row, 1, dict(_VALIDATION[f.kind]))


def _write_input(ws: Any, row: int, col: int, kind: str, value: Any, fmt: Any) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif kind in ("amount", "count") and isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    elif kind == "date":
        if isinstance(value, str):
            value = dt.datetime.strptime(value, "%d-%m-%Y" if value[2:3] == "-" else "%Y-%m-%d")
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)
