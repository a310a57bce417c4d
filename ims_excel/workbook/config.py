"""The Config sheet: named input cells (column B) and derived cells (column C).

Formulas elsewhere use the defined names, never addresses:

======================  =====================================================
``RecipientGSTIN``      input, text
``GSTINValid``          TRUE/FALSE: 15 characters and the Luhn mod-36 check
``LegalName``           input, text
``ReturnPeriod``        input, text ``YYYY-MM``
``ReturnPeriodIndex``   year*12 + month - 1 (``periods.parse``), "" if invalid
``FilingFrequency``     Monthly / Quarterly
``StateCodeOverride``   input; blank = from the GSTIN
``StateCode``           the override, else the GSTIN's first two characters
``AsOfDateOverride``    input date; blank = today
``AsOfDate``            the override, else TODAY()
``GSTR3BFiled``         Y / N: GSTR-3B for the return period filed
``AnnualReturnFiledOn`` input date
======================  =====================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ims_excel.workbook import formulas
from ims_excel.workbook.styles import Styles

FIRST_ROW = 4  # 1-based row of the first setting


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
          derived="GSTINValid", derived_formula="=" + formulas.gstin_check("{input}"), derived_kind="bool",
          note="Your GSTIN. Column C checks the 15th (check) character."),
    Field("legal_name", "LegalName", "Legal name", "text"),
    Field("period", "ReturnPeriod", "Return period (YYYY-MM)", "period",
          derived="ReturnPeriodIndex",
          derived_formula='=IF(AND(LEN({input})=7,MID({input},5,1)="-"),'
                          'IFERROR(VALUE(LEFT({input},4))*12+VALUE(MID({input},6,2))-1,""),"")',
          derived_kind="general",
          note="The GSTR-2B / GSTR-3B period you are working on, e.g. 2025-11."),
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
)
"""The settings, in sheet order."""

NAMES = {f.name for f in FIELDS} | {f.derived for f in FIELDS if f.derived}


def field_for(key: str) -> Field:
    """A field by its key or defined name (case-insensitive)."""
    k = key.casefold()
    for f in FIELDS:
        if k in (f.key.casefold(), f.name.casefold()):
            return f
    raise KeyError(f"unknown Config setting {key!r}")


def write_config(workbook: Any, ws: Any, styles: Styles, values: dict | None = None) -> None:
    """Lay out the Config sheet and define its names."""
    given = {field_for(k).name: v for k, v in (values or {}).items()}
    ws.set_column(0, 0, 32)
    ws.set_column(1, 1, 24, styles.get(locked=False))
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 70, styles.note())
    ws.write(0, 0, "Configuration", styles.title())
    ws.write(1, 0, "Fill column B. Column C is computed. Names in the formulas: see column E.", styles.note())
    for j, head in enumerate(("Setting", "Value", "Check / in use", "Notes", "Defined names")):
        ws.write(FIRST_ROW - 2, j, head, styles.header())
    for i, f in enumerate(FIELDS):
        row = FIRST_ROW - 1 + i
        ws.write_string(row, 0, f.label, styles.label())
        value = given.get(f.name, f.default)
        _write_input(ws, row, 1, f.kind, value, styles.input(f.kind))
        workbook.define_name(f.name, f"=Config!$B${row + 1}")
        names = f.name
        if f.derived:
            formula = f.derived_formula.replace("{input}", f.name)
            ws.write_formula(row, 2, formula, styles.computed(f.derived_kind))
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
    ws.set_column(4, 4, 34, styles.note())
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


def _write_input(ws: Any, row: int, col: int, kind: str, value: Any, fmt: Any) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif kind == "date":
        if isinstance(value, str):
            value = dt.datetime.strptime(value, "%d-%m-%Y" if value[2:3] == "-" else "%Y-%m-%d")
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)
