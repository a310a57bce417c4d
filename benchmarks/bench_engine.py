"""Engine benchmark: 1,048,576 synthetic records (every section and state), validation + GSTR-2B
+ GSTR-3B + add-back, against the per-row reference implementation on the same records.

    python benchmarks/bench_engine.py [--rows 1048576] [--reference-rows N]

Prints one table; the ratio is measured in this one run, side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.reference import evaluate_rows  # noqa: E402
from tests.support import synthetic  # noqa: E402
from ims_excel.engine import Context, evaluate  # noqa: E402


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_048_576)
    ap.add_argument("--outward", type=int, default=100_000)
    ap.add_argument("--reference-rows", type=int, default=None, help="default: all rows")
    args = ap.parse_args()
    ctx = Context.make("27AAACR5055K1Z7", "2026-10", as_of=dt.date(2026, 11, 26))
    t = time.perf_counter()
    inward = synthetic.inward(args.rows, seed=42)
    outward = synthetic.outward(args.outward, seed=42)
    gen = time.perf_counter() - t
    engine = best_of(3, lambda: evaluate(inward, ctx, outward))
    ref_rows = args.reference_rows or args.rows
    sub = inward.iloc[:ref_rows].reset_index(drop=True)
    # side by side on the same work: the inward records' validation, 2B placement and ITC
    engine_sub = best_of(3, lambda: evaluate(sub, ctx))
    reference = best_of(1, lambda: evaluate_rows(sub, ctx))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"synthetic data: {args.rows:,} inward + {args.outward:,} outward records in {gen:.1f} s")
    print(f"{'what':<58} {'seconds':>9}")
    print(f"{'engine: validation + 2B + 3B + add-back, ' + format(args.rows, ',') + ' inward':<58} "
          f"{engine:>9.2f}")
    print(f"{'  (+ ' + format(args.outward, ',') + ' outward records, input checks; best of 3)':<58}")
    print(f"{'per-row reference, ' + format(ref_rows, ',') + ' rows':<58} {reference:>9.2f}")
    print(f"{'engine on the same ' + format(ref_rows, ',') + ' rows, inward only (best of 3)':<58} "
          f"{engine_sub:>9.2f}")
    print(f"speed-up (same rows, same run): {reference / engine_sub:.0f}x")


if __name__ == "__main__":
    main()
