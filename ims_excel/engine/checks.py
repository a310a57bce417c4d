"""Input checks that need the return's context (issue 2, "Bad input").

* a GSTR-2B period after the return period (the 2B for it cannot exist yet);
* duplicate records: same supplier, section, document number and 2B period.

Each problem names the file, the data row and the column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ims_excel import periods
from ims_excel.engine.context import Context
from ims_excel.normalise import InputProblem

MAX_SHOWN = 20


def _duplicated(key: pd.DataFrame) -> np.ndarray:
    """Rows whose integer key columns repeat an earlier row (one int64 per row when it fits)."""
    cols = [key[c].to_numpy(dtype="int64") for c in key.columns]
    lows = [c.min() if len(c) else 0 for c in cols]
    dims = [int(c.max() - lo) + 1 if len(c) else 1 for c, lo in zip(cols, lows)]
    if np.prod([float(d) for d in dims]) < 2.0**62:
        packed = np.ravel_multi_index([c - lo for c, lo in zip(cols, lows)], dims)
        return pd.Series(packed).duplicated(keep="first").to_numpy()
    return key.duplicated(keep="first").to_numpy()


def duplicate_problems(df: pd.DataFrame, file: str = "<input>", party: str = "supplier_gstin",
                       cl: pd.DataFrame | None = None, problems: list[InputProblem] | None = None) -> int:
    """Append to ``problems`` (up to :data:`MAX_SHOWN`) the records that repeat an earlier one: same party
    GSTIN, section, document number (exactly as typed) and 2B period, each named by file, sheet, row and
    column; return how many there are. ``process`` refuses them (:func:`input_problems`) and so does
    ``import`` before it merges into a book that has them (:func:`ims_excel.book.imports.merge_into`): a
    download matched to one twin would mark the other "Gone From IMS"."""
    problems = problems if problems is not None else []
    rows = df["source_row"] if "source_row" in df else df["row"]
    sheets = df["source_sheet"] if "source_sheet" in df else pd.Series(None, index=df.index)
    p2b = df["period_2b"].to_numpy(dtype="int64")
    # GSTINs are already stripped and upper-cased by normalise(); numbers compare exactly as typed
    key = pd.DataFrame({
        "g": cl["party_code"].to_numpy() if cl is not None else pd.factorize(df[party])[0],
        "s": cl["section_code"].to_numpy() if cl is not None else pd.factorize(df["section"])[0],
        "d": pd.factorize(df["document_number"].to_numpy(dtype=object))[0], "p": p2b})
    dup = _duplicated(key)
    if dup.any():
        first = key.drop_duplicates(keep="first").reset_index().set_index(["g", "s", "d", "p"])["index"]
        for i in np.flatnonzero(dup)[:MAX_SHOWN]:
            j = int(first.loc[tuple(key.iloc[i])])
            g, sec = df[party].iloc[i], df["section"].iloc[i]
            p = periods.iso(int(p2b[i])) if p2b[i] >= 0 else "blank"
            problems.append(InputProblem(
                file, int(rows.iloc[i]), "Document Number",
                f"{df['document_number'].iloc[i]!r} of {g or 'no GSTIN'} ({sec}, 2B {p}) "
                f"duplicates row {int(rows.iloc[j])}", sheets.iloc[i]))
    return int(dup.sum())


def duplicate_records(df: pd.DataFrame, file: str = "<input>", party: str = "supplier_gstin") -> list[InputProblem]:
    """The problems :func:`input_problems` names for duplicate records, alone (what ``import`` refuses)."""
    problems: list[InputProblem] = []
    hidden = duplicate_problems(df, file, party, problems=problems) - len(problems)
    if hidden > 0:
        problems.append(InputProblem(file, None, None, f"... and {hidden} more problems like these"))
    return problems


def input_problems(df: pd.DataFrame, ctx: Context, file: str = "<input>",
                   party: str = "supplier_gstin", cl: pd.DataFrame | None = None) -> list[InputProblem]:
    """Problems of the whole input; ``cl`` (the classification) saves re-coding sections and GSTINs."""
    problems: list[InputProblem] = []
    # name rows as the file shows them when the importer recorded it (header = row 1)
    rows = df["source_row"] if "source_row" in df else df["row"]
    sheets = df["source_sheet"] if "source_sheet" in df else pd.Series(None, index=df.index)
    p2b = df["period_2b"].to_numpy(dtype="int64")
    future = np.flatnonzero(p2b > ctx.return_period)
    for i in future[:MAX_SHOWN]:
        problems.append(InputProblem(file, int(rows.iloc[i]), "2B Period",
                                     f"{periods.iso(int(p2b[i]))} is after the return period "
                                     f"{periods.iso(ctx.return_period)}", sheets.iloc[i]))
    dup = duplicate_problems(df, file, party, cl, problems)
    hidden = len(future) + dup - len(problems)
    if hidden > 0:
        problems.append(InputProblem(file, None, None, f"... and {hidden} more problems like these"))
    return problems
