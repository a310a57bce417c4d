"""VBA: the modules in the workbook are vba_stub/, and the plain-VBA helpers do what they say."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pyopenvba.apps.excel import ExcelApplication

from ims_excel.records import INWARD_COLUMNS
from ims_excel.rules import rulebook
from ims_excel.template import vba
from ims_excel.template.build import SHEETS
from ims_excel.template.build import DEFAULT_OUT as COMMITTED


@pytest.mark.parametrize("which", ["built", "committed"])
def test_modules_in_file_equal_vba_stub(which, built):
    path = built if which == "built" else COMMITTED
    in_file = vba.file_modules(path)
    stub = {m.name: m for m in vba.read_stub()}
    documents = ["ThisWorkbook"] + [code for _, code in SHEETS]
    assert list(in_file) == documents + [m.name for m in vba.read_stub()]
    for name, module in stub.items():
        assert vba.body(in_file[name]) == vba.body(module.source), name
        assert f'Attribute VB_Name = "{name}"' in in_file[name]
    for name in documents:  # document modules hold no code
        assert vba.body(in_file[name]).strip() == "", name
    assert "Attribute VB_Base" in in_file["Dictionary"]  # a class, not a standard module


def test_stub_holds_the_installed_xlwings_files():
    for name, rel in vba.XLWINGS_FILES.items():
        assert (vba.STUB_DIR / name).read_bytes() == (vba.xlwings_dir() / rel).read_bytes(), name
    import xlwings

    assert f"'Version: {xlwings.__version__}" in (vba.STUB_DIR / "xlwings.bas").read_text()


def test_stub_modules_are_named_after_their_files():
    for path in sorted(vba.STUB_DIR.glob("*.bas")) + sorted(vba.STUB_DIR.glob("*.cls")):
        assert vba.module_name(path.read_text(encoding="cp1252"), "") == path.stem


def test_code_names_in_workbook_match_the_project(built):
    import zipfile

    with zipfile.ZipFile(built) as z:
        assert 'codeName="ThisWorkbook"' in z.read("xl/workbook.xml").decode()
        for i, (_, code) in enumerate(SHEETS, start=1):
            assert f'codeName="{code}"' in z.read(f"xl/worksheets/sheet{i}.xml").decode()


# ------------------------------------------------------------------ running the helpers

@pytest.fixture()
def app(sample_book):
    """The sample workbook in pyOpenVBA's in-memory Excel, with IMSButtons loaded.

    (Only our module: pyOpenVBA's interpreter cannot parse the xlwings module.)
    """
    excel = ExcelApplication.open(sample_book, with_vba=False)
    module = next(m for m in vba.read_stub() if m.name == "IMSButtons")
    excel.add_module(module.source, name="IMSButtons")
    excel.add_module(_HELPERS, name="TestHelpers")
    return excel


_HELPERS = '''
Sub FilterInward()
    With ThisWorkbook.Worksheets("Inward")
        .Unprotect
        .Range("A1:A21").AutoFilter Field:=1, Criteria1:="B2B"
        .Protect AllowFiltering:=True
    End With
End Sub

Function RowHidden(ByVal r As Long) As Boolean
    RowHidden = ThisWorkbook.Worksheets("Inward").Rows(r).Hidden
End Function
'''


def _col(name: str) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name([c.name for c in INWARD_COLUMNS].index(name))


def test_clear_actions_blanks_actions_and_declarations_only(app, sample_frames):
    inward, _ = sample_frames
    sheet = app.sheet("Inward")
    a = _col("Action")
    before = [r[0] for r in sheet.value(f"{a}2:{a}21")]
    assert before == [v or None for v in inward["Action"]] and any(before)
    sheet.set_value(f"{_col('ITC Reduction')}2", "Full")
    sheet.set_value(f"{_col('Declared IGST')}3", 100)
    sheet.set_value(f"{_col('Remarks')}4", "keep me")
    doc_numbers = sheet.value(f"{_col('Document Number')}2:{_col('Document Number')}21")
    app.run("ClearActions")
    assert all(r[0] is None for r in sheet.value(f"{a}2:{a}21"))
    for col in ("ITC Reduction", "Declared IGST", "Declared Cess"):
        assert all(r[0] is None for r in sheet.value(f"{_col(col)}2:{_col(col)}21"))
    assert sheet.value(f"{_col('Document Number')}2:{_col('Document Number')}21") == doc_numbers
    assert sheet.value(f"{_col('Remarks')}4") == "keep me"
    assert app.evaluate('ThisWorkbook.Worksheets("Inward").ProtectContents') is True


def test_reset_filters_shows_every_row(app, sample_frames):
    inward, _ = sample_frames
    app.run("FilterInward")
    hidden = [app.run("RowHidden", r) for r in range(2, 22)]
    assert hidden == list(inward["Section"] != "B2B") and any(hidden)
    app.run("ResetFilters")
    assert not any(app.run("RowHidden", r) for r in range(2, 22))
    assert app.evaluate('ThisWorkbook.Worksheets("Inward").FilterMode') is False
    assert app.evaluate('ThisWorkbook.Worksheets("Inward").ProtectContents') is True
    app.run("ResetFilters")  # nothing filtered: no error


def test_stamp_version_writes_rules_version_and_time(app):
    app.freeze_clock(dt.datetime(2025, 12, 5, 10, 30))
    app.run("StampVersion")
    stamp = app.evaluate('ThisWorkbook.Worksheets("Start").Range("LastStamp").Value')
    assert stamp == f"Rules {rulebook().version}, 05-12-2025 10:30"


def test_protect_sheet_matches_the_build(app):
    app.run("ClearActions")  # unprotects and protects again through ProtectSheet
    ws = 'ThisWorkbook.Worksheets("Inward").Protection'
    assert app.evaluate(f"{ws}.AllowFiltering") is True
    assert app.evaluate(f"{ws}.AllowSorting") is True
    assert app.evaluate(f"{ws}.AllowFormattingColumns") is True


def test_button_macros_are_public_subs_without_arguments():
    source = (vba.STUB_DIR / "IMSButtons.bas").read_text()
    subs = re.findall(r"^Public Sub (\w+)\(\)", source, re.MULTILINE)
    assert {"IMS_ImportData", "IMS_Validate", "IMS_Compute", "IMS_BuildLiability", "IMS_ExportJSON",
            "ClearActions", "ResetFilters", "StampVersion"} <= set(subs)


def test_package_is_a_valid_macro_workbook(built):
    import zipfile

    from pyopenvba import ExcelFile

    with ExcelFile(built) as book:
        assert book.validate() == []
        assert book.has_vba_project()
    with zipfile.ZipFile(built) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
    assert "vbaProject.bin" in rels
