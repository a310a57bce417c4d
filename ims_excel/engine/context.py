"""What the engine needs to know besides the records: who, which period, as of when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ims_excel import periods
from ims_excel.rules import rulebook

FREQUENCIES = ("monthly", "quarterly")
IMS_TAXPAYER_TYPES = ("normal", "sez", "casual")
"""Rule D29 (S1 FAQ 9): only these registrations have IMS."""


def pre_ims_period(period: int, frequency: str = "monthly") -> str:
    """Why a return period cannot be prepared with IMS ("" when it can): D28, S1, S2.

    IMS covers GSTR-2B periods from ``ims_start_period`` (Oct-2024). A return with a month before that has no
    IMS: every record of its GSTR-2B is D28 (NOT_IN_IMS_PRE_OCT24, bucket none), so it would reach no
    GSTR-2B, GSTR-3B or dashboard summary. Refused instead; the text starts with the period as typed.

    >>> pre_ims_period(periods.parse("2024-10")), pre_ims_period(periods.parse("2024-09"))[:26]
    ('', '2024-09 is before Oct-2024')
    >>> pre_ims_period(periods.parse("2024-08"), "quarterly")[:7]  # the Jul-Sep 2024 quarter
    '2024-08'
    """
    start = rulebook().period_param("ims_start_period")
    first = period - period % 3 if frequency == "quarterly" else period
    if first >= start:
        return ""
    return (f"{periods.iso(period)} is before {periods.label(start)}, when IMS started (ims-rules.md D28; S1, S2): "
            f"no record of it can be actioned in IMS and none would reach the GSTR-2B, GSTR-3B or IMS summaries. "
            f"Use {periods.iso(start)} or later")


@dataclass(frozen=True)
class Context:
    """The recipient (or, for outward records, the supplier) and the return being prepared.

    ``period`` is the GSTR-3B return period; for a quarterly (QRMP) filer any
    month of the quarter names the quarter.
    """

    gstin: str
    period: int
    frequency: str = "monthly"
    as_of: dt.date = field(default_factory=dt.date.today)
    annual_return_date: dt.date | None = None
    gstr3b_filed: bool = False
    state: str = ""
    taxpayer_type: str = "normal"
    addback_table: dict[str, str] | None = None
    negative_4a_to_4b: bool | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be monthly or quarterly, not {self.frequency!r}")
        problem = pre_ims_period(self.period, self.frequency)
        if problem:
            raise ValueError(f"return period {problem}")
        if not self.state:
            object.__setattr__(self, "state", self.gstin[:2])

    @classmethod
    def make(cls, gstin: str, period: str, **kw: object) -> "Context":
        return cls(gstin=gstin, period=periods.parse(period), **kw)  # type: ignore[arg-type]

    @property
    def window(self) -> tuple[int, int]:
        """First and last GSTR-2B month of this return (one month, or the quarter)."""
        if self.frequency == "quarterly":
            end = periods.quarter_end(self.period)
            return end - 2, end
        return self.period, self.period

    @property
    def return_period(self) -> int:
        return self.window[1]

    @property
    def has_ims(self) -> bool:
        return self.taxpayer_type in IMS_TAXPAYER_TYPES

    @property
    def addback_tables(self) -> dict[str, str]:
        p = rulebook().params["addback_table"]
        base = {"default": p["default"], "eco": p["eco"], **p["by_supply_type"]}
        return {**base, **(self.addback_table or {})}

    @property
    def move_negative_4a(self) -> bool:
        if self.negative_4a_to_4b is not None:
            return self.negative_4a_to_4b
        return bool(rulebook().param("negative_4a_to_4b"))

    def as_dict(self) -> dict[str, object]:
        return {
            "gstin": self.gstin,
            "period": periods.iso(self.return_period),
            "frequency": self.frequency,
            "state": self.state,
            "as_of": self.as_of.isoformat(),
            "annual_return_date": self.annual_return_date.isoformat() if self.annual_return_date else None,
            "gstr3b_filed": self.gstr3b_filed,
            "taxpayer_type": self.taxpayer_type,
            "rules_version": rulebook().version,
        }
