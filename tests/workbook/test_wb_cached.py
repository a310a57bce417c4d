"""Right numbers without recalculation (issue 9): every formula cell of the template and of a new book
caches the value LibreOffice computes for it, typed as Excel types it (``t="str"`` for text, empty text
included; ``t="b"`` for TRUE/FALSE; numbers bare), and such a book does not force ``fullCalcOnLoad``."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest
from xlsxwriter.utility import xl_cell_to_rowcol

from ims_excel.book import io as book_io
from ims_excel.cli import sample_path
from ims_excel.template.build import DEFAULT_OUT as COMMITTED
from ims_excel.template.build import SHEETS, build_workbook

CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)><f>[^<]*</f><v>([^<]*)</v></c>')


def cached_formula_values(path) -> dict[str, dict[str, object]]:
    """``{sheet: {A1: cached value}}`` of every formula cell, typed by its ``t`` attribute (ECMA-376
    §18.3.1.4 / §18.18.11 ST_CellType: b boolean, e error, str formula string, none a number)."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for i, (name, _) in enumerate(SHEETS, start=1):
            cells = {}
            for ref, attrs, v in CELL.findall(z.read(f"xl/worksheets/sheet{i}.xml").decode("utf-8")):
                t = re.search(r'\bt="(\w+)"', attrs)
                t = t.group(1) if t else "n"
                cells[ref] = {"b": lambda x: x == "1", "str": str, "e": str}.get(t, float)(v)
            out[name] = cells
    return out


def calc_pr(path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.search(r"<calcPr\b[^>]*>", z.read("xl/workbook.xml").decode()).group(0)


def differences(path, lo_values) -> list:
    diffs = []
    for sheet, cells in cached_formula_values(path).items():
        rows = lo_values[sheet]["values"]
        for ref, cached in cells.items():
            r, c = xl_cell_to_rowcol(ref)
            lo = rows[r][c] if r < len(rows) and c < len(rows[r]) else ""
            if isinstance(cached, bool):
                cached = float(cached)  # LibreOffice's UNO reads TRUE/FALSE as 1/0
            same = abs(cached - lo) < 0.005 if isinstance(cached, float) and isinstance(lo, float) else cached == lo
            if not same:
                diffs.append((sheet, ref, cached, lo))
    return diffs


def test_template_caches_what_libreoffice_computes(lo, tmp_path):
    book = build_workbook(tmp_path / "template.xlsm", today=dt.date.today())  # TODAY() as LibreOffice has it
    cached = cached_formula_values(book)
    assert sum(len(v) for v in cached.values()) > 600
    assert cached["Config"]["C4"] is False and cached["Inward"]["AQ2"] == ""  # typed, not 0
    assert differences(book, lo.values(book)) == []
    assert "fullCalcOnLoad" not in calc_pr(book)


def test_committed_template_types_its_cached_values():
    text = zipfile.ZipFile(COMMITTED).read("xl/worksheets/sheet3.xml").decode()
    assert '<c r="AQ2" s=' in text and re.search(r'<c r="AQ2"[^>]*t="str"[^>]*><f>[^<]*</f><v></v>', text)
    assert "fullCalcOnLoad" not in calc_pr(COMMITTED)


@pytest.mark.parametrize("settings", [
    {"gstin": "27AAACR5055K1Z7", "period": "2026-10"},
    {"gstin": "29AAACS2222T1ZX", "name": "Q Ltd", "period": "2026-11", "frequency": "Quarterly"},
    {"gstin": "27AAACR5055K1Z7", "period": "2026-03", "frequency": "quarterly", "state": "7",
     "taxpayer_type": "Composition"},
], ids=["monthly", "quarterly", "override"])
def test_a_new_book_caches_its_config_and_headings(lo, tmp_path, settings):
    book = book_io.new_workbook(tmp_path / "client.xlsm", **settings)
    assert differences(book, lo.values(book)) == []
    assert cached_formula_values(book)["Summary"]["C2"] == settings["gstin"]
    assert "fullCalcOnLoad" not in calc_pr(book)


def test_config_with_dates_and_a_bad_gstin(lo, tmp_path):
    book = build_workbook(tmp_path / "b.xlsm", config={"gstin": "27AAACR5055K1Z8", "period": "2026-1",
                                                       "as_of": "2026-11-26", "annual_return_filed_on": "2026-02-10"})
    cached = cached_formula_values(book)["Config"]
    assert cached["C4"] is False and cached["C6"] == ""  # check character wrong; period not YYYY-MM
    assert differences(book, lo.values(book)) == []


def test_import_asks_for_a_calculation(tmp_path):
    book = book_io.new_workbook(tmp_path / "client.xlsm", gstin="27AAACR5055K1Z7", period="2026-10")
    book_io.import_sources(book, [sample_path("sample_inward.csv")], backup=False)
    assert 'fullCalcOnLoad="1"' in calc_pr(book)  # the new rows' values are left to process
