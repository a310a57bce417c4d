"""Nothing the user typed is lost by ``process`` (a reviewer's findings): a value typed over a formula cell
is kept on the Changes sheet; a note where ``process`` rewrites (Validation, below the Liability block)
stops it before anything is written; GSTR-3B 4(C)'s cached value takes the taxpayer's own 4(A)(2) and
4(B)(1) entries (and a text there, which the formula cannot add, is refused)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lctools import grid, parts, sheet_part

from ims_excel.book import imports as book_imports, process as book_process
from ims_excel.book import read as book_read
from ims_excel.book.read import BookProblem
from ims_excel.cli import main
from ims_excel.normalise import InputError
from ims_excel.template import summaries
from ims_excel.xlsx.package import col_index, xml_escape


def _cell_xml(ref: str, value: object, style: bytes = b"") -> bytes:
    if isinstance(value, (int, float)):
        return b'<c r="%s"%s><v>%s</v></c>' % (ref.encode(), style, repr(float(value)).encode())
    return (b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>'
            % (ref.encode(), style, xml_escape(str(value)).encode()))


def type_at(book: Path, sheet: str, cells: dict[str, object]) -> None:
    """Type constants into cells as Excel stores them (a cell there replaced, its style kept; a new cell
    put in its row, in column order; a new row put in row order)."""
    part = sheet_part(book, sheet)
    entries = parts(book)
    xml = entries[part]
    for ref, value in cells.items():
        col, r = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
        old = re.search(rb'<c r="%s"(\s[^>]*?)?(/>|>.*?</c>)' % ref.encode(), xml, re.S)
        if old:
            style = re.search(rb'\ss="\d+"', old.group(1) or b"")
            xml = xml[:old.start()] + _cell_xml(ref, value, style.group(0) if style else b"") + xml[old.end():]
            continue
        new = _cell_xml(ref, value)
        row = re.search(rb'<row r="%s"[^>]*?(/>|>)' % r.encode(), xml)
        if row is None:
            later = [m for m in re.finditer(rb'<row r="(\d+)"', xml) if int(m.group(1)) > int(r)]
            at = later[0].start() if later else xml.index(b"</sheetData>")
            xml = xml[:at] + b'<row r="%s">' % r.encode() + new + b"</row>" + xml[at:]
            continue
        if row.group(1) == b"/>":
            xml = xml[:row.start()] + row.group(0)[:-2] + b">" + new + b"</row>" + xml[row.end():]
            continue
        end = xml.index(b"</row>", row.end())
        body = xml[row.end():end]
        at = next((m.start() for m in re.finditer(rb'<c r="([A-Z]+)\d+"', body)
                   if col_index(m.group(1).decode()) > col_index(col)), len(body))
        head = re.sub(rb' spans="[^"]*"', b"", row.group(0))
        xml = xml[:row.start()] + head + body[:at] + new + body[at:] + xml[end:]
    entries[part] = xml
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


# ---------------------------------------------------------------- GSTR-3B 4(C) with the user's own entries

def _t4(row: str, c: str) -> str:
    return summaries.cell_map()[("gstr3b", "table4", row, c)].rsplit("!", 1)[1]


def _at(rows: list[list], a1: str) -> object:
    col, r = re.fullmatch(r"([A-Z]+)(\d+)", a1).groups()
    return rows[int(r) - 1][col_index(col) - 1]


def test_cached_4c_takes_the_typed_4a2_and_4b1(sample_book):
    """4(C) = (4A1+4A2+4A3+4A4+4A5)-(4B1+4B2) on the sheet: its cached value (what Protected View and
    python-calamine show) adds the 4(A)(2) and subtracts the 4(B)(1) the user typed, blank being 0."""
    type_at(sample_book, "GSTR-3B", {_t4("4A2", "IGST"): 5000, _t4("4B1", "CGST"): 250.5})
    rep = book_process.process(sample_book, backup=False)
    t4 = rep.result.gstr3b
    rows = grid(sample_book, "GSTR-3B")
    for c, typed in (("IGST", 5000.0), ("CGST", -250.5), ("SGST", 0.0), ("Cess", 0.0)):
        h = c.lower()
        engine = sum(t4[k][h] for k in ("4A1", "4A3", "4A4", "4A5")) - t4["4B2"][h]
        assert _at(rows, _t4("4C", c)) == pytest.approx(engine + typed, abs=0.005), c
    assert _at(rows, _t4("4A2", "IGST")) == 5000 and _at(rows, _t4("4B1", "CGST")) == 250.5


@pytest.mark.parametrize("text", ["1,000", "abc"])
def test_a_text_in_4b1_is_refused_naming_the_cell_and_nothing_is_written(sample_book, text, capsys):
    """Text in an input cell that 4(C) adds with + is #VALUE! in Excel (or a number read by its locale):
    ``process`` names the cell and writes nothing rather than cache a 4(C) Excel would not show."""
    ref = _t4("4B1", "CGST")
    type_at(sample_book, "GSTR-3B", {ref: text})
    before = sample_book.read_bytes()
    with pytest.raises(InputError) as err:
        book_process.process(sample_book)
    msg = str(err.value)
    assert f"sheet 'GSTR-3B', row {ref[1:]}, column 'CGST'" in msg and f"cell {ref} (4(B)(1) CGST" in msg
    assert repr(text) in msg and "nothing was written" in msg
    assert sample_book.read_bytes() == before
    assert not list(sample_book.parent.glob("*.bak-*"))
    assert main(["process", str(sample_book)]) == 2
    out = capsys.readouterr()
    assert f"cell {ref}" in out.out + out.err


def test_import_with_a_text_in_4a2_leaves_the_values_to_excel(sample_book, tmp_path):
    """``import`` still imports; its cache step, which cannot work out 4(C), leaves every value to Excel's
    calculation on load and says why (naming the cell)."""
    ref = _t4("4A2", "IGST")
    type_at(sample_book, "GSTR-3B", {ref: "abc"})
    src = tmp_path / "more.csv"
    src.write_text(Path(book_imports.__file__).parent.parent.joinpath("data", "sample_inward.csv").read_text()
                   .replace("INV", "XNV"))
    rep = book_imports.import_sources(sample_book, [src], direction="inward", backup=False)
    assert f"cell {ref}" in rep.not_cached
    with zipfile.ZipFile(sample_book) as z:
        assert 'fullCalcOnLoad="1"' in z.read("xl/workbook.xml").decode()


# ---------------------------------------------------------------- notes where process rewrites


def _liability_block(book: Path) -> int:
    rows = grid(book, "Liability")
    return next(k for k, r in enumerate(rows, 1) if str(r[0]).startswith("Add-back by document"))


def test_process_twice_keeps_its_own_validation_and_liability(sample_book):
    """What ``process`` itself wrote there is not taken for the user's: a second run goes through."""
    book_process.process(sample_book, backup=False)
    book_process.process(sample_book, backup=False)
    assert _liability_block(sample_book) > 0


@pytest.mark.parametrize("sheet, where", [("Validation", "beside"), ("Validation", "below"),
                                          ("Validation", "above the list, right of the context"),
                                          ("Liability", "in the last row"), ("Liability", "below")])
def test_a_note_where_process_rewrites_is_refused_named_and_nothing_is_written(sample_book, sheet, where, capsys):
    """A note typed beside or below the Validation list, or in/below the Liability add-back block, would be
    dropped by the rewrite: ``process`` names it (sheet, cell, text) and writes nothing."""
    book_process.process(sample_book, backup=False)
    rows = grid(sample_book, sheet)
    if sheet == "Validation":
        head = next(i for i, r in enumerate(rows, start=1) if r[:2] == ["Row", "Section"])
        # the context rows above the list use columns A-D only (usercells.validation_cells)
        ref = {"beside": "P9", "below": f"B{len(rows) + 3}"}.get(where, f"E{head - 1}")
        assert head > 2 and all(v in ("", None) for v in rows[head - 2][4:])
    else:
        last = len(rows)
        ref = f"J{last}" if where == "in the last row" else f"B{last + 5}"
        assert str(rows[last - 1][0]).startswith(("Total", "No add-back"))
        if rows[last - 1][0] == "Total":
            ref = f"K{last}" if where == "in the last row" else ref
    type_at(sample_book, sheet, {ref: "checked by RK"})
    before = sample_book.read_bytes()
    with pytest.raises(BookProblem) as err:
        book_process.process(sample_book)
    assert f"{sheet}!{ref} ('checked by RK')" in str(err.value) and "nothing was written" in str(err.value)
    assert sample_book.read_bytes() == before
    assert not list(sample_book.parent.glob("*.bak-*"))
    assert main(["process", str(sample_book)]) == 2
    out = capsys.readouterr()
    assert f"{sheet}!{ref}" in out.out + out.err


# ---------------------------------------------------------------- values typed over formula cells


def _formula_col(book: Path, header: str) -> str:
    rows = grid(book, "Inward")
    from ims_excel.xlsx.package import col_letters
    return col_letters(rows[0].index(header) + 1)


def test_a_value_typed_over_a_formula_is_kept_on_the_changes_sheet_and_listed(sample_book, capsys):
    """The formula comes back (issue 9), and what was typed is not lost: each value is appended to the
    Changes sheet with its cell, column and record, and the command lists cell, column and value."""
    book_process.process(sample_book, backup=False)
    status, message = _formula_col(sample_book, "Status"), _formula_col(sample_book, "Message")
    inward = grid(sample_book, "Inward")
    doc = inward[1][inward[0].index("Document Number")]
    type_at(sample_book, "Inward", {f"{status}2": "OK - checked by CA", f"{message}3": 1234.5})
    assert main(["process", str(sample_book), "--no-backup"]) == 0
    out = capsys.readouterr().out
    assert f"    {status}2 (Status): 'OK - checked by CA'\n" in out and f"    {message}3 (Message): 1234.5\n" in out
    assert "kept on the Changes sheet" in out
    changes = grid(sample_book, "Changes")
    kept = [r for r in changes if r[1] == "formula typed over"]
    assert [(r[2], r[5], r[6], r[7]) for r in kept] == [(2.0, doc, "Status", "OK - checked by CA"),
                                                         (3.0, inward[2][inward[0].index("Document Number")],
                                                          "Message", 1234.5)]
    assert f"Inward!{status}2" in kept[0][9]
    xml = parts(sample_book)[sheet_part(sample_book, "Inward")].decode()
    assert "<f>" in re.search(rf'<c r="{status}2"[^>]*>.*?</c>', xml).group(0)  # the formula is restored
    assert main(["process", str(sample_book), "--no-backup"]) == 0  # nothing more to keep: nothing appended
    assert "typed over" not in capsys.readouterr().out
    assert len([r for r in grid(sample_book, "Changes") if r[1] == "formula typed over"]) == 2


def test_many_values_typed_over_list_the_first_and_point_to_the_changes_sheet(sample_book, capsys):
    book_process.process(sample_book, backup=False)
    status = _formula_col(sample_book, "Status")
    type_at(sample_book, "Inward", {f"{status}{r}": f"note {r}" for r in range(2, 26)})
    assert main(["process", str(sample_book), "--no-backup"]) == 0
    out = capsys.readouterr().out
    assert f"    {status}21 (Status): 'note 21'\n" in out and f"{status}22 (Status)" not in out
    assert "    and 4 more: see the Changes sheet\n" in out
    assert len([r for r in grid(sample_book, "Changes") if r[1] == "formula typed over"]) == 24


def test_a_note_below_the_no_add_back_line_is_refused(tmp_path, capsys):
    """A book with no add-back: the Liability block is its title, header and the "No add-back" line; a note
    typed below it is the user's, refused by name (book/usercells.liability_cells)."""
    book = tmp_path / "empty.xlsm"
    assert main(["new", str(book), "--gstin", "27AAACR5055K1Z7", "--period", "2025-10"]) == 0
    book_process.process(book, backup=False)
    rows = grid(book, "Liability")
    assert str(rows[-1][0]).startswith("No add-back")
    ref = f"C{len(rows) + 2}"
    type_at(book, "Liability", {ref: "signed off - RK"})
    before = book.read_bytes()
    with pytest.raises(BookProblem) as err:
        book_process.process(book)
    assert f"Liability!{ref} ('signed off - RK')" in str(err.value)
    assert book.read_bytes() == before


def test_a_value_typed_over_an_outward_formula_is_kept_with_the_recipient(sample_book, capsys):
    """Outward too: the typed value goes to the Changes sheet under the party (here the recipient's GSTIN)."""
    book_process.process(sample_book, backup=False)
    out_rows = grid(sample_book, "Outward")
    from ims_excel.xlsx.package import col_letters
    col = col_letters(out_rows[0].index("Add-back Table") + 1)
    type_at(sample_book, "Outward", {f"{col}2": "see CA"})
    assert main(["process", str(sample_book), "--no-backup"]) == 0
    assert f"{col}2 (Add-back Table): 'see CA'" in capsys.readouterr().out
    changes = grid(sample_book, "Changes")
    head = changes[0]
    kept = [dict(zip(head, r)) for r in changes[1:] if r[1] == "formula typed over"]
    assert [(k["Column"], k["Old"], k["Party GSTIN"]) for k in kept] == [
        ("Add-back Table", "see CA", out_rows[1][out_rows[0].index("Recipient GSTIN")])]


def test_a_save_that_logs_and_finds_typed_over_values_is_refused_not_half_logged(sample_book):
    """``write_cached_values`` appends typed-over values to the Changes sheet in the same save; if that save
    already rewrites the Changes sheet (a use case that logged rows and caches values at once), one of the two
    would be lost: refused before anything is written (book/cached.py)."""
    from ims_excel.book.filebook import FileBook
    from ims_excel.book.outputs import CHANGES_HEADER, CHANGES_SHEET
    from ims_excel.book.processing import process_into
    book_process.process(sample_book, backup=False)
    status = _formula_col(sample_book, "Status")
    type_at(sample_book, "Inward", {f"{status}2": "checked"})
    before = sample_book.read_bytes()
    with FileBook(sample_book, keep_xml=True) as wb:
        wb.append_rows(CHANGES_SHEET, CHANGES_HEADER, [["now", "a logged change"]])
        process_into(wb, stamp="now")
        with pytest.raises(ValueError, match="Changes sheet is already being rewritten"):
            wb.save(backup=False)
    assert sample_book.read_bytes() == before


@pytest.mark.parametrize("command", ["import", "upgrade"])
def test_import_and_upgrade_keep_a_value_typed_over_a_formula(sample_book, tmp_path, command, capsys):
    """The commands that rewrite a book and cache the engine's values give a typed-over formula cell its
    formula back and keep what was typed on the Changes sheet (book/cached.write_cached_values). (``roll``
    writes a new book and leaves the old one, typed value and all, unchanged.)"""
    from ims_excel.cli.demo import sample_path
    book_process.process(sample_book, backup=False)
    status = _formula_col(sample_book, "Status")
    inward = grid(sample_book, "Inward")
    doc = "INV-2004"  # kept Pending: roll carries it to the next period
    row = 1 + [r[inward[0].index("Document Number")] for r in inward].index(doc)
    type_at(sample_book, "Inward", {f"{status}{row}": "seen - RK"})
    import pandas as pd
    one = pd.read_csv(sample_path("sample_inward.csv"), dtype=str, keep_default_na=False).head(1)
    one["Document Number"] = "NEW-1"  # a new record: the import writes (the same file twice writes nothing)
    one.to_csv(tmp_path / "new.csv", index=False)
    args = {"import": ["import", str(sample_book), str(tmp_path / "new.csv")],
            "upgrade": ["upgrade", str(sample_book)]}[command]
    assert main(args) == 0, capsys.readouterr().err
    kept = [r for r in grid(sample_book, "Changes") if r[1] == "formula typed over"]
    assert [(r[5], r[6], r[7]) for r in kept] == [(doc, "Status", "seen - RK")], kept
