"""What a firm adds to a workbook (charts, images, pivot tables, slicers) survives ``process``;
what ``process`` or ``upgrade`` cannot carry is refused by name unless forced."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
from lctools import grid, parts, raw_parts, sheet_part
from openpyxl.chart import BarChart, Reference

from ims_excel.cli import main
from ims_excel.book import carry as book_carry
from ims_excel.book import process as book_process
from ims_excel.book import read as book_read
from ims_excel.xlsx.package import Package

NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _rewrite(book: Path, change) -> None:
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    change(entries)
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)


def _add_rel(entries: dict, rels_name: str, rid: str, typ: str, target: str) -> None:
    rels = entries.get(rels_name, f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS_NS}">'
                                  "</Relationships>".encode())
    if isinstance(rels, bytes):
        rels = rels.decode()
    entries[rels_name] = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{REL}/{typ}" '
                                                          f'Target="{target}"/></Relationships>').encode()


def _override(entries: dict, part: str, ctype: str) -> None:
    ct = entries["[Content_Types].xml"].decode()
    entries["[Content_Types].xml"] = ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="{ctype}"/>'
                                                            "</Types>").encode()


def _sheet_rels(part: str) -> str:
    folder, base = part.rsplit("/", 1)
    return f"{folder}/_rels/{base}.rels"


def firm_workbook(book: Path) -> dict[str, str]:
    """Add what a firm might: charts on Summary and Inward (openpyxl), an image on Config, a pivot table
    on Rules and a slicer, as real parts with their relationships. Returns {part: what}."""
    wb = openpyxl.load_workbook(book, keep_vba=True)
    for name, cols in (("Summary", (3, 6)), ("Inward", (11, 13))):
        ws = wb[name]
        chart = BarChart()
        chart.add_data(Reference(ws, min_col=cols[0], max_col=cols[1], min_row=7, max_row=10))
        ws.add_chart(chart, "K20")
    wb.save(book)
    config = sheet_part(book, "Config")
    rules = sheet_part(book, "Rules")
    inward = sheet_part(book, "Inward")

    def change(e: dict) -> None:
        # an image on Config
        e["xl/media/image9.png"] = _png()
        e["xl/drawings/drawing9.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/'
            'drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            f'xmlns:r="{REL}"><xdr:oneCellAnchor><xdr:from><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff>'
            '<xdr:row>2</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="952500" cy="952500"/>'
            '<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="Logo"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill>'
            '<a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm>'
            '<a:off x="0" y="0"/><a:ext cx="952500" cy="952500"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
            '</a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>').encode()
        _add_rel(e, "xl/drawings/_rels/drawing9.xml.rels", "rId1", "image", "../media/image9.png")
        _add_rel(e, _sheet_rels(config), "rIdLogo", "drawing", "../drawings/drawing9.xml")
        x = e[config].decode()
        e[config] = x.replace("</worksheet>", f'<drawing xmlns:r="{REL}" r:id="rIdLogo"/></worksheet>').encode()
        _override(e, "xl/drawings/drawing9.xml", "application/vnd.openxmlformats-officedocument.drawing+xml")
        ct = e["[Content_Types].xml"].decode()
        if 'Extension="png"' not in ct:
            e["[Content_Types].xml"] = ct.replace("<Default ", '<Default Extension="png" ContentType="image/png"/>'
                                                              "<Default ", 1).encode()
        # a pivot table on Rules over the Codes table
        e["xl/pivotCache/pivotCacheDefinition9.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><pivotCacheDefinition {NS} r:id="rId1" refreshOnLoad="1" '
            'recordCount="0"><cacheSource type="worksheet"><worksheetSource ref="A1:B5" sheet="Rules"/>'
            '</cacheSource><cacheFields count="1"><cacheField name="key" numFmtId="0"><sharedItems/>'
            "</cacheField></cacheFields></pivotCacheDefinition>").encode()
        e["xl/pivotCache/pivotCacheRecords9.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><pivotCacheRecords ' \
                                                    f'{NS} count="0"/>'.encode()
        _add_rel(e, "xl/pivotCache/_rels/pivotCacheDefinition9.xml.rels", "rId1", "pivotCacheRecords",
                 "pivotCacheRecords9.xml")
        e["xl/pivotTables/pivotTable9.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><pivotTableDefinition {NS} name="Firm pivot" cacheId="9" '
            'dataCaption="Values" updatedVersion="6" minRefreshableVersion="3" createdVersion="6" '
            'useAutoFormatting="1" indent="0" outline="1" outlineData="1"><location ref="J3:K4" firstHeaderRow="1" '
            'firstDataRow="1" firstDataCol="0"/><pivotFields count="1"><pivotField showAll="0"/></pivotFields>'
            "</pivotTableDefinition>").encode()
        _add_rel(e, "xl/pivotTables/_rels/pivotTable9.xml.rels", "rId1", "pivotCacheDefinition",
                 "../pivotCache/pivotCacheDefinition9.xml")
        _add_rel(e, _sheet_rels(rules), "rIdPivot", "pivotTable", "../pivotTables/pivotTable9.xml")
        _add_rel(e, "xl/_rels/workbook.xml.rels", "rIdCache9", "pivotCacheDefinition",
                 "pivotCache/pivotCacheDefinition9.xml")
        wbx = e["xl/workbook.xml"].decode()
        # openpyxl declares the r: prefix on each <sheet>, not on the root: declare it here too
        e["xl/workbook.xml"] = re.sub(r"(<calcPr\b[^>]*/>)", r'\1<pivotCaches xmlns:r="http://schemas.openxmlformats.'
                                      r'org/officeDocument/2006/relationships"><pivotCache cacheId="9" '
                                      r'r:id="rIdCache9"/></pivotCaches>', wbx).encode()
        for part, typ in (("xl/pivotCache/pivotCacheDefinition9.xml", "pivotCacheDefinition"),
                          ("xl/pivotCache/pivotCacheRecords9.xml", "pivotCacheRecords"),
                          ("xl/pivotTables/pivotTable9.xml", "pivotTable")):
            _override(e, part, f"application/vnd.openxmlformats-officedocument.spreadsheetml.{typ}+xml")
        # a slicer on the Inward table
        e["xl/slicerCaches/slicerCache9.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><slicerCacheDefinition xmlns="http://schemas.microsoft.com/'
            'office/spreadsheetml/2009/9/main" name="Slicer_Action" sourceName="Action"><extLst/>'
            "</slicerCacheDefinition>").encode()
        e["xl/slicers/slicer9.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><slicers xmlns="http://schemas.microsoft.com/office/'
            'spreadsheetml/2009/9/main"><slicer name="Action" cache="Slicer_Action" caption="Action" '
            'rowHeight="241300"/></slicers>').encode()
        _add_rel(e, _sheet_rels(inward), "rIdSlicer", "../../2007/relationships/slicer".replace(
            "../../", ""), "../slicers/slicer9.xml")
        _add_rel(e, "xl/_rels/workbook.xml.rels", "rIdSlicerCache9", "slicerCache", "slicerCaches/slicerCache9.xml")
        _override(e, "xl/slicerCaches/slicerCache9.xml", "application/vnd.ms-excel.slicerCache+xml")
        _override(e, "xl/slicers/slicer9.xml", "application/vnd.ms-excel.slicer+xml")

    _rewrite(book, change)
    with zipfile.ZipFile(book) as z:
        names = z.namelist()
    charts = [n for n in names if n.startswith("xl/charts/")]
    assert len(charts) == 2
    found = {n: "chart" for n in charts}
    found.update({"xl/media/image9.png": "image", "xl/pivotTables/pivotTable9.xml": "pivot table",
                  "xl/pivotCache/pivotCacheDefinition9.xml": "pivot cache", "xl/slicers/slicer9.xml": "slicer",
                  "xl/slicerCaches/slicerCache9.xml": "slicer cache"})
    return found


def test_charts_images_pivots_and_slicers_survive_process(sample_book):
    firm = firm_workbook(sample_book)
    before = raw_parts(sample_book)
    inward_part = sheet_part(sample_book, "Inward")
    old_tail = parts(sample_book)[inward_part].split(b"</sheetData>")[1]
    rep = book_process.process(sample_book)
    assert rep.records == 34 and not rep.dropped
    after = raw_parts(sample_book)
    for part in firm:
        assert after[part] == before[part], part
    carried = [n for n in before if n.startswith(("xl/drawings/", "xl/charts/", "xl/pivot", "xl/slicer", "xl/media/"))
               or n.endswith(".rels") and n != "xl/_rels/workbook.xml.rels"]
    for part in carried:
        assert after[part] == before[part], part
    # the Inward sheet was rewritten: its references to the chart and slicer are still there
    new_tail = parts(sample_book)[inward_part].split(b"</sheetData>")[1]
    assert new_tail == old_tail and b"<drawing" in new_tail
    wbx = parts(sample_book)["xl/workbook.xml"].decode()
    assert '<pivotCache cacheId="9" r:id="rIdCache9"/>' in wbx
    # other programs still see them
    wb = openpyxl.load_workbook(sample_book, keep_vba=True)
    assert len(wb["Summary"]._charts) == 1 and len(wb["Inward"]._charts) == 1
    assert grid(sample_book, "Validation")[0][0].startswith("Validation")


def test_foreign_parts_are_named_for_upgrade(sample_book, capsys):
    firm = firm_workbook(sample_book)
    before = sample_book.read_bytes()
    assert main(["upgrade", str(sample_book)]) == 2
    err = capsys.readouterr().err
    for part in firm:
        assert part in err, part
    assert "--force" in err
    assert sample_book.read_bytes() == before
    assert main(["upgrade", str(sample_book), "--force"]) == 0
    out = capsys.readouterr().out
    assert "dropped (--force)" in out
    names = parts(sample_book)
    assert not any(n.startswith(("xl/charts/", "xl/pivotTables/")) for n in names)
    assert len(book_read.load_book(sample_book).inward.frame) == 34


def test_what_process_cannot_carry_is_refused_unless_forced(sample_book, capsys):
    book_process.process(sample_book)
    val = sheet_part(sample_book, "Validation")

    def attach(e: dict) -> None:
        e["xl/drawings/drawing8.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/'
            'drawingml/2006/spreadsheetDrawing"/>').encode()
        _add_rel(e, _sheet_rels(val), "rId1", "drawing", "../drawings/drawing8.xml")
        e[val] = e[val].replace(b"</worksheet>", b'<drawing r:id="rId1"/></worksheet>')
        _override(e, "xl/drawings/drawing8.xml", "application/vnd.openxmlformats-officedocument.drawing+xml")
        # and a digital signature of the package
        e["_xmlsignatures/sig1.xml"] = b'<?xml version="1.0"?><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>'
        e["_xmlsignatures/origin.sigs"] = b""
        _add_rel(e, "_rels/.rels", "rIdSig", "../package/2006/relationships/digital-signature/origin".replace(
            "../", ""), "_xmlsignatures/origin.sigs")
    _rewrite(sample_book, attach)
    before = sample_book.read_bytes()
    capsys.readouterr()
    assert main(["process", str(sample_book)]) == 2
    err = capsys.readouterr().err
    assert "xl/drawings/drawing8.xml" in err and "Validation sheet" in err
    assert "_xmlsignatures/sig1.xml" in err and "digital signature" in err
    assert sample_book.read_bytes() == before
    assert main(["process", str(sample_book), "--force"]) == 0
    out = capsys.readouterr().out
    assert "dropped (--force)" in out and "_xmlsignatures/sig1.xml" in out
    names = parts(sample_book)
    assert not any(n.startswith("_xmlsignatures/") for n in names)
    assert b"digital-signature" not in names["_rels/.rels"]
    assert _sheet_rels(val) not in names
    with Package(sample_book) as pkg:
        assert not book_carry.process_blockers(pkg)
