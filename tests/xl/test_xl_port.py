"""The port (issue 13): the file adapter (:class:`ims_excel.book.filebook.FileBook`) and the open-workbook
adapter (:class:`ims_excel.xl.openbook.OpenBook`) give a use case the same workbook."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
import python_calamine as pc
from fakebook import FakeBook

from ims_excel.book import imports as book_imports, new as book_new, outputs, process as book_process
from ims_excel.book.filebook import FileBook
from ims_excel.book.port import context_of, evaluate_workbook
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.xl import macros
from ims_excel.xl.openbook import OpenBook
from ims_excel.xlsx.dates import serial


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    book = tmp_path_factory.mktemp("port") / "client.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Port Client", period=DEMO_CONTEXT["period"])
    book_new.set_config_as_of(book, DEMO_CONTEXT["as_of"])
    book_imports.import_sources(book, [sample_path("sample_inward.csv"), sample_path("sample_outward.csv")],
                                backup=False)
    return book


def test_both_adapters_read_the_same_records_config_and_engine_result(sample):
    """One model over two backends: the same typed records (every canonical column), the same Context,
    the same statuses and GSTR-3B Table 4."""
    opened = OpenBook(FakeBook.from_file(sample))
    with FileBook(sample) as wb:
        for name, d in (("Inward", "inward"), ("Outward", "outward")):
            f, o = wb.table(name, d), opened.table(name, d)
            assert (f.rows == o.rows).all() and f.inputs == o.inputs and f.last_filled == o.last_filled
            cols = [c for c in f.frame.columns if c not in ("source_file", "source_sheet")]
            pd.testing.assert_frame_equal(f.frame[cols].reset_index(drop=True),
                                          o.frame[cols].reset_index(drop=True), check_dtype=False)
        assert context_of(wb) == context_of(opened)
        res_f, rows_f, out_f = evaluate_workbook(wb)
    res_o, rows_o, out_o = evaluate_workbook(opened)
    assert (rows_f == rows_o).all() and (out_f == out_o).all()
    assert res_f.records["status"].tolist() == res_o.records["status"].tolist()
    assert res_f.gstr3b == res_o.gstr3b


def test_the_file_adapter_writes_nothing_when_nothing_changed(sample, tmp_path):
    book = tmp_path / "c.xlsm"
    shutil.copy(sample, book)
    before = book.read_bytes()
    with FileBook(book) as wb:
        t = wb.table("Inward", "inward")
        assert wb.write_table(t, {}, t.frame.iloc[:0]) is None
        assert wb.save() is False
    assert book.read_bytes() == before


def test_the_file_adapter_puts_sheets_and_appends_to_a_log(sample, tmp_path):
    """The port's sheet operations on a closed file: a report sheet from a grid (text stays text), a log
    sheet created with its header, then appended to."""
    book = tmp_path / "c.xlsm"
    shutil.copy(sample, book)
    grid = outputs.Grid([["Title"], ["=1+1", 5.0]], [0], [1], date_cols=set(), amount_cols={2}, widths={1: 20})
    with FileBook(book) as wb:
        wb.put_sheet("Report", grid, after="Inward")
        wb.append_rows("Log", ["When", "What"], [["today", "first"]])
        assert wb.save(backup=False) is True
    with FileBook(book) as wb:
        wb.append_rows("Log", ["When", "What"], [["later", "second"]])
        wb.save(backup=False)
    cal = pc.CalamineWorkbook.from_path(str(book))
    names = cal.sheet_names
    assert names[names.index("Inward") + 1] == "Report" and names[-1] == "Log"
    assert cal.get_sheet_by_name("Report").to_python()[1][:2] == ["=1+1", 5.0]
    assert cal.get_sheet_by_name("Log").to_python() == [["When", "What"], ["today", "first"], ["later", "second"]]


def test_one_write_per_table_per_save(sample, tmp_path):
    """A table's sheet is rewritten in one streamed pass; a second write would start from the file again and
    lose the first, so it is refused."""
    book = tmp_path / "c.xlsm"
    shutil.copy(sample, book)
    with FileBook(book) as wb:
        t = wb.table("Inward", "inward")
        row = int(t.rows[0])
        wb.write_table(t, {row: {"Remarks": "checked"}}, t.frame.iloc[:0])
        with pytest.raises(ValueError, match="one write_table per table"):
            wb.write_table(t, {row: {"Remarks": "again"}}, t.frame.iloc[:0])


def _cells(grid: list[list[object]]) -> list[list[object]]:
    """A sheet's rows as compared across the adapters: trailing blanks dropped, dates as Excel serials
    (a file's date cell reads back as a date, the open workbook holds what was written), whole floats
    as ints."""
    def norm(v: object) -> object:
        if isinstance(v, (dt.datetime, dt.date)):
            return float(serial(v))
        if v == "":
            return None
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    rows = [[norm(v) for v in r] for r in grid]
    rows = [r[:max((k + 1 for k, v in enumerate(r) if v is not None), default=0)] for r in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def test_the_buttons_and_the_command_write_the_same_validation_and_liability(sample, tmp_path):
    """Issue 13, one use case (:func:`ims_excel.book.processing.process_into`): the Validate and
    Build-liability buttons on the open workbook write the same Validation sheet and the same Liability
    add-back block, at the same row, as ``ims-excel process`` writes into the file."""
    when = dt.datetime(2026, 11, 26, 10, 59)
    fake = FakeBook.from_file(sample)
    assert macros.validate(fake, now=when).startswith("Validation: 34 records")
    text = macros.build_liability(fake, now=when)
    assert text.startswith("Liability: 3 add-back rows")
    book = tmp_path / "c.xlsm"
    shutil.copy(sample, book)
    rep = book_process.process(book, stamp=when.strftime("%d-%m-%Y %H:%M"), backup=False)
    assert len(rep.result.liability) == 3
    cal = pc.CalamineWorkbook.from_path(str(book))

    def file_rows(sheet: str) -> list[list[object]]:
        return cal.get_sheet_by_name(sheet).to_python(skip_empty_area=False)

    opened = _cells(fake.sheets["Validation"].used_range.options(ndim=2).value)
    written = _cells(file_rows("Validation"))
    assert opened == written and len(opened) > 30
    assert any("PEND_WINDOW_OVER" in r for r in written)
    lia = fake.sheets["Liability"]
    used = lia.used_range
    top = used.row - 1
    opened = _cells([[None] * (used.column - 1) + r for r in ([[]] * top + used.options(ndim=2).value)])
    written = _cells(file_rows("Liability"))
    mark = next(k for k, r in enumerate(written) if r and isinstance(r[0], str)
                and r[0].startswith(outputs.LIABILITY_MARK))
    assert f"(row {mark + 1})" in text  # the same row, by the one placement rule
    assert opened[mark:] == written[mark:] and any("SCN-901" in r for r in written[mark:])
