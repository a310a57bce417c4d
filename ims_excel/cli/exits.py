"""Exit codes of every ``ims-excel`` command, the usage error, and parsing of command-line values.

Exit codes: **0** done (a report with record errors is still done); **2**
unusable input or a refusal (the message names the file, sheet, row and
column, or the parts a change would lose) and nothing was written; **1** an
internal error.
"""

from __future__ import annotations

import datetime as dt

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2

EPILOG = ("exit codes: 0 done; 2 unusable input or refused (nothing written; the message says why); "
          "1 internal error")


class UsageError(Exception):
    """Bad command-line values: reported like bad input (exit 2)."""


def parse_date(text: str | None, flag: str = "--as-of") -> dt.date | None:
    """A YYYY-MM-DD flag value (None when not given).

    >>> parse_date("2026-11-26"), parse_date(None)
    (datetime.date(2026, 11, 26), None)
    """
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date (use YYYY-MM-DD)") from None
