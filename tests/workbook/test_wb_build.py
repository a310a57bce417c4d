"""The committed workbook is what the build makes, and the build makes what the issue asks for."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest
from wbtools import describe
from xlsxwriter.utility import xl_col_to_name

from ims_excel.records import INWARD_COLUMNS, INWARD_DETAILS, INWARD_RECONCILE, OUTWARD_COLUMNS
from ims_excel.rules import rulebook
from ims_excel.template import build, config, inward, outward, start, summaries, vba
from ims_excel.template.build import DEFAULT_OUT, INWARD, OUTWARD, SHEETS, build_workbook

COMMITTED = DEFAULT_OUT


@pytest.fixture(scope="module")
def committed():
    assert COMMITTED.is_file(), "run: python -m ims_excel.template.build"
    return describe(COMMITTED)


@pytest.fixture(scope="module")
def fresh(built):
    return describe(built)


def test_committed_workbook_has_the_built_contents(committed, fresh):
    assert committed["sheets"] == fresh["sheets"]
    assert committed["names"] == fresh["names"]
    for sheet in fresh["sheets"]:
        for key in ("cells", "validations", "tables", "conditional", "protected", "freeze"):
            assert committed[sheet][key] == fresh[sheet][key], f"{sheet}: {key} differ; rebuild"


def test_committed_workbook_has_the_stub_modules(built):
    assert vba.file_modules(COMMITTED) == vba.file_modules(built)


def test_committed_workbook_is_byte_identical_to_a_rebuild(built):
    if COMMITTED.read_bytes() != built.read_bytes():
        with zipfile.ZipFile(COMMITTED) as a, zipfile.ZipFile(built) as b:
            differ = sorted(n for n in set(a.namelist()) | set(b.namelist())
                            if n not in a.namelist() or n not in b.namelist() or a.read(n) != b.read(n))
        pytest.fail(f"workbook/IMS_Workbook.xlsm is stale (parts {differ}); "
                    "run: python -m ims_excel.template.build")


def test_two_builds_are_byte_identical(tmp_path, built):
    again = build_workbook(tmp_path / "again.xlsm")
    assert again.read_bytes() == built.read_bytes()


def test_document_dates_are_pinned(built):
    with zipfile.ZipFile(built) as z:
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "2024-10-01T00:00:00Z" in core


def test_sheets_in_order(fresh):
    assert fresh["sheets"] == [name for name, _ in SHEETS]
    assert fresh["sheets"][:3] == ["Start", "Config", "Inward"]


def test_inward_table_headers_and_formulas(fresh):
    ref, cols = fresh["Inward"]["tables"]["Inward"]
    names = [c for c, _ in cols]
    assert names == [c.name for c in INWARD_COLUMNS] + [c.header for c in inward.COMPUTED]
    # issue 9: identity, then the decision, then what the workbook says about it; the portal's details
    # between the amounts and the Action are one collapsed outline group, the helpers another
    assert names[:5] == ["Section", "Supplier GSTIN", "Supplier Name", "Document Number", "Document Date"]
    visible = [n for n in names if n not in INWARD_DETAILS]
    assert visible.index("Cess") + 1 == visible.index("Action") < visible.index("Remarks")
    # issue 11: reconcile's value columns right after the Action's inputs, before every formula column
    # (formula columns stay last in a row: process's writer relies on it)
    after = visible[visible.index("Remarks") + 1:]
    assert after[:6] == [*INWARD_RECONCILE, "Status", "Reason Code", "Message"]
    assert names.index(INWARD_RECONCILE[-1]) + 1 == names.index(inward.COMPUTED[0].header)
    hidden = fresh["Inward"]["hidden_columns"]
    assert {INWARD.column_index(h) for h in INWARD_DETAILS} <= hidden
    assert not {INWARD.column_index(h) for h in visible if h not in [c.header for c in inward.COMPUTED if c.helper]} & hidden
    formulas = dict(cols)
    for c in inward.COMPUTED:
        assert formulas[c.header] == c.formula.lstrip("="), c.header
    assert ref.startswith("A1:")
    assert fresh["Inward"]["freeze"] == "E2"  # the header row and Section ... Document Number


def test_outward_table_headers(fresh):
    _, cols = fresh["Outward"]["tables"]["Outward"]
    assert [c for c, _ in cols] == [c.name for c in OUTWARD_COLUMNS] + [c.header for c in outward.COMPUTED]


def test_rules_and_codes_tables(fresh):
    tables = fresh["Rules"]["tables"]
    book = rulebook()
    assert [c for c, _ in tables["Rules"][1]] == list(book.table().columns)
    assert [c for c, _ in tables["Codes"][1]] == [*book.codes_table().columns, "fill", "blank_x", "blank_y"]
    keys = {v[0] for k, v in fresh["Rules"]["cells"].items() if k.startswith("A")}
    assert set(book.table()["key"]) <= keys
    assert "D7@2025-10" in keys


def test_drop_downs_for_every_enum_and_flag(fresh):
    lists = {sq: f1 for sq, kind, f1, _ in fresh["Inward"]["validations"] if kind == "list"}
    from xlsxwriter.utility import xl_col_to_name

    for col in INWARD_COLUMNS:
        letter = xl_col_to_name(INWARD.column_index(col.name))
        if col.kind in ("enum", "flag"):
            sqref = f"{letter}2:{letter}1048576"
            assert sqref in lists, col.name
            values = col.values if col.kind == "enum" else ("Y", "N")
            assert lists[sqref] == '"' + ",".join(values) + '"'


def test_formats_locking_and_protection(fresh):
    cells = fresh["Inward"]["cells"]
    # issue 9: Excel sorts only unlocked cells of a protected sheet, so the data sheets are not protected
    assert not fresh["Inward"]["protected"] and not fresh["Outward"]["protected"]
    from xlsxwriter.utility import xl_col_to_name

    # the empty template row: computed cells are locked formulas (locked counts if a user protects the sheet)
    for c in inward.COMPUTED:
        value, _, locked = cells[f"{xl_col_to_name(INWARD.column_index(c.header))}2"]
        assert locked and str(value).startswith("="), c.header
    for sheet in ("Config", "Summary", "GSTR-2B", "GSTR-3B", "Liability", "Rules", "Start"):
        assert fresh[sheet]["protected"] and not fresh[sheet]["password"], sheet
    assert not fresh["xlwings.conf"]["protected"]


def test_reconcile_columns_look_computed_and_explain_themselves(built, fresh):
    """Issue 11: Match Status, Match Note, Suggested Action are written by ``reconcile``, not typed: the
    column style of the formula columns (grey, locked; a record's cells take it), no drop-down, and a
    header note saying so."""
    with zipfile.ZipFile(built) as z:
        sheet = z.read("xl/worksheets/sheet3.xml").decode()
    style = {}
    for lo, hi, s in re.findall(r'<col min="(\d+)" max="(\d+)"[^>]*?style="(\d+)"', sheet):
        for j in range(int(lo), int(hi) + 1):
            style[j] = s
    ws = openpyxl.load_workbook(built)["Inward"]
    lists = {sq for sq, *_ in fresh["Inward"]["validations"]}
    computed = style[INWARD.column_index("Status") + 1]
    for name in INWARD_RECONCILE:
        j = INWARD.column_index(name) + 1
        assert style[j] == computed, name
        letter = xl_col_to_name(j - 1)
        assert not any(sq.startswith(letter + "2:") for sq in lists), name
        assert "ims-excel reconcile" in ws.cell(1, j).comment.text, name
    assert style[INWARD.column_index("Action") + 1] != computed
    fmt = ws.parent._cell_styles[int(computed)]
    assert ws.parent._fills[fmt.fillId].fgColor.rgb == "FFEDEDED" and ws.parent._protections[fmt.protectionId].locked


def test_column_number_formats(sample_book):
    import openpyxl

    ws = openpyxl.load_workbook(sample_book)["Inward"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    assert row["Document Number"].number_format == "@" and not row["Document Number"].protection.locked
    assert row["Document Date"].number_format == "dd-mm-yyyy"
    assert row["Taxable Value"].number_format.startswith("[>=10000000]##\\,##")
    assert row["2B Period"].number_format == "@"
    assert row["Status"].protection.locked


def test_status_colours(fresh):
    assert len(fresh["Inward"]["conditional"]) >= 1
    with zipfile.ZipFile(COMMITTED) as z:
        sheet = z.read("xl/worksheets/sheet3.xml").decode()
    assert '="error"' in sheet.replace("&quot;", '"') and '="warning"' in sheet.replace("&quot;", '"')


def test_config_names_and_gstin_formula(fresh):
    names = fresh["names"]
    for name in config.NAMES | {"RulesVersion", "LastStamp", "RuleEras"}:
        assert name in names, name
    row = config.FIRST_ROW
    formula = fresh["Config"]["cells"][f"C{row}"][0]
    assert "SUMPRODUCT" in formula and "FIND(MID(RecipientGSTIN" in formula
    assert fresh["Config"]["cells"][f"C{row + 5}"][0] == "=IF(AsOfDateOverride=\"\",TODAY(),AsOfDateOverride)"


def test_start_sheet_version_and_buttons(built, fresh):
    version = rulebook().version
    assert any(v[0] == version for v in fresh["Start"]["cells"].values())
    with zipfile.ZipFile(built) as z:
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/vmlDrawing"))
    bound = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    assert bound == [b.macro for b in start.BUTTONS]
    source = (vba.STUB_DIR / "IMSButtons.bas").read_text()
    for b in start.BUTTONS:
        assert re.search(rf"^Public Sub {b.macro}\(\)", source, re.MULTILINE), b.macro
    for line in re.findall(r'RunPython "(.*)"', source):
        assert re.fullmatch(r"import ims_excel\.xl\.macros as m; m\.\w+\(\)", line)


def test_xlwings_conf_sheet(fresh):
    cells = fresh["xlwings.conf"]["cells"]
    keys = [cells[f"A{i + 1}"][0] for i in range(len(start.XLWINGS_CONF))]
    assert keys == [k for k, _ in start.XLWINGS_CONF]
    assert f"A{len(start.XLWINGS_CONF) + 1}" not in cells  # xlwings reads A1 down to the first gap
    assert cells["B6"][0] == "ims_excel.xl.udfs"


def test_summary_layout_labels(fresh):
    for (sheet_key, block_key, row, col), ref in summaries.cell_map().items():
        sheet = next(s for s in summaries.SHEETS if ref.startswith(f"'{s.name}'!") or ref.startswith(f"{s.name}!"))
        block = next(b for b in sheet.blocks if b.key == block_key)
        a1 = ref.split("!")[1]
        r = int(re.sub(r"\D", "", a1))
        label = fresh[sheet.name]["cells"][f"B{r}"][0]
        assert label == dict(block.rows)[row]
        if row in block.inputs:  # the user's own entry (GSTR-3B 4(A)(2), 4(B)(1), 4(D)(1)): blank
            assert a1 not in fresh[sheet.name]["cells"]
        else:
            assert str(fresh[sheet.name]["cells"][a1][0]).startswith("=")


def test_portal_labels_present(fresh):
    labels = {v[0] for v in fresh["Summary"]["cells"].values()}
    for numeral in ("I.", "II.", "III.", "IV.", "V.", "VI.", "VII.", "VIII."):
        assert any(str(v).startswith(numeral + " ") for v in labels), numeral
    assert {"No Action", "Accepted", "Rejected", "Pending"} <= labels
    assert {"IMPG - Import of goods from overseas", "IMPGSEZA (Amendments)"} <= labels
    t4 = {v[0] for v in fresh["GSTR-3B"]["cells"].values()}
    for row in ("4(A)(1)", "4(A)(3)", "4(A)(4)", "4(A)(5)", "4(B)(2)", "4(D)(2)"):
        assert any(str(v).startswith(row) for v in t4), row


def test_build_cli(tmp_path, capsys):
    out = tmp_path / "cli.xlsm"
    assert build.main(["--out", str(out), "--no-sync"]) == 0
    assert out.is_file() and str(out) in capsys.readouterr().out


def test_every_formula_is_libreoffice_safe():
    assert INWARD.problems() == []
    assert OUTWARD.problems() == []
    from ims_excel.template.formulas import check_formula

    for sheet in summaries.SHEETS:
        for a1, f in summaries.formulas_of(sheet).items():
            assert check_formula(f) == [], (sheet.name, a1, f)


def test_what_an_accountant_sees(built):
    """Issue 9: no "number stored as text" triangles on text codes, no "inconsistent calculated column"
    flags on the formula columns, nothing cut off (codes, headers of flags), Rules and Config printed
    landscape one page wide, Table 4 rows as the return has them with blank input cells for the
    taxpayer's own rows."""
    names = [n for n, _ in SHEETS]
    with zipfile.ZipFile(built) as z:
        sheet = {n: z.read(f"xl/worksheets/sheet{i + 1}.xml").decode() for i, n in enumerate(names)}
    ignored = dict((kind, sq) for sq, kind in re.findall(r'<ignoredError sqref="([^"]*)" (\w+)="1"/>',
                                                           sheet["Inward"]))
    for col in ("Place Of Supply", "Supplier GSTIN", "Document Number", "2B Period"):
        letter = xl_col_to_name(INWARD.column_index(col))
        assert f"{letter}2:{letter}1048576" in ignored["numberStoredAsText"].split(), col
    for c in inward.COMPUTED:
        letter = xl_col_to_name(INWARD.column_index(c.header))
        assert f"{letter}2:{letter}1048576" in ignored["calculatedColumn"].split(), c.header
    for name in ("Rules", "Config"):
        setup = re.search(r"<pageSetup\b[^>]*>", sheet[name]).group(0)
        assert 'orientation="landscape"' in setup and 'fitToHeight="0"' in setup, name  # one page wide
        assert '<pageSetUpPr fitToPage="1"/>' in sheet[name], name
    ws = openpyxl.load_workbook(built)["Inward"]
    width = {h: ws.column_dimensions[xl_col_to_name(INWARD.column_index(h))].width for h in INWARD.headers}
    longest_code = max(len(code) for code in rulebook().codes)
    assert width["Reason Code"] >= longest_code + 2 and width["Message"] >= 100
    assert width["Effective Action"] >= len("Deemed Accepted") + 1
    assert all(width[c.name] >= 10 for c in INWARD.inputs if c.kind == "flag")
    gstr3b = openpyxl.load_workbook(built)["GSTR-3B"]
    labels = [r[0] for r in gstr3b.iter_rows(min_col=2, max_col=2, values_only=True) if r[0]]
    rows = [x.split(" ")[0] for x in labels if x.startswith("4(")]
    assert rows == ["4(A)(1)", "4(A)(2)", "4(A)(3)", "4(A)(4)", "4(A)(5)", "4(B)(1)", "4(B)(2)", "4(C)",
                    "4(D)(1)", "4(D)(2)"]
    cells = summaries.cell_map()
    for row in summaries.TABLE4_OWN:
        a1 = cells[("gstr3b", "table4", row, "IGST")].rsplit("!", 1)[1]
        assert gstr3b[a1].value is None and gstr3b[a1].protection.locked is False, row
    assert gstr3b[cells[("gstr3b", "table4", "4C", "IGST")].rsplit("!", 1)[1]].value.count("C") >= 7


def test_conditional_formats_are_few_elements_over_whole_columns(built):
    """Issue 9: the Inward status colours are one element over every column of the table, the lakh/crore pair
    one element over every signed amount column (Outward's likewise), all to row 1,048,576 (rows appended
    later are coloured too); formulas relative to the first range's top-left cell, as Excel saves a format
    applied to several ranges."""
    names = [n for n, _ in SHEETS]
    with zipfile.ZipFile(built) as z:
        sheet = {n: z.read(f"xl/worksheets/sheet{i + 1}.xml").decode() for i, n in enumerate(names)}
    for spec in (INWARD, OUTWARD):
        found = re.findall(r'<conditionalFormatting sqref="([^"]*)">(.*?)</conditionalFormatting>', sheet[spec.sheet])
        amounts = [j for j, h in enumerate(spec.headers)
                   if any(c.header == h and c.kind == "amount" for c in spec.computed)]
        status = [(n, b) for n, b in found if "ABS(" not in b]
        grouping = [(n, b) for n, b in found if "ABS(" in b]
        assert len(grouping) == 1, (spec.name, grouping)
        sqref, body = grouping[0]
        assert _columns(sqref) == set(amounts), spec.name
        top = xl_col_to_name(min(amounts))
        assert f"<formula>ABS({top}2)&gt;=10000000</formula>" in body and f"<formula>ABS({top}2)&gt;=100000</formula>" in body
        if spec.status_column in spec.headers:
            assert len(status) == 1, (spec.name, status)
            sqref, body = status[0]
            letter = xl_col_to_name(spec.column_index(spec.status_column))
            assert f'<formula>${letter}2="error"</formula>' in body and f'<formula>${letter}2="warning"</formula>' in body
            assert _columns(sqref) == set(range(len(spec.headers))), sqref
        else:
            assert not status, spec.name


def _columns(sqref: str) -> set[int]:
    """0-based columns of a ``sqref`` whose ranges all run from row 2 to row 1,048,576."""
    from ims_excel.xlsx.package import col_index

    out = set()
    for rng in sqref.split():
        first, last = rng.split(":")
        assert first[-1] == "2" and not first[-2].isdigit() and last.endswith("1048576"), rng
        a, b = (col_index(x.rstrip("0123456789")) - 1 for x in (first, last))
        out |= set(range(a, b + 1))
    return out
