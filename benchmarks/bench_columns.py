"""What Inward formula columns cost LibreOffice to calculate, and two trees side by side.

    python benchmarks/bench_columns.py --rows 20000 --keep "gstin=GSTIN OK,GSTIN Expected" all
    python benchmarks/bench_columns.py --tree /path/to/main-checkout --tree . --keep gstin=... all

For each tree (default: this one) build the 20,000-row book of ``bench_recalc.py`` (synthetic Inward
rows, shared formulas; the build runs in that tree's own code), then one variant per ``--keep``: only
the named Inward columns keep their formulas (``<f>`` stripped from every other cell of the Inward
sheet and from the Summary, GSTR-2B, GSTR-3B and Liability sheets; their cached values stay), ``all``
being the book as built. Every variant of every tree is loaded and calculated ``--rounds`` times,
interleaved, in ONE LibreOffice session (``tests.support.recalc.Session``), and the medians printed:
load and calculate, CPU seconds of soffice and wall seconds. A column kept alone reads its
precedents' cached values, so a group's cost is the cost of its own formulas.

Issue 9 measurements: README "Performance".
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_recalc import build_in  # noqa: E402
from tests.support import recalc  # noqa: E402

SUMMARY_PARTS = ("xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml", "xl/worksheets/sheet6.xml",
                 "xl/worksheets/sheet8.xml")
INWARD_PART = "xl/worksheets/sheet3.xml"
_FORMULA = r"<f[^>]*/>|<f[^>]*>.*?</f>"
_CELL = re.compile(rf'(<c r="([A-Z]+)\d+"[^>]*>)({_FORMULA})')


def inward_columns(z: zipfile.ZipFile) -> dict[str, str]:
    """Inward header -> column letters, from the table part."""
    from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

    xml = z.read("xl/tables/table1.xml").decode()
    first = xl_cell_to_rowcol(re.search(r'ref="([A-Z]+\d+):', xml).group(1))[1]
    names = re.findall(r'<tableColumn id="\d+" name="([^"]*)"', xml)
    return {html.unescape(n): xl_col_to_name(first + i) for i, n in enumerate(names)}


def keep_only(book: Path, out: Path, columns: list[str]) -> Path:
    """``book`` with formulas left only in the Inward ``columns`` (summaries stripped too)."""
    with zipfile.ZipFile(book) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as o:
        letters = {inward_columns(z)[c] for c in columns}
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == INWARD_PART:
                data = _CELL.sub(lambda m: m.group(0) if m.group(2) in letters else m.group(1),
                                 data.decode()).encode()
            elif info.filename in SUMMARY_PARTS:
                data = re.sub(_FORMULA, "", data.decode()).encode()
            o.writestr(info, data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--tree", type=Path, action="append",
                        help="a checkout whose code builds a book (repeat; default: this one)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("keep", nargs="*", default=["all"],
                        help='"all" or NAME=Column,Column: the Inward columns that keep their formulas')
    args = parser.parse_args(argv)
    trees = [t.resolve() for t in (args.tree or [REPO])]
    groups = {}
    for spec in args.keep:
        name, _, cols = spec.partition("=")
        groups[name] = None if name == "all" and not cols else [c for c in cols.split(",") if c]
    with tempfile.TemporaryDirectory(prefix="ims-bench-cols-") as tmp:
        books = {}
        for k, tree in enumerate(trees):
            book = build_in(tree, Path(tmp) / f"t{k}.xlsm", args.rows)
            for name, cols in groups.items():
                books[(str(tree), name)] = book if cols is None else keep_only(book, Path(tmp) / f"t{k}-{name}.xlsm", cols)
        seconds = {key: [] for key in books}
        with recalc.Session(timeout=3600) as lo:
            for _ in range(args.rounds):
                for name in groups:
                    for tree in trees:
                        lo.values(books[(str(tree), name)], sheets=["Config"])
                        seconds[(str(tree), name)].append(lo.last_seconds)
        for (tree, name), runs in seconds.items():
            med = {k: statistics.median(r[k] for r in runs) for k in ("load_cpu", "calculate_cpu", "load", "calculate")}
            print(f"{name:12s} {tree:40s} load_cpu={med['load_cpu']:.2f} calculate_cpu={med['calculate_cpu']:.2f}"
                  f"  (wall load={med['load']:.2f} calculate={med['calculate']:.2f}; {len(runs)} runs)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
