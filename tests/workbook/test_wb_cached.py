"""Right numbers without recalculation (issue 9): every formula cell of the template and of a new book
caches the value LibreOffice computes for it, typed as Excel types it (``t="str"`` for text, empty text
included; ``t="b"`` for TRUE/FALSE; numbers bare), and such a book does not force ``fullCalcOnLoad``."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import unescape

import numpy as np
import pandas as pd
import pytest
import python_calamine as pc
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from ims_excel.book.imports import import_sources
from ims_excel.book.new import make_book, new_workbook, set_config_as_of
from ims_excel.book.process import process
from ims_excel.book.read import evaluate_book, load_book
from ims_excel.book.roll import roll
from ims_excel.book.upgrade import upgrade
from ims_excel.cli import main
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.template.build import DEFAULT_OUT as COMMITTED
from ims_excel.template.build import SHEETS, build_workbook
from ims_excel.template import inward as inward_mod, outward as outward_mod, summaries
from ims_excel.template.specs import spec
from tests.support import synthetic

STATUS2 = f"{xl_col_to_name(spec('inward').headers.index('Status'))}2"
"""Inward's Status cell on the template's empty row (its column moves as input columns are added)."""

CELL = re.compile(r'<c r="([A-Z]+\d+)"([^>]*)>(?:<f>[^<]*</f>|<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)<v>([^<]*)</v></c>')
"""A formula cell with its cached value: one formula per cell, or a shared formula's first or other cells."""


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
                text = lambda x: unescape(x, {"&quot;": '"', "&apos;": "'"})  # noqa: E731 (XML text)
                cells[ref] = {"b": lambda x: x == "1", "str": text, "e": text}.get(t, float)(v)
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


def test_config_says_a_return_period_before_ims(lo, tmp_path):
    """ims-rules.md D28 (S1, S2): IMS started with the Oct-2024 GSTR-2B. A return period before it (refused by
    ``process`` / ``report``, tests/test_return_period.py) is marked beside Config's cell, cached as Excel
    computes it; Oct-2024 reads as a month."""
    for period, label in (("2024-09", "before IMS (Oct-2024)"), ("2024-10", "Oct-2024")):
        book = build_workbook(tmp_path / f"{period}.xlsm", config={"gstin": "27AAACR5055K1Z7", "period": period,
                                                                   "as_of": "2024-11-05"})
        assert cached_formula_values(book)["Config"]["C6"] == label
        assert differences(book, lo.values(book)) == []


def test_import_into_a_book_without_settings_leaves_the_values_to_excel_and_says_why(tmp_path):
    """A copy of the template (no GSTIN, no period): the engine cannot evaluate it, so the import's
    records go in as before, the book asks Excel for a full calculation, and the report says why."""
    book = tmp_path / "template-copy.xlsm"
    book.write_bytes(COMMITTED.read_bytes())
    rep = import_sources(book, [sample_path("sample_inward.csv")], backup=False)
    assert rep.added == {"Inward": 34} and "Recipient GSTIN" in rep.not_cached and str(book) in rep.not_cached
    assert 'fullCalcOnLoad="1"' in calc_pr(book)


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


def report_json(book, capsys) -> dict:
    """``ims-excel report BOOK --json``, as a user would run it."""
    assert main(["report", str(book), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def summary_mismatches(book, report: dict) -> list:
    """Every summary cell (GSTR-3B, GSTR-2B, Liability, status counts) whose cached value, as
    python-calamine reads it (it never calculates), differs from ``report --json``."""
    wb = pc.CalamineWorkbook.from_path(str(book))
    grids = {}
    cells = summaries.cell_map()
    expected = _from_report_json(report)
    assert len(expected) > 200
    wrong = []
    for key, value in expected.items():
        sheet, a1 = cells[key].rsplit("!", 1)
        sheet = sheet.strip("'")
        grid = grids.setdefault(sheet, wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
        r, c = xl_cell_to_rowcol(a1)
        if value == "":  # an input cell (Table 4's own entries): blank
            if grid[r][c] != "":
                wrong.append((key, grid[r][c], value))
        elif abs(float(grid[r][c]) - value) >= 0.005:
            wrong.append((key, grid[r][c], value))
    return wrong


def _comparable(v):
    """A cell as calamine reads it and an engine value, made comparable: dates as Excel serials."""
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return float((pd.Timestamp(v) - pd.Timestamp("1899-12-30")).days)
    if isinstance(v, dt.date):
        return float((v - dt.date(1899, 12, 30)).days)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else v


def table_mismatches(book, report: dict) -> tuple[list, int]:
    """(differences, cells checked) between every formula cell of the Inward and Outward tables, as
    python-calamine reads it, and the engine's value for it (``cached_values`` of the result ``report``
    computes; every computed column of the table's spec, whatever columns it has), and between the
    Status / Message / Effective Action cells and ``report --json``'s records."""
    b = load_book(book)
    result = evaluate_book(b)
    wb = pc.CalamineWorkbook.from_path(str(book))
    wrong, checked = [], 0
    for td, mod in ((b.inward, inward_mod), (b.outward, outward_mod)):
        if td is None or not len(td.rows):
            continue
        values = mod.cached_values(result)
        assert set(td.computed) <= set(values.columns), "a formula column the engine gives no value for"
        rows = wb.get_sheet_by_name(td.table.sheet).to_python(skip_empty_area=False)
        header = rows[0]
        for k, r in enumerate(td.rows):
            got = dict(zip(header, rows[r - 1]))
            for h in td.computed:
                g, w = _comparable(got[h]), _comparable(values[h].iloc[k])
                same = abs(g - w) < 0.005 if isinstance(g, float) and isinstance(w, float) else g == w
                if not same:
                    wrong.append((td.table.sheet, r, h, g, w))
                checked += 1
            if mod is inward_mod:
                rec = report["records"][k]
                for h, key in (("Status", "status"), ("Message", "message"), ("Effective Action", "effective_action")):
                    want = rec[key].upper() if key == "status" and got[h].isupper() else rec[key]
                    if got[h] != want:
                        wrong.append(("report", r, h, got[h], want))
    return wrong, checked


def test_a_processed_book_shows_the_engines_numbers_without_calculating(processed, lo, capsys):
    """python-calamine never calculates: it reads each cell's cached value. Every summary cell it reads
    equals ``report --json`` (GSTR-3B, GSTR-2B, Liability, status counts) and LibreOffice's
    recalculation (every formula cell of every sheet, the IMS blocks included)."""
    report = report_json(processed, capsys)
    assert any(v for v in _from_report_json(report).values())
    assert summary_mismatches(processed, report) == []
    assert differences(processed, lo.values(processed)) == []
    assert "fullCalcOnLoad" not in calc_pr(processed)
    assert cached_formula_values(processed)["Summary"]["C3"] == "Sample Client"


# ------------------------------------------------------------------ import, roll and upgrade

def _sample_client(folder) -> Path:
    """The bundled sample client book (new, as of the demo date), records imported, not processed."""
    book = folder / "client.xlsm"
    new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Sample Client", period=DEMO_CONTEXT["period"])
    set_config_as_of(book, DEMO_CONTEXT["as_of"])
    import_sources(book, [sample_path("sample_inward.csv"), sample_path("sample_outward.csv")], backup=False)
    return book


def _merged(folder) -> Path:
    """The sample client book, then the user's own file imported again with other decisions (merge:
    rows rewritten in place) and new records (appended)."""
    book = _sample_client(folder)
    mine = pd.read_csv(sample_path("sample_inward.csv"), dtype=str, keep_default_na=False)
    mine.loc[:5, "Action"] = ["Reject", "Pending", "Accept", "", "Reject", "Pending"]
    extra = mine.iloc[:3].copy()
    extra["Document Number"] = extra["Document Number"] + "-X"
    pd.concat([mine, extra]).to_csv(folder / "mine.csv", index=False)
    rep = import_sources(book, [folder / "mine.csv"], backup=False)
    assert rep.counts.get("decision", 0) >= 4 and rep.added == {"Inward": 3}
    return book


def _rolled(folder) -> Path:
    return roll(_sample_client(folder), "2026-11", filed=True).out


def _upgraded(folder) -> Path:
    book = _sample_client(folder)
    upgrade(book)
    return book


def _shared(folder) -> Path:
    """A big-book form: 400 synthetic records with A1 shared formulas (``make_book``)."""
    return make_book(folder / "shared.xlsm", synthetic.inward(400, seed=5), synthetic.outward(60, seed=5),
                     {"gstin": "27AAACR5055K1Z7", "legal_name": "Shared Ltd", "period": "2026-10",
                      "as_of": "2026-11-26"}, shared_formulas=True)


def _shared_rolled(folder) -> Path:
    return roll(_shared(folder), "2026-11", filed=True).out


def _shared_upgraded(folder) -> Path:
    book = _shared(folder)
    upgrade(book)
    return book


BOOKS = {"import": _sample_client, "import-merge": _merged, "roll": _rolled, "upgrade": _upgraded,
         "roll-shared": _shared_rolled, "upgrade-shared": _shared_upgraded}


@pytest.fixture(scope="module", params=list(BOOKS))
def commanded(request, tmp_path_factory):
    """(command, book) after ``import`` / ``roll`` / ``upgrade`` (no ``process``)."""
    return request.param, BOOKS[request.param](tmp_path_factory.mktemp(request.param))


def _shares(book) -> bool:
    with zipfile.ZipFile(book) as z:
        return b'<f t="shared"' in z.read("xl/worksheets/sheet3.xml")


def test_import_roll_and_upgrade_leave_the_engines_numbers_without_calculating(commanded, capsys):
    """Issue 9, right numbers without recalculation: after ``import`` (new rows and merged ones),
    ``roll`` and ``upgrade`` every formula cell of the Inward and Outward tables caches the engine's value
    and every summary cell ``report --json``'s number, as python-calamine (which never calculates) reads
    them; the book does not ask Excel for a full calculation on load (ECMA-376 §18.2.2 calcPr
    fullCalcOnLoad). ``roll`` and ``upgrade`` keep a book's shared formulas."""
    command, book = commanded
    report = report_json(book, capsys)
    assert summary_mismatches(book, report) == []
    wrong, checked = table_mismatches(book, report)
    assert wrong == [] and checked >= 100
    assert "fullCalcOnLoad" not in calc_pr(book)
    assert cached_formula_values(book)["Config"]["C4"] is True  # the GSTIN check, cached as TRUE
    assert _shares(book) == command.endswith("shared")
    assert any(v for v in _from_report_json(report).values())


@pytest.mark.parametrize("command", ["import-merge", "roll-shared"])
def test_libreoffice_recalculation_agrees_with_the_cached_values(command, lo, tmp_path):
    """The values cached by ``import`` (merged rows) and by ``roll`` (shared formulas) are what LibreOffice
    computes from the formulas: every formula cell of every sheet."""
    book = BOOKS[command](tmp_path)
    assert sum(len(v) for v in cached_formula_values(book).values()) > 2000
    assert differences(book, lo.values(book)) == []


def test_import_gives_a_typed_over_formula_cell_its_formula_back_and_says_so(tmp_path, capsys):
    """The cache-only step is ``process``'s: a value typed over a computed cell of Inward (the sheet is
    not protected, issue 9) gets the column formula back, with the engine's value, and ``import`` lists
    the cell as ``process`` does."""
    book = _sample_client(tmp_path)
    bk = load_book(book)
    header = next(iter(bk.inward.computed))
    ref = f"{xl_col_to_name(bk.inward.computed[header] - 1)}3"
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    part = "xl/worksheets/sheet3.xml"
    xml = entries[part].decode()
    cell = re.search(rf'<c r="{ref}"[^>]*>.*?</c>', xml).group(0)
    entries[part] = xml.replace(cell, f'<c r="{ref}" t="inlineStr"><is><t>checked by CA</t></is></c>').encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    extra = pd.read_csv(sample_path("sample_inward.csv"), dtype=str, keep_default_na=False).iloc[:1]
    extra["Document Number"] = "NEW-1"
    extra.to_csv(tmp_path / "one.csv", index=False)
    capsys.readouterr()
    assert main(["import", str(book), str(tmp_path / "one.csv"), "--no-backup"]) == 0
    assert f"Inward: 1 formula cells had been typed over; their formulas are restored: {ref}." \
        in capsys.readouterr().out
    report = report_json(book, capsys)
    assert table_mismatches(book, report)[0] == [] and "fullCalcOnLoad" not in calc_pr(book)
