"""``process``'s cached values outside the tables: Config and the summary sheets, and whether a book's
cached values are then all right (so that it need not ask Excel for a full calculation on load).

The values are :func:`ims_excel.template.values.book_values` (the engine's
aggregates for every summary block cell, Config's derived cells, the heading
echoes), put into the formula cells by :func:`ims_excel.xlsx.formula_cache.set_cached`.
A book is *right* when every formula cell of every sheet other than the
Inward/Outward tables got such a value, and the tables' computed columns all
got the engine's values (the caller knows that); a firm's own formula
anywhere else, or a constant typed over one of ours, leaves the book to
Excel's full calculation, as before.

GSTR-3B 4(C) adds the taxpayer's own entries typed in 4(A)(2) and subtracts those in 4(B)(1)
(:func:`own_entries`, read from the sheet): a blank is 0; a cell there holding text, an error or TRUE/FALSE
is refused, named by its cell, before anything is written, since the 4(C) formula adds it with ``+``
(Excel: ``#VALUE!`` for text it cannot read as a number, and text such as ``1,000`` is read one way or
another by the Excel locale), so no cached value would be sure to be the one Excel shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ims_excel.book.leftovers import shared_strings
from ims_excel.normalise import InputError, InputProblem
from ims_excel.template import summaries, values as values_mod
from ims_excel.xlsx import sheetxml
from ims_excel.xlsx.formula_cache import cells_at, formula_refs, set_cached
from ims_excel.xlsx.package import Package



def own_entries(pkg: Package, xml: bytes, file: str) -> dict[tuple[str, str], float]:
    """``{(row, col): amount}`` typed in the GSTR-3B sheet's 4(A)(2) and 4(B)(1) cells (``xml``: the sheet
    part); blank cells are left out (0). A cell there that is not a number (text such as ``1,000`` or
    ``abc``, an error, TRUE/FALSE) is an :class:`~ims_excel.normalise.InputError` naming each such cell."""
    cells = summaries.cell_map()
    where = {cells[("gstr3b", "table4", r, c)].rsplit("!", 1)[1]: (r, c) for r in summaries.OWN_IN_4C for c in summaries.HEADS}
    found = cells_at(xml, set(where))
    sst = shared_strings(pkg) if any(b't="s"' in attrs for attrs, _ in found.values()) else []
    own, problems = {}, []
    for a1, (row, c) in where.items():
        attrs, body = found.get(a1, (b"", None))
        v = sheetxml.cell_value(attrs, body, sst)
        if v is None or v == "":
            continue
        if isinstance(v, float):
            own[(row, c)] = v
            continue
        what = (f"the error {v}" if isinstance(v, sheetxml.CellError) else "TRUE/FALSE" if isinstance(v, bool)
                else f"the text {v!r}")
        label = summaries.TABLE4[row].split("  [")[0].split(" ", 1)[0]
        problems.append(InputProblem(
            file, int("".join(ch for ch in a1 if ch.isdigit())), c,
            f"cell {a1} ({label} {c}, your entry) holds {what}, not an amount: the 4(C) Net ITC formula adds it "
            "with + (Excel gives #VALUE! for text it cannot read as a number, and reads text such as '1,000' "
            "by its locale), so 4(C) cannot be worked out. Type the amount as a number, or clear the cell; "
            "nothing was written", "GSTR-3B"))
    if problems:
        raise InputError(problems)
    return own


def cache_sheet_values(pkg: Package, replace: dict[str, bytes], config: dict[str, object], result,
                       skip: Iterable[str], today: dt.date | None = None, file: str | None = None) -> bool:
    """Put the values into the formula cells of every sheet but ``skip`` (sheet names), as new parts in
    ``replace`` (a part already there is worked on); returns whether every such formula cell got one.
    4(C) takes the taxpayer's own entries typed on the GSTR-3B sheet (:func:`own_entries`: a cell there that
    is not a number is refused, named in ``file``, default the package's)."""
    own = {}
    sheet3b = pkg.sheet(values_mod.SHEET_KEYS["gstr3b"])
    if sheet3b is not None and sheet3b.name not in set(skip):
        own = own_entries(pkg, replace.get(sheet3b.part) or pkg.read(sheet3b.part), file or str(pkg.path))
    per_sheet = values_mod.book_values(config, result, today or dt.date.today(), pkg.defined_names(), own)
    skip = set(skip)
    complete = True
    for sheet in pkg.sheets():
        if sheet.name in skip:
            continue
        xml = replace.get(sheet.part)
        if xml is None:
            xml = pkg.read(sheet.part)
        refs = formula_refs(xml)
        if not refs:
            continue
        wanted = {a1: v for a1, v in per_sheet.get(sheet.name, {}).items() if a1 in refs}
        if wanted:
            new, missing = set_cached(xml, wanted)
            if new != xml:
                replace[sheet.part] = new
            complete = complete and not missing
        complete = complete and refs <= set(wanted)
    return complete
