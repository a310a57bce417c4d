"""LibreOffice full recalculation time of the workbook with N synthetic Inward rows.

    python benchmarks/bench_recalc.py [--rows 10000 100000] [--cli]
    python benchmarks/bench_recalc.py --formulas      # formula text per Inward row, column by column
    python benchmarks/bench_recalc.py --rows 20000 --shared yes --against /path/to/other/checkout

For each N: build the workbook from N synthetic records as a user types them
(``synthetic.inward`` -> ``to_raw``: every section, action, period and flag,
so every branch of the row formulas runs), with the per-row computed columns
of ``inward.py`` and the SUMIFS/COUNTIFS summaries, then recalculate it in
LibreOffice over UNO (``load`` and ``calculateAll()`` timed apart) and, with
``--cli``, through ``soffice --convert-to`` with a recalc-always profile
(process start + load + recalc + save). Checks that the Summary's validation
block counted every row and that GSTR-3B 4A(5) equals the engine's, and prints
one line per size (``per_1k_rows_s``: calculate seconds per 1,000 rows, to see
whether time scales linearly; ``sheet_bytes_per_row``: the Inward sheet XML, unzipped, per row).

``--formulas`` prints, per Inward computed column, the characters of its formula as each cell
holds it in a per-cell book (structured references) and as the shared formula holds it (A1),
and the totals per row: the formula text a row of a small book carries.

``--against DIR`` measures this tree and another checkout of the project (e.g. main in a ``git
worktree``) side by side: the same records built into a book by each (the other one in a subprocess
running its own code), then each book loaded and calculated ``--repeat`` times, alternately, in one
LibreOffice session (a shared, noisy machine: compare within one run; the CPU seconds are soffice's),
and each tree's formula text per row.

Issue 9 measurements (2 shared cores, other jobs running): see README "Performance".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import datetime as dt  # noqa: E402

from tests.support import recalc, synthetic  # noqa: E402
from ims_excel.engine import Context, evaluate  # noqa: E402
from ims_excel.normalise import normalise  # noqa: E402
from ims_excel.template import config, inward, summaries  # noqa: E402
from ims_excel.template.build import build_workbook  # noqa: E402

RECIPIENT = "27AAACR5055K1Z7"
PERIOD = "2026-10"


def _cell(values: dict, ref: str):
    from xlsxwriter.utility import xl_cell_to_rowcol

    sheet, a1 = ref.rsplit("!", 1)
    r, c = xl_cell_to_rowcol(a1)
    return values[sheet.strip("'")]["values"][r][c]


def formula_table() -> list[tuple[str, int, int]]:
    """(column, characters structured, characters A1) of every Inward computed column, in order."""
    from ims_excel.template.build import INWARD
    from ims_excel.xlsx import structured

    from ims_excel.rules import rulebook
    from ims_excel.template import rules_sheet

    book = rulebook()
    try:  # the workbook's Codes table (older trees: the rule book's)
        from ims_excel.template.messages import codes_frame
        codes = codes_frame(book.codes_table())
    except ImportError:
        codes = book.codes_table()
    tables = {"inward": structured.Table("Inward", "Inward", 1, 2, 2, 1, INWARD.headers)}
    for name, frame in (("Rules", book.table()), ("Codes", codes), ("Sections", rules_sheet.sections_frame()),
                        ("NotInIMS", rules_sheet.not_in_ims_frame())):
        tables[name.casefold()] = structured.Table(name, "Rules", 40, 41, 80, 1, list(frame.columns))
    return [(c.header, len(c.formula.encode()), len(structured.to_a1(c.formula, 2, tables, "Inward").encode()))
            for c in inward.COMPUTED]


def bench(rows: int, tmp: Path, session: recalc.Session, cli: bool, shared: bool) -> dict:
    frame = synthetic.to_raw(synthetic.inward(rows, seed=rows, period=PERIOD))
    ctx = Context.make(RECIPIENT, PERIOD, as_of=dt.date(2026, 11, 5))
    t0 = time.perf_counter()
    book = build_workbook(tmp / f"bench_{rows}.xlsm", frame, config=config.from_context(ctx),
                          shared_formulas=shared)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = session.values(book, sheets=["Summary", "GSTR-3B"])
    uno_s = time.perf_counter() - t0
    cells = summaries.cell_map()
    counted = sum(_cell(values, cells[("summary", "status", s, "Records")]) for s in ("ok", "info", "warning", "error"))
    assert counted == rows, f"Summary counted {counted} of {rows} rows"
    assert not values["Summary"]["errors"] and not values["GSTR-3B"]["errors"]
    res = evaluate(normalise(frame), ctx)
    got, want = _cell(values, cells[("gstr3b", "table4", "4A5", "IGST")]), res.gstr3b["4A5"]["igst"]
    assert abs(got - want) < 0.005, f"4A(5) IGST {got} != engine {want}"
    with zipfile.ZipFile(book) as z:  # the Inward sheet part, unzipped: what a reader parses per row
        sheet_bytes = z.getinfo("xl/worksheets/sheet3.xml").file_size
    out = {"rows": rows, "shared": shared, "formula_columns": len(inward.COMPUTED), "build_s": build_s,
           "file_mb": book.stat().st_size / 1e6, "sheet_bytes_per_row": sheet_bytes / rows,
           "uno_total_s": uno_s, **session.last_seconds,
           "per_1k_rows_s": session.last_seconds.get("calculate", 0.0) / rows * 1000}
    if cli:
        t0 = time.perf_counter()
        recalc.recalculate(book, tmp / "cli", timeout=1800)
        out["cli_convert_s"] = time.perf_counter() - t0
    return out


_BUILD_OTHER = """
import datetime as dt, sys
from pathlib import Path
from tests.support import synthetic
from ims_excel.engine import Context
from ims_excel.template import config
from ims_excel.template.build import build_workbook
rows, out, shared = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "yes"
frame = synthetic.to_raw(synthetic.inward(rows, seed=rows, period={period!r}))
ctx = Context.make({recipient!r}, {period!r}, as_of=dt.date(2026, 11, 5))
build_workbook(out, frame, config=config.from_context(ctx), shared_formulas=shared)
"""


def _formula_totals(tree: Path) -> str:
    """``--formulas``' total line, as ``tree``'s own code gives it."""
    import subprocess

    out = subprocess.run([sys.executable, str(tree / "benchmarks" / "bench_recalc.py"), "--formulas"],
                         cwd=tree, env=_env(tree), capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1]


def _env(tree: Path) -> dict:
    import os

    return {**os.environ, "PYTHONPATH": str(tree)}


def side_by_side(rows: int, other: Path, shared: bool, repeat: int, tmp: Path) -> None:
    """This tree's book and ``other``'s, the same records, loaded and calculated alternately in one session."""
    import subprocess

    books = {}
    for name, tree in (("this", REPO), ("other", other)):
        t0 = time.perf_counter()
        books[name] = tmp / f"{name}_{rows}.xlsm"
        subprocess.run([sys.executable, "-c", _BUILD_OTHER.format(period=PERIOD, recipient=RECIPIENT), str(rows),
                        str(books[name]), "yes" if shared else "no"], cwd=tree, env=_env(tree), check=True)
        print(f"{name}: {tree}  build_s={time.perf_counter() - t0:.1f}  file_mb={books[name].stat().st_size / 1e6:.1f}"
              f"  {_formula_totals(tree)}", flush=True)
    with recalc.Session(timeout=3600) as lo:
        for i in range(repeat):
            for name in ("other", "this") if i % 2 == 0 else ("this", "other"):
                lo.values(books[name], sheets=["Summary"])
                print(f"{name} run {i + 1}: " + "  ".join(f"{k}={v:.2f}" for k, v in lo.last_seconds.items()),
                      flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--cli", action="store_true", help="also time soffice --convert-to")
    parser.add_argument("--shared", choices=["no", "yes", "both"], default="both",
                        help="column formulas stored per cell, as shared formulas, or both (default)")
    parser.add_argument("--formulas", action="store_true",
                        help="print the formula text per Inward row, column by column, and stop")
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout of the project: measure both side by side (one LibreOffice session)")
    parser.add_argument("--repeat", type=int, default=2, help="with --against: loads of each book, alternately")
    args = parser.parse_args(argv)
    if args.against is not None:
        with tempfile.TemporaryDirectory(prefix="ims-bench-") as tmp:
            for n in args.rows:
                side_by_side(n, args.against.resolve(), args.shared != "no", args.repeat, Path(tmp))
        return 0
    if args.formulas:
        table = formula_table()
        for header, chars, a1 in sorted(table, key=lambda t: -t[1]):
            print(f"{header:22s} {chars:6d} {a1:6d}")
        print(f"{'per Inward row':22s} {sum(t[1] for t in table):6d} {sum(t[2] for t in table):6d}"
              f"  ({len(table)} formula columns; bytes as stored per cell / as the shared A1 formula)")
        return 0
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
