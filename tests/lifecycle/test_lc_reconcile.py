"""``reconcile``: the purchase-register reconciliation written into a client workbook (issue 11).

Statuses as tests/test_reconcile.py checks them on the engine; here: the sheets, the untouched
Inward cells and VBA, the follow-up CSVs (cells neutralised), the tolerances from the flags.
Rules: D1 (invoice Accept), D16 (BoE amendment: Pending allowed, no Reject), section 6.1 (add-back).
"""

from __future__ import annotations

import csv

from ims_excel.cli.app import main
from ims_excel.cli.demo import sample_path
from tests.lifecycle.lctools import grid, raw_parts, sheet_names

BOOKS = str(sample_path("sample_purchases.csv"))


def _row(g, first):
    return next(r for r in g if r and r[0] == first)


def test_reconcile_writes_sheets_and_keeps_everything_else(sample_book, tmp_path, capsys):
    before = raw_parts(sample_book)
    code = main(["reconcile", str(sample_book), BOOKS, "--followup", str(tmp_path / "follow")])
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "IMS records: missing_in_books 18  matched 10  mismatch 3" in out
    names = sheet_names(sample_book)
    assert names.index("Reconciliation") == names.index("Inward") + 1 and "Suppliers" in names
    after = raw_parts(sample_book)
    for part in ("xl/vbaProject.bin",):
        assert after[part] == before[part]
    inward_part = [p for p in before if p.startswith("xl/worksheets/")]
    assert all(after[p] == before[p] for p in inward_part)  # only new sheets were added
    g = grid(sample_book, "Reconciliation")
    header = next(r for r in g if r and r[0] == "Inward row")
    rows = [dict(zip(header, r)) for r in g if r and isinstance(r[0], (int, float)) and len(r) >= len(header) - 5]
    by_doc = {r["Document Number"]: r for r in rows if "Document Number" in r}
    assert by_doc["INV-2004"]["Match Status"] == "mismatch" and by_doc["INV-2004"]["Differences"] == "IGST +200.00"
    assert by_doc["INV-2001"]["Suggested Action"] == "Accept"
    assert "rule D1 allows Accept" in by_doc["INV-2001"]["Why"]
    assert by_doc["7001101"]["Suggested Action"] == "Pending"
    s = grid(sample_book, "Suppliers")
    kaveri = _row(s, "29AAACS2222T1ZX")
    assert kaveri[2] == 1  # INV-2030 is in our books, not reported by the supplier
    total = _row(s, "Total")
    assert total[7] == 900.0  # the rejected CN-350 amendment: the reduction the engine computes for it (6.1)
    files = sorted((tmp_path / "follow").glob("*.csv"))
    text = (tmp_path / "follow" / "29AAACS2222T1ZX_Kaveri_Components.csv").read_text(encoding="utf-8-sig")
    lines = list(csv.reader(text.splitlines()))
    assert lines[0][:2] == ["Supplier", "29AAACS2222T1ZX"]
    assert ["Not reported by you (in our books)", "2026-27/INV-2030"] == lines[2][:2]
    assert len(files) == 4


def test_reconcile_tolerance_flag_and_rerun_replaces_sheets(sample_book, capsys):
    assert main(["reconcile", str(sample_book), BOOKS, "--tolerance", "500", "--no-backup"]) == 0
    out = capsys.readouterr().out
    assert "mismatch 1" in out  # IGST +200 and +100 now within tolerance; the BoE +1000 is not
    assert main(["reconcile", str(sample_book), BOOKS, "--no-backup"]) == 0
    assert sheet_names(sample_book).count("Reconciliation") == 1


def test_reconcile_bad_books_writes_nothing(sample_book, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Section,Supplier GSTIN,Document Number,Document Date,IGST\nB2B,29AAACS2222T1ZX,X-1,2026-10-01,1O\n",
                   encoding="utf-8")
    before = raw_parts(sample_book)
    assert main(["reconcile", str(sample_book), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "row 2" in err and "'IGST'" in err
    assert raw_parts(sample_book) == before
