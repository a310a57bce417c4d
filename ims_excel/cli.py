"""The ``ims-excel`` command: a thin door onto the engine.

Exit codes: 0 = done (a report with record errors is still done), 2 = unusable
input (the message names the file, row and column), 1 = an internal error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from importlib import resources
from pathlib import Path

from ims_excel import periods
from ims_excel.engine import Context, Result, evaluate
from ims_excel.normalise import InputError
from ims_excel.report import status_counts, text_report, to_json

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad command-line values: reported like bad input (exit 2)."""


def _date(text: str | None, flag: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date (use YYYY-MM-DD)") from None


def context_from_args(args: argparse.Namespace) -> Context:
    from ims_excel import gstin as g

    if not args.gstin or not args.period:
        raise UsageError("--gstin and --period are required (unless INWARD is a client workbook, whose Config "
                         "sheet has them)")
    if not g.is_valid(args.gstin):
        raise UsageError(f"--gstin {args.gstin!r} is not a valid GSTIN (format or check digit)")
    p = periods.parse_or_none(args.period)
    if p is None:
        raise UsageError(f"--period {args.period!r} is not a period (use YYYY-MM)")
    return Context(gstin=args.gstin, period=p, frequency=args.frequency or "monthly",
                   as_of=_date(args.as_of, "--as-of") or dt.date.today(),
                   annual_return_date=_date(args.annual_return_date, "--annual-return-date"),
                   gstr3b_filed=args.gstr3b_filed, taxpayer_type=args.taxpayer_type or "normal",
                   state=args.state or "")


def load(path: str, direction: str = "inward"):
    """Typed canonical records from any supported file (see :mod:`ims_excel.formats`)."""
    from ims_excel.formats import load as load_any

    if not Path(path).exists():
        raise UsageError(f"{path}: no such file")
    return load_any(path, direction=direction)


def run_report(args: argparse.Namespace) -> Result:
    # a client workbook brings its own Context (Config sheet); flags given override it
    from ims_excel.book import io as book_io

    if book_io.is_client_workbook(args.inward):
        return book_io.report_result(args)
    ctx = context_from_args(args)
    inward = load(args.inward, "inward")
    outward = load(args.outward, "outward") if args.outward else None
    return evaluate(inward, ctx, outward, inward_name=args.inward, outward_name=args.outward or "")


def cmd_report(args: argparse.Namespace) -> int:
    result = run_report(args)
    if args.json:
        json.dump(to_json(result), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(text_report(result))
    return EXIT_OK


def sample_path(name: str) -> Path:
    return Path(str(resources.files("ims_excel.data").joinpath(name)))


DEMO_CONTEXT = {"gstin": "27AAACR5055K1Z7", "period": "2026-10", "as_of": "2026-11-26",
                "frequency": "monthly"}


def cmd_demo(args: argparse.Namespace) -> int:
    # the demo goes through the workbook doors: new -> import -> process -> export
    from ims_excel.book import io as book_io

    out = Path(args.out) if args.out else Path("ims-demo")
    files = book_io.demo(out, DEMO_CONTEXT, sample_path("sample_inward.csv"), sample_path("sample_outward.csv"))
    result = files.result
    print("ims-excel demo: the bundled sample (every IMS section, the usual mistakes) for "
          f"R = {DEMO_CONTEXT['gstin']}, return period {DEMO_CONTEXT['period']}, as of {DEMO_CONTEXT['as_of']}\n")
    print(text_report(result, max_rows=60))
    up = files.upload_obj
    print(f"\nWrote {files.workbook} (processed: Validation sheet, Inward results, Liability rows)")
    print(f"Wrote {files.upload} ({up.count} records to upload; {len(up.left_out) - len(up.act_online)} "
          f"left out and {len(up.act_online)} to act on online, listed in the summary)")
    print(f"Wrote {files.summary} (one-page summary)")
    print(f"Wrote {files.report}")
    counts = status_counts(result)
    print(f"\n{len(result.records)} records: {counts['error']} errors, {counts['warning']} warnings.")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from ims_excel.rules import rulebook

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


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ims-excel", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("report", help="validate records and preview GSTR-2B / GSTR-3B / add-back")
    p.add_argument("inward", metavar="INWARD", help=".csv, .xlsx, .xlsm or a portal JSON; a client workbook "
                                                    "(ims-excel new) also gives the Config and Outward table")
    p.add_argument("--outward", metavar="OUTWARD", help="our own documents with recipients' actions")
    _add_context_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("demo", help="run the whole job on the bundled sample data",
                       description="Build a client workbook from the bundled sample, process it, write the upload "
                                   "JSON (valid records; the sample's deliberate errors are left out and listed) "
                                   "and a one-page summary.")
    p.add_argument("--out", help="folder to write the outputs to (default: ./ims-demo)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("rules", help="print the IMS decision table the engine applies")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules)
    from ims_excel import cli_book

    cli_book.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print("Cannot use this input:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_INPUT
    except UsageError as e:
        print(f"ims-excel: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print("ims-excel: out of memory; nothing was written (try IMS_EXCEL_PROCESSES=1)", file=sys.stderr)
        return EXIT_INTERNAL
    except RuntimeError as e:
        from ims_excel.xlsx.fanout import WorkerDied

        if not isinstance(e, WorkerDied):
            raise
        print(f"ims-excel: {e} (try IMS_EXCEL_PROCESSES=1)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
