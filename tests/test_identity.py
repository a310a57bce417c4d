"""Record identity (ims_excel.engine.identity): the portal's naming of a record, not its 2B period."""

from __future__ import annotations

import pandas as pd

from ims_excel.engine.identity import financial_year, identity, identity_parts

R = "29AAACS2222T1ZX"


def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {"section": "B2B", "supplier_gstin": "27AAACR5055K1Z7", "document_number": "INV-1",
            "document_date": "2025-10-05", "original_document_number": "", "original_document_date": None,
            "period_2b": 0}
    f = pd.DataFrame([{**base, **r} for r in rows])
    f["document_date"] = pd.to_datetime(f["document_date"])
    f["original_document_date"] = pd.to_datetime(f["original_document_date"])
    return f


def test_the_2b_period_is_not_part_of_identity():
    """A supplier filing late moves the 2B period; the record is the same (issue 10)."""
    k = identity(_frame([{"period_2b": 24309}, {"period_2b": 24310}]), R)
    assert k[0] == k[1]


def test_same_number_other_financial_year_is_another_record():
    """CGST rule 46(b): an invoice number is unique for a financial year (April-March)."""
    k = identity(_frame([{"document_date": "2026-03-31"}, {"document_date": "2026-04-01"},
                         {"document_date": "2025-04-01"}]), R)
    assert k[0] == k[2] and k[0] != k[1]
    assert financial_year(pd.Series(pd.to_datetime(["2026-03-31", "2026-04-01", None]))).tolist() == [
        "2025-26", "2026-27", ""]


def test_family_recipient_and_supplier_separate_records():
    f = _frame([{}, {"section": "B2B-DN"}, {"section": "B2B-CN"}, {"section": "ECO"},
                {"supplier_gstin": "27AAACS1111S1Z9"}, {"section": "IMPG", "supplier_gstin": ""}])
    assert identity(f, R).nunique() == 6
    assert identity_parts(f, R)["family"].tolist() == ["INV", "DN", "CN", "ECO", "INV", "BOE"]
    assert (identity(f.iloc[:1], R) != identity(f.iloc[:1], "27AAACR5055K1Z7")).all()


def test_document_number_is_text_exactly():
    """Document numbers are text (formats-and-market.md 2.3: inum must stay a string): 000123 is not 123."""
    k = identity(_frame([{"document_number": "000123"}, {"document_number": "123"},
                         {"document_number": " 000123 "}]), R)
    assert k[0] != k[1] and k[0] == k[2]
    f = _frame([{"document_number": 123.0}])
    assert identity_parts(f, R)["number"].tolist() == ["123"]


def test_amendments_are_named_by_their_original_document():
    """An amendment is keyed by the original (oinum/ont_num) and the original's year; the original and its
    amendment stay two records (sections B2B and B2BA)."""
    f = _frame([
        {"section": "B2BA", "document_number": "INV-1R", "document_date": "2026-05-02",
         "original_document_number": "INV-1", "original_document_date": "2026-03-20"},
        {"section": "B2BA", "document_number": "INV-1R2", "document_date": "2026-06-02",
         "original_document_number": "INV-1", "original_document_date": "2026-03-20"},
        {"document_number": "INV-1", "document_date": "2026-03-20"},
    ])
    p = identity_parts(f, R)
    assert p["number"].tolist() == ["INV-1"] * 3 and p["fy"].tolist() == ["2025-26"] * 3
    k = identity(f, R)
    assert k[0] == k[1] and k[0] != k[2]


def test_gstin_case_does_not_matter():
    k = identity(_frame([{"supplier_gstin": "27aaacr5055k1z7"}, {}]), R.lower())
    assert k[0] == k[1] and k[0].startswith(R + "|")
