"""The template's data tables as specs (columns, computed formula columns): what the builder lays
out and what the workbook doors (:mod:`ims_excel.book`, :mod:`ims_excel.xl.macros`) append to."""

from __future__ import annotations

from ims_excel.records import INWARD_COLUMNS, OUTWARD_COLUMNS
from ims_excel.template import inward, outward
from ims_excel.template.tables import TableSpec

INWARD = TableSpec("Inward", "Inward", INWARD_COLUMNS, inward.COMPUTED)
OUTWARD = TableSpec("Outward", "Outward", OUTWARD_COLUMNS, outward.COMPUTED)


def spec(direction: str) -> TableSpec:
    """The Inward or Outward table's spec."""
    return INWARD if direction == "inward" else OUTWARD
