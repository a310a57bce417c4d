"""Every CSV this package writes goes through here: cells that a spreadsheet would run are neutralised.

A CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel,
LibreOffice Calc and Google Sheets; one that starts with a tab or a carriage
return (or a line feed, then one of those) is read the same way once the
whitespace is trimmed. A client name ``=cmd|' /C calc'!A0`` typed in a
workbook would run when a colleague opens our ``batch --csv`` summary. OWASP's
CSV-injection guidance (https://owasp.org/www-community/attacks/CSV_Injection;
ASVS 5.0 requirement 1.2.10) is to make such a cell start with a single quote,
which the spreadsheet takes as "this is text" and does not show.

What this module chose, and why:

* **Text cells** whose first character, after any leading spaces, tabs, CR or
  LF, is ``=``, ``+``, ``-``, ``@`` (or which start with a tab, CR or NUL)
  get a ``'`` in front. Leading whitespace is looked through because Calc and
  Excel trim it on import in some settings, and OWASP's payload list has
  ``%0A-3+3+cmd|...``.
* **Numbers stay numbers.** ``int``/``float``/``Decimal``/numpy numbers are
  written as numbers (``-450.0``), and so is a text cell that *is* a plain
  decimal number (``-450.00``, ``+91``): a spreadsheet reads those as the
  number, which runs nothing, and prefixing them would turn an amount into
  text that no longer sums. Only the exact pattern ``[+-]?digits[.digits]``
  passes; ``-2+3``, ``-1e3`` or ``-450.00 `` (a trailing space) are neutralised.
* Quoting follows RFC 4180 (``csv`` module, minimal quoting, CRLF kept inside
  quoted cells), so a CR or a comma inside a cell stays inside that cell.
* The file is UTF-8 with a byte-order mark, so that Excel on Windows shows
  ``₹`` and Indian names instead of mojibake; it is written next to the target
  and moved into place (nothing half-written is left).

>>> [neutralise(v) for v in ["=1+1", "-450.00", -450.0, "@SUM(A1)", "\\t=1", " +1", "Acme", "-2+3", None]]
["'=1+1", '-450.00', -450.0, "'@SUM(A1)", "'\\t=1", "' +1", 'Acme', "'-2+3", '']
"""

from __future__ import annotations

import csv
import decimal
import io
import numbers
import os
import re
from collections.abc import Iterable
from pathlib import Path

from ims_excel.xlsx.package import write_text_atomically

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""OWASP's first characters that make a cell a formula (tab and CR included; NUL as ASVS 1.2.10)."""

_DANGEROUS = re.compile(r"[ \t\r\n]*[=+\-@]|[\t\r\0]")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def neutralise(value: object) -> object:
    """The cell as it is safe to write: numbers unchanged, formula-like text prefixed with ``'``.

    ``None`` (and NaN) become an empty cell; booleans and dates are written as their text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (numbers.Number, decimal.Decimal)):
        if isinstance(value, float) and value != value:
            return ""
        return value
    text = value if isinstance(value, str) else str(value)
    if _DANGEROUS.match(text) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_rows(rows: Iterable[Iterable[object]]) -> list[list[object]]:
    """Every cell of ``rows`` through :func:`neutralise`."""
    return [[neutralise(v) for v in row] for row in rows]


def to_text(rows: Iterable[Iterable[object]]) -> str:
    """``rows`` as CSV text (RFC 4180 quoting, CRLF line ends as Excel writes), cells neutralised."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(safe_rows(rows))
    return buf.getvalue()


def write_csv(path: str | os.PathLike, rows: Iterable[Iterable[object]]) -> Path:
    """Write ``rows`` (the header first) to ``path`` as a neutralised UTF-8 CSV (with BOM), atomically."""
    return write_text_atomically(path, "\ufeff" + to_text(rows))


__all__ = ["TRIGGERS", "neutralise", "safe_rows", "to_text", "write_csv"]
