"""IMS upload JSON out: ``{"rtin": ..., "reqtyp": "SAVE", "invdata": {<key>: [...]}}``.

Spec (shared/domain/formats-and-market.md 2.3; india-compliance's upload as the
reference behaviour):

Which records
    Those whose *Action* differs from *Previous Action* (compared as codes
    A/R/P/N; a blank Previous Action is N; a blank Action is "no decision"
    and never uploaded), in an IMS section (not ISD/ISDA) and not marked
    *Not In IMS*. Import then export with no change gives ``"invdata": {}``.

A change back to No Action is a reset, not a SAVE
    The portal's SAVE carries A/R/P; india-compliance sends a record without
    ``action`` for it, which a schema check may refuse and one refused record
    sinks the whole file. So resets are left out of the SAVE payload and listed
    in :attr:`Upload.resets`; :attr:`Upload.reset_payload` is the same envelope
    with ``"reqtyp": "RESET"`` and no ``action`` key (the RESETIMS request).

Per record
    ``action`` = the new code, ``prev_status`` = the previous code.
    ITC-reduction block only for *Accept* on a *specified* record whose
    declaration is not blocked: Full = ``itcRedReq: "Y"`` with the values
    omitted (the portal reads absence as full), Partial = ``"Y"`` with
    ``declIgst..declCess``, No = ``"N"``; blank = no block (and a warning).
    ``remarks`` with any action when not blocked, at most 250 characters.
    A record that came from an IMS JSON (``extra["_source"]``) is sent back
    as downloaded, every other key and value unchanged (numbers keep their
    spelling), only ``action``/``prev_status``/``itcRedReq``/``decl*``/
    ``remarks`` set or removed; the ITC keys keep the source's spelling
    (camelCase or snake_case). Other records are built from the canonical
    columns: dates ``DD-MM-YYYY``, amounts with two decimals, document numbers
    exactly as held.

Refusal
    :class:`UploadRefused` (listing the rows) when any record's status is
    ``error``, or a remark to send is over 250 characters; with
    ``only_valid=True`` those records are left out instead and listed in
    :attr:`Upload.left_out`. :meth:`Upload.write` writes atomically.

>>> import pandas as pd
>>> recs = pd.DataFrame({"row": [1, 2], "section": ["B2B", "B2B"],
...     "supplier_gstin": ["27AAACR5055K1Z7"] * 2, "document_number": ["000123", "INV/2"],
...     "document_date": pd.to_datetime(["2025-10-01"] * 2), "taxable_value": [100.0, 50.0],
...     "igst": [18.0, 9.0], "action": ["Reject", "Accept"], "previous_action": ["No Action", "Accepted"]})
>>> up = build_upload(recs, pd.DataFrame({"status": ["ok", "ok"]}), "29AAACS2222T1ZX")
>>> up.payload["invdata"]["b2b"][0]["inum"], up.payload["invdata"]["b2b"][0]["action"], len(up.payload["invdata"]["b2b"])
('000123', 'R', 1)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod
from ims_excel.formats._common import SECTION_KEYS, SUPPLIER_RETURN_PERIOD
from ims_excel.formats._jsonio import JsonNumber, dumps, parse_float
from ims_excel.xlsx.package import write_text_atomically
from ims_excel.records import ACTIONS, STATES

MAX_REMARKS = 250
DEFAULT_SPECIFIED_SECTIONS = frozenset({"B2BA", "B2B-DNA", "B2B-CN", "B2B-CNA"})
"""Used only when no ``specified`` flags are given (india-compliance's classes)."""

ACTION_CODE = {w: c for c, w in ACTIONS.items()} | {w: c for c, w in STATES.items()} | {"": ""}
_SRCFORM = {"GSTR-1": "R1", "IFF": "R1", "GSTR-1A": "R1A", "GSTR-5": "R5"}
_INV_TYP = {"SEZWP": "SEWP", "SEZWOP": "SEWOP"}
_CAMEL = ("itcRedReq", "declIgst", "declCgst", "declSgst", "declCess")
_SNAKE = ("itc_red_req", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess")
_ITC_KEYS = frozenset(_CAMEL + _SNAKE)


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
    """Records with errors would be uploaded; ``rows`` lists them."""

    def __init__(self, rows: list[LeftOut]):
        self.rows = rows
        shown = "\n".join(f"  {r}" for r in rows[:50])
        more = f"\n  ... and {len(rows) - 50} more" if len(rows) > 50 else ""
        super().__init__(f"upload refused: {len(rows)} record(s) cannot be uploaded; fix them or "
                         f"upload only the valid ones (only_valid=True):\n{shown}{more}")


@dataclass
class Upload:
    """A built upload: the SAVE payload, and what was left out."""

    payload: dict
    included: list[int] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    resets: list[LeftOut] = field(default_factory=list)
    reset_payload: dict | None = None
    warnings: list[LeftOut] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.payload["invdata"].values())

    def to_json(self) -> str:
        return dumps(self.payload)

    def write(self, path: str | Path) -> Path:
        """Write the SAVE JSON atomically (temp file + ``os.replace``)."""
        return write_text_atomically(path, self.to_json())

    def write_reset(self, path: str | Path) -> Path | None:
        """Write the RESET JSON, if any record went back to No Action."""
        return write_text_atomically(path, dumps(self.reset_payload)) if self.reset_payload else None


def write_upload(path: str | Path, records: pd.DataFrame, statuses: pd.DataFrame, rtin: str,
                 **kwargs) -> Upload:
    """:func:`build_upload` then :meth:`Upload.write`."""
    up = build_upload(records, statuses, rtin, **kwargs)
    up.write(path)
    return up


def build_upload(records: pd.DataFrame, statuses: pd.DataFrame, rtin: str, *,
                 specified: pd.Series | str | None = None, only_valid: bool = False,
                 decl_style: str = "camel") -> Upload:
    """Build the SAVE payload from a typed canonical frame (see the module doc).

    ``statuses`` is aligned with ``records`` by index and has ``status``
    (ok / warning / error / info) and optionally ``primary_code``; a record
    without a status counts as an error. ``specified`` is a boolean Series
    aligned with ``records``, or the name of such a column; when None, the
    column ``specified`` is used if present, else the sections in
    :data:`DEFAULT_SPECIFIED_SECTIONS`. ``decl_style`` ("camel" or "snake")
    names the ITC-reduction keys of records not imported from an IMS JSON.
    """
    rtin = str(rtin).strip().upper()
    if not gstin_mod.is_valid(rtin):
        raise ValueError(f"rtin {rtin!r} is not a valid GSTIN (the recipient's, 15 characters)")
    n = len(records)
    col = _columns(records)
    act = col("action").map(lambda v: ACTION_CODE.get(v, str(v)[:1].upper()))
    prev = col("previous_action").map(lambda v: ACTION_CODE.get(v, str(v)[:1].upper()))
    prev = prev.where(prev != "", "N")
    section = col("section")
    changed = (act != "") & (act != prev)
    in_ims = section.isin(list(SECTION_KEYS)) & (col("not_in_ims") == "") & (prev != "X")
    status = _statuses(statuses, records.index)
    spec = _specified(records, specified, section)

    ident = _identities(records, col)
    rows = records["row"].to_numpy() if "row" in records else np.arange(1, n + 1)
    left_out, resets, warnings = [], [], []
    refuse: list[tuple[int, LeftOut]] = []
    for i in np.flatnonzero((changed & ~in_ims).to_numpy()):
        left_out.append(ident(i, "not an IMS record (outside IMS, pre-IMS or not an IMS section)"))
    candidates = changed & in_ims
    errors = status["status"] == "error"
    remarks = col("remarks")
    sends_remarks = (candidates & (remarks != "") & (col("remarks_blocked", -1) != 1)
                     & act.isin(["A", "R", "P"]))
    long_remarks = sends_remarks & (remarks.str.len() > MAX_REMARKS)
    for i in np.flatnonzero(errors.to_numpy()):
        refuse.append((i, ident(i, "validation error", str(status["primary_code"].iloc[i]))))
    for i in np.flatnonzero((long_remarks & ~errors).to_numpy()):
        refuse.append((i, ident(i, f"remarks are {len(remarks.iloc[i])} characters; "
                                   f"the portal takes at most {MAX_REMARKS}")))
    if refuse and not only_valid:
        raise UploadRefused([r for _, r in sorted(refuse, key=lambda t: t[0])])
    left_out += [r for i, r in sorted(refuse, key=lambda t: t[0]) if candidates.iloc[i]]
    keep = candidates & ~errors & ~long_remarks
    for i in np.flatnonzero((keep & (act == "N")).to_numpy()):
        resets.append(ident(i, f"reset to No Action (was {STATES.get(prev.iloc[i], prev.iloc[i])})"))
    save = keep & (act != "N")

    extras = records["extra"].tolist() if "extra" in records else [{}] * n
    built = _Builder(records, col, act, prev, spec, decl_style)
    invdata: dict[str, list] = {}
    reset_data: dict[str, list] = {}
    included = []
    for i in np.flatnonzero((save | (keep & (act == "N"))).to_numpy()):
        extra = extras[i] if isinstance(extras[i], dict) else {}
        rec, key, warn = built.record(i, extra)
        if warn:
            warnings.append(ident(i, warn))
        if built.act[i] == "N":
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
    return Upload(payload, included, left_out, resets, reset_payload, warnings)


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

    def __init__(self, records, col, act, prev, spec, decl_style):
        self.v = {name: col(name).tolist() for name in self.TEXT}
        self.v.update({name: col(name, 0.0).tolist() for name in self.NUMBERS})
        for name in ("declaration_blocked", "remarks_blocked"):
            self.v[name] = col(name, -1).tolist()
        for name in ("document_date", "original_document_date"):
            self.v[name] = (records[name].dt.strftime("%d-%m-%Y").fillna("").tolist()
                            if name in records else [""] * len(records))
        self.act, self.prev, self.spec = act.tolist(), prev.tolist(), spec.tolist()
        self.style = _SNAKE if decl_style == "snake" else _CAMEL

    def record(self, i: int, extra: dict) -> tuple[dict, str, str]:
        v = self.v
        source = extra.get("_source")
        if isinstance(source, str) and source.strip():
            source = json.loads(source, parse_float=parse_float)
        section = v["section"][i]
        if isinstance(source, dict):
            rec = dict(source)
            key = str(extra.get("_section_key") or SECTION_KEYS[section])
            style = _SNAKE if any(k in rec for k in _SNAKE) else _CAMEL
        else:
            rec = self._from_columns(i, section, extra)
            key = SECTION_KEYS[section]
            style = self.style
        act = self.act[i]
        rec["action"] = act
        rec["prev_status"] = self.prev[i]
        if not _ITC_KEYS.isdisjoint(rec):
            for k in _ITC_KEYS:
                rec.pop(k, None)
        warn = ""
        if act == "A" and self.spec[i] and v["declaration_blocked"][i] != 1:
            red = v["itc_reduction"][i]
            if red == "Full":
                rec[style[0]] = "Y"
            elif red == "Partial":
                rec[style[0]] = "Y"
                for k, c in zip(style[1:], self.NUMBERS[-4:]):
                    rec[k] = _money(v[c][i])
            elif red == "No":
                rec[style[0]] = "N"
            else:
                warn = "accepted specified record without an ITC-reduction answer: no itcRedReq sent"
        text = v["remarks"][i]
        rec.pop("remarks", None)
        if text and v["remarks_blocked"][i] != 1 and act in ("A", "R", "P"):
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
        rec[num] = v["document_number"][i]
        rec[dat] = v["document_date"][i]
        if section in ("B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA"):
            rec[onum] = v["original_document_number"][i]
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
