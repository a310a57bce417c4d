"""Snapshot sheets of the workbook as PDF and PNG pages, for a person to look at.

    python scripts/snapshot.py [--workbook PATH | --rows N] [--sheets Start Inward GSTR-3B] [--out DIR]

Without ``--workbook`` it builds a demo workbook with ``--rows`` synthetic
Inward rows (and a few Outward rows) so the sheets show numbers. LibreOffice
recalculates, then exports the chosen sheets to ``OUT/<name>.pdf``; PNG pages
come from ``pdftoppm`` (Debian ``poppler-utils``) when it is installed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import recalc  # noqa: E402
from ims_excel.template.build import build_workbook  # noqa: E402
from tests.support.sample import RECIPIENT, sample_inward, sample_outward  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workbook", type=Path, help="an existing workbook (default: build a demo)")
    parser.add_argument("--rows", type=int, default=20, help="demo Inward rows (default 20)")
    parser.add_argument("--sheets", nargs="+", default=["Start", "Inward", "GSTR-3B"])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "snapshot")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ims-snapshot-") as tmp:
        book = args.workbook
        if book is None:
            book = build_workbook(Path(tmp) / "IMS_Demo.xlsm", sample_inward(args.rows),
                                  sample_outward(max(args.rows // 2, 1)),
                                  {"gstin": RECIPIENT, "legal_name": "Demo Traders Pvt Ltd",
                                   "period": "2025-11", "as_of": "2025-12-05"})
        pdf = recalc.export_pdf(book, args.sheets, args.out / f"{Path(book).stem}.pdf")
        print(pdf)
        try:
            for png in recalc.export_png(pdf, args.out, dpi=args.dpi):
                print(png)
        except recalc.RecalcError as exc:
            print(f"no PNG: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
