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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ims_excel.template import values as values_mod
from ims_excel.xlsx.formula_cache import formula_refs, set_cached
from ims_excel.xlsx.package import Package


def cache_sheet_values(pkg: Package, replace: dict[str, bytes], config: dict[str, object], result,
                       skip: Iterable[str], today: dt.date | None = None) -> bool:
    """Put the values into the formula cells of every sheet but ``skip`` (sheet names), as new parts in
    ``replace`` (a part already there is worked on); returns whether every such formula cell got one."""
    per_sheet = values_mod.book_values(config, result, today or dt.date.today(), pkg.defined_names())
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
