"""The ``ims-excel`` command: a thin door onto the engine.

Exit codes: 0 = done (a report with record errors is still done), 2 = unusable
input (the message names the file, row and column), 1 = an internal error.
"""

from __future__ import annotations

import argparse
import sys

from ims_excel.cli import book as book_commands
from ims_excel.cli.commands import register_report, register_rules
from ims_excel.cli.demo import register_demo
from ims_excel.cli.reconcile import register_reconcile
from ims_excel.xlsx.fileio import CannotWrite
from ims_excel.cli.exits import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError
from ims_excel.normalise import InputError
from ims_excel.xlsx import alloc
from ims_excel.xlsx.fanout import WorkerDied
from ims_excel.xlsx.package import PackageProblem


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ims-excel", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    register_report(sub)
    register_demo(sub)
    register_rules(sub)
    book_commands.register(sub)
    register_reconcile(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # the command's own process: glibc's allocator tuned for big workbooks (never done by the library,
    # which may run inside Excel's Python or a notebook)
    alloc.tune()
    try:
        return args.func(args)
    except (InputError, PackageProblem) as e:
        print("Cannot use this input:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_INPUT
    except (UsageError, CannotWrite) as e:
        print(f"ims-excel: {e}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print("ims-excel: out of memory; nothing was written (try IMS_EXCEL_PROCESSES=1)", file=sys.stderr)
        return EXIT_INTERNAL
    except WorkerDied as e:
        print(f"ims-excel: {e} (try IMS_EXCEL_PROCESSES=1)", file=sys.stderr)
        return EXIT_INTERNAL
    except OSError as e:  # the machine, not the input or this program: a full disk, a permission, a device
        where = f"{e.filename}: " if e.filename else ""
        print(f"ims-excel: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
