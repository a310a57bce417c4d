"""The engine's result as the CLI contract's JSON, and as a readable text report.

JSON shape (issue 2): ``context``, ``records`` (row, section, document_number,
action, status, codes, message, effective_action, in_2b, gstr3b_table, itc,
pending_deadline, itc_cutoff_164), ``gstr2b``, ``gstr3b``, ``liability``.
Amounts are numbers rounded to 2 decimals, dates ISO.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine import Result
from ims_excel.engine.amounts import TABLES
from ims_excel.engine.explain import HEAD_LABEL, message, messages
from ims_excel.engine.gstr2b import as_dict
from ims_excel.engine.gstr3b import RCM_LIABILITY
from ims_excel.engine.liability import totals
from ims_excel.engine.validation import codes_of
from ims_excel.records import HEADS
from ims_excel.rules import rulebook


def _dates(values: object) -> list[str | None]:
    """ISO dates (None for none), converted per column."""
    d = pd.to_datetime(pd.Series(values), errors="coerce")
    return [None if pd.isna(x) else x for x in d.dt.strftime("%Y-%m-%d").tolist()]


def _texts(values: object) -> list:
    return pd.Series(values).astype(object).tolist()


def records_json(result: Result) -> list[dict]:
    """One dict per record (the ``report --json`` contract); columns converted whole, messages per
    distinct case (:func:`ims_excel.engine.explain.messages`), so a million records take seconds."""
    rb = rulebook()
    recs = result.records
    inp = result.inward
    n = len(recs)
    bits = recs[["err_bits", "warn_bits", "info_bits"]].to_numpy()
    code_cache: dict[tuple, list[str]] = {}
    codes = []
    for key in map(tuple, bits.tolist()):
        if key not in code_cache:
            code_cache[key] = codes_of(key, rb)
        codes.append(list(code_cache[key]))
    itc = {h: (np.round(recs[f"itc_{h}"].to_numpy(dtype=float), 2) + 0.0).tolist() for h in HEADS}
    table = [t or None for t in _texts(recs["gstr3b_table"])]
    action = [a or "No Action" for a in _texts(inp["action"])]
    columns = zip(recs["row"].astype("int64").tolist(), _texts(inp["section"]), _texts(inp["document_number"]),
                  action, _texts(recs["status"]), codes, messages(result).tolist() if n else [],
                  _texts(recs["effective_action"]), recs["in_2b"].astype(bool).tolist(), table,
                  _dates(recs["pending_deadline"]), _dates(recs["cutoff_164"]), _texts(recs["rule"]))
    out = []
    for k, (row, section, doc, act, status, cds, msg, eff, in2b, tbl, deadline, cutoff, rule) in enumerate(columns):
        out.append({
            "row": row, "section": section, "document_number": doc, "action": act, "status": status,
            "codes": cds, "message": msg, "effective_action": eff, "in_2b": in2b, "gstr3b_table": tbl,
            "itc": {h: itc[h][k] for h in HEADS}, "pending_deadline": deadline, "itc_cutoff_164": cutoff,
            "rule": rule,
        })
    return out


def liability_json(result: Result) -> list[dict]:
    rows = []
    for r in result.liability.itertuples(index=False):
        rows.append({"row": int(r.row), "recipient_gstin": r.recipient_gstin,
                     "document_number": r.document_number, "section": r.section,
                     "taxable_value": round(float(r.taxable_value), 2),
                     **{h: round(float(getattr(r, h)), 2) for h in HEADS},
                     "gstr3b_period": r.gstr3b_period, "gstr3b_table": r.gstr3b_table})
    return rows


def to_json(result: Result) -> dict:
    return {
        "context": result.context.as_dict(),
        "records": records_json(result),
        "gstr2b": as_dict(result.gstr2b),
        "gstr3b": result.gstr3b,
        "liability": liability_json(result),
    }


def status_counts(result: Result) -> dict[str, int]:
    counts = result.records["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in ("ok", "info", "warning", "error")}


def money(v: float) -> str:
    """Indian grouping: 1,23,45,678.90.

    >>> money(12345678.9), money(-1800)
    ('1,23,45,678.90', '-1,800.00')
    """
    sign = "-" if v < 0 else ""
    whole, frac = f"{abs(v):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join(groups + [tail]) + "." + frac


def text_report(result: Result, max_rows: int = 40, rows: np.ndarray | None = None) -> str:
    """The validation summary, GSTR-3B Table 4 and add-back as text. Records are named by their Inward sheet
    row when ``rows`` (one per record) is given, as the export and the Validation sheet name them; else by
    their record number (1 = the first record, the JSON's ``row``), labelled so that neither is taken for
    the other."""
    ctx = result.context
    lines = [f"IMS report  GSTIN {ctx.gstin}  return period {periods.label(ctx.return_period)}"
             f" ({ctx.frequency})  as of {ctx.as_of:%d-%m-%Y}  rules {rulebook().version}", ""]
    counts = status_counts(result)
    lines.append("Validation: " + "  ".join(f"{k} {v}" for k, v in counts.items()))
    recs = result.records
    flagged = np.flatnonzero(recs["status"].isin(["error", "warning"]).to_numpy())
    if len(flagged):
        label = "Inward row" if rows is not None else "record"
        number = np.asarray(rows) if rows is not None else recs["row"].to_numpy()
        lines += ["", f"{label:>10}  {'section':<8} {'document':<18} {'action':<9} {'status':<7} "
                      f"{'code':<26} message"]
        for i in flagged[:max_rows]:
            r = recs.iloc[i]
            lines.append(f"{int(number[i]):>10}  {result.inward['section'].iloc[i]:<8} "
                         f"{str(result.inward['document_number'].iloc[i])[:18]:<18} "
                         f"{(result.inward['action'].iloc[i] or 'No Action'):<9} {r['status']:<7} "
                         f"{r['primary_code']:<26} {message(result, i)}")
        if len(flagged) > max_rows:
            lines.append(f"  ... {len(flagged) - max_rows} more (use --json for all)")
    lines += ["", "GSTR-3B Table 4 and 3.1(d) (auto-populated from GSTR-2B)",
              f"  {'table':<6} {'IGST':>16} {'CGST':>16} {'SGST':>16} {'Cess':>16}"]
    for tab in TABLES:
        v = result.gstr3b[tab]
        lines.append(f"  {tab:<6} " + " ".join(f"{money(v[h]):>16}" for h in HEADS))
    v = result.gstr3b[RCM_LIABILITY]
    lines.append(f"  {RCM_LIABILITY:<6} " + " ".join(f"{money(v[h]):>16}" for h in HEADS)
                 + "  (tax payable: inward supplies liable to reverse charge)")
    if len(result.liability):
        lines += ["", "Supplier add-back (our next GSTR-3B)"]
        for r in totals(result.liability).itertuples(index=False):
            lines.append(f"  {r.gstr3b_period}  {r.gstr3b_table:<7} taxable {money(r.taxable_value)}  "
                         + "  ".join(f"{HEAD_LABEL[h]} {money(getattr(r, h))}" for h in HEADS))
    return "\n".join(lines)


__all__ = ["to_json", "text_report", "status_counts", "money"]
