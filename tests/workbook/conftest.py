"""Fixtures for the workbook tests: one LibreOffice per session, built books in temp dirs."""

from __future__ import annotations

import pytest

from tests.support import recalc
from ims_excel.template.build import build_workbook
from tests.support.sample import sample_inward, sample_outward
from wbtools import SAMPLE_CONFIG


@pytest.fixture(scope="session")
def lo():
    """One soffice driven over UNO for the whole session."""
    with recalc.Session() as session:
        yield session


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The template, freshly built into a temp dir."""
    return build_workbook(tmp_path_factory.mktemp("build") / "IMS_Workbook.xlsm")


@pytest.fixture(scope="session")
def sample_frames():
    return sample_inward(20, seed=7), sample_outward(12, seed=7)


@pytest.fixture(scope="session")
def sample_book(tmp_path_factory, sample_frames):
    inward, outward = sample_frames
    return build_workbook(tmp_path_factory.mktemp("sample") / "IMS_Sample.xlsm", inward, outward,
                          SAMPLE_CONFIG)


@pytest.fixture(scope="session")
def sample_values(lo, sample_book):
    """Every sheet of the sample book after a full LibreOffice recalculation."""
    return lo.values(sample_book)

