"""National public holidays per country and date, from the `holidays` package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import holidays

from .packages import require

__all__ = ["Holiday", "HolidaySet", "build_holidays"]

# English names where the country's calendar offers them, so names compare across countries;
# otherwise the calendar's own default language.
_ENGLISH = ("en_US", "en_GB")


class Holiday(NamedTuple):
    country: str  # ISO alpha-2
    day: date
    name: str
    kind: str  # the calendar's category, "public"


@dataclass(frozen=True)
class HolidaySet:
    """Holidays sorted by (country, day, name) and the requested codes with no calendar."""

    holidays: list[Holiday]
    unsupported: list[str]


def _language(calendar: type) -> str | None:
    """English variant the calendar supports, or None for its default language."""
    supported = getattr(calendar, "supported_languages", ())
    return next((lang for lang in _ENGLISH if lang in supported), None)


def build_holidays(countries: list[str], start: date, end: date) -> HolidaySet:
    """Holidays of each country between `start` and `end` inclusive, sorted by (country, date, name).

    Only the calendar's default category is used (public holidays, `kind` = "public"), national
    level only (no subdivisions), observed-on days included. Several holidays on one day give one
    entry each; the same name twice on a day gives one entry.
    """
    require("holidays")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    supported = holidays.list_supported_countries()
    years = range(start.year, end.year + 1)
    found: set[Holiday] = set()
    unsupported = []
    for code in sorted(set(countries)):
        if code not in supported:
            unsupported.append(code)
            continue
        calendar = holidays.country_holidays(code)
        kind = calendar.default_category
        calendar = holidays.country_holidays(
            code, years=years, language=_language(type(calendar)), categories=(kind,))
        for day in calendar:
            if start <= day <= end:
                found.update(Holiday(code, day, name, kind) for name in calendar.get_list(day))
    return HolidaySet(holidays=sorted(found), unsupported=unsupported)
