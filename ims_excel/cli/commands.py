"""``ims-excel report`` (records from any file, or a client workbook) and ``ims-excel rules``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path

import pandas as pd

from ims_excel import gstin as g
from ims_excel import periods
from ims_excel.book.read import is_client_workbook, report_book
from ims_excel.book.reconcile import book_settings
from ims_excel.cli.exits import EXIT_OK, UsageError, parse_date
from ims_excel.cli.output import text_report, to_json
from ims_excel.engine import Context, Result, evaluate
from ims_excel.engine.context import pre_ims_period
from ims_excel.engine.reconcile import Settings
from ims_excel.formats import load as load_any
from ims_excel.recon import purchases_json, reconcile, record_fields, reconcile_text
from ims_excel.rules import rulebook


def context_from_args(args: argparse.Namespace) -> Context:
    if not args.gstin or not args.period:
        raise UsageError("--gstin and --period are required (unless INWARD is a client workbook, whose Config "
                         "sheet has them)")
    gstin = args.gstin.strip().upper()
    if not g.is_valid(gstin):  # the one GSTIN rule (issue 12.3)
        raise UsageError(f"--gstin {args.gstin!r} is not a valid GSTIN (state code, registration pattern or "
                         "check digit)")
    p = periods.parse_or_none(args.period)
    if p is None:
        raise UsageError(f"--period {args.period!r} is not a period (use YYYY-MM)")
    why = pre_ims_period(p, args.frequency or "monthly")  # D28: a return before IMS reaches no summary
    if why:
        raise UsageError(f"--period {why}")
    return Context(gstin=gstin, period=p, frequency=args.frequency or "monthly",
                   as_of=parse_date(args.as_of, "--as-of") or dt.date.today(),
                   annual_return_date=parse_date(args.annual_return_date, "--annual-return-date"),
                   gstr3b_filed=args.gstr3b_filed, taxpayer_type=args.taxpayer_type or "normal",
                   state=args.state or "")


def load(path: str, direction: str = "inward") -> pd.DataFrame:
    """Typed canonical records from any supported file (see :mod:`ims_excel.formats`)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError:
        pass  # the reader names it (permission denied, ...)
    return load_any(path, direction=direction)


CONFIG_FLAGS = (("gstin", "RecipientGSTIN"), ("period", "ReturnPeriod"), ("frequency", "FilingFrequency"),
                ("state", "StateCodeOverride"), ("taxpayer_type", "TaxpayerType"),
                ("annual_return_date", "AnnualReturnFiledOn"))
"""Flags of ``report`` that override a client workbook's Config value (flag, defined name)."""


def run_report(args: argparse.Namespace) -> Result:
    # a client workbook brings its own Context (Config sheet); flags given override it
    if is_client_workbook(args.inward):
        overrides = {name: getattr(args, flag) for flag, name in CONFIG_FLAGS if getattr(args, flag, None)}
        as_of = parse_date(args.as_of, "--as-of")
        outward = load(args.outward, "outward") if args.outward else None
        return report_book(args.inward, overrides=overrides, as_of=as_of, gstr3b_filed=args.gstr3b_filed,
                           outward=outward, outward_name=args.outward or "")
    ctx = context_from_args(args)
    inward = load(args.inward, "inward")
    outward = load(args.outward, "outward") if args.outward else None
    return evaluate(inward, ctx, outward, inward_name=args.inward, outward_name=args.outward or "")


def recon_settings(args: argparse.Namespace, defaults: Settings | None = None) -> Settings:
    """Matching tolerances: the flags, else ``defaults`` (a workbook's Config), else the rule data's; the
    suggestion policy: ``defaults``', else the rule data's."""
    if args.tolerance is not None and args.tolerance < 0:
        raise UsageError(f"--tolerance {args.tolerance} must not be negative")
    if args.date_tolerance is not None and args.date_tolerance < 0:
        raise UsageError(f"--date-tolerance {args.date_tolerance} must not be negative")
    base = defaults or Settings()
    tol = {f: args.tolerance for f in base.tolerance} if args.tolerance is not None else base.tolerance
    days = args.date_tolerance if args.date_tolerance is not None else base.date_days
    return dataclasses.replace(base, tolerance=dict(tol), date_days=days)


def books_paths(paths: list[str]) -> list[str]:
    for p in paths:
        if not Path(p).exists():
            raise UsageError(f"{p}: no such file")
    return paths


def cmd_report(args: argparse.Namespace) -> int:
    result = run_report(args)
    rec = None
    if args.purchases:
        # a client workbook's Config sets the tolerances and the policy (issue 11); the flags override
        defaults = book_settings(args.inward) if is_client_workbook(args.inward) else None
        rec = reconcile(result.inward, result.context, books_paths(args.purchases), recon_settings(args, defaults))
    if args.json:
        obj = to_json(result)
        if rec is not None:
            for r, extra in zip(obj["records"], record_fields(rec)):
                r.update(extra)
            obj["purchases"] = purchases_json(rec, result.records["row"].to_numpy())
        json.dump(obj, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(text_report(result))
        if rec is not None:
            print("\n" + reconcile_text(rec))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    table = rulebook().table()
    if args.json:
        print(table.to_json(orient="records", indent=1))
    else:
        cols = ["key", "record", "condition", "accept", "reject", "pending", "no_action", "code", "source"]
        print(table[cols].to_string(index=False, max_colwidth=60))
    return EXIT_OK


def _add_context_args(p: argparse.ArgumentParser) -> None:
    # not required by the parser: a client workbook can supply them (context_from_args checks)
    p.add_argument("--gstin", help="recipient GSTIN (the user's own); required unless INWARD is a client workbook")
    p.add_argument("--period", help="GSTR-3B return period, YYYY-MM; required unless INWARD is a client workbook")
    p.add_argument("--frequency", choices=["monthly", "quarterly"], help="default monthly")
    p.add_argument("--as-of", help="date the actions are checked on (default today), YYYY-MM-DD")
    p.add_argument("--annual-return-date", help="annual return filed on, YYYY-MM-DD (s.16(4))")
    p.add_argument("--gstr3b-filed", action="store_true", help="GSTR-3B of the period is filed")
    p.add_argument("--state", help="state code for QRMP due dates (default: from the GSTIN)")
    p.add_argument("--taxpayer-type", help="default normal",
                   choices=["normal", "sez", "casual", "composition", "isd", "nrtp", "tds", "tcs"])


def register_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="validate records and preview GSTR-2B / GSTR-3B / add-back")
    p.add_argument("inward", metavar="INWARD", help=".csv, .xlsx, .xlsm or a portal JSON; a client workbook "
                                                    "(ims-excel new) also gives the Config and Outward table")
    p.add_argument("--outward", metavar="OUTWARD", help="our own documents with recipients' actions")
    _add_context_args(p)
    p.add_argument("--purchases", metavar="BOOKS", action="append",
                   help="the purchase register (GSTN template, Tally, Busy or canonical .csv/.xlsx); repeat for "
                        "several files: match every record and suggest an action")
    add_tolerance_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_report)


def add_tolerance_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tolerance", type=float, help="rupees an amount may differ and still match (default: Config, "
                                                   "else 1.00)")
    p.add_argument("--date-tolerance", type=int, help="days a document date may differ (default: Config, else 0)")


def register_rules(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="print the IMS decision table the engine applies")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules)
