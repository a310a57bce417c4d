"""What the workbook doors write, computed from the engine's result (no file, no Excel here).

Shared by the file door (:mod:`ims_excel.book`, the ``ims-excel``
commands) and the Excel door (:mod:`ims_excel.xl.macros`):

* :func:`context_from_config` - the engine's :class:`Context` from the Config
  sheet's named cells, with each problem named by its cell;
* :func:`validation_grid` - the Validation sheet; :func:`liability_grid` - the
  add-back rows for the Liability sheet; :func:`summary` - one line per client
  for ``batch`` and the demo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ims_excel import gstin as gstin_mod, periods
from ims_excel.engine import Context, Result
from ims_excel.engine.context import pre_ims_period
from ims_excel.engine.explain import messages
from ims_excel.engine.validation import codes_of
from ims_excel.normalise import InputError, InputProblem
from ims_excel.records import HEADS
from ims_excel.rules import rulebook
from ims_excel.template import config as config_sheet
from ims_excel.xlsx.dates import date_of

RECON_NAMES = tuple(f.name for f in config_sheet.RECON_FIELDS)
"""The reconciliation section's input cells (issue 11: tolerances and the suggestion policy), read by
:func:`ims_excel.book.reconcile.settings_from_config`; a workbook from an older template lacks them."""

CONFIG_NAMES = ("RecipientGSTIN", "LegalName", "ReturnPeriod", "FilingFrequency", "StateCodeOverride",
                "AsOfDateOverride", "GSTR3BFiled", "AnnualReturnFiledOn", "TaxpayerType") + RECON_NAMES
"""The Config input cells a door reads (by defined name); a name the workbook lacks is absent from the
values read (blank for the context)."""

LABELS = {"RecipientGSTIN": "Recipient GSTIN", "LegalName": "Legal name", "ReturnPeriod": "Return period",
          "FilingFrequency": "Filing frequency", "StateCodeOverride": "State code",
          "AsOfDateOverride": "As-of date", "GSTR3BFiled": "GSTR-3B filed",
          "AnnualReturnFiledOn": "Annual return filed on", "TaxpayerType": "Taxpayer type",
          **{f.name: f.label for f in config_sheet.RECON_FIELDS}}

VALIDATION_SHEET = "Validation"
CHANGES_SHEET = "Changes"
CHANGES_HEADER = ["Logged On", "What", "Row", "Section", "Party GSTIN", "Document Number", "Column",
                  "Old", "New", "Note"]
"""The Changes sheet's columns: one dated row per change ``import`` made and per value ``process`` (or
``import``, ``roll``, ``upgrade``) found typed over a formula; the party is the supplier on Inward, the
recipient on Outward. A new period's workbook starts without the sheet; a book whose sheet has an older
header keeps it (rows are appended below)."""
RECONCILIATION_SHEET, SUPPLIERS_SHEET = "Reconciliation", "Suppliers"
"""Written whole by ``reconcile`` (issue 11): nothing of the user's lives there; ``roll`` leaves them with the
old period's file (reconcile writes them again), ``upgrade`` carries them like any sheet the template lacks."""
RECONCILIATION_TAB, SUPPLIERS_TAB = "FF2E75B6", "FF70AD47"
"""Their tab colours (ARGB): blue for the report, green for the list a firm works from (the file door;
the Excel button's sheets keep Excel's default: xlwings has no portable tab colour)."""
MAX_LISTED = 10_000
"""Rows listed on the Validation sheet (errors first); the Inward Status column has every record."""
LIABILITY_MARK = "Add-back by document"
"""Title of the rows ``process`` writes on the Liability sheet; everything from it down is ours."""


def cell_text(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _date(v: object, where: str, problems: list, file: str, cell: tuple[str, int, str]) -> dt.date | None:
    if v in (None, "") or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, (int, float)):
        return date_of(v)
    text = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    problems.append(InputProblem(file, cell[1], cell[2], f"{text!r} is not a date (use 30-11-2025)", cell[0]))
    return None


def context_from_config(values: dict[str, object], *, file: str = "workbook",
                        cells: dict[str, tuple[str, int, str]] | None = None,
                        as_of: dt.date | None = None, gstr3b_filed: bool | None = None) -> Context:
    """The engine's context from Config values keyed by defined name (see :data:`CONFIG_NAMES`).

    ``cells[name]`` = (sheet, row, label) names the place of a bad value.
    ``as_of`` / ``gstr3b_filed`` override the sheet (command-line flags).

    >>> ctx = context_from_config({"RecipientGSTIN": "27AAACR5055K1Z7", "ReturnPeriod": "2026-10",
    ...                            "FilingFrequency": "Quarterly", "AsOfDateOverride": "2026-11-26"})
    >>> ctx.frequency, ctx.as_of.isoformat(), ctx.state
    ('quarterly', '2026-11-26', '27')
    """
    cells = cells or {}
    problems: list[InputProblem] = []

    def where(name: str) -> tuple[str, int, str]:
        return cells.get(name, ("Config", None, LABELS.get(name, name)))

    def bad(name: str, message: str) -> None:
        sheet, row, label = where(name)
        problems.append(InputProblem(file, row, label, message, sheet))

    g = cell_text(values.get("RecipientGSTIN")).upper()
    if not g:
        bad("RecipientGSTIN", "is blank: fill in your GSTIN on the Config sheet")
    elif not gstin_mod.is_valid(g):
        bad("RecipientGSTIN", f"{g!r} is not a valid GSTIN (state code, registration pattern or check digit)")
    raw_period = values.get("ReturnPeriod")
    if isinstance(raw_period, (dt.date, dt.datetime)):
        raw_period = f"{raw_period.year:04d}-{raw_period.month:02d}"
    p = periods.parse_or_none(cell_text(raw_period))
    if p is None:
        bad("ReturnPeriod", f"{cell_text(raw_period)!r} is not a period (use YYYY-MM, e.g. 2025-11)")
    freq = (cell_text(values.get("FilingFrequency")) or "Monthly").lower()
    if freq not in ("monthly", "quarterly"):
        bad("FilingFrequency", f"{freq!r} is not Monthly or Quarterly")
    elif p is not None and pre_ims_period(p, freq):  # D28: a return before IMS reaches no summary
        bad("ReturnPeriod", pre_ims_period(p, freq))
    filed = cell_text(values.get("GSTR3BFiled")).upper()
    if filed not in ("", "Y", "N", "YES", "NO", "TRUE", "FALSE"):
        bad("GSTR3BFiled", f"{filed!r} is not Y or N")
    ttype = (cell_text(values.get("TaxpayerType")) or "normal").lower()
    if ttype not in ("normal", "sez", "casual", "composition", "isd", "nrtp", "tds", "tcs"):
        bad("TaxpayerType", f"{ttype!r} is not a taxpayer type")
    day = _date(values.get("AsOfDateOverride"), "as-of", problems, file, where("AsOfDateOverride"))
    annual = _date(values.get("AnnualReturnFiledOn"), "annual", problems, file, where("AnnualReturnFiledOn"))
    if problems:
        raise InputError(problems)
    state = cell_text(values.get("StateCodeOverride"))
    if state.isdigit() and len(state) == 1:
        state = "0" + state
    return Context(gstin=g, period=p, frequency=freq, as_of=as_of or day or dt.date.today(),
                   annual_return_date=annual,
                   gstr3b_filed=(filed in ("Y", "YES", "TRUE")) if gstr3b_filed is None else gstr3b_filed,
                   state=state, taxpayer_type=ttype)


def codes_text(result: Result, pos: np.ndarray) -> list[str]:
    """All reason codes of the records at ``pos``, comma-separated (one lookup per distinct mask)."""
    rb = rulebook()
    bits = result.records[["err_bits", "warn_bits", "info_bits"]].to_numpy()[pos]
    cache: dict[tuple, str] = {}
    out = []
    for b in map(tuple, bits.tolist()):
        if b not in cache:
            cache[b] = ", ".join(codes_of(b, rb))
        out.append(cache[b])
    return out


# ---------------------------------------------------------------- sheets


@dataclass
class Grid:
    """Rows of values for a sheet, plus which rows are headings and which columns are dates/amounts."""

    rows: list[list[object]]
    titles: list[int]  # 0-based rows shown as a title
    headers: list[int]  # 0-based header rows
    date_cols: set[int]  # 1-based columns holding dates (below the first header)
    amount_cols: set[int]
    widths: dict[int, float]
    listed: int = 0
    flagged: int = 0
    first_list: int | None = None  # 0-based row of the record list's header (for its filter)
    tab: str = ""  # the sheet tab's colour, ARGB ("FF2E75B6"); "" = none


LIST_HEADER = ["Row", "Section", "Supplier GSTIN", "Supplier Name", "Document Number", "Document Date",
               "Action", "Status", "Code", "All codes", "Message", "Effective action", "Pending until",
               "16(4) cut-off"]


def validation_grid(result: Result, *, source_rows: np.ndarray | None = None, legal_name: str = "",
                    stamp: str = "", max_listed: int = MAX_LISTED) -> Grid:
    """The Validation sheet: context, counts, counts by code, then the flagged records (errors first)."""
    ctx = result.context
    recs = result.records
    rb = rulebook()
    status = recs["status"].astype(object).to_numpy()
    counts = {s: int((status == s).sum()) for s in ("error", "warning", "info", "ok")}
    rows: list[list[object]] = []
    titles, headers = [], []
    titles.append(len(rows))
    rows.append(["Validation: every Inward record checked against the IMS rules"])
    rows.append(["GSTIN", ctx.gstin, "Legal name", legal_name])
    rows.append(["Return period", periods.iso(ctx.return_period), "Frequency", ctx.frequency.capitalize()])
    rows.append(["As of", ctx.as_of.strftime("%d-%m-%Y"), "Rules", rb.version])
    rows.append(["Written", stamp, "Records", len(recs)])
    rows.append([])
    headers.append(len(rows))
    rows.append(["Status", "Records"])
    for s in ("error", "warning", "info", "ok"):
        rows.append([s, counts[s]])
    rows.append([])
    headers.append(len(rows))
    rows.append(["Code", "Severity", "Records", "What it means"])
    code = recs["primary_code"].astype(object).to_numpy()
    by_code = pd.Series(code[code != ""]).value_counts()
    order = {c: i for i, c in enumerate(rb.codes)}
    sev_rank = {"error": 0, "warning": 1, "info": 2}
    listed_codes = sorted(by_code.index, key=lambda c: (sev_rank.get(rb.codes[c].severity, 3), order.get(c, 999)))
    for c in listed_codes:
        rows.append([c, rb.codes[c].severity, int(by_code[c]), rb.codes[c].message])
    rows.append([])
    flagged = np.flatnonzero(np.isin(status, ["error", "warning"]))
    rank = np.where(status[flagged] == "error", 0, 1)
    flagged = flagged[np.lexsort((flagged, rank))]
    shown = flagged[:max_listed]
    titles.append(len(rows))
    more = f" (the first {len(shown):,} of {len(flagged):,}; filter the Inward Status column for all)" \
        if len(flagged) > len(shown) else ""
    rows.append([f"Records with errors and warnings{more}"])
    headers.append(len(rows))
    first_list = len(rows)
    rows.append(list(LIST_HEADER))
    inp = result.inward
    src = source_rows if source_rows is not None else recs["row"].to_numpy()
    msgs = messages(result, shown).tolist()
    allc = codes_text(result, shown)
    cols = {
        "section": inp["section"].astype(object).to_numpy()[shown],
        "gstin": inp["supplier_gstin"].astype(object).to_numpy()[shown],
        "name": inp["supplier_name"].astype(object).to_numpy()[shown],
        "doc": inp["document_number"].astype(object).to_numpy()[shown],
        "date": inp["document_date"].to_numpy()[shown],
        "action": inp["action"].astype(object).to_numpy()[shown],
        "eff": recs["effective_action"].astype(object).to_numpy()[shown],
        "pend": recs["pending_deadline"].to_numpy()[shown],
        "cut": recs["cutoff_164"].to_numpy()[shown],
    }
    for k, i in enumerate(shown):
        rows.append([int(src[i]), cols["section"][k], cols["gstin"][k], cols["name"][k], cols["doc"][k],
                     _ts(cols["date"][k]), cols["action"][k] or "No Action", status[i], code[i], allc[k],
                     msgs[k], cols["eff"][k], _ts(cols["pend"][k]), _ts(cols["cut"][k])])
    widths = {1: 16, 2: 18, 3: 18, 4: 26, 5: 20, 6: 12, 7: 11, 8: 9, 9: 26, 10: 30, 11: 80, 12: 16, 13: 12, 14: 12}
    return Grid(rows, titles, headers, {6, 13, 14}, set(), widths, len(shown), len(flagged), first_list)


def _ts(v: object) -> pd.Timestamp | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(v)


LIABILITY_HEADER = ["Outward row", "Recipient GSTIN", "Document Number", "Section", "Rule", "Taxable value",
                    "IGST", "CGST", "SGST", "Cess", "GSTR-3B period", "GSTR-3B table"]


def liability_grid(result: Result, *, source_rows: np.ndarray | None = None, stamp: str = "") -> Grid:
    """The add-back rows: one per outward document whose rejection (or re-acceptance) moves our liability."""
    rows: list[list[object]] = [[f"{LIABILITY_MARK} (written by ims-excel {stamp})".replace(" ()", "")],
                                list(LIABILITY_HEADER)]
    lia = result.liability
    src_of = {}
    if source_rows is not None and result.outward is not None and "row" in result.outward:
        src_of = dict(zip(result.outward["row"].tolist(), source_rows.tolist()))
    for r in lia.itertuples(index=False):
        rows.append([int(src_of.get(int(r.row), r.row)), r.recipient_gstin, r.document_number, r.section,
                     r.rule, round(float(r.taxable_value), 2), *(round(float(getattr(r, h)), 2) for h in HEADS),
                     r.gstr3b_period, r.gstr3b_table])
    if len(lia):
        rows.append(["Total", "", "", "", "", round(float(lia["taxable_value"].sum()), 2),
                     *(round(float(lia[h].sum()), 2) for h in HEADS), "", ""])
    else:
        rows.append(["No add-back: no frozen rejection of a specified record among the Outward rows."])
    widths = {}
    return Grid(rows, [0], [1], set(), {6, 7, 8, 9, 10}, widths)


@dataclass
class Summary:
    """One client's line for ``batch`` and the demo."""

    client: str
    gstin: str
    period: str
    records: int
    errors: int
    warnings: int
    table_4a5: dict[str, float]
    addback: float

    def row(self) -> list[object]:
        return [self.client, self.gstin, self.period, self.records, self.errors, self.warnings,
                *(self.table_4a5[h] for h in HEADS), self.addback]


SUMMARY_HEADER = ["Client", "GSTIN", "Period", "Records", "Errors", "Warnings", "4A(5) IGST", "4A(5) CGST",
                  "4A(5) SGST", "4A(5) Cess", "Add-back total"]


def summary(result: Result, client: str = "") -> Summary:
    st = result.records["status"].astype(object).to_numpy()
    lia = result.liability
    addback = round(float(sum(lia[h].sum() for h in HEADS)), 2) if len(lia) else 0.0
    return Summary(client, result.context.gstin, periods.iso(result.context.return_period), len(result.records),
                   int((st == "error").sum()), int((st == "warning").sum()),
                   {h: round(float(result.gstr3b["4A5"][h]), 2) for h in HEADS}, addback)
