"""Helpers for the format tests: fixture paths, and workbooks built with openpyxl."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.table import Table

from ims_excel.formats._jsonio import JsonNumber

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formats"
RTIN = "29AAACS2222T1ZX"
SUPPLIERS = ["27AAACR5055K1Z7", "27AAACS1111S1Z9", "07AAACE4444E1Z0", "29AAACM7777M1ZN",
             "07AAACA1234B1ZK", "24AAACA1111A1ZY"]
TRICKY = ["000123", "1234567890123456", "INV/24-25/0891", '=HYPERLINK("x")']


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def original_records(path: Path) -> dict[str, dict]:
    """Records of an IMS download by JSON path (imsDetails.b2b[0] ...), numbers keeping their spelling."""
    obj = json.loads(path.read_text(encoding="utf-8"), parse_float=JsonNumber)
    out = {}
    for key, recs in obj["imsDetails"].items():
        for i, rec in enumerate(recs):
            out[f"imsDetails.{key}[{i}]"] = rec
    return out


def ok_statuses(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"status": "ok", "primary_code": ""}, index=frame.index)


def _text(ws, ref: str, value: str) -> None:
    """A text cell even when it starts with '=' (openpyxl would make it a formula)."""
    ws[ref] = value
    ws[ref].data_type = "s"


def _two_level(ws, top: int, columns: list[tuple[str | None, str]]) -> None:
    """Write a two-level header at rows ``top`` and ``top + 1``: (group or None, label)."""
    col = 1
    i = 0
    while i < len(columns):
        group, label = columns[i]
        letter = openpyxl.utils.get_column_letter(col)
        if group is None:
            ws.cell(top, col, label)
            ws.merge_cells(f"{letter}{top}:{letter}{top + 1}")
            i += 1
            col += 1
            continue
        span = 0
        while i + span < len(columns) and columns[i + span][0] == group:
            ws.cell(top + 1, col + span, columns[i + span][1])
            span += 1
        ws.cell(top, col, group)
        if span > 1:
            ws.merge_cells(f"{letter}{top}:{openpyxl.utils.get_column_letter(col + span - 1)}{top}")
        i += span
        col += span


B2B_COLUMNS = [
    (None, "GSTIN of supplier"), (None, "Trade/Legal name"),
    ("Invoice details", "Invoice number"), ("Invoice details", "Invoice type"),
    ("Invoice details", "Invoice Date"), ("Invoice details", "Invoice Value (₹)"),
    (None, "Status"), (None, "Place of supply"), (None, "Taxable Value (₹)"),
    ("Tax Amount", "Integrated Tax (₹)"), ("Tax Amount", "Central Tax (₹)"),
    ("Tax Amount", "State/UT Tax (₹)"), ("Tax Amount", "Cess (₹)"),
    (None, "Remarks"), (None, "Source"), (None, "Source Return Period"), (None, "Source Filing Status"),
    (None, "Sheet validation errors"), (None, "GST portal validation errors"),
    (None, "Previous Status"), (None, "Remarks"), (None, "IsPendingBlocked"), (None, "IsRemarkBlocked"),
]

CN_COLUMNS = B2B_COLUMNS[:13] + [
    (None, "Whether ITC to be reduced"),
    ("Amount declared by taxpayer for ITC reduction", "Integrated Tax (Rs.)"),
    ("Amount declared by taxpayer for ITC reduction", "Central Tax (Rs.)"),
    ("Amount declared by taxpayer for ITC reduction", "State/UT Tax (Rs.)"),
    ("Amount declared by taxpayer for ITC reduction", "Cess (Rs.)"),
    (None, "Remarks"), (None, "Source"), (None, "Source Return Period"), (None, "Source Filing Status"),
    (None, "Previous Status"), (None, "IsPendingBlocked"), (None, "IsRemarkBlocked"), (None, "IsITCBlocked"),
]

B2BA_COLUMNS = [
    ("Original details", "Invoice number"), ("Original details", "Invoice Date"),
    (None, "GSTIN of supplier"), (None, "Trade/Legal name"),
    ("Revised details", "Invoice number"), ("Revised details", "Invoice type"),
    ("Revised details", "Invoice Date"), ("Revised details", "Invoice Value(₹)"),
    (None, "Status"), (None, "Place of supply"), (None, "Taxable Value(₹)"),
    ("Tax Amount", "Integrated Tax(₹)"), ("Tax Amount", "Central Tax(₹)"),
    ("Tax Amount", "State/UT Tax(₹)"), ("Tax Amount", "Cess(₹)"),
    (None, "Previous Status"),
]


def build_portal_workbook(path: Path, bad_date: bool = False) -> Path:
    """An IMS offline-tool style workbook: Home, B2B (rows 5-6), B2B-CN, B2BA (header one row lower)."""
    wb = openpyxl.Workbook()
    home = wb.active
    home.title = "Home"
    home["B5"], home["C5"] = "GSTIN", RTIN

    ws = wb.create_sheet("B2B")
    ws["A1"] = "Invoice Management System (IMS) - B2B Invoices"
    _two_level(ws, 5, B2B_COLUMNS)
    rows = [
        [SUPPLIERS[0], "Reliance Test Supplies", None, "Regular", "05-10-2025", 11800, "Accepted",
         "29-Karnataka", 10000, 1800, 0, 0, 0, "", "GSTR-1/IFF", "102025", "Filed", "", "", "No Action",
         "", "N", "N"],
        [SUPPLIERS[1], "Sunrise Traders", None, "SEZ supplies with payment", "2025/13/45" if bad_date
         else "07-10-2025", "5,900.50", "Pending", "29-Karnataka", 5000.5, 900, 0, 0, 0, "check rate",
         "GSTR-1A", "102025", "Not Filed", "", "", "Pending", "", "N", "N"],
        [SUPPLIERS[2], "Eastern Electricals", None, "Deemed Exp", dt.date(2025, 10, 12), 2360, "No Action",
         "29-Karnataka", 2000, 360, 0, 0, 0, "", "GSTR-1/IFF", "092025", "Filed", "", "", "No Action", "",
         "Y", "N"],
        None,  # a blank row between records
        [SUPPLIERS[3], "Mysore Metals", None, "Regular", dt.datetime(2025, 10, 10), 1000.1, "Rejected",
         "29", 847.54, 152.56, 0, 0, 0, "not ours", "GSTR-1/IFF", "102025", "Filed", "", "", "Accepted", "",
         "N", "Y"],
    ]
    docs = ["000123", "1234567890123456", '=HYPERLINK("x")', None, "INV/24-25/0891"]
    for r, (row, doc) in enumerate(zip(rows, docs), start=7):
        if row is None:
            continue
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                ws.cell(r, c, value)
        _text(ws, f"C{r}", doc)

    cn = wb.create_sheet("B2B-CN")
    _two_level(cn, 5, CN_COLUMNS)
    cn_rows = [
        [SUPPLIERS[5], "Ahmedabad Agencies", "CN-9", "Regular", "26-10-2025", 590, "Accepted", "29", 500,
         90, 0, 0, 0, "Yes", 45, 0, 0, 0, "half reversed", "GSTR-1/IFF", "102025", "Filed", "No Action",
         "Y", "N", "N"],
        [SUPPLIERS[1], "Sunrise Traders", "CN/0042", "Regular", "25-10-2025", 1180, "Accepted", "29", 1000,
         180, 0, 0, 0, "Yes", None, None, None, None, "", "GSTR-1/IFF", "102025", "Filed", "No Action",
         "Y", "N", "N"],
    ]
    for r, row in enumerate(cn_rows, start=7):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                cn.cell(r, c, value)

    amd = wb.create_sheet("B2BA")
    amd["A2"] = "B2BA - Amended invoices"
    _two_level(amd, 6, B2BA_COLUMNS)  # one row lower than the other sheets
    amd_row = ["AMD/001", "15-09-2025", SUPPLIERS[0], "Reliance Test Supplies", "AMD/001-R", "Regular",
               "15-09-2025", 11210, "No Action", "29", 9500, 1710, 0, 0, 0, "No Action"]
    for c, value in enumerate(amd_row, start=1):
        amd.cell(8, c, value)
    wb.save(path)
    return path


def build_canonical_workbook(path: Path, table: bool = True) -> Path:
    """A canonical workbook: title rows, then an 'Inward' sheet/table with canonical headers."""
    wb = openpyxl.Workbook()
    readme = wb.active
    readme.title = "Read me"
    readme["A1"] = "IMS workbook"
    ws = wb.create_sheet("Inward")
    headers = ["Section", "Supplier GSTIN", "Document Number", "Document Date", "Taxable Value", "IGST",
               "Action", "Previous Action", "Remarks"]
    top = 1 if table else 3
    if not table:
        ws["A1"] = "Inward supplies"
    for c, h in enumerate(headers, start=1):
        ws.cell(top, c, h)
    data = [["B2B", SUPPLIERS[0], "000123", dt.date(2025, 10, 5), 10000, 1800, "Accept", "No Action", ""],
            ["B2B", SUPPLIERS[1], "1234567890123456", "07-10-2025", "5,000.50", 900, "Reject", "No Action", "x"],
            ["B2B-CN", SUPPLIERS[5], '=HYPERLINK("x")', "2025-10-26", 500, 90, "", "", ""]]
    for r, row in enumerate(data, start=top + 1):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
        ws.cell(r, 3).data_type = "s"
    if table:
        ws.add_table(Table(displayName="Inward", ref=f"A{top}:I{top + len(data)}"))
    wb.save(path)
    return path


def build_pr_workbook(path: Path) -> Path:
    """GSTN purchase-register template v2.4 shape: header block, column labels on row 4."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Purchase Register"
    ws["A1"], ws["B1"] = "GSTIN of recipient*", RTIN
    ws["A2"], ws["B2"] = "Financial year*", "2025-26"
    ws["C2"], ws["D2"] = "Tax period*", "October"
    headers = ["GSTIN of Supplier/ECO*", "Trade/Legal name", "Type of inward supplies*", "Document type*",
               "Document number*", "Document date*", "Taxable value (₹)*", "Integrated tax (₹)",
               "Central tax (₹)", "State/UT tax (₹)", "Cess (₹)"]
    for c, h in enumerate(headers, start=1):
        ws.cell(4, c, h)
    rows = [[SUPPLIERS[0], "Reliance", "B2B", "Invoice", "000123", "05-10-2025", 10000, 1800, 0, 0, 0],
            [SUPPLIERS[3], "Mysore", "DE", "Debit Note", "DN-77", "20-Oct-2025", 1000, 0, 90, 90, 0],
            [SUPPLIERS[5], "Ahmedabad", "SEZWOP", "Credit Note", "CN-9", dt.date(2025, 10, 26), 500, 90, 0, 0, 0]]
    for r, row in enumerate(rows, start=5):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    wb.save(path)
    return path
