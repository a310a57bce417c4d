"""``upgrade`` carries what the user added to a workbook into the rebuilt one (issue 14, "No data loss"):
cells typed in free places (a note in Config, a cell below the Inward table, cells on Summary: text,
numbers, dates with their format, formulas), comments (legacy comments part + VML note), a sheet the user
added, defined names, data validations and conditional formats on the user's own ranges. What it cannot
carry is refused by name (exit 2, nothing written) unless ``--force``, which drops it and says so.

Each addition is written into the book's XML as Excel writes it, then read back after the upgrade with
python-calamine and from the package; the upgraded book must pass openxml-audit as Office 2016 and
Microsoft 365 (the check every book we write passes: ``test_lc_excel_form``).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

from excelform import audit_errors
from lctools import grid, parts, sheet_names

from ims_excel.book import process as book_process
from ims_excel.book.leftovers import left_behind
from ims_excel.cli import main
from ims_excel.xlsx.fileio import latest_backup
from ims_excel.xlsx.package import Package, col_index, col_letters

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
EXCEL_ROOT = (f'xmlns="{MAIN}" xmlns:r="{REL}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
              'mc:Ignorable="x14ac xr" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
              'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"')


def _rewrite(src: Path, dst: Path, change) -> Path:
    """``dst``: ``src`` with ``change(parts)`` applied to its parts (a dict of name: text)."""
    with zipfile.ZipFile(src) as z:
        entries = {n: z.read(n).decode("utf-8") if not n.endswith(".bin") else z.read(n) for n in z.namelist()}
    change(entries)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    return dst


def _after_cell(xml: str, ref: str, extra: str) -> str:
    """``extra`` cells after cell ``ref`` (in its row)."""
    new = re.sub(rf'(<c r="{ref}"[^>]*?(?:/>|>.*?</c>))', lambda m: m.group(1) + extra, xml, count=1, flags=re.S)
    assert new != xml, ref
    return new


def _before(xml: str, tag: str, extra: str) -> str:
    assert tag in xml, tag
    return xml.replace(tag, extra + tag, 1)


def _rel(e: dict, sheet_part: str, rid: str, typ: str, target: str, external: bool = False) -> None:
    folder, base = sheet_part.rsplit("/", 1)
    name = f"{folder}/_rels/{base}.rels"
    rels = e.get(name, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{RELS}">'
                       "</Relationships>")
    mode = ' TargetMode="External"' if external else ""
    e[name] = _before(rels, "</Relationships>", f'<Relationship Id="{rid}" Type="{REL}/{typ}" Target="{target}"{mode}/>')


def _note_vml(shapes: list[tuple[int, int]], block: int) -> str:
    """A VML drawing of note shapes at (row, col), 0-based, as Excel writes it."""
    body = "".join(
        f'<v:shape id="_x0000_s{block * 1024 + k + 1}" type="#_x0000_t202" style="position:absolute;margin-left:'
        '59.25pt;margin-top:1.5pt;width:108pt;height:59.25pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
        'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/><v:path '
        'o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
        f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{c + 1}, 15, '
        f'{r}, 2, {c + 3}, 15, {r + 4}, 16</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}'
        "</x:Column></x:ClientData></v:shape>" for k, (r, c) in enumerate(shapes))
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            f'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" '
            f'data="{block}"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
            'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" '
            f'o:connecttype="rect"/></v:shapetype>{body}</xml>')


def _comments(refs_texts: list[tuple[str, str]], author: str = "Ravi Kumar") -> str:
    body = "".join(f'<comment ref="{ref}" authorId="0" shapeId="0" xr:uid="{{00000000-0006-0000-0000-00000000000{k}}}">'
                   f'<text><r><rPr><b/><sz val="9"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr>'
                   f'<t xml:space="preserve">{author}:</t></r><r><t xml:space="preserve"> {text}</t></r></text></comment>'
                   for k, (ref, text) in enumerate(refs_texts))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments {EXCEL_ROOT}><authors><author>'
            f"{author}</author></authors><commentList>{body}</commentList></comments>")


CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def user_additions(src: Path, dst: Path) -> Path:
    """The sample book with what a user adds by hand, each written as Excel writes it:

    Config: a note in H2, a drop-down of their own in H3, a comment on H2 (Config has no comments part),
    a note in H1 merged over H1:J1 with a link to the portal, a link to Summary on H2;
    Inward: a number below the table, a comment on Z9 (into the template's comments part, no note shape);
    Summary: text in F1 with a conditional format, a date in F2 (dd-mm-yyyy), a formula in F3, a print area;
    Start: a comment (its VML drawing holds the buttons);
    a sheet "My Notes" (rich shared string, a date, formulas incl. a shared one, a boolean, merged cells,
    a validation, a conditional format, a hyperlink, a comment, a local name and a print area);
    a workbook name MyTotal.
    """
    with Package(src) as pkg:
        config, summary, start = (pkg.sheet(n).part for n in ("Config", "Summary", "Start"))
        inward = pkg.table("Inward")
        below = inward.bounds[2] + 3
        comments = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/comments"))
        date_style = next(k for k, xf in enumerate(re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.search(
            r"<cellXfs.*?</cellXfs>", pkg.text("xl/styles.xml"), re.S).group(0), re.S)) if 'numFmtId="165"' in xf)
        n_sheets = len(pkg.sheets())

    def change(e: dict) -> None:
        e[config] = _after_cell(e[config], "A2", '<c r="H2" t="inlineStr"><is><t>call the client on Monday</t></is></c>')
        e[config] = _before(e[config], "</dataValidations>", '<dataValidation type="list" allowBlank="1" '
                            'showInputMessage="1" showErrorMessage="1" sqref="H3" xr:uid="{1B2F0C52-0000-4000-8000-'
                            '000000000001}"><formula1>"Yes,No"</formula1></dataValidation>')
        e["xl/comments8.xml"] = _comments([("H2", "confirm the period with the client")])
        _rel(e, config, "rId8", "comments", "../comments8.xml")
        e["[Content_Types].xml"] = _before(e["[Content_Types].xml"], "</Types>",
                                           f'<Override PartName="/xl/comments8.xml" ContentType="{CT_COMMENTS}"/>')
        e[inward.sheet_part] = _before(e[inward.sheet_part], "</sheetData>",
                                       f'<row r="{below}"><c r="B{below}"><v>123456</v></c></row>')
        e[comments] = _before(e[comments], "</commentList>",
                              '<comment ref="Z9" authorId="0"><text><t>ask about this one</t></text></comment>')
        e[summary] = _after_cell(e[summary], "B1", '<c r="F1" t="inlineStr"><is><t>checked by RK</t></is></c>')
        e[summary] = _after_cell(e[summary], "B2", f'<c r="F2" s="{date_style}"><v>46310</v></c>')
        e[summary] = _after_cell(e[summary], "B3", '<c r="F3"><f>F2+1</f><v>46311</v></c>')
        # a format of the user's own (a new font and number format), as Excel adds it to styles.xml
        st = e["xl/styles.xml"]
        fonts = len(re.findall(r"<font>", re.search(r"<fonts.*?</fonts>", st, re.S).group(0)))
        xfs = len(re.findall(r"<xf\b", re.search(r"<cellXfs.*?</cellXfs>", st, re.S).group(0)))
        st = re.sub(r'<numFmts count="(\d+)">', lambda m: f'<numFmts count="{int(m.group(1)) + 1}">', st)
        st = _before(st, "</numFmts>", '<numFmt numFmtId="190" formatCode="0.0%"/>')
        st = re.sub(r'<fonts count="\d+"', f'<fonts count="{fonts + 1}"', st)
        st = _before(st, "</fonts>", '<font><b/><i/><sz val="14"/><color rgb="FF00B050"/><name val="Arial"/>'
                                     '<family val="2"/></font>')
        st = re.sub(r'<cellXfs count="\d+"', f'<cellXfs count="{xfs + 1}"', st)
        e["xl/styles.xml"] = _before(st, "</cellXfs>", f'<xf numFmtId="190" fontId="{fonts}" fillId="0" borderId="0" '
                                     'xfId="0" applyNumberFormat="1" applyFont="1"/>')
        e[summary] = _after_cell(e[summary], "B4", f'<c r="F4" s="{xfs}"><v>0.125</v></c>')
        # Config: a note over merged cells, a link to the portal and one to a place in the book
        e[config] = _after_cell(e[config], "A1", '<c r="H1" t="inlineStr"><is><t>see the portal</t></is></c>')
        e[config] = _before(e[config], "<dataValidations", '<mergeCells count="1"><mergeCell ref="H1:J1"/></mergeCells>')
        e[config] = _before(e[config], "<pageMargins", '<hyperlinks><hyperlink ref="H1" r:id="rId7" xr:uid="{7A}"/>'
                            '<hyperlink ref="H2" location="Summary!B1" display="Summary"/></hyperlinks>')
        _rel(e, config, "rId7", "hyperlink", "https://services.gst.gov.in/services/login", external=True)
        e[summary] = _before(e[summary], "<pageMargins", '<conditionalFormatting sqref="F1"><cfRule type="containsText" '
                             'dxfId="7" priority="1" operator="containsText" text="RK"><formula>NOT(ISERROR(SEARCH("RK",'
                             'F1)))</formula></cfRule></conditionalFormatting>')
        e["xl/comments9.xml"] = _comments([("F5", "the buttons need Python")])
        e["xl/drawings/vmlDrawing1.vml"] = e["xl/drawings/vmlDrawing1.vml"].replace(
            "</xml>", _note_vml([(4, 5)], 1).split("</v:shapetype>", 1)[1].replace("_x0000_s1025", "_x0000_s1100"))
        _rel(e, start, "rId9", "comments", "../comments9.xml")
        e["[Content_Types].xml"] = _before(e["[Content_Types].xml"], "</Types>",
                                           f'<Override PartName="/xl/comments9.xml" ContentType="{CT_COMMENTS}"/>')
        # the sheet the user added
        sst = e["xl/sharedStrings.xml"]
        k = len(re.findall(r"<si>", sst))
        e["xl/sharedStrings.xml"] = _before(re.sub(r'(count|uniqueCount)="\d+"', lambda m: f'{m.group(1)}="{k + 1}"', sst),
                                            "</sst>", '<si><r><rPr><b/><sz val="11"/><color theme="1"/><rFont val="Calibri"/>'
                                            '<family val="2"/><scheme val="minor"/></rPr><t>Notes</t></r><r><t xml:space='
                                            '"preserve"> for the partner</t></r></si>')
        e["xl/worksheets/sheet20.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {EXCEL_ROOT} xr:uid="{{6E9F}}">'
            '<sheetPr codeName="Sheet20"/><dimension ref="A1:E3"/><sheetViews><sheetView tabSelected="1" '
            'workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><cols>'
            f'<col min="2" max="2" width="12" style="{date_style}" customWidth="1"/></cols><sheetData>'
            f'<row r="1" spans="1:5" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>{k}</v></c><c r="B1" s="{date_style}">'
            '<v>46310</v></c><c r="C1"><f>B1+30</f><v>46340</v></c></row>'
            '<row r="2" spans="1:5" x14ac:dyDescent="0.25"><c r="A2" t="b"><v>1</v></c><c r="C2"><f t="shared" '
            'ref="C2:C3" si="0">LEN(A1)</f><v>17</v></c></row>'
            '<row r="3" spans="1:5" x14ac:dyDescent="0.25"><c r="A3" t="inlineStr"><is><t>gst.gov.in</t></is></c>'
            '<c r="C3"><f t="shared" si="0"/><v>0</v></c></row></sheetData><mergeCells count="1"><mergeCell '
            'ref="D1:E1"/></mergeCells><conditionalFormatting sqref="C1:C3"><cfRule type="cellIs" dxfId="8" '
            'priority="1" operator="greaterThan"><formula>100</formula></cfRule></conditionalFormatting>'
            '<dataValidations count="1"><dataValidation type="whole" allowBlank="1" showInputMessage="1" '
            'showErrorMessage="1" sqref="D3"><formula1>1</formula1><formula2>9</formula2></dataValidation>'
            '</dataValidations><hyperlinks><hyperlink ref="A3" r:id="rId2" xr:uid="{5A1B}"/></hyperlinks>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '<legacyDrawing r:id="rId1"/></worksheet>')
        e["xl/comments20.xml"] = _comments([("B1", "due date for the reply")])
        e["xl/drawings/vmlDrawing20.vml"] = _note_vml([(0, 1)], 20)
        _rel(e, "xl/worksheets/sheet20.xml", "rId1", "vmlDrawing", "../drawings/vmlDrawing20.vml")
        _rel(e, "xl/worksheets/sheet20.xml", "rId2", "hyperlink", "https://www.gst.gov.in/", external=True)
        _rel(e, "xl/worksheets/sheet20.xml", "rId3", "comments", "../comments20.xml")
        _rel(e, "xl/workbook.xml", "rId99", "worksheet", "worksheets/sheet20.xml")
        e["[Content_Types].xml"] = _before(e["[Content_Types].xml"], "</Types>",
                                           f'<Override PartName="/xl/worksheets/sheet20.xml" ContentType="{CT_SHEET}"/>'
                                           f'<Override PartName="/xl/comments20.xml" ContentType="{CT_COMMENTS}"/>')
        wb = _before(e["xl/workbook.xml"], "</sheets>", '<sheet name="My Notes" sheetId="99" r:id="rId99"/>')
        e["xl/workbook.xml"] = _before(wb, "</definedNames>", '<definedName name="MyTotal">Summary!$C$9</definedName>'
                                       f'<definedName name="_xlnm.Print_Area" localSheetId="{n_sheets}">\'My Notes\'!'
                                       f'$A$1:$C$3</definedName><definedName name="Rate" localSheetId="{n_sheets}">'
                                       "'My Notes'!$B$1</definedName><definedName name=\"_xlnm.Print_Area\" "
                                       "localSheetId=\"3\">Summary!$B$1:$G$47</definedName>")
    return _rewrite(src, dst, change)


def _cell(path: Path, sheet: str, ref: str) -> str:
    with Package(path) as pkg:
        xml = pkg.text(pkg.sheet(sheet).part)
    m = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    return m.group(0) if m else ""


def _at(rows: list[list], ref: str):
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return rows[int(m.group(2)) - 1][col - 1]


def _comment_refs(path: Path, sheet: str) -> dict[str, str]:
    with Package(path) as pkg:
        part = pkg.sheet(sheet).part
        rels = pkg.rels(part)
        target = next(t for typ, t, _ in rels.values() if typ.endswith("/comments"))
        vml = next(t for typ, t, _ in rels.values() if typ.endswith("/vmlDrawing"))
        notes = {(int(r), int(c)) for r, c in re.findall(r"<x:Row>(\d+)</x:Row><x:Column>(\d+)</x:Column>",
                                                         pkg.text(vml))}
        assert f'r:id="{next(k for k, v in rels.items() if v[0].endswith("/vmlDrawing"))}"' in pkg.text(part)
        out = {}
        for ref, body in re.findall(r'<comment ref="([A-Z]+\d+)"[^>]*>(.*?)</comment>', pkg.text(target), re.S):
            out[ref] = "".join(re.findall(r"<t[^>]*>([^<]*)</t>", body))
            r = int(re.sub(r"[A-Z]", "", ref)) - 1
            c = sum((ord(ch) - 64) * 26 ** i for i, ch in enumerate(reversed(re.sub(r"\d", "", ref)))) - 1
            assert (r, c) in notes, (sheet, ref, "no note shape")
        return out


def test_upgrade_carries_every_kind_of_user_addition(sample_master, tmp_path, capsys):
    """Issue 14: cells, comments, an added sheet, defined names, validations and conditional formats are in the
    upgraded book, with their types (number, text, rich text, boolean, date with its format, formula); nothing
    is left behind; the previous file is the dated backup; openxml-audit finds no error."""
    book = user_additions(sample_master, tmp_path / "client.xlsm")
    with Package(book) as pkg:
        below = pkg.table("Inward").bounds[2] + 3
    before = book.read_bytes()
    assert main(["upgrade", str(book)]) == 0
    out = capsys.readouterr().out
    for words in ("carried: cell Config!H2 ('call the client on Monday')", f"carried: cell Inward!B{below} ('123456')",
                  "carried: comment on Inward!Z9", "carried: comment on Config!H2", "carried: comment on Start!F5",
                  "carried: cell Summary!F3 (a formula)", "carried: sheet 'My Notes'",
                  "carried: defined name MyTotal (Summary!$C$9)", "carried: data validation on Config!H3",
                  "carried: conditional format on Summary!F1", "carried: print area of sheet 'Summary'",
                  "carried: merged cells Config!H1:J1", "carried: hyperlink on Config!H1 (https://services.gst.gov",
                  "carried: hyperlink on Config!H2 (Summary!B1)",
                  "Previous version kept as client.bak-"):
        assert words in out, (words, out)
    assert "dropped" not in out
    assert latest_backup(book).read_bytes() == before
    assert left_behind(latest_backup(book), book) == []

    # cells, read back with python-calamine (values) and from the package (types, formulas)
    assert _at(grid(book, "Config"), "H2") == "call the client on Monday"
    assert _at(grid(book, "Inward"), f"B{below}") == 123456
    summary = grid(book, "Summary")
    assert _at(summary, "F1") == "checked by RK"
    assert _at(summary, "F2") == dt.date(2026, 10, 15)  # serial 46310 in dd-mm-yyyy: a date, not a number
    assert "<f>F2+1</f>" in _cell(book, "Summary", "F3") and _at(summary, "F3") == 46311
    assert _at(summary, "F4") == 0.125
    with Package(book) as pkg:  # the user's own format, copied into the new book's styles
        st = pkg.text("xl/styles.xml")
        xf = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.search(r"<cellXfs.*?</cellXfs>", st, re.S).group(0), re.S)[
            int(re.search(r'\bs="(\d+)"', _cell(book, "Summary", "F4")).group(1))]
        fmt = re.search(r'numFmtId="(\d+)"', xf).group(1)
        assert f'<numFmt numFmtId="{fmt}" formatCode="0.0%"/>' in st
        font = re.findall(r"<font>.*?</font>", re.search(r"<fonts.*?</fonts>", st, re.S).group(0))[
            int(re.search(r'fontId="(\d+)"', xf).group(1))]
        assert '<name val="Arial"/>' in font and "<b/><i/>" in font
    # comments, each with its note shape
    assert "confirm the period with the client" in _comment_refs(book, "Config")["H2"]
    assert _comment_refs(book, "Inward")["Z9"] == "ask about this one"
    assert "the buttons need Python" in _comment_refs(book, "Start")["F5"]
    # the added sheet
    assert "My Notes" in sheet_names(book)
    notes = grid(book, "My Notes")
    assert _at(notes, "A1") == "Notes for the partner" and _at(notes, "B1") == dt.date(2026, 10, 15)
    assert _at(notes, "A2") is True and _at(notes, "C1") == 46340 and _at(notes, "A3") == "gst.gov.in"
    assert "<r><rPr><b/>" in _cell(book, "My Notes", "A1")  # rich text kept
    assert 't="shared"' in _cell(book, "My Notes", "C3")
    assert "due date for the reply" in _comment_refs(book, "My Notes")["B1"]
    with Package(book) as pkg:
        notes_part = pkg.sheet("My Notes").part
        xml = pkg.text(notes_part)
        assert '<mergeCell ref="D1:E1"/>' in xml and 'sqref="D3"' in xml and "<cfRule" in xml and "tabSelected" not in xml
        assert any(t == "https://www.gst.gov.in/" for _, t, _ in pkg.rels(notes_part).values())
        wb = pkg.text("xl/workbook.xml")
        order = re.findall(r'<sheet\b[^>]*?name="([^"]*)"', wb)
        assert f'<definedName name="Rate" localSheetId="{order.index("My Notes")}">\'My Notes\'!$B$1' in wb
        assert f'<definedName name="_xlnm.Print_Area" localSheetId="{order.index("Summary")}">Summary!$B$1:$G$47' in wb
        assert '<definedName name="MyTotal">Summary!$C$9</definedName>' in wb
        config_part = pkg.sheet("Config").part
        config_xml = pkg.text(config_part)
        assert 'sqref="H3"' in config_xml and '<mergeCells count="1"><mergeCell ref="H1:J1"/></mergeCells>' in config_xml
        link = re.search(r'<hyperlink ref="H1" r:id="([^"]+)"/>', config_xml)
        assert link and pkg.rels(config_part)[link.group(1)][1] == "https://services.gst.gov.in/services/login"
        assert '<hyperlink ref="H2" location="Summary!B1" display="Summary"/>' in config_xml
        summary_xml = pkg.text(pkg.sheet("Summary").part)
        cf = re.search(r'<conditionalFormatting sqref="F1"><cfRule[^>]*dxfId="(\d+)"', summary_xml)
        dxfs = re.findall(r"<dxf>.*?</dxf>", pkg.text("xl/styles.xml"), re.S)
        assert cf and "FF9C0006" in dxfs[int(cf.group(1))]  # the same differential format (red text)
    assert audit_errors(book) == {"office2016": [], "microsoft365": []}
    # and the next process still works on it, keeping them
    book_process.process(book)
    assert _at(grid(book, "Config"), "H2") == "call the client on Monday" and "My Notes" in sheet_names(book)


def test_upgrade_refuses_what_it_cannot_carry_unless_forced(sample_master, tmp_path, capsys):
    """A drop-down the user changed on a cell that has the template's own validation (Config!B7) cannot go with
    it (a cell takes one validation), nor cells merged over the template's text (D22:E22 would hide E22):
    exit 2 naming each, nothing written; --force drops them, says so, and carries the rest."""
    def own_dropdown(e: dict) -> None:
        with Package(sample_master) as pkg:
            config = pkg.sheet("Config").part
        e[config] = e[config].replace('sqref="B7"><formula1>"Monthly,Quarterly"', 'sqref="B7"><formula1>'
                                      '"Monthly,Quarterly,Yearly"', 1)
        e[config] = _after_cell(e[config], "A2", '<c r="H2" t="inlineStr"><is><t>kept</t></is></c>')
        e[config] = _before(e[config], "<dataValidations", '<mergeCells count="1"><mergeCell ref="D22:E22"/></mergeCells>')
    book = _rewrite(sample_master, tmp_path / "client.xlsm", own_dropdown)
    before = book.read_bytes()
    assert main(["upgrade", str(book)]) == 2
    err = capsys.readouterr().err
    assert "data validation on Config!B7: the current template validates B7 itself" in err, err
    assert "merged cells Config!D22:E22: they would hide the current template's cell E22" in err, err
    assert "Nothing was written" in err and "Traceback" not in err and "cell Config!H2" not in err
    assert book.read_bytes() == before and latest_backup(book) is None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") or p.name.startswith("ims-upgrade-")]
    assert main(["upgrade", str(book), "--force"]) == 0
    out = capsys.readouterr().out
    assert "dropped (--force): data validation on Config!B7" in out and "carried: cell Config!H2 ('kept')" in out
    assert "dropped (--force): merged cells Config!D22:E22" in out
    assert latest_backup(book).read_bytes() == before
    assert _at(grid(book, "Config"), "H2") == "kept"
    assert '"Monthly,Quarterly"</formula1>' in parts(book)[_config_part(book)].decode()


def _config_part(book: Path) -> str:
    with Package(book) as pkg:
        return pkg.sheet("Config").part


def test_upgrade_of_an_untouched_book_finds_nothing_left_behind(sample_master, tmp_path, capsys):
    book = tmp_path / "client.xlsm"
    shutil.copy(sample_master, book)
    book_process.process(book)
    assert main(["upgrade", str(book)]) == 0
    assert "carried:" not in capsys.readouterr().out
    assert left_behind(latest_backup(book), book) == []


def test_a_cell_where_the_template_now_has_its_table_is_refused(sample_master, tmp_path, capsys):
    """A book of an older layout whose Inward table ended one column earlier, with the user's note beside it
    (CR5) and a formula filled right from CR6 to CS6 (a shared formula, ECMA-376 Part 1, 18.3.1.40): the current
    template's table covers CR now, so the note and the formula's first cell cannot go there, nor CS6, a piece
    of that formula. Exit 2 naming each and why; --force drops them and says so."""
    with Package(sample_master) as pkg:
        t = pkg.table("Inward")
    last = t.columns[-1]
    letters = re.fullmatch(r"A1:([A-Z]+)\d+", t.ref).group(1)
    narrower, right = col_letters(col_index(letters) - 1), col_letters(col_index(letters) + 1)

    def older_layout(e: dict) -> None:
        x = re.sub(rf'<tableColumn\b[^>]*name="{re.escape(last)}"[^>]*?(?:/>|>.*?</tableColumn>)', "", e[t.part],
                   flags=re.S)
        x = re.sub(rf'ref="A1:{letters}(\d+)"', rf'ref="A1:{narrower}\1"', x)
        e[t.part] = x.replace(f'count="{len(t.columns)}"', f'count="{len(t.columns) - 1}"', 1)
        s = re.sub(rf'<c r="{letters}\d+"[^>]*?(?:/>|>.*?</c>)', "", e[t.sheet_part], flags=re.S)
        s = _after_cell(s, f"{narrower}5", f'<c r="{letters}5" t="inlineStr"><is><t>my note</t></is></c>')
        # a formula filled right from CR6 to CS6: its first cell, which holds the formula, cannot go
        e[t.sheet_part] = _after_cell(s, f"{narrower}6", f'<c r="{letters}6"><f t="shared" ref="{letters}6:{right}6" '
                                      f'si="90">1+1</f><v>2</v></c><c r="{right}6"><f t="shared" si="90"/><v>2</v></c>')
    book = _rewrite(sample_master, tmp_path / "client.xlsm", older_layout)
    before = book.read_bytes()
    assert main(["upgrade", str(book)]) == 2
    err = capsys.readouterr().err
    assert f"cell Inward!{letters}5 ('my note'): the current template's table Inward covers that cell" in err, err
    assert f"cell Inward!{letters}6 (a formula): the current template's table Inward covers that cell" in err
    assert f"cell Inward!{right}6 (a formula): one piece of a shared formula whose first cell is not carried" in err
    assert book.read_bytes() == before and latest_backup(book) is None
    assert main(["upgrade", str(book), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"dropped (--force): cell Inward!{letters}5 ('my note')" in out
    assert f"dropped (--force): cell Inward!{right}6 (a formula)" in out
    assert "my note" not in [str(v) for row in grid(book, "Inward") for v in row]


def _one_format_per_column(xml: str, last_col: str) -> str:
    """A table sheet's conditional formats as the template wrote them before issue 9's side-by-side measurement:
    the status rules over every column of the table (``A2:DA1048576``, as now), the lakh/crore pair once per
    amount column (``ABS(BF2)`` on ``BF2:BF1048576``) rather than once over all of them."""
    out = []
    for m in re.finditer(r'<conditionalFormatting sqref="([^"]*)">(.*?)</conditionalFormatting>', xml, re.S):
        sqref, body = m.group(1), m.group(2)
        if "ABS(" not in body:
            out.append(f'<conditionalFormatting sqref="A2:{last_col}1048576">{body}</conditionalFormatting>')
            continue
        first = re.match(r"[A-Z]+", sqref).group(0)
        for rng in sqref.split():
            a, b = (col_index(re.match(r"[A-Z]+", x).group(0)) for x in rng.split(":"))
            for c in range(a, b + 1):
                col = col_letters(c)
                out.append(f'<conditionalFormatting sqref="{col}2:{col}1048576">'
                           f'{body.replace(f"ABS({first}2)", f"ABS({col}2)")}</conditionalFormatting>')
    new = re.sub(r"<conditionalFormatting\b.*?</conditionalFormatting>", "", xml, flags=re.S)
    k = new.index("</sheetData>") + len("</sheetData>")
    k = new.index("<", new.index("<dataValidations") if "<dataValidations" in new else k)
    return new[:k] + "".join(out) + new[k:]


def test_the_former_one_format_per_amount_column_is_still_the_templates(sample_master, tmp_path, capsys):
    """Issue 9: a book built when the template wrote the lakh/crore rules once per amount column is upgraded
    without taking those for the user's (rules are compared relative to their range): nothing carried, nothing
    left behind, and the Inward / Outward sheets hold only the template's (fewer) elements."""
    book = tmp_path / "client.xlsm"
    shutil.copy(sample_master, book)
    with Package(book) as pkg:
        tables = {t.sheet: (t.sheet_part, col_letters(t.bounds[3])) for t in pkg.tables() if t.sheet in ("Inward", "Outward")}
        rebuilt = {sheet: pkg.text(part).count("<conditionalFormatting") for sheet, (part, _) in tables.items()}

    def former(e: dict) -> None:
        for part, last in tables.values():
            e[part] = _one_format_per_column(e[part], last)
            assert e[part].count("<conditionalFormatting") > rebuilt[next(s for s, v in tables.items()
                                                                          if v[0] == part)]
    _rewrite(book, tmp_path / "former.xlsm", former)
    shutil.move(tmp_path / "former.xlsm", book)
    assert 'sqref="BF2:BF1048576"' in parts(book)[tables["Inward"][0]].decode()
    assert main(["upgrade", str(book)]) == 0
    out = capsys.readouterr().out
    assert "carried:" not in out and "dropped" not in out, out
    assert left_behind(latest_backup(book), book) == []
    with Package(book) as pkg:
        assert {s: pkg.text(part).count("<conditionalFormatting") for s, (part, _) in tables.items()} == rebuilt


def test_an_earlier_versions_rules_sheet_and_names_are_not_the_users(sample_master, tmp_path, capsys):
    """Issue 9 replaced the GSTIN shape ranges (``GSTINShapes``, ``GSTINOnes``...) by others and the Rules sheet
    changed length: a book of the earlier version holds Rules cells where the rebuilt sheet has none and names the
    rebuilt book lacks. They are that version's rule data (the sheet is protected and written whole), not the
    user's: nothing carried, nothing refused, and the upgraded book has neither the old cells nor the old names.
    A name of the user's own (into Summary) is still carried."""
    with Package(sample_master) as pkg:
        rules_part = pkg.sheet("Rules").part
        last = max(int(r) for r in re.findall(r'<row r="(\d+)"', pkg.text(rules_part)))
    far = last + 40

    def earlier_version(e: dict) -> None:
        e[rules_part] = _before(e[rules_part], "</sheetData>",
                                f'<row r="{far}"><c r="B{far}"><v>1</v></c><c r="C{far}" t="inlineStr"><is><t>0123456789'
                                "</t></is></c></row>")
        e["xl/workbook.xml"] = _before(e["xl/workbook.xml"], "</definedNames>",
                                       f'<definedName name="GSTINOnes">Rules!$B${far}:$P${far}</definedName>'
                                       f"<definedName name=\"GSTINShapes\">'Rules'!$C${far}:$I${far}</definedName>"
                                       '<definedName name="MyTotal">Summary!$C$9</definedName>')
    book = _rewrite(sample_master, tmp_path / "client.xlsm", earlier_version)
    assert main(["upgrade", str(book)]) == 0
    out = capsys.readouterr().out
    assert "Rules!" not in out and "GSTIN" not in out and "dropped" not in out, out
    assert "carried: defined name MyTotal (Summary!$C$9)" in out, out
    wb = parts(book)["xl/workbook.xml"].decode()
    assert "GSTINOnes" not in wb and "GSTINShapes" not in wb and '<definedName name="MyTotal">' in wb
    assert len(grid(book, "Rules")) < far
    assert left_behind(latest_backup(book), book) == []


OLD_TEMPLATE = Path(__file__).parents[1] / "fixtures" / "books" / "ims_workbook_1ef6d86.xlsm"
"""The template as commit 1ef6d86 built it (``git show 1ef6d86:workbook/IMS_Workbook.xlsm``), before issue 9 moved
the Inward columns: Action at AI (now AN), Status at AQ (now AY), Message at AS (now BA)."""


def _conditional_formats(path: Path, sheet: str) -> list[tuple[str, list[str]]]:
    """(sqref, the formulas of its rules) of each conditional format on ``sheet``."""
    with Package(path) as pkg:
        xml = pkg.text(pkg.sheet(sheet).part)
    return [(m.group(1), re.findall(r"<formula>(.*?)</formula>", m.group(2)))
            for m in re.finditer(r'<conditionalFormatting sqref="([^"]*)">(.*?)</conditionalFormatting>', xml, re.S)]


def test_an_older_templates_book_keeps_the_users_additions_on_their_moved_columns(tmp_path, capsys):
    """Issue 14 ("No data loss") across issue 9's column move: in a book of the 1ef6d86 template the header notes
    and the Status colouring (``$AQ2="error"``: an absolute column) are the template's, not the user's, so none is
    carried onto the columns now at those letters (AQ is Declared IGST now). What the user added on the old
    Action column (AI) -- a note on its header and on its first row, a colouring ``$AI2="Reject"`` -- and a
    length check on Message (AS) land on those columns where they are now (AN, BA), found by header."""
    with Package(OLD_TEMPLATE) as pkg:
        inward = pkg.table("Inward")
        assert inward.columns[col_index("AI") - 1] == "Action" and inward.columns[col_index("AQ") - 1] == "Status"
        comments = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/comments"))
        vml = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/vmlDrawing"))

    def user(e: dict) -> None:
        e[comments] = _before(e[comments], "</authors>", "<author>Ravi Kumar</author>")
        e[comments] = _before(e[comments], "</commentList>",
                              '<comment ref="AI1" authorId="1"><text><t>ask the partner before rejecting</t></text>'
                              '</comment><comment ref="AI2" authorId="1"><text><t>disputed: see the mail of 3 Oct</t>'
                              "</text></comment>")
        shapes = _note_vml([(0, 34), (1, 34)], 2).split("</v:shapetype>", 1)[1]
        e[vml] = e[vml].replace("</xml>", shapes.replace("_x0000_s2049", "_x0000_s2900")
                                .replace("_x0000_s2050", "_x0000_s2901"))
        e[inward.sheet_part] = _before(e[inward.sheet_part], "<dataValidations",
                                       '<conditionalFormatting sqref="AI2:AI1048576"><cfRule type="expression" '
                                       'dxfId="0" priority="90"><formula>$AI2="Reject"</formula></cfRule>'
                                       "</conditionalFormatting>")
        e[inward.sheet_part] = _before(e[inward.sheet_part], "</dataValidations>",
                                       '<dataValidation type="textLength" operator="lessThanOrEqual" allowBlank="1" '
                                       'showErrorMessage="1" sqref="AS2:AS50"><formula1>500</formula1></dataValidation>')
    book = _rewrite(OLD_TEMPLATE, tmp_path / "client.xlsm", user)
    assert main(["upgrade", str(book)]) == 0
    out = capsys.readouterr().out
    carried = sorted(line.strip() for line in out.splitlines() if line.strip().startswith("carried:"))
    assert carried == ["carried: comment on Inward!AN1 ('ask the partner before rejecting', AI1 in the old book)",
                       "carried: comment on Inward!AN2 ('disputed: see the mail of 3 Oct', AI2 in the old book)",
                       "carried: conditional format on Inward!AN2:AN1048576 (AI2:AI1048576 in the old book)",
                       "carried: data validation on Inward!BA2:BA50 (AS2:AS50 in the old book)"], out
    with Package(book) as pkg:
        assert pkg.table("Inward").columns[col_index("AN") - 1] == "Action"
        assert pkg.table("Inward").columns[col_index("BA") - 1] == "Message"
    template = Path(__file__).parents[2] / "workbook" / "IMS_Workbook.xlsm"
    notes = _comment_refs(template, "Inward")
    assert _comment_refs(book, "Inward") == {**notes, "AN1": "ask the partner before rejecting",
                                             "AN2": "disputed: see the mail of 3 Oct"}
    assert sorted(_conditional_formats(book, "Inward")) == sorted(
        _conditional_formats(template, "Inward") + [("AN2:AN1048576", ['$AN2="Reject"'])])
    with Package(book) as pkg:
        sheet = pkg.text(pkg.sheet("Inward").part)
    assert re.search(r'<dataValidation\b[^>]*sqref="BA2:BA50"[^>]*><formula1>500</formula1>', sheet)
    assert left_behind(latest_backup(book), book) == []
    assert audit_errors(book) == {"office2016": [], "microsoft365": []}


def test_a_cells_format_and_comment_in_the_table_go_with_its_record(sample_master, tmp_path, capsys):
    """Issue 14 ("No data loss"): a fill the user gave a cell of a record (a format of its own in styles.xml, as
    Excel adds it) and a comment on it are carried with the record; the user emptied the row above (the rebuilt
    table keeps no blank rows), so the record is one row up in the upgraded book and so are they. Before, the
    format was dropped without a word and the comment stayed on the row, now another record's. A note typed
    beside the record goes with it; a formula beside it stays where its references hold, and says so."""
    with Package(sample_master) as pkg:
        inward = pkg.table("Inward")
        comments = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/comments"))
    doc = col_letters(inward.bounds[1] + inward.columns.index("Document Number"))
    number = _at(grid(sample_master, "Inward"), f"{doc}5")

    def user(e: dict) -> None:
        st = e["xl/styles.xml"]
        fills = len(re.findall(r"<fill>", re.search(r"<fills.*?</fills>", st, re.S).group(0)))
        xfs = re.search(r"<cellXfs.*?</cellXfs>", st, re.S).group(0)
        cell = re.search(rf'<c r="{doc}5" s="(\d+)"', e[inward.sheet_part])
        base = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", xfs, re.S)[int(cell.group(1))]
        mine = re.sub(r'fillId="\d+"', f'fillId="{fills}" applyFill="1"', base, count=1)
        st = re.sub(r'<fills count="\d+"', f'<fills count="{fills + 1}"', st)
        st = _before(st, "</fills>", '<fill><patternFill patternType="solid"><fgColor rgb="FFFFFF00"/><bgColor '
                                     'indexed="64"/></patternFill></fill>')
        n = len(re.findall(r"<xf\b", xfs))
        st = re.sub(r'<cellXfs count="\d+"', f'<cellXfs count="{n + 1}"', st)
        e["xl/styles.xml"] = _before(st, "</cellXfs>", mine)
        sheet = e[inward.sheet_part].replace(cell.group(0), f'<c r="{doc}5" s="{n}"', 1)
        # the user cleared the row above: its typed values gone, formulas and formats left
        row4 = re.search(r'<row r="4"[^>]*>.*?</row>', sheet, re.S).group(0)
        cleared = re.sub(r'<c r="([A-Z]+4)"( s="\d+")?( t="\w+")?>(?:(?!<f[ >/]).)*?</c>', r'<c r="\1"\2/>', row4,
                         flags=re.S)
        e[inward.sheet_part] = sheet.replace(row4, cleared)
        e[comments] = _before(e[comments], "</commentList>",
                              f'<comment ref="{doc}5" authorId="0"><text><t>supplier to reissue</t></text></comment>')
        # beside the record: a note (goes with it) and a formula on it (stays where its references hold)
        e[inward.sheet_part] = _after_cell(e[inward.sheet_part], f"{last}5", f'<c r="{right}5" t="inlineStr"><is><t>'
                                           f'called them</t></is></c><c r="{far}5"><f>LEN({doc}5)</f><v>8</v></c>')
    last = col_letters(inward.bounds[3])
    right, far = col_letters(inward.bounds[3] + 2), col_letters(inward.bounds[3] + 3)
    book = _rewrite(sample_master, tmp_path / "client.xlsm", user)
    records = len([r for r in grid(book, "Inward")[1:] if any(v not in ("", None) for v in r[:10])])
    assert main(["upgrade", str(book)]) == 0
    out = capsys.readouterr().out
    assert f"carried: format of cell Inward!{doc}4 ({doc}5 in the old book)" in out, out
    assert f"carried: comment on Inward!{doc}4 ('supplier to reissue', {doc}5 in the old book)" in out, out
    assert f"carried: cell Inward!{right}4 ('called them', {right}5 in the old book)" in out, out
    assert f"carried: cell Inward!{far}5 (a formula, beside the record now on row 4)" in out, out
    assert _at(grid(book, "Inward"), f"{right}4") == "called them"
    assert f"{records} Inward" in out and records == inward.bounds[2] - 2
    assert _at(grid(book, "Inward"), f"{doc}4") == number
    assert _comment_refs(book, "Inward")[f"{doc}4"] == "supplier to reissue"
    with Package(book) as pkg:
        st = pkg.text("xl/styles.xml")
        k = int(re.search(rf'<c r="{doc}4"[^>]*?\ss="(\d+)"', pkg.text(pkg.table("Inward").sheet_part)).group(1))
    xf = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.search(r"<cellXfs.*?</cellXfs>", st, re.S).group(0), re.S)[k]
    fill = re.findall(r"<fill>.*?</fill>", re.search(r"<fills.*?</fills>", st, re.S).group(0), re.S)[
        int(re.search(r'fillId="(\d+)"', xf).group(1))]
    assert 'rgb="FFFFFF00"' in fill
    moved = {"Inward": [r for r in range(2, inward.bounds[2] + 1) if r != 4]}  # the records' old rows, in order
    assert left_behind(latest_backup(book), book, rows=moved) == []
    assert audit_errors(book) == {"office2016": [], "microsoft365": []}


def test_notes_beside_neighbouring_records_all_move_up_with_their_comments(sample_master, tmp_path, capsys):
    """A reviewer's repro: the user emptied a row between records and had notes beside the two records below it,
    with a comment on the first note. Every record moves up one row in the rebuilt table, so every note goes with
    its record (the first note's old place is freed by the move, not taken) and the comment stays on its note."""
    with Package(sample_master) as pkg:
        inward = pkg.table("Inward")
        comments = next(t for typ, t, _ in pkg.rels(inward.sheet_part).values() if typ.endswith("/comments"))
    doc = col_letters(inward.bounds[1] + inward.columns.index("Document Number"))
    last, right = col_letters(inward.bounds[3]), col_letters(inward.bounds[3] + 2)
    g = grid(sample_master, "Inward")
    first, second = _at(g, f"{doc}5"), _at(g, f"{doc}6")

    def user(e: dict) -> None:
        sheet = e[inward.sheet_part]
        row4 = re.search(r'<row r="4"[^>]*>.*?</row>', sheet, re.S).group(0)
        cleared = re.sub(r'<c r="([A-Z]+4)"( s="\d+")?( t="\w+")?>(?:(?!<f[ >/]).)*?</c>', r'<c r="\1"\2/>', row4,
                         flags=re.S)
        sheet = sheet.replace(row4, cleared)
        for r, text in ((5, f"note for {first}"), (6, f"note for {second}")):
            sheet = _after_cell(sheet, f"{last}{r}", f'<c r="{right}{r}" t="inlineStr"><is><t>{text}</t></is></c>')
        e[inward.sheet_part] = sheet
        e[comments] = _before(e[comments], "</commentList>",
                              f'<comment ref="{right}5" authorId="0"><text><t>on the first note</t></text></comment>')
    book = _rewrite(sample_master, tmp_path / "client.xlsm", user)
    assert main(["upgrade", str(book)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    g = grid(book, "Inward")
    assert (_at(g, f"{doc}4"), _at(g, f"{right}4")) == (first, f"note for {first}"), out
    assert (_at(g, f"{doc}5"), _at(g, f"{right}5")) == (second, f"note for {second}"), out
    assert _at(g, f"{right}6") in ("", None)
    assert _comment_refs(book, "Inward").get(f"{right}4") == "on the first note", out
    assert f"carried: cell Inward!{right}5 ('note for {second}', {right}6 in the old book)" in out, out


def _formulas_into_the_old_action_column(book: Path) -> Path:
    """A user's book of the 1ef6d86 template (Action in AI, Status in AQ, Message in AS) with formulas of their own
    outside the tables pointing into those columns, as a firm writes them: a summary sheet of their own (whole
    columns, SUMIFS over absolute ranges, a single cell, a structured reference), a free cell on Config and one
    below the Inward table (no sheet name: the table's own sheet), a defined name, a conditional format on Inward
    testing the whole Status column and a drop-down on Config listing the Action column."""
    with Package(OLD_TEMPLATE) as pkg:
        config, inward = pkg.sheet("Config").part, pkg.sheet("Inward").part

    def change(e: dict) -> None:
        e["xl/worksheets/sheet30.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {EXCEL_ROOT}><sheetData>'
            '<row r="1"><c r="A1"><f>COUNTIF(Inward!AI:AI,"Reject")</f><v>0</v></c></row>'
            '<row r="2"><c r="A2"><f>SUMIFS(Inward!$G$2:$G$500,Inward!$AI$2:$AI$500,"Accept")</f><v>0</v></c></row>'
            '<row r="3"><c r="A3"><f>Inward!AI2</f><v>0</v></c></row>'
            '<row r="4"><c r="A4"><f>COUNTIF(Inward[Action],"Accept")</f><v>0</v></c></row>'
            "<row r=\"5\"><c r=\"A5\"><f>COUNTIF('Inward'!$AQ:$AQ,\"error\")&amp;\" AI5 errors\"</f><v>0</v></c></row>"
            '</sheetData><dataValidations count="1"><dataValidation type="list" allowBlank="1" sqref="B1"><formula1>'
            "Inward!$AI$2:$AI$9</formula1></dataValidation></dataValidations></worksheet>")
        _rel(e, "xl/workbook.xml", "rId98", "worksheet", "worksheets/sheet30.xml")
        e["[Content_Types].xml"] = _before(e["[Content_Types].xml"], "</Types>",
                                           f'<Override PartName="/xl/worksheets/sheet30.xml" ContentType="{CT_SHEET}"/>')
        e["xl/workbook.xml"] = _before(e["xl/workbook.xml"], "</sheets>", '<sheet name="Totals" sheetId="98" r:id="rId98"/>')
        e["xl/workbook.xml"] = _before(e["xl/workbook.xml"], "</definedNames>",
                                       '<definedName name="MyActions">Inward!$AI$2:$AI$1000</definedName>')
        e[config] = _after_cell(e[config], "A2", '<c r="H2"><f>COUNTIF(Inward!$AI:$AI,"Reject")</f><v>0</v></c>')
        e[config] = _before(e[config], "</dataValidations>", '<dataValidation type="list" allowBlank="1" sqref="H3">'
                            '<formula1>Inward!$AI$2:$AI$50</formula1></dataValidation>')
        e[inward] = _before(e[inward], "</sheetData>", '<row r="10"><c r="B10"><f>COUNTIF(AI:AI,"Accept")</f><v>0</v>'
                            "</c></row>")
        e[inward] = _before(e[inward], "<dataValidations", '<conditionalFormatting sqref="AI2:AI1048576"><cfRule '
                            'type="expression" dxfId="0" priority="91"><formula>COUNTIF($AQ:$AQ,"error")&gt;0</formula>'
                            "</cfRule></conditionalFormatting>")
    return _rewrite(OLD_TEMPLATE, book, change)


def _formula(xml: str, ref: str) -> str:
    m = re.search(rf'<c r="{ref}"[^>]*>(?:(?!</c>).)*?<f>([^<]*)</f>', xml, re.S)
    assert m, ref
    return m.group(1)


def test_formulas_outside_the_tables_follow_the_moved_columns(tmp_path, capsys):
    """Issue 14 ("No data loss") across issue 9's column move (Action AI -> AN, Status AQ -> AY): a formula of the
    user's outside the tables that points into a moved column (on any sheet, in a defined name, in a conditional
    format or validation; cells, ranges and whole columns, with or without the sheet's name) points at the
    column the same header has in the upgraded book. Before, it was carried as typed and silently read
    another column (AI is Portal Error now, AQ Declared IGST: the counts and sums were wrong without a word).
    A structured reference (Inward[Action]) needs nothing and stays; text in quotes is not a reference."""
    book = _formulas_into_the_old_action_column(tmp_path / "client.xlsm")
    assert main(["upgrade", str(book)]) == 0, capsys.readouterr()
    with Package(book) as pkg:
        assert pkg.table("Inward").columns[col_index("AN") - 1] == "Action"
        assert pkg.table("Inward").columns[col_index("AY") - 1] == "Status"
        totals = pkg.text(pkg.sheet("Totals").part)
        config = pkg.text(pkg.sheet("Config").part)
        inward = pkg.text(pkg.sheet("Inward").part)
        wb = pkg.text("xl/workbook.xml")
    assert _formula(totals, "A1") == 'COUNTIF(Inward!AN:AN,"Reject")'
    assert _formula(totals, "A2") == 'SUMIFS(Inward!$G$2:$G$500,Inward!$AN$2:$AN$500,"Accept")'
    assert _formula(totals, "A3") == "Inward!AN2"
    assert _formula(totals, "A4") == 'COUNTIF(Inward[Action],"Accept")'
    assert _formula(totals, "A5") == "COUNTIF('Inward'!$AY:$AY,\"error\")&amp;\" AI5 errors\""  # text stays
    assert '<dataValidation type="list" allowBlank="1" sqref="B1"><formula1>Inward!$AN$2:$AN$9</formula1>' in totals
    assert _formula(config, "H2") == 'COUNTIF(Inward!$AN:$AN,"Reject")'
    assert re.search(r'<dataValidation\b[^>]*sqref="H3"[^>]*><formula1>Inward!\$AN\$2:\$AN\$50</formula1>', config)
    assert _formula(inward, "B10") == 'COUNTIF(AN:AN,"Accept")'
    assert ("AN2:AN1048576", ['COUNTIF($AY:$AY,"error")&gt;0']) in _conditional_formats(book, "Inward")
    assert '<definedName name="MyActions">Inward!$AN$2:$AN$1000</definedName>' in wb
    assert left_behind(latest_backup(book), book) == []
    assert audit_errors(book) == {"office2016": [], "microsoft365": []}


def test_a_formula_into_a_column_the_template_no_longer_has_is_refused_by_name(tmp_path):
    """Issue 14 ("No data loss"): a formula pointing into a table column the current template no longer has
    cannot be carried as it is (it would read whatever column is at those letters now): it is named, with the
    column's header, and refused (``upgrade`` exits 2 unless forced, which leaves it out). The current template is
    made to lack 'Action' (its table column renamed) to stand for a release that drops a column."""
    from ims_excel.book.additions import Additions

    book = _formulas_into_the_old_action_column(tmp_path / "client.xlsm")
    template = Path(__file__).parents[2] / "workbook" / "IMS_Workbook.xlsm"
    with Package(template) as pkg:
        table = pkg.table("Inward").part

    def drop_action(e: dict) -> None:
        assert 'name="Action"' in e[table]
        e[table] = e[table].replace('name="Action"', 'name="Action (old)"', 1)
    current = _rewrite(template, tmp_path / "current.xlsm", drop_action)
    with Package(book) as before, Package(current) as after:
        adds = Additions(before, after)
        refused = adds.refused
        adds.write(tmp_path / "forced.xlsm")
    gone = "the current template's table Inward has no column 'Action'"
    for thing in ["formula in cell Totals!A1: its reference Inward!AI:AI",
                  "formula in cell Totals!A2: its reference Inward!$AI$2:$AI$500",
                  "formula in cell Totals!A3: its reference Inward!AI2",
                  "data validation on Totals!B1: its reference Inward!$AI$2:$AI$9",
                  "cell Config!H2 (a formula): its reference Inward!$AI:$AI",
                  "data validation on Config!H3: its reference Inward!$AI$2:$AI$50",
                  "cell Inward!B10 (a formula): its reference AI:AI",
                  "defined name MyActions (Inward!$AI$2:$AI$1000): its reference Inward!$AI$2:$AI$1000"]:
        assert any(r.startswith(thing) and r.endswith(gone) for r in refused), (thing, refused)
    assert not any("Totals!A4" in r or "Totals!A5" in r for r in refused), refused  # Inward[Action]; Status kept
    with Package(tmp_path / "forced.xlsm") as pkg:  # what --force writes: the sheet without the refused formulas
        totals = pkg.text(pkg.sheet("Totals").part)
    assert not re.search(r'<c r="A[123]"', totals) and "<dataValidation" not in totals, totals
    assert _formula(totals, "A4") == 'COUNTIF(Inward[Action],"Accept")'
    assert audit_errors(tmp_path / "forced.xlsm") == {"office2016": [], "microsoft365": []}


def test_references_outside_a_tables_rows_and_3d_references_are_not_moved():
    """A reviewer's repros: a cell below the table (a free cell that stays where it is) keeps its reference; a
    range that meets the table's rows moves with the column; a 3-D reference (``Config:Inward!AI5``) cannot be
    moved sheet by sheet: refused by name when its columns moved in a table, left alone otherwise
    (leftovers.moved_refs)."""
    from ims_excel.book.leftovers import Moves, moved_refs
    mv = Moves(cols={35: 40}, headers={35: "Action"}, tables=[("Inward", (1, 1, 20, 60))])  # AI -> AN, rows 1-20
    moves = {"Inward": mv}
    assert moved_refs("=Inward!AI5+Inward!AI25", "Totals", moves) == ("=Inward!AN5+Inward!AI25", [])
    assert moved_refs("=SUM(Inward!AI2:AI500)-SUM(Inward!AI30:AI40)", "Totals", moves) == \
        ("=SUM(Inward!AN2:AN500)-SUM(Inward!AI30:AI40)", [])
    assert moved_refs('=COUNTIF(AI:AI,"AI5")', "Inward", moves) == ('=COUNTIF(AN:AN,"AI5")', [])
    for three_d in ("=SUM(Config:Inward!AI5)", "=SUM('Sheet1:Inward'!AI5)"):
        text, why = moved_refs(three_d, "Totals", moves)
        assert text == three_d and len(why) == 1 and "3-D reference" in why[0], why
    assert moved_refs("=SUM(Config:Sheet3!B5)", "Totals", moves) == ("=SUM(Config:Sheet3!B5)", [])


def test_two_drop_downs_alike_on_different_cells_are_both_carried(sample_master, tmp_path, capsys):
    """A reviewer's finding: validations were keyed by their rule alone, so two drop-downs alike (the same list on
    H3:H9 and J3:J9 of Config, written as two elements) were one, and upgrade carried only one of them."""
    with Package(sample_master) as pkg:
        config = pkg.sheet("Config").part
        config = config if config.startswith("xl/") else "xl/" + config.lstrip("/")

    def change(e: dict) -> None:
        for ref in ("H3:H9", "J3:J9"):
            e[config] = _before(e[config], "</dataValidations>", f'<dataValidation type="list" allowBlank="1" '
                                f'sqref="{ref}"><formula1>"Yes,No"</formula1></dataValidation>')
    book = _rewrite(sample_master, tmp_path / "client.xlsm", change)
    assert main(["upgrade", str(book)]) == 0, capsys.readouterr()
    with Package(book) as pkg:
        xml = pkg.text(pkg.sheet("Config").part)
    carried = [m.group(1) for m in re.finditer(r'<dataValidation [^>]*sqref="([^"]*)"[^>]*><formula1>"Yes,No"', xml)]
    assert sorted(" ".join(carried).split()) == ["H3:H9", "J3:J9"], carried
