"""How the workbook fills a reason code's message (``engine.explain.message``), as Codes-table data.

A message has at most two blanks besides ``{head}`` (the head of ``DECL_EXCEEDS``): ``{period}``,
``{date}``, ``{deadline}`` + ``{next_period}``, or ``{x}`` + ``{y}`` whose meaning depends on the
code. Each code is given a *fill*, the kind of values its blanks take (its position in
:data:`FILLS`), and the names of its two blanks; the workbook writes them as columns ``fill``,
``blank_x`` and ``blank_y`` of the ``Codes`` table, so that the Message formula substitutes two
looked-up blank names with two values chosen by ``CHOOSE(fill, ...)`` instead of testing the code
against every message (issue 9: compact row formulas).

Substitution order is the engine's: ``{head}``, then the first blank, then the second. A code
whose first blank is ``{x}`` always gets ``{y}`` substituted second (with "" when it has no
``{y}``), as the engine does, so a typed text holding ``{y}`` reads the same in both.

>>> [f.name for f in FILLS][:4]
['none', 'period', 'date', 'deadline']
>>> fill_of("PEND_WINDOW_OVER", "until {deadline} (GSTR-3B due date of {next_period})")
('deadline', '{deadline}', '{next_period}')
>>> fill_of("REMARKS_TOO_LONG", "this one has {x}.")
('remarks_length', '{x}', '{y}')
>>> fill_of("DECL_BLOCKED", "locked")
('none', '{x}', '{y}')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Fill:
    """A kind of message values: which codes (or which blank) it serves."""

    name: str
    codes: tuple[str, ...] = ()
    blank: str = ""
    """The blank that marks a message of this fill when no code is listed (``{date}``...)."""


FILLS: tuple[Fill, ...] = (
    Fill("none"),
    Fill("period", blank="{period}"),              # the GSTR-2B period's label (FROZEN)
    Fill("date", blank="{date}"),                  # the s.16(4) cut-off, dd-mm-yyyy
    Fill("deadline", blank="{deadline}"),          # the pending deadline and the next tax period
    Fill("declared", codes=("DECL_EXCEEDS",)),     # declared vs full reduction of head {head}
    Fill("gstin", codes=("GSTIN_CHECK_DIGIT", "GSTIN_OVERRIDDEN")),  # the GSTIN and its right form
    Fill("pending_flag", codes=("PEND_FLAG_DISAGREES",)),            # the flag and the local rule
    Fill("remarks_length", codes=("REMARKS_TOO_LONG",)),
    Fill("portal_error", codes=("PORTAL_ERROR",)),
    Fill("supplier_change", codes=("SUPPLIER_CHANGED",)),
    Fill("remark_actions", codes=("REMARK_NOT_UPLOADED",)),  # the actions the offline upload carries remarks with
)
"""The fills, in ``CHOOSE`` order (``Codes[fill]`` is the 1-based position)."""

_BLANK = re.compile(r"\{(\w+)\}")


def fill_of(code: str, message: str) -> tuple[str, str, str]:
    """(fill name, first blank, second blank) of one reason code."""
    blanks = [f"{{{b}}}" for b in _BLANK.findall(message) if b != "head"]
    for f in FILLS:
        if code in f.codes or (f.blank and f.blank in blanks):
            if f.name == "deadline":
                return f.name, "{deadline}", "{next_period}"
            if f.blank:
                return f.name, f.blank, "{y}"
            return f.name, "{x}", "{y}"
    if blanks:
        raise ValueError(f"reason code {code}: no workbook fill for the blanks {blanks} of its message")
    return "none", "{x}", "{y}"


def codes_frame(codes: pd.DataFrame) -> pd.DataFrame:
    """The ``Codes`` table as the workbook holds it: the rule book's columns, then ``fill``
    (1-based position in :data:`FILLS`), ``blank_x`` and ``blank_y``."""
    names = [f.name for f in FILLS]
    rows = [fill_of(c, m) for c, m in zip(codes["code"], codes["message"])]
    out = codes.copy()
    out["fill"] = [names.index(f) + 1 for f, _, _ in rows]
    out["blank_x"] = [x for _, x, _ in rows]
    out["blank_y"] = [y for _, _, y in rows]
    return out


__all__ = ["FILLS", "Fill", "fill_of", "codes_frame"]
