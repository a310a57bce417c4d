"""The workbook's formulas compute exactly what the engine computes (issue 3).

Workbooks are built with the rows and Config of (a) every case of
tests/cases/worked_examples.yaml and decision_rules.yaml (cases sharing a
context share one workbook) and (b) thousands of synthetic records over
several contexts (monthly and quarterly, before and after Oct-2025, GSTR-3B
filed or not, deadlines within 30 days, an annual return, no IMS access).
LibreOffice recalculates each one, and then:

* every row's Status, Reason Code, Message, Effective Action, In 2B, 2B Bucket,
  3B Table, ITC per head, Pending Deadline, 16(4) Cut-off, Rule and IMS State
  equal the engine's record;
* every computed column (helpers too) equals ``inward.cached_values`` /
  ``outward.cached_values``, the values ``process`` writes as cached values;
* every Summary, GSTR-2B, GSTR-3B and Liability cell equals the engine's
  aggregate to the paisa.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from wbtools import cell, table
from xlsxwriter.utility import xl_cell_to_rowcol

from ims_excel import periods
from tests.support import synthetic
from ims_excel.book.new import make_book
from ims_excel.engine import Context, evaluate
from ims_excel.engine.deadlines import gstr3b_due
from ims_excel.engine.sample import frame
from ims_excel.normalise import normalise
from ims_excel.records import HEADS
from ims_excel.engine.explain import message
from ims_excel.template import config, inward, outward, summaries, values
from ims_excel.template.build import SHEETS as SHEETS_BUILT
from ims_excel.template.build import build_workbook
from ims_excel.template.specs import INWARD as INWARD_SPEC
from tests.casefile import _stringify, context_of, load

TOL = 0.005  # to the paisa
SHEETS = ["Inward", "Outward", "Summary", "GSTR-2B", "GSTR-3B", "Liability", "Config"]
HEAD = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "Cess"}
EPOCH = dt.date(1899, 12, 30)


# ------------------------------------------------------------------ comparing

def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < TOL
    return a == b


def _serial(d) -> object:
    if d is None or pd.isna(d):
        return ""
    return float((pd.Timestamp(d).date() - EPOCH).days)


def engine_rows(res) -> pd.DataFrame:
    """The visible columns as the engine says they must be (straight from ``Result``)."""
    recs = res.records
    from ims_excel.engine.summary import ims_state

    text = lambda c: recs[c].astype(object).fillna("").to_numpy(dtype=object)  # noqa: E731
    out = pd.DataFrame({
        "Status": text("status"),
        "Reason Code": text("primary_code"),
        "Message": [message(res, i) for i in range(len(recs))],
        "Effective Action": text("effective_action"),
        "In 2B": np.where(recs["in_2b"].to_numpy(dtype=bool), "Y", "N"),
        "2B Bucket": np.where(text("bucket") == "none", "", text("bucket")),
        "3B Table": text("gstr3b_table"),
        **{f"ITC {HEAD[h]}": recs[f"itc_{h}"].to_numpy(dtype=float) for h in HEADS},
        "Pending Deadline": [_serial(d) for d in recs["pending_deadline"]],
        "16(4) Cut-off": [_serial(d) for d in recs["cutoff_164"]],
        "Rule": text("rule"),
        "Period": [periods.iso(int(p)) for p in recs["period_2b"]],
        "IMS State": ims_state(res),
    })
    return out


def row_differences(values: dict, res) -> list:
    """(row, column, workbook, expected) for every disagreeing cell, rows then all computed columns."""
    got = table(values, "Inward")
    n = len(res.records)
    diffs = []
    if n == 0:
        return [("rows", len(got))] if len(got) > 1 or (len(got) == 1 and got["Section"].iloc[0] != "") else []
    assert len(got) == n, f"{len(got)} workbook rows for {n} records"
    for expected in (engine_rows(res), inward.cached_values(res)):
        for c in expected.columns:
            for i, (a, b) in enumerate(zip(got[c].tolist(), expected[c].tolist())):
                if not _same(a, b):
                    diffs.append((i + 1, c, a, b))
    if res.outward is not None and len(res.outward):
        got_out = table(values, "Outward")
        exp_out = outward.cached_values(res)
        for c in exp_out.columns:
            for i, (a, b) in enumerate(zip(got_out[c].tolist(), exp_out[c].tolist())):
                if not _same(a, b):
                    diffs.append((f"out {i + 1}", c, a, b))
    return diffs


def expected_summaries(res) -> dict:
    """Every summary cell as the engine aggregates it: ``template.values.aggregates``, the values
    ``process`` caches in those cells (one mapping, checked here against LibreOffice's recalculation)."""
    return values.aggregates(res)


def summary_differences(values: dict, res) -> list:
    cells = summaries.cell_map()
    return [(k, cell(values, cells[k]), v) for k, v in expected_summaries(res).items()
            if not _same(cell(values, cells[k]), v)]


def config_of(ctx: Context) -> dict:
    return config.from_context(ctx)


def no_errors(values: dict) -> dict:
    return {s: v["errors"] for s, v in values.items() if v["errors"]}


# ------------------------------------------------------------------ (a) the rulebook cases

def _case_batches() -> list[tuple[str, Context, list[dict], list[dict]]]:
    """Cases grouped by context: (names, context, inward rows, outward rows)."""
    groups: dict[Context, tuple[list, list, list]] = {}
    for name in ("worked_examples.yaml", "decision_rules.yaml", "rules_fidelity.yaml"):
        defaults, cases, _ = load(name)
        for case in cases:
            ctx = context_of(defaults, case)
            names, inw, out = groups.setdefault(ctx, ([], [], []))
            names.append(case["name"].split()[0])
            inw += _stringify(case.get("inward", []))
            out += _stringify(case.get("outward", []) or [])
    return [(" ".join(n), ctx, i, o) for ctx, (n, i, o) in groups.items()]


BATCHES = _case_batches()


def write_book(storage: str, path, inw, outw, config: dict):
    """The same records stored three ways (issue 9): each formula cell in full (as Excel writes a
    table's calculated column), or each column as one A1 shared formula, written by the template
    builder (``build_workbook(shared_formulas=True)``) or by the book writer that ``import
    --shared-formulas`` and big books use (``make_book(shared_formulas=True)``)."""
    if storage == "per-cell":
        return build_workbook(path, inw, outw, config)
    if storage == "build-shared":
        return build_workbook(path, inw, outw, config, shared_formulas=True)
    return make_book(path, inw, outw, config, shared_formulas=True)


@pytest.fixture(scope="module", params=["per-cell", "build-shared", "writer-shared"])
def case_books(request, lo, tmp_path_factory):
    """Every batch built, recalculated and evaluated once: [(names, result, values)]."""
    tmp = tmp_path_factory.mktemp("cases")
    out = []
    for k, (names, ctx, inw_rows, out_rows) in enumerate(BATCHES):
        inw = frame(inw_rows)
        outw = frame(out_rows, "outward") if out_rows else None
        res = evaluate(inw, ctx, outw, check=False)  # a batch repeats document numbers across cases
        book = write_book(request.param, tmp / f"case{k}.xlsm", inw, outw, config_of(ctx))
        out.append((names, res, lo.values(book, sheets=SHEETS)))
    return out


def test_every_case_is_in_a_batch():
    n = sum(len(load(f)[1]) for f in ("worked_examples.yaml", "decision_rules.yaml", "rules_fidelity.yaml"))
    assert sum(len(b[0].split()) for b in BATCHES) == n
    assert len(BATCHES) < n  # batched


def test_cases_recalculate_without_errors(case_books):
    assert {names: no_errors(v) for names, _, v in case_books if no_errors(v)} == {}


def test_case_rows_equal_the_engine(case_books):
    diffs = {names: row_differences(v, res)[:8] for names, res, v in case_books}
    assert {k: d for k, d in diffs.items() if d} == {}
    assert sum(len(res.records) for _, res, _ in case_books) > 80


def test_case_summaries_equal_the_engine(case_books):
    diffs = {names: summary_differences(v, res)[:8] for names, res, v in case_books}
    assert {k: d for k, d in diffs.items() if d} == {}


def test_cases_reach_every_rule_code_and_status(case_books):
    """The batches exercise what the formulas must get right."""
    rules, codes, status, buckets = set(), set(), set(), set()
    for _, res, v in case_books:
        got = table(v, "Inward")
        rules |= set(got["Rule"])
        codes |= set(got["Reason Code"])
        status |= set(got["Status"])
        buckets |= set(got["2B Bucket"])
    assert {f"D{k}" for k in range(1, 30)} - {"D27"} <= rules
    assert {"ok", "info", "warning", "error"} <= status
    assert {"available", "not_available", "reversal", "rejected", "pending"} <= buckets
    assert len(codes) > 20


def test_liability_cases_have_addback_rows(case_books):
    rows = sum(len(res.liability) for _, res, _ in case_books)
    assert rows >= 3


# ------------------------------------------------------------------ (b) synthetic records

SYNTHETIC = [
    # name, inward n, outward n, seed, period, context
    ("monthly-2026-10", 1500, 800, 1, "2026-10",
     dict(gstin="27AAACR5055K1Z7", frequency="monthly", as_of=dt.date(2026, 11, 5))),
    ("monthly-filed", 900, 0, 2, "2026-10",
     dict(gstin="27AAACR5055K1Z7", frequency="monthly", as_of=dt.date(2026, 11, 25), gstr3b_filed=True)),
    ("quarterly-2026", 1000, 600, 3, "2026-11",
     dict(gstin="29AAACR5055K1Z3", frequency="quarterly", as_of=dt.date(2027, 1, 10))),
    ("monthly-2025-09", 900, 0, 4, "2025-09",
     dict(gstin="27AAACR5055K1Z7", frequency="monthly", as_of=dt.date(2025, 10, 12))),
    ("quarterly-2025-q3", 800, 500, 5, "2025-08",
     dict(gstin="07AAACE4444E1Z0", frequency="quarterly", as_of=dt.date(2025, 10, 20))),
    ("monthly-annual-return", 800, 500, 6, "2025-11",
     dict(gstin="27AAACR5055K1Z7", frequency="monthly", as_of=dt.date(2025, 12, 16),
          annual_return_date=dt.date(2025, 10, 15))),
    ("composition", 200, 0, 7, "2026-01",
     dict(gstin="27AAACR5055K1Z7", frequency="monthly", as_of=dt.date(2026, 2, 10), taxpayer_type="composition")),
]


@pytest.fixture(scope="module", params=["build-shared", "writer-shared"])
def synthetic_books(request, lo, tmp_path_factory):
    """Each synthetic context: typed records -> raw cells (as typed) -> workbook and engine."""
    tmp = tmp_path_factory.mktemp("synthetic")
    out = []
    for name, n, n_out, seed, period, kw in SYNTHETIC:
        ctx = Context.make(period=period, **kw)
        raw = synthetic.to_raw(synthetic.inward(n, seed=seed, period=period, recipient_state=kw["gstin"][:2]))
        raw_out = synthetic.to_raw(synthetic.outward(n_out, seed=seed, period=period), "outward") if n_out else None
        if raw_out is not None:  # supplies to the recipient's own state, a few place-of-supply mismatches
            own = raw_out["Recipient GSTIN"].str[:2]
            raw_out["Place Of Supply"] = np.where(np.arange(n_out) % 30 == 0, raw_out["Place Of Supply"], own)
        inw = normalise(raw)
        outw = normalise(raw_out, direction="outward") if n_out else None
        res = evaluate(inw, ctx, outw)
        book = write_book(request.param, tmp / f"{name}.xlsm", raw, raw_out, config_of(ctx))
        out.append((name, res, lo.values(book, sheets=SHEETS)))
    return out


def test_synthetic_covers_enough(synthetic_books):
    n = sum(len(res.records) for _, res, _ in synthetic_books)
    assert n >= 5000
    recs = pd.concat([res.records for _, res, _ in synthetic_books])
    assert set(recs["status"]) == {"ok", "info", "warning", "error"}
    assert recs["rule"].nunique() >= 25
    codes = set(recs["primary_code"])
    assert {"PEND_DEADLINE_NEAR", "CUTOFF_164_NEAR", "CUTOFF_164_PASSED", "PEND_WINDOW_OVER", "FROZEN", "TIME_BARRED",
            "DECL_EXCEEDS", "GSTIN_CHECK_DIGIT"} <= codes
    assert sum(len(res.liability) for _, res, _ in synthetic_books) > 40


def test_synthetic_recalculates_without_errors(synthetic_books):
    assert {name: no_errors(v) for name, _, v in synthetic_books if no_errors(v)} == {}


def test_synthetic_rows_equal_the_engine(synthetic_books):
    diffs = {name: row_differences(v, res) for name, res, v in synthetic_books}
    assert {k: (len(d), d[:8]) for k, d in diffs.items() if d} == {}


def test_synthetic_summaries_equal_the_engine(synthetic_books):
    diffs = {name: summary_differences(v, res)[:8] for name, res, v in synthetic_books}
    assert {k: d for k, d in diffs.items() if d} == {}


# ------------------------------------------------------------------ the template and the Config derivations

def test_empty_template_row_gives_blanks(lo, built):
    values = lo.values(built, sheets=["Inward", "Outward", "Summary", "GSTR-3B"])
    assert no_errors(values) == {}
    for sheet, spec in (("Inward", inward.COMPUTED), ("Outward", outward.COMPUTED)):
        got = table(values, sheet)
        assert len(got) == 1
        for c in spec:
            assert got[c.header].iloc[0] in ("", 0.0), (sheet, c.header, got[c.header].iloc[0])


@pytest.mark.parametrize("period, frequency, state, start, end, due", [
    ("2025-11", "Monthly", "27", "2025-11", "2025-11", 20),
    ("2025-11", "Quarterly", "27", "2025-10", "2025-12", 22),
    ("2025-11", "Quarterly", "07", "2025-10", "2025-12", 24),
])
def test_config_window_and_due_day(lo, tmp_path, period, frequency, state, start, end, due):
    gstin = {"27": "27AAACR5055K1Z7", "07": "07AAACE4444E1Z0"}[state]
    book = build_workbook(tmp_path / "c.xlsm", config={"gstin": gstin, "period": period, "frequency": frequency})
    values = lo.values(book, sheets=["Config"])
    got = {d.name: cell(values, f"Config!C{config.derived_row(d.name)}") for d in config.DERIVED}
    assert got["WindowStart"] == periods.parse(start) and got["WindowEnd"] == periods.parse(end)
    assert got["WindowEndPeriod"] == end and got["DueDay"] == due
    want = gstr3b_due(np.array([periods.parse(end)]), frequency.lower(), state)[0]
    assert got["ReturnDueDate"] == _serial(want)  # what CUTOFF_164_BEFORE_DUE compares with


def test_negative_4a_setting_moves_the_net_to_4b(lo, tmp_path, monkeypatch):
    """Q1 setting ``negative_4a_to_4b`` (parameters.yaml): the GSTR-3B sheet follows the engine."""
    from ims_excel.rules import rulebook

    monkeypatch.setitem(rulebook().params["negative_4a_to_4b"], "value", True)
    rows = [{"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "I-1",
             "Document Date": "2025-11-05", "IGST": 900, "2B Period": "2025-11"},
            {"Section": "B2B-CN", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "C-1",
             "Document Date": "2025-11-06", "IGST": 1800, "2B Period": "2025-11", "Action": "Accept",
             "ITC Reduction": "Full"},
            {"Section": "B2B", "Supplier GSTIN": "27AAACS1111S1Z9", "Document Number": "I-2",
             "Document Date": "2025-11-05", "CGST": 450, "SGST": 450, "2B Period": "2025-11"}]
    ctx = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))
    res = evaluate(frame(rows), ctx)
    assert res.gstr3b["4A5"]["igst"] == 0 and res.gstr3b["4B2"]["igst"] == 900
    values = lo.values(build_workbook(tmp_path / "neg.xlsm", frame(rows), None, config_of(ctx)), sheets=SHEETS)
    assert summary_differences(values, res) == []
    assert row_differences(values, res) == []


def test_cells_as_a_user_types_them(lo, tmp_path):
    """Periods in every spelling the engine reads, lower-case flags, a place of supply with its name."""
    base = {"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Date": "2025-11-05", "IGST": 900}
    spellings = ["2025-11", "2025-9", "11-2025", "9-2025", "112025", "2025/11", ""]
    rows = [{**base, "Document Number": f"P-{i}", "2B Period": p, "Supplier Filing Date": "2025-12-16"}
            for i, p in enumerate(spellings)]
    rows += [{**base, "Document Number": "F-1", "Reverse Charge": "y", "2B Period": "2025-11"},
             {**base, "Document Number": "F-2", "Place Of Supply": "29-Karnataka", "2B Period": "2025-11"},
             {**base, "Document Number": "F-3", "Place Of Supply": "27", "Pending Blocked": "n",
              "Action": "Pending", "2B Period": "2025-11"}]
    raw = pd.DataFrame(rows, dtype=object)
    ctx = Context.make("27AAACR5055K1Z7", "2025-12", as_of=dt.date(2026, 1, 5))
    res = evaluate(normalise(raw), ctx)
    assert list(res.records["rule"].astype(object)[-3:-1]) == ["D19", "D22"]
    values = lo.values(build_workbook(tmp_path / "typed.xlsm", raw, None, config_of(ctx)), sheets=SHEETS)
    assert row_differences(values, res) == []
    assert summary_differences(values, res) == []


def _type_cells(book, sheet: str, cells: dict) -> None:
    """Put numbers into cells of ``sheet`` as a user types them (the builder writes amounts rounded to the
    paisa, as ``normalise`` reads them), keeping each cell's style."""
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    part = f"xl/worksheets/sheet{[name for name, _ in SHEETS_BUILT].index(sheet) + 1}.xml"
    xml = entries[part].decode()
    for a1, v in cells.items():
        xml, n = re.subn(rf'<c r="{a1}"( s="\d+")?[^>]*?(/>|>.*?</c>)', rf'<c r="{a1}"\1><v>{v!r}</v></c>', xml)
        assert n == 1, a1
    entries[part] = xml.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)


def test_amounts_below_the_paisa_keep_the_engine_direction(lo, tmp_path):
    """Direction (and so the record kind) of amendments typed with more than two decimals: the engine
    reads every amount rounded to the paisa (``normalise.parse_amounts``) and then compares the totals
    (``classify``: down when amended <= original + 0.005; a BoE below original - 0.005), so the
    formula rounds each head before it compares. Amended 100.006 against 100.001 differs by exactly
    0.005 as typed (0.00499999... in binary: "down" unrounded) but by a paisa rounded: up (D3);
    100.004 against 99.996 is up by 0.008 as typed but unchanged rounded: down (D4). Originals
    rejected, so each amendment counts its full value (no delta of unrounded amounts)."""
    base = {"Section": "B2BA", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Date": "2025-11-05",
            "Original Document Date": "2025-10-05", "2B Period": "2025-11", "Original Action": "Rejected",
            "Original 3B Filed": "Y"}
    typed = [{"IGST": 100.006, "Original IGST": 100.001}, {"IGST": 10.007, "Original IGST": 10.002},
             {"IGST": 100.004, "Original IGST": 99.996}, {"IGST": 50.003, "Original IGST": 49.997},
             {"CGST": 50.004, "SGST": 50.004, "Original CGST": 50.002, "Original SGST": 50.002}]
    rows = [{**base, "Document Number": f"A-{i}", "Original Document Number": f"O-{i}", **t}
            for i, t in enumerate(typed)]
    boe = {"Section": "IMPGA", "Document Date": "2025-11-05", "Original Document Date": "2025-10-05",
           "2B Period": "2025-11", "Source Form": "ICEGATE"}
    typed += [{"IGST": 100.004, "Original IGST": 100.006},  # a paisa less rounded (0.002 as typed): down
              {"IGST": 0.004, "Original IGST": 100.0}]      # nil rounded: taken away (D17)
    rows += [{**boe, "Document Number": f"B-{i}", "Original Document Number": f"OB-{i}", **t}
             for i, t in enumerate(typed[-2:])]
    raw = pd.DataFrame(rows, dtype=object)
    ctx = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))
    res = evaluate(normalise(raw), ctx)
    assert list(res.records["record_rule"].astype(object)) == ["D3", "D3", "D4", "D4", "D4", "D16", "D17"]
    book = build_workbook(tmp_path / "paise.xlsm", raw, None, config_of(ctx))
    letter = {h: chr(ord("A") + j) for j, h in enumerate(INWARD_SPEC.headers) if j < 26}
    _type_cells(book, "Inward", {f"{letter[h]}{i + 2}": v for i, t in enumerate(typed) for h, v in t.items()})
    values = lo.values(book, sheets=SHEETS)
    got = table(values, "Inward")
    assert got["IGST"].tolist()[:4] == [100.006, 10.007, 100.004, 50.003]  # as typed, not rounded
    assert list(got["Direction"]) == ["up", "up", "down", "down", "down", "down", "down"]
    assert row_differences(values, res) == []  # every row cell (the Summary's tax sums add the cells as typed)


def test_own_table4_entries_feed_4c(lo, tmp_path):
    """GSTR-3B Table 4 as the return shows it (issue 9): 4(A)(2), 4(B)(1), 4(D)(1) are the taxpayer's own
    blank input cells; what is typed in 4(A)(2) adds to 4(C), 4(B)(1) subtracts, 4(D)(1) does not count."""
    rows = [{"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "I-1",
             "Document Date": "2025-11-05", "IGST": 900, "2B Period": "2025-11"}]
    ctx = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))
    res = evaluate(frame(rows), ctx)
    book = build_workbook(tmp_path / "own.xlsm", frame(rows), None, config_of(ctx))
    cells = summaries.cell_map()
    typed = {"4A2": 100.0, "4B1": 30.0, "4D1": 7.0}
    with zipfile.ZipFile(book) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    part = f"xl/worksheets/sheet{[name for name, _ in SHEETS_BUILT].index('GSTR-3B') + 1}.xml"
    xml = entries[part].decode()
    for row, v in typed.items():
        a1 = cells[("gstr3b", "table4", row, "IGST")].rsplit("!", 1)[1]
        xml, n = re.subn(rf'<c r="{a1}"( s="\d+")?/>', rf'<c r="{a1}"\1><v>{v}</v></c>', xml)
        assert n == 1, a1  # a blank input cell, no formula
    entries[part] = xml.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    values = lo.values(book, sheets=["GSTR-3B"])
    got = cell(values, cells[("gstr3b", "table4", "4C", "IGST")])
    assert abs(got - (res.gstr3b["4A5"]["igst"] + 100 - 30)) < TOL and res.gstr3b["4A5"]["igst"] == 900
    assert cell(values, cells[("gstr3b", "table4", "4D1", "IGST")]) == 7.0
    assert xl_cell_to_rowcol(cells[("gstr3b", "table4", "4A2", "IGST")].rsplit("!", 1)[1])[0] == \
        xl_cell_to_rowcol(cells[("gstr3b", "table4", "4A1", "IGST")].rsplit("!", 1)[1])[0] + 1
