"""Differential check: the vectorised engine and the per-row reference (tests/support/reference.py) agree."""

import datetime as dt

import pandas as pd
import pytest

from tests.support.reference import evaluate_rows
from tests.support import synthetic
from ims_excel.engine import Context, evaluate

COLS = ["status", "primary_code", "effective_action", "gstr3b_table", "itc_igst", "itc_cgst", "itc_sgst", "itc_cess"]


@pytest.mark.parametrize("period, frequency, as_of, filed, seed", [
    ("2026-10", "monthly", dt.date(2026, 11, 26), False, 1),
    ("2025-11", "monthly", dt.date(2025, 12, 16), False, 2),
    ("2025-12", "quarterly", dt.date(2026, 1, 25), False, 3),
    ("2026-03", "monthly", dt.date(2026, 4, 15), True, 4),
])
def test_engine_equals_reference(period, frequency, as_of, filed, seed):
    df = synthetic.inward(3000, seed=seed, period=period, suppliers=300)
    ctx = Context.make("27AAACR5055K1Z7", period, frequency=frequency, as_of=as_of, gstr3b_filed=filed)
    got = evaluate(df, ctx, check=False).records[COLS].reset_index(drop=True)
    want = pd.DataFrame(evaluate_rows(df, ctx))[COLS]
    diff = (got != want).any(axis=1)
    assert not diff.any(), pd.concat([got[diff].head(), want[diff].head()], axis=1).to_string()
