"""The Import button merges as ``ims-excel import`` does (issues 10 and 13): the same use case
(:func:`ims_excel.book.imports.merge_into`) through the port, the file adapter for the command and the
open-workbook adapter for the button; the same sequence of imports gives the same tables, the same
Changes sheet and the same summary."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from fakebook import FakeBook

from ims_excel.book import new as book_new
from ims_excel.cli import main
from ims_excel.cli.demo import sample_path
from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS, header_key
from ims_excel.xl import macros
from tests.support.ims_download import SUPPLIER, ims_record, write_ims_json

GSTIN = "29AAACS2222T1ZX"
S1 = SUPPLIER
INPUT_KEYS = {c.key for c in INWARD_COLUMNS} | {c.key for c in OUTWARD_COLUMNS}




@pytest.fixture
def sources(tmp_path) -> list[list[Path]]:
    """The month as an accountant lives it (rulebook G3; formats-and-market.md 2.3 for the error file)."""
    d1 = write_ims_json(tmp_path / "d1.json", [ims_record("INV-1", srcfilstatus="Not Filed"), ims_record("INV-2", action="R"),
                                       ims_record("INV-3"), ims_record("INV-4", srcfilstatus="Not Filed"),
                                       ims_record("=HYPERLINK(1)")])
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("Section,Supplier GSTIN,Document Number,Document Date,Action,Remarks\n"
                         f"B2B,{S1},INV-3,05-10-2025,Reject,rate differs\n", encoding="utf-8")
    d2 = write_ims_json(tmp_path / "d2.json", [
        ims_record("INV-1", iamt=200.0, val=1200.0),  # filed now, IGST changed: updated
        ims_record("INV-2", action="N", txval=900.0, iamt=162.0, val=1062.0),  # the supplier edited it: reset (G3)
        ims_record("INV-3"), ims_record("=HYPERLINK(1)"),  # INV-4 (saved, not filed) deleted by its supplier: gone
        ims_record("INV-5", idt="07-10-2025")])  # new
    err = write_ims_json(tmp_path / "err.json", [ims_record("INV-3", action="R", error_msg="Remarks are blocked for this record"),
                                        ims_record("INV-9", error_msg="not in IMS")], envelope="imsDetailsErr")
    return [[d1, sample_path("sample_outward.csv")], [decisions], [d2], [err], [d2]]


def _normal(v: object) -> object:
    """A cell as Excel holds it: a date is its serial (the column's format shows it as a date)."""
    if isinstance(v, dt.datetime):
        return float((v - dt.datetime(1899, 12, 30)).days)
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return None if v == "" else v


def _has_formula(sheet, r: int, c: int) -> bool:
    cell = sheet.cell(r, c)
    return cell is not None and bool(cell.formula)


def _table(book: FakeBook, name: str) -> tuple[tuple, list[list], list[list]]:
    """(table range, input cells by row, which formula cells hold a formula) of a table."""
    sheet = book.sheets[name]
    t = sheet.tables[name]
    header = [str(h) for h in t.range.options(ndim=2).value[0]]
    inputs = [j for j, h in enumerate(header) if header_key(h) in INPUT_KEYS]
    formulas = [j for j in range(len(header)) if t.c1 + j in sheet.column_formulas.get(name, {})]
    cells, has_formula = [[header[j] for j in inputs]], []
    for r in range(t.r1 + 1, t.r2 + 1):
        cells.append([_normal(sheet.get(r, t.c1 + j)) for j in inputs])
        has_formula.append([_has_formula(sheet, r, t.c1 + j) for j in formulas])
    return (t.r1, t.c1, t.r2, t.c2), cells, has_formula


def _changes(book: FakeBook) -> list[list]:
    """The Changes sheet without its first column (the minute of the import)."""
    grid = book.sheets["Changes"].used_range.options(ndim=2).value
    return [[_normal(v) for v in r[1:]] for r in grid]


def test_the_button_and_the_command_give_the_same_workbook(tmp_path, sources, capsys):
    """Issue 10 through the Excel door: download 1 (+ Outward), a decisions file, download 2 (a record
    changed, one edited by its supplier, one gone, one new), the portal's error file, download 2 again:
    after each, the command's file and the button's open workbook hold the same Inward, Outward and
    Changes cells, and both say the same."""
    empty = tmp_path / "empty.xlsm"
    book_new.new_workbook(empty, gstin=GSTIN, name="Twin", period="2025-10")
    cli_book = tmp_path / "cli.xlsm"
    shutil.copy(empty, cli_book)
    button = FakeBook.from_file(empty)
    for step in sources:
        capsys.readouterr()
        assert main(["import", str(cli_book), *map(str, step), "--no-backup"]) == 0
        said = capsys.readouterr().out.splitlines()
        # the file's cache-only step (issue 9) says what it did; in Excel the book calculates itself
        said = [s for s in said if not s.startswith(("  note: the formula cells' values are left to Excel",))
                and "formula cells had been typed over" not in s]
        shown = macros.import_data(button, list(map(str, step))).splitlines()
        assert said[-1].startswith("Next:") and shown[-1] == "Next: Validate."
        assert shown[:-1] == said[:-1]
        on_file = FakeBook.from_file(cli_book)
        for name in ("Inward", "Outward"):
            assert _table(button, name) == _table(on_file, name), name
        assert _changes(button) == _changes(on_file)
    # what the sequence did, on both: the cases
    _, cells, _ = _table(button, "Inward")
    rows = {r[cells[0].index("Document Number")]: dict(zip(cells[0], r)) for r in cells[1:]}
    assert set(rows) == {"INV-1", "INV-2", "INV-3", "INV-4", "INV-5", "=HYPERLINK(1)"}
    assert rows["INV-1"]["IGST"] == 200 and rows["INV-1"]["Supplier Filing Status"] == "Filed"
    assert rows["INV-2"]["Action"] is None and "reset to No Action (G3)" in rows["INV-2"]["Supplier Change"]
    assert rows["INV-3"]["Action"] == "Reject" and rows["INV-3"]["Remarks"] == "rate differs"
    assert rows["INV-3"]["Portal Error"] == "Remarks are blocked for this record"
    assert rows["INV-4"]["Gone From IMS"] == "Y"
    inward = button.sheets["Inward"]
    doc_col = inward.tables["Inward"].c1 + cells[0].index("Document Number")
    nasty = next(r for r in range(2, 10) if inward.get(r, doc_col) == "=HYPERLINK(1)")
    assert inward.cell(nasty, doc_col).formula is None  # text, never a formula
    whats = [r[0] for r in _changes(button)[1:]]
    assert {"added", "decision", "updated", "reset", "gone", "portal error", "not found"} <= set(whats)


def test_importing_twice_from_the_button_changes_nothing(tmp_path, sources):
    """Issue 10: importing the same file twice changes nothing (not a cell, not the Changes sheet)."""
    empty = tmp_path / "empty.xlsm"
    book_new.new_workbook(empty, gstin=GSTIN, name="Twin", period="2025-10")
    button = FakeBook.from_file(empty)
    for step in sources[:3]:
        macros.import_data(button, list(map(str, step)))
    before = {s.name: {k: (c.value, c.formula) for k, c in s.cells.items()} for s in button.sheets}
    text = macros.import_data(button, list(map(str, sources[2])))
    assert text.startswith("Inward: 0 added, 0 updated, 0 action reset by a supplier's change, 0 gone from IMS")
    assert {s.name: {k: (c.value, c.formula) for k, c in s.cells.items()} for s in button.sheets} == before


def test_a_workbook_without_an_inward_table_is_named_not_a_traceback(tmp_path):
    """Bad input names the file and what to do (project standard), through either adapter."""
    empty = tmp_path / "empty.xlsm"
    book_new.new_workbook(empty, gstin=GSTIN, name="Twin", period="2025-10")
    button = FakeBook.from_file(empty)
    del button.sheets["Inward"].tables["Inward"]
    text = macros.validate(button)
    assert text.startswith("Cannot use this input") and "has no Excel table named 'Inward'" in text
    assert "empty.xlsm" in text


def test_reconcile_apply_writes_through_the_port_and_leaves_inward_sortable(tmp_path):
    """Issue 9: Inward stays unprotected (Excel sorts only unlocked cells of a protected sheet); copying the
    suggestions into blank Actions (issue 11) goes through the same table writer as the import."""
    empty = tmp_path / "empty.xlsm"
    book_new.new_workbook(empty, gstin="27AAACR5055K1Z7", name="Twin", period="2026-10")
    button = FakeBook.from_file(empty)
    macros.import_data(button, [str(sample_path("sample_inward.csv"))])
    text = macros.reconcile(button, [str(sample_path("sample_purchases.csv"))], apply=True)
    assert "Filled 6 blank Action cells" in text
    inward = button.sheets["Inward"]
    assert not inward.protected and inward.api.calls == []


def test_a_field_changed_on_every_row_is_one_write_per_column(tmp_path, monkeypatch):
    """Each xlwings write is a round trip to Excel: a newer download that files every record (Supplier
    Filing Status on all rows) is written as one block, not a call per cell."""
    empty = tmp_path / "empty.xlsm"
    book_new.new_workbook(empty, gstin=GSTIN, name="Twin", period="2025-10")
    button = FakeBook.from_file(empty)
    docs = [f"INV-{k}" for k in range(40)]
    macros.import_data(button, [str(write_ims_json(tmp_path / "d1.json", [ims_record(d, srcfilstatus="Not Filed") for d in docs]))])
    writes: list[tuple] = []
    sheet = button.sheets["Inward"]
    real = type(sheet).range

    def counting(self, a, b=None):
        rng = real(self, a, b)
        if self is sheet:
            writes.append((rng.r1, rng.c1))
        return rng
    monkeypatch.setattr(type(sheet), "range", counting)
    text = macros.import_data(button, [str(write_ims_json(tmp_path / "d2.json", [ims_record(d) for d in docs]))])
    assert "40 updated" in text
    assert len(writes) == 1 and writes[0][0] == 2  # one column, rows 2-41, in one write
    col = writes[0][1]
    assert [sheet.get(r, col) for r in range(2, 42)] == ["Filed"] * 40
