"""The YAML case runner itself, on cases that MUST fail (as OpenFisca's test runner is tested).

A runner that passes everything proves nothing: a wrong expected value must be reported, and a
case file with a misspelt key (``recods:``) or a missing one must be refused with a message that
names the file, the case and the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.casefile import CaseFileError, check, load, run

GOOD = {
    "defaults": {"context": {"gstin": "27AAACR5055K1Z7", "period": "2025-11", "as_of": "2025-12-16"}},
    "cases": [{
        "name": "T1 an accepted invoice",
        "source": "ims-rules.md D1",
        "inward": [{"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "A-1",
                    "Document Date": "2025-11-05", "IGST": 900, "2B Period": "2025-11", "Action": "Accept"}],
        "expect": {"records": [{"row": 1, "status": "ok", "effective_action": "Accepted", "itc": {"igst": 900}}],
                   "gstr3b": {"4A5": {"igst": 900}},
                   "gstr2b": {"available": {"B2B": {"count": 1, "igst": 900}}}},
    }],
}


def _write(tmp_path: Path, doc: dict) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _one(tmp_path: Path, doc: dict) -> list[str]:
    defaults, cases, _ = load(_write(tmp_path, doc))
    return check(cases[0], run(defaults, cases[0]))


def _variant(**expect) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    doc["cases"][0]["expect"].update(expect)
    return doc


def test_the_good_case_passes(tmp_path):
    assert _one(tmp_path, GOOD) == []


@pytest.mark.parametrize("expect, reported", [
    ({"records": [{"row": 1, "status": "error"}]}, "row 1 status: want 'error', got 'ok'"),
    ({"records": [{"row": 1, "itc": {"igst": 901}}]}, "row 1 itc"),
    ({"records": [{"row": 1, "rule": "D2"}]}, "row 1 rule: want 'D2', got 'D1'"),
    ({"records": [{"row": 2, "status": "ok"}]}, "row 2: missing"),
    ({"gstr3b": {"4A5": {"igst": 90}}}, "gstr3b 4A5"),
    ({"gstr3b": {}}, "gstr3b 4A5"),
    ({"gstr2b": {"available": {"B2B": {"count": 2, "igst": 900}}}}, "gstr2b available/B2B"),
    ({"liability": [{"row": 1, "igst": 900}]}, "liability: want 1 rows"),
])
def test_a_wrong_expected_value_fails(tmp_path, expect, reported):
    diffs = _one(tmp_path, _variant(**expect))
    assert diffs and any(reported in d for d in diffs), diffs


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["cases"][0]["expect"].update(recods=d["cases"][0]["expect"].pop("records")),
     "case 1 (T1): unknown key 'recods' in expect"),
    (lambda d: d["cases"][0].update(sorce=d["cases"][0].pop("source")), "unknown key 'sorce' in case"),
    (lambda d: d["cases"][0]["expect"]["records"][0].update(staus="ok"), "unknown key 'staus' in record"),
    (lambda d: d["cases"][0]["expect"]["records"][0]["itc"].update(igts=1), "unknown key 'igts' in itc"),
    (lambda d: d["cases"][0]["inward"][0].update({"Supplier GSTN": "x"}), "unknown column 'Supplier GSTN'"),
    (lambda d: d["cases"][0].update(context={"as_off": "2025-12-16"}), "unknown key 'as_off' in context"),
    (lambda d: d["cases"][0]["expect"].update(gstr3b={"4A6": {"igst": 1}}), "unknown GSTR-3B table '4A6'"),
    (lambda d: d.update(case=d.pop("cases")), "unknown key 'case' in file"),
    (lambda d: d["cases"][0].pop("source"), "case is missing the key 'source'"),
    (lambda d: d["cases"][0].pop("expect"), "case is missing the key 'expect'"),
    (lambda d: d["cases"][0]["expect"]["records"][0].pop("row"), "record is missing the key 'row'"),
    (lambda d: d["defaults"]["context"].pop("period"), "context is missing the key 'period'"),
])
def test_a_malformed_case_file_is_refused(tmp_path, edit, message):
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    edit(doc)
    with pytest.raises(CaseFileError, match="case.yaml") as err:
        load(_write(tmp_path, doc))
    assert message in str(err.value)
