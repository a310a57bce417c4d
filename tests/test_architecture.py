"""The layers hold (issue 13): ``lint-imports`` checks the contracts in pyproject.toml
(``[tool.importlinter]``): doors over use cases over template/formats over the engine over the core,
the xlsx layer importing nothing of IMS, the engine importing no door, no import cycles, the Excel doors
reaching the workbook through the port's open-workbook adapter only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    lint = Path(sys.executable).with_name("lint-imports")
    cmd = [str(lint)] if lint.exists() else ["lint-imports"]
    return subprocess.run(cmd + ["--no-cache"], cwd=root, env=env, capture_output=True, text=True)


def test_the_import_contracts_are_kept():
    run = lint_imports(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout and "5 kept" in run.stdout


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "ims_excel", root / "ims_excel", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint_with_import(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess:
    """``lint_imports`` on a copy of the package where ``module`` (a path under ``ims_excel/``) gains ``line``."""
    root = _copy(tmp_path)
    path = root / "ims_excel" / module
    path.write_text(path.read_text() + f"\n{line}  # noqa: E402,F401\n")
    return lint_imports(root)


def test_an_upward_import_breaks_the_contracts(tmp_path):
    run = _lint_with_import(tmp_path, "xlsx/codec.py", "from ims_excel.book import read")
    assert run.returncode != 0
    out = run.stdout
    assert "The xlsx layer imports nothing of IMS BROKEN" in out
    assert "ims_excel.xlsx.codec -> ims_excel.book.read" in out


def test_a_cycle_between_siblings_breaks_the_contracts(tmp_path):
    run = _lint_with_import(tmp_path, "book/history.py", "from ims_excel.book import roll")
    assert run.returncode != 0
    assert "No import cycles between sibling modules or packages BROKEN" in run.stdout


def test_input_and_limit_problems_are_one_shape():
    """One "thing wrong, named by file, sheet, row, column" for readers and writers alike: the xlsx
    layer defines it (it imports nothing of IMS), normalise re-exports it; no second copy to drift."""
    from ims_excel.normalise import InputProblem
    from ims_excel.xlsx.limits import LimitProblem
    from ims_excel.xlsx.problems import Problem

    assert InputProblem is Problem and LimitProblem is Problem
    p = InputProblem("in.csv", 4, "IGST", "'x' is not an amount", "Inward")
    assert str(p) == "in.csv, sheet 'Inward', row 4, column 'IGST': 'x' is not an amount"


def test_a_button_reading_the_file_itself_breaks_the_contracts(tmp_path):
    """Issue 13: the buttons reach the open workbook through ``xl.openbook`` (the port), not the file's reader."""
    run = _lint_with_import(tmp_path, "xl/macros.py", "from ims_excel.book import read")
    assert run.returncode != 0
    assert "never the file's modules BROKEN" in run.stdout
