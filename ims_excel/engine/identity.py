"""Record identity: which rows of two downloads are the same IMS record.

A record is named the way the portal names it (shared/domain/formats-and-market.md
2.3; the issue-10 brief), **not** by its GSTR-2B period, which moves when a
supplier files late:

* ``recipient`` - the recipient's GSTIN (the workbook's; upper case);
* ``supplier`` - the supplier's GSTIN (upper case; blank for an IMPG Bill of
  Entry, which has none);
* ``family`` - ``INV`` (B2B, B2BA), ``DN`` (B2B-DN, B2B-DNA), ``CN`` (B2B-CN,
  B2B-CNA), ``ECO`` (ECO, ECOA), ``BOE`` (IMPG, IMPGA, IMPGSEZ, IMPGSEZA),
  ``ISD`` (ISD, ISDA);
* ``amended`` - ``A`` for an amendment record, ``O`` for an original: the
  portal holds an original and its amendment as two records (sections B2B
  and B2BA), so they are two rows;
* ``number`` - the document number as text, exactly as held (leading zeros
  kept, outer spaces dropped). An amendment is named by its **original**
  document (``oinum``/``ont_num``): the supplier's GSTR-1 amendment table is
  keyed by the original, and amending again replaces the earlier amendment
  (india-compliance keys ``ORIGINAL_BILL_NO`` the same way,
  ``gst_india/utils/gstr_2/ims.py``), so its revised number may change while
  it stays the same record;
* ``fy`` - the Indian financial year (April-March) of the document date
  (amendments: of the original document's date, falling back to their own),
  as ``2025-26``; blank when the date is missing. The same number in another
  financial year is another record (suppliers restart numbering each year;
  CGST rule 46(b): a number unique for a financial year).

:func:`identity` gives one text key per row (``|``-joined parts, vectorised),
:func:`identity_parts` the parts as columns. Both take the typed canonical
frame (``section``, ``supplier_gstin``, ``document_number``,
``document_date``, ``original_document_number``, ``original_document_date``).

>>> import pandas as pd
>>> f = pd.DataFrame({"section": ["B2B", "B2B", "B2BA", "B2B-CN"],
...     "supplier_gstin": ["27aaacr5055k1z7"] * 4, "document_number": ["001", "001", "001-R", "001"],
...     "document_date": pd.to_datetime(["2025-04-01", "2026-03-31", "2025-06-02", "2025-04-01"]),
...     "original_document_number": ["", "", "001", ""],
...     "original_document_date": pd.to_datetime([None, None, "2025-04-01", None])})
>>> identity(f, "29AAACS2222T1ZX").tolist()  # doctest: +NORMALIZE_WHITESPACE
['29AAACS2222T1ZX|27AAACR5055K1Z7|INV|O|001|2025-26', '29AAACS2222T1ZX|27AAACR5055K1Z7|INV|O|001|2025-26',
 '29AAACS2222T1ZX|27AAACR5055K1Z7|INV|A|001|2025-26', '29AAACS2222T1ZX|27AAACR5055K1Z7|CN|O|001|2025-26']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.records import AMENDMENT_SECTIONS

FAMILY = {
    "B2B": "INV", "B2BA": "INV", "B2B-DN": "DN", "B2B-DNA": "DN", "B2B-CN": "CN", "B2B-CNA": "CN",
    "ECO": "ECO", "ECOA": "ECO", "IMPG": "BOE", "IMPGA": "BOE", "IMPGSEZ": "BOE", "IMPGSEZA": "BOE",
    "ISD": "ISD", "ISDA": "ISD",
}
"""Canonical section -> document family."""

PARTS = ("recipient", "supplier", "family", "amended", "number", "fy")


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    s = frame[name]
    out = s.astype(object).where(s.notna(), "")
    # a number read as a float (2.0) is the text "2", never "2.0"
    whole = out.map(lambda v: isinstance(v, float) and v.is_integer())
    if whole.any():
        out = out.where(~whole, out[whole].map(lambda v: str(int(v))))
    return out.astype(str).str.strip()


def financial_year(dates: pd.Series) -> pd.Series:
    """``2025-26`` for dates from 1-Apr-2025 to 31-Mar-2026; blank for a missing date."""
    d = pd.to_datetime(dates, errors="coerce")
    start = (d.dt.year - (d.dt.month < 4).astype("Int64")).astype("Int64")
    text = start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)
    return text.where(d.notna(), "").astype(object)


def identity_parts(frame: pd.DataFrame, recipient: str | pd.Series = "") -> pd.DataFrame:
    """The parts of each row's identity (see the module doc), as text columns :data:`PARTS`."""
    section = _text(frame, "section").str.upper()
    amended = section.isin(list(AMENDMENT_SECTIONS)).to_numpy()
    number = _text(frame, "document_number")
    onumber = _text(frame, "original_document_number")
    use_orig = amended & (onumber != "").to_numpy()
    date = frame["document_date"] if "document_date" in frame else pd.Series(pd.NaT, index=frame.index)
    odate = (frame["original_document_date"] if "original_document_date" in frame
             else pd.Series(pd.NaT, index=frame.index))
    fy, ofy = financial_year(date), financial_year(odate)
    if isinstance(recipient, pd.Series):
        rec = recipient.reindex(frame.index).astype(object).where(recipient.notna(), "").astype(str)
    else:
        rec = pd.Series(str(recipient or ""), index=frame.index, dtype=object)
    return pd.DataFrame({
        "recipient": rec.str.strip().str.upper(),
        "supplier": _text(frame, "supplier_gstin").str.upper(),
        "family": section.map(FAMILY).fillna(section),
        "amended": np.where(amended, "A", "O"),
        "number": np.where(use_orig, onumber, number),
        "fy": np.where(amended & (ofy != "").to_numpy(), ofy, fy),
    }, index=frame.index)


def identity(frame: pd.DataFrame, recipient: str | pd.Series = "") -> pd.Series:
    """One text key per row: the :data:`PARTS` joined by ``|`` (see the module doc)."""
    p = identity_parts(frame, recipient)
    key = p["recipient"]
    for c in PARTS[1:]:
        key = key + "|" + p[c].astype(str)
    return key.rename("identity")


__all__ = ["identity", "identity_parts", "financial_year", "FAMILY", "PARTS"]
