"""The IMS Excel download (portal / GSTN IMS Offline Tool) in.

Spec (shared/domain/formats-and-market.md 2.1; the offline utility v1.1 layout
is the verified one, the online download's is not):

Sheets
    ``B2B B2BA B2B-DN B2B-DNA B2B-CN B2B-CNA ECO ECOA`` (and ``IMPG IMPGA
    IMPGSEZ IMPGSEZA`` if present), matched without case, spaces or ``-``;
    other sheets (``Home``...) are ignored. The section is the sheet's.

Header, found by its labels, never by position
    Each of the first 40 rows is scored by how many cells are known labels;
    the best row and its neighbour form a two-level header when the
    neighbour also holds labels (the group row, e.g. "Invoice details" /
    "Tax Amount" over "Invoice number" / "Integrated Tax"). A column's label
    is its sub-label, else the group cell above it. Labels are compared
    without case, spaces, punctuation, ``*`` and ``(₹)``/``(Rs.)``.
    Under a group naming "original" the document and amount labels mean the
    *Original* columns; under a group naming "declared"/"reduction" the tax
    heads mean *Declared IGST..Cess*; a label starting "Original" does too.
    Columns we do not know are kept (in ``extra``); a repeated label is kept
    as "<label> (2)". Data runs from the row after the header to the last
    non-blank row; blank rows are skipped. Every row keeps ``_sheet`` and its
    Excel ``_row``, so problems name the sheet and row.

Labels (see :data:`LABELS`) and values
    Status -> Action, Previous Status -> Previous Action (words or codes);
    Invoice type words ("Regular", "SEZ supplies with payment", "Deemed Exp")
    -> codes; "27-Maharashtra" -> 27; Source "GSTR-1/IFF" -> GSTR-1;
    Source Return Period -> *Supplier Return Period*; "Whether ITC to be
    reduced" Yes -> Full, or Partial when any declared amount is filled.

Defaults that are not answers
    *Previous Action*: a sheet with no Previous Status column (the online
    download) takes its Status as the Previous Action, the status saved on
    the portal, as :mod:`.ims_json` does: importing and exporting with no
    change uploads nothing. (A blank cell of a Previous Status column stays
    blank: on the utility's sheets the Status may be the user's edit.)
    *ITC Reduction*: the utility fills "Whether ITC to be reduced" with "No"
    by default (formats-and-market.md 2.1, B2B-CN: '14 "whether ITC to be
    reduced" (default "No")'); the answer means something only with Status
    Accept (2.3: "ITC-reduction declaration (Accept only)"), so a "No" on a
    row whose Status is not Accept is read as blank. Yes (and any other
    value) is kept, so a declaration on a Reject is still reported.

``raw.attrs``: ``gstin`` / ``gstin_from``, the recipient GSTIN in the
utility's ``Home`` sheet, cell C5 (formats-and-market.md 2.1, "Home (GSTIN in
C5)"), when that cell holds a GSTIN; '' otherwise (the online download).
``edited_sheets``: the sheets with a Previous Status column, the utility's,
where the Status, "Whether ITC to be reduced", the declared amounts and the
Remarks may be the user's edits rather than what the portal holds; so the
import records their *Portal Declaration* as unknown
(:data:`ims_excel.engine.validation.DECLARATION_UNKNOWN`, ``book.merge``), and
applies a Status that differs from the Previous Status, a remark typed there,
and the ITC answer with its declared amounts (one declaration; its default
"No" only with a changed Status), to a record already in the workbook as
decisions made in the tool, unless the workbook holds another value of its own
(then kept, and reported as a conflict: ``book.merge.tool_decisions``).

Cells are read with python-calamine: text stays text (``000123`` stays
``000123``); a number cell holding an invoice number too long for Excel is
refused by :func:`ims_excel.normalise.normalise`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod
from ims_excel.formats._common import SUPPLIER_RETURN_PERIOD, file_problem, label_key, to_typed
from ims_excel.formats._excel import best_row, open_workbook, sheet_rows, table
from ims_excel.formats._values import source_forms, state_codes, supply_types
from ims_excel.normalise import InputError, InputProblem, parse_enum
from ims_excel.records import INWARD_COLUMNS, SECTIONS, header_key

DOC, DATE = "Document Number", "Document Date"
_HEAD_NAMES = ("IGST", "CGST", "SGST", "Cess")
_ORIGINAL_OF = {DOC: "Original Document Number", DATE: "Original Document Date",
                "Taxable Value": "Original Taxable Value", "IGST": "Original IGST",
                "CGST": "Original CGST", "SGST": "Original SGST", "Cess": "Original Cess"}

LABELS: dict[str, str] = {
    **dict.fromkeys(["gstinofsupplier", "suppliergstin", "gstinofthesupplier", "gstin",
                     "gstinofsuppliereco", "gstinofsezsupplier", "supplierecogstin"], "Supplier GSTIN"),
    **dict.fromkeys(["tradelegalname", "tradename", "legalname", "suppliername", "tradelegalnameofsupplier",
                     "tradelegalnameofthesupplier"], "Supplier Name"),
    **dict.fromkeys(["invoicenumber", "invoiceno", "notenumber", "noteno", "documentnumber",
                     "documentno", "creditnotenumber", "debitnotenumber", "billofentrynumber",
                     "boenumber", "boeno"], DOC),
    **dict.fromkeys(["invoicedate", "notedate", "documentdate", "creditnotedate", "debitnotedate",
                     "billofentrydate", "boedate"], DATE),
    **dict.fromkeys(["invoicetype", "notetype", "notesupplytype", "supplytype"],
                    "Supply Type"),
    **dict.fromkeys(["invoicevalue", "notevalue", "documentvalue", "value"], "Document Value"),
    **dict.fromkeys(["status", "action", "imsaction", "imsstatus", "useraction", "currentstatus"],
                    "Action"),
    **dict.fromkeys(["previousstatus", "previousaction", "prevstatus"], "Previous Action"),
    **dict.fromkeys(["placeofsupply", "pos"], "Place Of Supply"),
    "taxablevalue": "Taxable Value",
    **dict.fromkeys(["integratedtax", "igst"], "IGST"),
    **dict.fromkeys(["centraltax", "cgst"], "CGST"),
    **dict.fromkeys(["stateuttax", "statetax", "sgst", "sgstutgst", "utgst"], "SGST"),
    "cess": "Cess",
    **dict.fromkeys(["remarks", "remark"], "Remarks"),
    **dict.fromkeys(["source", "sourceform", "sourcereturn"], "Source Form"),
    **dict.fromkeys(["sourcereturnperiod", "returnperiod", "supplierreturnperiod"], SUPPLIER_RETURN_PERIOD),
    **dict.fromkeys(["sourcefilingstatus", "filingstatus", "supplierfilingstatus"],
                    "Supplier Filing Status"),
    **dict.fromkeys(["ispendingblocked", "ispendactblocked", "ispendingactionblocked", "pendingblocked"],
                    "Pending Blocked"),
    **dict.fromkeys(["isremarkblocked", "isremarksblocked", "remarksblocked"], "Remarks Blocked"),
    **dict.fromkeys(["isitcblocked", "isitcredreqblocked", "itcredreqblocked", "isitcreductionblocked"],
                    "Declaration Blocked"),
    **dict.fromkeys(["whetheritctobereduced", "whetheritcneedstobereduced", "itcreduction",
                     "whetheritctobereducedtaxpayersinput", "itctobereduced"], "ITC Reduction"),
    **dict.fromkeys(["declaredigst", "declaredintegratedtax"], "Declared IGST"),
    **dict.fromkeys(["declaredcgst", "declaredcentraltax"], "Declared CGST"),
    **dict.fromkeys(["declaredsgst", "declaredstateuttax"], "Declared SGST"),
    **dict.fromkeys(["declaredcess"], "Declared Cess"),
    **dict.fromkeys(["supplyattractreversecharge", "reversecharge"], "Reverse Charge"),
    "itcavailability": "ITC Available",
}
"""Label key (see :func:`label_key`) -> canonical column (or kept-extra header)."""

GROUPS = ("invoicedetails", "notedetails", "documentdetails", "creditnotedebitnotedetails",
          "taxamount", "amountoftax", "originaldetails", "reviseddetails", "billofentrydetails",
          "amountdeclaredbytaxpayerforitcreduction")


def read(path: str | Path, wb=None) -> pd.DataFrame:
    """Read every section sheet into one raw canonical frame (see the module doc)."""
    path = Path(path)
    wb = wb or open_workbook(path)
    frames, problems = [], []
    found = section_sheets(wb.sheet_names)
    if not found:
        raise file_problem(path, "has no IMS section sheet (B2B, B2BA, B2B-DN, ...); "
                                 f"sheets: {', '.join(wb.sheet_names)}")
    edited = []
    for name, section in found:
        try:
            frames.append(read_sheet(sheet_rows(wb, name), section, name, str(path)))
        except InputError as err:
            problems += err.problems
            continue
        if frames[-1].attrs.get("edited"):
            edited.append(name)
    if problems:
        raise InputError(problems)
    raw = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else frames[0]
    gstin, where = home_gstin(wb)
    raw.attrs.update({"format": "portal_excel", "file": str(path), "gstin": gstin, "gstin_from": where,
                      "edited_sheets": tuple(edited)})
    return raw


HOME_GSTIN = ("Home", 4, 2)
"""(sheet, row index, column index) of the recipient GSTIN: the utility's ``Home!C5`` (formats doc 2.1)."""


def home_gstin(wb) -> tuple[str, str]:
    """(recipient GSTIN, where it was read) from the utility's ``Home!C5``; ('', '') when there is no
    Home sheet or that cell holds no GSTIN (the online download has none)."""
    name, r, c = HOME_GSTIN
    sheet = next((n for n in wb.sheet_names if header_key(n) == header_key(name)), None)
    if sheet is None:
        return "", ""
    rows = sheet_rows(wb, sheet)
    cell = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
    text = cell.strip().upper() if isinstance(cell, str) else ""
    if not text or not gstin_mod.format_ok(pd.Series([text])).iloc[0]:
        return "", ""
    return text, f"sheet {sheet!r}, cell C5"


def load(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    return to_typed(read(path), direction=direction)


def section_sheets(names: list[str]) -> list[tuple[str, str]]:
    """(sheet name, section) for the sheets named after an IMS section."""
    by_key = {header_key(s): s for s in SECTIONS if s not in ("ISD", "ISDA")}
    return [(n, by_key[header_key(n)]) for n in names if header_key(n) in by_key]


def _score(keys: list[str]) -> int:
    return sum(1 for k in keys if k in LABELS or k.startswith("original") and k[8:] in LABELS)


def header_rows(rows: list[list]) -> tuple[int, int] | None:
    """(group row, label row) indexes; equal for a one-row header; None if no header."""
    r, score = best_row(rows, _score)
    if r < 0 or score < 3:
        return None
    if r + 1 < len(rows) and _score([label_key(c) if isinstance(c, str) else "" for c in rows[r + 1]]) >= 2:
        return r, r + 1
    above = rows[r - 1] if r > 0 else []
    if any(label_key(c) in GROUPS or label_key(c) in LABELS for c in above if isinstance(c, str)):
        return r - 1, r
    return r, r


def labels(rows: list[list], top: int, sub: int) -> list[tuple[str, str]]:
    """(group key, label key) per column; the group is '' outside a group."""
    width = max(len(rows[top]), len(rows[sub]))
    out, group = [], ""
    for c in range(width):
        t = rows[top][c] if c < len(rows[top]) else ""
        s = rows[sub][c] if c < len(rows[sub]) and sub != top else ""
        t = str(t).strip() if t is not None else ""
        s = str(s).strip() if s is not None else ""
        if top == sub:
            out.append(("", t))
            continue
        if t:
            group = t if s else ""
        out.append((group, s) if s else ("", t))
    return out


def column_name(group: str, label: str) -> str | None:
    """The canonical column of a (group, label) pair, or None."""
    g, key = label_key(group), label_key(label)
    original = "original" in g or key.startswith("original")
    if key.startswith("original"):
        key = key[8:]
    if key.startswith("revised"):
        key = key[7:]
    col = LABELS.get(key)
    if col is None:
        return None
    if original:
        return _ORIGINAL_OF.get(col)
    if col in _HEAD_NAMES and ("declare" in g or "reduc" in g):
        return f"Declared {col}"
    return col


def read_sheet(rows: list[list], section: str, sheet: str, file: str) -> pd.DataFrame:
    """One section sheet (cells from A1) into raw canonical rows."""
    found = header_rows(rows)
    if found is None:
        raise InputError([InputProblem(file, None, None, "no recognisable header row (looked for "
                                       "labels such as 'GSTIN of supplier', 'Invoice number', "
                                       "'Taxable Value' in the first 40 rows)", sheet)])
    top, sub = found
    cols = labels(rows, top, sub)
    names, used = [], {}
    for c, (group, label) in enumerate(cols):
        name = column_name(group, label) or (f"{group} / {label}" if group else label) or f"Column {c + 1}"
        if header_key(name) in used:
            used[header_key(name)] += 1
            name = f"{name} ({used[header_key(name)]})"
        used.setdefault(header_key(name), 1)
        names.append(name)
    if DOC not in names:
        raise InputError([InputProblem(file, sub + 1, None, "header has no document number column "
                                       "('Invoice number' / 'Note number')", sheet)])
    data = table(rows, sub + 1, names, file=file, sheet=sheet)
    data.insert(0, "Section", section)
    data["_sheet"] = sheet
    _convert(data)
    data.attrs["edited"] = "Previous Action" in names  # the utility's sheet: see the module doc
    return data


_ACTION_COLUMN = next(c for c in INWARD_COLUMNS if c.name == "Action")


def _convert(data: pd.DataFrame) -> None:
    """Portal words to canonical values, and the defaults that are not answers (see the module doc)."""
    if "Action" in data and "Previous Action" not in data:
        data["Previous Action"] = data["Action"].values  # the portal's saved status, as ims_json
    if "Supply Type" in data:
        data["Supply Type"] = supply_types(data["Supply Type"]).values
    if "Source Form" in data:
        data["Source Form"] = source_forms(data["Source Form"]).values
    if "Place Of Supply" in data:
        data["Place Of Supply"] = state_codes(data["Place Of Supply"]).values
    if "ITC Reduction" in data:
        flag = data["ITC Reduction"].astype(object).map(lambda v: label_key(v))
        declared = pd.Series(False, index=data.index)
        for head in _HEAD_NAMES:
            col = f"Declared {head}"
            if col in data:
                declared |= data[col].astype(object).map(lambda v: str(v).strip() != "" and v is not None)
        yes = flag.isin(["y", "yes", "true"])
        data.loc[yes, "ITC Reduction"] = "Full"
        data.loc[yes & declared, "ITC Reduction"] = "Partial"
        # formats doc 2.1, B2B-CN: 14 "whether ITC to be reduced" (default "No"): without Accept a "No" is
        # the utility's default, not an answer (the answer is taken on Accept only: 2.3, rulebook G9)
        accept = ((parse_enum(data["Action"], _ACTION_COLUMN)[0] == "Accept").to_numpy() if "Action" in data
                  else np.zeros(len(data), dtype=bool))
        data.loc[flag.isin(["n", "no"]).to_numpy() & ~accept, "ITC Reduction"] = ""
