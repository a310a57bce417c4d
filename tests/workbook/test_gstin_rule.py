"""One GSTIN rule, everywhere (issue 12.3).

``ims_excel.gstin.valid`` decides (formats-and-market.md section 8: state codes 01-38, 97, 99; the
registration shapes; the Luhn mod-36 check character). On ONE list of GSTINs, valid and invalid, the
same answer comes from: the function itself, ``is_valid``, the CLI's ``--gstin``, ``new`` (the Config
reading that refuses a bad workbook), the ``GSTIN_VALID`` UDF, the records' check (GSTIN_CHECK_DIGIT),
and the workbook formulas recalculated in LibreOffice (the Inward ``GSTIN OK`` column and Config's
``GSTINValid``). GSTINs are written as the portal writes them: upper case, no spaces.
"""

from __future__ import annotations

import argparse
import random

import pandas as pd
import pytest
from wbtools import table

from ims_excel import gstin
from ims_excel.book import outputs
from ims_excel.cli.commands import context_from_args
from ims_excel.cli.exits import UsageError
from ims_excel.engine import Context, evaluate
from ims_excel.engine.sample import frame
from ims_excel.normalise import InputError
from ims_excel.template.build import build_workbook
from ims_excel.xl.udfs import GSTIN_VALID

from test_wb_libreoffice import _config_value  # noqa: E402  (tests/workbook is on the path)

GSTINS: list[tuple[str, bool, str]] = [
    ("27AAACR5055K1Z7", True, "normal taxpayer, Maharashtra (the rulebook's R)"),
    ("38AAACL1234L1ZJ", True, "Ladakh, state code 38 (python-stdnum refuses it)"),
    ("37AAACA1234A1ZJ", True, "Andhra Pradesh, 37"),
    ("97AAACO1234O1Z6", True, "Other Territory, 97"),
    ("07DELA12345A1Z7", True, "government department ID"),
    ("29DELT01234E1D6", True, "TDS deductor (TAN-shaped, 14th D)"),
    ("27AAACT1234A1CC", True, "TCS collector (14th C)"),
    ("0723USA12345NRV", True, "non-resident taxable person"),
    ("9917USA29001OSH", True, "OIDAR supplier, 99"),
    ("0717UNO12345UNL", True, "UN body (UIN)"),
    ("00AAPFU0939F1ZB", False, "state code 00, right check character"),
    ("39AAACL1234L1ZH", False, "state code 39 does not exist"),
    ("96AAACL1234L1ZH", False, "96 is a place-of-supply code only"),
    ("8817USA29001OSK", False, "OIDAR shape outside state 99"),
    ("27AAACR5055K1Z8", False, "wrong check character"),
    ("24MAYAS0100J1JD", False, "GSTN's own sandbox sample: wrong check character"),
    ("27AAACR5055K0Z8", False, "13th character 0 (registration count starts at 1)"),
    ("27AAACR5055K1K1", False, "14th character K: no registration has it"),
    ("27AAACRX055K1ZM", False, "letter where the PAN has digits"),
    ("27AAACR5055K1Z", False, "14 characters"),
    ("27AAACR5055K1Z77", False, "16 characters"),
]
VALUES = [g for g, _, _ in GSTINS]
EXPECTED = [ok for _, ok, _ in GSTINS]
RECIPIENT = "27AAACR5055K1Z7"


def test_the_rule_itself():
    assert gstin.valid(VALUES).tolist() == EXPECTED
    assert [gstin.is_valid(v) for v in VALUES] == EXPECTED


def test_shape_keys_are_the_shapes():
    """The workbook's shape test (``shape_key`` in ``SHAPE_KEYS``: character groups per position, one
    number) says what ``SHAPE_RE`` says, on texts of ``0-9A-Z`` near every shape and on random ones."""
    rng = random.Random(7)
    texts = []
    for sets in gstin.SHAPES.values():
        for _ in range(5000):
            g = [rng.choice(s) for s in sets]
            for _ in range(rng.randrange(4)):
                g[rng.randrange(15)] = rng.choice(gstin.ALPHABET)
            texts.append("".join(g))
    texts += ["".join(rng.choice(gstin.ALPHABET) for _ in range(15)) for _ in range(5000)]
    fits = [bool(gstin.SHAPE_RE.fullmatch(t)) for t in texts]
    assert 0.2 < sum(fits) / len(fits) < 0.8
    assert [gstin.shape_key(t[:14]) in gstin.SHAPE_KEYS for t in texts] == fits


def test_python_stdnum_is_not_the_decider():
    """python-stdnum agrees on the check character, but its state list stops at 37 (no Ladakh, no 97)."""
    from stdnum.in_ import gstin as stdnum_gstin

    assert stdnum_gstin.is_valid("27AAACR5055K1Z7") and not stdnum_gstin.is_valid("27AAACR5055K1Z8")
    assert not stdnum_gstin.is_valid("38AAACL1234L1ZJ") and gstin.is_valid("38AAACL1234L1ZJ")
    assert not stdnum_gstin.is_valid("97AAACO1234O1Z6") and gstin.is_valid("97AAACO1234O1Z6")


def test_udf_cli_and_new_agree():
    assert [row[0] for row in GSTIN_VALID([[v] for v in VALUES])] == EXPECTED
    for value, ok, why in GSTINS:
        args = argparse.Namespace(gstin=value, period="2025-11", frequency=None, as_of="2025-12-16",
                                  annual_return_date=None, gstr3b_filed=False, taxpayer_type=None, state=None)
        if ok:
            assert context_from_args(args).gstin == value, why
            assert outputs.context_from_config({"RecipientGSTIN": value, "ReturnPeriod": "2025-11"}).gstin == value
        else:
            with pytest.raises(UsageError, match="not a valid GSTIN"):
                context_from_args(args)
            with pytest.raises(InputError, match="not a valid GSTIN"):
                outputs.context_from_config({"RecipientGSTIN": value, "ReturnPeriod": "2025-11"})


def _rows(values: list[str]) -> list[dict]:
    return [{"Section": "B2B", "Supplier GSTIN": v, "Document Number": f"G-{i}", "Document Date": "2025-11-05",
             "IGST": 100, "2B Period": "2025-11"} for i, v in enumerate(values)]


def test_records_check_agrees():
    """GSTIN_CHECK_DIGIT marks exactly the invalid ones; a value of no GSTIN shape is refused on import."""
    shaped = gstin.format_ok(pd.Series(VALUES)).to_numpy(dtype=bool)
    ctx = Context.make(RECIPIENT, "2025-11")
    recs = evaluate(frame(_rows([v for v, s in zip(VALUES, shaped) if s])), ctx, check=False).records
    want = [ok for ok, s in zip(EXPECTED, shaped) if s]
    assert (~recs["gstin_bad"]).tolist() == want
    assert (recs["primary_code"] == "GSTIN_CHECK_DIGIT").tolist() == [not ok for ok in want]
    for v in [v for v, s in zip(VALUES, shaped) if not s]:
        with pytest.raises(InputError, match="is not a GSTIN"):
            frame(_rows([v]))


def test_workbook_formulas_agree(lo, tmp_path):
    """The Inward row check and Config's GSTINValid, recalculated by LibreOffice."""
    inward = frame(_rows([RECIPIENT] * len(VALUES)))
    inward["supplier_gstin"] = VALUES  # as typed, the odd lengths too (the importer would refuse them)
    book = build_workbook(tmp_path / "g.xlsm", inward, config={"gstin": RECIPIENT, "period": "2025-11"})
    got = table(lo.values(book, sheets=["Inward"]), "Inward")
    assert got["GSTIN OK"].tolist() == ["Y" if ok else "N" for ok in EXPECTED]
    for value in ("38AAACL1234L1ZJ", "9917USA29001OSH", "00AAPFU0939F1ZB", "96AAACL1234L1ZH"):
        book = build_workbook(tmp_path / f"c{value}.xlsm", config={"gstin": value, "period": "2025-11"})
        assert bool(_config_value(lo.values(book, sheets=["Config"]), "GSTINValid")) is gstin.is_valid(value), value


def test_gstin_valid_udf_is_the_rule_for_a_whole_column():
    """GSTIN_VALID = gstin.valid (state code 01-38/97/99, shape, check character; formats-and-market.md 8),
    after the cell is stripped and upper-cased as the portal writes GSTINs; blank cells stay blank."""
    column = [[" 27aaacr5055k1z7 "], [None], [""], ["38AAACL1234L1ZJ"], ["00AAPFU0939F1ZB"], ["27AAACR5055K1Z8"]]
    assert [row[0] for row in GSTIN_VALID(column)] == [True, "", "", True, False, False]


def tricky_gstins(seed: int = 12) -> list[str]:
    """Generated GSTINs on every edge of the rule: per registration shape, valid ones (every state
    code class), each position 1-14 given a character outside that shape's set (check character
    re-made, so only the shape decides), a wrong check character, lower case (all, the PAN part, the
    15th only), 13/14/16 characters, odd characters (space, -, *, ?, ~, é) in the body and in 15th
    place, and valid bodies under state codes that do not exist."""
    rng = random.Random(seed)
    odd = [" ", "-", "*", "?", "~", "é", "a"]
    out: list[str] = []
    for sets in gstin.SHAPES.values():
        for _ in range(3):
            body = "".join(rng.choice(s) for s in sets[:14])
            if sets[0] != "9":
                body = rng.choice(gstin.STATE_CODES) + body[2:]
            good = body + gstin.check_char(body)
            out.append(good)
            for i in range(14):
                outside = [c for c in gstin.ALPHABET if c not in sets[i]]
                if outside:
                    bad = body[:i] + rng.choice(outside) + body[i + 1:]
                    out.append(bad + gstin.check_char(bad))
            wrong = next(c for c in gstin.ALPHABET[rng.randrange(36):] + gstin.ALPHABET if c != good[14])
            out += [body + wrong, good.lower(), good[:2] + good[2:7].lower() + good[7:], good[:14] + good[14].lower(),
                    good[:13], good[:14], good + rng.choice(gstin.ALPHABET), good[:14] + rng.choice(odd),
                    *(good[:i] + rng.choice(odd) + good[i + 1:] for i in rng.sample(range(14), 3))]
            for state in ("00", "39", "96", "98", rng.choice(gstin.STATE_CODES)):
                b = state + body[2:]
                out.append(b + gstin.check_char(b))
    return out


def test_generated_gstins_agree_with_the_rule(lo, tmp_path):
    """Inward ``GSTIN OK`` and ``GSTIN Expected``, recalculated by LibreOffice, equal ``gstin.valid`` and
    ``gstin.expected`` on :func:`tricky_gstins` (the formula tests the check character, the state and
    the shape in turn: every way in and out of each step)."""
    values = tricky_gstins()
    want_ok = gstin.valid(values)
    assert want_ok.sum() >= 40 and (~want_ok).sum() >= 400  # both answers well represented
    inward = frame(_rows([RECIPIENT] * len(values)))
    inward["supplier_gstin"] = values
    book = build_workbook(tmp_path / "tricky.xlsm", inward, config={"gstin": RECIPIENT, "period": "2025-11"})
    got = table(lo.values(book, sheets=["Inward"]), "Inward")
    assert got["GSTIN OK"].tolist() == ["Y" if ok else "N" for ok in want_ok]
    assert got["GSTIN Expected"].tolist() == gstin.expected(pd.Series(values)).tolist()
