"""The History sheet: what a period's records were when it was filed (written by ``roll``),
and the Original Action / Original 3B Filed of amendments filled from it.
"""

from __future__ import annotations

import datetime as dt
import io as _io
import posixpath
import re

import numpy as np
import pandas as pd
import python_calamine as pc

from ims_excel import periods
from ims_excel.book.edit import Edit, Styles, add_sheet, next_free
from ims_excel.book.read import Book, HISTORY
from ims_excel.engine import Result
from ims_excel.engine.identity import _text, identity
from ims_excel.records import INWARD_COLUMNS, categories
from ims_excel.xlsx import sheetxml, units as units_mod
from ims_excel.xlsx.package import CT_TABLE, Package, REL_TABLE, attr_escape, col_letters
from ims_excel.xlsx.tableread import MiniWorkbook


AMENDMENT_OF = {"B2BA": "B2B", "B2B-DNA": "B2B-DN", "B2B-CNA": "B2B-CN", "ECOA": "ECO", "IMPGA": "IMPG",
                "IMPGSEZA": "IMPGSEZ", "ISDA": "ISD"}


def read_history(pkg: Package) -> pd.DataFrame | None:
    t = pkg.table(HISTORY)
    if t is None:
        return None
    r1, c1, r2, c2 = t.bounds
    mini = MiniWorkbook(pkg)
    rows = []
    for kind, blob in units_mod.units(pkg.stream(t.sheet_part), unit=units_mod.PIECE_BYTES):
        if kind == "rows":
            rows.append(blob)
    wb = pc.CalamineWorkbook.from_filelike(_io.BytesIO(mini.workbook_bytes(b"".join(rows))))
    sh = wb.get_sheet_by_name("S")
    if sh.start is None:
        return pd.DataFrame(columns=t.columns)
    grid = sh.to_python()
    r0, k0 = sh.start
    body = []
    for k, row in enumerate(grid):
        r = r0 + 1 + k
        if r1 < r <= r2:
            vals = [(row[c - 1 - k0] if 0 <= c - 1 - k0 < len(row) else "") for c in range(c1, c2 + 1)]
            if any(v not in ("", None) for v in vals):
                body.append(vals)
    return pd.DataFrame(body, columns=t.columns, dtype=object)


def fill_originals(frame: pd.DataFrame, history: pd.DataFrame | None) -> int:
    """Fill Original Action / Original 3B Filed of amendments from the History table; returns how many.

    Works on a typed inward frame in place. Matches the original by supplier
    GSTIN, original section and original document number (the latest history
    entry wins).
    """
    if history is None or not len(history) or not len(frame):
        return 0
    h = history
    key = {}
    for sec, g, doc, state, filed in zip(h.get("Section", []), h.get("Party GSTIN", []),
                                         h.get("Document Number", []), h.get("Final State", []),
                                         h.get("3B Filed", [])):
        key[(str(sec), str(g).upper(), str(doc))] = (str(state), str(filed))
    sec = frame["section"].astype(object).tolist()
    need = [i for i, s in enumerate(sec) if s in AMENDMENT_OF
            and str(frame["original_action"].iloc[i]) == "" and frame["original_document_number"].iloc[i] != ""]
    if not need:
        return 0
    oa = frame["original_action"].astype(object).to_numpy().copy()
    of3 = frame["original_3b_filed"].to_numpy().copy()
    filled = 0
    states = {"Accepted": "Accepted", "Rejected": "Rejected", "Pending": "Pending", "No Action": "No Action",
              "Deemed Accepted": "No Action"}
    for i in need:
        k = (AMENDMENT_OF[sec[i]], str(frame["supplier_gstin"].iloc[i]).upper(),
             str(frame["original_document_number"].iloc[i]))
        if k in key:
            state, filed = key[k]
            if state in states:
                oa[i] = states[state]
                if of3[i] == -1:
                    of3[i] = 1 if filed == "Y" else 0
                filled += 1
    col = next(c for c in INWARD_COLUMNS if c.name == "Original Action")
    frame["original_action"] = pd.Categorical(oa, categories=categories(col))
    frame["original_3b_filed"] = of3
    return filled


def history_identity(frame: pd.DataFrame) -> pd.Series:
    """The identity merge matches records by (:func:`ims_excel.engine.identity.identity`: supplier, document
    family, original/amendment, number, financial year) of typed inward records, as the History sheet can tell
    it: an amendment's financial year from its own date (History keeps no Original Document Date), and an
    amendment also by its revised number and amounts, so that the supplier amending the same original again
    (a change to look at) is not taken for the filed amendment re-imported. No recipient part: the import
    checks the file's recipient is the book's (:func:`ims_excel.book.imports.check_recipient`)."""
    key = identity(frame.drop(columns=["original_document_date"], errors="ignore"))
    amended = frame["section"].astype(object).astype(str).str.upper().isin(list(AMENDMENT_OF)).to_numpy()
    if not amended.any():
        return key
    a = frame[amended]
    extra = _text(a, "document_number")
    for name in ("taxable_value", "igst", "cgst", "sgst", "cess"):
        v = pd.to_numeric(a[name], errors="coerce").fillna(0.0) if name in a else pd.Series(0.0, index=a.index)
        extra = extra + "|" + v.round(2).map("{:.2f}".format)
    key = key.astype(object).copy()
    key[amended] = key[amended] + "|" + extra
    return key


def filed_in_history(history: pd.DataFrame | None) -> dict[str, str]:
    """{:func:`history_identity`: Return Period} of the inward records the History sheet holds as moved
    there (Disposition "moved to history", not "carried to ..."): their return was filed and they are frozen
    (rulebook D25), so an import of the old period's file must not add them to the next period's book again
    (:func:`ims_excel.book.merge.plan`). The latest period wins."""
    if history is None or not len(history) or not {"Section", "Party GSTIN", "Document Number"} <= set(history):
        return {}
    text = lambda c: history[c].astype(object).where(history[c].notna(), "").astype(str).str.strip() \
        if c in history else pd.Series("", index=history.index, dtype=object)  # noqa: E731
    keep = (text("Direction").isin(["Inward", ""]) & (text("Disposition") == "moved to history")).to_numpy()
    h = history[keep]
    if not len(h):
        return {}
    dates = h["Document Date"] if "Document Date" in h else pd.Series("", index=h.index)
    parsed = pd.to_datetime(dates.where(dates.map(lambda v: isinstance(v, (dt.date, pd.Timestamp)))),
                            errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(dates.astype(object).where(dates.notna(), "").astype(str).str.strip(),
                                          format="%d-%m-%Y", errors="coerce"))
    frame = pd.DataFrame({
        "section": text("Section")[keep].str.upper(), "supplier_gstin": text("Party GSTIN")[keep],
        "document_number": h["Document Number"], "document_date": parsed,
        "original_document_number": h["Original Document Number"] if "Original Document Number" in h else "",
        **{c.lower().replace(" ", "_"): h[c] for c in ("Taxable Value", "IGST", "CGST", "SGST", "Cess") if c in h},
    }, index=h.index)
    period = text("Return Period")[keep]
    order = np.argsort(period.to_numpy(), kind="stable")  # the latest period last: it wins
    keys = history_identity(frame).to_numpy()[order]
    return dict(zip(keys, period.to_numpy()[order]))


HISTORY_COLUMNS = ["Return Period", "Direction", "Section", "Party GSTIN", "Party Name", "Document Number",
                   "Document Date", "Original Document Number", "2B Period", "Taxable Value", "IGST", "CGST",
                   "SGST", "Cess", "Action", "Final State", "3B Filed", "3B Table", "ITC IGST", "ITC CGST",
                   "ITC SGST", "ITC Cess", "Status", "Reason Code", "Remarks", "Disposition", "Recorded On"]


def history_rows(book: Book, result: Result, carried: np.ndarray, moved_out: np.ndarray | None,
                 carried_to: str) -> pd.DataFrame:
    """History entries for this period: every inward record (moved or carried) and the frozen outward ones."""
    inp, recs = result.inward, result.records
    period = periods.iso(book.context.return_period)
    n = len(inp)
    today = dt.date.today().strftime("%d-%m-%Y")
    state = recs["effective_action"].astype(object).to_numpy()
    p2b = recs["period_2b"].to_numpy()
    inward = pd.DataFrame({
        "Return Period": period, "Direction": "Inward",
        "Section": inp["section"].astype(object).to_numpy(), "Party GSTIN": inp["supplier_gstin"].to_numpy(),
        "Party Name": inp["supplier_name"].to_numpy(), "Document Number": inp["document_number"].to_numpy(),
        "Document Date": inp["document_date"].dt.strftime("%d-%m-%Y").fillna("").to_numpy(),
        "Original Document Number": inp["original_document_number"].to_numpy(),
        "2B Period": [periods.iso(int(p)) if p >= 0 else "" for p in p2b],
        "Taxable Value": inp["taxable_value"].to_numpy(),
        **{h: inp[h.lower()].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
        "Action": inp["action"].astype(object).to_numpy(), "Final State": state,
        "3B Filed": "Y" if book.context.gstr3b_filed else "N",
        "3B Table": recs["gstr3b_table"].astype(object).to_numpy(),
        **{f"ITC {h}": recs[f"itc_{h.lower()}"].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
        "Status": recs["status"].astype(object).to_numpy(), "Reason Code": recs["primary_code"].astype(object).to_numpy(),
        "Remarks": inp["remarks"].to_numpy(),
        "Disposition": np.where(carried, f"carried to {carried_to}", "moved to history"),
        "Recorded On": today,
    }, index=range(n))
    parts = [inward]
    if moved_out is not None and book.outward is not None and len(book.outward.frame):
        o = book.outward.frame
        out = pd.DataFrame({
            "Return Period": period, "Direction": "Outward", "Section": o["section"].astype(object).to_numpy(),
            "Party GSTIN": o["recipient_gstin"].to_numpy(), "Party Name": o["recipient_name"].to_numpy(),
            "Document Number": o["document_number"].to_numpy(),
            "Document Date": o["document_date"].dt.strftime("%d-%m-%Y").fillna("").to_numpy(),
            "Original Document Number": o["original_document_number"].to_numpy(),
            "2B Period": "", "Taxable Value": o["taxable_value"].to_numpy(),
            **{h: o[h.lower()].to_numpy() for h in ("IGST", "CGST", "SGST", "Cess")},
            "Action": "", "Final State": o["recipient_action"].astype(object).to_numpy(),
            "3B Filed": np.where(o["recipient_3b_filed"].to_numpy() == 1, "Y", "N"), "3B Table": "",
            **{f"ITC {h}": 0.0 for h in ("IGST", "CGST", "SGST", "Cess")}, "Status": "", "Reason Code": "",
            "Remarks": o["remarks"].to_numpy(),
            "Disposition": np.where(moved_out, "moved to history", f"carried to {carried_to}"),
            "Recorded On": today}, index=range(len(o)))
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def add_history_sheet(edit: Edit, frame: pd.DataFrame, styles: Styles) -> None:
    """Add (or replace) the History sheet with an Excel table over ``frame``."""
    pkg = edit.pkg
    ncol = len(HISTORY_COLUMNS)
    n = len(frame)
    last = max(n + 1, 2)
    rows = ['<row r="1">' + "".join(sheetxml.value_cell(f"{col_letters(j)}1", h, styles.header)
                                      for j, h in enumerate(HISTORY_COLUMNS, start=1)) + "</row>"]
    amounts = {"Taxable Value", "IGST", "CGST", "SGST", "Cess", "ITC IGST", "ITC CGST", "ITC SGST", "ITC Cess"}
    cols = [frame[c].tolist() if c in frame else [""] * n for c in HISTORY_COLUMNS]
    for k in range(n):
        r = k + 2
        cells = []
        for j, c in enumerate(HISTORY_COLUMNS, start=1):
            v = cols[j - 1][k]
            if c in amounts:
                try:
                    v = float(v) if v not in ("", None) else None
                except (TypeError, ValueError):
                    pass
            cells.append(sheetxml.value_cell(f"{col_letters(j)}{r}", v,
                                              styles.amount if c in amounts else styles.text))
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    ref = f"A1:{col_letters(ncol)}{last}"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
             f'2006/relationships"><sheetPr><tabColor rgb="FFA5A5A5"/></sheetPr><dimension ref="{ref}"/>'
             '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
             'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
             f'<col min="1" max="{ncol}" width="14" customWidth="1"/></cols><sheetData>' + "".join(rows) +
             '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
             '<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>').encode("utf-8")
    used = set(pkg.names()) | set(edit.add)
    table_part = next_free(used, "xl/tables/table{}.xml")
    ids = [int(x) for t in pkg.tables() for x in re.findall(r'<table\b[^>]*\bid="(\d+)"', pkg.text(t.part))]
    tid = max(ids, default=0) + 1
    tcols = "".join(f'<tableColumn id="{j}" name="{attr_escape(h)}"/>' for j, h in enumerate(HISTORY_COLUMNS, 1))
    edit.add[table_part] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" id="{tid}" name="{HISTORY}" displayName="{HISTORY}" ref="{ref}" '
        f'totalsRowShown="0"><autoFilter ref="{ref}"/><tableColumns count="{ncol}">{tcols}</tableColumns>'
        '<tableStyleInfo name="TableStyleLight9" showFirstColumn="0" showLastColumn="0" showRowStripes="1" '
        'showColumnStripes="0"/></table>').encode("utf-8")
    part = add_sheet(edit, HISTORY, sheet, after=None)
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    edit.add[rels] = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
                      'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                      f'Type="{REL_TABLE}" Target="../tables/{posixpath.basename(table_part)}"/></Relationships>'
                      ).encode("utf-8")
    ct = edit.text("[Content_Types].xml")
    edit.set("[Content_Types].xml", ct.replace("</Types>", f'<Override PartName="/{table_part}" '
                                                           f'ContentType="{CT_TABLE}"/></Types>'))
