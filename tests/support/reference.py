"""A straightforward per-row Python implementation of the same IMS rules.

Kept here, outside the package, as the benchmark's baseline (issue 2: the
engine must be at least 50x faster) and as a differential check: a test runs
both on generated records and requires identical answers. It reads the same
rule data (ims_excel.rules) but none of the engine's code.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ims_excel import periods
from ims_excel.gstin import is_valid
from ims_excel.rules import rulebook

HEADS = ("igst", "cgst", "sgst", "cess")
FAMILY = {"B2B": "INV", "B2BA": "INV", "B2B-DN": "DN", "B2B-DNA": "DN", "B2B-CN": "CN", "B2B-CNA": "CN",
          "ECO": "ECO", "ECOA": "ECO", "IMPG": "BOE", "IMPGA": "BOE", "IMPGSEZ": "BOE", "IMPGSEZA": "BOE",
          "ISD": "ISD", "ISDA": "ISD"}
ACT = {"Accept": "A", "Reject": "R", "Pending": "P", "No Action": "N", "": "N"}
STATE = {"Accepted": "A", "Rejected": "R", "Pending": "P", "No Action": "N", "Pre-IMS": "X", "": "N"}
NOT_IN_IMS = {"RCM": "D19", "GSTR5": "D21", "ISD": "D20", "POS": "D22", "164": "D23", "37A": "D24"}
TABLE_OF_RULE = {"D18": "4A1", "D19": "4A3", "D20": "4A4", "D21": "4A5", "D22": "4D2", "D23": "4D2",
                 "D24": "4B2"}
QRMP22 = set(rulebook().params["qrmp_due_day"]["day_22_states"])


def _month_date(p: int, day: int) -> dt.date:
    return dt.date(p // 12, p % 12 + 1, day)


def due(p: int, freq: str, state: str) -> dt.date:
    if freq == "quarterly":
        end = p - p % 3 + 2
        return _month_date(end + 1, 22 if state in QRMP22 else 24)
    return _month_date(p + 1, 20)


def cutoff(d: dt.date | None, ar: dt.date | None) -> dt.date | None:
    if d is None:
        return None
    fy_end = d.year + 1 if d.month >= 4 else d.year
    c = dt.date(fy_end, 11, 30)
    if ar is not None and (ar.year if ar.month >= 4 else ar.year - 1) == fy_end and ar < c:
        c = ar
    return c


def _d(v) -> dt.date | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date()


def evaluate_rows(df: pd.DataFrame, ctx) -> list[dict]:
    """One dict per record: status, primary code, effective action, table, itc per head."""
    rb = rulebook()
    order = list(rb.codes)
    ims_start = periods.parse(str(rb.params["ims_start_period"]["value"]))
    oct25 = periods.parse(str(rb.params["oct25_changes_period"]["value"]))
    decl_from = periods.parse(str(rb.params["declaration_required_from"]["value"]))
    offline_remarks = rb.params["remarks_with_action"]["offline"]
    if ctx.frequency == "quarterly":
        end = ctx.period - ctx.period % 3 + 2
        start = end - 2
    else:
        start = end = ctx.period
    out = []
    for rec in df.to_dict("records"):
        sec = rec["section"]
        fam = FAMILY[sec]
        amend = sec in ("B2BA", "B2B-DNA", "B2B-CNA", "ECOA", "IMPGA", "IMPGSEZA", "ISDA")
        p2b = rec["period_2b"]
        fd = _d(rec["supplier_filing_date"])
        if p2b < 0:
            from_filing = (periods.of_date(fd) - (1 if fd.day <= 13 else 0)) if fd else None
            if rec["source_form"] == "GSTR-1A":  # GSTR-1A of M -> the 2B of M+1 (4.1)
                rp = periods.parse_or_none(str(rec["supplier_return_period"])) \
                    if rec["supplier_return_period"] else None
                if rp is not None:
                    from_filing = max(rp + 1, from_filing) if from_filing is not None else rp + 1
                elif fd:
                    from_filing = periods.of_date(fd)
            p2b = from_filing if from_filing is not None else end
        tot = sum(rec[h] for h in HEADS)
        otot = sum(rec[f"original_{h}"] for h in HEADS)
        down = amend and (tot < otot - 0.005 if fam == "BOE" else tot <= otot + 0.005)
        up = amend and not down
        orig = STATE.get(rec["original_action"], "N")
        consumed = (orig in ("A", "N") and rec["original_3b_filed"] == 1) or orig == "X"
        act = ACT.get(rec["action"], "N")
        prev = STATE.get(rec["previous_action"], "N")
        # record kind
        if fam in ("INV", "DN"):
            if not amend:
                rule = "D2" if fam == "DN" else "D1"
            elif up:
                rule = "D3"
            else:
                rule = "D4" if orig == "R" else ("D6" if consumed else "D5")
        elif fam == "CN":
            if not amend:
                rule = "D7"
            elif up:
                rule = "D8"
            else:
                rule = "D9" if orig == "R" else ("D11" if orig == "P" else "D10")
        elif fam == "ECO":
            rule = "D12" if not amend else ("D14" if down and consumed else "D13")
        elif fam == "BOE":
            nil = amend and tot <= 0.005 and otot > 0.005  # amended away: D17; a value decrease: D16 (INF)
            rule = "D18" if p2b < oct25 else ("D15" if not amend else ("D17" if nil else "D16"))
        else:
            rule = "D1"
        # outside IMS
        dd = _d(rec["document_date"])
        od = _d(rec["original_document_date"])
        boe_warn = fam == "BOE" and rb.params["cutoff_164_boe"]["value"] == "warn"  # Q11: warnings only
        cut = (cutoff(od if amend and od else dd, ctx.annual_return_date)
               if fam in ("INV", "DN", "ECO") or boe_warn else None)
        pos = str(rec["place_of_supply"])[:2]
        sup = str(rec["supplier_gstin"])[:2]
        outside = None
        if rec["reverse_charge"] == 1:
            outside = "D19"
        elif rec["source_form"] == "GSTR-5":
            outside = "D21"
        elif rec["source_form"] == "GSTR-6" or fam == "ISD":
            outside = "D20"
        elif pos and pos == sup and ctx.gstin[:2] != pos and fam not in ("BOE", "ISD"):
            outside = "D22"
        elif cut and fam != "BOE" and not down and (fd or _month_date(p2b, 14)) > cut:
            outside = "D23"  # a downward amendment is never barred; no filing date: the 14th of the 2B month
        if rec["not_in_ims"]:
            outside = NOT_IN_IMS[rec["not_in_ims"]]
        if outside:
            rule = outside
        in_ims_kind = rule not in ("D18", "D19", "D20", "D21", "D22", "D23", "D24")
        current = start <= p2b <= end
        pend_state = prev == "P" or (act == "P" and not rec["previous_action"])
        if in_ims_kind and not pend_state and ((current and ctx.gstr3b_filed) or p2b < start):
            rule = "D25"
        r = rb.rule(rule)
        if (rule not in ("D25",) and in_ims_kind and fam in ("INV", "DN", "ECO") and not r.specified and not down
                and "P" in (prev, act) and cut and ctx.as_of > cut):
            rule = "D26"
        if p2b < ims_start:
            rule = "D28"
        if not ctx.has_ims:
            rule = "D29"
        r = rb.rule(rule)
        v = rb.lookup(rule, max(p2b, ims_start))
        errs, warns, infos = set(), set(), set()
        kind = r.kind
        # state rules
        if kind in ("not_in_ims", "frozen", "time_barred"):
            attempt = (act != "N") if kind == "not_in_ims" else (act != prev)
            (errs if attempt else {"info": infos, "warning": warns}[rb.codes[v.code].quiet]).add(v.code)
        ims = kind == "ims"
        deadline = None
        over = False
        flag = rec["pending_blocked"]
        if ims:
            cell = v.allows(act)
            if v.pending == "W":
                nxt = (p2b - p2b % 3 + 5) if ctx.frequency == "quarterly" else p2b + 1
                deadline = due(nxt, ctx.frequency, ctx.state)
                over = ctx.as_of > deadline
            if cell == "N" and not (act == "P" and flag != -1):
                errs.add(v.code)
            if act == "P" and over and flag == -1:
                errs.add("PEND_WINDOW_OVER")
            if act == "P" and flag == 1:
                errs.add("PEND_BLOCKED_PORTAL")
            local_ok = v.pending in ("Y", "F") or (v.pending == "W" and not over)
            if flag != -1 and local_ok != (flag == 0):
                warns.add("PEND_FLAG_DISAGREES")
            if act == "P" and v.pending == "W" and not over and (deadline - ctx.as_of).days <= 30:
                warns.add("PEND_DEADLINE_NEAR")
            if act == "P" and cut and cut >= ctx.as_of and (cut - ctx.as_of).days <= 30:
                warns.add("CUTOFF_164_NEAR")
        # amounts
        amt = {}
        for h in HEADS:
            base = rec[h] - rec[f"original_{h}"] if amend and consumed else rec[h]
            amt[h] = round((-1 if fam == "CN" else 1) * base, 2)
        red = {h: max(-amt[h], 0.0) if r.specified else 0.0 for h in HEADS}
        choice = rec["itc_reduction"]
        declared = {h: rec[f"declared_{h}"] for h in HEADS}
        may = ims and v.decl and act == "A"
        blocked = rec["declaration_blocked"] == 1
        if ims and (choice or any(x > 0 for x in declared.values())) and not may:
            errs.add("DECL_NOT_APPLICABLE")
        if may and blocked and (choice or any(x > 0 for x in declared.values())):
            errs.add("DECL_BLOCKED")
        if may and not blocked and not choice and any(x > 0 for x in declared.values()):
            errs.add("DECL_AMOUNTS_NO_ANSWER")
        if may and not blocked and choice in ("Full", "No") and any(x > 0 for x in declared.values()):
            errs.add("DECL_AMOUNTS_NOT_PARTIAL")
        if may and not blocked and not choice and act != prev and end >= decl_from:
            errs.add("DECL_REQUIRED")
        if may and not blocked and choice == "Partial":
            if any(declared[h] > red[h] + 0.005 for h in HEADS):
                errs.add("DECL_EXCEEDS")
            if abs(declared["cgst"] - declared["sgst"]) > 0.005:
                warns.add("DECL_CGST_NE_SGST")
        g = rec["supplier_gstin"]
        if g and not is_valid(g):
            (warns if rec["gstin_override"] == 1 else errs).add(
                "GSTIN_OVERRIDDEN" if rec["gstin_override"] == 1 else "GSTIN_CHECK_DIGIT")
        if len(str(rec["remarks"]).strip()) > 250:  # surrounding whitespace not counted (G10)
            errs.add("REMARKS_TOO_LONG")
        fp = "|".join([str(rec["action"]), str(rec["itc_reduction"]),
                       *(f"{float(rec['declared_' + h] or 0) + 0.0:.2f}" for h in HEADS), str(rec["remarks"])])
        if rec.get("portal_error", "") and fp == str(rec.get("portal_error_for", "")):
            errs.add("PORTAL_ERROR")
        if rec.get("supplier_change", "") and str(rec["action"]) == "":
            warns.add("SUPPLIER_CHANGED")
        gone = rec.get("gone_from_ims", -1) == 1
        if gone:
            infos.add("GONE_FROM_IMS")
        filed = rec["supplier_filing_status"] != "Not Filed"
        if not filed:
            infos.add("NOT_FILED")
        filed = filed and not gone
        worst = errs or warns or infos
        status = "error" if errs else "warning" if warns else "info" if infos else "ok"
        primary = next((c for c in order if c in worst), "")
        applied = prev if errs else act
        applied = "N" if applied == "X" else applied
        if applied == "P" and ims and ((over and flag != 0) or flag == 1):
            applied = "N"
        if kind in ("not_in_ims", "time_barred"):
            effective = "Not in IMS"
        else:
            effective = {"A": "Accepted", "R": "Rejected", "P": "Pending", "N": "Deemed Accepted"}[applied]
        if may and not errs and not blocked and r.specified:
            for h in HEADS:
                if red[h] > 0 and choice == "Partial":
                    amt[h] = round(-declared[h], 2)
                elif red[h] > 0 and choice == "No":
                    amt[h] = 0.0
        live = (current or (p2b < start and pend_state)) and not (ctx.gstr3b_filed and pend_state)
        if ims and applied in ("A", "N") and live and filed and not down and cut:
            # a GSTR-3B is filed only after its period ends (ims-rules.md 7): a cut-off before that day loses
            # the ITC; one before the due date loses it unless the 3B is filed early
            if cut < _month_date(end + 1, 1):
                warns.add("CUTOFF_164_PASSED")
            elif cut < due(end, ctx.frequency, ctx.state):
                warns.add("CUTOFF_164_BEFORE_DUE")
        # a remark the offline upload refuses with the action the portal keeps (remarks_with_action, G10)
        word = {"A": "Accept", "R": "Reject", "P": "Pending"}.get(applied)
        if ims and str(rec["remarks"]).strip() and word and word not in offline_remarks:
            warns.add("REMARK_NOT_UPLOADED")
        worst = errs or warns or infos
        status = "error" if errs else "warning" if warns else "info" if infos else "ok"
        primary = next((c for c in order if c in worst), "")
        in_ims = ims or (kind == "frozen" and current)
        bucket = None
        if in_ims and filed and live and applied in ("A", "N") and effective != "Not in IMS":
            bucket = "available"
        if kind == "not_in_ims" and filed and current and r.bucket not in ("", "none"):
            bucket = r.bucket
            if bucket == "available" and rec["itc_available"] == 0:
                bucket = "not_available"
        table = None
        if bucket == "available":
            table = TABLE_OF_RULE.get(rule, "4A1" if fam == "BOE" else "4A5")
        elif bucket == "not_available":
            table = "4D2"
        elif bucket == "reversal":
            table = "4B2"
        out.append({"row": rec["row"], "status": status, "primary_code": primary, "effective_action": effective,
                    "gstr3b_table": table or "",
                    **{f"itc_{h}": (amt[h] if table else 0.0) for h in HEADS}})
    return out
