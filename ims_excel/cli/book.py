"""``ims-excel`` commands that work on client workbooks (new, import, process, export, roll, batch, upgrade).

:func:`register` adds them to the main parser (:mod:`ims_excel.cli.app`); each command converts its
arguments and calls a use case of :mod:`ims_excel.book`.

Exit codes (every command): **0** done; **2** unusable input or a refusal
(the message names the file, sheet, row and column, or the parts a change
would lose) and nothing was written; **1** internal error. ``export`` without
``--only-valid`` exits 2 when records with errors would be uploaded;
``batch`` exits 2 when any workbook could not be read (the others are still
summarised).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from python_calamine import CalamineError

from ims_excel.book import batch as batch_mod
from ims_excel.book import export as export_mod
from ims_excel.book import imports as imports_mod
from ims_excel.book import new as new_mod
from ims_excel.book import process as process_mod
from ims_excel.book import roll as roll_mod
from ims_excel.book import upgrade as upgrade_mod
from ims_excel.book.carry import CannotCarry
from ims_excel.book.outputs import SUMMARY_HEADER
from ims_excel.xlsx import fileio
from ims_excel.xlsx.fileio import CannotWrite
from ims_excel.cli.exits import EPILOG, EXIT_INPUT, EXIT_OK, parse_date
from ims_excel.cli.output import money, status_counts
from ims_excel.csvout import write_csv
from ims_excel.formats.upload_json import UploadRefused
from ims_excel.xlsx.package import UNREADABLE, unreadable
from ims_excel.xlsx.sheetxml import SheetFormatError


def _backed_up(func):
    """Run ``func(args)``, then say where the previous version of ``args.book`` was kept (if it was): on
    stderr when ``--json`` asks stdout for the JSON alone."""
    def run(args: argparse.Namespace) -> int:
        before = set(fileio.backups(args.book))
        code = func(args)
        made = [b for b in fileio.backups(args.book) if b not in before]
        if made:
            print(f"  Previous version kept as {made[-1].name} in {made[-1].parent} "
                  f"(the last {fileio.BACKUPS} kept; IMS_EXCEL_BACKUPS sets how many).",
                  file=sys.stderr if getattr(args, "json", False) else sys.stdout)
        return code
    run.__name__ = func.__name__
    return run


def _refusal(e: Exception) -> int:
    print(f"ims-excel: {e}", file=sys.stderr)
    return EXIT_INPUT


def cmd_new(args: argparse.Namespace) -> int:
    path = new_mod.new_workbook(args.book, gstin=args.gstin, name=args.name or "", period=args.period,
                                frequency=args.frequency, state=args.state or "",
                                taxpayer_type=args.taxpayer_type, force=args.force)
    print(f"Created {path} for {args.gstin.upper()}, return period {args.period} ({args.frequency}).")
    print(f"Next: ims-excel import {path} DOWNLOAD.json ...")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    rep = imports_mod.import_sources(args.book, args.sources, direction=args.direction,
                                 shared_formulas=args.shared_formulas, backup=not args.no_backup)
    if getattr(args, "json", False):
        print(json.dumps(rep.as_dict(), indent=1, ensure_ascii=False))
        return EXIT_OK
    for line in rep.lines() + rep.cache_lines():
        print(line)
    print(f"Next: ims-excel process {args.book}")
    return EXIT_OK


TYPED_LISTED = 20
"""Values found typed over formula cells that ``process`` lists (all of them are on the Changes sheet)."""


def _print_restored(restored: dict[str, list[str]], typed: dict | None = None) -> None:
    """The formula cells found typed over (restored), each with its column and what was typed (kept on the
    Changes sheet): the first :data:`TYPED_LISTED`, then how many more."""
    typed = typed or {}
    for table, cells in restored.items():
        found = typed.get(table) or []
        if not found:
            shown = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
            print(f"  {table}: {len(cells)} formula cells had been typed over; their formulas are restored: {shown}.")
            continue
        kept = " (what was typed is kept on the Changes sheet)" if any(c.value is not None for c in found) else ""
        print(f"  {table}: {len(cells)} formula cells had been typed over; their formulas are restored{kept}:")
        for c in found[:TYPED_LISTED]:
            print(f"    {c.text()}")
        if len(found) > TYPED_LISTED:
            print(f"    and {len(found) - TYPED_LISTED} more: see the Changes sheet")


def _print_not_cached(why: str) -> None:
    if why:
        print(f"  note: the formula cells' values are left to Excel's calculation on opening: {why}")


def _print_process(rep) -> None:
    c = status_counts(rep.result)
    print(f"Processed {rep.path}: {rep.records} records: {c['error']} errors, {c['warning']} warnings, "
          f"{c['info']} info, {c['ok']} ok.")
    print(f"  Validation sheet: {rep.listed} of {rep.flagged} records with errors or warnings listed.")
    t4 = rep.result.gstr3b["4A5"]
    print("  GSTR-3B 4A(5): " + "  ".join(f"{h.upper() if h != 'cess' else 'Cess'} {money(t4[h])}"
                                         for h in ("igst", "cgst", "sgst", "cess")))
    if len(rep.result.liability):
        print(f"  Liability sheet: {len(rep.result.liability)} add-back rows.")
    _print_restored(rep.restored, rep.typed)
    for w in rep.warnings:
        print(f"  note: {w}")
    for d in rep.dropped:
        print(f"  dropped (--force): {d}")
    s = rep.seconds
    print(f"  {s['total']:.1f} s (read {s['read']:.1f}, engine {s['engine']:.1f}, write {s['write']:.1f}).")


def cmd_process(args: argparse.Namespace) -> int:
    rep = process_mod.process(args.book, force=args.force, as_of=parse_date(args.as_of, "--as-of"),
                              backup=not args.no_backup,
                              progress=_Progress())
    _print_process(rep)
    return EXIT_OK


class _Progress:
    """A progress bar on stderr (a line per phase when stderr is not a terminal)."""

    WORDS = {"read": "reading", "engine": "checking", "write": "writing"}

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.phase = ""
        self.shown = -1

    def __call__(self, phase: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if phase != self.phase:
            if self.tty and self.phase:
                sys.stderr.write("\n")
            self.phase, self.shown = phase, -1
            if not self.tty:
                sys.stderr.write(f"{self.WORDS.get(phase, phase)}...\n")
        if self.tty and pct != self.shown:
            bar = "#" * (pct // 4)
            size = f" ({done / 2**30:.1f} of {total / 2**30:.1f} GB)" if total else ""
            sys.stderr.write(f"\r{self.WORDS.get(phase, phase):<9} [{bar:<25}] {pct:3d}%{size}")
            if phase == "write" and pct == 100:
                sys.stderr.write("\n")
        self.shown = pct
        sys.stderr.flush()


def cmd_export(args: argparse.Namespace) -> int:
    book = Path(args.book)
    out = Path(args.out) if args.out else book.with_name(f"{book.stem}_upload.json")
    try:
        up, result, reset = export_mod.export_upload(book, out, only_valid=args.only_valid,
                                                         as_of=parse_date(args.as_of, "--as-of"),
                                                         route=args.route)
    except UploadRefused as e:
        print(f"ims-excel: {book}: {e}", file=sys.stderr)
        return EXIT_INPUT
    where = ("IMS dashboard -> Offline -> Upload JSON" if args.route == "offline"
             else "a GSP / the API SAVE request")
    print(f"Wrote {out}: {up.count} records to upload (GSTIN {result.context.gstin}; {args.route} route: "
          f"{where}).")
    if up.act_online:
        print(f"Act on these online ({len(up.act_online)}; the {args.route} upload cannot carry them):")
        for r in up.act_online[:50]:
            print(f"  {r}")
    if len(up.left_out) > len(up.act_online):
        rest = [r for r in up.left_out if r.code != "ACT_ONLINE"]
        print(f"Left out ({len(rest)}), row numbers as on the Inward sheet:")
        for r in rest[:50]:
            print(f"  {r}")
        if len(rest) > 50:
            print(f"  ... and {len(rest) - 50} more")
    if reset:
        print(f"Wrote {reset}: {len(up.resets)} records to reset to No Action (the portal's RESET request).")
    for w in up.warnings[:20]:
        print(f"  note: {w}")
    return EXIT_OK


def cmd_roll(args: argparse.Namespace) -> int:
    rep = roll_mod.roll(args.book, args.to, out=args.out, filed=args.filed, force=args.force)
    print(f"Wrote {rep.out} for {rep.to}: {rep.carried} pending/unfiled records carried forward, "
          f"{rep.moved} kept in its History sheet.")
    if rep.outward_carried or rep.outward_moved:
        print(f"  Outward: {rep.outward_carried} carried, {rep.outward_moved} frozen ones kept in History.")
    if rep.originals_filled:
        print(f"  Original Action / Original 3B Filed filled from History for {rep.originals_filled} amendments.")
    _print_not_cached(rep.not_cached)
    for c in rep.not_carried[:UPGRADE_LISTED]:
        print(f"  not carried (still in {rep.source.name}): {c}")
    if len(rep.not_carried) > UPGRADE_LISTED:
        print(f"  not carried: ... and {len(rep.not_carried) - UPGRADE_LISTED} more of your cells, comments, names "
              f"and rules (still in {rep.source.name})")
    for d in rep.dropped:
        print(f"  dropped (--force): {d}")
    print(f"  {rep.source} is unchanged (the record of the filed period).")
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    tty = sys.stderr.isatty()
    width = [0]

    def progress(k: int, n: int, p: Path) -> None:
        text = f"[{k}/{n}] {p.name}"
        pad = " " * max(0, width[0] - len(text))
        width[0] = len(text)
        sys.stderr.write(("\r" if tty else "") + text + pad + ("" if tty else "\n"))
        sys.stderr.flush()
    if not Path(args.folder).is_dir():
        print(f"ims-excel: {args.folder}: not a folder", file=sys.stderr)
        return EXIT_INPUT
    rows = batch_mod.batch(args.folder, progress=progress, as_of=parse_date(args.as_of, "--as-of"))
    if tty and rows:
        sys.stderr.write("\n")
    good = [r for r in rows if r.summary]
    bad = [r for r in rows if not r.summary]
    table = [["File", *SUMMARY_HEADER]] + [[str(r.path.relative_to(args.folder)), *r.summary.row()] for r in good]
    if args.json:
        print(json.dumps({"workbooks": [dict(zip(table[0], row)) for row in table[1:]],
                          "failed": [{"file": str(r.path), "error": r.error} for r in bad]}, indent=1, default=str))
    else:
        _print_table(table)
        for r in bad:  # the error names its file already when it comes from a reader: name it once
            error = r.error.removeprefix(f"{r.path}: ").removeprefix(f"{r.path}, ")
            sep = ", " if r.error.startswith(f"{r.path}, ") else ": "
            print(f"FAILED {r.path}{sep}{error}")
        print(f"{len(good)} workbooks summarised, {len(bad)} failed.")
    if args.csv:
        write_csv(args.csv, table)
    return EXIT_INPUT if bad else EXIT_OK


def _print_table(table: list[list]) -> None:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return money(v)
        return str(v)
    cells = [[fmt(v) for v in row] for row in table]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
    for k, row in enumerate(cells):
        print("  ".join(v.rjust(w) if k and j >= 4 else v.ljust(w) for j, (v, w) in enumerate(zip(row, widths))))


def cmd_upgrade(args: argparse.Namespace) -> int:
    rep = upgrade_mod.upgrade(args.book, force=args.force)
    state = "moved into the current template" if rep.changed else "rebuilt on the current template (layout unchanged)"
    print(f"{rep.path}: {state} (layout {rep.old_layout} -> {rep.new_layout}); {rep.inward} Inward, "
          f"{rep.outward} Outward, {rep.history} History rows carried.")
    for c in rep.carried[:UPGRADE_LISTED]:
        print(f"  carried: {c}")
    if len(rep.carried) > UPGRADE_LISTED:
        print(f"  carried: ... and {len(rep.carried) - UPGRADE_LISTED} more of your cells, comments, names and rules")
    for d in rep.dropped:
        print(f"  dropped (--force): {d}")
    if rep.typed:
        _print_restored({t: [c.ref for c in cells] for t, cells in rep.typed.items()}, rep.typed)
    _print_not_cached(rep.not_cached)
    return EXIT_OK


UPGRADE_LISTED = 30
"""``upgrade`` lists this many of the things of the user's it carried (``roll``: did not carry), then counts the rest."""


def _book_errors(func):
    """Turn workbook refusals into exit 2 with the message (InputError / UsageError are handled by cli.main)."""
    def run(args: argparse.Namespace) -> int:
        try:
            try:
                return func(args)
            except (CalamineError, *UNREADABLE) as e:
                if not getattr(args, "book", None):
                    raise
                raise unreadable(args.book, e) from None
        except (CannotCarry, CannotWrite) as e:
            return _refusal(e)
        except SheetFormatError as e:
            return _refusal(f"{getattr(args, 'book', '')}: {e}")
    return run


def register(sub: argparse._SubParsersAction) -> None:
    """Add the workbook commands to ``sub`` (the main parser's subcommands)."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("new", help="create a client workbook from the template", epilog=EPILOG, formatter_class=fmt,
                       description="Create CLIENT.xlsm from the current template with its Config sheet filled in.")
    p.add_argument("book", metavar="CLIENT.xlsm")
    p.add_argument("--gstin", required=True, help="the client's GSTIN (the recipient)")
    p.add_argument("--name", help="legal name")
    p.add_argument("--period", required=True, help="GSTR-3B return period, YYYY-MM")
    p.add_argument("--frequency", default="Monthly", type=str.capitalize, choices=["Monthly", "Quarterly"])
    p.add_argument("--state", help="state code, when not the GSTIN's first two digits")
    p.add_argument("--taxpayer-type", help="Normal (default), SEZ, Casual, ...")
    p.add_argument("--force", action="store_true", help="replace an existing file (kept as a dated backup, CLIENT.bak-YYYYMMDD-HHMMSS.xlsm)")
    p.set_defaults(func=_book_errors(_backed_up(cmd_new)))

    p = sub.add_parser("import", help="add records from portal or canonical files to a workbook", epilog=EPILOG,
                       formatter_class=fmt,
                       description="Append the records of IMS JSON, GSTR-2B JSON, the portal's Excel download, a "
                                   "canonical CSV/xlsx or the purchase-register template into the Inward (or "
                                   "Outward) table. Inward records already in the workbook (same supplier, "
                                   "document family, number and financial year) are merged: a newer download "
                                   "updates the portal's fields and keeps your Action, ITC Reduction, Declared "
                                   "amounts and Remarks; a supplier's change resets the action (noted in Supplier "
                                   "Change); a saved record missing from a newer IMS download is marked Gone From "
                                   "IMS; your own canonical file applies its decisions; the portal's error file "
                                   "(imsDetailsErr) fills Portal Error. Every change is printed and appended to "
                                   "the Changes sheet. "
                                   "Text is written as text: a value starting with = + - @ never becomes a "
                                   "formula. Amendments get Original Action / Original 3B Filed from the "
                                   "History sheet when the download lacks them.")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("sources", metavar="SOURCE", nargs="+")
    p.add_argument("--json", action="store_true", help="print the import report as JSON (added, updated with "
                                                       "old and new values, reset, gone, unchanged)")
    p.add_argument("--direction", choices=["auto", "inward", "outward"], default="auto",
                   help="which table (auto: Outward for canonical files with Recipient GSTIN)")
    p.add_argument("--shared-formulas", action="store_true",
                   help="store the new rows' formulas as shared formulas (much smaller for very large imports; "
                        "not yet tried in Excel, see workbook/README.md)")
    p.add_argument("--no-backup", action="store_true", help="do not keep a dated backup (BOOK.bak-YYYYMMDD-HHMMSS.xlsm)")
    p.set_defaults(func=_book_errors(_backed_up(cmd_import)))

    p = sub.add_parser("process", help="validate, compute and write the results into the workbook", epilog=EPILOG,
                       formatter_class=fmt,
                       description="Read the workbook, run the engine and write into the same file: the values "
                                   "of the Inward formula columns, a Validation sheet and the add-back rows on the "
                                   "Liability sheet. Everything else (your cells, the VBA project, charts, pivot "
                                   "tables...) is copied unchanged. The save is atomic; the previous file is kept "
                                   "as a dated backup beside it (BOOK.bak-YYYYMMDD-HHMMSS.xlsm, the last 3; "
                                   "IMS_EXCEL_BACKUPS sets how many).")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("--as-of", help="check actions as of this date (default: Config, else today), YYYY-MM-DD")
    p.add_argument("--force", action="store_true", help="go ahead even if parts would be lost (they are named)")
    p.add_argument("--no-backup", action="store_true", help="do not keep a dated backup (BOOK.bak-YYYYMMDD-HHMMSS.xlsm)")
    p.set_defaults(func=_book_errors(_backed_up(cmd_process)))

    p = sub.add_parser("export", help="write the IMS upload JSON from a workbook", epilog=EPILOG, formatter_class=fmt,
                       description="Run the engine on the workbook and write the portal's upload JSON (the "
                                   "records whose Action differs from Previous Action). Refused (exit 2) when a "
                                   "record to upload has an error, unless --only-valid.")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("--out", help="upload JSON (default: BOOK_upload.json beside the workbook)")
    p.add_argument("--only-valid", action="store_true", help="leave out records with errors and list them")
    p.add_argument("--route", choices=("offline", "api"), default="offline",
                   help="offline (default): the file for IMS -> Offline -> Upload JSON (the IMS Offline Utility's "
                        "form; No Action inside it, Bills of Entry listed to act on online); api: the GSP/API SAVE "
                        "spellings, resets in a separate RESET file")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: Config, else today)")
    p.set_defaults(func=_book_errors(cmd_export))

    p = sub.add_parser("roll", help="start the next period's workbook", epilog=EPILOG, formatter_class=fmt,
                       description="Write the next period's workbook: pending (and not yet filed) records are "
                                   "carried forward with their state as Previous Action; accepted, rejected and "
                                   "deemed-accepted records of the filed period go to its History sheet (kept, "
                                   "not purged). The workbook you roll from is not changed.")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("--to", required=True, help="the next return period, YYYY-MM")
    p.add_argument("--out", help="new workbook (default: BOOK's name with the period replaced or appended)")
    p.add_argument("--filed", action="store_true", help="the GSTR-3B of BOOK's period is filed (if Config does not say so)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out; go ahead without parts the template cannot carry")
    p.set_defaults(func=_book_errors(cmd_roll))

    p = sub.add_parser("batch", help="summarise every client workbook under a folder", epilog=EPILOG,
                       formatter_class=fmt,
                       description="One line per workbook: client, GSTIN, period, records, errors, warnings, "
                                   "GSTR-3B 4A(5) by head and the add-back total. A workbook that cannot be read "
                                   "is named with the reason and the others go on; exit 2 if any failed. Backups "
                                   "(*.bak*.xlsm) and Excel / LibreOffice lock files are skipped.")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--csv", help="also write the table as CSV")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: each workbook's Config, else today)")
    p.set_defaults(func=_book_errors(cmd_batch))

    p = sub.add_parser("upgrade", help="move a workbook's data into the current template", epilog=EPILOG,
                       formatter_class=fmt,
                       description="Rebuild the workbook on this version's template and move its data across: "
                                   "Config values, Inward and Outward cells as typed, the History sheet. Stamps "
                                   "the version in the document properties (IMSPackageVersion, IMSLayout). "
                                   "Your own cells, comments, added sheets, defined names, data validations and "
                                   "conditional formats are carried across and listed. Refused, naming them, when "
                                   "the workbook has what cannot be carried (charts, pivot tables, images, extra "
                                   "table columns; a cell where the template now has a table...) unless --force, "
                                   "which drops them and lists them. The previous file is kept as a dated backup.")
    p.add_argument("book", metavar="BOOK")
    p.add_argument("--force", action="store_true", help="go ahead without the parts named")
    p.set_defaults(func=_book_errors(_backed_up(cmd_upgrade)))


__all__ = ["register"]
