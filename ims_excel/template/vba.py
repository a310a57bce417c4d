"""The VBA project: modules from ``vba_stub/``, built into ``vbaProject.bin`` with pyOpenVBA.

``vba_stub/`` holds every module as text: ours (``IMSButtons.bas``) and the
standalone xlwings module and Dictionary class, which :func:`sync_xlwings`
copies byte for byte from the installed xlwings package at build time (the
xlwings module names the DLL of its exact version, hence the pin).

:func:`build_project` makes the project as Excel would for a first macro
(pyOpenVBA ``add_vba_project`` on a skeleton with the same sheets and code
names, so every sheet has its document module), adds the modules, puts the
project in MS-OVBA's on-write form (:func:`on_write_form`: no performance
caches, version 0xFFFF) and returns the ``vbaProject.bin`` bytes for
XlsxWriter's ``add_vba_project``. The result depends only on the code names
and sources: it is deterministic. Every other command copies this part byte
for byte from a book built here (``upgrade`` and ``roll`` build afresh, so an
old book's project is replaced).
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
from pyopenvba.cfb import CFB
from pyopenvba.vba import VBAModuleKind, compress, parse_vba_project, serialize_dir_stream, split_attribute_header

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
    """``vbaProject.bin`` with ThisWorkbook, one document module per (sheet, code name), and ``modules``,
    in MS-OVBA's on-write form (:func:`on_write_form`)."""
    return on_write_form(pyopenvba_project(code_names, modules))


def pyopenvba_project(code_names: tuple[tuple[str, str], ...], modules: tuple[Module, ...]) -> bytes:
    """The project as pyOpenVBA makes it (its skeleton's ``_VBA_PROJECT`` cache and ThisWorkbook p-code
    kept): what books before the on-write form carried, which ``upgrade`` must replace."""
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


VBA_PROJECT_ON_WRITE = b"\xcc\x61\xff\xff\x00\x00\x00"
"""The ``VBA/_VBA_PROJECT`` stream as MS-OVBA §2.3.4.1 says to write it: Reserved1 0x61CC, Version
0xFFFF ("MUST be 0xFFFF on write"), Reserved2 0x00, Reserved3 0x0000, and no PerformanceCache ("MUST NOT
be present on write"). §1.6: only with version 0xFFFF does every Office build ignore the caches and
compile the source. EPPlus writes these 7 bytes."""
COOKIE_ON_WRITE = 0xFFFF
"""PROJECTCOOKIE (§2.3.4.2.3.1) and MODULECOOKIE (§2.3.4.2.3.2.7): "MUST be 0xFFFF on write"."""


def on_write_form(project_bin: bytes) -> bytes:
    """``vbaProject.bin`` rewritten in MS-OVBA's on-write form, the source untouched.

    - ``VBA/_VBA_PROJECT`` becomes :data:`VBA_PROJECT_ON_WRITE` (§2.3.4.1).
    - Each module stream keeps only its compressed source: the bytes before
      MODULEOFFSET are the module's PerformanceCache (§2.3.4.3; §1.6 names it
      among the caches an interoperable writer leaves to be ignored), so the
      stream becomes ``stream[MODULEOFFSET:]`` (the CompressedSourceCode
      container, carried as it is) and MODULEOFFSET 0 (§2.3.4.2.3.2.5), as
      EPPlus writes every module.
    - The ``dir`` stream (§2.3.4.2) is written again with those offsets and
      the cookies 0xFFFF, then compressed (§2.4.1); its PROJECTINFORMATION
      and PROJECTREFERENCES records are kept byte for byte (pyOpenVBA's
      :func:`serialize_dir_stream` splices them).
    - SRP streams (``__SRP_*``, §2.2.6, caches too) are dropped.

    The compound file is written again by pyOpenVBA's CFB writer (MS-CFB
    version 3: 512-byte sectors, 64-byte mini sectors, 4,096-byte cutoff),
    which keeps every directory entry, its CLSID and timestamps.
    """
    cfb = CFB.from_bytes(project_bin)
    project = parse_vba_project(cfb)
    for m in project.modules:
        if m.text_offset:
            stream = cfb.get_stream_in_storage("VBA", m.stream_name)
            cfb.write_stream_in_storage("VBA", m.stream_name, stream[m.text_offset:])
            m.text_offset = 0
            m.prefix_bytes = b""
        m.cookie = COOKIE_ON_WRITE
    project.project_cookie = COOKIE_ON_WRITE
    cfb.write_stream_in_storage("VBA", "dir", compress(serialize_dir_stream(project)))
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_ON_WRITE)
    for name in cfb.list_streams_in_storage("VBA"):
        if name.upper().startswith("__SRP_"):
            cfb.remove_stream_in_storage("VBA", name)
    return cfb.to_bytes()


def file_modules(xlsm: str | Path) -> dict[str, str]:
    """``{module name: source}`` of a built workbook (pyOpenVBA), line ends as stored."""

    with ExcelFile(Path(xlsm)) as book:
        return {m.name: m.source for m in book.vba_project().modules}


def body(source: str) -> str:
    """A module's code without its attribute header or class preamble, LF line ends."""

    text = source.replace("\r\n", "\n")
    text = re.sub(r"\AVERSION 1\.0 CLASS\nBEGIN\n(?:.*\n)*?END\n", "", text)
    return split_attribute_header(text)[1]
