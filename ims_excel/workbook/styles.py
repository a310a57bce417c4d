"""Cell formats, created once per workbook and shared (XlsxWriter keeps each distinct one).

Indian grouping (lakh/crore) has no built-in Excel format; the three-section
conditional format of formats-and-market.md section 7 is used for amounts. It
groups positives the Indian way; negatives below -1,00,000 fall back to
Western grouping (three sections are all a format can hold).
"""

from __future__ import annotations

from typing import Any

INDIAN_AMOUNT = r"[>=10000000]##\,##\,##\,##0.00;[>=100000]##\,##\,##0.00;##,##0.00"
DATE = "dd-mm-yyyy"
TEXT = "@"
COUNT = "#,##0"

NUM_FORMATS = {"text": TEXT, "enum": TEXT, "flag": TEXT, "period": TEXT,
               "date": DATE, "amount": INDIAN_AMOUNT, "count": COUNT, "general": "General",
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
        """A locked formula cell of a column kind."""
        return self.get(num_format=NUM_FORMATS[kind], locked=True, bg_color=COMPUTED_FILL,
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
        """A locked summary cell."""
        return self.get(num_format=NUM_FORMATS[kind], locked=True, bold=bold, border=1)

    def red(self) -> Any:
        return self.get(bg_color=RED_FILL, font_color=RED_FONT)

    def amber(self) -> Any:
        return self.get(bg_color=AMBER_FILL, font_color=AMBER_FONT)
