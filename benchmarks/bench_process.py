"""Benchmark: ``ims-excel process`` on big client workbooks, side by side with openpyxl.

Run: ``python benchmarks/bench_process.py [--rows 100000 1048575] [--openpyxl-max 100000]``

For each size a workbook is made from the template with ``synthetic.inward(n)``
records (every section, action and flag; formula columns stored as shared
formulas, as ``build_workbook(..., shared_formulas=True)`` does, but streamed
in by :func:`ims_excel.book.new.make_book`, which is what makes a
million-row book possible here). Then, each in its own process, timed from
the outside and with its peak resident memory (``wait4``):

* ``process``: ``python -m ims_excel.cli process BOOK`` (read, engine, write
  the cached values of every formula cell, the Validation and Liability
  sheets, atomically, with a backup);
* ``process`` without ``fork`` (the Windows path, where Excel users run it): the same command with
  ``IMS_EXCEL_NO_FORK=1``, so the worker processes that parse and rewrite a big sheet are spawned
  (the sheet still inflated once, its units handed out through named shared memory:
  :mod:`ims_excel.xlsx.fanout`);
* the baseline: openpyxl ``load_workbook(keep_vba=True)``, one sheet added with
  the validation counts, ``save`` (the least an openpyxl-based ``process`` would
  do; it could not even keep the formulas' cached values).

openpyxl is run up to ``--openpyxl-max`` rows (above that it needs many GB and
many minutes on this machine); the table says when it was not run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NO_FORK = {**os.environ, "IMS_EXCEL_NO_FORK": "1"}
"""The environment of ``ims-excel`` with ``fork`` turned off (the Windows path, measured on Linux)."""

OPENPYXL = r"""
import sys, openpyxl
path = sys.argv[1]
wb = openpyxl.load_workbook(path, keep_vba=True)
ws = wb.create_sheet("Validation")
ws.append(["Validation", "written by the openpyxl baseline"])
for status in ("error", "warning", "info", "ok"):
    ws.append([status, 0])
wb.save(path)
"""


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size of these processes, summed (shared pages counted once overall)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float, str, int]:
    """(wall seconds, peak memory in MB, stdout, exit code) of a child process.

    Peak memory is the highest sum of PSS over the child and its worker processes
    (sampled every second; forked workers share pages, which PSS counts once), or the
    child's own peak RSS where /proc cannot be read, whichever is larger.
    """
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            peak[0] = max(peak[0], _pss_mb(_tree(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.stdout.close()
    return (wall, max(peak[0], usage.ru_maxrss / 1024), out.decode(errors="replace"),
            os.waitstatus_to_exitcode(status))


def make(n: int, path: Path) -> tuple[float, float]:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); "
            "from tests.support import synthetic; from ims_excel.book.new import make_book; "
            f"make_book(sys.argv[1], synthetic.inward({n}, seed=11), None, "
            "{'gstin': '27AAACR5055K1Z7', 'period': '2026-10', 'as_of': '2026-11-26'}, shared_formulas=True)")
    wall, rss, out, rc = run([sys.executable, "-c", code, str(path)])
    if rc:
        raise SystemExit(f"making the {n}-row workbook failed:\n{out}")
    return wall, rss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_048_575])
    ap.add_argument("--openpyxl-max", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="make the books in this folder (and keep them)")
    args = ap.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ims-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPUs; books in {folder}")
    lines = []
    for n in args.rows:
        book = folder / f"bench_{n}.xlsm"
        if book.exists() and args.keep:
            made = (0.0, 0.0)
        else:
            made = make(n, book)
        size = book.stat().st_size / 2**20
        print(f"\n{n:,} rows: book {size:,.0f} MB (made in {made[0]:.0f} s, {made[1]:,.0f} MB)", flush=True)
        work = folder / f"work_{n}.xlsm"
        shutil.copy(book, work)
        wall, rss, out, rc = run([sys.executable, "-m", "ims_excel.cli", "process", str(work), "--no-backup"])
        phases = re.search(r"\((read [^)]*)\)", out)
        print(f"  process: exit {rc}, {wall:.1f} s, peak {rss:,.0f} MB  [{phases.group(1) if phases else out[-300:]}]",
              flush=True)
        shutil.copy(book, work)
        w_wall, w_rss, w_out, w_rc = run([sys.executable, "-m", "ims_excel.cli", "process", str(work), "--no-backup"],
                                         env=NO_FORK)
        w_phases = re.search(r"\((read [^)]*)\)", w_out)
        print(f"  process without fork (Windows path): exit {w_rc}, {w_wall:.1f} s, peak {w_rss:,.0f} MB  "
              f"[{w_phases.group(1) if w_phases else w_out[-300:]}]; {w_wall / wall:.2f}x the fork path", flush=True)
        o_wall = o_rss = None
        if n <= args.openpyxl_max:
            shutil.copy(book, work)
            o_wall, o_rss, o_out, o_rc = run([sys.executable, "-c", OPENPYXL, str(work)])
            print(f"  openpyxl load/modify/save: exit {o_rc}, {o_wall:.1f} s, peak {o_rss:,.0f} MB", flush=True)
        work.unlink(missing_ok=True)
        lines.append((n, wall, rss, w_wall, w_rss, o_wall, o_rss))
    print("\n| rows | process | peak memory | without fork (Windows path) | peak memory | openpyxl load+save "
          "| peak memory | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, wall, rss, w_wall, w_rss, o_wall, o_rss in lines:
        windows = f"{w_wall:.1f} s ({w_wall / wall:.2f}x) | {w_rss:,.0f} MB"
        if o_wall is None:
            print(f"| {n:,} | {wall:.1f} s | {rss:,.0f} MB | {windows} | not run | - | - |")
        else:
            print(f"| {n:,} | {wall:.1f} s | {rss:,.0f} MB | {windows} | {o_wall:.1f} s | {o_rss:,.0f} MB "
                  f"| {o_wall / wall:.1f}x |")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
