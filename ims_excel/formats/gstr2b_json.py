"""GSTR-2B JSON in (GET2B / portal download).

Spec (shared/domain/formats-and-market.md 2.4, ims-rules.md 2 and 4.2):

Envelope
    ``{chksum, data: {gstin, rtnprd, docdata: {...}, docRejdata: {...}, itcsumm, ...}}``;
    a bare ``{rtnprd, docdata}`` (no ``data``) reads the same. ``itcsumm`` and
    ``cpsumm`` are summaries and are not read.

Sections of ``docdata`` (and ``docRejdata``) -> canonical Section
    ``b2b`` B2B · ``b2ba`` B2BA · ``cdnr`` B2B-CN / B2B-DN by the note's ``typ``
    (C / D) · ``cdnra`` B2B-CNA / B2B-DNA · ``ecom`` ECO · ``ecoma`` ECOA ·
    ``isd`` ISD · ``isda`` ISDA · ``impg`` IMPG (IMPGA when ``isamd`` = Y) ·
    ``impgsez`` IMPGSEZ (IMPGSEZA when ``isamd`` = Y) [?: isamd reading
    unverified] · ``impga``/``impgasez`` IMPGA/IMPGSEZA ·
    ``itcrev`` (a list or object of b2b/b2ba/cdnr/cdnra) the same, marked 37A.

Supplier level
    ``ctin`` Supplier GSTIN · ``trdnm`` Supplier Name · ``supfildt`` Supplier
    Filing Date · ``supprd`` *Supplier Return Period* (kept in ``extra``).
    Every record: Supplier Filing Status = Filed, 2B Period = the 2B's ``rtnprd``.

Documents (``inv[]``, ``nt[]``, ``doclist[]``, ``boe[]``; impg records are flat)
    ``inum``/``ntnum``/``docnum``/``boenum`` Document Number ·
    ``dt``/``docdt``/``boedt`` Document Date · ``oinum``/``ontnum``/``odocnum``,
    ``oidt``/``ontdt``/``odocdt`` Original Document Number/Date · ``val`` ·
    ``txval igst cgst sgst cess`` (summed from ``items[]`` when the document
    has no totals) · ``typ`` (invoices) / ``suptyp`` (notes) Supply Type ·
    ``pos`` · ``rev`` Reverse Charge · ``itcavl``/``itcelg`` ITC Available
    (T, "temporary", is read as Y and kept as *ITC Availability Code*) ·
    ``portcode``/``refdt`` kept as *Port Code*/*ICEGATE Reference Date*.

Outside IMS (*Not In IMS*)
    ``rev`` = Y -> RCM · ISD sections -> ISD · ``rsn`` P -> POS · ``rsn`` C -> 164 ·
    ``itcrev`` -> 37A. BoEs get Source Form ICEGATE (whether a BoE is in IMS
    depends on its period: the engine decides). ISD gets Source Form GSTR-6.

Actions
    ``docRejdata`` records: Action = Reject, Previous Action = Rejected. Other
    records carry no IMS action (blank), so they never reach an upload.

>>> raw = parse({"data": {"gstin": "29AAACS2222T1ZX", "rtnprd": "102025", "docdata": {"cdnr": [
...     {"ctin": "27AAACR5055K1Z7", "supfildt": "11-11-2025", "supprd": "102025",
...      "nt": [{"ntnum": "CN-1", "typ": "C", "dt": "01-10-2025", "txval": 100, "igst": 18}]}]}}})
>>> raw.loc[0, ["Section", "Document Number", "2B Period", "Supplier Filing Status"]].tolist()
['B2B-CN', 'CN-1', '102025', 'Filed']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ims_excel.formats._common import JsonProblem, SUPPLIER_RETURN_PERIOD, file_problem, to_typed
from ims_excel.formats._jsonstream import batches, elements, is_array, read_with, share_repeats
from ims_excel.formats._values import document_numbers, json_amounts, json_dates, shown, state_codes, supply_types
from ims_excel.normalise import InputError

MAX_PROBLEMS = 200

ISD_CREDIT_NOTE = frozenset({"ISDC", "C"})
"""``doctyp`` of an ISD credit note in GSTR-2B's isd/isda lists (formats-and-market.md 2.4: ISDI / ISDC)."""


def _isd_credit_notes(frame: pd.DataFrame, file) -> list[JsonProblem]:
    """ISD credit notes are refused, not read: 4A(4) is "ISD invoices + ISDA, net of ISD credit notes"
    (ims-rules.md section 5), and the canonical records have no way yet to say that an ISD document
    is a credit note, so it would be counted as credit instead of reducing it. Refusing names each one
    (a rules review found them added to 4A(4))."""
    if "ISD Document Type" not in frame:
        return []
    kind = frame["ISD Document Type"].astype(str).str.strip().str.upper()
    return [JsonProblem(file, None, None,
                        f"ISD credit note {frame['Document Number'].iloc[i]!r} (doctyp {kind.iloc[i]}): "
                        "not supported yet - it would be counted as ITC in 4A(4) instead of reducing it; "
                        "leave it out of this file and reduce 4A(4) by hand", None, frame["_path"].iloc[i])
            for i in np.flatnonzero(kind.isin(ISD_CREDIT_NOTE).to_numpy())]
CODE = "ITC Availability Code"
_LISTS = ("inv", "nt", "doclist", "boe")
_HEADS = {"txval": "Taxable Value", "igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
_DOCDATA = ("b2b", "b2ba", "cdnr", "cdnra", "ecom", "ecoma", "isd", "isda",
            "impg", "impga", "impgsez", "impgasez")
_SECTION = {"b2b": "B2B", "b2ba": "B2BA", "ecom": "ECO", "ecoma": "ECOA", "isd": "ISD",
            "isda": "ISDA", "impg": "IMPG", "impga": "IMPGA", "impgsez": "IMPGSEZ",
            "impgasez": "IMPGSEZA"}


def read(path: str | Path) -> pd.DataFrame:
    """Read a GSTR-2B JSON file into the raw canonical frame (see the module doc)."""
    return read_with(parse, path)


def load(path: str | Path, direction: str = "inward") -> pd.DataFrame:
    return to_typed(read(path), direction=direction)


def is_gstr2b(obj: object) -> bool:
    body = obj.get("data", obj) if isinstance(obj, dict) else None
    return isinstance(body, dict) and isinstance(body.get("docdata"), dict)


def parse(obj: object, file: str = "<json>") -> pd.DataFrame:
    """The raw frame of a parsed GSTR-2B (see the module doc)."""
    if not is_gstr2b(obj):
        raise file_problem(file, "is not a GSTR-2B JSON: expected data.docdata")
    prefix = "data." if isinstance(obj.get("data"), dict) else ""
    body = obj.get("data", obj)
    period = str(body.get("rtnprd") or "")
    problems: list[JsonProblem] = []
    frames = []
    blocks = [("docdata", body.get("docdata"), "", ""), ("docRejdata", body.get("docRejdata"), "", "R")]
    for block, data, _, action in blocks:
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(JsonProblem(file, None, None, "is not an object", None, f"{prefix}{block}"))
            continue
        for key in _DOCDATA:
            if data.get(key) is not None:
                frames.extend(_section(data[key], key, f"{prefix}{block}.{key}", file, problems, action, ""))
        rev = data.get("itcrev")
        listed = is_array(rev)
        for j, part in (elements(rev) if listed else [(0, rev)] if rev else []):
            where = f"{prefix}{block}.itcrev" + (f"[{j}]" if listed else "")
            if not isinstance(part, dict):
                problems.append(JsonProblem(file, None, None, "is not an object", None, where))
                continue
            for key in ("b2b", "b2ba", "cdnr", "cdnra"):
                if part.get(key) is not None:
                    frames.extend(_section(part[key], key, f"{where}.{key}", file, problems, action, "37A"))
    frames = [f for f in frames if len(f)]
    for f in frames:
        problems.extend(_isd_credit_notes(f, file))
    if problems:
        extra = len(problems) - MAX_PROBLEMS
        raise InputError(problems[:MAX_PROBLEMS] + ([JsonProblem(
            file, None, None, f"... and {extra} more problems like these")] if extra > 0 else []))
    raw = (pd.concat(frames, ignore_index=True) if frames
           else pd.DataFrame({c: pd.Series(dtype=object) for c in ("Section", "Document Number",
                                                                   "Document Date", "_path")}))
    raw["2B Period"] = period
    raw.attrs.update({"format": "gstr2b_json", "file": file, "gstin": str(body.get("gstin") or ""),
                      "period": period})
    return raw


def _section(suppliers, key: str, where: str, file: str, problems: list, action: str,
             not_in_ims: str) -> list[pd.DataFrame]:
    """The raw frames of a section, a batch of suppliers at a time (a streamed file: a few MB)."""
    if not is_array(suppliers):
        problems.append(JsonProblem(file, None, None, f"is a {type(suppliers).__name__}; "
                                    "a section is a list", None, where))
        return []
    frames, row = [], 0
    for first, batch, _ in batches(suppliers):
        frame = _batch(batch, first, row, key, where, file, problems, action, not_in_ims)
        if frame is not None:
            row += len(frame)
            if not problems:  # once refused, only the problems are kept
                frames.append(frame)
    if any(CODE in f for f in frames):  # as the section read whole: the code of every document, once one is T
        for f in frames:
            if CODE not in f:
                f.insert(f.columns.get_loc("ITC Available") + 1, CODE, f["ITC Available"].to_numpy())
    return frames


def _batch(suppliers: list, first: int, row: int, key: str, where: str, file: str, problems: list, action: str,
           not_in_ims: str) -> pd.DataFrame | None:
    """The raw frame of suppliers ``first``.. of a section, their first document being number ``row`` + 1."""
    docs, paths, sup_idx = [], [], []
    flat = key == "impg" or key == "impga"
    for i, sup in enumerate(suppliers, first):
        if not isinstance(sup, dict):
            problems.append(JsonProblem(file, None, None, "is not an object", None, f"{where}[{i}]"))
            continue
        if flat:
            docs.append(sup)
            paths.append(f"{where}[{i}]")
            sup_idx.append(i - first)
            continue
        lst = next((n for n in _LISTS if n in sup), None)
        items = sup.get(lst) if lst else None
        if not isinstance(items, list):
            problems.append(JsonProblem(file, None, None, "has no document list (inv, nt, doclist "
                                        "or boe)", None, f"{where}[{i}]"))
            continue
        for j, d in enumerate(items):
            if not isinstance(d, dict):
                problems.append(JsonProblem(file, None, None, "is not an object", None,
                                            f"{where}[{i}].{lst}[{j}]"))
                continue
            docs.append(d)
            paths.append(f"{where}[{i}].{lst}[{j}]")
            sup_idx.append(i - first)
    if not docs:
        return None
    d = pd.DataFrame(docs)
    n = len(d)
    if flat:
        s = pd.DataFrame(index=range(n))
    else:
        s = pd.DataFrame([{k: v for k, v in sup.items() if not isinstance(v, (list, dict))}
                          if isinstance(sup, dict) else {} for sup in suppliers])
        s = s.iloc[sup_idx].reset_index(drop=True)

    def get(frame: pd.DataFrame, *names: str) -> pd.Series:
        out = pd.Series([None] * n, dtype=object)
        for name in names:
            if name in frame:
                out = out.where(out.notna(), frame[name].astype(object).values)
        return out

    def report(mask: pd.Series, column: str, what) -> None:
        for i in mask[mask].index[:MAX_PROBLEMS]:
            problems.append(JsonProblem(file, row + int(i) + 1, column, what(i), None, paths[i]))

    out = pd.DataFrame(index=range(n))
    out["Section"] = _sections(key, d, n)
    gstin = get(s, "ctin") if not flat else get(d, "ctin")
    out["Supplier GSTIN"] = gstin.where(gstin.notna(), "")
    if key not in ("impg", "impga"):
        report(out["Supplier GSTIN"].astype(str).str.strip() == "", "Supplier GSTIN",
               lambda i: "missing ctin (the supplier's GSTIN)")
    out["Supplier Name"] = get(s, "trdnm").where(lambda x: x.notna(), "").values
    num = get(d, "inum", "ntnum", "docnum", "boenum")
    vals, bad = document_numbers(num)
    report(bad, "Document Number", lambda i: f"document number {shown(num[i])} is not text")
    report((vals.astype(str).str.strip() == "") & ~bad, "Document Number", lambda i: "missing document number")
    out["Document Number"] = vals.values
    onum = get(d, "oinum", "ontnum", "odocnum", "oboenum")
    out["Original Document Number"] = document_numbers(onum)[0].values
    for col, names in (("Document Date", ("dt", "docdt", "boedt")),
                       ("Original Document Date", ("oidt", "ontdt", "odocdt", "oboedt"))):
        series = get(d, *names)
        report(json_dates(series), col, lambda i, v=series: f"date {shown(v[i])} is not DD-MM-YYYY")
        out[col] = series.where(series.notna(), "").values
    filed = get(s, "supfildt")
    report(json_dates(filed), "Supplier Filing Date", lambda i: f"supfildt {shown(filed[i])} is not DD-MM-YYYY")
    out["Supplier Filing Date"] = filed.where(filed.notna(), "").values
    out[SUPPLIER_RETURN_PERIOD] = get(s, "supprd").where(lambda x: x.notna(), "").values
    heads = _amounts(d, n)
    for name, col in (("val", "Document Value"), *_HEADS.items()):
        series = heads.get(name, get(d, name))
        v, bad = json_amounts(series)
        report(bad, col, lambda i, nm=name, s_=series: f"{nm} {shown(s_[i])} is not a number")
        out[col] = v.values
    typ = get(d, "suptyp") if key.startswith("cdnr") else get(d, "typ")
    out["Supply Type"] = supply_types(typ).values if not key.startswith(("isd", "imp")) else ""
    out["Place Of Supply"] = state_codes(get(d, "pos")).values
    rev = get(d, "rev").where(lambda x: x.notna(), "").astype(str).str.upper()
    out["Reverse Charge"] = rev.values
    avail = get(d, "itcavl", "itcelg").where(lambda x: x.notna(), "").astype(str).str.upper()
    out["ITC Available"] = avail.replace({"T": "Y"}).values
    if (avail == "T").any():
        out[CODE] = avail.values
    rsn = get(d, "rsn").where(lambda x: x.notna(), "").astype(str).str.upper()
    nii = pd.Series(not_in_ims, index=range(n), dtype=object)
    nii = nii.where(nii != "", rsn.map({"P": "POS", "C": "164"}).fillna(""))
    nii = nii.where(nii != "", rev.map({"Y": "RCM"}).fillna(""))
    if key.startswith("isd"):
        nii = nii.where(nii != "", "ISD")
        out["Source Form"] = "GSTR-6"
        out["ISD Document Type"] = get(d, "doctyp").where(lambda x: x.notna(), "").values
    elif key.startswith("imp"):
        out["Source Form"] = "ICEGATE"
        out["Port Code"] = get(d, "portcode").where(lambda x: x.notna(), "").values
        out["ICEGATE Reference Date"] = get(d, "refdt").where(lambda x: x.notna(), "").values
    out["Not In IMS"] = nii.values
    out["Supplier Filing Status"] = "Filed" if not key.startswith("imp") else ""
    if action:
        out["Action"] = "Reject"
        out["Previous Action"] = "Rejected"
    out["_path"] = paths
    return share_repeats(out, ("_path",))


def _sections(key: str, d: pd.DataFrame, n: int) -> pd.Series:
    if key in ("cdnr", "cdnra"):
        typ = d["typ"].astype(str).str.upper() if "typ" in d else pd.Series([""] * n)
        base = "B2B-DN" if key == "cdnr" else "B2B-DNA"
        credit = "B2B-CN" if key == "cdnr" else "B2B-CNA"
        return pd.Series(typ.map({"C": credit, "D": base}).fillna(credit).values)
    section = _SECTION[key]
    if key in ("impg", "impgsez") and "isamd" in d:
        amended = d["isamd"].astype(str).str.upper() == "Y"
        return pd.Series([section + "A" if a else section for a in amended])
    return pd.Series([section] * n)


def _amounts(d: pd.DataFrame, n: int) -> dict[str, pd.Series]:
    """Totals from ``items[]`` for documents that carry none of their own."""
    if "items" not in d:
        return {}
    need = d["txval"].isna() if "txval" in d else pd.Series(True, index=d.index)
    need &= d["items"].map(lambda v: isinstance(v, list))
    if not need.any():
        return {}
    out = {}
    for name in _HEADS:
        base = d[name].astype(object) if name in d else pd.Series([None] * n, dtype=object)
        sums = d.loc[need, "items"].map(lambda items, nm=name: _item_sum(items, nm))
        base = base.copy()
        base[need] = sums
        out[name] = base
    return out


def _item_sum(items: list, name: str) -> object:
    try:
        return round(sum(float(it.get(name) or 0) for it in items if isinstance(it, dict)), 2)
    except (TypeError, ValueError):
        return "not a number in items[]"
