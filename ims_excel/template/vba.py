"""The VBA project: modules from ``vba_stub/``, built into ``vbaProject.bin`` with pyOpenVBA.

``vba_stub/`` holds every module as text: ours (``IMSButtons.bas``) and the
standalone xlwings module and Dictionary class, which :func:`sync_xlwings`
copies byte for byte from the installed xlwings package at build time (the
xlwings module names the DLL of its exact version, hence the pin).

:func:`build_project` makes the project as Excel would for a first macro
(pyOpenVBA ``add_vba_project`` on a skeleton with the same sheets and code
names, so every sheet has its document module), adds the modules and returns
the ``vbaProject.bin`` bytes for XlsxWriter's ``add_vba_project``. The result
depends only on the code names and sources: it is deterministic.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from pyopenvba import ExcelFile
from pyopenvba.vba import VBAModuleKind, split_attribute_header

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = next((d for d in (REPO / "vba_stub", Path(__file__).resolve().parents[1] / "vba_stub") if d.is_dir()),
                REPO / "vba_stub")
"""The VBA sources: the top-level ``vba_stub/`` of a checkout, or ``ims_excel/vba_stub/`` of an installed
wheel (where pyproject.toml maps the folder), so ``new`` works from either."""
XLWINGS_FILES = {"xlwings.bas": "xlwings.bas", "Dictionary.cls": "addin/Dictionary.cls"}
"""vba_stub file -> path inside the installed xlwings package."""


@dataclass(frozen=True)
class Module:
    name: str
    source: str  # CRLF line ends, as VBA stores them
    kind: str    # "standard" or "class"


def xlwings_dir() -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("xlwings is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def sync_xlwings(stub_dir: Path = STUB_DIR) -> list[Path]:
    """Copy the standalone xlwings module and Dictionary class into ``stub_dir``; returns files changed."""
    changed = []
    src_dir = xlwings_dir()
    for name, rel in XLWINGS_FILES.items():
        data = (src_dir / rel).read_bytes()
        dest = stub_dir / name
        if not dest.is_file() or dest.read_bytes() != data:
            dest.write_bytes(data)
            changed.append(dest)
    return changed


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def module_name(source: str, fallback: str) -> str:
    m = re.search(r'^Attribute VB_Name = "([^"]+)"', source, re.MULTILINE)
    return m.group(1) if m else fallback


def read_stub(stub_dir: Path = STUB_DIR) -> list[Module]:
    """The modules of ``stub_dir``: .bas (standard) then .cls (class), each sorted by file name."""
    if not stub_dir.is_dir():
        raise FileNotFoundError(f"{stub_dir} not found: the workbook is built from a source checkout")
    out = []
    for suffix, kind in ((".bas", "standard"), (".cls", "class")):
        for path in sorted(stub_dir.glob(f"*{suffix}")):
            text = path.read_bytes().decode("cp1252")
            out.append(Module(module_name(text, path.stem), crlf(text), kind))
    return out


def _skeleton(path: Path, code_names: tuple[tuple[str, str], ...]) -> None:
    wb = xlsxwriter.Workbook(str(path))
    wb.set_vba_name("ThisWorkbook")
    for sheet, code in code_names:
        wb.add_worksheet(sheet).set_vba_name(code)
    wb.close()


@functools.lru_cache(maxsize=8)
def build_project(code_names: tuple[tuple[str, str], ...], modules: tuple[Module, ...]) -> bytes:
    """``vbaProject.bin`` with ThisWorkbook, one document module per (sheet, code name), and ``modules``."""

    with tempfile.TemporaryDirectory(prefix="ims-vba-") as tmp:
        skeleton = Path(tmp) / "skeleton.xlsm"
        _skeleton(skeleton, code_names)
        out = Path(tmp) / "with_vba.xlsm"
        with ExcelFile(skeleton) as book:
            project = book.add_vba_project()
            for m in modules:
                kind = VBAModuleKind.other if m.kind == "class" else VBAModuleKind.standard
                project.add_module(m.name, m.source, kind=kind)
            book.save(out)
        with ExcelFile(out) as book:
            problems = book.validate()
            if problems:
                raise RuntimeError(f"pyOpenVBA integrity check: {problems}")
        with zipfile.ZipFile(out) as z:
            return z.read("xl/vbaProject.bin")


def file_modules(xlsm: str | Path) -> dict[str, str]:
    """``{module name: source}`` of a built workbook (pyOpenVBA), line ends as stored."""

    with ExcelFile(Path(xlsm)) as book:
        return {m.name: m.source for m in book.vba_project().modules}


def body(source: str) -> str:
    """A module's code without its attribute header or class preamble, LF line ends."""

    text = source.replace("\r\n", "\n")
    text = re.sub(r"\AVERSION 1\.0 CLASS\nBEGIN\n(?:.*\n)*?END\n", "", text)
    return split_attribute_header(text)[1]
