"""Tally's purchase-side exports in: the GSTR-2 Excel export and the Purchase Register, by header.

Public descriptions followed:

* *GSTR-2 Excel export* - Tally's help page "Data Captured in GSTR-2 Excel File"
  (help.tallysolutions.com, TallyPrime and Tally.ERP 9 Rel 6.x): sheets ``b2b`` (``GSTIN of
  Supplier``, ``Invoice Number``, ``Invoice date``, ``Invoice Value``, ``Place Of Supply``, ``Reverse
  Charge``, ``Invoice Type``, ``Rate``, ``Taxable Value``, ``Integrated Tax Paid``, ``Central Tax
  Paid``, ``State/UT Tax Paid``, ``Cess Paid``, ``Eligibility For ITC``, ``Availed ITC ...``) and
  ``cdnr`` (``Note/Refund Voucher Number`` / ``date``, ``Document Type`` C/D, the same amounts).
  It is **rate-wise**: one row per document and tax rate, so rows of one document are added up.
* *Purchase Register* (Display > Account Books > Purchase Register, exported to Excel): company and
  period title rows, then ``Date``, ``Particulars`` (the party), ``Voucher Type``, ``Voucher No.``,
  ``Supplier Invoice No.``, ``Supplier Invoice Date``, ``GSTIN/UIN``, ``Gross Total`` and one column
  per ledger (``Input IGST``, ``Input CGST``, ``Input SGST``...). No public column list was found; the
  headers are those formats-and-market.md section 11 lists, and the supplier's invoice number and date
  win over Tally's own voucher number and date. A ``Debit Note`` voucher in a purchase register is the
  buyer's purchase return, matched with the supplier's **credit note** [INF]; a ``Credit Note`` voucher
  with the supplier's debit note.

Amounts may carry ``Dr`` / ``Cr`` or a minus sign (Tally shows returns negative): the section carries
the sign, so the magnitude is kept.
"""

from __future__ import annotations

NAME = "tally"

LABELS: dict[str, tuple[str, int]] = {
    # GSTR-2 export
    "gstinofsupplier": ("Supplier GSTIN", 3), "invoicenumber": ("Document Number", 2),
    "invoicedate": ("Document Date", 2), "invoicevalue": ("Document Value", 2),
    "noterefundvouchernumber": ("Document Number", 3), "noterefundvoucherdate": ("Document Date", 3),
    "noterefundvouchervalue": ("Document Value", 3), "documenttype": ("_doctype", 2),
    "placeofsupply": ("Place Of Supply", 2), "reversecharge": ("Reverse Charge", 2),
    "rate": ("_rate", 1), "taxablevalue": ("Taxable Value", 3),
    "integratedtaxpaid": ("IGST", 3), "centraltaxpaid": ("CGST", 3), "stateuttaxpaid": ("SGST", 3),
    "cesspaid": ("Cess", 3), "invoiceadvancepaymentvouchernumber": ("Original Document Number", 2),
    # Purchase Register
    "supplierinvoiceno": ("Document Number", 3), "supplierinvoicedate": ("Document Date", 3),
    "voucherno": ("Document Number", 1), "date": ("Document Date", 1), "particulars": ("Supplier Name", 1),
    "vouchertype": ("_doctype", 1), "gstinuin": ("Supplier GSTIN", 2), "partygstin": ("Supplier GSTIN", 2),
    "grosstotal": ("Document Value", 1), "inputigst": ("IGST", 2), "inputcgst": ("CGST", 2),
    "inputsgst": ("SGST", 2), "inputcess": ("Cess", 2), "value": ("Taxable Value", 1),
    "integratedtaxamount": ("IGST", 2), "centraltaxamount": ("CGST", 2), "stateuttaxamount": ("SGST", 2),
    "cessamount": ("Cess", 2),
}
"""label key -> (canonical column, priority): where two columns name the same field the higher wins."""

MARKERS = frozenset({"gstinofsupplier", "integratedtaxpaid", "noterefundvouchernumber", "supplierinvoiceno",
                     "vouchertype", "gstinuin", "inputigst", "inputcgst"})
"""Headers only Tally writes (one of them must be present)."""

DOC_TYPES = {"purchase": "B2B", "purchases": "B2B", "purchaseinvoice": "B2B",
             "debitnote": "B2B-CN", "creditnote": "B2B-DN",   # purchase register: the buyer's own notes
             "c": "B2B-CN", "d": "B2B-DN",                    # GSTR-2 cdnr: the supplier's note type
             "invoice": "B2B"}

TAXABLE_LEDGERS = ("purchase",)
"""Purchase Register: the taxable value is the sum of the purchase-ledger columns (``Purchase @18%``...)
when the file has no ``Taxable Value`` column."""

RATE_WISE = True
"""A file with a ``Rate`` column lists a document once per rate: rows of one document are added up."""
