"""The Rules sheet: the decision table (Table ``Rules``), reason codes (Table ``Codes``),
the rule regimes (name ``RuleEras``) and scalar parameters (names ``Param_<name>``).

Everything comes from ``ims_excel.rules.rulebook()``, the one source of the
rules; a row formula finds its rule with
``INDEX(Rules[accept],MATCH(<rule>&"@"&<era>,Rules[key],0))``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ims_excel import periods
from ims_excel.rules import RuleBook
from ims_excel.workbook.styles import Styles

TITLE_ROWS = 3  # the Rules table header is on row 4


def _cell_text(v: Any) -> Any:
    if isinstance(v, bool):
        return "Y" if v else "N"
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return v


def _write_frame_table(ws: Any, styles: Styles, top: int, frame: pd.DataFrame, name: str) -> int:
    """Write ``frame`` as Excel Table ``name`` with its header on 0-based row ``top``; returns the last row."""
    rows = [[_cell_text(v) for v in rec] for rec in frame.itertuples(index=False)]
    last = top + max(len(rows), 1)
    fmt = styles.get(locked=True, valign="top", num_format="@")
    ws.add_table(top, 0, last, len(frame.columns) - 1, {
        "name": name, "style": "Table Style Light 1",
        "columns": [{"header": str(c), "header_format": styles.header()} for c in frame.columns]})
    for i, rec in enumerate(rows, start=top + 1):
        for j, v in enumerate(rec):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(i, j, v)
            elif v != "":
                ws.write_string(i, j, str(v), fmt)
    return last


def params_frame(book: RuleBook) -> pd.DataFrame:
    """Scalar parameters (those with a ``value``) as name/value rows."""
    rows = []
    for name, spec in book.params.items():
        if isinstance(spec, dict) and "value" in spec and not isinstance(spec["value"], (dict, list)):
            rows.append({"name": name, "value": _cell_text(spec["value"])})
    return pd.DataFrame(rows, columns=["name", "value"])


def write_rules(workbook: Any, ws: Any, styles: Styles, book: RuleBook) -> None:
    """Lay out the Rules sheet and define ``RuleEras`` and ``Param_*`` names."""
    ws.write(0, 0, "Rules (generated from ims_excel/rules; do not edit)", styles.title())
    ws.write(1, 0, "Rules version", styles.label())
    ws.write_string(1, 1, book.version)
    table = book.table()
    last = _write_frame_table(ws, styles, TITLE_ROWS, table, "Rules")
    widths = {"record": 40, "condition": 30, "message": 60, "notes": 60, "key": 12, "source": 14}
    for j, c in enumerate(table.columns):
        ws.set_column(j, j, widths.get(c, 10))
    top = last + 3
    ws.write(top - 1, 0, "Reason codes", styles.subtitle())
    last = _write_frame_table(ws, styles, top, book.codes_table(), "Codes")
    top = last + 3
    ws.write(top - 1, 0, "Rule regimes (GSTR-2B period from which a version applies)", styles.subtitle())
    eras = [periods.iso(e) for e in book.eras]
    ws.write(top, 0, "RuleEras", styles.header())
    for i, era in enumerate(eras, start=top + 1):
        ws.write_string(i, 0, era)
    workbook.define_name("RuleEras", f"=Rules!$A${top + 2}:$A${top + 1 + len(eras)}")
    top = top + len(eras) + 3
    ws.write(top - 1, 0, "Parameters", styles.subtitle())
    ws.write(top, 0, "name", styles.header())
    ws.write(top, 1, "value", styles.header())
    for i, rec in enumerate(params_frame(book).itertuples(index=False), start=top + 1):
        ws.write_string(i, 0, rec.name)
        if isinstance(rec.value, (int, float)):
            ws.write_number(i, 1, rec.value)
        else:
            ws.write_string(i, 1, str(rec.value))
        workbook.define_name(f"Param_{rec.name}", f"=Rules!$B${i + 1}")
    ws.freeze_panes(TITLE_ROWS + 1, 1)
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
