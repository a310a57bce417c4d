"""LibreOffice full recalculation time of the workbook with N synthetic Inward rows.

    python benchmarks/bench_recalc.py [--rows 10000 100000] [--cli]
    python benchmarks/bench_recalc.py --formulas      # formula text per Inward row, column by column
    python benchmarks/bench_recalc.py --rows 20000 --shared yes --against /path/to/other/checkout
    python benchmarks/bench_recalc.py --variants --rows 20000   # conditional-format layouts, load side by side

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

``--variants`` builds one book (shared formulas) and rewrites the Inward sheet's conditional formats
into the layouts of :data:`VARIANTS` (the template's; the one before issue 9's measurement: status colours
over every column, the lakh/crore pair once per amount column; fewer columns; cellIs rules; table rows only;
none), then loads each in LibreOffice without recalculating, three rounds in rotated order after one
uncounted load, and prints the wall and soffice CPU seconds of each load and their means.

Issue 9 measurements (2 shared cores, other jobs running): see README "Performance".
"""

from __future__ import annotations

import argparse
import re
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


def _cf_elements(xml: str) -> tuple[str, str, str]:
    """(the Inward sheet without its conditional formats, the status element, the lakh/crore element)."""
    found = re.findall(r"<conditionalFormatting\b.*?</conditionalFormatting>", xml, re.S)
    status = next(e for e in found if "ABS(" not in e)
    amounts = next(e for e in found if "ABS(" in e)
    return re.sub(r"<conditionalFormatting\b.*?</conditionalFormatting>", "", xml, flags=re.S), status, amounts


def _sqref(element: str, sqref: str) -> str:
    return re.sub(r'sqref="[^"]*"', f'sqref="{sqref}"', element, count=1)


def _per_column(amounts: str) -> str:
    """The lakh/crore pair once per amount column (the template before issue 9's measurement)."""
    from ims_excel.xlsx.package import col_index, col_letters

    sqref = re.search(r'sqref="([^"]*)"', amounts).group(1)
    first = re.match(r"[A-Z]+", sqref).group(0)
    out = []
    for rng in sqref.split():
        a, b = (col_index(re.match(r"[A-Z]+", x).group(0)) for x in rng.split(":"))
        for c in range(a, b + 1):
            col = col_letters(c)
            out.append(_sqref(amounts, f"{col}2:{col}1048576").replace(f"ABS({first}2)", f"ABS({col}2)"))
    n = iter(range(3, 3 + 2 * len(out)))  # priorities after the two status rules, as the template numbered them
    return re.sub(r'priority="\d+"', lambda m: f'priority="{next(n)}"', "".join(out))


def _cell_is(status: str, sqref: str) -> str:
    """The status rules as ``cellIs`` rules (``"error"`` / ``"warning"``) on ``sqref``, the Status column: a cellIs
    rule colours the cell it tests, so it cannot colour the rest of the row."""
    out = _sqref(status, sqref)
    return re.sub(r'type="expression"( dxfId="\d+" priority="\d+")><formula>[^<]*="(\w+)"</formula>',
                  r'type="cellIs"\1 operator="equal"><formula>"\2"</formula>', out)


VARIANTS = {
    "template (whole-row status, one amount-pair element)": lambda st, am, at: st + am,
    "before (status on every column, a pair per amount column)":
        lambda st, am, at: _sqref(st, at["all"]) + _per_column(am),
    "status on the frozen columns and Status, Reason Code, Message": lambda st, am, at: _sqref(st, at["shown"]) + am,
    "status on the Status column only": lambda st, am, at: _sqref(st, at["status"]) + am,
    "status as cellIs rules on the Status column only": lambda st, am, at: _cell_is(st, at["status"]) + am,
    "amounts a pair per column": lambda st, am, at: st + _per_column(am),
    "ranges to the last table row, not whole columns":
        lambda st, am, at: (st + am).replace("1048576", str(at["rows"] + 1)),
    "no status rules": lambda st, am, at: am,
    "no amount rules": lambda st, am, at: st,
    "no conditional formats": lambda st, am, at: "",
}
"""Inward conditional-format layouts for ``--variants``: (the template's status element, its lakh/crore element,
ranges and the row count) -> the elements the sheet holds."""


def variants(rows: int, tmp: Path, session: recalc.Session, rounds: int = 3) -> dict[str, list[dict]]:
    """{variant: [load seconds of each round]}: one book of ``rows`` synthetic Inward rows, its Inward sheet's
    conditional formats rewritten per :data:`VARIANTS`, each loaded (not recalculated) ``rounds`` times,
    alternately."""
    frame = synthetic.to_raw(synthetic.inward(rows, seed=rows, period=PERIOD))
    ctx = Context.make(RECIPIENT, PERIOD, as_of=dt.date(2026, 11, 5))
    book = build_workbook(tmp / f"variants_{rows}.xlsm", frame, config=config.from_context(ctx),
                          shared_formulas=True)
    part = "xl/worksheets/sheet3.xml"
    from ims_excel.template.build import INWARD
    from ims_excel.template.tables import column_runs, frozen_columns
    from xlsxwriter.utility import xl_range

    def whole(cols: list[int]) -> str:
        return " ".join(xl_range(1, a, 1_048_575, b) for a, b in column_runs(cols))
    shown = list(range(frozen_columns(INWARD))) + [INWARD.column_index(h) for h in ("Status", "Reason Code", "Message")]
    at = {"all": whole(list(range(len(INWARD.headers)))), "status": whole([INWARD.column_index("Status")]),
          "shown": whole(shown), "rows": rows}
    with zipfile.ZipFile(book) as z:
        xml = z.read(part).decode("utf-8")
        bare, status, amounts = _cf_elements(xml)
        k = bare.index("<dataValidations")
        books = {}
        for i, (name, make) in enumerate(VARIANTS.items()):
            books[name] = tmp / f"variant_{i}.xlsm"
            with zipfile.ZipFile(books[name], "w", zipfile.ZIP_DEFLATED) as w:
                for info in z.infolist():
                    data = (bare[:k] + make(status, amounts, at) + bare[k:]).encode() if info.filename == part \
                        else z.read(info.filename)
                    w.writestr(zipfile.ZipInfo(info.filename, info.date_time), data, zipfile.ZIP_DEFLATED)
    out: dict[str, list[dict]] = {name: [] for name in books}
    names = list(books)
    session.load_seconds(books[names[0]])  # a first load warms soffice up: not counted
    for r in range(rounds):  # each round in another order (rotated, every other one reversed): no variant
        order = names[r % len(names):] + names[:r % len(names)]  # always follows the same one
        for name in order[::-1] if r % 2 else order:
            out[name].append(dict(session.load_seconds(books[name])))
            print(f"round {r + 1}  {name:62s} load={out[name][-1]['load']:.1f}  load_cpu={out[name][-1]['load_cpu']:.1f}",
                  flush=True)
    return out


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
try:
    from tests.support import synthetic
except ImportError:  # a checkout from before the test helpers moved (issue 9's first measurement)
    from ims_excel import synthetic
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


def build_in(tree: Path, out: Path, rows: int, shared: bool = True) -> Path:
    """The bench book (``rows`` synthetic Inward records, as :func:`bench` builds them) written to ``out`` by
    ``tree``'s own code: a subprocess with ``tree`` on its path, so any checkout of the project can be measured."""
    import subprocess

    subprocess.run([sys.executable, "-c", _BUILD_OTHER.format(period=PERIOD, recipient=RECIPIENT), str(rows),
                    str(out), "yes" if shared else "no"], cwd=tree, env=_env(tree), check=True)
    return out


def side_by_side(rows: int, other: Path, shared: bool, repeat: int, tmp: Path) -> None:
    """This tree's book and ``other``'s, the same records, loaded and calculated alternately in one session."""
    books = {}
    for name, tree in (("this", REPO), ("other", other)):
        t0 = time.perf_counter()
        books[name] = build_in(tree, tmp / f"{name}_{rows}.xlsm", rows, shared)
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
    parser.add_argument("--variants", action="store_true",
                        help="load the Inward conditional-format layouts side by side (first --rows) and stop")
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
        if args.variants:
            res = variants(args.rows[0], Path(tmp), lo)
            print(f"mean of {len(next(iter(res.values())))} loads, seconds: wall / soffice CPU")
            for name, runs in res.items():
                print(f"{name:62s} {sum(x['load'] for x in runs) / len(runs):6.1f} "
                      f"{sum(x['load_cpu'] for x in runs) / len(runs):6.1f}")
            return 0
        modes = {"no": [False], "yes": [True], "both": [False, True]}[args.shared]
        for n in args.rows:
            for shared in modes:
                r = bench(n, Path(tmp), lo, args.cli, shared)
                print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()),
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
