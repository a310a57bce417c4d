"""Build ``IMS_Workbook.xlsm`` from code: ``python -m ims_excel.template.build [--out PATH]``.

:func:`build_workbook` writes the template, or a workbook pre-filled with
Inward/Outward rows and Config values (tests build 5,000+ row books this
way). The build is deterministic: fixed document dates, XlsxWriter's fixed
zip dates, the VBA project from :mod:`ims_excel.template.vba`; two builds of
the same sources are byte-identical.

Sheets, in order: Start, Config, Inward, Summary, GSTR-2B, GSTR-3B, Outward,
Liability, Rules, xlwings.conf.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

import ims_excel
from ims_excel.rules import rulebook
from ims_excel.template import config as config_sheet, shared, summaries, values, vba
from ims_excel.template.rules_sheet import write_rules
from ims_excel.template.specs import INWARD, OUTWARD
from ims_excel.template.start import write_start, write_xlwings_conf
from ims_excel.template.styles import NUM_FORMATS, Styles
from ims_excel.template.tables import write_table
from ims_excel.xlsx import limits

INPUT_FILL = "#FFF2CC"
"""Background of a summary cell the user fills (GSTR-3B 4(A)(2), 4(B)(1), 4(D)(1))."""

DEFAULT_OUT = vba.REPO / "workbook" / "IMS_Workbook.xlsm"
FIXED_DATE = dt.datetime(2024, 10, 1, 0, 0, 0)
"""Document created/modified date of every build (determinism)."""

SHEETS: tuple[tuple[str, str], ...] = (
    ("Start", "shStart"), ("Config", "shConfig"), ("Inward", "shInward"),
    ("Summary", "shSummary"), ("GSTR-2B", "shGSTR2B"), ("GSTR-3B", "shGSTR3B"),
    ("Outward", "shOutward"), ("Liability", "shLiability"), ("Rules", "shRules"),
    ("xlwings.conf", "shXlwingsConf"),
)
"""(sheet name, VBA code name) in workbook order."""

TAB_COLOURS = {"Config": "#70AD47", "Inward": "#70AD47", "Outward": "#70AD47",
               "Summary": "#4472C4", "GSTR-2B": "#4472C4", "GSTR-3B": "#4472C4",
               "Liability": "#4472C4", "Rules": "#A5A5A5", "xlwings.conf": "#A5A5A5"}


class _Worksheet(Worksheet):
    """XlsxWriter worksheet that prepares each distinct formula once.

    A table column formula is the same string on every row; XlsxWriter runs
    ~30 regular expressions over each (future-function prefixes), which was
    85% of the build time at 5,000 rows. Same output, byte for byte.
    """

    def _xml_formula_element(self, formula, result, attributes=[]):  # noqa: ANN001, B006
        """An empty text result as Excel writes it: ``t="str"`` and ``<v></v>`` (XlsxWriter leaves out the type)."""
        if result == "" and not any(k == "t" for k, _ in attributes):
            attributes = [*attributes, ("t", "str")]
        super()._xml_formula_element(formula, result, attributes)

    def _prepare_formula(self, formula, expand_future_functions=False):  # noqa: ANN001
        cache = self.__dict__.setdefault("_prepared", {})
        key = (formula, expand_future_functions)
        if key not in cache:
            limits.check_formula(formula, file="the workbook being built", sheet=self.name)
            cache[key] = super()._prepare_formula(formula, expand_future_functions)
        return cache[key]


def write_summary_sheet(ws: Any, styles: Styles, sheet: summaries.Sheet, cached: dict[str, Any] | None = None,
                        heading: dict[str, str] | None = None) -> None:
    """Heading, Config echo, then each block: title, column labels, row labels, formulas.

    ``cached``: ``{A1: value}`` of the block cells and ``heading``: ``{defined name: text}`` of the echo
    (:mod:`ims_excel.template.values`), stored as the formulas' cached values.
    """
    cached, heading = cached or {}, heading or {}
    ws.set_column(0, 0, sheet.margin)
    labels = [label for b in sheet.blocks for _, label in b.rows] + [b.title for b in sheet.blocks]
    ws.set_column(1, 1, min(max(50, max(len(x) for x in labels) + 2), 95))  # no label cut off
    ws.set_column(2, 8, 15)
    ws.write(0, 1, sheet.heading, styles.title())
    for i, (label, name) in enumerate(values.HEADINGS):
        ws.write_string(1 + i, 1, label, styles.label())
        ws.write_formula(1 + i, 2, f'={name}&""', None, heading.get(name, ""))
    if sheet.note:
        ws.write_string(4, 1, sheet.note, styles.get(italic=True, font_color="#595959"))
    cell_formulas = summaries.formulas_of(sheet)
    origins = summaries.block_origins(sheet)
    for b in sheet.blocks:
        top = origins[b.key]
        ws.write_string(top, 1, b.title, styles.subtitle())
        ws.write_string(top + 1, 1, "", styles.header())
        for j, (_, label) in enumerate(b.cols):
            ws.write_string(top + 1, 2 + j, label, styles.header())
        for i, (rk, label) in enumerate(b.rows):
            total = rk in ("Total", "4C")
            ws.write_string(top + 2 + i, 1, label, styles.get(bold=total, border=1))
            for ck, _ in b.cols:
                a1 = summaries.block_cell(sheet, b, rk, ck)
                kind = b.col_kinds.get(ck, b.kind)
                if rk in b.inputs:  # the user's own entry: a blank unlocked input cell
                    ws.write_blank(a1, None, styles.get(num_format=NUM_FORMATS[kind], locked=False, border=1,
                                                        bg_color=INPUT_FILL))
                    continue
                ws.write_formula(a1, cell_formulas[a1], styles.cell(kind, bold=total or ck == "Total"),
                                 cached.get(a1, 0))
        if b.note:  # in the gap row below the block
            ws.write_string(top + 2 + len(b.rows), 1, b.note, styles.get(italic=True, font_color="#595959"))
        amount_cols = [j for j, (ck, _) in enumerate(b.cols) if b.col_kinds.get(ck, b.kind) == "amount"]
        if amount_cols:
            styles.indian_grouping(ws, top + 2, 2 + amount_cols[0], top + 1 + len(b.rows), 2 + amount_cols[-1])
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})


SHARED_ROWS = 20_000
"""Above this many rows a table is written with shared formulas by ``roll`` and ``upgrade`` (a book
that had them keeps them at any size); written one formula per cell, such a sheet heads for ZIP64
(:func:`build_workbook` switches it on here) and LibreOffice loads it several times slower."""


def build_workbook(out_path: str | Path, inward: pd.DataFrame | None = None,
                   outward: pd.DataFrame | None = None, config: dict | None = None,
                   *, stub_dir: Path = vba.STUB_DIR, shared_formulas: bool = False,
                   today: dt.date | None = None) -> Path:
    """Write the workbook to ``out_path`` (.xlsm), pre-filled with rows and settings if given.

    ``inward``/``outward``: canonical headers (``records.INWARD_COLUMNS``) or
    the snake_case frame of ``normalise.normalise``. ``config``: keys or
    defined names of ``config.FIELDS`` (e.g. ``{"gstin": ..., "period": "2025-11"}``).
    ``shared_formulas``: store the table column formulas as shared formulas, which
    LibreOffice loads and calculates several times faster (see ``shared.py``;
    for test books, not yet tried in Excel).

    Every formula cell caches its value (:mod:`ims_excel.template.values`; ``today``
    is what ``TODAY()`` gives, default :data:`FIXED_DATE` for a deterministic
    template). A book without records has all its values right and does not ask
    Excel for a full calculation on load; one with records does (their row
    values are left to ``process``).
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    book = rulebook()
    modules = tuple(vba.read_stub(stub_dir))
    project = vba.build_project(SHEETS, modules)

    wb = xlsxwriter.Workbook(str(out), {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    wb.set_properties({"title": "IMS Workbook", "subject": "GST Invoice Management System",
                       "author": "ims_excel", "company": "", "created": FIXED_DATE,
                       "comments": f"Rules {book.version}; ims_excel {ims_excel.__version__}"})
    wb.set_custom_property("RulesVersion", book.version)
    if not shared_formulas and max(len(inward) if inward is not None else 0,
                                   len(outward) if outward is not None else 0) > SHARED_ROWS:
        wb.use_zip64()  # every formula written out in full: the sheet part passes 4 GB near 100,000 rows
    wb.add_vba_project(io.BytesIO(project), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    styles = Styles(wb)
    ws = {}
    for name, code in SHEETS:
        ws[name] = wb.add_worksheet(name, worksheet_class=_Worksheet)
        ws[name].set_vba_name(code)
        if name in TAB_COLOURS:
            ws[name].set_tab_color(TAB_COLOURS[name])

    names = write_start(ws["Start"], styles, rules_version=book.version,
                        package_version=ims_excel.__version__)
    for name, cell in names.items():
        wb.define_name(name, f"=Start!{cell}")
    inputs = values.inputs_of(config)
    config_sheet.write_config(wb, ws["Config"], styles, config,
                              values.config_values(config, today or FIXED_DATE.date()))
    remarks_max = int(book.param("remarks_max_length"))
    n = write_table(ws["Inward"], styles, INWARD, inward, remarks_max=remarks_max, shared=shared_formulas,
                    file=str(out))
    n += write_table(ws["Outward"], styles, OUTWARD, outward, remarks_max=remarks_max, shared=shared_formulas,
                     file=str(out))
    wb.calc_on_load = n > 0  # fullCalcOnLoad only where the cached values are not all right
    blocks = values.summary_values(None)  # no records yet: every block cell is 0
    for sheet in summaries.SHEETS:
        write_summary_sheet(ws[sheet.name], styles, sheet, blocks[sheet.name], values.heading_values(inputs))
    write_rules(wb, ws["Rules"], styles, book)
    write_xlwings_conf(ws["xlwings.conf"], styles)
    ws["Start"].activate()
    wb.close()
    if shared_formulas:
        names = [name for name, _ in SHEETS]
        shared.share_formulas(out, [f"xl/worksheets/sheet{names.index(t.sheet) + 1}.xml"
                                    for t in (INWARD, OUTWARD)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ims_excel.template.build", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--no-sync", action="store_true",
                        help="do not refresh vba_stub/ from the installed xlwings package")
    args = parser.parse_args(argv)
    if not args.no_sync:
        for path in vba.sync_xlwings():
            print(f"updated {path}", file=sys.stderr)
    print(build_workbook(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
