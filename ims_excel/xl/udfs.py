"""Worksheet functions (xlwings UDFs): thin doors onto the engine, one call per column.

Each function takes the whole Inward table *with its header row* (for example
``=IMS_CHECK(Inward[#All], Config!B2, Config!B4)``) and returns one value per
data row, so a single call fills a column (a dynamic array in Excel 365,
or an array formula over the column in older Excel). Only the BSD part of
xlwings is used; on Linux the decorators are no-ops and the functions are
plain Python, which is how the tests call them.

>>> table = [["Section", "Supplier GSTIN", "Document Number", "Document Date", "IGST", "2B Period", "Action"],
...          ["B2B-CN", "29AAACS2222T1ZX", "CN-208", "2025-09-20", 1800, "2025-09", "Pending"]]
>>> IMS_CHECK(table, "27AAACR5055K1Z7", "2025-09", "2025-10-15")
[['PEND_SPECIFIED_PRE_OCT25']]
>>> GSTIN_VALID([["27AAACR5055K1Z7"], ["27AAACR5055K1Z8"]])
[[True], [False]]
>>> books = [["Supplier GSTIN", "Document Number", "Document Date", "IGST"],
...          ["29AAACS2222T1ZX", "INV/0101", "2025-11-05", 1800]]
>>> inward = [["Section", "Supplier GSTIN", "Document Number", "Document Date", "IGST", "2B Period", "Action"],
...           ["B2B", "29AAACS2222T1ZX", "INV-101", "2025-11-05", 1800, "2025-11", ""]]
>>> IMS_SUGGEST(inward, books, "27AAACR5055K1Z7", "2025-11", "2025-12-10")
[['Accept']]
>>> IMS_SUGGEST_REASON(inward, books, "27AAACR5055K1Z7", "2025-11", "2025-12-10")
[['Accept: matches books row 2 (Books); rule D1 allows Accept']]
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import xlwings as xw

from ims_excel import gstin as gstin_mod
from ims_excel.engine import Context, Result, evaluate
from ims_excel.engine.explain import message
from ims_excel.formats.books import from_rows
from ims_excel.normalise import InputError, normalise
from ims_excel.recon import reconcile
from ims_excel.xlsx.dates import date_of

OK = "OK"


def _as_date(value: object) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):  # an Excel serial
        return date_of(value)
    return dt.date.fromisoformat(str(value))


def _context(gstin: str, period: object, as_of: object, frequency: str, gstr3b_filed: object) -> Context:
    if isinstance(period, (dt.date, dt.datetime)):
        period = f"{period.year:04d}-{period.month:02d}"
    return Context.make(str(gstin).strip(), str(period), frequency=str(frequency or "monthly").lower(),
                        as_of=_as_date(as_of) or dt.date.today(),
                        gstr3b_filed=str(gstr3b_filed).upper() in ("Y", "TRUE", "1"))


def _evaluate(table: list[list[object]], gstin: str, period: object, as_of: object,
              frequency: str, gstr3b_filed: object) -> Result:
    header, *rows = table
    keep = [i for i, r in enumerate(rows) if any(v not in (None, "") for v in r)]
    raw = pd.DataFrame([rows[i] for i in keep], columns=[str(h) for h in header], dtype=object)
    frame = normalise(raw, file="Inward")
    result = evaluate(frame, _context(gstin, period, as_of, frequency, gstr3b_filed), check=False)
    result.records.attrs["keep"] = keep
    result.records.attrs["n"] = len(rows)
    return result


def _column(result: Result, values: list[object], blank: object = "") -> list[list[object]]:
    """Spread per-record values back onto every data row (blank rows stay blank)."""
    out: list[list[object]] = [[blank] for _ in range(result.records.attrs["n"])]
    for i, v in zip(result.records.attrs["keep"], values):
        out[i] = [v]
    return out


def _guard(fn):
    """Bad input shows as one readable text in every cell instead of #VALUE!."""
    @functools.wraps(fn)  # keeps the signature xlwings reads when it imports the functions
    def wrapper(table, *args, **kw):
        try:
            return fn(table, *args, **kw)
        except InputError as e:
            return [[f"INPUT: {e.problems[0]}"] for _ in table[1:]]
    return wrapper


@xw.func
@xw.arg("table", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_CHECK(table, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """OK, or the reason code the portal would give for each record's action."""
    res = _evaluate(table, gstin, period, as_of, frequency, gstr3b_filed)
    codes = [c or OK for c in res.records["primary_code"]]
    return _column(res, codes)


@xw.func
@xw.arg("table", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_EXPLAIN(table, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """The plain-English message for each record (blank when all is well)."""
    res = _evaluate(table, gstin, period, as_of, frequency, gstr3b_filed)
    return _column(res, [message(res, i) for i in range(len(res.records))])


def _dates(res: Result, column: str) -> list[list[object]]:
    values = [None if pd.isna(v) else pd.Timestamp(v).date() for v in res.records[column]]
    return _column(res, values, blank=None)


@xw.func
@xw.arg("table", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_PENDING_DEADLINE(table, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """Last day a record may stay Pending (G8 window, or the s.16(4) cut-off); blank if never."""
    return _dates(_evaluate(table, gstin, period, as_of, frequency, gstr3b_filed), "pending_deadline")


@xw.func
@xw.arg("table", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_CUTOFF_164(table, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """Section 16(4) cut-off of each invoice / debit note / ECO document; blank for credit notes, BoEs."""
    return _dates(_evaluate(table, gstin, period, as_of, frequency, gstr3b_filed), "cutoff_164")


@xw.func
@xw.arg("values", ndim=2)
@xw.ret(expand="table")
def GSTIN_VALID(values):
    """TRUE where the cell is a valid GSTIN by THE rule, :func:`ims_excel.gstin.valid`.

    Valid = a GST state code (01-38, 97, 99), the shape of a registration GSTN issues (normal,
    government, TDS, TCS, non-resident, OIDAR, UN body) and the right Luhn mod-36 check character
    (formats-and-market.md section 8; issue 12.3). The cell is stripped and upper-cased first, as the
    portal writes GSTINs; blank cells give blank.
    """
    text = [("" if v is None else str(v)).strip().upper() for v, *_ in values]
    ok = gstin_mod.valid(text)
    return [["" if t == "" else bool(o)] for t, o in zip(text, ok)]


def _suggestions(table, books, gstin, period, as_of, frequency, gstr3b_filed) -> tuple[Result, pd.DataFrame]:
    res = _evaluate(table, gstin, period, as_of, frequency, gstr3b_filed)
    rec = reconcile(res.inward, res.context, from_rows(books, "Books"))
    return res, rec.suggestions


@xw.func
@xw.arg("table", ndim=2)
@xw.arg("books", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_SUGGEST(table, books, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """The suggested action of each record from its match with the purchase register ``books`` (a range
    with its header row): Accept / Reject / Pending, or blank (issue 11; :func:`ims_excel.recon.reconcile`,
    the same use case as ``ims-excel reconcile``, with ``rules/reconcile.yaml``'s tolerances and policy: a
    worksheet function gets no workbook, so not the Config sheet's - the button and the command use those)."""
    res, sug = _suggestions(table, books, gstin, period, as_of, frequency, gstr3b_filed)
    return _column(res, sug["suggested_action"].tolist())


@xw.func
@xw.arg("table", ndim=2)
@xw.arg("books", ndim=2)
@xw.ret(expand="table")
@_guard
def IMS_SUGGEST_REASON(table, books, gstin, period, as_of=None, frequency="monthly", gstr3b_filed="N"):
    """Why: the match with the books and the rule that allows the suggestion (or why there is none)."""
    res, sug = _suggestions(table, books, gstin, period, as_of, frequency, gstr3b_filed)
    return _column(res, sug["suggestion_reason"].tolist())
