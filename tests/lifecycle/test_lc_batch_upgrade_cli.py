"""``batch``, ``upgrade``, ``export``, ``report BOOK``, ``demo`` and the commands' help and exit codes."""

from __future__ import annotations

import json
import shutil

from lctools import table_rows

from ims_excel.cli import app as cli
from ims_excel.cli import main
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.book import imports as book_imports
from ims_excel.book import new as book_new
from ims_excel.book import process as book_process
from ims_excel.book import read as book_read
from ims_excel.book import upgrade as book_upgrade
from ims_excel.xlsx.fileio import latest_backup
from ims_excel.xlsx.package import Package

COMMANDS = ("new", "import", "process", "export", "roll", "batch", "upgrade")


def test_every_command_has_help_with_exit_codes():
    parser = cli.parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in COMMANDS:
        text = sub.choices[name].format_help()
        assert "exit codes: 0 done; 2 unusable input or refused" in text, name
        assert len(sub.choices[name].description or "") > 40, name


def test_batch_summarises_every_client_and_names_the_broken_one(sample_master, tmp_path, capsys):
    folder = tmp_path / "clients"
    (folder / "north").mkdir(parents=True)
    shutil.copy(sample_master, folder / "acme.xlsm")
    shutil.copy(sample_master, folder / "north" / "beta.xlsm")
    book_process.process(folder / "north" / "beta.xlsm")  # leaves a dated beta.bak-....xlsm: skipped
    (folder / "broken.xlsm").write_bytes(b"this is not a workbook")
    (folder / "~$acme.xlsm").write_bytes(b"lock")
    csv_out = tmp_path / "summary.csv"
    code = main(["batch", str(folder), "--csv", str(csv_out), "--as-of", DEMO_CONTEXT["as_of"]])
    out, err = capsys.readouterr()
    assert code == 2
    assert "FAILED" in out and "broken.xlsm" in out and "not an Excel workbook" in out
    assert "2 workbooks summarised, 1 failed." in out
    assert "[1/3]" in err and "[3/3]" in err  # one progress indicator, no backup or lock file in it
    lines = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("File,Client,GSTIN,Period,Records,Errors,Warnings,4A(5) IGST")
    assert len(lines) == 3 and all(",Sample Client,27AAACR5055K1Z7,2026-10,34,5,4," in x for x in lines[1:])
    assert lines[1].endswith(",7200.0")  # the add-back total
    capsys.readouterr()
    assert main(["batch", str(folder), "--json", "--as-of", DEMO_CONTEXT["as_of"]]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["workbooks"]) == 2 and doc["failed"][0]["file"].endswith("broken.xlsm")


def _cells(series) -> list:
    return ["" if v is None or (isinstance(v, float) and v != v) else v for v in series.tolist()]


def _as_older_template(book) -> None:
    """Make ``book`` look like one built by an older version: another formula in a computed column
    of the Inward table, and no TaxpayerType setting."""
    import re
    import zipfile

    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    with Package(book) as pkg:
        table = pkg.table("Inward")
    xml = entries[table.part].decode()
    xml, n = re.subn(r"(<calculatedColumnFormula>)([^<]*)(</calculatedColumnFormula>)", r"\1IF(TRUE,\2)\3", xml, count=1)
    assert n == 1
    entries[table.part] = xml.encode()
    wb = entries["xl/workbook.xml"].decode()
    entries["xl/workbook.xml"] = re.sub(r'<definedName name="TaxpayerType">[^<]*</definedName>', "", wb).encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def test_upgrade_moves_the_data_into_the_current_template(tmp_path):
    """A workbook from an older template comes out on the current one, Config and data intact."""
    old_book = tmp_path / "old.xlsm"
    book_new.new_workbook(old_book, gstin=DEMO_CONTEXT["gstin"], name="Old Client", period="2026-10",
                         frequency="Quarterly")
    book_imports.import_sources(old_book, [sample_path("sample_inward.csv"), sample_path("sample_outward.csv")],
                           backup=False)
    _as_older_template(old_book)
    with Package(old_book) as pkg:
        old_layout = book_new.layout_signature(pkg)
        old_rows = book_read.read_table(pkg, pkg.table("Inward"), "inward", typed=False).frame
    assert old_layout != book_new.layout_signature()
    assert any("not this version's" in w for w in book_process.process(old_book, backup=False).warnings)
    before = old_book.read_bytes()
    rep = book_upgrade.upgrade(old_book)
    assert rep.changed and rep.inward == 34 and rep.outward == 5
    assert latest_backup(old_book).read_bytes() == before
    with Package(old_book) as pkg:
        assert book_new.layout_signature(pkg) == book_new.layout_signature()
        props = pkg.custom_properties()
        new_rows = book_read.read_table(pkg, pkg.table("Inward"), "inward", typed=False).frame
        values, _ = book_read.read_config(pkg)
    assert props["IMSUpgradedFrom"] == old_layout and props["IMSLayout"] == book_new.layout_signature()
    assert values["LegalName"] == "Old Client" and values["FilingFrequency"] == "Quarterly"
    for col in old_rows.columns:
        if col not in ("_row", "_sheet"):
            assert _cells(old_rows[col]) == _cells(new_rows[col]), col
    rep = book_process.process(old_book)
    assert rep.records == 34 and not rep.warnings


def test_export_refuses_errors_unless_only_valid(sample_book, tmp_path, capsys):
    out = tmp_path / "upload.json"
    assert main(["export", str(sample_book), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    # only records that would be sent are refused: row 15 (unchanged Pending, window over) is not;
    # row 13 is (Accept with a remark: the offline upload takes remarks with R/P only)
    assert "upload refused" in err and "row 13" in err and "REMARKS_ON_ACCEPT" in err and "row 15" not in err
    assert "--only-valid" in err  # the way out is named as the command line spells it (issue 10)
    assert not out.exists()
    assert main(["export", str(sample_book), "--out", str(out), "--only-valid"]) == 0
    stdout = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["rtin"] == "27AAACR5055K1Z7" and doc["reqtyp"] == "SAVE"
    sent = {r.get("inum") or r.get("nt_num") or r.get("boenum") for v in doc["invdata"].values() for r in v}
    assert "CN-404" not in sent and "INV-2002" in sent  # an error left out; a decided record sent
    assert "Left out (4)" in stdout and "row 18" in stdout
    assert "Act on these online (3" in stdout and "row 21 (IMPG '7001234')" in stdout  # BoEs: not offline
    assert not {"impg", "impgsez"} & set(doc["invdata"])


def test_export_by_route_offline_and_api(sample_book, tmp_path, capsys):
    """``--route offline`` (default): No Action is ``N`` inside the one SAVE file, ``itc_red_req``, no
    ``prev_status``, no Bills of Entry; ``--route api``: ``itcRedReq``/``declIgst``, ``prev_status``, Bills of
    Entry sent, and a going-back-to-No-Action record in its own RESET file (formats-and-market.md 10;
    itc-guard docs/ims-json-schema.md s.3; india-compliance taxpayer_returns.py)."""
    import openpyxl

    wb = openpyxl.load_workbook(sample_book, keep_vba=True)
    ws = wb["Inward"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("Document Number")].value == "INV-2002":
            row[header.index("Action")].value = "No Action"
            row[header.index("Previous Action")].value = "Accepted"
    wb.save(sample_book)

    def sent(doc: dict) -> dict:
        return {r.get("inum") or r.get("nt_num") or r.get("boenum"): r for v in doc["invdata"].values() for r in v}

    off = tmp_path / "off.json"
    assert main(["export", str(sample_book), "--out", str(off), "--only-valid"]) == 0
    doc = json.loads(off.read_text())
    assert sent(doc)["INV-2002"]["action"] == "N" and not (tmp_path / "off.reset.json").exists()
    assert "itc_red_req" in sent(doc)["CN-401"] and not any("prev_status" in r for r in sent(doc).values())
    assert not {"impg", "impgsez"} & set(doc["invdata"])
    api = tmp_path / "api.json"
    assert main(["export", str(sample_book), "--out", str(api), "--only-valid", "--route", "api"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(api.read_text())
    reset = json.loads((tmp_path / "api.reset.json").read_text())
    assert "INV-2002" not in sent(doc) and reset["reqtyp"] == "RESET"
    assert "action" not in sent(reset)["INV-2002"] and "api.reset.json" in out
    assert sent(doc)["CN-401"]["itcRedReq"] == "Y" and sent(doc)["CN-401"]["prev_status"] == "N"
    assert "impg" in doc["invdata"] and "Act on these online" not in out.split("api.json")[-1]


def test_report_on_a_workbook_equals_report_on_the_csv(sample_book, capsys):
    assert main(["report", str(sample_book), "--json"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert main(["report", str(sample_path("sample_inward.csv")), "--outward", str(sample_path("sample_outward.csv")),
                 "--gstin", DEMO_CONTEXT["gstin"], "--period", DEMO_CONTEXT["period"],
                 "--as-of", DEMO_CONTEXT["as_of"], "--json"]) == 0
    csv = json.loads(capsys.readouterr().out)
    assert book["context"] == csv["context"]
    assert book["gstr2b"] == csv["gstr2b"] and book["gstr3b"] == csv["gstr3b"]
    assert [{k: v for k, v in r.items() if k != "row"} for r in book["liability"]] == \
        [{k: v for k, v in r.items() if k != "row"} for r in csv["liability"]]
    assert book["records"] == csv["records"]  # same order, same data rows
    assert main(["report", str(sample_book), "--period", "2026-09"]) == 2  # a flag overrides Config


def test_demo_without_arguments_writes_into_ims_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "ims-demo"
    for name in ("demo_client.xlsm", "upload.json", "summary.txt", "report.json"):
        assert (folder / name).is_file(), name
        assert f"ims-demo/{name}" in out
    assert "34 records: 5 errors, 4 warnings." in out
    summary = (folder / "summary.txt").read_text()
    assert "Upload JSON: 14 records; 4 left out" in summary and "CN-404" in summary
    assert "Act on these online (3; the offline upload cannot carry them)" in summary  # the 3 Bills of Entry
    # one numbering in one file: the report's lines name the Inward sheet row, as the upload's list does
    assert "row 18 (B2B-CN 29AAACS2222T1ZX 'CN-404')" in summary and "Inward row  section" in summary
    assert any(line.split()[:3] == ["18", "B2B-CN", "CN-404"] for line in summary.splitlines())
    assert len(table_rows(folder / "demo_client.xlsm")) == 34
    assert main(["demo"]) == 0  # again, over the same folder
