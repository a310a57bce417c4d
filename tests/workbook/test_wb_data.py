"""Pre-filling: rows go into the tables as typed cells, whatever frame they come from."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd

from tests.support import recalc
from ims_excel.normalise import normalise
from ims_excel.records import INWARD_COLUMNS
from ims_excel.template.build import build_workbook
from tests.support.sample import sample_inward


def _inward(path) -> pd.DataFrame:
    return recalc.read_frame(path, "Inward")


def test_raw_and_normalised_frames_give_the_same_cells(tmp_path):
    raw = sample_inward(30, seed=5)
    raw.loc[0, "Document Number"] = "000123"
    raw.loc[1, "Reverse Charge"] = "Y"
    a = _inward(build_workbook(tmp_path / "raw.xlsm", raw))
    b = _inward(build_workbook(tmp_path / "norm.xlsm", normalise(raw)))
    for col in raw.columns:
        assert a[col].tolist() == b[col].tolist(), col
    assert a.loc[0, "Document Number"] == "000123"
    assert a.loc[1, "Reverse Charge"] == "Y"


def test_cell_types(tmp_path):
    raw = sample_inward(3, seed=1)
    raw["Original Document Date"] = ["05-10-2025", None, 45991]
    raw["Declared IGST"] = [None, "12.5", 0]
    raw["Declared CGST"] = ["1,00,000.50", "", "junk"]
    raw["Supplier Filing Date"] = ["2025-11-03", "03-11-2025", "3rd Nov"]
    ws = openpyxl.load_workbook(build_workbook(tmp_path / "t.xlsm", raw))["Inward"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, max_row=4)]
    assert rows[0]["Document Date"].value == dt.datetime.combine(raw["Document Date"][0].date(), dt.time())
    assert rows[0]["Original Document Date"].value == dt.datetime(2025, 10, 5)
    assert rows[1]["Original Document Date"].value is None
    assert rows[2]["Original Document Date"].value == dt.datetime(2025, 11, 30)
    assert rows[0]["Declared IGST"].value is None and rows[1]["Declared IGST"].value == 12.5
    assert rows[2]["Declared IGST"].value == 0
    assert [r["Declared CGST"].value for r in rows] == [100000.5, None, "junk"]  # unreadable: kept as typed
    assert [r["Supplier Filing Date"].value for r in rows] == [dt.datetime(2025, 11, 3)] * 2 + ["3rd Nov"]
    assert rows[0]["Taxable Value"].data_type == "n"
    assert rows[0]["2B Period"].value == "2025-11" and rows[0]["2B Period"].data_type == "s"
    assert rows[0]["Supplier GSTIN"].data_type == "s"


def test_table_grows_with_the_rows(tmp_path):
    ws = openpyxl.load_workbook(build_workbook(tmp_path / "n.xlsm", sample_inward(57)))["Inward"]
    ref = ws.tables["Inward"].ref
    assert ref.endswith("58")
    assert ws.cell(58, len(INWARD_COLUMNS) + 1).value.startswith("=")


def test_unknown_columns_are_ignored_and_empty_frames_give_the_template(tmp_path):
    raw = sample_inward(2).assign(Foo="bar")
    frame = _inward(build_workbook(tmp_path / "u.xlsm", raw))
    assert "Foo" not in frame.columns
    ws = openpyxl.load_workbook(build_workbook(tmp_path / "e.xlsm", raw.iloc[:0]))["Inward"]
    assert ws.tables["Inward"].ref.endswith("2")
