"""Benchmark: read a 100,000-row purchase register CSV, its amount cells cleaned the old way (a Python
function per cell, ``Series.map``) and the new way (:func:`ims_excel.formats._amounts.amount_texts`, a
column at a time), side by side in one run.

Run: ``python benchmarks/bench_books.py [ROWS] [REPEATS]``. The CSV (canonical headers, as Tally / Busy
users export them: ``1,234.50 Dr``, ``(1,234.50)``, ``₹ 1,00,000.50``, ``12Cr``, plain numbers) is made
in a temporary folder; each way is timed REPEATS times, alternating, and the best is reported, for the
cleaning alone (six amount columns), the cleaning and :func:`ims_excel.normalise.parse_amounts` (what
``books._clean`` does with each column) and :func:`ims_excel.formats.books.read_one` on the whole file.
The two ways' typed frames are checked equal. Not a test.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ims_excel.cli.output import money  # noqa: E402  (Indian grouping: 1,00,000.50)
from ims_excel.formats import books  # noqa: E402
from ims_excel.formats._amounts import amount_texts  # noqa: E402
from ims_excel.normalise import parse_amounts  # noqa: E402
from tests.formats.test_amount_texts import reference_amount_text  # noqa: E402

SUPPLIERS = ["27AAACR5055K1Z7", "27AAACS1111S1Z9", "07AAACE4444E1Z0", "29AAACM7777M1ZN",
             "07AAACA1234B1ZK", "24AAACA1111A1ZY"]
HEAD = ["Document Type", "Supplier GSTIN", "Supplier Name", "Document Number", "Document Date",
        "Taxable Value", "IGST", "CGST", "SGST", "Cess", "Document Value"]


def _shown(v: float, rng: random.Random) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"{v:.2f}"
    if style == 1:
        return f"{money(v)} Dr"
    if style == 2:
        return f"({v:,.2f})"
    if style == 3:
        return f"₹ {money(v)}"
    if style == 4:
        return f"{v:.2f}Cr"
    return f"-{v:,.2f}"


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(3)
    lines = [",".join(HEAD)]
    for i in range(rows):
        tx = rng.randint(100, 10_000_000) / 100
        tax = round(tx * 0.18, 2)
        igst, cgst = (tax, 0.0) if i % 2 else (0.0, round(tax / 2, 2))
        cells = [_shown(v, rng) for v in (tx, igst, cgst, cgst, 0.0, tx + tax)]
        lines.append(",".join(["Invoice" if i % 10 else "Credit Note", SUPPLIERS[i % 6], f"Supplier {i % 6}",
                               f"INV/26-27/{i:06d}", f"{1 + i % 28:02d}-10-2026"]
                              + [f'"{c}"' for c in cells]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def old_way(series: pd.Series) -> pd.Series:
    """How books.py cleaned an amount column before: the per-value function through Series.map."""
    return series.astype(object).map(reference_amount_text)


def best(fn, repeats: int) -> tuple[object, float]:
    out, times = None, []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


def main(rows: int = 100_000, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "purchase_register.csv"
        make_csv(path, rows)
        size = path.stat().st_size
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)[list(books.AMOUNTS)]
        results: dict[tuple[str, str], float] = {}
        frames = {}
        for _ in range(repeats):  # alternate the two ways so that load on the machine hits both alike
            for way, fn in (("old", old_way), ("new", amount_texts)):
                for step, job in (("clean", lambda: [fn(raw[c]) for c in raw]),
                                  ("parse", lambda: [parse_amounts(fn(raw[c])) for c in raw])):
                    _, t = best(job, 1)
                    results[(step, way)] = min(results.get((step, way), t), t)
                books.amount_texts = fn
                try:
                    frames[way], t = best(lambda: books.read_one(path), 1)
                finally:
                    books.amount_texts = amount_texts
                results[("read_one", way)] = min(results.get(("read_one", way), t), t)
        pd.testing.assert_frame_equal(frames["old"], frames["new"])
    print(f"{rows:,} rows, {size / 2**20:.1f} MB CSV, best of {repeats}")
    print(f"{'step':<34}{'old s':>8}{'new s':>8}{'ratio':>8}")
    for step, label in (("clean", "clean 6 amount columns"), ("parse", "clean + parse_amounts, 6 columns"),
                        ("read_one", "books.read_one (whole file)")):
        old, new = results[(step, "old")], results[(step, "new")]
        print(f"{label:<34}{old:>8.2f}{new:>8.2f}{old / new:>7.1f}x")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
