"""Benchmark: what caching the engine's values costs ``ims-excel import`` (issue 9).

Run: ``python benchmarks/bench_import.py [--rows 100000] [--add 1000]``

``import`` ends with the cache-only step (:func:`ims_excel.book.cached.save_with_cached_values`, called by
:meth:`ims_excel.book.filebook.FileBook.save`): the
merged book is written to a temporary folder, then read, evaluated by the engine and written again
with every formula cell caching its value (as ``process`` does), so that it opens with the right
numbers and without a full calculation. The cost is a second pass over the book. Side by side in
one run, for each case: ``import`` as it is, and ``import`` with that step replaced by the plain save
it had before (``fullCalcOnLoad`` on, no cached values):

* ``--rows`` synthetic records (a canonical CSV) into a new book, ``--shared-formulas`` (a big
  download);
* ``--add`` more records into that book (a big book that grows a little: the whole book is read
  and evaluated again).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ims_excel.book import filebook as filebook_mod  # noqa: E402
from ims_excel.book import imports as imports_mod  # noqa: E402
from ims_excel.book.edit import drop_calc_chain, full_calc_on_load  # noqa: E402
from ims_excel.book.new import new_workbook  # noqa: E402
from tests.support import synthetic  # noqa: E402

CACHED = filebook_mod.save_with_cached_values


def _plain_save(edit, path, *, backup=True):
    """The save ``import`` had before the cache-only step: no values, Excel calculates on load
    (:meth:`FileBook.save` then has no ``cached`` report)."""
    drop_calc_chain(edit)
    full_calc_on_load(edit)
    edit.save(Path(path), backup=backup)
    return None


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the forked workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(book: Path, src: Path, cache: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one import (the save that ends it with or without the cache-only step)."""
    filebook_mod.save_with_cached_values = CACHED if cache else _plain_save
    t, c = time.perf_counter(), _cpu()
    imports_mod.import_sources(book, [src], shared_formulas=True, backup=False)
    return time.perf_counter() - t, _cpu() - c


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--add", type=int, default=1_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        big = tmp / "big.csv"
        synthetic.to_raw(synthetic.inward(args.rows, seed=1)).to_csv(big, index=False)
        more = tmp / "more.csv"
        extra = synthetic.to_raw(synthetic.inward(args.add, seed=2))
        extra["Document Number"] = "ADD-" + extra["Document Number"].astype(str)
        extra.to_csv(more, index=False)
        empty = tmp / "empty.xlsm"
        new_workbook(empty, gstin="27AAACR5055K1Z7", period="2026-10")
        print(f"import (loadavg {os.getloadavg()[0]:.1f} at start; 2 cores shared with other jobs)")
        print("seconds, wall (CPU)")
        print(f"{'case':<44} {'plain save':>16} {'with cached values':>19} {'ratio wall (CPU)':>17}")
        for label, base_src, src in ((f"{args.rows:,} records into a new book", None, big),
                                     (f"{args.add:,} more into a {args.rows:,}-row book", big, more)):
            times = {}
            for cache in (False, True):
                book = tmp / f"book-{cache}.xlsm"
                shutil.copy(empty, book)
                if base_src is not None:
                    _run(book, base_src, cache)
                times[cache] = _run(book, src, cache)
            (w0, c0), (w1, c1) = times[False], times[True]
            print(f"{label:<44} {w0:>7.1f} ({c0:>6.1f}) {w1:>10.1f} ({c1:>6.1f}) {w1 / w0:>8.1f}x ({c1 / c0:.1f}x)")
    filebook_mod.save_with_cached_values = CACHED
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
