"""Helpers for the lifecycle tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import concurrent.futures as cf
import struct
import zipfile
from pathlib import Path

import python_calamine as pc


def raw_parts(path: Path) -> dict[str, bytes]:
    """Every part's compressed bytes as stored (a byte-for-byte copy keeps them identical)."""
    out = {}
    data = Path(path).read_bytes()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            n, m = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
            start = info.header_offset + 30 + n + m
            out[info.filename] = data[start:start + info.compress_size]
    return out


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sheet_part(path: Path, name: str) -> str:
    from ims_excel.xlsx.package import Package

    with Package(path) as pkg:
        return pkg.sheet(name).part


def sheet_names(path: Path) -> list[str]:
    return pc.CalamineWorkbook.from_path(str(path)).sheet_names


def grid(path: Path, sheet: str) -> list[list]:
    """A sheet's values from A1 as python-calamine reads them (cached values of formulas)."""
    return pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def table_rows(path: Path, sheet: str = "Inward") -> list[dict]:
    rows = grid(path, sheet)
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if any(v not in ("", None) for v in r)]


def spy_pools(monkeypatch) -> list[str]:
    """The start method of every worker pool ``fan_out`` makes ("fork", or "spawn" without fork)."""
    methods: list[str] = []
    real = cf.ProcessPoolExecutor

    def pool(*args, **kw):
        methods.append(kw["mp_context"].get_start_method())
        return real(*args, **kw)
    monkeypatch.setattr(cf, "ProcessPoolExecutor", pool)
    return methods


def type_cells(book: Path, doc: str, **cells) -> None:
    """What a person types in Excel on the Inward row of document ``doc`` (openpyxl keeps the macros);
    columns found by their headers."""
    import openpyxl

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["Inward"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("Document Number")].value == doc:
            for k, v in cells.items():
                row[header.index(k)].value = v
    wb.save(book)
