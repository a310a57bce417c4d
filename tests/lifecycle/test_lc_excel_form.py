"""Every kind of book we write is in the form Excel writes (issue 9): the VBA project in MS-OVBA's
on-write form, and 0 schema errors from openxml-audit as Office 2016 and as Microsoft 365.

Books: the committed template, a fresh build, ``new``, ``import`` (per-cell and shared formulas),
``process``, ``roll``, ``upgrade`` (of a book carrying the old pyOpenVBA project) and ``demo``.
"""

from __future__ import annotations

import shutil

import pytest

from excelform import VBA_PROJECT_ON_WRITE, audit_errors, ovba_problems, project_bin
from ims_excel.book.edit import Edit
from ims_excel.book.new import new_workbook
from ims_excel.book.process import process
from ims_excel.book.roll import roll
from ims_excel.book.upgrade import upgrade
from ims_excel.cli.demo import DEMO_CONTEXT, demo, sample_path
from ims_excel.template import vba
from ims_excel.template.build import DEFAULT_OUT as COMMITTED
from ims_excel.template.build import SHEETS, build_workbook
from ims_excel.xlsx.package import Package

KINDS = ("template", "built", "new", "import", "import-shared", "process", "roll", "upgrade", "demo")


def _stale_project(book):
    """Give ``book`` the project books carried before the on-write form (pyOpenVBA's skeleton cache)."""
    with Package(book) as pkg:
        edit = Edit(pkg)
        edit.replace["xl/vbaProject.bin"] = vba.pyopenvba_project(SHEETS, tuple(vba.read_stub()))
        edit.save(book, backup=False)


@pytest.fixture(scope="session")
def books(tmp_path_factory, sample_master, synth_master):
    d = tmp_path_factory.mktemp("every-kind")
    out = {"template": COMMITTED, "built": build_workbook(d / "built.xlsm"),
           "import": sample_master, "import-shared": synth_master}
    out["new"] = new_workbook(d / "new.xlsm", gstin=DEMO_CONTEXT["gstin"], period="2026-10")
    out["process"] = shutil.copy(sample_master, d / "processed.xlsm")
    process(out["process"], backup=False)
    out["roll"] = roll(shutil.copy(out["process"], d / "rolled_2026-10.xlsm"), "2026-11", filed=True).out
    old = shutil.copy(sample_master, d / "old.xlsm")
    _stale_project(old)
    assert ovba_problems(project_bin(old))  # the old book really carries the stale project
    upgrade(old)
    out["upgrade"] = old
    out["demo"] = demo(d / "demo", DEMO_CONTEXT, sample_path("sample_inward.csv"),
                               sample_path("sample_outward.csv")).workbook
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_vba_project_is_in_ms_ovba_on_write_form(books, kind):
    """MS-OVBA §2.3.4.1: _VBA_PROJECT version 0xFFFF and no PerformanceCache on write; §2.3.4.2.3.2.5/
    §2.3.4.3: every module stream is its compressed source alone (MODULEOFFSET 0); cookies 0xFFFF;
    the dir and PROJECT streams name the same modules; olevba decodes each one."""
    data = project_bin(books[kind])
    assert ovba_problems(data) == []
    assert data == project_bin(COMMITTED)  # every book carries the template's project byte for byte


def test_the_checker_sees_the_old_form():
    problems = ovba_problems(vba.pyopenvba_project(SHEETS, tuple(vba.read_stub())))
    assert any("_VBA_PROJECT is 2544 bytes" in p for p in problems)
    assert any(p.startswith("ThisWorkbook: MODULEOFFSET 1008") for p in problems)


def test_on_write_form_keeps_every_module_source():
    old = vba.pyopenvba_project(SHEETS, tuple(vba.read_stub()))
    new = vba.on_write_form(old)
    from oletools.olevba import VBA_Parser

    def sources(data):
        return {n: c for _, _, n, c in VBA_Parser("vbaProject.bin", data=data).extract_macros()}

    assert sources(new) == sources(old) and len(sources(new)) == 1 + len(SHEETS) + 3  # ThisWorkbook, sheets, ours
    assert vba.on_write_form(new) == new  # already in the form: unchanged
    assert VBA_PROJECT_ON_WRITE == vba.VBA_PROJECT_ON_WRITE


@pytest.mark.parametrize("kind", KINDS)
def test_openxml_audit_finds_no_error(books, kind):
    assert audit_errors(books[kind]) == {"office2016": [], "microsoft365": []}
