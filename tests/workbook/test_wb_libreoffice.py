"""LibreOffice recalculates the workbook without errors and the summaries add up."""

from __future__ import annotations

import pandas as pd
import pytest
import xlsxwriter
from wbtools import SAMPLE_CONFIG, cell, table

from tests.support import recalc
from ims_excel.template import config, summaries
from ims_excel.template.build import build_workbook

GOOD, BAD = "27AAACR5055K1Z7", "27AAACR5055K1Z8"


def _config_value(values: dict, name: str):
    f = next(f for f in config.FIELDS if name in (f.name, f.derived))
    row = config.FIRST_ROW + config.FIELDS.index(f)
    return cell(values, f"Config!{'C' if name == f.derived else 'B'}{row}")


def _no_errors(values: dict) -> None:
    errors = {sheet: v["errors"] for sheet, v in values.items() if v["errors"]}
    assert errors == {}
    for sheet, v in values.items():
        text = [x for row in v["values"] for x in row if isinstance(x, str)]
        assert not [x for x in text if x.startswith(("#NAME", "#REF", "#VALUE", "Err:"))], sheet


def test_template_recalculates_without_errors(lo, built):
    values = lo.values(built)
    _no_errors(values)
    assert _config_value(values, "GSTINValid") in (0, False)  # blank GSTIN
    assert _config_value(values, "AsOfDate") > 45000  # TODAY()


@pytest.mark.parametrize("value, ok", [(GOOD, True), (BAD, False), ("27AAPFU0939F1ZV", True),
                                       ("27aapfu0939f1zv", False), ("27AAPFU0939F1Z", False), ("", False)])
def test_config_gstin_check(lo, tmp_path, value, ok):
    book = build_workbook(tmp_path / "g.xlsm", config={"gstin": value, "period": "2025-11"})
    values = lo.values(book, sheets=["Config"])
    _no_errors(values)
    assert bool(_config_value(values, "GSTINValid")) is ok
    assert _config_value(values, "StateCode") == value[:2]


def test_config_derived_values(lo, tmp_path):
    book = build_workbook(tmp_path / "c.xlsm", config={"gstin": GOOD, "period": "2025-11",
                                                       "state_code": "29", "as_of": "2025-12-05"})
    values = lo.values(book, sheets=["Config"])
    assert _config_value(values, "ReturnPeriodIndex") == 2025 * 12 + 10
    assert _config_value(values, "StateCode") == "29"
    assert _config_value(values, "AsOfDate") == (pd.Timestamp("2025-12-05") - pd.Timestamp("1899-12-30")).days


def test_cli_recalculate_and_read_values(tmp_path):
    book = build_workbook(tmp_path / "in" / "b.xlsm", config={"gstin": GOOD, "period": "2025-11"})
    out = recalc.recalculate(book, tmp_path / "out")
    assert out.parent == tmp_path / "out" and out.suffix == ".xlsx"
    rows = recalc.read_values(out, "Config")
    assert rows[config.FIRST_ROW - 1][1:3] == [GOOD, True]
    frame = recalc.read_frame(out, "Inward")
    assert list(frame.columns[:2]) == ["Section", "Supplier GSTIN"]


def test_cli_recalculate_refuses_the_input_folder(tmp_path):
    book = build_workbook(tmp_path / "b.xlsm")
    with pytest.raises(ValueError):
        recalc.recalculate(book, tmp_path)


def test_cli_recalculate_reports_a_broken_file(tmp_path):
    bad = tmp_path / "in" / "broken.xlsx"
    bad.parent.mkdir()
    bad.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(recalc.RecalcError):
        recalc.recalculate(bad, tmp_path / "out", timeout=120)


def test_session_reports_a_broken_file_and_survives(lo, tmp_path, built):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a workbook at all")
    with pytest.raises(recalc.RecalcError):
        lo.values(bad)
    assert "Start" in lo.values(built, sheets=["Start"])


def test_session_error_cells_are_listed(lo, tmp_path):
    path = tmp_path / "err.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_formula("A1", "=1/0")
    ws.write_formula("A2", "=NOSUCHFUNCTION(1)")
    wb.close()
    errors = dict(lo.values(path)["S"]["errors"])
    assert set(errors) == {"A1", "A2"}


# ------------------------------------------------------------------ the sample book (e)

def test_sample_recalculates_without_errors(sample_values):
    _no_errors(sample_values)


def test_row_columns(sample_values, sample_frames):
    inward, _ = sample_frames
    got = table(sample_values, "Inward")
    assert len(got) == len(inward)
    assert list(got["Period"]) == ["2025-11"] * len(inward)
    dashboard = {"Deemed Accepted": "No Action", "Accepted": "Accepted", "Rejected": "Rejected",
                 "Pending": "Pending", "Not in IMS": ""}
    assert list(got["IMS State"]) == [dashboard[a] for a in got["Effective Action"]]
    assert set(got["Status"]) <= {"", "ok", "info", "warning", "error"}
    assert list(got["Document Number"]) == list(inward["Document Number"])


def _expected(inw: pd.DataFrame, out: pd.DataFrame, period: str) -> dict:
    """What each summary cell must hold, from the recalculated rows (the layout's contract)."""
    exp = {}
    heads = ["IGST", "CGST", "SGST", "Cess"]
    for (sheet, block, row, col), _ in summaries.cell_map().items():
        if sheet == "summary" and block != "status":
            rows = inw[inw["Section"] == row]
            rows = rows[rows["IMS State"] != ""] if col == "Total" else rows[rows["IMS State"] == col]
            exp[(sheet, block, row, col)] = (rows[heads].astype(float).sum().sum() if block.endswith("_tax")
                                             else len(rows))
        elif sheet == "summary":
            exp[(sheet, block, row, col)] = int((inw["Status"] == row).sum())
        elif sheet == "gstr2b":
            rows = inw[inw["2B Bucket"] == block]
            if row != "Total":
                rows = rows[rows["Section"] == row]
            exp[(sheet, block, row, col)] = len(rows) if col == "Records" else \
                rows[f"Amount {col}"].astype(float).sum()
        elif sheet == "gstr3b":
            tab = lambda r: inw.loc[inw["3B Table"] == r, f"ITC {col}"].astype(float).sum()  # noqa: E731
            exp[(sheet, block, row, col)] = (tab("4A1") + tab("4A3") + tab("4A4") + tab("4A5") - tab("4B2")
                                             if row == "4C" else tab(row))
        elif sheet == "liability":
            rows = out if row == "Total" else out[out["Add-back Table"] == row]
            rows = rows[rows["Add-back Table"] != ""]
            if block == "current":
                rows = rows[rows["Add-back Period"] == period]
            exp[(sheet, block, row, col)] = len(rows) if col == "Records" else \
                rows[f"Add-back {col}"].astype(float).sum()
    return exp


def test_summaries_add_up_the_rows(sample_values):
    inw, out = table(sample_values, "Inward"), table(sample_values, "Outward")
    expected = _expected(inw, out, "2025-11")
    cells = summaries.cell_map()
    wrong = {k: (cell(sample_values, cells[k]), v) for k, v in expected.items()
             if cell(sample_values, cells[k]) != pytest.approx(v, abs=0.005)}
    assert wrong == {}
    assert sum(expected[("summary", "status", k, "Records")] for k in ("ok", "info", "warning", "error")) \
        == len(inw)  # every row counted once
    nonzero = [k for k, v in expected.items() if v]
    assert len(nonzero) > 30  # the sample exercises the sheets


def test_summary_counts_from_the_inputs(sample_values, sample_frames):
    inward, _ = sample_frames
    cells = summaries.cell_map()
    accepted = int(((inward["Section"] == "B2B") & (inward["Action"] == "Accept")).sum())
    assert cell(sample_values, cells[("summary", "all_other", "B2B", "Accepted")]) == accepted
    total = sum(cell(sample_values, cells[("summary", b, s, "Total")])
                for b, secs in (("all_other", summaries.ALL_OTHER), ("imports", summaries.IMPORTS))
                for s in secs)
    assert total == len(inward)


def test_shared_formulas_give_the_same_values(lo, tmp_path, sample_frames, sample_values):
    inward, outward = sample_frames
    book = build_workbook(tmp_path / "shared.xlsm", inward, outward, SAMPLE_CONFIG, shared_formulas=True)
    import zipfile

    with zipfile.ZipFile(book) as z:
        assert 't="shared"' in z.read("xl/worksheets/sheet3.xml").decode()
    values = lo.values(book)
    _no_errors(values)
    for sheet in ("Inward", "Outward", "Summary", "GSTR-2B", "GSTR-3B", "Liability"):
        assert values[sheet]["values"] == sample_values[sheet]["values"], sheet


def _descendants(pid: int) -> list[int]:
    from pathlib import Path

    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            kids = [int(c) for c in (task / "children").read_text().split()]
            out += kids
            todo += kids
    return out


def test_session_restarts_after_soffice_dies(built):
    import os
    import signal

    with recalc.Session() as session:
        first = session.office_pid
        for pid in [first] + _descendants(first):  # the soffice this session started
            os.kill(pid, signal.SIGKILL)
        values = session.values(built, sheets=["Config"])
        assert values["Config"]["values"][0][0] == "Configuration"
        assert session.restarts == 1 and session.office_pid != first


def test_cli_fallback_session_gives_the_same_values(sample_book, sample_values, tmp_path):
    session = recalc.Session(mode="cli")
    assert session.mode == "cli"
    got = session.values(sample_book, sheets=["Inward", "Summary", "GSTR-3B", "Config"])
    for sheet in ("Inward", "Summary", "GSTR-3B"):
        assert got[sheet]["errors"] == []
        a, b = got[sheet]["values"], sample_values[sheet]["values"]
        assert len(a) == len(b), sheet
        diff = [(i, j, x, y) for i, (ra, rb) in enumerate(zip(a, b)) for j, (x, y) in enumerate(zip(ra, rb))
                if not (x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-6))]
        assert diff == [] and [len(r) for r in a] == [len(r) for r in b], (sheet, diff[:5])
    assert _config_value(got, "GSTINValid") == 1.0
    pdf = session.pdf(sample_book, tmp_path / "all.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_export_pdf_and_png(lo, sample_book, tmp_path):
    pdf = recalc.export_pdf(sample_book, ["Start", "GSTR-3B"], tmp_path / "s.pdf", session=lo)
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = recalc.export_png(pdf, tmp_path / "png", dpi=30)
    assert len(pages) == 2 and all(p.read_bytes().startswith(b"\x89PNG") for p in pages)
