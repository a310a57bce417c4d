"""``ims-excel reconcile BOOK BOOKS... [--apply] [--followup DIR]``: the purchase-register reconciliation of a
client workbook (issue 11), through :func:`ims_excel.book.reconcile.reconcile_book`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ims_excel.book.carry import CannotCarry
from ims_excel.book.reconcile import book_settings, reconcile_book
from ims_excel.cli.commands import add_tolerance_args, books_paths, recon_settings
from ims_excel.cli.exits import EPILOG, EXIT_INPUT, EXIT_OK, UsageError, parse_date
from ims_excel.cli.output import money
from ims_excel.recon import reconcile_text
from ims_excel.xlsx.fileio import CannotWrite


def cmd_reconcile(args: argparse.Namespace) -> int:
    if not Path(args.book).exists():
        raise UsageError(f"{args.book}: no such file")
    books = books_paths(args.books)
    as_of = parse_date(args.as_of, "--as-of")
    settings = recon_settings(args, book_settings(args.book))  # the Config sheet's, the flags over them
    try:
        rep = reconcile_book(args.book, books, settings=settings, followup=args.followup, as_of=as_of,
                             backup=not args.no_backup, apply=args.apply)
    except (CannotCarry, CannotWrite) as e:
        print(f"ims-excel: {e}", flush=True)
        return EXIT_INPUT
    print(reconcile_text(rep.rec))
    total = rep.suppliers.iloc[-1] if len(rep.suppliers) else None
    if total is not None:
        print(f"  suppliers to follow up: {len(rep.suppliers) - 1}  (not reported {int(total['missing_ims'])}, "
              f"mismatches {int(total['mismatch'])}, add-back from our rejections {money(float(total['addback']))})")
    print(f"Wrote the Reconciliation and Suppliers sheets into {rep.path}")
    if rep.missing_columns:
        print(f"  The Inward table has no {', '.join(rep.missing_columns)} column (a workbook from an older "
              "template): run ims-excel upgrade to get them; the Reconciliation sheet has the same.")
    else:
        print(f"  Inward: Match Status, Match Note, Suggested Action filled ({rep.columns_written} cells changed)")
    if args.apply:
        print(f"Filled {len(rep.filled)} blank Action cell(s) with the suggestion; typed actions are never changed"
              + (". Run ims-excel process to refresh Status and the returns." if rep.filled else "."))
        if rep.filled:
            print(_listed([f"row {r} {doc}: {a}" for r, doc, a in rep.filled]))
        for line in _listed([f"row {r} {doc}: {a} not filled: with the ITC Reduction / amounts typed there the "
                             f"engine refuses it ({code})" for r, doc, a, code in rep.refused]).splitlines():
            print(line)
    for f in rep.followup:
        print(f"Wrote {f}")
    return EXIT_OK


SHOWN = 200
"""Rows listed one by one (then a count of the rest)."""


def _listed(items: list[str]) -> str:
    shown = "\n".join(f"  {x}" for x in items[:SHOWN])
    return shown + (f"\n  ... and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def register_reconcile(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconcile", help="match the workbook's Inward records with the purchase register",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Match every Inward record with the client's books (GSTN template, Tally, Busy "
                                   "or canonical files; several at once) and write a Reconciliation sheet (status, "
                                   "the books row, the differences, the suggested action and why, per record and "
                                   "per books row, with totals) and a Suppliers sheet (what to follow up with each "
                                   "supplier), and fills the Inward table's Match Status, Match Note and "
                                   "Suggested Action columns (overwritten each run). With --apply the suggestions "
                                   "also go into BLANK Action cells (never over a typed action). The save is atomic; the "
                                   "previous file is kept as a dated backup (BOOK.bak-YYYYMMDD-HHMMSS.xlsm, the "
                                   "last 3).")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("books", metavar="BOOKS", nargs="+", help="purchase-register files")
    add_tolerance_args(p)
    p.add_argument("--apply", action="store_true",
                   help="copy each suggestion into a blank Action cell (with its ITC Reduction / remark where "
                        "those are blank); typed actions are never changed")
    p.add_argument("--followup", metavar="DIR", help="also write one CSV per supplier to follow up into DIR")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: Config, else today)")
    p.add_argument("--no-backup", action="store_true", help="do not keep a dated backup (BOOK.bak-YYYYMMDD-HHMMSS.xlsm)")
    p.set_defaults(func=cmd_reconcile)


__all__ = ["register_reconcile", "cmd_reconcile"]
