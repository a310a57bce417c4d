"""The ``ims-excel`` command: the report contract, exit codes, the demo."""

from __future__ import annotations

import json

import pytest

from ims_excel.cli import main
from ims_excel.cli.demo import sample_path

ARGS = ["--gstin", "27AAACR5055K1Z7", "--period", "2026-10", "--as-of", "2026-11-26"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_json_has_the_contract_shape(capsys):
    code, out, _ = run(capsys, "report", str(sample_path("sample_inward.csv")), "--outward",
                       str(sample_path("sample_outward.csv")), *ARGS, "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"context", "records", "gstr2b", "gstr3b", "liability"}
    assert doc["context"]["period"] == "2026-10" and doc["context"]["gstin"] == "27AAACR5055K1Z7"
    rec = next(r for r in doc["records"] if r["document_number"] == "CN-380")
    assert rec == {**rec, "row": 14, "section": "B2B-CN", "action": "Pending", "status": "error",
                   "codes": ["PEND_WINDOW_OVER"], "effective_action": "Deemed Accepted", "in_2b": True,
                   "gstr3b_table": "4A5", "itc": {"igst": -1800.0, "cgst": 0.0, "sgst": 0.0, "cess": 0.0},
                   "pending_deadline": "2026-11-20", "itc_cutoff_164": None}
    assert rec["message"].startswith("Pending is no longer allowed")
    assert set(doc["gstr3b"]) == {"4A1", "4A3", "4A4", "4A5", "4B2", "4D2", "3.1(d)"}
    assert all(set(v) == {"igst", "cgst", "sgst", "cess"} for v in doc["gstr3b"].values())
    assert doc["gstr3b"]["3.1(d)"] == doc["gstr3b"]["4A3"]  # Part A-III: the RCM tax payable and its ITC
    # per-record ITC adds up to the table
    for tab, heads in doc["gstr3b"].items():
        if tab == "3.1(d)":
            continue
        for h, total in heads.items():
            assert round(sum(r["itc"][h] for r in doc["records"] if r["gstr3b_table"] == tab), 2) == total
    assert doc["liability"][0] == {"row": 1, "recipient_gstin": "27AAACB2222B1ZJ", "document_number": "SCN-901",
                                   "section": "B2B-CN", "taxable_value": 10000.0, "igst": 0.0, "cgst": 900.0,
                                   "sgst": 900.0, "cess": 0.0, "gstr3b_period": "2026-10",
                                   "gstr3b_table": "3.1(a)"}
    # document numbers that look like numbers stay text
    assert {"000123", "1234567890123456"} <= {r["document_number"] for r in doc["records"]}


def test_report_text_shows_problems_and_table_4(capsys):
    code, out, _ = run(capsys, "report", str(sample_path("sample_inward.csv")), *ARGS)
    assert code == 0
    assert "GSTR-3B Table 4" in out and "PEND_BLOCKED_PORTAL" in out and "4A5" in out


@pytest.mark.parametrize("argv, message", [
    (["report", "nope.csv", *ARGS], "nope.csv: no such file"),
    (["report", "X", "--gstin", "27AAACR5055K1Z8", "--period", "2026-10"], "not a valid GSTIN"),
    (["report", "X", "--gstin", "27AAACR5055K1Z7", "--period", "Oct"], "not a period"),
    (["report", "X", *ARGS[:4], "--as-of", "26/11/2026"], "not a date"),
])
def test_unusable_arguments_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_bad_rows_exit_2_naming_file_row_and_column(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Section,Supplier GSTIN,Document Number,Document Date,IGST\n"
                   "B2B,29AAACS2222T1ZX,INV-1,2026-10-05,12O\n"
                   "B2X,29AAACS2222T1ZX,INV-2,2026-10-05,100\n", encoding="utf-8")
    code, out, err = run(capsys, "report", str(bad), *ARGS)
    assert code == 2 and out == ""
    # rows as the file shows them: the header is row 1
    assert f"{bad}, row 2, column 'IGST': '12O' is not an amount" in err
    assert f"{bad}, row 3, column 'Section': 'B2X' is not one of" in err
    assert "is blank" not in err
    assert "Traceback" not in err


def test_demo_runs_on_the_bundled_sample(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0
    assert "34 records: 5 errors, 4 warnings." in out
    assert "IMS records: missing_in_books 18  matched 10" in out  # the bundled purchase register
    assert len(list((tmp_path / "followup").glob("*.csv"))) == 4
    assert json.loads((tmp_path / "report.json").read_text())["gstr3b"]["4A1"]["igst"] == 55890.0


def test_rules_prints_the_decision_table(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "D7@2025-10" in out and "PEND_SPECIFIED_PRE_OCT25" in out


def test_duplicates_and_future_periods_are_named_as_the_file_shows_them(capsys, tmp_path):
    bad = tmp_path / "dup.csv"
    bad.write_text("Section,Supplier GSTIN,Document Number,Document Date,IGST,2B Period\n"
                   "B2B,29AAACS2222T1ZX,INV-1,2026-10-05,100,2026-10\n"
                   "B2B,29AAACS2222T1ZX,INV-1,2026-10-05,100,2026-10\n"
                   "B2B,29AAACS2222T1ZX,INV-2,2026-10-05,100,2026-11\n", encoding="utf-8")
    code, _, err = run(capsys, "report", str(bad), *ARGS)
    assert code == 2
    assert f"{bad}, row 3, column 'Document Number': 'INV-1' of 29AAACS2222T1ZX (B2B, 2B 2026-10) " \
           f"duplicates row 2" in err
    assert f"{bad}, row 4, column '2B Period': 2026-11 is after the return period 2026-10" in err
