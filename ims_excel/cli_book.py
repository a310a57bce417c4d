"""``ims-excel`` commands that work on client workbooks (new, process, roll, batch, import, export, upgrade).

:func:`register` adds them to the main parser in :mod:`ims_excel.cli`.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the workbook commands to ``sub`` (the main parser's subcommands)."""
