"""Cell formats, created once per workbook and shared (XlsxWriter keeps each distinct one).

Indian grouping (lakh/crore) has no built-in Excel format.

* Input amounts are never negative (normalise refuses them, a data validation
  stops them), so they get the three-section conditional format of
  formats-and-market.md section 7 (:data:`INDIAN_AMOUNT`).
* Signed amounts (computed columns, summary cells) must not use it:
  LibreOffice drops the minus sign of a negative shown by the third section
  and Excel adds one, so the two would disagree. They get the plain
  ``#,##0.00`` plus two conditional-formatting rules that switch to
  single-section lakh / crore patterns when ABS(value) >= 1,00,000 /
  1,00,00,000 (:func:`indian_grouping`). A single-section format shows the
  minus sign itself in both applications: -1,02,360.03 renders right in both.
"""

from __future__ import annotations

from typing import Any, Sequence

from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

INDIAN_AMOUNT = r"[>=10000000]##\,##\,##\,##0.00;[>=100000]##\,##\,##0.00;##,##0.00"
SIGNED_AMOUNT = "#,##0.00"
LAKH = r"##\,##\,##0.00"
CRORE = r"##\,##\,##\,##0.00"
DATE = "dd-mm-yyyy"
TEXT = "@"
COUNT = "#,##0"

NUM_FORMATS = {"text": TEXT, "enum": TEXT, "flag": TEXT, "period": TEXT,
               "date": DATE, "amount": INDIAN_AMOUNT, "signed": SIGNED_AMOUNT, "count": COUNT, "general": "General",
               "bool": "General"}
"""Number format by column kind (records.Kind plus count/general/bool for computed columns)."""

INPUT_FILL = "#FFFFFF"
COMPUTED_FILL = "#EDEDED"
HEADER_FILL = "#1F4E78"
RED_FILL, RED_FONT = "#FFC7CE", "#9C0006"
AMBER_FILL, AMBER_FONT = "#FFEB9C", "#9C5700"


class Styles:
    """Format factory bound to one XlsxWriter workbook; equal requests share one format."""

    def __init__(self, workbook: Any):
        self.workbook = workbook
        self._cache: dict[tuple, Any] = {}

    def get(self, **props: Any) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.workbook.add_format(dict(props))
        return self._cache[key]

    def input(self, kind: str) -> Any:
        """An unlocked input cell of a column kind."""
        return self.get(num_format=NUM_FORMATS[kind], locked=False)

    def computed(self, kind: str) -> Any:
        """A locked formula cell of a column kind (amounts are signed)."""
        return self.get(num_format=NUM_FORMATS[_signed(kind)], locked=True, bg_color=COMPUTED_FILL,
                        font_color="#203864")

    def header(self) -> Any:
        return self.get(bold=True, font_color="#FFFFFF", bg_color=HEADER_FILL, text_wrap=True,
                        valign="top", border=1)

    def title(self) -> Any:
        return self.get(bold=True, font_size=16, font_color=HEADER_FILL)

    def subtitle(self) -> Any:
        return self.get(bold=True, font_size=12, font_color=HEADER_FILL)

    def label(self) -> Any:
        return self.get(bold=True)

    def note(self) -> Any:
        return self.get(italic=True, font_color="#595959", text_wrap=True, valign="top")

    def wrap(self) -> Any:
        return self.get(text_wrap=True, valign="top")

    def cell(self, kind: str, *, bold: bool = False) -> Any:
        """A locked summary cell (amounts are signed)."""
        return self.get(num_format=NUM_FORMATS[_signed(kind)], locked=True, bold=bold, border=1)

    def indian_grouping(self, ws: Any, first_row: int, first_col: int, last_row: int, last_col: int,
                        more: Sequence[tuple[int, int]] = ()) -> None:
        """Lakh/crore grouping for signed amounts in a range (0-based, inclusive), by conditional format;
        ``more``: further (first column, last column) runs on the same rows, held by the same two rules.

        One ``<conditionalFormatting>`` with a multi-range ``sqref`` (``BE2:BH1048576 CM2:CP1048576 ...``) and
        one pair of rules, as Excel keeps a format applied to several ranges at once (XlsxWriter's
        ``multi_range``), rather than one element and pair per column. Excel's own files compared with, from
        XlsxWriter's comparison set (``xlsxwriter/test/comparison/xlsx_files/``): ``cond_format07.xlsx`` (two
        rules in one element over a range), ``cond_format14.xlsx`` (``stopIfTrue="1"`` before ``operator``);
        none of them holds a multi-range ``sqref``, which is ``multi_range``'s (its worksheet unit test
        ``test_cond_format18.py``).
        LibreOffice loads both layouts in the same time (README "Performance", issue 9). Each formula is
        relative to the first range's top-left cell, as in every range the rule applies to; ``upgrade``
        compares rules that way (``leftovers.relative``), so a book with the per-column pairs keeps them as
        the template's.
        """
        ref = xl_rowcol_to_cell(first_row, first_col)
        ranges = [(first_col, last_col), *more]
        multi = " ".join(xl_range(first_row, a, last_row, b) for a, b in ranges)
        for limit, pattern in ((10_000_000, CRORE), (100_000, LAKH)):
            ws.conditional_format(first_row, first_col, last_row, last_col, {
                "type": "formula", "criteria": f"=ABS({ref})>={limit}",
                "format": self.get(num_format=pattern), "stop_if_true": True,
                **({"multi_range": multi} if more else {})})

    def red(self) -> Any:
        return self.get(bg_color=RED_FILL, font_color=RED_FONT)

    def amber(self) -> Any:
        return self.get(bg_color=AMBER_FILL, font_color=AMBER_FONT)


def _signed(kind: str) -> str:
    return "signed" if kind == "amount" else kind
