"""``ims-excel demo``: the whole job on the bundled sample data, through the workbook use cases
(new -> import -> process -> export), with a one-page summary."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ims_excel import periods
from ims_excel.book.export import export_upload
from ims_excel.book.filebook import FileBook
from ims_excel.book.imports import import_sources
from ims_excel.book.new import new_workbook, set_config_as_of
from ims_excel.book.process import ProcessReport, process
from ims_excel.book.reconcile import reconcile_book
from ims_excel.cli.exits import EXIT_OK
from ims_excel.cli.output import money, status_counts, text_report, to_json
from ims_excel.engine import Result
from ims_excel.recon import reconcile_text
from ims_excel.xlsx import fileio
from ims_excel.xlsx.package import write_text_atomically


def sample_path(name: str) -> Path:
    return Path(str(resources.files("ims_excel.data").joinpath(name)))


DEMO_CONTEXT = {"gstin": "27AAACR5055K1Z7", "period": "2026-10", "as_of": "2026-11-26",
                "frequency": "monthly"}


@dataclass
class DemoFiles:
    workbook: Path
    upload: Path
    summary: Path
    report: Path
    result: Result
    upload_obj: object
    sheet_rows: object = None
    """The Inward sheet row of each record (the export and the Validation sheet name records by it)."""


def demo(out_dir: Path, context: dict[str, str], inward_csv: Path, outward_csv: Path) -> DemoFiles:
    """A client workbook from the sample files, processed; its upload JSON (valid records) and summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    book = out_dir / "demo_client.xlsm"
    for p in (book, *fileio.backups(book)):
        if p.exists():
            p.unlink()
    new_workbook(book, gstin=context["gstin"], name="Demo Recipient Pvt Ltd", period=context["period"],
                 frequency=context.get("frequency", "monthly"))
    set_config_as_of(book, context.get("as_of"))
    import_sources(book, [inward_csv], direction="inward", backup=False)
    import_sources(book, [outward_csv], direction="outward", backup=False)
    rep = process(book, backup=False)
    upload = out_dir / "upload.json"
    up, _, _ = export_upload(book, upload, only_valid=True)
    with FileBook(book) as wb:  # the Inward sheet row of each record, as the upload's list names them
        sheet_rows = wb.table("Inward", "inward").rows
    report = out_dir / "report.json"
    write_text_atomically(report, json.dumps(to_json(rep.result), ensure_ascii=False, indent=1))
    summary = out_dir / "summary.txt"
    write_text_atomically(summary, demo_summary(rep, up, book, upload, report) + "\n\n" +
                      text_report(rep.result, max_rows=25, rows=sheet_rows) + "\n")
    return DemoFiles(book, upload, summary, report, rep.result, up, sheet_rows)


def demo_summary(rep: ProcessReport, up, book: Path, upload: Path, report: Path) -> str:
    res = rep.result
    ctx = res.context
    c = status_counts(res)
    lines = [f"IMS demo - {ctx.gstin}, return period {periods.iso(ctx.return_period)} ({ctx.frequency}), "
             f"as of {ctx.as_of:%d-%m-%Y}", "",
             f"Records: {len(res.records)}  errors {c['error']}  warnings {c['warning']}  info {c['info']}  ok {c['ok']}",
             "", "GSTR-3B Table 4 (from GSTR-2B)", f"  {'':6} {'IGST':>14} {'CGST':>14} {'SGST':>14} {'Cess':>14}"]
    for tab, v in res.gstr3b.items():
        lines.append(f"  {tab:<6} " + " ".join(f"{money(v[h]):>14}" for h in ("igst", "cgst", "sgst", "cess")))
    lia = res.liability
    lines += ["", f"Supplier add-back rows: {len(lia)}" + (
        "  (total tax " + money(float(sum(lia[h].sum() for h in ('igst', 'cgst', 'sgst', 'cess')))) + ")"
        if len(lia) else "")]
    rest = [r for r in up.left_out if r not in up.act_online]
    lines += ["", f"Upload JSON: {up.count} records; {len(rest)} left out:"]
    lines += [f"  {r}" for r in rest[:15]]
    if len(rest) > 15:
        lines.append(f"  ... and {len(rest) - 15} more (see the Validation sheet)")
    if up.act_online:
        lines += [f"Act on these online ({len(up.act_online)}; the {up.route} upload cannot carry them):"]
        lines += [f"  {r}" for r in up.act_online[:15]]
    lines += ["", "Files:", f"  workbook     {book}", f"  upload JSON  {upload}", f"  report JSON  {report}"]
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    # the demo goes through the workbook doors: new -> import -> process -> export
    out = Path(args.out) if args.out else Path("ims-demo")
    files = demo(out, DEMO_CONTEXT, sample_path("sample_inward.csv"), sample_path("sample_outward.csv"))
    result = files.result
    print("ims-excel demo: the bundled sample (every IMS section, the usual mistakes) for "
          f"R = {DEMO_CONTEXT['gstin']}, return period {DEMO_CONTEXT['period']}, as of {DEMO_CONTEXT['as_of']}\n")
    print(text_report(result, max_rows=60, rows=files.sheet_rows))
    up = files.upload_obj
    print(f"\nWrote {files.workbook} (processed: Validation sheet, Inward results, Liability rows)")
    print(f"Wrote {files.upload} ({up.count} records to upload; {len(up.left_out) - len(up.act_online)} "
          f"left out and {len(up.act_online)} to act on online, listed in the summary)")
    print(f"Wrote {files.summary} (one-page summary)")
    print(f"Wrote {files.report}")
    # reconciliation with the bundled purchase register (issue 11): sheets in the workbook, CSVs per supplier
    rec = reconcile_book(files.workbook, [sample_path("sample_purchases.csv")], followup=out / "followup",
                         backup=False)
    print("\n" + reconcile_text(rec.rec))
    print(f"Wrote the Reconciliation and Suppliers sheets into {files.workbook}; {len(rec.followup)} supplier "
          f"follow-up CSVs into {out / 'followup'}")
    counts = status_counts(result)
    print(f"\n{len(result.records)} records: {counts['error']} errors, {counts['warning']} warnings.")
    return EXIT_OK


def register_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole job on the bundled sample data",
                       description="Build a client workbook from the bundled sample, process it, write the upload "
                                   "JSON (valid records; the sample's deliberate errors are left out and listed) "
                                   "and a one-page summary.")
    p.add_argument("--out", help="folder to write the outputs to (default: ./ims-demo)")
    p.set_defaults(func=cmd_demo)
