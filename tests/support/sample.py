"""Tidy Inward/Outward rows as a user types them (canonical headers), for pictures and cell-type tests.

Valid GSTINs (check digit computed), a mix of sections and actions, amounts
with IGST or CGST+SGST, nearly all valid: what the snapshot script shows and
what the workbook-building tests type in. Not realistic data, just well-formed.
:mod:`tests.support.synthetic` is the other generator, for coverage and scale:
typed records with every section, flag and mistake (most rows carry an error),
which is right for tests and benchmarks and wrong for a screenshot.

>>> df = sample_inward(4, seed=1)
>>> list(df.columns[:3]), len(df)
(['Section', 'Supplier GSTIN', 'Supplier Name'], 4)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import gstin

SECTIONS = ("B2B", "B2B", "B2B", "B2BA", "B2B-DN", "B2B-CN", "B2B-CNA", "ECO", "IMPG")
ACTIONS = ("", "", "Accept", "Reject", "Pending", "No Action")
RECIPIENT = "27AAACR5055K1Z7"


def make_gstin(state: int, n: int) -> str:
    """A valid GSTIN for state ``state`` and serial ``n`` (PAN-like AAAC?nnnn? letters)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pan = f"AAAC{letters[n % 26]}{n % 10000:04d}{letters[(n // 26) % 26]}"
    first14 = f"{state:02d}{pan}1Z"
    return first14 + gstin.check_char(first14)


def sample_inward(n: int, *, seed: int = 0, period: str = "2025-11") -> pd.DataFrame:
    """``n`` inward rows with canonical headers."""
    rng = np.random.default_rng(seed)
    sec = rng.choice(np.array(SECTIONS, dtype=object), n)
    suppliers = [make_gstin(s, k) for k, s in enumerate(rng.integers(1, 37, 50))]
    sup = rng.choice(np.array(suppliers, dtype=object), n)
    taxable = np.round(rng.uniform(1000, 2_500_000, n), 2)
    inter = (rng.random(n) < 0.5) | np.isin(sec, ["IMPG"])
    igst = np.where(inter, np.round(taxable * 0.18, 2), 0.0)
    cgst = np.where(inter, 0.0, np.round(taxable * 0.09, 2))
    day = rng.integers(1, 29, n)
    is_impg = sec == "IMPG"
    df = pd.DataFrame({
        "Section": sec,
        "Supplier GSTIN": np.where(is_impg, "", sup),
        "Supplier Name": [f"Supplier {i % 50:02d} Pvt Ltd" for i in range(n)],
        "Document Number": [f"INV/{25}-{26}/{i:06d}" for i in range(n)],
        "Document Date": pd.to_datetime([f"2025-11-{d:02d}" for d in day]),
        "Place Of Supply": np.where(inter, "29", "27"),
        "Reverse Charge": "N",
        "Supply Type": "R",
        "Document Value": np.round(taxable + igst + 2 * cgst, 2),
        "Taxable Value": taxable,
        "IGST": igst,
        "CGST": cgst,
        "SGST": cgst,
        "Cess": 0.0,
        "Source Form": np.where(is_impg, "ICEGATE", "GSTR-1"),
        "Supplier Filing Status": "Filed",
        "Supplier Filing Date": pd.to_datetime([f"2025-12-{d % 13 + 1:02d}" for d in day]),
        "2B Period": period,
        "Action": rng.choice(np.array(ACTIONS, dtype=object), n),
        "Previous Action": "No Action",
        "Remarks": "",
    })
    # an amendment names the document it amends (refused without: normalise.amendment_problems); its own
    # number and date, so its identity is what it was before the originals were filled
    amend = np.isin(sec, ["B2BA", "B2B-CNA"])
    df.insert(5, "Original Document Number", np.where(amend, df["Document Number"], ""))
    df.insert(6, "Original Document Date", df["Document Date"].where(amend))
    return df


def sample_outward(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` outward rows (the supplier's own documents) with canonical headers."""
    rng = np.random.default_rng(seed + 1000)
    sec = rng.choice(np.array(("B2B", "B2B-CN", "B2B-CN", "B2BA"), dtype=object), n)
    taxable = np.round(rng.uniform(1000, 500_000, n), 2)
    return pd.DataFrame({
        "Section": sec,
        "Recipient GSTIN": [make_gstin(29, 100 + i % 20) for i in range(n)],
        "Recipient Name": [f"Customer {i % 20:02d}" for i in range(n)],
        "Document Number": [f"S/{i:05d}" for i in range(n)],
        "Document Date": pd.Timestamp("2025-11-15"),
        "Supply Type": rng.choice(np.array(("R", "R", "SEZWP"), dtype=object), n),
        "Taxable Value": taxable,
        "IGST": np.round(taxable * 0.18, 2),
        "CGST": 0.0, "SGST": 0.0, "Cess": 0.0,
        "Recipient Action": rng.choice(np.array(("Accepted", "Rejected", "Pending", "No Action"),
                                                dtype=object), n),
    })
