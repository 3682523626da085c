"""National public holidays per country and date, from the `holidays` package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays
import pyarrow as pa

from .packages import require

__all__ = ["HolidaySet", "build_holidays"]

_SCHEMA = pa.schema([
    ("country_iso", pa.string()), ("date", pa.date32()),
    ("name", pa.string()), ("kind", pa.string()),
])
# English names where the country's calendar offers them, so names compare across countries;
# otherwise the calendar's own default language.
_ENGLISH = ("en_US", "en_GB")


@dataclass(frozen=True)
class HolidaySet:
    """Holiday rows (`country_iso`, `date`, `name`, `kind`) and the requested codes with no calendar."""

    table: pa.Table
    unsupported: list[str]


def _language(calendar: type) -> str | None:
    """English variant the calendar supports, or None for its default language."""
    supported = getattr(calendar, "supported_languages", ())
    return next((lang for lang in _ENGLISH if lang in supported), None)


def build_holidays(countries: list[str], start: date, end: date) -> HolidaySet:
    """Holidays of each country between `start` and `end` inclusive, sorted by (country, date, name).

    Only the calendar's default category is used (public holidays, `kind` = "public"), national
    level only (no subdivisions), observed-on days included. Several holidays on one day give one
    row each; the same name twice on a day gives one row.
    """
    require("holidays")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    supported = holidays.list_supported_countries()
    years = range(start.year, end.year + 1)
    rows: set[tuple[str, date, str, str]] = set()
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
                rows.update((code, day, name, kind) for name in calendar.get_list(day))
    ordered = sorted(rows)
    table = pa.Table.from_arrays(
        [pa.array([r[i] for r in ordered], _SCHEMA.field(i).type) for i in range(len(_SCHEMA))],
        schema=_SCHEMA,
    )
    return HolidaySet(table=table, unsupported=unsupported)
