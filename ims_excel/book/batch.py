"""``batch``: one summary line per client workbook under a folder.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import python_calamine as pc

from ims_excel.xlsx import fileio
from ims_excel.book import outputs
from ims_excel.book.read import evaluate_book, load_book
from ims_excel.normalise import InputError
from ims_excel.xlsx.package import PackageProblem, UNREADABLE, unreadable


@dataclass
class BatchRow:
    path: Path
    summary: outputs.Summary | None
    error: str = ""


def find_workbooks(folder: str | os.PathLike) -> list[Path]:
    root = Path(folder)
    found = [p for p in root.rglob("*") if p.suffix.lower() in (".xlsm", ".xlsx") and p.is_file()
             and not fileio.is_backup_or_temp(p)]
    return sorted(found)


def batch(folder: str | os.PathLike, *, progress: Callable[[int, int, Path], None] | None = None,
          as_of: dt.date | None = None) -> list[BatchRow]:
    """One summary line per client workbook under ``folder``; a broken file gets its error instead and
    the others go on, whatever the error."""
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
        except (pc.CalamineError, *UNREADABLE) as e:
            out.append(BatchRow(p, None, "; ".join(str(x) for x in unreadable(p, e).problems[:3])))
        except MemoryError:
            out.append(BatchRow(p, None, "out of memory reading it"))
        except Exception as e:  # noqa: BLE001 - one broken book must not stop the others (issue 14)
            out.append(BatchRow(p, None, f"{type(e).__name__}: {e}"))
    return out
