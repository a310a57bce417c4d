"""Faults: a killed run, a full disk, read-only targets, two runs at once (issue 14, "Faults").

Each test makes the fault for real (``kill -9``, a small tmpfs, file modes, a second process) and checks
what the user is promised: the workbook and its backups intact, nothing left behind, a clear message
and exit 2, never a traceback, no worker process left over.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from ims_excel.xlsx import fileio
from ims_excel.book import imports as book_imports
from ims_excel.book import new as book_new
from ims_excel.book import process as book_process
from ims_excel.cli import main
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.xlsx.fileio import latest_backup
from ims_excel.xlsx.package import Package


def _alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _gone(pids: list[int], within: float = 10.0) -> list[int]:
    """The pids still alive after waiting up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            with open(task / "children") as fh:
                out += [int(x) for x in fh.read().split()]
        except FileNotFoundError:  # a thread (a pool's manager thread) ended while we looked
            pass
    return out


SLOW_WORK = textwrap.dedent("""
    import time
    def work(unit):  # a module a spawned worker can import: it is sent this function by name
        time.sleep(600)
""")

FAN_OUT_FOREVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from slow_work import work
    from ims_excel.xlsx.fanout import fan_out
    for _ in fan_out(iter([b"a", b"b", b"c"]), work, processes=2, slot_size=4):
        pass
""")


def _workers(pid: int) -> list[int]:
    """The worker processes of ``pid``: its children, but multiprocessing's resource tracker (a child
    too when workers are spawned)."""
    out = []
    for child in _children(pid):
        try:
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            pass
    return out


def test_fan_out_workers_die_with_a_killed_parent(tmp_path, start_method):
    """``kill -9`` of the parent: its workers (forked, or spawned where there is no ``fork``) end too
    (prctl PR_SET_PDEATHSIG), none left holding memory."""
    (tmp_path / "slow_work.py").write_text(SLOW_WORK)
    proc = subprocess.Popen([sys.executable, "-c", FAN_OUT_FOREVER, str(tmp_path)])
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.05)
            workers = _workers(proc.pid)
        assert len(workers) == 2, "the workers did not start"
        time.sleep(0.3)  # let them reach their initializer
        everyone = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _gone(everyone) == []
    finally:
        _kill(proc, workers)


def _kill(proc: subprocess.Popen, pids: list[int]) -> None:
    """Clean up after a failed test: the process and the workers it started (by their ids)."""
    if proc.poll() is None:
        proc.kill()
    for p in pids:
        if _alive(p):
            os.kill(p, signal.SIGKILL)


# ---------------------------------------------------------------- the atomic writer (ims_excel.xlsx.fileio)


def _no_temp(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.endswith(".ims-lock")]


def test_a_save_keeps_mode_owner_and_group(sample_book):
    os.chmod(sample_book, 0o600)
    os.chown(sample_book, 4321, 4322)
    book_process.process(sample_book)
    st = sample_book.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o600, 4321, 4322)


def test_a_read_only_book_is_refused(sample_book, capsys):
    os.chmod(sample_book, 0o444)
    before = sample_book.read_bytes()
    assert main(["process", str(sample_book)]) == 2
    err = capsys.readouterr().err
    assert "is read-only (mode 0444)" in err and str(sample_book) in err and "Traceback" not in err
    assert sample_book.read_bytes() == before and latest_backup(sample_book) is None
    assert _no_temp(sample_book.parent)


def test_a_symlinked_book_is_written_through_the_link(sample_book, tmp_path):
    link = tmp_path / "elsewhere" / "link.xlsm"
    link.parent.mkdir()
    link.symlink_to(sample_book)
    before = sample_book.read_bytes()
    book_process.process(link)
    assert link.is_symlink() and link.resolve() == sample_book.resolve()
    assert sample_book.read_bytes() != before
    assert latest_backup(link).read_bytes() == before and latest_backup(link).parent == sample_book.parent


def test_dated_backups_keep_the_last_few(tmp_path, monkeypatch):
    book = tmp_path / "c.xlsm"
    book.write_bytes(b"v0")
    for k in range(1, 6):
        fileio.save_atomically(book, lambda fh, k=k: fh.write(f"v{k}".encode()), keep=3)
    kept = fileio.backups(book)
    assert [p.read_bytes() for p in kept] == [b"v2", b"v3", b"v4"]  # the last three, oldest first
    assert all(re.fullmatch(r"c\.bak-\d{8}-\d{6}(-\d+)?\.xlsm", p.name) for p in kept)
    assert all(fileio.is_backup_or_temp(p) for p in kept) and not fileio.is_backup_or_temp(book)
    monkeypatch.setattr(fileio, "BACKUPS", 0)
    fileio.save_atomically(book, lambda fh: fh.write(b"v6"))
    assert fileio.backups(book) == kept and book.read_bytes() == b"v6"


def test_the_cli_says_where_the_backup_is(sample_book, capsys):
    assert main(["process", str(sample_book)]) == 0
    out = capsys.readouterr().out
    bak = latest_backup(sample_book)
    assert f"Previous version kept as {bak.name}" in out and f"last {fileio.BACKUPS} kept" in out


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (CI runs as root), unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` up to ``leave`` bytes free."""
    vfs = os.statvfs(folder)
    with open(folder / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, vfs.f_bavail * vfs.f_frsize - leave))


def test_disk_full_exit_2_book_intact_nothing_left(sample_book, small_disk, capsys):
    book = small_disk / "client.xlsm"
    shutil.copy(sample_book, book)
    before = book.read_bytes()
    _fill(small_disk, len(before) // 3)
    assert main(["process", str(book)]) == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and str(book) in err and "Traceback" not in err
    assert book.read_bytes() == before and latest_backup(book) is None and _no_temp(small_disk)
    (small_disk / "filler").unlink()
    assert main(["process", str(book)]) == 0  # room again: it works
    assert latest_backup(book).read_bytes() == before


def test_read_only_folder_exit_2(sample_book, small_disk, capsys):
    book = small_disk / "client.xlsm"
    shutil.copy(sample_book, book)
    before = book.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    for argv in (["process", str(book)], ["import", str(book), str(sample_path("sample_inward.csv"))],
                 ["upgrade", str(book)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "read-only" in err and str(small_disk) in err and "Traceback" not in err
    assert book.read_bytes() == before and _no_temp(small_disk)


# ---------------------------------------------------------------- two runs, open books

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from ims_excel.xlsx import fileio
    with fileio.exclusive(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(600)
""")


def test_a_second_run_on_the_same_book_is_told_it_is_in_use(sample_book, capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(sample_book)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = sample_book.read_bytes()
        for argv in (["process", str(sample_book)], ["upgrade", str(sample_book)],
                     ["import", str(sample_book), str(sample_path("sample_inward.csv"))]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert f"{sample_book} is in use by another ims-excel run (process {holder.pid}" in err, err
        assert sample_book.read_bytes() == before
        holder.kill()  # like kill -9: the lock file stays, its flock goes with the process
        holder.wait(10)
        assert fileio.lock_path(sample_book).exists()
        assert main(["process", str(sample_book)]) == 0  # a dead run's lock does not block
        assert _no_temp(sample_book.parent)
    finally:
        _kill(holder, [])


def test_two_processes_at_once_one_waits_its_turn(sample_book):
    """Two real ``process`` runs started together: one does the work, the other exits 2 saying the book
    is in use (or runs after it); never a damaged-part message, and the book opens."""
    cmd = [sys.executable, "-m", "ims_excel.cli", "process", str(sample_book)]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [(p.wait(300), p.stderr.read()) for p in runs]
    for p in runs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(c for c, _ in outs) in ([0, 0], [0, 2]), outs
    for code, err in outs:
        assert "damaged" not in err and "Traceback" not in err
        if code == 2:
            assert "is in use by another ims-excel run" in err
    with Package(sample_book) as pkg:
        assert pkg.table("Inward") is not None
    assert _no_temp(sample_book.parent)


@pytest.mark.parametrize("lock_name", ["~$client.xlsm", ".~lock.client.xlsm#"])
def test_new_and_roll_force_refuse_an_open_target(sample_book, tmp_path, capsys, lock_name):
    target = tmp_path / "client.xlsm"
    (tmp_path / lock_name).write_bytes(b"owner")
    before = target.read_bytes()
    assert main(["new", str(target), "--gstin", DEMO_CONTEXT["gstin"], "--period", "2026-11", "--force"]) == 2
    err = capsys.readouterr().err
    assert "is open in" in err and lock_name in err
    src = tmp_path / "src" / "october.xlsm"
    src.parent.mkdir()
    shutil.copy(sample_book, src)
    assert main(["roll", str(src), "--to", "2026-11", "--filed", "--out", str(target), "--force"]) == 2
    assert "is open in" in capsys.readouterr().err
    assert target.read_bytes() == before


# ---------------------------------------------------------------- damaged packages: exit 2, named, nothing written


def _rezip(src: Path, dst: Path, part: str, change) -> Path:
    """``src`` with one part's bytes changed (a valid zip around them)."""
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == part:
                new = change(data)
                assert new != data, part
                data = new
            w.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return dst


def _patch_directory(src: Path, dst: Path, part: str, *, crc_xor: int = 0, size_delta: int = 0) -> Path:
    """``src`` with the CRC-32 or the uncompressed size that the zip declares for ``part`` changed
    (local header and central directory), the data left as it is."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(part)
    heads = [info.header_offset]
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + n] == part.encode():
            heads.append(pos + 2)  # central header fields sit 2 bytes further than the local ones
        pos = data.find(b"PK\x01\x02", pos + 4)
    for h in heads:
        data[h + 14:h + 18] = struct.pack("<I", info.CRC ^ crc_xor)
        data[h + 22:h + 26] = struct.pack("<I", info.file_size + size_delta)
    dst.write_bytes(bytes(data))
    return dst


def _first_text(tag: bytes):
    return lambda d: re.sub(rb"<t>([A-Za-z])", tag + rb"\1", d, count=1)


DAMAGE = {  # name: (make(src, dst), words the message must have)
    "bad CRC, styles": (lambda s, d: _patch_directory(s, d, "xl/styles.xml", crc_xor=0x1234),
                        "part 'xl/styles.xml' is damaged"),
    "bad CRC, VBA project (copied as is)": (lambda s, d: _patch_directory(s, d, "xl/vbaProject.bin", crc_xor=1),
                                            "part 'xl/vbaProject.bin' is damaged"),
    "size too small, workbook": (lambda s, d: _patch_directory(s, d, "xl/workbook.xml", size_delta=-100),
                                 "part 'xl/workbook.xml' is damaged"),
    "size too large, VBA project": (lambda s, d: _patch_directory(s, d, "xl/vbaProject.bin", size_delta=100),
                                    "part 'xl/vbaProject.bin' is damaged"),
    "size too large, Inward sheet": (lambda s, d: _patch_directory(s, d, "xl/worksheets/sheet3.xml",
                                                                   size_delta=100),
                                     "part 'xl/worksheets/sheet3.xml' is damaged"),
    "malformed UTF-8": (lambda s, d: _rezip(s, d, "xl/sharedStrings.xml", _first_text(b"<t>\xff")),
                        "part 'xl/sharedStrings.xml' is not valid UTF-8"),
    "UTF-8 lone surrogate": (lambda s, d: _rezip(s, d, "xl/sharedStrings.xml", _first_text(b"<t>\xed\xa0\x80")),
                             "part 'xl/sharedStrings.xml' is not valid UTF-8"),
    "character reference past U+10FFFF": (lambda s, d: _rezip(s, d, "xl/sharedStrings.xml",
                                                              _first_text(b"<t>&#1114112;")),
                                          "invalid character reference (&#1114112;)"),
    "character reference, lone surrogate": (lambda s, d: _rezip(s, d, "xl/sharedStrings.xml",
                                                                _first_text(b"<t>&#xD800;")),
                                            "invalid character reference (&#xD800;)"),
    "overflowing character reference in a table": (
        lambda s, d: _rezip(s, d, "xl/tables/table1.xml",
                            lambda x: re.sub(rb'name="([A-Z])', rb'name="&#99999999999999999999;\1', x, count=1)),
        "part 'xl/tables/table1.xml' has an invalid character reference"),
    "garbage table range": (lambda s, d: _rezip(s, d, "xl/tables/table1.xml",
                                                lambda x: re.sub(rb'ref="[^"]*"', b'ref="garbage"', x, count=1)),
                            "table 'Inward' on sheet 'Inward' has the range 'garbage'"),
    "table range past the sheet": (lambda s, d: _rezip(s, d, "xl/tables/table1.xml",
                                                       lambda x: re.sub(rb'ref="[^"]*"', b'ref="A1:CN1048577"', x,
                                                                        count=1)),
                                   "has the range 'A1:CN1048577'"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_book_exit_2_naming_file_and_cause(sample_master, tmp_path, capsys, case):
    make, words = DAMAGE[case]
    book = make(sample_master, tmp_path / "client.xlsm")
    before = book.read_bytes()
    for argv in (["process", str(book)], ["export", str(book), "--only-valid", "--out", str(tmp_path / "u.json")]):
        if argv[0] == "export" and "VBA" in case:
            continue  # export reads the tables, not the VBA project; the upload does not depend on it
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv[0], err)
        assert str(book) in err and words in err and "Traceback" not in err, err
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.xlsm"]  # no temp, backup, lock or upload


def test_batch_goes_on_past_every_broken_book(sample_master, tmp_path, capsys):
    folder = tmp_path / "clients"
    folder.mkdir()
    for k, (make, _) in enumerate(DAMAGE.values()):
        make(sample_master, folder / f"broken{k:02d}.xlsm")
    shutil.copy(sample_master, folder / "zz_good.xlsm")
    assert main(["batch", str(folder), "--as-of", DEMO_CONTEXT["as_of"]]) == 2
    out = capsys.readouterr().out
    vba = [k for k, name in enumerate(DAMAGE) if "VBA" in name]  # batch reads the tables, not the VBA project
    assert f"{1 + len(vba)} workbooks summarised, {len(DAMAGE) - len(vba)} failed." in out
    for k, (_, words) in enumerate(DAMAGE.values()):
        if k not in vba:
            name = str(folder / f"broken{k:02d}.xlsm")
            line = next(x for x in out.splitlines() if x.startswith(f"FAILED {name}"))
            assert words in line and line.count(name) == 1, line  # the file named once, not "FAILED f: f: ..."
    assert "zz_good.xlsm" in out and "Traceback" not in out


# ---------------------------------------------------------------- import: never past Excel's last row


def test_import_never_writes_past_row_1048576(tmp_path, capsys):
    """Excel has 1,048,576 rows ("Excel specifications and limits"): an import that does not fit is refused,
    naming how many rows fit, and nothing is written."""
    src = sample_path("sample_inward.csv")
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    first30 = tmp_path / "first30.csv"
    first30.write_text("".join(lines[:31]), encoding="utf-8")
    book = tmp_path / "client.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], period=DEMO_CONTEXT["period"])
    book_imports.import_sources(book, [first30], direction="inward", backup=False)
    with Package(book) as pkg:
        t = pkg.table("Inward")
        last = t.bounds[2]
    assert last == 31

    def to_the_end(xml: bytes) -> bytes:  # the last record moves to row 1,048,574
        return re.sub(rb'(<row r=")31(")(.*?</row>)', lambda m: m.group(1) + b"1048574" + m.group(2)
                      + re.sub(rb'r="([A-Z]+)31"', rb'r="\g<1>1048574"', m.group(3)), xml, flags=re.S)
    moved = tmp_path / "moved.xlsm"
    with Package(book) as pkg:
        sheet, table = pkg.table("Inward").sheet_part, pkg.table("Inward").part
    _rezip(book, moved, sheet, to_the_end)
    _rezip(moved, book, table, lambda x: re.sub(rb'ref="A1:([A-Z]+)31"', rb'ref="A1:\g<1>1048574"', x, count=1))
    before = book.read_bytes()
    code = main(["import", str(book), str(src), "--direction", "inward"])
    err = capsys.readouterr().err
    assert code == 2
    assert "4 records do not fit in the Inward table: its sheet has room for 2 more rows (rows 1,048,575-1,048,576" in err
    assert book.read_bytes() == before and latest_backup(book) is None and _no_temp(tmp_path)


# ---------------------------------------------------------------- kill -9 while writing with worker processes

SLOW_INJECT = textwrap.dedent("""
    import time
    from ims_excel.book import cached
    inject = cached._inject_unit
    def slow(*args):  # the workers take their time, so that the kill lands while they write
        time.sleep(600)
        return inject(*args)
""")

SLOW_PARALLEL_PROCESS = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])  # slow_inject: a module a spawned worker can import
    from ims_excel.book import cached, read
    import slow_inject
    read.PARALLEL_BYTES, read.CHUNK_ROWS, read.PROCESSES = 0, 500, 2  # the worker path, on a small book
    cached._inject_unit = slow_inject.slow
    from ims_excel.cli import main
    sys.exit(main(["process", sys.argv[1]]))
""")


def test_kill_9_while_workers_write_leaves_book_backups_and_no_worker(tmp_path, start_method):
    """``kill -9`` of ``process`` while its workers (forked, or spawned where there is no ``fork``) rewrite
    the Inward sheet: the book and its backups are as they were, no worker is left, and the next run works
    (and removes the dead run's temp file)."""
    from tests.support import synthetic

    book = book_new.make_book(tmp_path / "big.xlsm", synthetic.inward(3000, seed=7), None,
                              {"gstin": "27AAACR5055K1Z7", "period": "2026-10", "as_of": "2026-11-26"})
    book_process.process(book)  # a first run: one backup exists
    baks = {p: p.read_bytes() for p in fileio.backups(book)}
    before = book.read_bytes()
    assert len(baks) == 1
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "slow_inject.py").write_text(SLOW_INJECT)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_PARALLEL_PROCESS, str(book), str(mods)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            if len(workers) >= 2 and list(tmp_path.glob(".big.xlsm.*.tmp")):
                break
            time.sleep(0.01)
        assert len(workers) >= 2 and list(tmp_path.glob(".big.xlsm.*.tmp")), "never caught it writing"
        time.sleep(0.3)  # the workers are in their work (past their initializer)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _gone(workers) == []  # no orphan worker holding memory
        assert book.read_bytes() == before
        assert {p: p.read_bytes() for p in fileio.backups(book)} == baks
        rep = book_process.process(book)  # the next run works, and clears the leftovers
        assert rep.records == 3000
        assert not list(tmp_path.glob(".big.xlsm.*.tmp")) and not fileio.lock_path(book).exists()
    finally:
        _kill(proc, workers)


def test_a_number_that_is_not_finite_is_never_written_to_a_cell():
    """The last guard under every writer: ``<v>inf</v>`` is a book Excel must repair."""
    from ims_excel.xlsx import sheetxml

    for v in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(sheetxml.SheetFormatError, match="not a finite number"):
            sheetxml.number_text(v)
    col = sheetxml.Column(12, "amount", None)
    with pytest.raises(sheetxml.SheetFormatError):
        sheetxml.column_cells(col, [1.0, float("inf")], 2, 2)
