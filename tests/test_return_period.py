"""A return period before Oct-2024 is refused (ims-rules.md D28; S1, S2: IMS covers GSTR-2B periods from
Oct-2024, parameters.yaml ims_start_period).

In such a return every record is D28 (NOT_IN_IMS_PRE_OCT24, bucket none): it reaches no GSTR-2B, GSTR-3B or
IMS summary. So the engine's Context, the ``report`` flags and a client workbook's Config refuse it, naming
what to correct (the flag, or Config's cell), before anything is written.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ims_excel import periods
from ims_excel.cli import main
from ims_excel.engine import Context
from ims_excel.template import config as config_sheet
from ims_excel.template.build import build_workbook

GSTIN = "27AAACR5055K1Z7"


@pytest.mark.parametrize("period, frequency", [("2024-09", "monthly"), ("2024-08", "quarterly"),
                                               ("2023-04", "monthly")])
def test_context_refuses_a_return_period_before_ims(period, frequency):
    with pytest.raises(ValueError, match=f"return period {period} is before Oct-2024, when IMS started"):
        Context.make(GSTIN, period, frequency=frequency, as_of=dt.date(2024, 10, 10))


@pytest.mark.parametrize("period, frequency", [("2024-10", "monthly"), ("2024-11", "quarterly")])
def test_context_takes_oct_2024_on(period, frequency):
    assert Context.make(GSTIN, period, frequency=frequency).return_period >= periods.parse("2024-10")


def test_report_refuses_the_period_flag(capsys, tmp_path):
    code = main(["report", str(tmp_path / "in.csv"), "--gstin", GSTIN, "--period", "2024-09"])
    err = capsys.readouterr().err
    assert code == 2 and "--period 2024-09 is before Oct-2024" in err and "Use 2024-10 or later" in err, err


def test_a_workbook_whose_config_says_2024_09_is_refused_naming_the_cell(capsys, tmp_path):
    book = build_workbook(tmp_path / "client.xlsm", config={"gstin": GSTIN, "period": "2024-09"})
    code = main(["report", str(book)])
    err = capsys.readouterr().err
    row = config_sheet.FIRST_ROW + [f.name for f in config_sheet.FIELDS].index("ReturnPeriod")
    assert code == 2, err
    assert f"sheet 'Config', row {row}" in err and "Return period" in err, err
    assert "2024-09 is before Oct-2024" in err, err


def test_new_refuses_before_writing(capsys, tmp_path):
    out = tmp_path / "client.xlsm"
    code = main(["new", str(out), "--gstin", GSTIN, "--period", "2024-07"])
    err = capsys.readouterr().err
    assert code == 2 and "2024-07 is before Oct-2024" in err and "Config" in err, err
    assert not out.exists()
