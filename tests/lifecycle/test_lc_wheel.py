"""The package works from a plain wheel install, not only from the source checkout (``new`` needs the
VBA sources and the rules, which ship as package data)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _clean_source(tmp_path: Path) -> Path:
    """The files a wheel is built from, copied without a build/ folder (a stale one would leak files
    of an older layout into the wheel)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("ims_excel", "vba_stub"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_a_wheel_carries_the_vba_sources_and_new_works_from_it(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(_clean_source(tmp_path)), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(wheels)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("ims_excel-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("ims_excel/vba_stub/IMSButtons.bas", "ims_excel/vba_stub/xlwings.bas",
                   "ims_excel/vba_stub/Dictionary.cls", "ims_excel/rules/decision_table.yaml"):
        assert needed in names, needed
    # the runtime only: no test-only code, every subpackage
    assert not [n for n in names if n.startswith(("tests/", "ims_excel/recalc", "ims_excel/synthetic"))]
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "ims_excel").rglob("__init__.py")}
    assert {p for p in packages if f"{p}/__init__.py" not in names} == set()
    # a venv that sees the installed dependencies, with this wheel installed into it (not the checkout)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)]
                   if _pip_has_python_option() else
                   [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(_site(py)), str(wheel)], check=True, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import ims_excel, sys; from ims_excel.cli import main; print(ims_excel.__file__, file=sys.stderr); "
            "sys.exit(main(['new', 'client.xlsm', '--gstin', '27AAACR5055K1Z7', '--period', '2026-10']))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    got = subprocess.run([str(py), "-c", code], cwd=work, capture_output=True, text=True, env=env)
    assert got.returncode == 0, got.stdout + got.stderr
    assert str(ROOT) not in got.stderr.splitlines()[0]  # the installed copy ran, not the checkout
    assert zipfile.ZipFile(work / "client.xlsm").read("xl/vbaProject.bin")


def _pip_has_python_option() -> bool:
    out = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True).stdout
    major, minor = (int(x) for x in out.split()[1].split(".")[:2])
    return (major, minor) >= (22, 3)


def _site(py: Path) -> Path:
    out = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return Path(out)
