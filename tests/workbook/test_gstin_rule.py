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
