"""``process``: the engine's answers written into the same workbook, and nothing else changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from lctools import grid, parts, raw_parts, sheet_names, sheet_part, spy_pools

from ims_excel.cli import main
from ims_excel.template import inward as inward_mod
from ims_excel.template import outward as outward_mod
from ims_excel.template.specs import INWARD
from ims_excel.book import new as book_new
from ims_excel.book import cached as book_cached, process as book_process
from ims_excel.book import read as book_read
from ims_excel.normalise import InputError
from ims_excel.xlsx.package import col_letters
from ims_excel.xlsx.fileio import latest_backup
from ims_excel.xlsx.package import Package

EPOCH = dt.datetime(1899, 12, 30)


def _num(v):
    """Cells as comparable values: dates as Excel serials, integral floats as such."""
    if isinstance(v, dt.datetime):
        return (v - EPOCH).total_seconds() / 86400
    if isinstance(v, dt.date):
        return (dt.datetime(v.year, v.month, v.day) - EPOCH).days
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _expected(book: Path, direction: str = "inward"):
    b = book_read.load_book(book)
    result = book_read.evaluate_book(b)
    return b, result, (inward_mod if direction == "inward" else outward_mod).cached_values(result)


def _blank_last_row(book: Path, sheet: str) -> int:
    """Clear the input cells of the sheet's last row (its formula cells stay): a blank table row."""
    part = sheet_part(book, sheet)
    entries = parts(book)
    xml = entries[part]
    last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
    m = re.search(rb'<row r="%d"[^>]*>(.*?)</row>' % last, xml, re.S)
    cells = re.findall(rb"<c\b[^>]*/>|<c\b.*?</c>", m.group(1), re.S)
    assert any(b"<f" not in c for c in cells) and any(b"<f" in c for c in cells)
    entries[part] = xml[:m.start(1)] + b"".join(c for c in cells if b"<f" in c) + xml[m.end(1):]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return last


@pytest.mark.parametrize("direction", ["inward", "outward"])
def test_cached_values_are_the_engines(sample_book, direction):
    """Every formula cell of both tables holds the engine's value after ``process`` (no Excel needed),
    a blank table row included (its input cells cleared: "" for text, 0 for amounts, as the formulas give)."""
    blank_row = _blank_last_row(sample_book, "Inward" if direction == "inward" else "Outward")
    book, result, values = _expected(sample_book, direction)
    td = book.inward if direction == "inward" else book.outward
    assert len(td.rows) == (33 if direction == "inward" else len(result.outward))
    assert len(td.rows) > 0 and blank_row not in td.rows
    rep = book_process.process(sample_book)
    n_inward = 33 if direction == "inward" else 34
    assert rep.records == n_inward and rep.stats["fast"] + rep.stats["slow"] >= n_inward
    rows = grid(sample_book, td.table.sheet)
    header = rows[0]
    checked = 0
    for k, r in enumerate(td.rows):
        got = dict(zip(header, rows[r - 1]))
        for h in values.columns:
            want = values[h].iloc[k]
            want = "" if want is None or (isinstance(want, float) and np.isnan(want)) else want
            g, w = _num(got[h]), _num(want)
            if isinstance(w, float) and isinstance(g, float):
                assert g == pytest.approx(w, abs=1e-9), (r, h)
            else:
                assert g == w, (r, h, g, w)
            checked += 1
    assert checked == len(td.rows) * len(values.columns)
    # the blank table row below the records: "" for text, 0 for amounts, as the formulas give
    assert blank_row == td.table.bounds[2] and blank_row > int(td.rows.max())
    got = dict(zip(header, rows[blank_row - 1]))
    kinds = {c.header: c.kind for c in (inward_mod if direction == "inward" else outward_mod).COMPUTED}
    for h in values.columns:
        assert got[h] == (0.0 if kinds[h] == "amount" else ""), (h, got[h])


def test_everything_else_is_copied_byte_for_byte(sample_book):
    before_raw = raw_parts(sample_book)
    before_parts = parts(sample_book)
    before_inward = [row[:42] for row in grid(sample_book, "Inward")]
    before_config = grid(sample_book, "Config")
    book_process.process(sample_book)
    after_raw = raw_parts(sample_book)
    inward, liability = sheet_part(sample_book, "Inward"), sheet_part(sample_book, "Liability")
    outward = sheet_part(sample_book, "Outward")
    validation = sheet_part(sample_book, "Validation")
    changed = {n for n in before_raw if after_raw.get(n) != before_raw[n]}
    cached_only = {sheet_part(sample_book, s) for s in ("Config", "Summary", "GSTR-2B", "GSTR-3B")}
    assert changed <= {inward, outward, liability, "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                       "docProps/custom.xml"} | cached_only, changed
    # Config and the summary sheets: only the formula cells' cached values (issue 9), nothing else
    for part in cached_only & changed:
        def form(xml: bytes) -> bytes:
            return re.sub(rb'(<c [^>]*?)(?: t="\w+")?(>(?:<f>[^<]*</f>|<f [^>]*/>))<v>[^<]*</v>', rb"\1\2", xml)
        assert form(parts(sample_book)[part]) == form(before_parts[part]), part
    assert set(after_raw) - set(before_raw) == {validation}
    assert after_raw["xl/vbaProject.bin"] == before_raw["xl/vbaProject.bin"]
    # every typed cell of the Inward sheet (the input columns) and the Config sheet, unchanged
    assert [row[:42] for row in grid(sample_book, "Inward")] == before_inward
    assert grid(sample_book, "Config") == before_config
    # the package is sound for other readers
    with zipfile.ZipFile(sample_book) as z:
        assert z.testzip() is None
    wb = openpyxl.load_workbook(sample_book, keep_vba=True)
    assert wb["Inward"].tables["Inward"].ref.endswith("35")


def test_validation_sheet_and_liability_rows_are_replaced_not_added(sample_book):
    book_process.process(sample_book)
    names = sheet_names(sample_book)
    assert names[names.index("Inward") + 1] == "Validation"
    val = grid(sample_book, "Validation")
    flat = [c for r in val for c in r]
    assert "PEND_WINDOW_OVER" in flat and "27AAACR5055K1Z7" in flat
    header = next(i for i, r in enumerate(val) if r[:2] == ["Row", "Section"])
    listed = [r for r in val[header + 1:] if r[0] != ""]
    assert len(listed) == 9  # 5 errors and 4 warnings (CN-402: a remark with Accept, REMARK_NOT_UPLOADED)
    cn380 = next(r for r in listed if r[4] == "CN-380")
    assert int(cn380[0]) == 15 and cn380[7] == "error"  # named by its Inward sheet row
    lia = grid(sample_book, "Liability")
    mark = [i for i, r in enumerate(lia) if any(str(c).startswith("Add-back by document") for c in r)]
    assert len(mark) == 1
    assert lia[mark[0] + 2][1] == "27AAACB2222B1ZJ" and lia[mark[0] + 2][2] == "SCN-901"
    book_process.process(sample_book)  # again: the same sheets, the same rows
    assert sheet_names(sample_book) == names
    assert grid(sample_book, "Liability") == lia
    val2 = grid(sample_book, "Validation")
    assert [r for r in val2[header + 1:] if r[0] != ""] == listed


def test_backup_holds_the_previous_file(sample_book):
    before = sample_book.read_bytes()
    book_process.process(sample_book)
    assert latest_backup(sample_book).read_bytes() == before
    assert not list(sample_book.parent.glob(".*.tmp"))


def test_a_formula_typed_over_is_restored_and_reported(synth_book, capsys):
    """Issue 9: Inward/Outward are not protected (Excel sorts only unlocked cells of a protected sheet),
    so ``process`` guards the formulas: a value typed over a computed cell, or a formula deleted, gets
    the column formula back (with the engine's value cached), and the cells are reported."""
    book_process.process(synth_book)
    part = sheet_part(synth_book, "Inward")
    with Package(synth_book) as pkg:
        table = pkg.table("Inward")
        header = next(h for h in table.formulas)  # the first formula column
        col = col_letters(table.bounds[1] + table.columns.index(header))
        other = list(table.formulas)[5]
        col2 = col_letters(table.bounds[1] + table.columns.index(other))

    def type_over(delete: bool) -> None:
        with zipfile.ZipFile(synth_book) as z:
            xml = z.read(part).decode()
            entries = {n: z.read(n) for n in z.namelist()}
        cell = re.search(rf'<c r="{col}7"[^>]*>.*?</c>', xml).group(0)
        xml = xml.replace(cell, f'<c r="{col}7" t="inlineStr"><is><t>checked by CA</t></is></c>')
        if delete:
            cell2 = re.search(rf'<c r="{col2}9"( s="\d+")?[^>]*>.*?</c>', xml)
            xml = xml.replace(cell2.group(0), f'<c r="{col2}9"{cell2.group(1) or ""}/>')  # the formula deleted
        entries[part] = xml.encode()
        with zipfile.ZipFile(synth_book, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in entries.items():
                z.writestr(n, data)

    type_over(delete=True)
    rep = book_process.process(synth_book)
    assert rep.restored == {"Inward": [f"{col}7", f"{col2}9"]}
    b, result, values = _expected(synth_book)
    rows = grid(synth_book, "Inward")
    j, j2 = rows[0].index(header), rows[0].index(other)
    k7, k9 = list(b.inward.rows).index(7), list(b.inward.rows).index(9)
    assert rows[6][j] == values[header].iloc[k7] != "checked by CA"
    assert rows[8][j2] == values[other].iloc[k9]
    with zipfile.ZipFile(synth_book) as z:
        xml = z.read(part).decode()
    for ref in (f"{col}7", f"{col2}9"):
        assert "<f>" in re.search(rf'<c r="{ref}"[^>]*>.*?</c>', xml).group(0), ref
    assert rep.stats["slow"] >= 1 and rep.stats["fast"] >= 1900
    assert book_process.process(synth_book).restored == {}  # nothing left to restore
    type_over(delete=False)  # the command line says so
    capsys.readouterr()
    assert main(["process", str(synth_book), "--no-backup"]) == 0
    assert (f"Inward: 1 formula cells had been typed over; their formulas are restored (what was typed is kept on "
            f"the Changes sheet):\n    {col}7 ({header}): 'checked by CA'\n") in capsys.readouterr().out


def test_a_workbook_saved_by_another_program_still_processes(sample_book):
    """openpyxl rewrites every part (shared strings, its own XML): the slow path and the reader still cope."""
    book_process.process(sample_book)
    wb = openpyxl.load_workbook(sample_book, keep_vba=True)
    wb["Inward"].cell(2, INWARD.column_index("Action") + 1).value = "Reject"  # a person changes an action
    wb.save(sample_book)
    vba = parts(sample_book)["xl/vbaProject.bin"]
    rep = book_process.process(sample_book)
    assert rep.records == 34
    assert parts(sample_book)["xl/vbaProject.bin"] == vba
    b, result, values = _expected(sample_book)
    rows = grid(sample_book, "Inward")
    j = rows[0].index("Status")
    for k, r in enumerate(b.inward.rows):
        assert rows[r - 1][j] == values["Status"].iloc[k]


def test_fast_reader_and_calamine_agree(synth_book, sample_book, start_method, monkeypatch):
    """The numpy reader, calamine and worker processes (forked or spawned) read the same records."""
    pools = spy_pools(monkeypatch)
    for book in (synth_book, sample_book):
        with Package(book) as pkg:
            t = pkg.table("Inward")
            fast = book_read.read_table(pkg, t, "inward", reader="fast")
            slow = book_read.read_table(pkg, t, "inward", reader="calamine")
            two = book_read.read_table(pkg, t, "inward", reader="fast", chunk_rows=700, processes=2)
        a, b, c = (x.frame.drop(columns=["extra"]) for x in (fast, slow, two))
        assert list(a.columns) == list(b.columns)
        for col in a.columns:
            assert a[col].equals(b[col]), col
            assert a[col].equals(c[col]), col
        assert (fast.rows == slow.rows).all() and (fast.rows == two.rows).all()
        assert two.parallel == (book == synth_book)  # the sample's 34 rows are one block: read here
    assert pools == [start_method]


def test_a_bad_cell_read_by_a_worker_names_the_cell(synth_book, start_method, monkeypatch):
    """A cell a worker process (forked or spawned) cannot read is reported as the in-process reader
    reports it: file, sheet, row, column."""
    wb = openpyxl.load_workbook(synth_book, keep_vba=True)
    wb["Inward"].cell(1500, INWARD.column_index("Taxable Value") + 1).value = "12O"
    wb.save(synth_book)
    pools = spy_pools(monkeypatch)
    with Package(synth_book) as pkg:
        with pytest.raises(InputError) as here:
            book_read.read_table(pkg, pkg.table("Inward"), "inward")
        with pytest.raises(InputError) as there:
            book_read.read_table(pkg, pkg.table("Inward"), "inward", chunk_rows=300, processes=2)
    assert pools == [start_method]
    assert [str(p) for p in there.value.problems] == [str(p) for p in here.value.problems]
    assert "sheet 'Inward', row 1500, column 'Taxable Value': '12O' is not an amount" in str(there.value)


def test_bad_cells_exit_2_naming_the_cell_and_nothing_is_written(sample_book, capsys):
    wb = openpyxl.load_workbook(sample_book, keep_vba=True)
    wb["Inward"].cell(3, INWARD.column_index("Taxable Value") + 1).value = "12O"
    wb.save(sample_book)
    before = sample_book.read_bytes()
    code = main(["process", str(sample_book)])
    err = capsys.readouterr().err
    assert code == 2
    assert "sheet 'Inward', row 3, column 'Taxable Value': '12O' is not an amount" in err
    assert sample_book.read_bytes() == before and latest_backup(sample_book) is None


def test_an_interrupted_process_leaves_the_workbook_intact(tmp_path):
    """Kill ``ims-excel process`` while it writes: the workbook is the old file, and the next run works."""
    from tests.support import synthetic

    book = book_new.make_book(tmp_path / "big.xlsm", synthetic.inward(15_000, seed=5), None,
                             {"gstin": "27AAACR5055K1Z7", "period": "2026-10", "as_of": "2026-11-26"},
                             shared_formulas=True)
    digest = hashlib.sha256(book.read_bytes()).hexdigest()
    proc = subprocess.Popen([sys.executable, "-m", "ims_excel.cli", "process", str(book)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed_at = None
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        tmp = list(tmp_path.glob(".big.xlsm.*.tmp"))
        if tmp and tmp[0].stat().st_size > 256 * 1024:  # well into writing the new package
            killed_at = tmp[0].stat().st_size
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait(30)
    assert killed_at, "the process finished before it could be interrupted"
    assert proc.returncode == -signal.SIGKILL
    assert hashlib.sha256(book.read_bytes()).hexdigest() == digest  # the workbook as it was
    assert list(tmp_path.glob(".big.xlsm.*.tmp"))  # the half-written file is a separate file
    with Package(book) as pkg:
        assert pkg.table("Inward").bounds[2] == 15_001
    rep = book_process.process(book)  # and the next run works, clearing the leftover
    assert rep.records == 15_000
    assert not list(tmp_path.glob(".big.xlsm.*.tmp"))
    assert hashlib.sha256(latest_backup(book).read_bytes()).hexdigest() == digest


def test_processed_workbook_opens_in_libreoffice(sample_book, tmp_path):
    from tests.support import recalc

    book_process.process(sample_book)
    with recalc.Session() as lo:
        values = lo.values(sample_book, ["Validation", "Liability", "Inward"])
    flat = [c for r in values["Validation"]["values"] for c in r]
    assert "PEND_WINDOW_OVER" in flat
    assert any("Add-back by document" in str(c) for r in values["Liability"]["values"] for c in r)
    assert values["Inward"]["values"][0][0] == "Section"


def test_a_formula_cell_a_person_formatted_keeps_its_format(synth_book):
    """A different style on one formula cell takes that row off the template path; the style stays."""
    part = sheet_part(synth_book, "Inward")
    with Package(synth_book) as pkg:
        table = pkg.table("Inward")
        header = list(table.formulas)[3]
        col = col_letters(table.bounds[1] + table.columns.index(header))
    with zipfile.ZipFile(synth_book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    xml = entries[part].decode()
    cell = re.search(rf'<c r="{col}9"( s="\d+")?', xml)
    entries[part] = (xml[:cell.start()] + f'<c r="{col}9" s="1"' + xml[cell.end():]).encode()
    with zipfile.ZipFile(synth_book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    rep = book_process.process(synth_book)
    assert rep.stats["slow"] >= 1
    xml = parts(synth_book)[part].decode()
    assert re.search(rf'<c r="{col}9" s="1"[^>]*><f', xml)  # its own style, its formula, a value
    assert re.search(rf'<c r="{col}9" s="1"[^>]*><f[^>]*(/>|>[^<]*</f>)<v>', xml)


def _spy_write_paths(monkeypatch) -> dict[str, str]:
    """Which way ``process`` plans to write each table's sheet: "streamed" here or "deflated" by workers."""
    planned: dict[str, str] = {}
    real = book_cached._rewrite_table

    def spy(edit, td, cols, progress=None):
        injector = real(edit, td, cols, progress)
        if td is not None:
            part = td.table.sheet_part
            planned[td.table.name] = ("deflated" if part in edit.deflated else
                                      "streamed" if part in edit.stream else "copied")
        return injector
    monkeypatch.setattr(book_cached, "_rewrite_table", spy)
    return planned


def test_a_big_sheet_is_inflated_once_and_worked_on_by_processes(synth_book, tmp_path, monkeypatch, start_method):
    """Over ``PARALLEL_BYTES`` the sheet is inflated once and its units of rows are parsed, then rewritten,
    by worker processes (forked, or spawned where there is no ``fork``); the workbook written is the one the
    in-process path writes, byte for byte in every part."""
    import shutil

    from ims_excel.xlsx import fanout, units

    other = tmp_path / "other.xlsm"
    shutil.copy(synth_book, other)
    stamp = "26-11-2026 10:00"
    book_process.process(synth_book, stamp=stamp, backup=False)

    fanned = []
    real = fanout.fan_out

    def counting(units_, work, **kw):
        fanned.append(work.func.__name__)  # a worker function with its arguments bound
        return real(units_, work, **kw)

    monkeypatch.setattr(fanout, "fan_out", counting)
    monkeypatch.setattr(units, "UNIT_BYTES", 1 << 17)
    monkeypatch.setattr(book_read, "CHUNK_ROWS", 300)
    monkeypatch.setattr(book_read, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(book_read, "STREAM_CHUNK", 1 << 16)
    monkeypatch.setattr(book_read, "PROCESSES", 2)
    planned = _spy_write_paths(monkeypatch)
    pools = spy_pools(monkeypatch)
    rep = book_process.process(other, stamp=stamp, backup=False)
    assert fanned == ["_parse_unit", "_inject_unit"]
    assert pools == [start_method, start_method]  # read, then write, by workers started this way
    assert planned["Inward"] == "deflated"  # rewritten and deflated by the workers
    assert rep.records == 2000 and rep.stats["fast"] + rep.stats["slow"] == 2000
    assert rep.stats["fast"] > 1900
    a, b = parts(synth_book), parts(other)
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []


def test_process_reports_progress_read_engine_write(synth_book):
    """``process`` tells how far it has got (the CLI draws a bar from it): reading, then the engine,
    then writing, each read/write phase ending at its total."""
    seen = []
    book_process.process(synth_book, backup=False, progress=lambda phase, done, total: seen.append((phase, done, total)))
    phases = [p for k, (p, _, _) in enumerate(seen) if k == 0 or seen[k - 1][0] != p]
    assert phases == ["read", "engine", "write"]
    for phase in ("read", "write"):
        steps = [(d, t) for p, d, t in seen if p == phase]
        assert steps[-1][0] == steps[-1][1] > 0
        assert all(a[0] <= b[0] for a, b in zip(steps, steps[1:]))


def test_the_cli_shows_phases_on_stderr(synth_book, capsys):
    assert main(["process", str(synth_book), "--no-backup"]) == 0
    err = capsys.readouterr().err
    assert err.index("reading...") < err.index("checking...") < err.index("writing...")


def test_a_dead_worker_is_exit_1_with_a_message(synth_book, capsys, monkeypatch):
    from ims_excel.xlsx.fanout import WorkerDied

    def dies(*a, **k):
        raise WorkerDied("a worker process ended abruptly (out of memory, or killed); nothing was written")
    monkeypatch.setattr(book_process, "process", dies)
    before = synth_book.read_bytes()
    assert main(["process", str(synth_book)]) == 1
    err = capsys.readouterr().err
    assert "ended abruptly" in err and "IMS_EXCEL_PROCESSES=1" in err
    assert synth_book.read_bytes() == before


