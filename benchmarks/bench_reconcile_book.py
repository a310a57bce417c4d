"""``ims-excel reconcile BOOK BOOKS`` end to end on a client workbook (issue 11): read the workbook, match,
suggest, write the Reconciliation / Suppliers sheets and the Inward columns Match Status, Match Note,
Suggested Action in place (the merge's cell rewrite), then again (nothing changes: the Inward sheet is not
rewritten), then with ``--apply``; ``process`` on the same book in the same run, for scale.

    python benchmarks/bench_reconcile_book.py [--rows 100000]

Books as in ``bench_reconcile.py`` (re-typed numbers, amounts off, typos, missing, duplicates), written as a
canonical CSV. Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reconcile import books_from  # noqa: E402
from tests.support import synthetic  # noqa: E402
from ims_excel.book.new import make_book  # noqa: E402
from ims_excel.book.process import process  # noqa: E402
from ims_excel.book.reconcile import reconcile_book  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    n = args.rows
    ims = synthetic.inward(n, seed=11)
    ims["action"] = ims["action"].cat.set_categories(ims["action"].cat.categories).where(
        ims.index % 2 == 0, "")  # half the actions blank: suggestions to apply
    with tempfile.TemporaryDirectory(prefix="bench-recbook-") as tmp:
        book = make_book(Path(tmp) / "b.xlsm", ims, None, {"gstin": "27AAACR5055K1Z7", "period": "2026-10",
                                                            "as_of": "2026-11-26"}, shared_formulas=True)
        b = books_from(ims)
        csv = Path(tmp) / "books.csv"
        cols = {"section": "Section", "supplier_gstin": "Supplier GSTIN", "document_number": "Document Number",
                "document_date": "Document Date", "taxable_value": "Taxable Value", "igst": "IGST",
                "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
        out = b[list(cols)].rename(columns=cols)
        out["Document Date"] = out["Document Date"].dt.strftime("%Y-%m-%d")
        out.to_csv(csv, index=False)
        print(f"{n:,} Inward rows, {len(b):,} books rows; book {os.path.getsize(book) / 1e6:.1f} MB; "
              f"load {os.getloadavg()[0]:.1f}")
        for label, kw in (("reconcile (first: every cell of the 3 columns written)", {}),
                          ("reconcile again (nothing changes)", {}), ("reconcile --apply", {"apply": True})):
            t = time.perf_counter()
            rep = reconcile_book(book, [csv], backup=False, **kw)
            print(f"{label}: {time.perf_counter() - t:.1f} s ({rep.columns_written:,} cells changed, "
                  f"{len(rep.filled):,} actions filled)")
        t = time.perf_counter()
        process(book, backup=False)
        print(f"process, same book: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
