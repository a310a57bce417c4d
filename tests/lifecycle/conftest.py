"""Fixtures for the client-workbook lifecycle tests: small books built once per session, copied per test."""

from __future__ import annotations

import shutil

import pytest

from tests.support import synthetic
from ims_excel.cli.demo import DEMO_CONTEXT, sample_path
from ims_excel.book import imports as book_imports
from ims_excel.book import new as book_new


@pytest.fixture(scope="session")
def sample_master(tmp_path_factory):
    """The bundled sample as a client workbook (new + import), not yet processed; as of the demo date."""
    d = tmp_path_factory.mktemp("sample")
    book = d / "client.xlsm"
    book_new.new_workbook(book, gstin=DEMO_CONTEXT["gstin"], name="Sample Client", period=DEMO_CONTEXT["period"])
    book_new.set_config_as_of(book, DEMO_CONTEXT["as_of"])
    book_imports.import_sources(book, [sample_path("sample_inward.csv")], direction="inward", backup=False)
    book_imports.import_sources(book, [sample_path("sample_outward.csv")], direction="outward", backup=False)
    return book


@pytest.fixture
def sample_book(sample_master, tmp_path):
    target = tmp_path / "client.xlsm"
    shutil.copy(sample_master, target)
    return target


@pytest.fixture(scope="session")
def synth_master(tmp_path_factory):
    """2,000 synthetic records (every section, action and flag), shared formulas."""
    d = tmp_path_factory.mktemp("synth")
    return book_new.make_book(d / "synth.xlsm", synthetic.inward(2000, seed=3), None,
                             {"gstin": "27AAACR5055K1Z7", "period": "2026-10", "as_of": "2026-11-26"},
                             shared_formulas=True)


@pytest.fixture
def synth_book(synth_master, tmp_path):
    target = tmp_path / "synth.xlsm"
    shutil.copy(synth_master, target)
    return target


@pytest.fixture(params=["fork", "spawn"])
def start_method(request, monkeypatch) -> str:
    """Both ways worker processes start: forked (Linux, macOS) and spawned (Windows, where Excel users run
    ``process``; on Linux by ``IMS_EXCEL_NO_FORK=1``)."""
    monkeypatch.setenv("IMS_EXCEL_NO_FORK", "1" if request.param == "spawn" else "0")
    return request.param
