"""The canonical record: the columns every door (workbook, CSV, CLI, importers) uses.

Headers are matched case- and space-insensitively (``"supplier gstin"``,
``"Supplier  GSTIN"`` and ``"SUPPLIER_GSTIN"`` all name *Supplier GSTIN*);
columns we do not know are kept and ignored.

>>> header_key(" Supplier_GSTIN ")
'suppliergstin'
>>> [c.name for c in INWARD_COLUMNS][:3]
['Section', 'Supplier GSTIN', 'Supplier Name']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "date", "amount", "flag", "enum", "period"]

SECTIONS: tuple[str, ...] = (
    "B2B", "B2BA", "B2B-DN", "B2B-DNA", "B2B-CN", "B2B-CNA",
    "ECO", "ECOA", "IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA",
    # Not IMS sections, but GSTR-2B brings them in (formats issue): ISD credit.
    "ISD", "ISDA",
)
"""Canonical section names, in the portal's I-VIII order, then Import of Goods."""

AMENDMENT_SECTIONS = frozenset({"B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA", "ISDA"})
CREDIT_NOTE_SECTIONS = frozenset({"B2B-CN", "B2B-CNA"})
BOE_SECTIONS = frozenset({"IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA"})

ACTIONS = {"A": "Accept", "R": "Reject", "P": "Pending", "N": "No Action"}
"""Action codes (API) and the words the workbook's drop-down shows."""

STATES = {"A": "Accepted", "R": "Rejected", "P": "Pending", "N": "No Action", "X": "Pre-IMS"}
"""Previous / original action codes and their words."""

SOURCE_FORMS = ("GSTR-1", "IFF", "GSTR-1A", "GSTR-5", "GSTR-6", "ICEGATE")
ITC_REDUCTION = ("Full", "Partial", "No")
NOT_IN_IMS = ("RCM", "ISD", "GSTR5", "POS", "164", "37A")
HEADS = ("igst", "cgst", "sgst", "cess")


@dataclass(frozen=True)
class Column:
    """One canonical column: its header, how it is read, and its default."""

    name: str
    kind: Kind
    required: bool = False
    values: tuple[str, ...] = ()
    doc: str = ""
    aliases: tuple[str, ...] = field(default=())
    tool: bool = False
    """Written by a command (``reconcile``), not typed: styled as computed, no drop-down; a later run
    overwrites it, and no merge, import or roll counts it as the user's."""

    @property
    def key(self) -> str:
        return header_key(self.name)


def header_key(header: object) -> str:
    """Normalise a header for matching: lower case, no spaces, ``_`` or ``-``."""
    return re.sub(r"[\s_\-]+", "", str(header)).lower()


_COMMON_HEAD = [
    Column("Section", "enum", True, SECTIONS, "IMS section"),
]
_PARTY_INWARD = [
    Column("Supplier GSTIN", "text", False, doc="GSTIN of the supplier (blank for IMPG)"),
    Column("Supplier Name", "text"),
]
_PARTY_OUTWARD = [
    Column("Recipient GSTIN", "text", True, doc="GSTIN of the recipient"),
    Column("Recipient Name", "text"),
]
_DOCUMENT = [
    Column("Document Number", "text", True, doc="Invoice / note / BoE number, always text"),
    Column("Document Date", "date", True),
    Column("Original Document Number", "text"),
    Column("Original Document Date", "date"),
    Column("Place Of Supply", "text", doc="2-digit state code"),
    Column("Reverse Charge", "flag"),
    Column("Supply Type", "enum", False, ("R", "DE", "SEWP", "SEWOP", "SEZWP", "SEZWOP", "CBW"),
           "inv_typ: regular, deemed export, SEZ with / without payment"),
    Column("Document Value", "amount"),
    Column("Taxable Value", "amount"),
    Column("IGST", "amount"),
    Column("CGST", "amount"),
    Column("SGST", "amount"),
    Column("Cess", "amount"),
    Column("Original Taxable Value", "amount"),
    Column("Original IGST", "amount"),
    Column("Original CGST", "amount"),
    Column("Original SGST", "amount"),
    Column("Original Cess", "amount"),
    Column("Original Action", "enum", False, tuple(STATES.values())),
    Column("Original 3B Filed", "flag"),
    Column("Source Form", "enum", False, SOURCE_FORMS),
    Column("Supplier Filing Status", "enum", False, ("Filed", "Not Filed")),
    Column("Supplier Filing Date", "date"),
    Column("Supplier Return Period", "text", doc="rtnprd: the supplier's return period as the portal writes it (MMYYYY)"),
    Column("2B Period", "period", doc="YYYY-MM; blank = from the filing date"),
    Column("Not In IMS", "enum", False, NOT_IN_IMS, "why GSTR-2B holds it outside IMS"),
    Column("ITC Available", "flag", doc="GSTR-2B itcavl / itcelg; blank = Y"),
    Column("Pending Blocked", "flag", doc="portal ispendactblocked"),
    Column("Declaration Blocked", "flag", doc="portal isItcRedReqBlocked"),
    Column("Remarks Blocked", "flag", doc="portal isRemarksBlocked"),
    Column("GSTIN Override", "flag", doc="keep a GSTIN that is not valid (state code, pattern or check digit)"),
]
_ACTION_INWARD = [
    Column("Action", "enum", False, tuple(ACTIONS.values())),
    Column("Previous Action", "enum", False, tuple(STATES.values())),
    Column("ITC Reduction", "enum", False, ITC_REDUCTION),
    Column("Declared IGST", "amount"),
    Column("Declared CGST", "amount"),
    Column("Declared SGST", "amount"),
    Column("Declared Cess", "amount"),
    Column("Remarks", "text"),
]
_ROUND_TRIP_INWARD = [
    Column("Portal Error", "text", doc="the portal's error_msg for this record from its upload error file "
                                       "(imsDetailsErr); an error while Portal Error For still matches the row"),
    Column("Portal Error For", "text", doc="Action|ITC Reduction|Declared IGST..Cess|Remarks when the error was "
                                           "imported (see ims_excel.engine.validation.decision_fingerprint)"),
    Column("Portal Declaration", "text",
           doc="ITC Reduction|Declared IGST..Cess|Remarks as the last IMS download held them (the IMS JSON; "
               "ims_excel.engine.validation.declaration_part); 'unknown' after the offline tool's Excel, whose "
               "columns may be your edits: a declaration or remark that is not blank is then sent; blank: no "
               "download, never sent. "
               "The upload also sends a record whose Action is unchanged when these differ (rulebook G4: the "
               "action can be changed until the 3B is filed; G9 declaration; india-compliance "
               "is_declaration_pending_upload, formats-and-market.md 3)"),
    Column("Supplier Change", "text", doc="what a newer download changed and the action the portal reset "
                                          "(rulebook G3); a warning until an Action is chosen"),
    Column("Gone From IMS", "flag", doc="Y: missing from a newer complete IMS download (a saved record the "
                                        "supplier deleted, G3); kept, out of GSTR-2B/3B"),
]
_RECONCILE_INWARD = [
    Column("Match Status", "text", tool=True,
           doc="Written by ims-excel reconcile (each run overwrites it): how this record matched the purchase "
               "register: matched / matched_within_tolerance / mismatch / probable / missing_in_books."),
    Column("Match Note", "text", tool=True,
           doc="Written by ims-excel reconcile: the books row matched, what differs, and why the suggested "
               "action (the rule that allows it), or why there is none."),
    Column("Suggested Action", "text", tool=True,
           doc="Written by ims-excel reconcile: the action the match suggests (Accept / Reject / Pending; blank: "
               "none), always one the engine accepts. Only a suggestion: reconcile --apply copies it into a "
               "blank Action."),
]
_ACTION_OUTWARD = [
    Column("Recipient Action", "enum", False, tuple(STATES.values()) + tuple(ACTIONS.values())),
    Column("Recipient 3B Filed", "flag"),
    Column("Recipient 3B Filed On", "date"),
    Column("Remarks", "text"),
]

_IDENTITY = ("Document Number", "Document Date", "Document Value", "Taxable Value", "IGST", "CGST", "SGST", "Cess")

INWARD_DETAILS: tuple[str, ...] = (tuple(c.name for c in _DOCUMENT if c.name not in _IDENTITY)
                                   + tuple(c.name for c in _ROUND_TRIP_INWARD))
"""The portal's details of an inward record (original document, place of supply, filing, flags, and what the
round trip records: portal error, supplier change, gone from IMS — Status and Message say it too): the
workbook groups them, collapsed, between the amounts and the Action (``tables.TableSpec.grouped``)."""

INWARD_COLUMNS: tuple[Column, ...] = tuple(
    _COMMON_HEAD + _PARTY_INWARD + [c for c in _DOCUMENT if c.name in _IDENTITY]
    + [c for c in _DOCUMENT if c.name not in _IDENTITY] + _ROUND_TRIP_INWARD + _ACTION_INWARD + _RECONCILE_INWARD)
"""The Inward table, in workbook order: what identifies a record (section, supplier, document, amounts),
the portal's details (:data:`INWARD_DETAILS`), then the decision a person makes (Action and its
inputs), then what ``reconcile`` writes (:data:`INWARD_RECONCILE`); the workbook's result columns
(Status, Reason Code, Message ...) follow it. The formula columns stay last in a row: ``process``
writes their cached values from row templates that rely on it."""

INWARD_RECONCILE: tuple[str, ...] = tuple(c.name for c in _RECONCILE_INWARD)
"""The value columns ``reconcile`` fills (issue 11): tool-owned (:attr:`Column.tool`), overwritten by each
run; not the user's (a merge keeps them, never reports them as a decision) and not the portal's."""

OUTWARD_COLUMNS: tuple[Column, ...] = tuple(_COMMON_HEAD + _PARTY_OUTWARD + _DOCUMENT + _ACTION_OUTWARD)
"""The Outward table (the supplier's own documents, as the IMS supplier view shows them)."""


def categories(col: Column) -> list[str]:
    """Categories of an enum column: blank first, then the allowed values."""
    return list(dict.fromkeys(["", *col.values]))


def column_names(direction: str = "inward") -> list[str]:
    """Header names of the inward or outward table, in order."""
    cols = INWARD_COLUMNS if direction == "inward" else OUTWARD_COLUMNS
    return [c.name for c in cols]
