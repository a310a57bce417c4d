"""Purchase register in: GSTN's GSTR-2B matching-tool template v2.4.

Spec (shared/domain/formats-and-market.md section 7):

Header block (optional)
    label cells ``GSTIN of recipient*``, ``Trade/Legal name``, ``Financial
    year*``, ``Tax period*`` with the value in the next non-blank cell to the
    right; kept in ``raw.attrs`` (``gstin``, ``financial_year``, ``tax_period``).

Columns (found by label, anywhere in the first 40 rows; ``*`` and ``(₹)`` ignored)
    ``GSTIN of Supplier/ECO`` Supplier GSTIN · ``Trade/Legal name`` Supplier Name ·
    ``Type of inward supplies`` (B2B/DE/SEZWP/SEZWOP) Supply Type (B2B -> R) ·
    ``Document type`` Invoice / Debit Note / Credit Note -> Section B2B /
    B2B-DN / B2B-CN · ``Document number`` · ``Document date`` (also
    ``14-Jul-2017``) · ``Taxable value`` · ``Integrated tax`` IGST ·
    ``Central tax`` CGST · ``State/UT tax`` SGST · ``Cess``.
    Other columns are kept (``extra``). One row per document; no action columns.

>>> is_purchase_register(["GSTIN of Supplier/ECO*", "Document type*", "Document number*"])
True
"""

from __future__ import annotations

import pandas as pd

from ims_excel.formats._common import label_key
from ims_excel.formats._excel import best_row, table
from ims_excel.formats._values import map_unique, month_name_dates, supply_types
from ims_excel.normalise import InputError, InputProblem

LABELS = {
    "gstinofsuppliereco": "Supplier GSTIN", "gstinofsupplier": "Supplier GSTIN",
    "tradelegalname": "Supplier Name",
    "typeofinwardsupplies": "Supply Type", "typeofinwardsupply": "Supply Type",
    "documenttype": "Section",
    "documentnumber": "Document Number", "documentdate": "Document Date",
    "taxablevalue": "Taxable Value", "integratedtax": "IGST", "centraltax": "CGST",
    "stateuttax": "SGST", "cess": "Cess",
}
DOC_TYPES = {"invoice": "B2B", "inv": "B2B", "i": "B2B", "debitnote": "B2B-DN", "dn": "B2B-DN",
             "d": "B2B-DN", "creditnote": "B2B-CN", "cn": "B2B-CN", "c": "B2B-CN"}
_META = {"gstinofrecipient": "gstin", "financialyear": "financial_year", "taxperiod": "tax_period"}


def is_purchase_register(headers: list[object]) -> bool:
    keys = {label_key(h) for h in headers}
    return "documenttype" in keys and bool(keys & {"typeofinwardsupplies", "gstinofsuppliereco"})


def _score(keys: list[str]) -> int:
    return sum(1 for k in keys if k in LABELS)


def from_rows(rows: list[list], sheet: str, file: str) -> pd.DataFrame:
    """A sheet (cells from A1) in the template into the raw canonical frame."""
    r, score = best_row(rows, _score)
    if r < 0 or score < 4:
        raise InputError([InputProblem(file, None, None, "no purchase-register header (GSTIN of "
                                       "Supplier/ECO, Document type, Document number, ...)", sheet)])
    names = _names(rows[r])
    data = table(rows, r + 1, names, file=file, sheet=sheet)
    data["_sheet"] = sheet
    raw = convert(data)
    raw.attrs.update(_meta(rows[:r]))
    raw.attrs.update({"format": "purchase_register", "file": file})
    return raw


def from_frame(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """A CSV read as text with the template's headers."""
    data = frame.rename(columns=dict(zip(frame.columns, _names(list(frame.columns)))))
    raw = convert(data)
    raw.attrs.update({"format": "purchase_register", "file": file})
    return raw


def _names(headers: list[object]) -> list[str]:
    out, seen = [], set()
    for c, h in enumerate(headers):
        name = LABELS.get(label_key(h)) or (str(h).strip() if str(h).strip() else f"Column {c + 1}")
        while name in seen:
            name = f"{name} (2)"
        seen.add(name)
        out.append(name)
    return out


def convert(data: pd.DataFrame) -> pd.DataFrame:
    """Template values to canonical values (sections, supply types, month-name dates)."""
    if "Section" in data:
        data["Section"] = map_unique(data["Section"], lambda v: DOC_TYPES.get(label_key(v), str(v).strip()))
    if "Supply Type" in data:
        data["Supply Type"] = supply_types(data["Supply Type"]).values
    if "Document Date" in data:
        data["Document Date"] = month_name_dates(data["Document Date"]).values
    return data


def _meta(rows: list[list]) -> dict:
    out = {}
    for row in rows:
        for c, cell in enumerate(row):
            key = _META.get(label_key(cell)) if isinstance(cell, str) else None
            if key:
                value = next((v for v in row[c + 1:] if v not in ("", None)), "")
                out[key] = str(value).strip()
    return out
