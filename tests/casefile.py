"""Run a YAML case (name, source, context, inward/outward rows, expect) through the engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from ims_excel.engine import Context, evaluate
from ims_excel.engine.amounts import TABLES
from ims_excel.engine.sample import frame
from ims_excel.records import HEADS
from ims_excel.cli.output import to_json

CASES = Path(__file__).parent / "cases"


def load(name: str) -> tuple[dict, list[dict], list[dict]]:
    doc = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
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
