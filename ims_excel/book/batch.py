"""``batch``: one summary line per client workbook under a folder.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ims_excel.book import outputs
from ims_excel.book.read import evaluate_book, load_book
from ims_excel.normalise import InputError
from ims_excel.xlsx.package import PackageProblem, WorkbookBusy, is_backup_or_temp


@dataclass
class BatchRow:
    path: Path
    summary: outputs.Summary | None
    error: str = ""


def find_workbooks(folder: str | os.PathLike) -> list[Path]:
    root = Path(folder)
    found = [p for p in root.rglob("*") if p.suffix.lower() in (".xlsm", ".xlsx") and p.is_file()
             and not is_backup_or_temp(p)]
    return sorted(found)


def batch(folder: str | os.PathLike, *, progress: Callable[[int, int, Path], None] | None = None,
          as_of: dt.date | None = None) -> list[BatchRow]:
    """One summary line per client workbook under ``folder``; a broken file gets its error instead."""
    books = find_workbooks(folder)
    out = []
    for k, p in enumerate(books, start=1):
        if progress:
            progress(k, len(books), p)
        try:
            book = load_book(p, as_of=as_of)
            result = evaluate_book(book)
            out.append(BatchRow(p, outputs.summary(result, book.client)))
        except (InputError, PackageProblem) as e:
            out.append(BatchRow(p, None, "; ".join(str(x) for x in e.problems[:3])))
        except (WorkbookBusy, OSError, ValueError) as e:
            out.append(BatchRow(p, None, f"{type(e).__name__}: {e}"))
    return out
