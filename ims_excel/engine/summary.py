"""The portal's IMS dashboard summary: records and tax by section and action.

IMS Dashboard -> Inward Supplies (ims-rules.md section 2) counts, per section,
the records *in IMS* by action: No Action / Accepted / Rejected / Pending. A
record is in IMS when its rule is an IMS kind (D1-D17): not outside IMS
(D18-D24, D28, D29), not frozen by a filed GSTR-3B (D25, accepted and rejected
records leave IMS), not time-barred (D26). The action is the one the portal
keeps (a refused action is not applied; an expired pending is deemed
accepted), and "Deemed Accepted" shows as No Action, as on the portal. Tax is
the document's own IGST + CGST + SGST + Cess as reported (credit notes
positive, amendments at their amended value).

>>> import datetime as dt
>>> from ims_excel.engine import Context, evaluate
>>> from ims_excel.engine.sample import frame
>>> ctx = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))
>>> res = evaluate(frame([{"Section": "B2B", "Supplier GSTIN": "29AAACS2222T1ZX", "Document Number": "1",
...     "Document Date": "2025-11-05", "IGST": 900, "2B Period": "2025-11", "Action": "Reject"}]), ctx)
>>> s = ims_summary(res)
>>> s[(s["section"] == "B2B") & (s["count"] > 0)][["state", "count", "tax"]].to_dict("records")
[{'state': 'Rejected', 'count': 1, 'tax': 900.0}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel.engine.validation import gone_from_ims
from ims_excel.records import HEADS, SECTIONS
from ims_excel.rules import rulebook

STATES = ("No Action", "Accepted", "Rejected", "Pending")
"""Dashboard columns, in the portal's order."""

_DASHBOARD = {"Accepted": "Accepted", "Rejected": "Rejected", "Pending": "Pending",
              "Deemed Accepted": "No Action"}


def ims_state(result) -> np.ndarray:
    """Per record: its dashboard column (``STATES``), or "" when the record is not in IMS."""
    kind = {r.id: r.kind for r in rulebook().rules}
    recs = result.records
    in_ims = (recs["rule"].astype(object).map(kind).to_numpy() == "ims") & ~gone_from_ims(result.inward)
    state = recs["effective_action"].astype(object).map(_DASHBOARD).fillna("").to_numpy(dtype=object)
    return np.where(in_ims, state, "")


def ims_summary(result) -> pd.DataFrame:
    """Every section x state: ``count`` and the tax ``igst`` ... ``cess`` and ``tax`` (their sum)."""
    state = ims_state(result)
    sec = pd.Index(SECTIONS).get_indexer(result.inward["section"].astype(object))
    st = pd.Index(STATES).get_indexer(state)
    keep = (sec >= 0) & (st >= 0)
    key = sec[keep] * len(STATES) + st[keep]
    size = len(SECTIONS) * len(STATES)
    data = {"section": np.repeat(SECTIONS, len(STATES)), "state": np.tile(STATES, len(SECTIONS)),
            "count": np.bincount(key, minlength=size)}
    tax = np.zeros(size)
    for h in HEADS:
        data[h] = np.round(np.bincount(key, weights=result.inward[h].to_numpy(dtype=float)[keep],
                                       minlength=size), 2)
        tax = tax + data[h]
    data["tax"] = np.round(tax, 2)
    return pd.DataFrame(data)


__all__ = ["STATES", "ims_state", "ims_summary"]
