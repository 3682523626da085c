"""Segment 5A calendar of one scenario: the overlay events over the horizon, in local time.

Every window is naive local time, applied in each row's own zone: a holiday is the country's
local day 00:00-24:00 wherever its sites are, never a UTC day. Events are returned as columns
(see `EventColumns`); engine_kernels.intensity.calendar evaluates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from engine_kernels.intensity.calendar import campaign_start, payday_dates
from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import text_id, unit_keys, unit_uniforms

__all__ = ["Campaign", "CalendarPolicy", "EventColumns", "scenario_events"]

_OUTAGE = substreams.OUTAGE


@dataclass(frozen=True)
class Campaign:
    name: str
    date: str
    days: int
    ramp_in_hours: int
    countries: tuple[str, ...] | None  # None: every country
    factor: Mapping[str, float]


@dataclass(frozen=True)
class CalendarPolicy:
    holiday_factor: Mapping[str, float]
    payday_default: str
    payday_by_country: Mapping[str, str]
    biweekly_anchor: dt.date
    payday_hold_hours: int
    payday_ramp_out_hours: int
    payday_factor: Mapping[str, float]
    campaigns: tuple[Campaign, ...]
    outage_probability: float
    outage_hours: tuple[int, int]
    outage_factor: float
    scenario_class_factor: Mapping[str, Mapping[str, float]]
    scenario_outage_multiplier: Mapping[str, float]


@dataclass
class EventColumns:
    """The calendar's events as columns; None marks "any" in country and demand_class, -1 in row.

    kind is one of engine_kernels.intensity.calendar.TYPES; start and end bound the window in naive
    local time.
    """

    kind: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    country: list[str | None] = field(default_factory=list)
    demand_class: list[str | None] = field(default_factory=list)
    row: list[int] = field(default_factory=list)  # index of a (merchant, country, zone) row or -1
    start: list[dt.datetime] = field(default_factory=list)
    end: list[dt.datetime] = field(default_factory=list)
    ramp_in_hours: list[int] = field(default_factory=list)
    ramp_out_hours: list[int] = field(default_factory=list)
    factor: list[float] = field(default_factory=list)

    def add(self, kind, name, country, klass, start, end, factor, ramp_in=0, ramp_out=0, row=-1):
        self.kind.append(kind)
        self.name.append(name)
        self.country.append(country)
        self.demand_class.append(klass)
        self.row.append(row)
        self.start.append(start)
        self.end.append(end)
        self.ramp_in_hours.append(ramp_in)
        self.ramp_out_hours.append(ramp_out)
        self.factor.append(factor)

    def add_by_class(self, kind, name, country, factors: Mapping[str, float], start, end, ramp_in=0, ramp_out=0):
        for klass, f in factors.items():
            self.add(kind, name, country, klass, start, end, f, ramp_in, ramp_out)


def _midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day)


def _business_day(weekend_mask: int, holidays: set[dt.date]) -> Callable[[dt.date], bool]:
    return lambda d: not (weekend_mask >> d.weekday() & 1) and d not in holidays


def scenario_events(
    policy: CalendarPolicy, scenario: str, first: dt.date, last: dt.date, countries: Sequence[str],
    weekend_mask: Mapping[str, int], holidays: Mapping[str, Mapping[dt.date, str]],
    row_merchant: np.ndarray, row_country: Sequence[str], row_tzid: Sequence[str], keys: Callable[[str], int],
) -> tuple[EventColumns, dict[str, int]]:
    """Events of one scenario over the local days first..last of the active `countries`.

    holidays[country] maps local dates to holiday names; rows are the (merchant, country, zone)
    rows of 5A's profile, which may each have outages.
    """
    out = EventColumns()
    days = (last - first).days + 1
    for country in countries:
        national = {d: n for d, n in holidays.get(country, {}).items() if first - dt.timedelta(days=31) <= d <= last}
        for d, name in sorted(national.items()):
            if first <= d <= last:
                out.add_by_class("holiday", name, country, policy.holiday_factor, _midnight(d),
                                 _midnight(d) + dt.timedelta(days=1))
        convention = policy.payday_by_country.get(country, policy.payday_default)
        business = _business_day(weekend_mask.get(country, 0b1100000), set(national))
        length = dt.timedelta(hours=policy.payday_hold_hours + policy.payday_ramp_out_hours)
        # A payday just before the horizon still lifts its first day: look back over the ramp.
        for d in payday_dates(convention, first - length, last, business, policy.biweekly_anchor):
            out.add_by_class("payday", convention, country, policy.payday_factor, _midnight(d), _midnight(d) + length,
                             0, policy.payday_ramp_out_hours)
    active = set(countries)
    for campaign in policy.campaigns:
        for year in range(first.year - 1, last.year + 2):
            day0 = _midnight(campaign_start(campaign.date, year))
            start, end = day0 - dt.timedelta(hours=campaign.ramp_in_hours), day0 + dt.timedelta(days=campaign.days)
            if end <= _midnight(first) or start >= _midnight(last) + dt.timedelta(days=1):
                continue
            for country in (countries if campaign.countries is None else sorted(active & set(campaign.countries))):
                out.add_by_class("campaign", campaign.name, country, campaign.factor, start, end,
                                 campaign.ramp_in_hours, 0)
    horizon = (_midnight(first), _midnight(last) + dt.timedelta(days=1))
    out.add_by_class("stress", scenario, None, policy.scenario_class_factor[scenario], *horizon)
    draws = _outages(policy, scenario, first, days, row_merchant, row_country, row_tzid, keys, out)
    return out, draws


def _outages(policy, scenario, first, days, row_merchant, row_country, row_tzid, keys, out) -> dict[str, int]:
    """Per (row, local day) a keyed chance of one outage of whole hours, starting on the hour."""
    rows = len(row_merchant)
    p = policy.outage_probability * policy.scenario_outage_multiplier[scenario]
    if rows == 0 or days <= 0 or p <= 0:
        return {}
    ordinal = first.toordinal() + np.arange(days, dtype=np.uint64)
    ids = np.column_stack([
        np.full(rows * days, text_id(scenario), np.uint64),
        np.repeat(np.asarray(row_merchant, np.uint64), days),
        np.repeat(np.array([text_id(c) for c in row_country], np.uint64), days),
        np.repeat(np.array([text_id(z) for z in row_tzid], np.uint64), days),
        np.tile(ordinal, rows),
    ])
    u = unit_uniforms(unit_keys(keys(_OUTAGE), ids), 3)
    lo, hi = policy.outage_hours
    for i in np.flatnonzero(u[:, 0] < p):
        r, d = divmod(int(i), days)
        start = _midnight(first + dt.timedelta(days=d)) + dt.timedelta(hours=int(u[i, 1] * 24))
        hours = lo + int(u[i, 2] * (hi - lo + 1))
        out.add("outage", "outage", row_country[r], None, start, start + dt.timedelta(hours=hours),
                policy.outage_factor, row=r)
    return {_OUTAGE: int(u.size)}
