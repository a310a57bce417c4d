"""Excel's limits are guarded before anything is written (issue 9; Microsoft's "Excel specifications and
limits": 1,048,576 rows, 32,767 characters in a cell, 8,192 in a formula): a clear error naming the file,
row and column, exit 2, and the workbook untouched."""

from __future__ import annotations

import csv
import hashlib
import re

import pytest

from ims_excel.book.edit import Edit
from ims_excel.book.new import make_book
from ims_excel.cli import main
from ims_excel.cli.demo import sample_path
from ims_excel.template.build import build_workbook
from ims_excel.xlsx import limits
from ims_excel.xlsx.limits import OverLimits
from ims_excel.xlsx.package import Package
from tests.support.sample import sample_inward


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_with(tmp_path, row: int, column: str, text: str):
    """The sample inward CSV with ``text`` in data row ``row`` (1-based), ``column``; other records renumbered
    so that none is already in the book."""
    with open(sample_path("sample_inward.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["Document Number"] = "NEW-" + r["Document Number"]
    rows[row - 1][column] = text
    out = tmp_path / "long.csv"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def test_limits_table():
    assert (limits.MAX_ROWS, limits.MAX_COLUMNS, limits.MAX_CELL_TEXT, limits.MAX_FORMULA) == \
        (1_048_576, 16_384, 32_767, 8_192)
    limits.check_rows(1_048_576, file="f.xlsm")  # the last row itself is fine
    with pytest.raises(OverLimits, match=r"f\.xlsm, sheet 'Inward': the records would need rows up to "
                                         r"1,048,600; an Excel sheet has 1,048,576 rows \(24 too many\)"):
        limits.check_rows(1_048_600, file="f.xlsm", sheet="Inward")
    assert limits.text_problems(["a" * 32_767, None, 5.0], file="f", column="c") == []
    [p] = limits.text_problems(["x", "a" * 32_768], file="f", column="Remarks", rows=[7, 9])
    assert (p.row, p.column) == (9, "Remarks") and "32,768 characters" in p.message
    assert limits.formula_problem("=" + "1+" * 4_095 + "1", file="f") is None  # 8,191 characters
    assert "8,193 characters" in limits.formula_problem("1+" * 4_096 + "1", file="f").message


def test_import_refuses_text_longer_than_a_cell_naming_the_source(sample_book, tmp_path, capsys):
    src = _csv_with(tmp_path, 3, "Supplier Name", "N" * 32_768)
    before = _digest(sample_book)
    assert main(["import", str(sample_book), str(src)]) == 2
    err = capsys.readouterr().err
    # row 4 of the file (its header is row 1), as every other problem in a CSV is named
    assert f"{src}, row 4, column 'Supplier Name': this text is 32,768 characters; an Excel cell holds at " \
           "most 32,767" in err
    assert _digest(sample_book) == before


def test_import_refuses_a_formula_longer_than_excel_allows(sample_book, tmp_path, capsys):
    """A table whose calculated column formula grew past 8,192 characters: no new row gets it."""
    with Package(sample_book) as pkg:
        table = pkg.table("Inward")
        edit = Edit(pkg)
        first = next(iter(table.formulas))
        long = table.formulas[first] + '&""' * 3_000
        text = pkg.text(table.part)
        text = text.replace("<calculatedColumnFormula>", "<calculatedColumnFormula>" + "\0", 1)
        text = re.sub("<calculatedColumnFormula>\0[^<]*", "<calculatedColumnFormula>"
                      + long.replace("&", "&amp;").replace('"', "&quot;"), text, count=1)
        edit.replace[table.part] = text.encode()
        edit.save(sample_book, backup=False)
        last = table.bounds[2]
    src = _csv_with(tmp_path, 1, "Supplier Name", "Fine")
    before = _digest(sample_book)
    assert main(["import", str(sample_book), str(src)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(sample_book))}, sheet 'Inward', row {last + 1}, column '{re.escape(first)}': "
                     rf"the formula is {len(long):,} characters; Excel allows at most 8,192", err), err
    assert _digest(sample_book) == before


def test_a_built_book_with_too_long_text_is_not_written(tmp_path):
    frame = sample_inward(5, seed=1)
    frame.loc[3, "Supplier Name"] = "S" * 40_000
    out = tmp_path / "big.xlsm"
    with pytest.raises(OverLimits) as e:
        build_workbook(out, frame)
    [p] = e.value.problems
    assert (p.file, p.sheet, p.row, p.column) == (str(out), "Inward", 5, "Supplier Name")  # sheet row 5
    assert not out.exists()
    with pytest.raises(OverLimits, match="column 'Supplier Name'"):
        make_book(tmp_path / "made.xlsm", frame, None, {"gstin": "27AAACR5055K1Z7", "period": "2026-10"})
    assert not (tmp_path / "made.xlsm").exists()
