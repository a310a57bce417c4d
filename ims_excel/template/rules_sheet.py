"""The Rules sheet: the decision table (Table ``Rules``), reason codes (Table ``Codes``),
the rule regimes (name ``RuleEras``), scalar parameters (names ``Param_<name>``) and the
small lookups the row formulas classify with.

Everything comes from ``ims_excel.rules.rulebook()`` and the engine's own
constants, the one source of the rules; a row formula finds its rule with
``INDEX(Rules[accept],MATCH(<rule>&"@"&<era>,Rules[key],0))``.

``Codes`` also says how the Message formula fills each code's message (``fill``, ``blank_x``,
``blank_y``: :mod:`.messages`).

Besides ``Rules`` and ``Codes``:

* Table ``Sections``: section -> family (INV, DN, CN, ECO, BOE, ISD) and amendment Y/N
  (``engine.classify.FAMILY``, ``records.AMENDMENT_SECTIONS``);
* Table ``NotInIMS``: the ``Not In IMS`` value -> rule D19-D24 (``classify.NOT_IN_IMS_RULE``);
* Table ``AddbackTables``: supply type (or ``default`` / ``eco``) -> the supplier's GSTR-3B
  table of an add-back (``parameters.yaml`` ``addback_table``);
* name ``StateNumbers``: ``|0|...|99|``, the strings a state code may be read from;
* names ``OriginalStates`` (``|REJECTED|PENDING|ACCEPTED|NO ACTION|PRE-IMS|``, where a row formula finds
  the ``Original Action``: ``rowlogic.ORIGINAL_STATES``), ``RecordRuleRows`` and ``RecordRules``: the
  record kind D1-D18 (:func:`record_rule_grid`, ``engine.classify.record_kinds`` over every combination);
* name ``QRMPDay22States``: the states whose QRMP GSTR-3B is due on the 22nd;
* names ``GSTINCheckPositions``, ``GSTINCheckOrders``, ``GSTINAtomCodes``, ``GSTINAtomWeights``,
  ``GSTINShapeKeys``, ``GSTINStates``: the GSTIN rule (ranges, not array constants: a shared formula may
  not hold one);
* ``Param_<name>`` also for nested scalars (``Param_cutoff_164_month``) and, for
  period parameters, ``Param_<name>_index`` (year*12 + month - 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from ims_excel import gstin, periods
from ims_excel.engine.classify import FAMILIES, FAMILY, NOT_IN_IMS_RULE, STATE_CODE, RuleArrays, record_kinds
from ims_excel.records import AMENDMENT_SECTIONS, SECTIONS
from ims_excel.rules import RuleBook
from ims_excel.template.messages import codes_frame
from ims_excel.template.rowlogic import ORIGINAL_STATES, STATE_NUMBERS
from ims_excel.template.styles import Styles

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


_SKIP = {"tag", "source", "reasoning"}


def params_frame(book: RuleBook) -> pd.DataFrame:
    """Scalar parameters as name/value rows.

    ``value`` scalars under their own name, other scalars of a parameter as
    ``<name>_<key>`` (``cutoff_164_month``), and a period value ``YYYY-MM`` also
    as ``<name>_index`` (the month index of :mod:`ims_excel.periods`).
    """
    rows = []
    for name, spec in book.params.items():
        if not isinstance(spec, dict):
            continue
        for key, value in spec.items():
            if key in _SKIP or isinstance(value, (dict, list)):
                continue
            label = name if key == "value" else f"{name}_{key}"
            rows.append({"name": label, "value": _cell_text(value)})
            p = periods.parse_or_none(str(value)) if isinstance(value, str) else None
            if p is not None:
                rows.append({"name": f"{label}_index", "value": p})
    return pd.DataFrame(rows, columns=["name", "value"])


def sections_frame() -> pd.DataFrame:
    """Section -> family and amendment Y/N, as the engine classifies them."""

    return pd.DataFrame({"section": list(SECTIONS), "family": [FAMILY[s] for s in SECTIONS],
                         "amendment": ["Y" if s in AMENDMENT_SECTIONS else "N" for s in SECTIONS]})


def not_in_ims_frame() -> pd.DataFrame:
    """``Not In IMS`` value -> the rule of a record GSTR-2B holds outside IMS."""

    return pd.DataFrame({"value": list(NOT_IN_IMS_RULE), "rule": list(NOT_IN_IMS_RULE.values())})


DIRECTIONS = ("", "up", "down")
"""The Direction values (``rowlogic.direction``): not an amendment, up, down."""


def record_rule_grid(book: RuleBook) -> pd.DataFrame:
    """The record kind (D1-D18) of every combination, from ``engine.classify.record_kinds`` itself.

    Rows: ``Family`` & ``Direction`` (``INV``, ``INVup``, ``INVdown``, ...). Column ``c`` (1-24):
    ``c = k + 3*consumed + 6*pre_oct25 + 12*nil``, ``k`` the original action's class (1 Rejected,
    2 Pending, 3 any other: ``rowlogic.original_state``), ``consumed`` the
    Consumed column, ``pre_oct25`` a GSTR-2B period before ``oct25_changes_period`` and ``nil`` an
    amendment whose amended total tax is nil and the original's not (a BoE taken away, D17).
    """
    ra = RuleArrays.build(book)
    rid_of = {r: i for i, r in enumerate(ra.ids)}
    combos = [(k, cons, pre, nil) for nil in (0, 1) for pre in (0, 1) for cons in (0, 1) for k in (1, 2, 3)]
    cols = [f"{'RP-'[k - 1]}{'c' if cons else ''}{'<' if pre else ''}{'0' if nil else ''}"
            for k, cons, pre, nil in combos]
    rows = [(f, d) for f in range(len(FAMILIES)) for d in DIRECTIONS]
    keys = [f"{FAMILIES[f]}{d}" for f, d in rows]
    fam = np.array([f for f, _ in rows for _ in combos], dtype="int8")
    amend = np.array([d != "" for _, d in rows for _ in combos])
    down = np.array([d == "down" for _, d in rows for _ in combos])
    orig_of = {1: STATE_CODE["Rejected"], 2: STATE_CODE["Pending"], 3: STATE_CODE["No Action"]}
    orig = np.array([orig_of[k] for _ in rows for k, *_ in combos], dtype="int8")
    consumed = np.array([bool(c[1]) for _ in rows for c in combos])
    pre = np.array([bool(c[2]) for _ in rows for c in combos])
    nil = np.array([bool(c[3]) for _ in rows for c in combos]) & amend
    rid = record_kinds(fam, amend, down, orig, consumed, nil, pre, book, rid_of)
    grid = np.array(ra.ids, dtype=object)[rid].reshape(len(rows), len(combos))
    return pd.DataFrame(grid, index=keys, columns=cols)


def addback_frame(book: RuleBook) -> pd.DataFrame:
    """Supply type (or ``default`` / ``eco``) -> GSTR-3B table of an add-back."""
    p = book.params["addback_table"]
    rows = [("default", p["default"]), ("eco", p["eco"]), *p["by_supply_type"].items()]
    return pd.DataFrame(rows, columns=["key", "table"])


def _write_gstin(workbook: Any, ws: Any, styles: Styles, top: int) -> None:
    """The GSTIN rule (``ims_excel.gstin``) as names for ``formulas.gstin_expected`` and
    ``formulas.gstin_valid`` (ranges, not array constants: a shared formula may not hold one):
    ``GSTINCheckPositions`` (1-14), ``GSTINCheckOrders`` (``gstin.CHECK_ORDERS``), ``GSTINAtomCodes`` and
    ``GSTINAtomWeights`` (``gstin.ATOM_CODES`` / ``ATOM_WEIGHTS``), ``GSTINShapeKeys``
    (``gstin.SHAPE_KEYS``) and ``GSTINStates``. The allowed characters of every position and shape
    (``gstin.SHAPES``), which the groups and keys are worked out from, are shown beside, for people."""
    names = list(gstin.SHAPES)
    ws.write(top - 1, 0, "GSTIN rule (ims_excel/gstin.py): per position the check order, the character "
             "groups and weights of the shape key, and the allowed characters per shape", styles.subtitle())
    for j, h in enumerate(["position", "check order", "groups", "weight", *names]):
        ws.write(top, j, h, styles.header())
    for i in range(15):
        ws.write_number(top + 1 + i, 0, i + 1)
        if i < 14:
            ws.write_string(top + 1 + i, 1, gstin.CHECK_ORDERS[i])
            ws.write_string(top + 1 + i, 2, gstin.ATOM_CODES[i])
            ws.write_number(top + 1 + i, 3, gstin.ATOM_WEIGHTS[i])
        for j, name in enumerate(names, start=4):
            ws.write_string(top + 1 + i, j, gstin.SHAPES[name][i])
    first, last = top + 2, top + 15  # 1-based rows of positions 1 and 14
    for name, c in (("GSTINCheckPositions", "A"), ("GSTINCheckOrders", "B"), ("GSTINAtomCodes", "C"),
                    ("GSTINAtomWeights", "D")):
        workbook.define_name(name, f"=Rules!${c}${first}:${c}${last}")
    top = top + 19
    ws.write(top - 1, 0, "GST state codes a GSTIN may start with; the shape keys of the registrations",
             styles.subtitle())
    ws.write(top, 0, "GSTINStates", styles.header())
    ws.write(top, 1, "GSTINShapeKeys", styles.header())
    codes = list(gstin.STATE_CODES)
    for i, c in enumerate(codes, start=top + 1):
        ws.write_string(i, 0, c)
    for i, k in enumerate(gstin.SHAPE_KEYS, start=top + 1):
        ws.write_number(i, 1, k)
    workbook.define_name("GSTINStates", f"=Rules!$A${top + 2}:$A${top + 1 + len(codes)}")
    workbook.define_name("GSTINShapeKeys", f"=Rules!$B${top + 2}:$B${top + 1 + len(gstin.SHAPE_KEYS)}")


def _write_record_rules(workbook: Any, ws: Any, styles: Styles, book: RuleBook, top: int) -> int:
    """``OriginalStates`` and the ``RecordRuleRows`` x ``RecordRules`` grid (:func:`record_rule_grid`);
    returns the next free row (0-based) for what follows."""
    ws.write(top - 1, 0, "Original Action positions (rowlogic.consumed, rowlogic.record_rule)", styles.subtitle())
    ws.write(top, 0, "OriginalStates", styles.header())
    ws.write_string(top + 1, 0, ORIGINAL_STATES)
    workbook.define_name("OriginalStates", f"=Rules!$A${top + 2}")
    top = top + 5
    grid = record_rule_grid(book)
    ws.write(top - 1, 0, "Record kind D1-D18 (engine/classify.py record_kinds): row Family & Direction, column "
             "class of the original action (R Rejected, P Pending, - other) + 3*Consumed (c) + 6*before "
             "Oct-2025 (<) + 12*nil amendment (0)", styles.subtitle())
    ws.write(top, 0, "RecordRuleRows", styles.header())
    for j, c in enumerate(grid.columns, start=1):
        ws.write(top, j, c, styles.header())
    for i, (key, rec) in enumerate(zip(grid.index, grid.itertuples(index=False)), start=top + 1):
        ws.write_string(i, 0, key)
        for j, v in enumerate(rec, start=1):
            ws.write_string(i, j, v)
    first, last = top + 2, top + 1 + len(grid)
    workbook.define_name("RecordRuleRows", f"=Rules!$A${first}:$A${last}")
    last_col = xl_col_to_name(len(grid.columns))  # the grid's columns start at B
    workbook.define_name("RecordRules", f"=Rules!$B${first}:${last_col}${last}")
    return last + 4


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
    last = _write_frame_table(ws, styles, top, codes_frame(book.codes_table()), "Codes")
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
    params = params_frame(book)
    for i, rec in enumerate(params.itertuples(index=False), start=top + 1):
        ws.write_string(i, 0, rec.name)
        if isinstance(rec.value, (int, float)):
            ws.write_number(i, 1, rec.value)
        else:
            ws.write_string(i, 1, str(rec.value))
        workbook.define_name(f"Param_{rec.name}", f"=Rules!$B${i + 1}")
    top = top + len(params) + 4
    for title, frame, name in (("Sections: family and amendment", sections_frame(), "Sections"),
                               ("Records GSTR-2B holds outside IMS", not_in_ims_frame(), "NotInIMS"),
                               ("Supplier add-back: GSTR-3B table", addback_frame(book), "AddbackTables")):
        ws.write(top - 1, 0, title, styles.subtitle())
        top = _write_frame_table(ws, styles, top, frame, name) + 3
    states = list(book.params["qrmp_due_day"]["day_22_states"])
    ws.write(top - 1, 0, "QRMP GSTR-3B due on the 22nd in these states (others: the default day)",
             styles.subtitle())
    ws.write(top, 0, "QRMPDay22States", styles.header())
    for i, state in enumerate(states, start=top + 1):
        ws.write_string(i, 0, str(state))
    workbook.define_name("QRMPDay22States", f"=Rules!$A${top + 2}:$A${top + 1 + len(states)}")
    top = top + len(states) + 4
    ws.write(top - 1, 0, "The one- and two-digit strings a state code is read from (rowlogic.state_number)",
             styles.subtitle())
    ws.write(top, 0, "StateNumbers", styles.header())
    ws.write_string(top + 1, 0, STATE_NUMBERS)
    workbook.define_name("StateNumbers", f"=Rules!$A${top + 2}")
    top = top + 5
    top = _write_record_rules(workbook, ws, styles, book, top)
    _write_gstin(workbook, ws, styles, top)
    ws.freeze_panes(TITLE_ROWS + 1, 1)
    ws.set_landscape()  # printed: landscape, the width of one page, the table header on every page
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(TITLE_ROWS)
    ws.protect("", {"autofilter": True, "sort": True, "format_columns": True,
                    "select_locked_cells": True, "select_unlocked_cells": True})
