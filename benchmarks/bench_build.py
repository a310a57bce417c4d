"""Build benchmark: the template built with N pre-filled Inward rows (``build_workbook``), timed.

    python benchmarks/bench_build.py [--rows 5000] [--repeat 3]

Was a test asserting under 30 s for 5,000 rows; a timing belongs here, not in the test suite
(a loaded machine made the test fail with nothing wrong).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ims_excel.template.build import build_workbook  # noqa: E402
from tests.support.sample import sample_inward  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    raw = sample_inward(args.rows, seed=2)
    times = []
    with tempfile.TemporaryDirectory(prefix="ims-bench-build-") as tmp:
        for k in range(args.repeat):
            t = time.perf_counter()
            out = build_workbook(Path(tmp) / f"b{k}.xlsm", raw)
            times.append(time.perf_counter() - t)
        size = out.stat().st_size
    print(f"build_workbook, {args.rows} Inward rows: best {min(times):.2f} s of {args.repeat} "
          f"(all: {', '.join(f'{x:.2f}' for x in times)}); {size / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
