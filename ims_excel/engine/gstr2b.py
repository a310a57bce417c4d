"""GSTR-2B as this return will see it: buckets by section and head (ims-rules.md 4.2).

``available`` / ``not_available`` / ``reversal`` are claimed through GSTR-3B
Table 4; ``rejected`` and ``pending`` (carried forward in IMS) are shown only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine.amounts import BUCKETS
from ims_excel.records import HEADS, SECTIONS


def buckets(section_code: np.ndarray, placed: pd.DataFrame) -> pd.DataFrame:
    """Long table: bucket, section, count, igst, cgst, sgst, cess (every bucket x section, zeros kept)."""
    b = placed["bucket_code"].to_numpy().astype("int64")
    s = np.asarray(section_code, dtype="int64")
    ns = len(SECTIONS)
    key = b * ns + s
    size = len(BUCKETS) * ns
    data = {"bucket": np.repeat(BUCKETS, ns), "section": np.tile(SECTIONS, len(BUCKETS)),
            "count": np.bincount(key, minlength=size)}
    for h in HEADS:
        data[h] = np.round(np.bincount(key, weights=placed[f"amount_{h}"].to_numpy(), minlength=size), 2)
    out = pd.DataFrame(data)
    return out[out["bucket"] != "none"].reset_index(drop=True)


def as_dict(long: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """{bucket: {section: {count, igst, ...}, "total": {...}}} with only the sections that have records."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for bucket, part in long.groupby("bucket", sort=False):
        rows = {r.section: {"count": int(r.count), **{h: round(float(getattr(r, h)), 2) for h in HEADS}}
                for r in part.itertuples() if r.count}
        rows["total"] = {"count": int(part["count"].sum()),
                         **{h: round(float(part[h].sum()), 2) for h in HEADS}}
        out[str(bucket)] = rows
    return out
