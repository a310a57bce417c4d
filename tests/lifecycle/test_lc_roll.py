"""``roll``: the next period's workbook, pending records carried, the rest kept in History."""

from __future__ import annotations

import hashlib
import re
import zipfile

from lctools import grid, sheet_names, table_rows

from ims_excel.cli import main
from ims_excel.book import history as book_history
from ims_excel.book import imports as book_imports
from ims_excel.book import process as book_process
from ims_excel.book import read as book_read
from ims_excel.book import roll as book_roll
from ims_excel.xlsx.package import Package, col_letters

AMENDMENT = ("Section,Supplier GSTIN,Supplier Name,Document Number,Document Date,Original Document Number,"
             "Original Document Date,Place Of Supply,Supply Type,Document Value,Taxable Value,IGST,CGST,SGST,Cess,"
             "Source Form,Supplier Filing Status,Supplier Filing Date,2B Period,Action\n"
             "B2BA,29AAACS2222T1ZX,Kaveri Components,INV-2002A,2026-10-07,INV-2002,2026-10-07,27,R,53100,45000,"
             "8100,0,0,0,GSTR-1,Filed,2026-12-10,2026-11,\n")


def test_roll_needs_a_filed_return(sample_book, capsys):
    assert main(["roll", str(sample_book), "--to", "2026-11"]) == 2
    assert "not marked filed" in capsys.readouterr().err
    assert main(["roll", str(sample_book), "--to", "2026-09", "--filed"]) == 2
    assert "not after the workbook's period" in capsys.readouterr().err


def test_pending_records_go_forward_and_the_rest_into_history(sample_book, tmp_path, capsys):
    digest = hashlib.sha256(sample_book.read_bytes()).hexdigest()
    result = book_read.evaluate_book(book_read.load_book(sample_book))  # the states at filing
    state = result.records["effective_action"].astype(str)
    pending = set(result.inward.loc[state == "Pending", "document_number"])
    unfiled = (result.inward["supplier_filing_status"].astype(str) == "Not Filed") & ~result.records["in_2b"]
    saved_only = set(result.inward.loc[unfiled, "document_number"])  # saved by the supplier, not filed: stays in IMS
    assert pending and saved_only
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed"]) == 0
    out = tmp_path / "client_2026-11.xlsm"
    assert "client_2026-11.xlsm" in capsys.readouterr().out
    assert hashlib.sha256(sample_book.read_bytes()).hexdigest() == digest  # the filed period's book unchanged
    nxt = book_read.load_book(out)
    assert nxt.context.return_period == 2026 * 12 + 10 and not nxt.context.gstr3b_filed
    assert nxt.config["RecipientGSTIN"] == "27AAACR5055K1Z7" and nxt.config["LegalName"] == "Sample Client"
    carried = table_rows(out)
    assert {r["Document Number"] for r in carried} == pending | saved_only
    assert all(r["Action"] == "" for r in carried)
    assert all(r["Previous Action"] == "Pending" for r in carried if r["Document Number"] in pending)
    names = sheet_names(out)
    assert "History" in names
    with Package(out) as pkg:
        history = book_history.read_history(pkg)
    assert len(history) == 34 + 5  # every inward record of the period and the outward ones
    moved = history[history["Direction"] == "Inward"]
    inv = moved[moved["Document Number"] == "INV-2002"].iloc[0]
    assert inv["Final State"] == "Accepted" and inv["3B Filed"] == "Y" and inv["Return Period"] == "2026-10"
    assert inv["Disposition"] == "moved to history"
    assert set(moved.loc[moved["Disposition"] == "carried to 2026-11", "Document Number"]) == pending | saved_only
    assert "Validation" not in names  # a fresh book: process writes it


def test_original_action_comes_from_history_when_the_download_lacks_it(sample_book, tmp_path):
    book_roll.roll(sample_book, "2026-11", filed=True)
    nxt = tmp_path / "client_2026-11.xlsm"
    src = tmp_path / "amendment.csv"
    src.write_text(AMENDMENT, encoding="utf-8")
    rep = book_imports.import_sources(nxt, [src])
    assert rep.originals_filled == 1
    row = next(r for r in table_rows(nxt) if r["Document Number"] == "INV-2002A")
    assert row["Original Action"] == "Accepted" and row["Original 3B Filed"] == "Y"
    # and a second roll keeps the first period's history
    book_process.process(nxt)
    rep2 = book_roll.roll(nxt, "2026-12", filed=True)
    with Package(rep2.out) as pkg:
        history = book_history.read_history(pkg)
    assert set(history["Return Period"]) == {"2026-10", "2026-11"}
    assert grid(rep2.out, "Config")  # a readable workbook


def test_roll_names_what_the_user_added_that_the_next_periods_book_does_not_carry(sample_book, tmp_path, capsys):
    """Issue 14 ("No data loss": never silently): the next period's book is a fresh one, so a note typed below
    the Inward table, one beside it, one on Config, a comment on a record and a record's cell formatted by the
    user are not carried; roll names each
    (the filed period's book keeps them, unchanged). An untouched book names nothing."""
    book_process.process(sample_book)
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed", "--out", str(tmp_path / "plain.xlsm")]) == 0
    assert "not carried" not in capsys.readouterr().out
    with Package(sample_book) as pkg:
        inward = pkg.table("Inward")
        config = pkg.sheet("Config").part
        comments = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/comments"))
    r1, c1, r2, c2 = inward.bounds
    below, beside = f"B{r2 + 2}", f"{col_letters(c2 + 2)}3"
    with zipfile.ZipFile(sample_book) as z:
        e = {n: z.read(n) for n in z.namelist()}
    sheet = e[inward.sheet_part].decode()
    sheet = re.sub(r'(<row r="3"[^>]*>.*?)(</row>)', lambda m: m.group(1) + f'<c r="{beside}" t="inlineStr"><is><t>'
                   "asked supplier</t></is></c>" + m.group(2), sheet, count=1, flags=re.S)
    header_style = re.search(r'<c r="A1" s="(\d+)"', sheet).group(1)  # a format no column of records has
    sheet = re.sub(r'<c r="D5" s="\d+"', f'<c r="D5" s="{header_style}"', sheet, count=1)
    e[inward.sheet_part] = sheet.replace("</sheetData>", f'<row r="{r2 + 2}"><c r="{below}"><v>777</v></c></row>'
                                         "</sheetData>").encode()
    e[config] = re.sub(r'(<c r="A2"[^>]*?(?:/>|>.*?</c>))', r'\1<c r="H2" t="inlineStr"><is><t>call the client</t>'
                       r"</is></c>", e[config].decode(), count=1, flags=re.S).encode()
    e[comments] = e[comments].replace(b"</commentList>", b'<comment ref="D3" authorId="0"><text><t>original is '
                                      b"with the auditor</t></text></comment></commentList>")
    with zipfile.ZipFile(sample_book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in e.items():
            z.writestr(n, data)
    before = sample_book.read_bytes()
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed"]) == 0
    out = capsys.readouterr().out
    listed = sorted(line.strip() for line in out.splitlines() if "not carried" in line)
    assert listed == sorted([f"not carried (still in client.xlsm): cell Inward!{below} ('777')",
                             f"not carried (still in client.xlsm): cell Inward!{beside} ('asked supplier')",
                             "not carried (still in client.xlsm): cell Config!H2 ('call the client')",
                             "not carried (still in client.xlsm): comment on Inward!D3 ('original is with the "
                             "auditor')", "not carried (still in client.xlsm): format of cell Inward!D5"]), out
    assert sample_book.read_bytes() == before



def test_roll_with_force_lists_what_it_went_ahead_without(sample_book, capsys):
    """Issue 14 ("No data loss": never silently): a part the template cannot hold (custom XML a firm's tool put
    in the book) is refused by name; --force goes ahead without it and lists it (before, without a word)."""
    with zipfile.ZipFile(sample_book, "a") as z:
        z.writestr("customXml/item1.xml", '<?xml version="1.0"?><firm xmlns="urn:firm">audit tag</firm>')
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed"]) == 2
    assert "customXml/item1.xml (custom XML)" in capsys.readouterr().err
    assert main(["roll", str(sample_book), "--to", "2026-11", "--filed", "--force"]) == 0
    assert "dropped (--force): customXml/item1.xml (custom XML)" in capsys.readouterr().out


# --- importing the filed period's file again into the rolled book (rulebook D25: a record whose return was filed
# is frozen; merge identity, ims_excel/engine/identity.py; formats-and-market.md 2.1 the offline tool, 2.3 IMS JSON)

def _rolled(tmp_path):
    """A 2025-10 book holding an IMS download (INV-1 filed, INV-2 saved by the supplier, not filed) and the
    offline tool's Excel, rolled filed to 2025-11: (the new book, the download, the tool's Excel)."""
    from tests.formats.formats_helpers import build_portal_workbook
    from tests.support.ims_download import ims_record, write_ims_json
    book = tmp_path / "c_2025-10.xlsm"
    assert main(["new", str(book), "--gstin", "29AAACS2222T1ZX", "--period", "2025-10"]) == 0
    old = write_ims_json(tmp_path / "old.json", [ims_record("INV-1"), ims_record("INV-2", srcfilstatus="Not Filed")])
    tool = build_portal_workbook(tmp_path / "tool.xlsx")
    assert main(["import", str(book), str(old), str(tool)]) == 0
    assert main(["roll", str(book), "--to", "2025-11", "--filed"]) == 0
    nxt = tmp_path / "c_2025-11.xlsm"
    assert {r["Document Number"] for r in table_rows(nxt)} == {"INV-2", "1234567890123456"}  # carried
    return nxt, old, tool


def test_the_filed_periods_download_imported_again_adds_nothing_from_history(tmp_path, capsys):
    """The defect: after roll, importing the old period's IMS JSON and the offline tool's Excel again re-added
    the records moved to History (000123 came back with Action Accept, to be uploaded again). Now each is listed
    "in History (filed in 2025-10)", none is added; the carried ones still merge; a new record is still added."""
    import json
    nxt, old, tool = _rolled(tmp_path)
    data = json.loads(old.read_text(encoding="utf-8"))
    from tests.support.ims_download import ims_record
    data["imsDetails"]["b2b"].append(ims_record("INV-9", idt="03-11-2025", rtnprd="112025"))
    old.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(nxt), str(old), str(tool)]) == 0
    out = capsys.readouterr().out
    assert {r["Document Number"] for r in table_rows(nxt)} == {"INV-2", "1234567890123456", "INV-9"}
    assert "Inward: 1 added" in out and "7 in History" in out
    for doc in ("INV-1", "000123", "CN/0042", "AMD/001-R"):
        assert f"'{doc}') - in History (filed in 2025-10)" in out
    log = grid(nxt, "Changes")
    listed = [r[5] for r in log[1:] if r[1] == "in History"]
    assert len(listed) == 7 and {"INV-1", "000123", "CN/0042", "AMD/001-R"} <= set(listed)
    # importing it again: nothing more
    assert main(["import", str(nxt), str(old), str(tool)]) == 0
    assert "Inward: 0 added" in capsys.readouterr().out


def test_an_amendment_of_a_record_in_history_is_added(tmp_path, capsys):
    """A B2BA of INV-1 (filed, in History) is another record (identity: original/amendment): added, with the
    original's action filled from History; the filed INV-1 in the same download is not. The supplier amending a
    filed amendment again (another revised number and amounts) is a change to act on, added too."""
    import json
    from tests.support.ims_download import ims_record
    nxt, _, _ = _rolled(tmp_path)
    amend = ims_record("INV-1A", idt="10-11-2025", oinum="INV-1", oidt="05-10-2025", rtnprd="112025",
                       txval=900.0, iamt=162.0, val=1062.0)
    src = tmp_path / "new.json"
    from tests.formats.formats_helpers import SUPPLIERS
    again = ims_record("AMD/001-R2", stin=SUPPLIERS[0], idt="20-11-2025", oinum="AMD/001", oidt="15-09-2025",
                       rtnprd="112025", txval=9000.0, iamt=1620.0, val=10620.0)  # the tool's AMD/001-R amended again
    src.write_text(json.dumps({"imsDetails": {"b2b": [ims_record("INV-1")], "b2ba": [amend, again]}}),
                   encoding="utf-8")
    capsys.readouterr()
    assert main(["import", str(nxt), str(src)]) == 0
    out = capsys.readouterr().out
    rows = {r["Document Number"]: r for r in table_rows(nxt)}
    assert "INV-1" not in rows and "'INV-1') - in History (filed in 2025-10)" in out
    assert rows["INV-1A"]["Section"] == "B2BA" and rows["INV-1A"]["Original Action"] == "No Action"
    assert rows["AMD/001-R2"]["Taxable Value"] == 9000  # not the filed AMD/001-R: another revision, added
    assert "Inward: 2 added" in out and "1 in History" in out
