"""Right numbers without recalculation (issue 9): every formula cell of the template and of a new book
caches the value LibreOffice computes for it, typed as Excel types it (``t="str"`` for text, empty text
included; ``t="b"`` for TRUE/FALSE; numbers bare), and such a book does not force ``fullCalcOnLoad``."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from ims_excel.book.imports import import_sources
from ims_excel.book.new import new_workbook, set_config_as_of
from ims_excel.book.process import process
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.template.build import DEFAULT_OUT as COMMITTED
from ims_excel.template.build import SHEETS, build_workbook
from ims_excel.template.specs import spec

STATUS2 = f"{xl_col_to_name(spec('inward').headers.index('Status'))}2"
"""Inward's Status cell on the template's empty row (its column moves as input columns are added)."""

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
    assert cached["Config"]["C4"] is False and cached["Inward"][STATUS2] == ""  # typed, not 0
    assert differences(book, lo.values(book)) == []
    assert "fullCalcOnLoad" not in calc_pr(book)


def test_committed_template_types_its_cached_values():
    text = zipfile.ZipFile(COMMITTED).read("xl/worksheets/sheet3.xml").decode()
    assert f'<c r="{STATUS2}" s=' in text
    assert re.search(rf'<c r="{STATUS2}"[^>]*t="str"[^>]*><f>[^<]*</f><v></v>', text)
    assert "fullCalcOnLoad" not in calc_pr(COMMITTED)


@pytest.mark.parametrize("settings", [
    {"gstin": "27AAACR5055K1Z7", "period": "2026-10"},
    {"gstin": "29AAACS2222T1ZX", "name": "Q Ltd", "period": "2026-11", "frequency": "Quarterly"},
    {"gstin": "27AAACR5055K1Z7", "period": "2026-03", "frequency": "quarterly", "state": "7",
     "taxpayer_type": "Composition"},
], ids=["monthly", "quarterly", "override"])
def test_a_new_book_caches_its_config_and_headings(lo, tmp_path, settings):
    book = new_workbook(tmp_path / "client.xlsm", **settings)
    assert differences(book, lo.values(book)) == []
    assert cached_formula_values(book)["Summary"]["C2"] == settings["gstin"]
    assert "fullCalcOnLoad" not in calc_pr(book)


def test_config_with_dates_and_a_bad_gstin(lo, tmp_path):
    book = build_workbook(tmp_path / "b.xlsm", config={"gstin": "27AAACR5055K1Z8", "period": "2026-1",
                                                       "as_of": "2026-11-26", "annual_return_filed_on": "2026-02-10"})
    cached = cached_formula_values(book)["Config"]
    assert cached["C4"] is False and cached["C6"] == "not YYYY-MM"  # check character wrong; the period label says so
    assert differences(book, lo.values(book)) == []


def test_import_asks_for_a_calculation(tmp_path):
    book = new_workbook(tmp_path / "client.xlsm", gstin="27AAACR5055K1Z7", period="2026-10")
    import_sources(book, [sample_path("sample_inward.csv")], backup=False)
    assert 'fullCalcOnLoad="1"' in calc_pr(book)  # the new rows' values are left to process


# ------------------------------------------------------------------ a processed book

@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """The bundled sample as a client book (new, import, process), as of the demo date."""
    book = tmp_path_factory.mktemp("processed") / "client.xlsm"
    new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Sample Client", period=DEMO_CONTEXT["period"])
    set_config_as_of(book, DEMO_CONTEXT["as_of"])
    import_sources(book, [sample_path("sample_inward.csv"), sample_path("sample_outward.csv")],
                           backup=False)
    process(book, backup=False)
    return book


def _from_report_json(report: dict) -> dict:
    """Summary cells as ``report --json`` states them: GSTR-3B Table 4 (4(C) = 4(A) - 4(B)(2)), each
    GSTR-2B bucket by section, the add-back liability (this period's and all), the status counts."""
    from ims_excel.template import summaries

    exp = {}
    period = report["context"]["period"]  # a monthly return: its own month
    rows = report["liability"]
    for (sheet, block, row, c) in summaries.cell_map():
        key = (sheet, block, row, c)
        h = c.lower()
        if sheet == "gstr3b" and row in summaries.TABLE4_OWN:
            exp[key] = ""  # the taxpayer's own entry: a blank input cell, nothing cached
        elif sheet == "gstr3b":
            t4 = report["gstr3b"]
            exp[key] = (sum(t4[k][h] for k in ("4A1", "4A3", "4A4", "4A5")) - t4["4B2"][h] if row == "4C"
                        else t4[row][h])
        elif sheet == "gstr2b":
            by = report["gstr2b"].get(block, {})
            name = "total" if row == "Total" else row  # the bucket's total is one of its entries
            parts = [by[name]] if name in by else []
            exp[key] = float(sum(p["count" if c == "Records" else h] for p in parts))
        elif sheet == "liability":
            rr = [r for r in rows if block == "addback" or r["gstr3b_period"] == period]
            rr = rr if row == "Total" else [r for r in rr if r["gstr3b_table"] == row]
            exp[key] = float(len(rr) if c == "Records" else sum(r["taxable_value" if c == "Taxable" else h]
                                                                 for r in rr))
        elif sheet == "summary" and block == "status":
            exp[key] = float(sum(r["status"] == row for r in report["records"]))
    return exp


def test_a_processed_book_shows_the_engines_numbers_without_calculating(processed, lo, capsys):
    """python-calamine never calculates: it reads each cell's cached value. Every summary cell it reads
    equals ``report --json`` (GSTR-3B, GSTR-2B, Liability, status counts) and LibreOffice's
    recalculation (every formula cell of every sheet, the IMS blocks included)."""
    import json

    import python_calamine as pc

    from ims_excel.cli import main
    from ims_excel.template import summaries

    assert main(["report", str(processed), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    wb = pc.CalamineWorkbook.from_path(str(processed))
    grids = {}
    cells = summaries.cell_map()
    expected = _from_report_json(report)
    assert len(expected) > 200 and any(v for v in expected.values())
    wrong = []
    for key, value in expected.items():
        sheet, a1 = cells[key].rsplit("!", 1)
        sheet = sheet.strip("'")
        grid = grids.setdefault(sheet, wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
        r, c = xl_cell_to_rowcol(a1)
        if value == "":  # an input cell (Table 4's own entries): blank in the processed book
            if grid[r][c] != "":
                wrong.append((key, grid[r][c], value))
        elif abs(float(grid[r][c]) - value) >= 0.005:
            wrong.append((key, grid[r][c], value))
    assert wrong == []
    assert differences(processed, lo.values(processed)) == []
    assert "fullCalcOnLoad" not in calc_pr(processed)
    assert cached_formula_values(processed)["Summary"]["C3"] == "Sample Client"
