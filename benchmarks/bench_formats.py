"""Benchmark: import a 100,000-record IMS JSON and a 100,000-row portal-style Excel file.

Run: ``python benchmarks/bench_formats.py [ROWS]``. Files are generated in a
temporary folder (the Excel one with XlsxWriter ``constant_memory``); each
import is timed as *read* (:func:`ims_excel.formats.detect_and_read`, the raw
frame) and *load* (read + normalise, the typed frame), plus the upload
builder on the imported JSON with every record's action changed.
Target: under 10 s per import on a 2-core machine.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ims_excel.formats import build_upload, detect_and_read, load  # noqa: E402
from ims_excel.formats._jsonio import JsonNumber, dumps  # noqa: E402
from tests.formats.formats_helpers import B2B_COLUMNS  # noqa: E402

SUPPLIERS = ["27AAACR5055K1Z7", "27AAACS1111S1Z9", "07AAACE4444E1Z0", "29AAACM7777M1ZN",
             "07AAACA1234B1ZK", "24AAACA1111A1ZY"]
RTIN = "29AAACS2222T1ZX"


def _amounts(rng: random.Random) -> tuple[str, ...]:
    tx = rng.randint(100, 10_000_000) / 100
    tax = round(tx * 0.18, 2)
    return tuple(f"{v:.2f}" for v in (tx + tax, tx, tax))


def make_json(path: Path, rows: int) -> None:
    rng = random.Random(1)
    keys = ["b2b"] * 6 + ["b2bcn", "b2bdn", "b2ba", "ecom"]
    sections: dict[str, list] = {}
    for i in range(rows):
        key = keys[i % len(keys)]
        val, tx, tax = _amounts(rng)
        num, dat = ("nt_num", "nt_dt") if key in ("b2bcn", "b2bdn") else ("inum", "idt")
        rec = {"stin": SUPPLIERS[i % 6], "tradenm": f"Supplier {i % 6}", num: f"INV/25-26/{i:06d}",
               "inv_typ": "R", dat: f"{1 + i % 28:02d}-10-2025", "val": JsonNumber(val), "pos": "29",
               "txval": JsonNumber(tx), "iamt": JsonNumber(tax), "camt": 0, "samt": 0, "cess": 0,
               "action": "NAPR"[i % 4], "srcform": "R1", "rtnprd": "102025", "srcfilstatus": "Filed",
               "ispendactblocked": "N", "isRemarksBlocked": "N", "hash": f"{i:064x}"}
        if key == "b2ba":
            rec["oinum"], rec["oidt"] = f"OLD/{i:06d}", "01-09-2025"
        sections.setdefault(key, []).append(rec)
    path.write_text(dumps({"imsDetails": sections}), encoding="utf-8")


HEAD = B2B_COLUMNS  # the offline-tool B2B layout the tests' fixtures use


def make_excel(path: Path, rows: int) -> None:
    rng = random.Random(2)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("B2B")
    ws.write_string(0, 0, "Invoice Management System (IMS) - B2B Invoices")
    for c, (group, label) in enumerate(HEAD):
        if group is None:
            ws.write_string(4, c, label)
        else:
            if c == 0 or HEAD[c - 1][0] != group:
                ws.write_string(4, c, group)
            ws.write_string(5, c, label)
    status = ["No Action", "Accepted", "Pending", "Rejected"]
    for i in range(rows):
        val, tx, tax = _amounts(rng)
        r = 6 + i
        ws.write_string(r, 0, SUPPLIERS[i % 6])
        ws.write_string(r, 1, f"Supplier {i % 6}")
        ws.write_string(r, 2, f"{i:016d}")  # 16-digit invoice numbers, stored as text
        ws.write_string(r, 3, "Regular")
        ws.write_string(r, 4, f"{1 + i % 28:02d}-10-2025")
        ws.write_number(r, 5, float(val))
        ws.write_string(r, 6, status[i % 4])
        ws.write_string(r, 7, "29-Karnataka")
        ws.write_number(r, 8, float(tx))
        ws.write_number(r, 9, float(tax))
        for c in (10, 11, 12):
            ws.write_number(r, c, 0)
        ws.write_string(r, 14, "GSTR-1/IFF")
        ws.write_string(r, 15, "102025")
        ws.write_string(r, 16, "Filed")
        ws.write_string(r, 19, status[i % 4])
        ws.write_string(r, 21, "N")
        ws.write_string(r, 22, "N")
    wb.close()


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def main(rows: int = 100_000) -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        jpath, xpath = Path(tmp) / "ims.json", Path(tmp) / "ims.xlsx"
        _, tj = timed(make_json, jpath, rows)
        _, tx = timed(make_excel, xpath, rows)
        raw, t = timed(detect_and_read, jpath)
        results.append(("IMS JSON", "read (raw)", len(raw), t, jpath.stat().st_size))
        typed, t = timed(load, jpath)
        results.append(("IMS JSON", "load (typed)", len(typed), t, jpath.stat().st_size))
        raw, t = timed(detect_and_read, xpath)
        results.append(("portal Excel", "read (raw)", len(raw), t, xpath.stat().st_size))
        xtyped, t = timed(load, xpath)
        results.append(("portal Excel", "load (typed)", len(xtyped), t, xpath.stat().st_size))
        typed["action"] = typed["action"].map({"Accept": "Reject", "Reject": "Pending",
                                               "Pending": "Accept", "No Action": "Accept"})
        import pandas as pd
        ok = pd.DataFrame({"status": "ok"}, index=typed.index)
        up, t = timed(build_upload, typed, ok, RTIN)
        text, t2 = timed(up.to_json)
        results.append(("upload JSON", "build + dump", up.count, t + t2, len(text.encode("utf-8"))))
    print(f"generated in {tj:.1f} s (JSON) and {tx:.1f} s (Excel)")
    print(f"{'format':<14}{'step':<14}{'rows':>9}{'seconds':>9}{'MB':>8}")
    for fmt, step, n, secs, size in results:
        print(f"{fmt:<14}{step:<14}{n:>9,}{secs:>9.2f}{size / 2**20:>8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
