"""Build hostile inputs (zip, XML, cell, JSON, CSV, xlsx level) and run a command on them.

:func:`run` runs ``ims-excel`` in this process (an exception is a crash, and fails the test) and returns
the exit code and stderr; :func:`snapshot` records every file of a folder (name -> bytes) so that a test
can assert nothing was written and the originals are byte-identical.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from ims_excel.cli import main
from ims_excel.xlsx.package import Package, col_letters

HEADER = ("Section,Supplier GSTIN,Supplier Name,Document Number,Document Date,Place Of Supply,Reverse Charge,"
          "Supply Type,Document Value,Taxable Value,IGST,CGST,SGST,Cess,Source Form,Supplier Filing Status,"
          "2B Period")
FIELDS = HEADER.split(",")
ROW = {"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Supplier Name": "Kaveri Components",
       "Document Number": "INV-1", "Document Date": "2026-10-07", "Place Of Supply": "27", "Reverse Charge": "N",
       "Supply Type": "R", "Document Value": "59000", "Taxable Value": "50000", "IGST": "9000", "CGST": "0",
       "SGST": "0", "Cess": "0", "Source Form": "GSTR-1", "Supplier Filing Status": "Filed",
       "2B Period": "2026-10"}
AMOUNT_FIELDS = ("Document Value", "Taxable Value", "IGST", "CGST", "SGST", "Cess")


def csv_text(*rows: dict[str, str], sep: str = ",") -> str:
    """A canonical CSV: the header, then ``ROW`` updated with each dict (a value with ``sep``/quote/CR quoted);
    keys that are not in ``ROW`` (``Action``, ``Remarks``...) become extra columns, blank where not given."""
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in (sep, '"', "\r", "\n")) else v
    fields = list(FIELDS) + list(dict.fromkeys(k for r in rows for k in r if k not in ROW))
    lines = [sep.join(fields)]
    for k, r in enumerate(rows or ({},)):
        rec = {**ROW, "Document Number": f"INV-{k + 1}", **r}
        lines.append(sep.join(cell(rec.get(f, "")) for f in fields))
    return "\r\n".join(lines) + "\r\n"


def run(*args: str | Path) -> tuple[int, str]:
    """``ims-excel ARGS`` in this process: (exit code, stderr + stdout)."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, err.getvalue() + out.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` (relative name -> bytes); FIFOs and devices by their names only."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink() or not p.is_file():
            out[rel] = b"<not a regular file>"
        else:
            out[rel] = p.read_bytes()
    return out


def rewrite_zip(src: Path, dst: Path, change: Callable[[str, bytes], tuple[str, bytes] | None], *,
                add: dict[str, bytes] | None = None) -> Path:
    """Copy a zip part by part; ``change(name, data)`` returns the (name, data) to write, or None to drop it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            got = change(info.filename, zin.read(info))
            if got is not None:
                zout.writestr(got[0], got[1])
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def edit_part(src: Path, dst: Path, part: str, edit: Callable[[bytes], bytes]) -> Path:
    return rewrite_zip(src, dst, lambda n, d: (n, edit(d) if n == part else d))


def sheet_part(book: Path, sheet: str) -> str:
    with Package(book) as pkg:
        return pkg.sheet(sheet).part


def table_part(book: Path, table: str) -> str:
    with Package(book) as pkg:
        return pkg.table(table).part


def set_cell(xml: bytes, ref: str, cell: bytes) -> bytes:
    """Replace the ``<c r="REF" .../>`` or ``<c r="REF" ...>...</c>`` element by ``cell``."""
    pat = re.compile(rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)', re.S)
    new, n = pat.subn(lambda m: cell, xml, count=1)
    assert n == 1, ref
    return new


def xlsx_source(path: Path, rows_xml: bytes, *, sst: bytes | None = None, extra: dict[str, bytes] | None = None,
                sheet_name: str = "xl/worksheets/sheet1.xml") -> Path:
    """A minimal one-sheet .xlsx written part by part (so that any cell XML can be put in it)."""
    ct = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
          b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/' + sheet_name.encode() + b'" ContentType="application/vnd.openxmlformats-'
          b'officedocument.spreadsheetml.worksheet+xml"/></Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
          b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          b'<sheet name="Inward" sheetId="1" r:id="rId1"/></sheets></workbook>')
    target = sheet_name.removeprefix("xl/").encode()
    wb_rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
               b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
               b'officeDocument/2006/relationships/worksheet" Target="' + target + b'"/>'
               + (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  b'relationships/sharedStrings" Target="sharedStrings.xml"/>' if sst is not None else b"")
               + b"</Relationships>")
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + rows_xml + b"</sheetData></worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr(sheet_name, sheet)
        if sst is not None:
            z.writestr("xl/sharedStrings.xml", sst)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def source_rows(records: list[dict[str, bytes | str]]) -> bytes:
    """Header row + one row per record; a ``bytes`` value is put in as the whole cell XML (``%s`` = the ref)."""
    def cell(ref: str, v: bytes | str) -> bytes:
        if isinstance(v, bytes):
            return v.replace(b"%s", ref.encode())
        return b'<c r="' + ref.encode() + b'" t="inlineStr"><is><t>' + v.encode() + b"</t></is></c>"
    out = [b'<row r="1">' + b"".join(cell(f"{col_letters(j)}1", h) for j, h in enumerate(FIELDS, 1)) + b"</row>"]
    for k, rec in enumerate(records, start=2):
        full = {**ROW, "Document Number": f"INV-{k - 1}", **rec}
        out.append(f'<row r="{k}">'.encode() + b"".join(cell(f"{col_letters(j)}{k}", full[h])
                                                       for j, h in enumerate(FIELDS, 1)) + b"</row>")
    return b"".join(out)
