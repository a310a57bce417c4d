"""Build typed records from plain dicts (tests, doctests, the demo)."""

from __future__ import annotations

import pandas as pd

from ims_excel.normalise import normalise
from ims_excel.records import column_names


def frame(rows: list[dict], direction: str = "inward", file: str = "<rows>") -> pd.DataFrame:
    """Typed canonical frame from dicts keyed by canonical header (values as a user would type them)."""
    raw = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(columns=column_names(direction))
    return normalise(raw, file=file, direction=direction)
