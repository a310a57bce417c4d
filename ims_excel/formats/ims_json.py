"""IMS JSON in: the offline-tool download, the GSP ``GETINV`` response, our own upload.

Spec (shared/domain/formats-and-market.md 2.3; field names are the portal's):

Envelopes, detected in this order
    ``{"data": {...}}`` (a GSP wrapper, unwrapped first);
    ``{"imsDetails": {<key>: [...]}}`` (offline tool download; ``imsDetailsErr``,
    the portal's error file, reads the same way);
    ``{"rtin": ..., "reqtyp": ..., "invdata": {<key>: [...]}}`` (an upload file,
    ours or the offline tool's);
    ``{<key>: [...], ...}`` (``GETINV``: section keys at the top).
    Section keys: ``b2b b2ba b2bdn b2bdna b2bcn b2bcna ecom ecoma impg impga
    impgsez impgasez`` (also ``dn dna cn cna``, any case). A record may also sit
    under a supplier group (``{"stin":..., "inv"|"nt"|"boe": [...]}``).

Record fields -> canonical columns (keys matched without case or ``_``, so
``itc_red_req``, ``itcRedReq`` and ``ITCREDREQ`` are one key)
    ``stin`` (or ``ctin``) Supplier GSTIN · ``tradenm`` Supplier Name ·
    ``inum``/``nt_num``/``boenum`` Document Number (text, exactly as sent) ·
    ``idt``/``nt_dt``/``boedt`` Document Date (``DD-MM-YYYY`` only) ·
    ``oinum``/``ont_num``, ``oidt``/``ont_dt`` Original Document Number/Date ·
    ``inv_typ`` Supply Type · ``srcform`` Source Form (R1, R1A, R5, GSTR1A) ·
    ``rtnprd`` *Supplier Return Period* (not canonical: kept in ``extra``) ·
    ``srcfilstatus`` Supplier Filing Status (Filed / Not Filed / F / NF) ·
    ``val txval iamt camt samt cess`` amounts (JSON numbers or numeric strings) ·
    ``otxval oiamt ocamt osamt ocess`` Original amounts [?: names unverified] ·
    ``pos`` Place Of Supply · ``ispendactblocked`` Pending Blocked ·
    ``isRemarksBlocked`` Remarks Blocked · ``isItcRedReqBlocked`` (or
    ``itcRedReqBlocked``) Declaration Blocked · ``itcRedReq`` ITC Reduction
    (Y with no declared values = Full, Y with values = Partial, N = No) ·
    ``declIgst..declCess`` Declared IGST..Cess · ``remarks`` Remarks ·
    ``portcode`` *Port Code* (kept in ``extra``) · ``error_msg`` Portal Error (the
    portal's error file, ``imsDetailsErr``).

``raw.attrs``: ``gstin`` and ``gstin_from`` (the recipient GSTIN, ``rtin`` else
``gstin``, and the key it was read from, e.g. ``data.gstin``; '' when the file
has none, as the offline download), ``envelope`` (``imsDetails``,
``imsDetailsErr``, ``invdata`` or ``""`` for GETINV) and ``sections`` (the
section keys the file has, even empty: a download is complete for those
sections).

Actions
    ``action`` (A/R/P/N; absent = N) is the status saved on the portal. Both
    *Action* and *Previous Action* are set to it, so importing and uploading
    with no change uploads nothing. Where a record carries ``prev_status``
    (an upload file), that is the *Previous Action* instead.

Kept for the way back
    ``_source`` holds each record exactly as read: its JSON text when read from a
    file (the sections are streamed, :mod:`._jsonstream`: no dict per record is
    kept), the dict when :func:`parse` is given objects (numbers keep their
    spelling either way, see :mod:`._jsonio`), ``_section_key`` its section key and
    ``_path`` its place (``imsDetails.b2b[3]``); normalise moves them to ``extra``.

>>> raw = parse({"b2b": [{"stin": "27AAACR5055K1Z7", "inum": "000123", "idt": "01-10-2025",
...                       "val": 118, "txval": 100, "iamt": 18, "action": "A", "hash": "ab"}]})
>>> raw.loc[0, ["Section", "Document Number", "Action", "Previous Action"]].tolist()
['B2B', '000123', 'A', 'A']
>>> raw.loc[0, "_source"]["hash"], raw.loc[0, "_path"]
('ab', 'b2b[0]')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.formats._common import (JsonProblem, SECTION_OF_KEY, SUPPLIER_RETURN_PERIOD, file_problem,
                                       label_key, to_typed)
from ims_excel.formats._jsonio import dumps
from ims_excel.formats._jsonstream import JsonArray, batches, is_array, kind, read_with, share_repeats
from ims_excel.formats._values import (document_numbers, json_amounts, json_dates, shown, source_forms,
                                       state_codes, supply_types)
from ims_excel.normalise import InputError

SECTION_ALIASES = {**{k: k for k in SECTION_OF_KEY}, "dn": "b2bdn", "dna": "b2bdna",
                   "cn": "b2bcn", "cna": "b2bcna", "impgseza": "impgasez"}
"""Section keys as found (lower case) -> the API section key."""

MAX_PROBLEMS = 200

DOC, DATE, ODOC, ODATE = ("Document Number", "Document Date",
                          "Original Document Number", "Original Document Date")
AMOUNTS = ("Document Value", "Taxable Value", "IGST", "CGST", "SGST", "Cess",
           "Original Taxable Value", "Original IGST", "Original CGST", "Original SGST",
           "Original Cess", "Declared IGST", "Declared CGST", "Declared SGST", "Declared Cess")
DECLARED = AMOUNTS[-4:]

FIELDS = {
    "stin": "Supplier GSTIN", "ctin": "Supplier GSTIN",
    "tradenm": "Supplier Name", "trdnm": "Supplier Name", "tradename": "Supplier Name",
    "inum": DOC, "ntnum": DOC, "boenum": DOC,
    "idt": DATE, "ntdt": DATE, "boedt": DATE,
    "oinum": ODOC, "ontnum": ODOC, "oboenum": ODOC,
    "oidt": ODATE, "ontdt": ODATE, "oboedt": ODATE,
    "invtyp": "Supply Type",
    "srcform": "Source Form", "rtntyp": "Source Form",
    "rtnprd": SUPPLIER_RETURN_PERIOD, "srtnprd": SUPPLIER_RETURN_PERIOD,
    "srcfilstatus": "Supplier Filing Status",
    "val": "Document Value", "txval": "Taxable Value",
    "iamt": "IGST", "igst": "IGST", "camt": "CGST", "cgst": "CGST",
    "samt": "SGST", "sgst": "SGST", "cess": "Cess", "csamt": "Cess",
    "otxval": "Original Taxable Value", "oiamt": "Original IGST", "ocamt": "Original CGST",
    "osamt": "Original SGST", "ocess": "Original Cess",
    "pos": "Place Of Supply",
    "action": "Action", "prevstatus": "Previous Action",
    "ispendactblocked": "Pending Blocked",
    "isremarksblocked": "Remarks Blocked", "isremarkblocked": "Remarks Blocked",
    "isitcredreqblocked": "Declaration Blocked", "itcredreqblocked": "Declaration Blocked",
    "itcredreq": "ITC Reduction",
    "decligst": "Declared IGST", "declcgst": "Declared CGST",
    "declsgst": "Declared SGST", "declcess": "Declared Cess",
    "remarks": "Remarks", "portcode": "Port Code",
    "errormsg": "Portal Error",
}
"""JSON key (see :func:`label_key`) -> canonical column (or kept-extra header)."""

_GROUP_LISTS = ("inv", "nt", "boe", "doclist")


def read(path: str | Path) -> pd.DataFrame:
    """Read an IMS JSON file into the raw canonical frame (see the module doc)."""
    return read_with(parse, path)


def load(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    """Read and type an IMS JSON file (``normalise``), problems named by JSON path."""
    return to_typed(read(path), direction=direction)


def find_sections(obj: object, file: str) -> tuple[str, dict, str]:
    """(path prefix, {section key as found: value}, recipient GSTIN or '')."""
    prefix, sections, gstin, _ = _find_sections(obj, file)
    return prefix, sections, gstin


def _recipient(obj: dict, prefix: str) -> tuple[str, str]:
    """(recipient GSTIN, the key it was read from) of an envelope: ``rtin`` (an upload file), else ``gstin``."""
    for key in ("rtin", "gstin"):
        if obj.get(key):
            return str(obj[key]), f"{prefix}{key}"
    return "", ""


def _find_sections(obj: object, file: str) -> tuple[str, dict, str, str]:
    """:func:`find_sections` and where the recipient GSTIN was read (``rtin``, ``data.gstin``...; '')."""
    if not isinstance(obj, dict):
        raise file_problem(file, f"is a JSON {kind(obj)}; an IMS file is an object "
                                 "with imsDetails, invdata or section keys (b2b, b2ba, ...)")
    prefix = ""
    gstin, where = _recipient(obj, "")
    if "data" in obj and not _section_keys(obj):
        if not isinstance(obj["data"], dict):
            raise file_problem(file, "'data' is not an object (an encrypted or queued response?)")
        obj, prefix = obj["data"], "data."
        if not gstin:
            gstin, where = _recipient(obj, prefix)
    for envelope in ("imsDetails", "imsDetailsErr", "invdata"):
        if envelope in obj:
            inner = obj[envelope]
            if not isinstance(inner, dict):
                raise file_problem(file, f"{prefix}{envelope} is a {kind(inner)}, not an object "
                                         "of sections")
            return f"{prefix}{envelope}.", {k: inner[k] for k in _section_keys(inner)}, gstin, where
    keys = _section_keys(obj)
    if keys:
        return prefix, {k: obj[k] for k in keys}, gstin, where
    if "token" in obj:
        raise file_problem(file, "is a queued GETINV response (token/est): fetch the files with "
                                 "FILEDET and import those")
    shown = ", ".join(sorted(map(str, obj))[:12]) or "none"
    raise file_problem(file, f"is not an IMS JSON: expected imsDetails, invdata or section keys "
                             f"(b2b, b2ba, b2bdn, ...); found keys: {shown}")


def _section_keys(obj: dict) -> list[str]:
    return [k for k in obj if isinstance(k, str) and k.lower() in SECTION_ALIASES]


def parse(obj: object, file: str = "<json>") -> pd.DataFrame:
    """The raw frame of a parsed IMS JSON document (see the module doc)."""
    prefix, sections, gstin, gstin_from = _find_sections(obj, file)
    problems: list[JsonProblem] = []
    frames = []
    for found_key, records in sections.items():
        key = SECTION_ALIASES[found_key.lower()]
        where = f"{prefix}{found_key}"
        if records is None:
            continue
        if not is_array(records):
            problems.append(JsonProblem(file, None, None, f"is a {type(records).__name__}; "
                                        "a section is a list of records", None, where))
            continue
        frames.extend(_section_frames(records, key, where, file, problems))
    if problems:
        raise InputError(_capped(problems, file))
    raw = pd.concat(frames, ignore_index=True) if frames else _empty()
    envelope = prefix.split(".")[-2] if prefix.endswith(".") and prefix != "data." else ""
    raw.attrs.update({"format": "ims_json", "file": file, "gstin": gstin, "gstin_from": gstin_from,
                      "envelope": envelope,
                      "sections": sorted({SECTION_ALIASES[k.lower()] for k in sections})})
    return raw


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ("Section", DOC, DATE, "_source",
                                                              "_section_key", "_path")})


def _capped(problems: list, file: str) -> list:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    extra = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [JsonProblem(file, None, None,
                                                  f"... and {extra} more problems like these")]


def _grouped(records: list) -> bool:
    """Whether a section's records are supplier groups ({stin, inv: [...]}), judged by its first 50."""
    return any(isinstance(r, dict) and any(isinstance(r.get(g), list) for g in _GROUP_LISTS)
               for r in records[:50])


def _flatten(records: list, where: str, first: int) -> tuple[list, list[str]]:
    """Supplier-grouped records ({stin, inv: [...]}) to flat ones, and their paths."""
    flat, paths = [], []
    for i, group in enumerate(records, first):
        lists = [g for g in _GROUP_LISTS if isinstance(group, dict) and isinstance(group.get(g), list)]
        if not lists:
            flat.append(group)
            paths.append(f"{where}[{i}]")
            continue
        inherit = {k: v for k, v in group.items() if not isinstance(v, (list, dict))}
        for j, child in enumerate(group[lists[0]]):
            flat.append({**inherit, **child} if isinstance(child, dict) else child)
            paths.append(f"{where}[{i}].{lists[0]}[{j}]")
    return flat, paths


def _section_frames(records: list | JsonArray, key: str, where: str, file: str,
                    problems: list) -> list[pd.DataFrame]:
    """The raw frames of a section, a batch of records at a time (a file's section: a few MB at a time;
    a list: one batch). Once a problem is found only the problems are kept.

    The result is the one frame the section read whole gives: whether the section is supplier-grouped is
    judged by its first 50 records, and a batch that lacks a field some other batch has is read again
    with that field as missing (as ``pd.DataFrame`` of all the records would have it)."""
    parts: list[list] = []  # [batch number, first record, first row, frame, fields present]
    pending: list[tuple] = []
    grouped: bool | None = None
    row = 0

    def run(k: int, first: int, batch: list, texts: list[str] | None) -> None:
        nonlocal row
        frame, n, present = _section_frame(batch, key, where, file, problems, first, row, texts, grouped)
        if frame is not None and not problems:
            parts.append([k, first, row, frame, present])
        row += n

    for k, (first, batch, texts) in enumerate(batches(records, texts=True)):
        if grouped is not None:
            run(k, first, batch, texts)
            continue
        pending.append((k, first, batch, texts))
        head = [r for p in pending for r in p[2][:50]][:50]
        if len(head) == 50:
            grouped = _grouped(head)
            for p in pending:
                run(*p)
            pending = []
    if pending:
        grouped = _grouped([r for p in pending for r in p[2][:50]][:50])
        for p in pending:
            run(*p)
    fields = set().union(*(p[4] for p in parts)) if parts else set()
    for p in parts:
        if p[4] != fields and isinstance(records, JsonArray):
            first, batch, texts = records.batch(p[0], p[1], texts=True)
            p[3] = _section_frame(batch, key, where, file, [], first, p[2], texts, grouped, fields)[0]
    return [p[3] for p in parts]


def _section_frame(records: list, key: str, where: str, file: str, problems: list, first: int = 0,
                   row: int = 0, texts: list[str] | None = None, grouped: bool | None = None,
                   fields: set[str] | None = None) -> tuple[pd.DataFrame | None, int, set[str]]:
    """The raw frame of a section's records ``first``.. (its first flat record being number ``row`` + 1),
    how many flat records they are, and which fields (canonical columns) they have. ``texts``: the
    records' JSON text (a streamed file), kept as ``_source`` instead of the dicts. ``fields``: read
    these as present (missing in every record) when the records have none of them."""
    if grouped is None:
        grouped = _grouped(records)
    if grouped:
        records, paths = _flatten(records, where, first)
        texts = None if texts is None else [dumps(r) if isinstance(r, dict) else "" for r in records]
    else:
        paths = [f"{where}[{i}]" for i in range(first, first + len(records))]
    not_dict = [i for i, r in enumerate(records) if not isinstance(r, dict)]
    for i in not_dict[:MAX_PROBLEMS]:
        problems.append(JsonProblem(file, row + i + 1, None, f"is a {type(records[i]).__name__}, "
                                    "not a record object", None, paths[i]))
    if not_dict or not records:
        return None, len(records), set()
    src = pd.DataFrame(records)
    n = len(records)
    cols: dict[str, pd.Series] = {}
    names: dict[str, str] = {}
    for col in src.columns:
        target = FIELDS.get(label_key(col))
        if target is None:
            continue
        series = src[col]
        if target in cols:  # two spellings of one field: first non-missing wins
            series = cols[target].where(cols[target].notna(), series)
        cols[target] = series
        names.setdefault(target, str(col))
    present = set(cols)
    for target in (fields or set()) - present:
        cols[target] = pd.Series(np.nan, index=src.index, dtype=object)
        names[target] = target
    path_s = pd.Series(paths)

    def report(mask: pd.Series, column: str | None, what) -> None:
        for i in mask[mask].index[:MAX_PROBLEMS]:
            problems.append(JsonProblem(file, row + int(i) + 1, column, what(i), None, path_s[i]))

    section = SECTION_OF_KEY[key]
    out = pd.DataFrame({"Section": [section] * n})
    if "Supplier GSTIN" in cols:
        gstin = cols["Supplier GSTIN"].astype(object)
        missing = gstin.isna() | (gstin.astype(str).str.strip() == "")
        out["Supplier GSTIN"] = gstin.where(~missing, "").astype(object)
    else:
        missing = pd.Series(True, index=src.index)
    if section not in ("IMPG", "IMPGA"):
        report(missing, "Supplier GSTIN", lambda i: "missing stin (the supplier's GSTIN)")
    doc_bad = pd.Series(False, index=src.index)
    for target in (DOC, ODOC):
        if target in cols:
            vals, bad = document_numbers(cols[target])
            report(bad, target, lambda i, t=target, v=cols[target]:
                   f"{names[t]} {shown(v[i])} is not text; document numbers must be JSON strings")
            out[target] = vals
            doc_bad |= bad if target == DOC else False
    doc_missing = (out[DOC].astype(str).str.strip() == "" if DOC in out
                   else pd.Series(True, index=src.index)) & ~doc_bad
    report(doc_missing, DOC, lambda i: f"missing {_doc_key(key)} (the document number)")
    for target in (DATE, ODATE):
        if target in cols:
            bad = json_dates(cols[target])
            report(bad, target, lambda i, t=target, v=cols[target]:
                   f"{names[t]} {shown(v[i])} is not a date in DD-MM-YYYY form")
            out[target] = cols[target].astype(object).where(cols[target].notna(), "")
    for target in AMOUNTS:
        if target in cols:
            vals, bad = json_amounts(cols[target])
            report(bad, target, lambda i, t=target, v=cols[target]:
                   f"{names[t]} {shown(v[i])} is not a number")
            out[target] = vals.values
    if key.startswith("imp") and "Source Form" not in cols:
        out["Source Form"] = "ICEGATE"
    for target, conv in (("Supply Type", supply_types), ("Source Form", source_forms),
                         ("Place Of Supply", state_codes)):
        if target in cols:
            out[target] = conv(cols[target]).values
    for target in ("Supplier Name", SUPPLIER_RETURN_PERIOD, "Supplier Filing Status",
                   "Pending Blocked", "Remarks Blocked", "Declaration Blocked", "Remarks",
                   "Port Code", "Portal Error"):
        if target in cols:
            out[target] = _plain(cols[target]).values
    action = _plain(cols["Action"]) if "Action" in cols else pd.Series("", index=src.index)
    action = action.where(action.str.strip() != "", "N")
    prev = _plain(cols["Previous Action"]) if "Previous Action" in cols else pd.Series("", index=src.index)
    out["Action"] = action.values
    out["Previous Action"] = prev.where(prev.str.strip() != "", action).values
    if "ITC Reduction" in cols:
        out["ITC Reduction"] = _itc_reduction(_plain(cols["ITC Reduction"]),
                                              [cols[d] for d in DECLARED if d in cols]).values
    out["_source"] = pd.Series(records if texts is None else texts, dtype=object).values
    out["_section_key"] = key
    out["_path"] = paths
    return share_repeats(out, ("_source", "_path")), n, present


def _doc_key(key: str) -> str:
    return "nt_num" if "dn" in key or "cn" in key else "boenum" if key.startswith("imp") else "inum"


def _plain(series: pd.Series) -> pd.Series:
    """Cells as text ('' for missing); JSON true/false become Y/N."""
    if pd.api.types.is_string_dtype(series):
        return series.astype(object).where(series.notna(), "")
    obj = series.astype(object)
    return obj.map(lambda v: "" if v is None or (isinstance(v, float) and v != v)
                   else ("Y" if v else "N") if isinstance(v, bool) else str(v)).astype(object)


def _itc_reduction(flag: pd.Series, declared: list[pd.Series]) -> pd.Series:
    key = flag.str.strip().str.lower()
    any_declared = pd.Series(False, index=flag.index)
    for d in declared:
        any_declared |= d.notna() & (d.astype(object).astype(str).str.strip() != "")
    yes = key.isin(["y", "yes", "true"])
    out = flag.where(~yes, "Full")
    out = out.where(~(yes & any_declared), "Partial")
    return out.where(~key.isin(["n", "no", "false"]), "No")
