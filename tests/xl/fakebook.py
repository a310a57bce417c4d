"""An in-memory stand-in for an open xlwings Book, so the button code runs on Linux.

Only what :mod:`ims_excel.xl.macros` uses, with Excel's behaviour where it
matters to the tests:

* a string written to a General cell that starts with ``=`` ``+`` ``@`` (or
  ``-`` and is not a number) becomes a **formula**, as Excel does; a leading
  apostrophe makes it text (the prefix is not part of the value); a number-like
  string in a General cell becomes a number; a Text (``@``) cell keeps text;
* writing to a protected sheet raises, as Excel does;
* a 2-D list written to one cell fills the block from there;
* ``used_range`` spans the used cells; tables resize.

:meth:`FakeBook.from_file` loads a real workbook (values as last computed,
formulas, names, tables, number formats, protection) with openpyxl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ims_excel.xlsx.package import col_index, col_letters


def parse_a1(a1: str) -> tuple[int, int, int, int]:
    a1 = a1.replace("$", "")
    m = re.fullmatch(r"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?", a1)
    r1, c1 = int(m.group(2)), col_index(m.group(1))
    r2, c2 = (int(m.group(4)), col_index(m.group(3))) if m.group(3) else (r1, c1)
    return r1, c1, r2, c2


class ExcelError(Exception):
    """What Excel would refuse (COM raises)."""


@dataclass
class Cell:
    value: Any = None
    formula: str | None = None
    quote_prefix: bool = False


class FakeApi:
    def __init__(self, sheet: "FakeSheet"):
        self.sheet = sheet
        self.calls: list[tuple[str, dict]] = []

    def Unprotect(self, password: str = "") -> None:  # noqa: N802 - COM names
        self.calls.append(("Unprotect", {"password": password}))
        self.sheet.protected = False

    def Protect(self, **options: Any) -> None:  # noqa: N802
        self.calls.append(("Protect", options))
        self.sheet.protected = True

    @property
    def ProtectContents(self) -> bool:  # noqa: N802
        return self.sheet.protected


class FakeRange:
    def __init__(self, sheet: "FakeSheet", r1: int, c1: int, r2: int, c2: int, ndim: int | None = None):
        self.sheet, self.r1, self.c1, self.r2, self.c2, self.ndim = sheet, r1, c1, r2, c2, ndim

    @property
    def row(self) -> int:
        return self.r1

    @property
    def column(self) -> int:
        return self.c1

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    @property
    def address(self) -> str:
        a = f"${col_letters(self.c1)}${self.r1}"
        return a if (self.r1, self.c1) == (self.r2, self.c2) else f"{a}:${col_letters(self.c2)}${self.r2}"

    @property
    def last_cell(self) -> "FakeRange":
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2)

    def options(self, ndim: int | None = None, **_: Any) -> "FakeRange":
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim)

    def resize(self, row_size: int | None = None, column_size: int | None = None) -> "FakeRange":
        rows, cols = self.shape
        return FakeRange(self.sheet, self.r1, self.c1, self.r1 + (row_size or rows) - 1,
                         self.c1 + (column_size or cols) - 1)

    @property
    def value(self) -> Any:
        grid = [[self.sheet.get(r, c) for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        if self.ndim == 2:
            return grid
        rows, cols = self.shape
        if rows == 1 and cols == 1:
            return grid[0][0]
        if rows == 1:
            return grid[0]
        if cols == 1:
            return [r[0] for r in grid]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        if isinstance(data, (list, tuple)):
            rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in data] if data and isinstance(
                data[0], (list, tuple)) else [list(data)]
        else:
            rows = [[data]]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.sheet.put(self.r1 + i, self.c1 + j, v)

    def clear_contents(self) -> None:
        self.sheet.check_writable()
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                self.sheet.cells.pop((r, c), None)


class FakeTable:
    def __init__(self, sheet: "FakeSheet", name: str, r1: int, c1: int, r2: int, c2: int):
        self.sheet, self.name, self.r1, self.c1, self.r2, self.c2 = sheet, name, r1, c1, r2, c2

    @property
    def range(self) -> FakeRange:
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2)

    @property
    def header_row_range(self) -> FakeRange:
        return FakeRange(self.sheet, self.r1, self.c1, self.r1, self.c2)

    @property
    def data_body_range(self) -> FakeRange:
        return FakeRange(self.sheet, self.r1 + 1, self.c1, self.r2, self.c2)

    def resize(self, rng: FakeRange) -> None:
        if (rng.r1, rng.c1) != (self.r1, self.c1):
            raise ExcelError("a table keeps its top-left cell when resized")
        self.r2, self.c2 = rng.r2, rng.c2
        for r in range(self.r1 + 1, self.r2 + 1):  # Excel fills the calculated columns of new rows
            for c, formula in self.sheet.column_formulas.get(self.name, {}).items():
                cell = self.sheet.cells.get((r, c))
                if cell is None or (cell.formula is None and cell.value is None):
                    self.sheet.cells[(r, c)] = Cell(None, formula)


class FakeSheet:
    def __init__(self, book: "FakeBook", name: str):
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.tables: dict[str, FakeTable] = {}
        self.text_columns: set[int] = set()  # columns formatted as Text (@)
        self.column_formulas: dict[str, dict[int, str]] = {}
        self.protected = False
        self.api = FakeApi(self)

    def check_writable(self) -> None:
        if self.protected:
            raise ExcelError(f"The cell or chart you're trying to change is on a protected sheet ({self.name}).")

    def get(self, r: int, c: int) -> Any:
        cell = self.cells.get((r, c))
        return None if cell is None else cell.value

    def cell(self, r: int, c: int) -> Cell | None:
        return self.cells.get((r, c))

    def put(self, r: int, c: int, v: Any) -> None:
        self.check_writable()
        if v is None or v == "":
            self.cells.pop((r, c), None)
            return
        if isinstance(v, str):
            if v.startswith("'"):
                self.cells[(r, c)] = Cell(v[1:], None, True)
                return
            if c not in self.text_columns:
                if v.startswith(("=", "+", "@")) or (v.startswith("-") and not _number(v)):
                    self.cells[(r, c)] = Cell(None, v)  # Excel parses it as a formula
                    return
                if _number(v):
                    self.cells[(r, c)] = Cell(float(v.replace(",", "")))
                    return
        self.cells[(r, c)] = Cell(v)

    def range(self, a: Any, b: Any = None) -> FakeRange:
        if isinstance(a, str):
            r1, c1, r2, c2 = parse_a1(a)
        else:
            r1, c1 = a
            r2, c2 = b if b is not None else a
        if isinstance(b, FakeRange):
            r2, c2 = b.r2, b.c2
        return FakeRange(self, r1, c1, r2, c2)

    @property
    def used_range(self) -> FakeRange:
        if not self.cells:
            return FakeRange(self, 1, 1, 1, 1)
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    def clear_contents(self) -> None:
        self.check_writable()
        self.cells.clear()


def _number(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+(\.\d+)?", text.strip()))


class FakeSheets:
    def __init__(self, book: "FakeBook"):
        self.book = book
        self._order: list[FakeSheet] = []

    def __iter__(self):
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, key: str | int) -> FakeSheet:
        if isinstance(key, int):
            return self._order[key]
        for s in self._order:
            if s.name.casefold() == key.casefold():
                return s
        raise KeyError(key)

    def add(self, name: str | None = None, before: FakeSheet | None = None, after: FakeSheet | None = None
            ) -> FakeSheet:
        sheet = FakeSheet(self.book, name or f"Sheet{len(self._order) + 1}")
        pos = self._order.index(after) + 1 if after is not None else (
            self._order.index(before) if before is not None else len(self._order))
        self._order.insert(pos, sheet)
        return sheet


@dataclass
class FakeName:
    book: "FakeBook"
    sheet: str
    a1: str

    @property
    def refers_to_range(self) -> FakeRange:
        return self.book.sheets[self.sheet].range(self.a1)


class FakeNames(dict):
    pass


@dataclass
class FakeApp:
    answers: list[str] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)
    calculations: int = 0

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None,
              callback: str | None = None) -> str | None:
        self.alerts.append((prompt, buttons))
        if buttons == "ok":
            return "ok"
        return self.answers.pop(0) if self.answers else "no"

    def calculate(self) -> None:
        self.calculations += 1


class FakeBook:
    def __init__(self, fullname: str | Path):
        self.fullname = str(fullname)
        self.sheets = FakeSheets(self)
        self.names = FakeNames()
        self.app = FakeApp()

    @property
    def name(self) -> str:
        return Path(self.fullname).name

    @classmethod
    def from_file(cls, path: str | Path) -> "FakeBook":
        import openpyxl

        path = Path(path)
        values = openpyxl.load_workbook(path, data_only=True, keep_vba=True)
        formulas = openpyxl.load_workbook(path, data_only=False, keep_vba=True)
        book = cls(path.resolve())
        for ws in formulas.worksheets:
            sheet = book.sheets.add(ws.title)
            vs = values[ws.title]
            for row in ws.iter_rows():
                for c in row:
                    if c.value is None:
                        continue
                    f = c.value if isinstance(c.value, str) and c.data_type == "f" else None
                    if f is None and not isinstance(c.value, str) and hasattr(c.value, "text"):
                        f = "=" + str(c.value.text)  # ArrayFormula
                    v = vs.cell(c.row, c.column).value
                    sheet.cells[(c.row, c.column)] = Cell(None if f and v is None else (v if f else c.value), f)
            for t in ws.tables.values():
                r1, c1, r2, c2 = parse_a1(t.ref)
                sheet.tables[t.name] = FakeTable(sheet, t.name, r1, c1, r2, c2)
                sheet.column_formulas[t.name] = {
                    c1 + k: "=" + col.calculatedColumnFormula.attr_text
                    for k, col in enumerate(t.tableColumns) if col.calculatedColumnFormula is not None}
                for k in range(c2 - c1 + 1):
                    if ws.cell(min(r1 + 1, r2), c1 + k).number_format == "@":
                        sheet.text_columns.add(c1 + k)
            sheet.protected = bool(ws.protection.sheet)
        for name, dn in formulas.defined_names.items():
            m = re.fullmatch(r"'?([^'!]+)'?!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", dn.attr_text)
            if m:
                book.names[name] = FakeName(book, m.group(1), m.group(2))
        return book
