"""LibreOffice full recalculation time of the workbook with N synthetic Inward rows.

    python benchmarks/bench_recalc.py [--rows 10000 100000] [--cli]

For each N: build the workbook (XlsxWriter, with the per-row computed columns
of ``inward.py`` and the SUMIFS/COUNTIFS summaries), then recalculate it in
LibreOffice over UNO (``load`` and ``calculateAll()`` timed apart) and, with
``--cli``, through ``soffice --convert-to`` with a recalc-always profile
(process start + load + recalc + save). Checks that the Summary counted every
row, and prints one line per size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ims_excel import recalc  # noqa: E402
from ims_excel.workbook import inward, summaries  # noqa: E402
from ims_excel.workbook.build import build_workbook  # noqa: E402
from ims_excel.workbook.sample import RECIPIENT, sample_inward  # noqa: E402


def _cell(values: dict, ref: str):
    from xlsxwriter.utility import xl_cell_to_rowcol

    sheet, a1 = ref.rsplit("!", 1)
    r, c = xl_cell_to_rowcol(a1)
    return values[sheet.strip("'")]["values"][r][c]


def bench(rows: int, tmp: Path, session: recalc.Session, cli: bool, shared: bool) -> dict:
    frame = sample_inward(rows, seed=rows)
    t0 = time.perf_counter()
    book = build_workbook(tmp / f"bench_{rows}.xlsm", frame, config={"gstin": RECIPIENT, "period": "2025-11"},
                          shared_formulas=shared)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = session.values(book, sheets=["Summary", "GSTR-3B"])
    uno_s = time.perf_counter() - t0
    ok = _cell(values, summaries.cell_map()[("summary", "status", "ok", "Records")])
    assert ok == rows, f"Summary counted {ok} of {rows} rows"
    assert not values["Summary"]["errors"] and not values["GSTR-3B"]["errors"]
    out = {"rows": rows, "shared": shared, "formula_columns": len(inward.COMPUTED), "build_s": build_s,
           "file_mb": book.stat().st_size / 1e6, "uno_total_s": uno_s, **session.last_seconds}
    if cli:
        t0 = time.perf_counter()
        recalc.recalculate(book, tmp / "cli", timeout=1800)
        out["cli_convert_s"] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--cli", action="store_true", help="also time soffice --convert-to")
    parser.add_argument("--shared", choices=["no", "yes", "both"], default="both",
                        help="column formulas stored per cell, as shared formulas, or both (default)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ims-bench-") as tmp, recalc.Session(timeout=1800) as lo:
        modes = {"no": [False], "yes": [True], "both": [False, True]}[args.shared]
        for n in args.rows:
            for shared in modes:
                r = bench(n, Path(tmp), lo, args.cli, shared)
                print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()),
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
