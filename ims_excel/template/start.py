"""The Start sheet (what the workbook does, the monthly steps, buttons) and ``xlwings.conf``.

Buttons run the macros of ``vba_stub/IMSButtons.bas``; those call Python
through the embedded xlwings module (``RunPython``), so users need the
``ims-excel`` package and xlwings in their Python, but no add-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ims_excel.template.styles import Styles


@dataclass(frozen=True)
class Button:
    macro: str
    caption: str
    python: str  # what the macro runs, for the sheet's text (IMSButtons.bas is the truth)


BUTTONS: tuple[Button, ...] = (
    Button("IMS_ImportData", "Import IMS data", "ims_excel.xl.macros.import_data()"),
    Button("IMS_Validate", "Validate", "ims_excel.xl.macros.validate()"),
    Button("IMS_Compute", "Compute", "ims_excel.xl.macros.compute()"),
    Button("IMS_BuildLiability", "Build liability sheet", "ims_excel.xl.macros.build_liability()"),
    Button("IMS_ExportJSON", "Export upload JSON", "ims_excel.xl.macros.export_upload_json()"),
    Button("IMS_Reconcile", "Reconcile with purchase register", "ims_excel.xl.macros.reconcile()"),
)
"""Start-sheet buttons in workflow order; each ``macro`` is a Sub of IMSButtons.bas."""

STEPS = (
    ("1. Settings", "Fill the Config sheet: your GSTIN (the check next to it must say TRUE), "
                    "return period (YYYY-MM), filing frequency, as-of date."),
    ("2. Import", "Import IMS data: reads the IMS/GSTR-2B download (JSON or Excel) and your "
                  "purchase register into the Inward sheet."),
    ("3. Decide", "In the Inward sheet choose an Action for each record (Accept / Reject / "
                  "Pending / No Action). Red rows are errors the portal would refuse, amber rows "
                  "need a second look."),
    ("4. Validate", "Validate: checks every action against the IMS rules of the period and fills "
                    "Status and Message."),
    ("5. Compute", "Compute: fills Summary (IMS dashboard), GSTR-2B and GSTR-3B Table 4."),
    ("6. Suppliers", "Build liability sheet: for your own outward documents (Outward sheet), the "
                     "liability added back when recipients reject."),
    ("7. Upload", "Export upload JSON: writes the IMS action file to upload on the GST portal."),
)

XLWINGS_CONF = (
    ("Interpreter_Win", "python"),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("UDF Modules", "ims_excel.xl.udfs"),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
)
"""Rows of the ``xlwings.conf`` sheet (keys in A from A1, values in B), as xlwings' standalone
quickstart writes them; the embedded xlwings module reads them before any config file."""


def write_start(ws: Any, styles: Styles, *, rules_version: str, package_version: str) -> dict[str, str]:
    """Lay out the Start sheet; returns ``{defined name: absolute cell}`` for the builder to define.

    Names: ``RulesVersion``, ``PackageVersion``, ``LastStamp`` (written by the
    ``StampVersion`` macro).
    """
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 80, styles.wrap())
    ws.set_column(3, 3, 3)
    ws.set_column(4, 4, 26)
    ws.write(0, 1, "IMS Workbook - GST Invoice Management System", styles.title())
    ws.write(2, 1, "What it does", styles.subtitle())
    ws.write(3, 2, "Takes the IMS records of a return period (the invoices, notes and bills of entry "
                   "your suppliers reported), lets you Accept / Reject / keep Pending each one, checks "
                   "every action against the IMS rules in force for that period, and shows the effect "
                   "on GSTR-2B and GSTR-3B Table 4 before you act on the portal. For your own sales it "
                   "shows the liability added back when a recipient rejects.", styles.wrap())
    ws.set_row(3, 75)
    ws.write(5, 1, "Every month", styles.subtitle())
    ws.write(5, 4, "Buttons", styles.subtitle())
    for i, (step, text) in enumerate(STEPS):
        row = 6 + i
        ws.write_string(row, 1, step, styles.get(bold=True, valign="top"))
        ws.write_string(row, 2, text, styles.wrap())
        ws.set_row(row, 34)
    for i, b in enumerate(BUTTONS):
        row = 7 + i + (1 if i >= 1 else 0)  # line up with steps 2, 4, 5, 6, 7
        ws.insert_button(row, 4, {"macro": b.macro, "caption": b.caption, "width": 180, "height": 30,
                                  "x_offset": 2, "y_offset": 2})
    row = 6 + len(STEPS) + 1
    ws.write(row, 1, "Good to know", styles.subtitle())
    notes = (
        "Sheets are protected without a password so that formulas are not overwritten by accident: "
        "Review > Unprotect Sheet to change them. White cells are input, grey cells are formulas.",
        "The buttons need Python with the ims-excel package (pip install ims-excel); xlwings is "
        "embedded in this workbook, no add-in is needed. Settings for it are on the xlwings.conf sheet.",
        "Rules and messages come from the Rules sheet; the version below names the rule set this "
        "workbook was built with.",
    )
    for i, text in enumerate(notes):
        ws.write_string(row + 1 + i, 2, text, styles.wrap())
        ws.set_row(row + 1 + i, 32)
    row += len(notes) + 2
    ws.write_string(row, 1, "Rules version", styles.label())
    ws.write_string(row, 2, rules_version)
    ws.write_string(row + 1, 1, "Package version", styles.label())
    ws.write_string(row + 1, 2, package_version)
    ws.write_string(row + 2, 1, "Last stamped", styles.label())
    ws.write_blank(row + 2, 2, None, styles.get(locked=False))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    return {"RulesVersion": f"$C${row + 1}", "PackageVersion": f"$C${row + 2}", "LastStamp": f"$C${row + 3}"}


def write_xlwings_conf(ws: Any, styles: Styles) -> None:
    """The ``xlwings.conf`` sheet (the name without underscore is the active one)."""
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 28)
    ws.set_column(3, 3, 90, styles.note())
    for i, (key, value) in enumerate(XLWINGS_CONF):
        ws.write_string(i, 0, key)
        if isinstance(value, bool):
            ws.write_boolean(i, 1, value)
        elif value:
            ws.write_string(i, 1, value)
    for i, text in enumerate((
            "Settings of the embedded xlwings module: keys from A1 down (no gaps), values in B.",
            "Interpreter_Win / Interpreter_Mac: full path of the Python that has ims-excel installed "
            "if 'python' is not the right one (e.g. C:\\Users\\me\\venv\\Scripts\\python.exe).",
            "UDF Modules: the Python module whose functions Import Functions turns into worksheet "
            "functions.",
            "Delete a row to fall back to the user's xlwings.conf file.")):
        ws.write_string(i, 3, text, styles.note())
