"""Decision-table rows and reason codes beyond the worked examples (tests/cases/decision_rules.yaml)."""

import pytest

from ims_excel.rules import rulebook
from tests.casefile import check, load, run

DEFAULTS, CASES, _ = load("decision_rules.yaml")
W_DEFAULTS, W_CASES, _ = load("worked_examples.yaml")
F_DEFAULTS, F_CASES, _ = load("rules_fidelity.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"].split()[0] for c in CASES])
def test_decision_rule(case):
    assert case.get("source")
    assert check(case, run(DEFAULTS, case)) == []


@pytest.mark.parametrize("case", F_CASES, ids=[c["name"].split()[0] for c in F_CASES])
def test_rules_fidelity(case):
    """Issue 12: the defects found against the rulebook, and the [INF] readings, one case each."""
    assert case.get("source")
    assert check(case, run(F_DEFAULTS, case)) == []


def test_every_reason_code_is_reached():
    """Each code of reason_codes.yaml is produced by the engine in at least one case."""
    seen = set()
    for defaults, cases in ((DEFAULTS, CASES), (W_DEFAULTS, W_CASES), (F_DEFAULTS, F_CASES)):
        for case in cases:
            for rec in run(defaults, case)["records"]:
                seen.update(rec["codes"])
    assert set(rulebook().codes) - seen == set()


def test_every_decision_row_is_reached():
    """Each rule D1-D30 that classifies records governs at least one case."""
    seen = set()
    for defaults, cases in ((DEFAULTS, CASES), (W_DEFAULTS, W_CASES), (F_DEFAULTS, F_CASES)):
        for case in cases:
            seen.update(r["rule"] for r in run(defaults, case)["records"])
    modifiers = {r.id for r in rulebook().rules if r.kind == "modifier"}  # D27, D30: codes, not rows
    assert {r.id for r in rulebook().rules} - modifiers - seen == set()
