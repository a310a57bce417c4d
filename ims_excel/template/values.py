"""The value each formula of the workbook gives, to be stored as the formula cell's cached value.

Excel shows a formula cell's cached value (``<v>``) until it calculates, and it
does not calculate in Protected View (a book from e-mail or a download);
previewers and python-calamine never do. So every formula cell we write
carries the value it would compute (issue 9), and a book whose values are all
right does not ask for a full calculation on load.

- :func:`summary_values`: every Summary, GSTR-2B, GSTR-3B and Liability block
  cell from the engine's :class:`~ims_excel.engine.Result`, generically: the
  cells are those of :func:`summaries.cell_map` (so a new or changed block is
  covered) and each sheet's aggregate is the engine's (``ims_summary``,
  ``Result.gstr2b``, ``Result.gstr3b``, ``liability.totals``).
  ``tests/workbook/test_equality.py`` checks LibreOffice's recalculation of
  every block formula against it to the paisa.
- :func:`config_values`: the Config sheet's derived cells (column C), each the
  formula of :mod:`.config` computed in Python from the inputs.
- :func:`heading_values`: the GSTIN / legal name / period echoed on each summary sheet.
- :func:`blank_row_values`: a table's computed columns on a row with no record
  (the template's one empty row): ``""`` or ``0``, as its formula says for a blank Section.

Values: ``float`` for numbers and dates (Excel serials), ``str`` for text
(``""`` for empty text), ``bool`` for TRUE/FALSE.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ims_excel import gstin as gstin_mod
from ims_excel import periods
from ims_excel.engine.context import IMS_TAXPAYER_TYPES
from ims_excel.engine.gstr3b import RCM_LIABILITY
from ims_excel.engine.liability import totals
from ims_excel.engine.summary import STATES, ims_summary
from ims_excel.rules import rulebook
from ims_excel.template import config, summaries

EPOCH = dt.date(1899, 12, 30)
SHEET_KEYS = {"summary": "Summary", "gstr2b": "GSTR-2B", "gstr3b": "GSTR-3B", "liability": "Liability"}


def serial(d: dt.date | dt.datetime) -> float:
    """An Excel date serial (1900 date system)."""
    if isinstance(d, dt.datetime):
        d = d.date()
    return float((d - EPOCH).days)


# ------------------------------------------------------------------ summary sheets

def aggregates(result, own: dict[tuple[str, str], float] | None = None) -> dict[tuple[str, str, str, str], float]:
    """``{(sheet key, block, row, col): value}`` for every cell of :func:`summaries.cell_map`.

    ``result`` None: a book with no records, where every SUMIFS/COUNTIFS is 0. ``own``: the taxpayer's
    own GSTR-3B Table 4 entries as typed in the book, ``{(row, col): amount}`` (rows of
    :data:`summaries.TABLE4_OWN`; missing or blank = 0): 4(C) is the sheet's formula
    ``(4A1+4A2+4A3+4A4+4A5)-(4B1+4B2)``, so its cached value adds the 4(A)(2) and subtracts the 4(B)(1)
    typed there, as Excel does (a reviewer found the cached 4(C) ignoring them).
    """
    own = own or {}
    cells = summaries.cell_map()
    if result is None:
        return {k: 0.0 for k in cells}
    out = {}
    # the engine's small tables as dicts, read once (a pandas lookup per cell took ~1 s for ~700 cells)
    ims = ims_summary(result).set_index(["section", "state"])[["count", "tax"]].to_dict("index")
    status = result.records["status"].value_counts()
    heads = ["count", "igst", "cgst", "sgst", "cess"]
    long = result.gstr2b.set_index(["bucket", "section"])[heads].to_dict("index")
    bucket_total = result.gstr2b.groupby("bucket", sort=False)[heads].sum().to_dict("index")
    rows = result.liability
    by_table = totals(rows)
    this_period = periods.iso(result.context.return_period)
    current = totals(rows[rows["gstr3b_period"] == this_period]) if len(rows) else by_table
    t4 = result.gstr3b
    for key in cells:
        sheet, block, row, c = key
        if sheet == "summary" and block == "status":
            out[key] = float(status.get(row, 0))
        elif sheet == "summary":
            what = "tax" if block.endswith("_tax") else "count"
            states = STATES if c == "Total" else [c]
            out[key] = float(sum(float(ims[(row, s)][what]) for s in states))
        elif sheet == "gstr2b":
            part = bucket_total[block] if row == "Total" else long[(block, row)]
            out[key] = float(part["count" if c == "Records" else c.lower()])
        elif sheet == "gstr3b" and row in summaries.TABLE4_OWN:
            out[key] = ""  # the taxpayer's own entry (4(A)(2), 4(B)(1), 4(D)(1)): a blank input cell, no formula
        elif sheet == "gstr3b" and block == "table31d":
            out[key] = float(t4[RCM_LIABILITY][c.lower()])
        elif sheet == "gstr3b":
            h = c.lower()
            if row == "4C":  # the formula's own arithmetic: (4A1+4A2+4A3+4A4+4A5)-(4B1+4B2)
                def value(r: str) -> float:
                    return own.get((r, c), 0.0) if r in summaries.TABLE4_OWN else t4[r][h]
                out[key] = float(sum(value(r) for r in summaries.NET_ITC_ADDS)
                                 - sum(value(r) for r in summaries.NET_ITC_LESS))
            else:
                out[key] = float(t4[row][h])
        elif sheet == "liability":
            src = current if block == "current" else by_table
            part = src if row == "Total" else src[src["gstr3b_table"] == row]
            if c == "Records":
                rr = rows if block == "addback" else rows[rows["gstr3b_period"] == this_period]
                out[key] = float(len(rr) if row == "Total" else (rr["gstr3b_table"] == row).sum())
            else:
                out[key] = float(part["taxable_value" if c == "Taxable" else c.lower()].sum())
        else:
            raise KeyError(f"no engine aggregate for summary cell {key}")
    return out


def summary_values(result, own: dict[tuple[str, str], float] | None = None) -> dict[str, dict[str, float]]:
    """``{sheet name: {A1: value}}`` of every block cell (see :func:`aggregates`; ``own``: the Table 4
    entries typed in the book)."""
    cells = summaries.cell_map()
    out: dict[str, dict[str, float]] = {name: {} for name in SHEET_KEYS.values()}
    for key, value in aggregates(result, own).items():
        if key[0] == "gstr3b" and key[2] in summaries.TABLE4_OWN:
            continue  # an input cell: nothing cached
        out[SHEET_KEYS[key[0]]][cells[key].rsplit("!", 1)[1]] = value
    return out


HEADINGS = (("GSTIN", "RecipientGSTIN"), ("Legal name", "LegalName"), ("Return period", "ReturnPeriod"))
"""The Config values each summary sheet echoes under its heading: (label, defined name), from row 2."""


def heading_values(inputs: dict[str, Any]) -> dict[str, str]:
    """``{defined name: text}`` of the heading echoes (``=Name&""``)."""
    return {name: _text(inputs.get(name)) for _, name in HEADINGS}


# ------------------------------------------------------------------ Config

def _text(v: Any) -> str:
    """``v&""`` as Excel gives it for what column B holds (text; blank -> "")."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _is_field(key: str) -> bool:
    try:
        config.field_for(key)
    except KeyError:
        return False
    return True


def _date(v: Any) -> dt.date | None:
    """A date cell's value as a date: a date, or a number (a serial); else None."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.date() if isinstance(v, dt.datetime) else v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return EPOCH + dt.timedelta(days=int(v))
    return None


def _blank(v: Any) -> bool:
    return v is None or v == ""


def _state_number(text: str) -> float:
    t = text[:2]
    return float(int(t)) if t and t[0].isdigit() and t[-1].isdigit() and t.isascii() else -1.0


def inputs_of(values: dict | None, *, written: bool = False) -> dict[str, Any]:
    """Column B of Config as :func:`config.write_config` writes it from ``build_workbook(config=...)``
    values: ``{defined name: value}`` (dates given as text become dates, as it writes them).
    ``written``: ``values`` were read from a book's cells; taken as they are."""
    given = {config.field_for(k).name: v for k, v in (values or {}).items() if _is_field(k)}
    out = {}
    for f in config.FIELDS:
        v = given.get(f.name, None if written else f.default)
        if not written and f.kind == "date" and isinstance(v, str) and v:
            v = dt.datetime.strptime(v, "%d-%m-%Y" if v[2:3] == "-" else "%Y-%m-%d")
        out[f.name] = None if _blank(v) else v
    return out


def config_values(values: dict | None, today: dt.date, *, written: bool = False) -> dict[str, Any]:
    """``{defined name: value}`` of every derived Config cell (the formulas of :mod:`.config`).

    ``today``: what ``TODAY()`` gives (a volatile function: Excel computes it again when it calculates).
    """
    rb = rulebook()
    inp = inputs_of(values, written=written)
    g = _text(inp["RecipientGSTIN"])
    out: dict[str, Any] = {}
    out["GSTINValid"] = len(g) == 15 and gstin_mod.check_ok(g)
    p = _text(inp["ReturnPeriod"])
    rpi: Any = ""
    if len(p) == 7 and p[4] == "-" and re.fullmatch(r"\s*\d+\s*", p[:4]) and re.fullmatch(r"\s*\d+\s*", p[5:]):
        rpi = float(int(p[:4]) * 12 + int(p[5:]) - 1)
    out["ReturnPeriodIndex"] = rpi
    out["ReturnPeriodLabel"] = ("not YYYY-MM" if rpi == "" else  # config.FIELDS' derived label: Oct-2026
                                config.PRE_IMS_LABEL if rpi < config.IMS_START else  # D28: before IMS
                                "JanFebMarAprMayJunJulAugSepOctNovDec"[int(rpi) % 12 * 3:][:3] + f"-{int(rpi) // 12}")
    override = _text(inp["StateCodeOverride"])
    state = override if override else g[:2]
    out["StateCode"] = state
    as_of = inp["AsOfDateOverride"]  # IF(AsOfDateOverride="",TODAY(),AsOfDateOverride)
    out["AsOfDate"] = (serial(today) if as_of is None else serial(_date(as_of)) if _date(as_of) else as_of)
    ttype = _text(inp["TaxpayerType"]).casefold()
    ims_labels = {t.casefold() for t in config.TAXPAYER_TYPES if t.casefold() in IMS_TAXPAYER_TYPES}
    out["HasIMS"] = "Y" if ttype == "" or ttype in ims_labels else "N"
    quarterly = _text(inp["FilingFrequency"]).casefold() == "quarterly"
    if rpi == "":
        out.update(WindowStart="", WindowEnd="", WindowEndPeriod="", NextReturnPeriod="")
    else:
        start = rpi - rpi % 3 if quarterly else rpi
        end = start + 2 if quarterly else rpi
        out.update(WindowStart=start, WindowEnd=end, WindowEndPeriod=periods.iso(int(end)),
                   NextReturnPeriod=periods.iso(int(end) + (3 if quarterly else 1)))
    q = rb.params["qrmp_due_day"]
    key = "0" + state if len(state) < 2 else state
    day22 = {str(s).casefold() for s in q["day_22_states"]}
    out["QRMPDueDay"] = 22.0 if key.casefold() in day22 else float(q["default"])
    out["DueDay"] = out["QRMPDueDay"] if quarterly else float(rb.param("gstr3b_due_day_monthly"))
    out["OwnState"] = _state_number(g)
    filed = _date(inp["AnnualReturnFiledOn"])  # ISNUMBER: a date or a number
    out["AnnualReturnFYEnd"] = float(filed.year - (1 if filed.month < 4 else 0)) if filed else ""
    # DATE(INT((WindowEnd+1)/12),MOD(WindowEnd+1,12)+1,DueDay): the month after the window's last
    out["ReturnDueDate"] = ("" if rpi == "" else
                            serial(dt.date((int(end) + 1) // 12, (int(end) + 1) % 12 + 1, int(out["DueDay"]))))
    return out


# ------------------------------------------------------------------ tables

_BLANK_THEN = re.compile(r'^=?IF\(\[@\[?Section\]?\]="",(""|0),')
_BLANK_THEN_FULL = re.compile(r'^=?IF\(\w+\[\[#This Row\],\[Section\]\]="",(""|0),')


def blank_value(formula: str, kind: str = "text") -> Any:
    """What a computed column's formula gives when the row's Section is blank: its first IF's "then".

    A computed column starts ``IF([@Section]="",<blank>,...)`` (``inward.py``, ``outward.py``), or has
    no guard because every cell it reads is a guarded helper column (``inward._u``): then it gives
    the blank of its ``kind``, 0 for an amount, "" otherwise (``tests/workbook/test_wb_cached.py``
    compares these with LibreOffice's recalculation of the template).
    """
    m = _BLANK_THEN.match(formula) or _BLANK_THEN_FULL.match(formula)
    if not m:
        return 0.0 if kind == "amount" else ""
    return "" if m.group(1) == '""' else 0.0


def blank_row_values(spec) -> dict[str, Any]:
    """``{header: value}`` of a table's computed columns on a row with no record."""
    return {c.header: blank_value(c.formula, c.kind) for c in spec.computed}


# ------------------------------------------------------------------ a whole book

HEADING_CELLS = {f"C{2 + i}": name for i, (_, name) in enumerate(HEADINGS)}
"""A1 of each heading echo on every summary sheet (``build.write_summary_sheet``: rows 2-4, column C)."""


def book_values(inputs: dict[str, Any], result, today: dt.date,
                names: dict[str, str], own: dict[tuple[str, str], float] | None = None) -> dict[str, dict[str, Any]]:
    """``{sheet: {A1: value}}`` of every formula cell the template puts on Config and the summary sheets.

    ``inputs``: Config's input cells by defined name, as read from the book; ``result``: the engine's
    result for the book's records; ``names``: the book's defined names (``{"GSTINValid": "Config!$C$4"}``),
    which place the derived Config cells; ``own``: the GSTR-3B Table 4 entries typed in the book
    (:func:`aggregates`).
    """
    out = summary_values(result, own)
    inputs = inputs_of(inputs, written=True)
    heading = heading_values(inputs)
    for sheet in out:
        out[sheet].update({a1: heading[name] for a1, name in HEADING_CELLS.items()})
    derived = config_values(inputs, today, written=True)
    for name, value in derived.items():
        ref = names.get(name, "")
        m = re.fullmatch(r"'?([^'!]+)'?!\$?([A-Z]+)\$?([0-9]+)", ref)
        if m:
            out.setdefault(m.group(1), {})[f"{m.group(2)}{m.group(3)}"] = value
    return out
