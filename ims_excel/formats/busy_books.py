"""Busy's purchase register (GST reports > Purchase Register, exported to Excel) in, by header.

No public description of Busy's export columns was found (searched Busy's help pages and the
sources of shared/domain/formats-and-market.md). The synonyms below are the usual Busy wordings
(``Vch/Bill No``, ``Party Name``, ``Taxable Amt.``, ``IGST Amt.`` ...), a two-level ``Tax Amount``
band over ``IGST`` / ``CGST`` / ``SGST`` / ``Cess``, and title rows above the header; our fixture
``tests/fixtures/books/busy_purchase_register.xlsx`` is built to that reading and is **not** a real
export. Check it against a real file before relying on it.
"""

from __future__ import annotations

NAME = "busy"

LABELS: dict[str, tuple[str, int]] = {
    "vchbillno": ("Document Number", 2), "billno": ("Document Number", 3), "vchno": ("Document Number", 1),
    "partybillno": ("Document Number", 3), "partybilldate": ("Document Date", 3), "billdate": ("Document Date", 2),
    "date": ("Document Date", 1), "partyname": ("Supplier Name", 2), "account": ("Supplier Name", 1),
    "gstin": ("Supplier GSTIN", 2), "gstinuin": ("Supplier GSTIN", 2), "partygstin": ("Supplier GSTIN", 3),
    "taxableamt": ("Taxable Value", 3), "taxableamount": ("Taxable Value", 3),
    "igstamt": ("IGST", 3), "cgstamt": ("CGST", 3), "sgstamt": ("SGST", 3), "cessamt": ("Cess", 3),
    "taxamountigst": ("IGST", 3), "taxamountcgst": ("CGST", 3), "taxamountsgst": ("SGST", 3),
    "taxamountcess": ("Cess", 3), "igst": ("IGST", 1), "cgst": ("CGST", 1), "sgst": ("SGST", 1),
    "cess": ("Cess", 1), "billamount": ("Document Value", 2), "totalamt": ("Document Value", 1),
    "vchtype": ("_doctype", 2), "vouchertype": ("_doctype", 1), "placeofsupply": ("Place Of Supply", 1),
}
"""label key -> (canonical column, priority)."""

MARKERS = frozenset({"vchbillno", "taxableamt", "igstamt", "cgstamt", "partybillno", "vchtype", "billamount"})

DOC_TYPES = {"purchase": "B2B", "purc": "B2B", "purchasereturn": "B2B-CN", "prtn": "B2B-CN",
             "debitnote": "B2B-CN", "creditnote": "B2B-DN"}

RATE_WISE = False
