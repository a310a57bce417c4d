"""GSTR-3B auto-population from GSTR-2B (ims-rules.md section 5): Table 4 and Table 3.1(d).

Table 4: 4A(1) imports, 4A(3) reverse charge, 4A(4) ISD, 4A(5) all other ITC
(net of credit notes), 4B(2) Rule 37A reversal, 4D(2) ITC not available.
Negative nets stay in 4A since the Jan-2023 period (S14); the setting
``negative_4a_to_4b`` moves them to 4B(2) instead (Q1).

Table 3.1(d), inward supplies liable to reverse charge: the tax the recipient
pays on GSTR-2B Part A-III, "net of RCM credit notes -> 3.1(d) liability and
4A(3) ITC" (ims-rules.md section 5, S15; example E39: "3.1(d) IGST 9000;
4A(3) IGST 9000"): the Part A-III sum of 4A(3) before any Q1 move (a move
shifts ITC between Table 4 rows, never the liability), plus the reverse-charge
records whose ITC is not available (4D(2)): the recipient pays the tax on a
reverse-charge supply whatever its credit (CGST Act s.9(3)/(4); GSTR-2B's
advisory: Part A-III supplies "shall be declared in Table 3.1(d) of FORM
GSTR-3B for payment of tax"; INF for the not-available part). Per head only:
the return's taxable value column is not worked out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine.amounts import TABLES
from ims_excel.records import HEADS

RCM_LIABILITY = "3.1(d)"
"""The key of Table 3.1(d) in :func:`table4`'s result (beside the Table 4 rows of ``amounts.TABLES``)."""

def table4(placed: pd.DataFrame, move_negative_4a: bool = False) -> dict[str, dict[str, float]]:
    """``{row: {head: amount}}`` for each Table 4 row of ``amounts.TABLES`` and :data:`RCM_LIABILITY`."""
    t = placed["table_code"].to_numpy().astype("int64")
    ok = t >= 0
    out = {tab: {} for tab in TABLES}
    for h in HEADS:
        sums = np.bincount(t[ok], weights=placed[f"itc_{h}"].to_numpy()[ok], minlength=len(TABLES))
        for tab, v in zip(TABLES, sums):
            out[tab][h] = round(float(v), 2) + 0.0
    rcm = placed["rcm_liability"].to_numpy()
    out[RCM_LIABILITY] = {h: round(float(placed[f"itc_{h}"].to_numpy()[rcm].sum()), 2) + 0.0 for h in HEADS}
    if move_negative_4a:
        for tab in ("4A1", "4A3", "4A4", "4A5"):
            for h in HEADS:
                if out[tab][h] < 0:
                    out["4B2"][h] = round(out["4B2"][h] - out[tab][h], 2)
                    out[tab][h] = 0.0
    return out
