"""IMS upload JSON out, by route: the offline upload (default) or the GSP/API SAVE.

Two routes reach the portal and their files differ (shared/domain/
formats-and-market.md section 10). **Every difference is one row of**
:data:`ROUTE_TABLE`, with its source; a change from GSTN is a one-line edit
there. ``offline`` is the file a user uploads at *IMS -> Offline -> Upload
JSON*, the file GSTN's IMS Offline Utility v1.1 writes (its ExportMod VBA as
recovered by ArchitBoraste/itc-guard ``docs/ims-json-schema.md``); ``api`` is
the SAVE/RESETIMS request a GSP sends (resilient-tech/india-compliance
``gst_india/utils/gstr_2/ims.py`` and ``api_classes/taxpayer_returns.py``).

Which records
    Those whose *Action* differs from *Previous Action* (compared as codes
    A/R/P/N; a blank Previous Action is N; a blank Action is "no decision"
    and never uploaded), and those whose Accept / Reject / Pending is
    unchanged but whose declaration or remark differs from *Portal
    Declaration*, what the last portal download held (the ITC-reduction
    answer and, with Partial, the declared heads, on an Accept that carries
    one; the remark where the route carries it; rulebook G4, G9, G10;
    india-compliance's ``is_declaration_pending_upload``; a blank Portal
    Declaration, e.g. a book built from a CSV, is never such a change; an
    ``unknown`` one, from the offline tool's Excel whose columns may hold the
    user's edits, is compared with no declaration: a declaration or remark
    that is not blank is sent); in an
    IMS section (not ISD/ISDA) and not marked *Not In IMS* nor *Gone From
    IMS*. Import then export with no change gives ``"invdata": {}``.

Left out and listed (never refused): what the route cannot carry
    Bills of Entry (IMPG, IMPGA, IMPGSEZ, IMPGSEZA) in the offline file, which
    has no Import of Goods section (utility v1.1): code ``ACT_ONLINE``, "act on
    these online"; records outside IMS: ``NOT_IN_IMS``.

Refused (:class:`UploadRefused`; with ``only_valid=True`` left out and listed)
    every record the portal would reject:

    * the engine's status is ``error`` (its primary code is given);
    * ``REMARKS_TOO_LONG``: remarks over :data:`MAX_REMARKS` (250) characters,
      counted as typed (the engine's and the workbook's count);
    * ``REMARKS_ON_ACCEPT`` (offline route): remarks with Accept;
    * ``REMARKS_BLOCKED``: remarks on a record whose remarks are blocked
      (``isRemarksBlocked`` = Y);
    * ``DECL_NOT_APPLICABLE``: an ITC-reduction answer or declared amount on a
      record that does not take one (not an Accept, or not a specified record;
      rulebook G9/D30);
    * ``DECL_BLOCKED``: a declaration where ``isItcRedReqBlocked`` = Y;
    * ``DECL_AMOUNTS_NOT_PARTIAL``: declared amounts with Full or No, which
      send none (rulebook G9, 4.3; the engine's code of the same name);
    * ``PEND_BLOCKED_PORTAL``: Pending where ``ispendactblocked`` = Y.

    Remarks with No Action are not a refusal: they are simply not sent.

Per record
    Offline: the upload keys only (``stin``, ``inum``/``nt_num``,
    ``idt``/``nt_dt`` as ``dd-mm-yyyy``, ``oinum``/``oidt``,
    ``ont_num``/``ont_dt``, ``inv_typ``, ``val``, ``pos``, ``txval``,
    ``iamt``, ``camt``, ``samt``, ``cess``, ``srcform``, ``rtnprd``), built
    from the canonical columns, then ``action`` and the route's optional keys.
    API: a record that came from an IMS JSON (``extra["_source"]``) is sent
    back with its downloaded values (numbers keep their spelling) of the keys
    the SAVE record defines only (``record_keys`` of :data:`ROUTE_TABLE`: never
    ``tradenm``, ``hash``, ``srcfilstatus`` or the portal's flags; ``srcform``
    as downloaded, e.g. ``GSTR1A``, as india-compliance does), others are
    built as above; then ``action``/``prev_status``/ITC block/``remarks``.
    A remark is counted as typed (``engine.validation.remark_length``, Excel's
    LEN) and sent stripped of surrounding spaces, tabs and line breaks
    (``engine.validation.remark_text``, the engine's and the workbook's
    ``TRIM(CLEAN())`` rule; inner spaces kept); one of only those is no remark
    (never sent).
    ITC-reduction block only for *Accept* on a *specified* record whose
    declaration is not blocked: Full = ``Y`` with the values omitted (the
    portal reads absence as full), Partial = ``Y`` with the four declared
    heads, No = ``N``; blank = no block (and a warning). Document numbers are
    always JSON strings; amounts have two decimals.

>>> import pandas as pd
>>> recs = pd.DataFrame({"row": [1, 2], "section": ["B2B", "B2B"],
...     "supplier_gstin": ["27AAACR5055K1Z7"] * 2, "document_number": ["000123", "INV/2"],
...     "document_date": pd.to_datetime(["2025-10-01"] * 2), "taxable_value": [100.0, 50.0],
...     "igst": [18.0, 9.0], "action": ["Reject", "Accept"], "previous_action": ["No Action", "Accepted"]})
>>> up = build_upload(recs, pd.DataFrame({"status": ["ok", "ok"]}), "29AAACS2222T1ZX")
>>> rec = up.payload["invdata"]["b2b"][0]
>>> rec["inum"], rec["idt"], rec["action"], "prev_status" in rec, len(up.payload["invdata"]["b2b"])
('000123', '01-10-2025', 'R', False, 1)
>>> build_upload(recs, pd.DataFrame({"status": ["ok", "ok"]}), "29AAACS2222T1ZX",
...              route="api").payload["invdata"]["b2b"][0]["prev_status"]
'N'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod
from ims_excel.formats._common import SECTION_KEYS, SUPPLIER_RETURN_PERIOD
from ims_excel.engine.validation import (DECLARATION_UNKNOWN, NO_DECLARATION, declaration_part, remark_length,
                                         remark_text)
from ims_excel.formats._jsonio import JsonNumber, dumps, parse_float
from ims_excel.xlsx.package import write_text_atomically
from ims_excel.records import ACTIONS, BOE_SECTIONS, STATES
from ims_excel.rules import rulebook

MAX_REMARKS = int(rulebook().param("remarks_max_length"))
"""250: the offline utility's limit (parameters.yaml remarks_max_length, G10)."""
DEFAULT_SPECIFIED_SECTIONS = frozenset({"B2BA", "B2B-DNA", "B2B-CN", "B2B-CNA"})
"""Used only when no ``specified`` flags are given (india-compliance's classes)."""

_ITC = "itc_red_req decl_igst decl_cgst decl_sgst decl_cess".split()
_CAMEL = ("itcRedReq", "declIgst", "declCgst", "declSgst", "declCess")
_OFFLINE_SECTIONS = frozenset(SECTION_KEYS) - BOE_SECTIONS
_RECORD_KEYS = frozenset((
    "stin", "inum", "idt", "nt_num", "nt_dt", "oinum", "oidt", "ont_num", "ont_dt",  # the document
    "inv_typ", "val", "pos", "txval", "iamt", "camt", "samt", "cess", "srcform", "rtnprd",
    "boenum", "boedt", "oboenum", "oboedt", "portcode",  # Bills of Entry (api route only) [?]
))
"""The document keys of a SAVE record: what :meth:`_Builder._from_columns` writes (both routes) and what a
downloaded record keeps (the API route, which sends downloaded records back); ``action``, ``prev_status``, the
ITC block and ``remarks`` are added."""
_CODE_OF = {w: c for c, w in ACTIONS.items()}
_REMARKS_WITH = {route: frozenset(_CODE_OF[a] for a in rulebook().param("remarks_with_action", route))
                 for route in ("offline", "api")}
"""Action codes each route carries remarks with: parameters.yaml ``remarks_with_action`` (G10, Q9)."""

ROUTE_TABLE: dict[str, tuple[object, object, str]] = {
    # item:            (offline,                 api,                     source)
    "sections":        (_OFFLINE_SECTIONS,       frozenset(SECTION_KEYS),
                        "offline: utility v1.1 has no Import of Goods sheets (itc-guard docs/ims-json-schema.md "
                        "s.1/s.6); api: the portal's IMS sections incl. IMPG (formats-and-market.md 2.2, 2.3)"),
    "itc_keys":        (tuple(_ITC),             _CAMEL,
                        "offline: itc_red_req, decl_igst.. (itc-guard s.3, from the utility's VBA); api: "
                        "itcRedReq, declIgst.. (india-compliance gst_returns/fields/ims.py; Sandbox SAVE docs)"),
    "remarks_with":    (_REMARKS_WITH["offline"], _REMARKS_WITH["api"],
                        "the rule data's remarks_with_action (parameters.yaml), the one place: offline 'only "
                        "when action is R or P, max 250' (itc-guard s.3, s.4 rule 1); api: any action unless "
                        "blocked (india-compliance utils/gstr_2/ims.py set_itc_reduction)"),
    "no_action":       ("save",                  "reset",
                        "offline: action N is one of the codes of the SAVE file (itc-guard s.3 'N no action'); "
                        "api: RESETIMS, reqtyp RESET, no action key (india-compliance taxpayer_returns.py)"),
    "prev_status":     (False,                   True,
                        "offline: not among the keys the utility writes (itc-guard s.3 'Written on upload'); "
                        "api: sent (india-compliance convert_data_to_gov_format; GSTN spec, Sandbox sample)"),
    "download_keys":   (False,                   True,
                        "offline: the utility writes its upload keys from its sheets (itc-guard s.3); api: "
                        "the downloaded record's own values (number spellings kept) of record_keys only"),
    "record_keys":     (_RECORD_KEYS,            _RECORD_KEYS,
                        "offline: the keys the utility writes on upload (itc-guard s.3 'Written on upload'; "
                        "formats-and-market.md 10); api: the keys india-compliance's SAVE/RESET record has "
                        "(utils/gstr_2/ims.py convert_data_to_gov_format + get_category_details: stin inv_typ "
                        "srcform rtnprd val pos iamt camt samt cess txval, inum/idt oinum/oidt nt_num/nt_dt "
                        "ont_num/ont_dt), never the download-only tradenm, hash, srcfilstatus, ispendactblocked, "
                        "isRemarksBlocked, isItcRedReqBlocked (formats-and-market.md 2.3); ECOM as B2B; Bills "
                        "of Entry [?]: boenum/boedt/oboenum/oboedt/portcode, in no source's SAVE record"),
    "srcform":         ("code",                  "as_downloaded",
                        "offline: the code R1 / R1A / R5 of the record's Source Form (the utility writes its keys "
                        "from its sheets, itc-guard s.3; formats-and-market.md 2.3 codes R1, R1A, R5); api: a "
                        "downloaded record's srcform as downloaded (GSTN sheet sample 'GSTR1A' [?]): "
                        "india-compliance stores srcform as a plain copy (utils/gstr_2/ims.py INVOICE_KEYS "
                        "SUP_RETURN_FORM) and sends the stored value back (convert_data_to_gov_format); a record "
                        "built from columns gets the code"),
    "full_reduction":  ("omit",                  "omit",
                        "both: itc flag Y with the declared values omitted = full (india-compliance "
                        "set_itc_reduction: 'portal reads absence as full'); offline [?]: not in itc-guard"),
}
"""Every difference between the two upload routes: item -> (offline, api, source)."""


@dataclass(frozen=True)
class Route:
    """One column of :data:`ROUTE_TABLE`."""

    name: str
    sections: frozenset
    itc_keys: tuple
    remarks_with: frozenset
    no_action: str
    prev_status: bool
    download_keys: bool
    record_keys: frozenset
    srcform: str
    full_reduction: str


ROUTES = {name: Route(name, **{item: row[k] for item, row in ROUTE_TABLE.items()})
          for k, name in enumerate(("offline", "api"))}

ACTION_CODE = {w: c for c, w in ACTIONS.items()} | {w: c for c, w in STATES.items()} | {"": ""}
_SRCFORM = {"GSTR-1": "R1", "IFF": "R1", "GSTR-1A": "R1A", "GSTR-5": "R5"}
_INV_TYP = {"SEZWP": "SEWP", "SEZWOP": "SEWOP"}
ACT_ONLINE = "ACT_ONLINE"


@dataclass(frozen=True)
class LeftOut:
    """A record not in the upload, and why."""

    row: int
    section: str
    supplier_gstin: str
    document_number: str
    reason: str
    code: str = ""

    def __str__(self) -> str:
        doc = f"{self.section} {self.supplier_gstin} {self.document_number!r}".replace("  ", " ")
        return f"row {self.row} ({doc}): {self.reason}" + (f" [{self.code}]" if self.code else "")


class UploadRefused(ValueError):
    """Records the portal would reject would be uploaded; ``rows`` lists them."""

    def __init__(self, rows: list[LeftOut]):
        self.rows = rows
        shown = "\n".join(f"  {r}" for r in rows[:50])
        more = f"\n  ... and {len(rows) - 50} more" if len(rows) > 50 else ""
        super().__init__(f"upload refused: {len(rows)} record(s) cannot be uploaded; fix them or "
                         f"upload only the valid ones (`ims-excel export --only-valid`; in Python only_valid=True):\n"
                         f"{shown}{more}")


@dataclass
class Upload:
    """A built upload: the SAVE payload, and what was left out."""

    payload: dict
    included: list[int] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    resets: list[LeftOut] = field(default_factory=list)
    reset_payload: dict | None = None
    warnings: list[LeftOut] = field(default_factory=list)
    route: str = "offline"

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.payload["invdata"].values())

    @property
    def act_online(self) -> list[LeftOut]:
        """Records this route cannot carry: act on them on the portal's own pages."""
        return [r for r in self.left_out if r.code == ACT_ONLINE]

    def to_json(self) -> str:
        return dumps(self.payload)

    def write(self, path: str | Path) -> Path:
        """Write the SAVE JSON atomically (temp file + ``os.replace``)."""
        return write_text_atomically(path, self.to_json())

    def write_reset(self, path: str | Path) -> Path | None:
        """Write the RESET JSON (api route), if any record went back to No Action."""
        return write_text_atomically(path, dumps(self.reset_payload)) if self.reset_payload else None


def write_upload(path: str | Path, records: pd.DataFrame, statuses: pd.DataFrame, rtin: str,
                 **kwargs) -> Upload:
    """:func:`build_upload` then :meth:`Upload.write`."""
    up = build_upload(records, statuses, rtin, **kwargs)
    up.write(path)
    return up


_REFUSALS = {
    "REMARKS_TOO_LONG": f"remarks are {{n}} characters; the portal takes at most {MAX_REMARKS}",
    "REMARKS_ON_ACCEPT": "remarks go with Reject or Pending only in the offline upload; clear them or change "
                         "the action",
    "REMARKS_BLOCKED": "the portal blocks remarks on this record (isRemarksBlocked = Y); clear them",
    "DECL_NOT_APPLICABLE": "an ITC-reduction answer goes only with Accept on a credit note or ITC-reducing "
                           "amendment; clear ITC Reduction / Declared amounts",
    "DECL_BLOCKED": "the portal has locked the ITC-reduction declaration (isItcRedReqBlocked = Y); clear it",
    "DECL_AMOUNTS_NOT_PARTIAL": "declared amounts go only with ITC Reduction Partial (Full is sent with none, "
                                "read as the whole ITC; No with none); choose Partial or clear the amounts",
    "PEND_BLOCKED_PORTAL": "the portal blocks Pending on this record (ispendactblocked = Y)",
}
"""Refusals the upload checks itself (the engine may know some too), in the order they are shown."""


def build_upload(records: pd.DataFrame, statuses: pd.DataFrame, rtin: str, *,
                 specified: pd.Series | str | None = None, only_valid: bool = False,
                 route: str = "offline") -> Upload:
    """Build the SAVE payload of ``route`` from a typed canonical frame (see the module doc).

    ``statuses`` is aligned with ``records`` by index and has ``status``
    (ok / warning / error / info) and optionally ``primary_code``; a record
    without a status counts as an error. ``specified`` is a boolean Series
    aligned with ``records``, or the name of such a column; when None, the
    column ``specified`` is used if present, else the sections in
    :data:`DEFAULT_SPECIFIED_SECTIONS`.
    """
    if route not in ROUTES:
        raise ValueError(f"route {route!r}: use one of {', '.join(ROUTES)}")
    rt = ROUTES[route]
    rtin = str(rtin).strip().upper()
    if not gstin_mod.is_valid(rtin):
        raise ValueError(f"rtin {rtin!r} is not a valid GSTIN (the recipient's, 15 characters)")
    n = len(records)
    col = _columns(records)
    act = col("action").map(lambda v: ACTION_CODE.get(v, str(v)[:1].upper()))
    prev = col("previous_action").map(lambda v: ACTION_CODE.get(v, str(v)[:1].upper()))
    prev = prev.where(prev != "", "N")
    section = col("section")
    spec = _specified(records, specified, section)
    changed = ((act != "") & (act != prev)) | _declaration_changed(records, col, act, prev, spec, rt)
    in_ims = section.isin(list(SECTION_KEYS)) & (col("not_in_ims") == "") & (prev != "X")
    carried = section.isin(list(rt.sections))
    status = _statuses(statuses, records.index)

    ident = _identities(records, col)
    rows = records["row"].to_numpy() if "row" in records else np.arange(1, n + 1)
    left_out, resets, warnings = [], [], []
    gone = col("gone_from_ims", -1) == 1
    for i in np.flatnonzero((changed & in_ims & gone).to_numpy()):
        left_out.append(ident(i, "gone from IMS (a newer download no longer has it): nothing to upload",
                              "GONE_FROM_IMS"))
    in_ims &= ~gone
    for i in np.flatnonzero((changed & ~in_ims & ~gone).to_numpy()):
        left_out.append(ident(i, "not an IMS record (outside IMS, pre-IMS or not an IMS section)",
                              "NOT_IN_IMS"))
    first_fix = status["primary_code"].where(status["status"] == "error", "")
    for i in np.flatnonzero((changed & in_ims & ~carried).to_numpy()):
        fix = f" (fix it first: {first_fix.iloc[i]})" if first_fix.iloc[i] else ""
        left_out.append(ident(i, f"the {route} upload has no {section.iloc[i]} section (Bills of Entry are not "
                                 f"in the offline utility's file): act on these online, IMS dashboard -> "
                                 f"Import of Goods{fix}", ACT_ONLINE))
    candidates = changed & in_ims & carried
    errors = status["status"] == "error"
    checks = _route_checks(records, col, act, spec, rt)
    refuse: list[tuple[int, LeftOut]] = []
    for i in np.flatnonzero((candidates & errors).to_numpy()):
        refuse.append((i, ident(i, "validation error", str(status["primary_code"].iloc[i]))))
    bad = pd.Series(False, index=records.index)
    typed_len = remark_length(col("remarks"))
    for code, mask in checks.items():
        for i in np.flatnonzero((candidates & ~errors & ~bad & mask).to_numpy()):
            refuse.append((i, ident(i, _REFUSALS[code].format(n=int(typed_len.iloc[i])), code)))
        bad |= mask
    if refuse and not only_valid:
        raise UploadRefused([r for _, r in sorted(refuse, key=lambda t: t[0])])
    left_out += [r for _, r in sorted(refuse, key=lambda t: t[0])]
    keep = candidates & ~errors & ~bad
    if rt.no_action == "reset":
        for i in np.flatnonzero((keep & (act == "N")).to_numpy()):
            resets.append(ident(i, f"reset to No Action (was {STATES.get(prev.iloc[i], prev.iloc[i])})"))

    extras = records["extra"].tolist() if "extra" in records else [{}] * n
    built = _Builder(records, col, act, prev, spec, rt)
    invdata: dict[str, list] = {}
    reset_data: dict[str, list] = {}
    included = []
    for i in np.flatnonzero(keep.to_numpy()):
        extra = extras[i] if isinstance(extras[i], dict) else {}
        rec, key, warn = built.record(i, extra)
        if warn:
            warnings.append(ident(i, warn))
        if built.act[i] == "N" and rt.no_action == "reset":
            rec.pop("action", None)
            reset_data.setdefault(key, []).append(rec)
        else:
            invdata.setdefault(key, []).append(rec)
            included.append(int(rows[i]))
    order = list(SECTION_KEYS.values())
    payload = {"rtin": rtin, "reqtyp": "SAVE",
               "invdata": {k: invdata[k] for k in sorted(invdata, key=order.index)}}
    reset_payload = ({"rtin": rtin, "reqtyp": "RESET",
                      "invdata": {k: reset_data[k] for k in sorted(reset_data, key=order.index)}}
                     if reset_data else None)
    return Upload(payload, included, left_out, resets, reset_payload, warnings, route)


def _declaration_changed(records: pd.DataFrame, col, act: pd.Series, prev: pd.Series, spec: pd.Series,
                         rt: Route) -> pd.Series:
    """Records whose action (A/R/P) is unchanged but whose declaration or remark differs from *Portal
    Declaration* (what the last portal download held; blank = no download, never a change;
    ``DECLARATION_UNKNOWN`` = a download that could not tell, compared with no declaration: sent when not blank).

    Only what the route sends counts: the ITC-reduction answer on an Accept of a specified record whose
    declaration is not blocked (the declared heads only with Partial: Full and No send none), and the
    remark with an action the route carries remarks with, unless blocked (rulebook G4: the action may be
    changed until the 3B is filed; G9, G10; india-compliance uploads a changed declaration with an
    unchanged action, ``is_declaration_pending_upload``, formats-and-market.md 3).
    """
    held = col("portal_declaration")
    # unknown (the offline tool's Excel): compared with no declaration, so a non-blank one or a remark is sent
    held = held.mask(held == DECLARATION_UNKNOWN, NO_DECLARATION)
    known = (held != "") & act.isin(["A", "R", "P"]) & (act == prev)
    if not known.any():
        return known
    now = pd.Series(declaration_part(records.loc[known]), index=records.index[known.to_numpy()])
    mine = now.str.split("|", n=5, expand=True)
    theirs = held[known].str.split("|", n=5, expand=True).reindex(columns=range(6)).fillna("")
    itc = (act[known] == "A") & spec[known] & (col("declaration_blocked", -1)[known] != 1)
    amounts = (mine[0] == "Partial") & ~(mine[[1, 2, 3, 4]].to_numpy() == theirs[[1, 2, 3, 4]].to_numpy()).all(axis=1)
    remarks = act[known].isin(list(rt.remarks_with)) & (col("remarks_blocked", -1)[known] != 1)
    remark_differs = remark_text(mine[5]) != remark_text(theirs[5])  # as sent: whitespace only = no remark
    differs = (itc & ((mine[0] != theirs[0]) | amounts)) | (remarks & remark_differs)
    return differs.reindex(records.index, fill_value=False).astype(bool)


def _route_checks(records: pd.DataFrame, col, act: pd.Series, spec: pd.Series, rt: Route) -> dict[str, pd.Series]:
    """Masks of what the portal would reject, per refusal code (see :data:`_REFUSALS`)."""
    remarks = remark_text(col("remarks"))  # as sent and counted (G10; engine.validation.remark_text)
    has_remarks = remarks != ""
    red = col("itc_reduction").str.strip()
    declared = np.zeros(len(records), dtype=bool)
    for h in ("igst", "cgst", "sgst", "cess"):
        if f"declared_{h}" in records:
            declared |= pd.to_numeric(records[f"declared_{h}"], errors="coerce").fillna(0).to_numpy() > 0
    has_decl = (red != "") | declared
    accept = act == "A"
    return {
        "REMARKS_TOO_LONG": has_remarks & act.isin(["A", "R", "P"]) & (remark_length(col("remarks")) > MAX_REMARKS),
        "REMARKS_ON_ACCEPT": has_remarks & accept & ("A" not in rt.remarks_with),
        "REMARKS_BLOCKED": has_remarks & act.isin(["A", "R", "P"]) & (col("remarks_blocked", -1) == 1),
        "DECL_NOT_APPLICABLE": has_decl & ~(accept & spec),
        "DECL_BLOCKED": has_decl & accept & spec & (col("declaration_blocked", -1) == 1),
        "DECL_AMOUNTS_NOT_PARTIAL": declared & accept & spec & red.isin(["Full", "No"]),
        "PEND_BLOCKED_PORTAL": (act == "P") & (col("pending_blocked", -1) == 1),
    }


def _columns(records: pd.DataFrame):
    """``col(name, default)``: a column as text ('' for missing) or as is; computed once."""
    cache: dict[tuple[str, bool], pd.Series] = {}

    def col(name: str, default: object = "") -> pd.Series:
        key = (name, isinstance(default, str))
        if key not in cache:
            if name not in records:
                cache[key] = pd.Series([default] * len(records), index=records.index, dtype=object)
            elif key[1]:
                s = records[name]
                cache[key] = s.astype(object).where(s.notna(), "").astype(str)
            else:
                cache[key] = records[name]
        return cache[key]
    return col


def _statuses(statuses: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    st = statuses.reindex(index)
    status = st["status"].astype(object).where(st["status"].notna(), "error").astype(str).str.lower()
    code = (st["primary_code"].astype(object).where(st["primary_code"].notna(), "")
            if "primary_code" in st else pd.Series("", index=index, dtype=object))
    code = code.where(~(st["status"].isna()), "NOT_VALIDATED")
    return pd.DataFrame({"status": status, "primary_code": code.astype(str)}, index=index)


def _specified(records: pd.DataFrame, specified, section: pd.Series) -> pd.Series:
    if isinstance(specified, str):
        specified = records[specified]
    elif specified is None and "specified" in records:
        specified = records["specified"]
    if specified is None:
        return section.isin(DEFAULT_SPECIFIED_SECTIONS)
    return pd.Series(specified, index=records.index).fillna(False).astype(bool)


def _identities(records: pd.DataFrame, col):
    rows = records["row"].to_numpy() if "row" in records else np.arange(1, len(records) + 1)
    sec, gst, doc = col("section"), col("supplier_gstin"), col("document_number")

    def ident(i: int, reason: str, code: str = "") -> LeftOut:
        return LeftOut(int(rows[i]), sec.iloc[i], gst.iloc[i], doc.iloc[i], reason, code)
    return ident


class _Builder:
    """Per-record dicts for the rows being uploaded (columns read once, as lists)."""

    TEXT = ("section", "supplier_gstin", "document_number", "original_document_number", "supply_type",
            "place_of_supply", "source_form", "itc_reduction", "remarks", "supplier_return_period")
    NUMBERS = ("document_value", "taxable_value", "igst", "cgst", "sgst", "cess",
               "declared_igst", "declared_cgst", "declared_sgst", "declared_cess")

    def __init__(self, records, col, act, prev, spec, route: Route):
        self.v = {name: col(name).tolist() for name in self.TEXT}
        self.v["remarks"] = remark_text(col("remarks")).tolist()  # the remark as sent (G10)
        self.v.update({name: col(name, 0.0).tolist() for name in self.NUMBERS})
        for name in ("declaration_blocked", "remarks_blocked"):
            self.v[name] = col(name, -1).tolist()
        for name in ("document_date", "original_document_date"):
            self.v[name] = (records[name].dt.strftime("%d-%m-%Y").fillna("").tolist()
                            if name in records else [""] * len(records))
        self.act, self.prev, self.spec = act.tolist(), prev.tolist(), spec.tolist()
        self.route = route

    def record(self, i: int, extra: dict) -> tuple[dict, str, str]:
        v, rt = self.v, self.route
        source = extra.get("_source") if rt.download_keys else None
        if isinstance(source, str) and source.strip():
            source = json.loads(source, parse_float=parse_float)
        section = v["section"][i]
        if isinstance(source, dict):
            rec = {k: x for k, x in source.items() if k in rt.record_keys}
            key = str(extra.get("_section_key") or SECTION_KEYS[section])
            if rt.srcform == "code" and "srcform" in rec:  # ROUTE_TABLE srcform
                rec["srcform"] = _SRCFORM.get(v["source_form"][i], "")
                if not rec["srcform"]:
                    del rec["srcform"]
        else:
            rec = self._from_columns(i, section, extra)
            key = SECTION_KEYS[section]
        act = self.act[i]
        rec["action"] = act
        if rt.prev_status:
            rec["prev_status"] = self.prev[i]
        else:
            rec.pop("prev_status", None)
        warn = ""
        keys = rt.itc_keys
        if act == "A" and self.spec[i] and v["declaration_blocked"][i] != 1:
            red = v["itc_reduction"][i]
            if red == "Full":
                rec[keys[0]] = "Y"
            elif red == "Partial":
                rec[keys[0]] = "Y"
                for k, c in zip(keys[1:], self.NUMBERS[-4:]):
                    rec[k] = _money(v[c][i])
            elif red == "No":
                rec[keys[0]] = "N"
            else:
                warn = f"accepted specified record without an ITC-reduction answer: no {keys[0]} sent"
        text = v["remarks"][i]
        if text and v["remarks_blocked"][i] != 1 and act in rt.remarks_with:  # as _route_checks
            rec["remarks"] = text
        return rec, key, warn

    def _from_columns(self, i: int, section: str, extra: dict) -> dict:
        v = self.v
        note = section.startswith(("B2B-DN", "B2B-CN"))
        boe = section.startswith("IMPG")
        num, dat = (("nt_num", "nt_dt") if note else ("boenum", "boedt") if boe else ("inum", "idt"))
        onum, odat = ("ont_num", "ont_dt") if note else ("oboenum", "oboedt") if boe else ("oinum", "oidt")
        rec: dict = {}
        if v["supplier_gstin"][i]:
            rec["stin"] = v["supplier_gstin"][i]
        rec[num] = str(v["document_number"][i])
        rec[dat] = v["document_date"][i]
        if section in ("B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA"):
            rec[onum] = str(v["original_document_number"][i])
            if v["original_document_date"][i]:
                rec[odat] = v["original_document_date"][i]
        if boe:
            port = extra.get("Port Code")
            if port:
                rec["portcode"] = str(port)
        else:
            typ = v["supply_type"][i]
            if typ:
                rec["inv_typ"] = _INV_TYP.get(typ, typ)
            rec["val"] = _money(v["document_value"][i])
            if v["place_of_supply"][i]:
                rec["pos"] = v["place_of_supply"][i]
        rec["txval"] = _money(v["taxable_value"][i])
        rec["iamt"] = _money(v["igst"][i])
        if not boe:
            rec["camt"] = _money(v["cgst"][i])
            rec["samt"] = _money(v["sgst"][i])
        rec["cess"] = _money(v["cess"][i])
        form = _SRCFORM.get(v["source_form"][i], "")
        if form:
            rec["srcform"] = form
        period = v["supplier_return_period"][i] or extra.get(SUPPLIER_RETURN_PERIOD)
        if period not in (None, "") and not (isinstance(period, float) and period != period):
            rec["rtnprd"] = str(period)
        return rec


def _money(v: object) -> JsonNumber:
    return parse_float(f"{float(v) if v is not None and v == v else 0.0:.2f}")
