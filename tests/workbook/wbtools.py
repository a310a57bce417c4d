"""Helpers for the workbook tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import pandas as pd

from tests.support.sample import RECIPIENT

SAMPLE_CONFIG = {"gstin": RECIPIENT, "legal_name": "Demo Traders Pvt Ltd", "period": "2025-11",
                 "frequency": "Monthly", "as_of": "2025-12-05", "gstr3b_filed": "N"}


def table(values: dict, sheet: str) -> pd.DataFrame:
    """A recalculated table sheet (header on row 1) as a DataFrame."""
    rows = values[sheet]["values"]
    return pd.DataFrame(rows[1:], columns=rows[0])


def cell(values: dict, ref: str):
    """The value at ``'Sheet'!C7`` in a ``Session.values`` result."""
    from xlsxwriter.utility import xl_cell_to_rowcol

    sheet, a1 = ref.rsplit("!", 1)
    r, c = xl_cell_to_rowcol(a1)
    rows = values[sheet.strip("'")]["values"]
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else ""


def describe(path) -> dict:
    """What a workbook holds, for comparing two builds: cells, formulas, names, validations, tables."""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True)
    out = {"sheets": wb.sheetnames,
           "names": {n: wb.defined_names[n].attr_text for n in sorted(wb.defined_names)}}
    for ws in wb.worksheets:
        cells = {c.coordinate: (c.value, c.number_format, c.protection.locked)
                 for row in ws.iter_rows() for c in row if c.value is not None}
        out[ws.title] = {
            "cells": cells,
            "validations": sorted((str(dv.sqref), dv.type, dv.formula1, dv.formula2)
                                  for dv in ws.data_validations.dataValidation),
            "tables": {t.name: (t.ref, [(c.name, c.calculatedColumnFormula.attr_text
                                         if c.calculatedColumnFormula is not None else None)
                                        for c in t.tableColumns])
                       for t in ws.tables.values()},
            "conditional": sorted(str(r.sqref) for r in ws.conditional_formatting),
            "protected": ws.protection.sheet, "password": ws.protection.password,
            "freeze": ws.freeze_panes,
        }
    return out
