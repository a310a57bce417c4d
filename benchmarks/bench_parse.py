"""Benchmark: :func:`ims_excel.normalise.parse_amounts` and :func:`~ims_excel.normalise.parse_dates` a column
at a time vs the per-value versions they replaced (kept in ``tests/test_parse_columns.py`` as the reference),
side by side in one run.

Run: ``python benchmarks/bench_parse.py [ROWS] [REPEATS]``. Four columns of ROWS cells (amount text in
plain, Western and Indian grouping with ``₹``; amounts mixed: numbers, text and blanks; date text in the
four forms; dates mixed: text, Excel serials, datetimes and blanks), then whole imports of ROWS records made
as ``bench_formats.py`` and ``bench_books.py`` make them (IMS JSON, portal Excel, a purchase register CSV):
the typed step alone (:func:`ims_excel.formats.to_typed` on the raw frame, where the parsing happens) and
the whole :func:`ims_excel.formats.load` / :func:`ims_excel.formats.books.read_one`. Each way is timed
REPEATS times, alternating, and the best is reported; the two ways' results are checked equal. Not a test.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_books import _grouped, make_csv  # noqa: E402
from benchmarks.bench_formats import make_excel, make_json  # noqa: E402
from ims_excel import normalise  # noqa: E402
from ims_excel.formats import books, detect_and_read, load, to_typed  # noqa: E402
from tests.test_parse_columns import reference_parse_amounts, reference_parse_dates  # noqa: E402

NEW = {"parse_amounts": normalise.parse_amounts, "parse_dates": normalise.parse_dates}
OLD = {"parse_amounts": reference_parse_amounts, "parse_dates": reference_parse_dates}


def use(way: dict) -> None:
    """Make the package call one way's functions (normalise's own and the books reader's import)."""
    normalise.parse_amounts, normalise.parse_dates = way["parse_amounts"], way["parse_dates"]
    books.parse_amounts = way["parse_amounts"]


def columns(rows: int) -> dict[str, tuple[str, pd.Series]]:
    rng = random.Random(4)

    def amount() -> float:
        return rng.randint(100, 10_000_000) / 100

    def text(v: float) -> str:
        return rng.choice([f"{v:.2f}", f"{v:,.2f}", _grouped(v), f"₹ {_grouped(v)}", f" {v:.2f} "])

    def day() -> dt.date:
        return dt.date(2025, 4, 1) + dt.timedelta(days=rng.randrange(365))

    def date_text(d: dt.date) -> str:
        return rng.choice([d.strftime("%d-%m-%Y"), d.isoformat(), d.strftime("%d/%m/%Y"),
                           f"{d.day}-{d.month}-{d.year}"])

    mixed_amounts = [rng.choice([amount(), round(amount()), text(amount()), None, ""]) for _ in range(rows)]
    mixed_dates = []
    for _ in range(rows):
        d = day()
        mixed_dates.append(rng.choice([date_text(d), (d - dt.date(1899, 12, 30)).days,
                                       dt.datetime(d.year, d.month, d.day), None, ""]))
    return {"amount text": ("parse_amounts", pd.Series([text(amount()) for _ in range(rows)], dtype=object)),
            "amounts mixed": ("parse_amounts", pd.Series(mixed_amounts, dtype=object)),
            "date text": ("parse_dates", pd.Series([date_text(day()) for _ in range(rows)], dtype=object)),
            "dates mixed": ("parse_dates", pd.Series(mixed_dates, dtype=object))}


def best(results: dict, key: tuple, fn) -> object:
    t = time.perf_counter()
    out = fn()
    results[key] = min(results.get(key, float("inf")), time.perf_counter() - t)
    return out


def main(rows: int = 100_000, repeats: int = 3) -> None:
    cols = columns(rows)
    results: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jpath, xpath, cpath = Path(tmp) / "ims.json", Path(tmp) / "ims.xlsx", Path(tmp) / "register.csv"
        make_json(jpath, rows)
        make_excel(xpath, rows)
        make_csv(cpath, rows)
        raws = {"IMS JSON": detect_and_read(jpath), "portal Excel": detect_and_read(xpath)}
        for _ in range(repeats):  # alternate the two ways so that load on the machine hits both alike
            outs = {}
            for label, way in (("old", OLD), ("new", NEW)):
                for name, (f, s) in cols.items():
                    outs[(name, label)] = best(results, (name, label), lambda: way[f](s))
                use(way)
                try:
                    for fmt, raw in raws.items():
                        outs[(f"{fmt}: typed step", label)] = best(
                            results, (f"{fmt}: typed step", label), lambda: to_typed(raw.copy(), file=fmt))
                    for fmt, path in (("IMS JSON", jpath), ("portal Excel", xpath)):
                        outs[(f"{fmt}: load", label)] = best(results, (f"{fmt}: load", label), lambda: load(path))
                    outs[("register CSV: read_one", label)] = best(results, ("register CSV: read_one", label),
                                                                    lambda: books.read_one(cpath))
                finally:
                    use(NEW)
            for name in cols:
                for o, n in zip(outs[(name, "old")], outs[(name, "new")]):
                    pd.testing.assert_series_equal(n, o)
            for key in {k for k, _ in outs if k not in cols}:
                pd.testing.assert_frame_equal(outs[(key, "new")], outs[(key, "old")])
    print(f"{rows:,} rows, best of {repeats}, old (per value) vs new (a column at a time)")
    print(f"{'what':<32}{'old s':>8}{'new s':>8}{'ratio':>8}")
    for key in dict.fromkeys(k for k, _ in results):
        old, new = results[(key, "old")], results[(key, "new")]
        print(f"{key:<32}{old:>8.3f}{new:>8.3f}{old / new:>7.1f}x")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
