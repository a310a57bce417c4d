"""Small IMS downloads (the portal's JSON) written by tests: one b2b record as the portal spells it, and
the file that carries a list of them (formats-and-market.md, the IMS JSON fields)."""

from __future__ import annotations

import json
from pathlib import Path

SUPPLIER = "27AAACR5055K1Z7"


def ims_record(inum: str, **fields: object) -> dict:
    """One filed, no-action b2b invoice of :data:`SUPPLIER` for Oct-2025; ``fields`` override any key."""
    rec = {"stin": SUPPLIER, "inum": inum, "inv_typ": "R", "idt": "05-10-2025", "val": 1180.0, "pos": "29",
           "txval": 1000.0, "iamt": 180.0, "camt": 0, "samt": 0, "cess": 0, "action": "N", "srcform": "R1",
           "rtnprd": "102025", "srcfilstatus": "Filed", "ispendactblocked": "N", "isRemarksBlocked": "N"}
    rec.update(fields)
    return rec


def write_ims_json(path: Path, records: list[dict], envelope: str = "imsDetails") -> Path:
    """``path`` holding ``records`` as the b2b section of an IMS download under ``envelope``."""
    path.write_text(json.dumps({envelope: {"b2b": records}}), encoding="utf-8")
    return path
