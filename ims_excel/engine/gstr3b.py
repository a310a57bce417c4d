"""GSTR-3B Table 4 auto-population from GSTR-2B (ims-rules.md section 5).

4A(1) imports, 4A(3) reverse charge, 4A(4) ISD, 4A(5) all other ITC (net of
credit notes), 4B(2) Rule 37A reversal, 4D(2) ITC not available. Negative
nets stay in 4A since the Jan-2023 period (S14); the setting
``negative_4a_to_4b`` moves them to 4B(2) instead (Q1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine.amounts import TABLES
from ims_excel.records import HEADS


def table4(placed: pd.DataFrame, move_negative_4a: bool = False) -> dict[str, dict[str, float]]:
    t = placed["table_code"].to_numpy().astype("int64")
    ok = t >= 0
    out = {tab: {} for tab in TABLES}
    for h in HEADS:
        sums = np.bincount(t[ok], weights=placed[f"itc_{h}"].to_numpy()[ok], minlength=len(TABLES))
        for tab, v in zip(TABLES, sums):
            out[tab][h] = round(float(v), 2) + 0.0
    if move_negative_4a:
        for tab in ("4A1", "4A3", "4A4", "4A5"):
            for h in HEADS:
                if out[tab][h] < 0:
                    out["4B2"][h] = round(out["4B2"][h] - out[tab][h], 2)
                    out[tab][h] = 0.0
    return out
