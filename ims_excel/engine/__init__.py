"""The IMS engine: one call from canonical records to validation, GSTR-2B, GSTR-3B and add-back.

>>> import datetime as dt
>>> from ims_excel.engine import Context, evaluate
>>> from ims_excel.engine.sample import frame
>>> ctx = Context.make("27AAACR5055K1Z7", "2025-11", as_of=dt.date(2025, 12, 16))
>>> res = evaluate(frame([{"Section": "B2B", "Supplier GSTIN": "27AAACS1111S1Z9",
...     "Document Number": "INV-101", "Document Date": "2025-11-05", "Taxable Value": 100000,
...     "CGST": 9000, "SGST": 9000, "2B Period": "2025-11"}]), ctx)
>>> [str(v) if isinstance(v, str) else float(v) for v in res.records.loc[0, ["status", "effective_action", "gstr3b_table", "itc_cgst"]]]
['ok', 'Deemed Accepted', '4A5', 9000.0]
>>> res.gstr3b["4A5"]
{'igst': 0.0, 'cgst': 9000.0, 'sgst': 9000.0, 'cess': 0.0}
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ims_excel.engine import amounts, gstr2b, gstr3b, liability
from ims_excel.engine.checks import input_problems
from ims_excel.engine.classify import RuleArrays, classify
from ims_excel.engine.context import Context
from ims_excel.engine.validation import validate
from ims_excel.normalise import InputError
from ims_excel.records import HEADS
from ims_excel.rules import rulebook


@dataclass
class Result:
    """Everything the doors show: per-record results, GSTR-2B, GSTR-3B Table 4, add-back rows."""

    context: Context
    inward: pd.DataFrame  # the typed input
    records: pd.DataFrame  # one row per input row: classification, validation, amounts
    gstr2b: pd.DataFrame  # long table bucket x section
    gstr3b: dict[str, dict[str, float]]
    liability: pd.DataFrame
    outward: pd.DataFrame | None = None  # the typed outward input, if any
    outward_records: pd.DataFrame | None = None  # its classification (rule per outward row)

    @property
    def errors(self) -> pd.DataFrame:
        return self.records[self.records["status"] == "error"]


def evaluate(inward: pd.DataFrame, ctx: Context, outward: pd.DataFrame | None = None, *,
             check: bool = True, inward_name: str = "inward", outward_name: str = "outward") -> Result:
    """Run every rule on typed canonical records (see :func:`ims_excel.normalise.normalise`).

    With ``check`` (the default) unusable input raises :class:`ims_excel.normalise.InputError`
    (a 2B period after the return period, duplicate records).
    """
    rb = rulebook()
    ra = RuleArrays.build(rb)
    cl = classify(inward, ctx, rb, ra)
    ocl = classify(outward, ctx, rb, ra, party="recipient_gstin") if outward is not None and len(outward) \
        else None
    if check:
        problems = input_problems(inward, ctx, inward_name, cl=cl)
        if ocl is not None:
            problems += input_problems(outward, ctx, outward_name, party="recipient_gstin", cl=ocl)
        if problems:
            raise InputError(problems)
    signed = amounts.document_amounts(inward, cl)
    specified = ra.specified[cl["rule_idx"].to_numpy()]
    reduction = amounts.full_reduction(signed, specified)
    val = validate(inward, cl, ctx, rb, ra, reduction)
    final = amounts.apply_declaration(inward, signed, reduction, val["decl_applies"].to_numpy(),
                                      val["reduction_choice"].to_numpy())
    placed = amounts.place(inward, cl, val, ra, final)
    records = pd.concat([cl, val, placed], axis=1)
    records["specified"] = specified
    for k, h in enumerate(HEADS):  # what a Full declaration reduces, per head (DECL_EXCEEDS compares with it)
        records[f"reduction_{h}"] = reduction[:, k]
    records["row"] = inward["row"].to_numpy()
    if ocl is not None:
        rows = liability.addback(outward, ocl, ctx, ra)
    else:
        rows = pd.DataFrame(columns=liability.COLUMNS)
    return Result(ctx, inward, records, gstr2b.buckets(cl["section_code"].to_numpy(), placed),
                  gstr3b.table4(placed, ctx.move_negative_4a), rows, outward, ocl)


__all__ = ["Context", "Result", "evaluate"]
