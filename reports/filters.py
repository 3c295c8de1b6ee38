"""The date-range filter of every report: parsed and validated once, for the page, the CSV export
and the publish form alike."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms

# Dates outside this window are typing mistakes (a year 20025), not a range anyone means; refusing
# them also keeps datetime arithmetic far from its limits.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class DateRange:
    """Inclusive dates; None on either side means "unbounded". Days are UTC days, like the months
    of the reports (reports.definitions.YearMonth)."""

    start: dt.date | None = None
    end: dt.date | None = None

    def placed_at_filter(self, prefix: str = "") -> dict[str, dt.datetime]:
        """ORM lookups selecting the orders placed in this range, in whole UTC days."""
        lookups = {}
        if self.start:
            lookups[f"{prefix}placed_at__gte"] = _midnight(self.start)
        if self.end:
            lookups[f"{prefix}placed_at__lt"] = _midnight(self.end + dt.timedelta(days=1))
        return lookups

    def as_query(self) -> dict[str, str]:
        bounds = {"start": self.start, "end": self.end}
        return {name: day.isoformat() for name, day in bounds.items() if day}

    def __str__(self) -> str:
        if self.start and self.end:
            return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
        if self.start:
            return f"from {self.start:%Y-%m-%d}"
        if self.end:
            return f"until {self.end:%Y-%m-%d}"
        return "all dates"


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


class DateRangeForm(forms.Form):
    start = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Start must be a date written YYYY-MM-DD."},
    )
    end = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "End must be a date written YYYY-MM-DD."},
    )

    def clean_start(self) -> dt.date | None:
        return _within_supported_years(self.cleaned_data["start"], "Start")

    def clean_end(self) -> dt.date | None:
        return _within_supported_years(self.cleaned_data["end"], "End")

    def clean(self) -> dict[str, Any]:
        super().clean()
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The start date must be on or before the end date.")
        return self.cleaned_data

    def date_range(self) -> DateRange:
        """The validated range; call only after is_valid() returned True."""
        return DateRange(self.cleaned_data["start"], self.cleaned_data["end"])

    def error_text(self) -> str:
        return " ".join(str(message) for messages in self.errors.values() for message in messages)


def _within_supported_years(day: dt.date | None, name: str) -> dt.date | None:
    if day and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise forms.ValidationError(
            f"{name} must be between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}."
        )
    return day
