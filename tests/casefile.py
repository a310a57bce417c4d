"""Run a YAML case (name, source, context, inward/outward rows, expect) through the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from ims_excel.engine import Context, evaluate
from ims_excel.engine.amounts import TABLES as TABLE4
from ims_excel.engine.gstr3b import RCM_LIABILITY
from ims_excel.engine.sample import frame
from ims_excel.records import HEADS

TABLES = (*TABLE4, RCM_LIABILITY)
"""GSTR-3B rows a case may expect: Table 4's and 3.1(d)."""
from ims_excel.cli.output import to_json

CASES = Path(__file__).parent / "cases"


class CaseFileError(ValueError):
    """A case file that does not say what it means: an unknown key (a misspelling) or a missing one."""


CONTEXT_KEYS = {"gstin", "period", "frequency", "as_of", "annual_return_date", "gstr3b_filed", "taxpayer_type"}
RECORD_KEYS = {"row", "section", "document_number", "action", "status", "codes", "message", "effective_action",
               "in_2b", "gstr3b_table", "itc", "pending_deadline", "itc_cutoff_164", "rule"}
LIABILITY_KEYS = {"row", "recipient_gstin", "document_number", "section", "taxable_value", *HEADS,
                  "gstr3b_period", "gstr3b_table"}
_SHAPE = {  # where: (allowed keys, required keys)
    "file": ({"defaults", "cases", "not_modelled"}, {"cases"}),
    "defaults": ({"context"}, set()),
    "case": ({"name", "source", "inferred", "context", "inward", "outward", "expect"}, {"name", "source", "expect"}),
    "context": (CONTEXT_KEYS, {"gstin", "period", "as_of"}),
    "expect": ({"records", "gstr3b", "gstr2b", "liability"}, set()),
    "record": (RECORD_KEYS, {"row"}),
    "itc": (set(HEADS), set()),
    "liability": (LIABILITY_KEYS, {"row"}),
    "heads": (set(HEADS), set()),
    "bucket": ({"count", *HEADS}, set()),
    "not_modelled": ({"name", "why"}, {"name", "why"}),
}


def _keys(where: str, label: str, value: object, shape: str | None = None) -> None:
    allowed, required = _SHAPE[shape or where]
    if not isinstance(value, dict):
        raise CaseFileError(f"{label}: {where} must be a mapping, not {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise CaseFileError(f"{label}: unknown key {unknown[0]!r} in {where} (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(value))
    if missing:
        raise CaseFileError(f"{label}: {where} is missing the key {missing[0]!r}")


def validate(doc: object, file: str) -> None:
    """Refuse a case file with an unknown or missing key, naming the file, the case and the key."""
    from ims_excel.engine.amounts import BUCKETS
    from ims_excel.records import SECTIONS, column_names

    _keys("file", file, doc)
    defaults = doc.get("defaults") or {}
    _keys("defaults", file, defaults)
    base = defaults.get("context") or {}
    _keys("context", f"{file} defaults", {**{k: 1 for k in ("gstin", "period", "as_of")}, **base})
    for i, case in enumerate(doc["cases"], start=1):
        label = f"{file} case {i}"
        _keys("case", label, case)
        label = f"{file} case {i} ({str(case['name']).split()[0]})"
        _keys("context", label, {**base, **(case.get("context") or {})})
        for direction in ("inward", "outward"):
            known = set(column_names(direction))
            for n, row in enumerate(case.get(direction) or [], start=1):
                bad = sorted(set(row) - known)
                if bad:
                    raise CaseFileError(f"{label}: unknown column {bad[0]!r} in {direction} row {n}")
        exp = case["expect"]
        _keys("expect", label, exp)
        for rec in exp.get("records") or []:
            _keys("record", label, rec)
            if "itc" in rec:
                _keys("itc", label, rec["itc"])
        for row in exp.get("liability") or []:
            _keys("liability", label, row)
        for table, heads in (exp.get("gstr3b") or {}).items():
            if table not in TABLES:
                raise CaseFileError(f"{label}: unknown GSTR-3B table {table!r} (allowed: {', '.join(TABLES)})")
            _keys("gstr3b " + table, label, heads, "heads")
        for bucket, sections in (exp.get("gstr2b") or {}).items():
            if bucket not in BUCKETS:
                raise CaseFileError(f"{label}: unknown GSTR-2B bucket {bucket!r} (allowed: {', '.join(BUCKETS)})")
            for section, vals in sections.items():
                if section not in SECTIONS:
                    raise CaseFileError(f"{label}: unknown section {section!r} in gstr2b {bucket}")
                _keys(f"gstr2b {bucket} {section}", label, vals, "bucket")
    for c in doc.get("not_modelled") or []:
        _keys("not_modelled", file, c)


def load(name: str | Path) -> tuple[dict, list[dict], list[dict]]:
    """(defaults, cases, not_modelled) of a case file in tests/cases (or at a path), checked by :func:`validate`."""
    path = name if isinstance(name, Path) else CASES / name
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    validate(doc, path.name)
    return doc.get("defaults", {}), doc["cases"], doc.get("not_modelled", [])


def _date(v: object) -> dt.date | None:
    if v in (None, ""):
        return None
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def context_of(defaults: dict, case: dict) -> Context:
    c = {**defaults.get("context", {}), **case.get("context", {})}
    return Context.make(c["gstin"], str(c["period"]), frequency=c.get("frequency", "monthly"),
                        as_of=_date(c["as_of"]), annual_return_date=_date(c.get("annual_return_date")),
                        gstr3b_filed=bool(c.get("gstr3b_filed", False)),
                        taxpayer_type=c.get("taxpayer_type", "normal"))


def _stringify(rows: list[dict]) -> list[dict]:
    """YAML reads 2025-11 as text but 2025-11-05 as a date; hand both over as a user would type them."""
    return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in rows]


def run(defaults: dict, case: dict) -> dict:
    ctx = context_of(defaults, case)
    inward = frame(_stringify(case.get("inward", [])))
    outward = frame(_stringify(case["outward"]), "outward") if case.get("outward") else None
    return to_json(evaluate(inward, ctx, outward))


def _norm(v: object) -> object:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def check(case: dict, got: dict) -> list[str]:
    """Differences between the case's expectations and the engine's JSON (empty = pass)."""
    exp = case["expect"]
    diffs: list[str] = []
    if "records" in exp:
        if len(exp["records"]) and len(got["records"]) < len(exp["records"]):
            diffs.append(f"expected {len(exp['records'])} records, got {len(got['records'])}")
        if not exp["records"] and got["records"]:
            diffs.append(f"expected no records, got {len(got['records'])}")
        by_row = {r["row"]: r for r in got["records"]}
        for e in exp["records"]:
            g = by_row.get(e["row"])
            if g is None:
                diffs.append(f"row {e['row']}: missing")
                continue
            for key, want in e.items():
                if key == "itc":
                    want_itc = {h: float(want.get(h, 0)) for h in HEADS}
                    if g["itc"] != want_itc:
                        diffs.append(f"row {e['row']} itc: want {want_itc}, got {g['itc']}")
                elif _norm(want) != _norm(g.get(key)):
                    diffs.append(f"row {e['row']} {key}: want {want!r}, got {g.get(key)!r}")
    if "gstr3b" in exp:
        for tab in TABLES:
            want = {h: float(exp["gstr3b"].get(tab, {}).get(h, 0)) for h in HEADS}
            if got["gstr3b"][tab] != want:
                diffs.append(f"gstr3b {tab}: want {want}, got {got['gstr3b'][tab]}")
    if "gstr2b" in exp:
        for bucket, sections in exp["gstr2b"].items():
            for section, vals in sections.items():
                g = got["gstr2b"].get(bucket, {}).get(section)
                want = {"count": vals.get("count", 0), **{h: float(vals.get(h, 0)) for h in HEADS}}
                if g != want:
                    diffs.append(f"gstr2b {bucket}/{section}: want {want}, got {g}")
    if "liability" in exp:
        if len(exp["liability"]) != len(got["liability"]):
            diffs.append(f"liability: want {len(exp['liability'])} rows, got {got['liability']}")
        for e, g in zip(exp["liability"], got["liability"]):
            for key, want in e.items():
                if _norm(want) != _norm(g.get(key)):
                    diffs.append(f"liability row {e['row']} {key}: want {want!r}, got {g.get(key)!r}")
    return diffs
