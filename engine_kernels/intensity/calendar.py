"""Segment 5A calendar: overlay events in local time and the factor they put on each local hour.

An event is a window [start, end) of naive local time (the clock of whichever zone a row lives
in), a peak factor and linear ramps in and out. It applies to every row (global), the rows of one
demand class, of one country, of one country and class, or one (merchant, country, zone) row.
For each local hour, per event type the most specific scope present wins; within that scope
outages and holidays take the minimum and the other types the maximum; the types multiply and
the product is clamped to [0, 5].

Around a UTC day starting at D, local hours are numbered from D − 14 h (the earliest local clock
on Earth is UTC − 12 h, the latest UTC + 14 h): column k is naive local time [D − 14 h + k h,
D − 13 h + k h), and LOCAL_HOURS columns cover every zone's local clock over the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit, prange

__all__ = ["CONVENTIONS", "LOCAL_HOURS", "LOCAL_ORIGIN_HOURS", "TYPES", "Events", "campaign_start", "overlay_hours",
           "payday_dates"]

TYPES = ("holiday", "payday", "campaign", "outage", "stress")
_TAKES_MINIMUM = np.array([t in ("holiday", "outage") for t in TYPES])
LOCAL_ORIGIN_HOURS = 14
LOCAL_HOURS = 54
CLAMP = (0.0, 5.0)
CONVENTIONS = ("last_business_day", "fifteenth_and_last", "biweekly_fridays", "twenty_fifth")
_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class Events:
    """Overlay events as arrays; -1 in country / demand_class / row means "any"."""

    kind: np.ndarray  # int8 index into TYPES
    country: np.ndarray  # int32 index into the caller's country list
    demand_class: np.ndarray  # int16 index into engine_kernels.vocabulary.DEMAND_CLASSES
    row: np.ndarray  # int64 index of one (merchant, country, zone) row
    start_us: np.ndarray  # int64 naive local µs since 1970-01-01 00:00
    end_us: np.ndarray
    ramp_in_us: np.ndarray
    ramp_out_us: np.ndarray
    peak: np.ndarray  # float64

    @classmethod
    def empty(cls) -> Events:
        i = lambda t: np.empty(0, t)  # noqa: E731
        return cls(i(np.int8), i(np.int32), i(np.int16), i(np.int64), i(np.int64), i(np.int64), i(np.int64),
                   i(np.int64), i(np.float64))

    def take(self, index: np.ndarray) -> Events:
        return Events(*(np.ascontiguousarray(getattr(self, f)[index]) for f in self.__dataclass_fields__))


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), order.astype(np.int64)


@njit(cache=True)
def _apply(e, t0, rank, row_class, kind, demand_class, start, end, ramp_in, ramp_out, peak, minimum, best, value):
    if demand_class[e] >= 0 and demand_class[e] != row_class:
        return
    if not (start[e] <= t0 < end[e]):
        return
    mid = t0 + _US_PER_HOUR // 2
    weight = 1.0
    if ramp_in[e] > 0:
        weight = min(weight, (mid - start[e]) / ramp_in[e])
    if ramp_out[e] > 0:
        weight = min(weight, (end[e] - mid) / ramp_out[e])
    f = 1.0 + (peak[e] - 1.0) * weight
    t = kind[e]
    if rank > best[t]:
        best[t] = rank
        value[t] = f
    elif rank == best[t]:
        value[t] = min(value[t], f) if minimum[t] else max(value[t], f)


@njit(parallel=True, cache=True)
def _overlay(origin_us, row_country, row_class, global_events, country_offsets, country_events, row_offsets,
             row_events, kind, country, demand_class, start, end, ramp_in, ramp_out, peak, minimum, lo, hi, out):
    n_types = minimum.shape[0]
    for r in prange(row_country.shape[0]):
        best = np.empty(n_types, np.int64)
        value = np.empty(n_types)
        c = row_country[r]
        for k in range(out.shape[1]):
            t0 = origin_us + k * _US_PER_HOUR
            best[:] = -1
            value[:] = 1.0
            for i in range(global_events.shape[0]):
                e = global_events[i]
                _apply(e, t0, 1 if demand_class[e] >= 0 else 0, row_class[r], kind, demand_class, start, end,
                       ramp_in, ramp_out, peak, minimum, best, value)
            if c >= 0:
                for i in range(country_offsets[c], country_offsets[c + 1]):
                    e = country_events[i]
                    _apply(e, t0, 3 if demand_class[e] >= 0 else 2, row_class[r], kind, demand_class, start, end,
                           ramp_in, ramp_out, peak, minimum, best, value)
            for i in range(row_offsets[r], row_offsets[r + 1]):
                e = row_events[i]
                _apply(e, t0, 5 if demand_class[e] >= 0 else 4, row_class[r], kind, demand_class, start, end,
                       ramp_in, ramp_out, peak, minimum, best, value)
            f = 1.0
            for t in range(n_types):
                f *= value[t]
            out[r, k] = min(max(f, lo), hi)


def overlay_hours(day_start_utc_us: int, row_country: np.ndarray, row_class: np.ndarray, events: Events,
                  n_countries: int) -> np.ndarray:
    """float64[rows, LOCAL_HOURS]: the overlay factor of each row on each local hour around the UTC
    day starting at day_start_utc_us (column k = naive local hour D − 14 h + k h)."""
    origin = int(day_start_utc_us) - LOCAL_ORIGIN_HOURS * _US_PER_HOUR
    row_country = np.ascontiguousarray(row_country, np.int64)
    row_class = np.ascontiguousarray(row_class, np.int64)
    rows = row_country.size
    if row_class.shape != row_country.shape:
        raise ValueError("row_country and row_class need one entry per row")
    if events.row.size and events.row.max() >= rows:
        raise ValueError(f"an event names row {int(events.row.max())} of {rows}")
    # Only events whose window meets these local hours, indexed by scope.
    near = np.flatnonzero((events.start_us < origin + LOCAL_HOURS * _US_PER_HOUR) & (events.end_us > origin))
    day = events.take(near)
    own = day.row >= 0
    national = ~own & (day.country >= 0)
    country_offsets, order = _csr(day.country[national].astype(np.int64), max(n_countries, 1))
    shared = (np.flatnonzero(~own & ~national).astype(np.int64), country_offsets,
              np.flatnonzero(national)[order].astype(np.int64))
    arrays = (day.kind.astype(np.int64), day.country.astype(np.int64), day.demand_class.astype(np.int64), day.start_us,
              day.end_us, day.ramp_in_us, day.ramp_out_us, day.peak.astype(np.float64), _TAKES_MINIMUM, *CLAMP)

    def run(country, klass, row_offsets, row_events):
        out = np.empty((country.size, LOCAL_HOURS))
        _overlay(np.int64(origin), country, klass, *shared, row_offsets, row_events, *arrays, out)
        return out

    # Rows of one country and class share every event but their own: evaluate each pair once,
    # then redo the few rows that have events of their own (outages) in full.
    n_classes = int(row_class.max()) + 1 if rows else 1
    pairs, inverse = np.unique(row_country * n_classes + row_class, return_inverse=True)
    none = np.zeros(pairs.size + 1, np.int64)
    out = run(pairs // n_classes, pairs % n_classes, none, np.empty(0, np.int64))[inverse.ravel()]
    special = np.unique(day.row[own])
    if special.size:
        local = np.searchsorted(special, day.row[own])
        offsets, row_order = _csr(local, special.size)
        out[special] = run(row_country[special], row_class[special], offsets,
                           np.flatnonzero(own)[row_order].astype(np.int64))
    return out


def payday_dates(convention: str, first: dt.date, last: dt.date, is_business_day: Callable[[dt.date], bool],
                 biweekly_anchor: dt.date) -> list[dt.date]:
    """Paydays of a convention whose (moved) date falls in [first, last]. A nominal payday on a
    day that is not a business day moves to the latest business day before it."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown payday convention {convention!r}; use one of {', '.join(CONVENTIONS)}")

    def back(d: dt.date) -> dt.date:
        for _ in range(14):
            if is_business_day(d):
                return d
            d -= dt.timedelta(days=1)
        return d

    nominal: list[dt.date] = []
    if convention == "biweekly_fridays":
        if biweekly_anchor.weekday() != 4:
            raise ValueError(f"the biweekly anchor {biweekly_anchor} is not a Friday")
        d = biweekly_anchor + dt.timedelta(days=14 * ((first - biweekly_anchor).days // 14 - 1))
        while d <= last + dt.timedelta(days=14):
            nominal.append(d)
            d += dt.timedelta(days=14)
    else:
        year, month = first.year, first.month - 1
        if month == 0:
            year, month = year - 1, 12
        while dt.date(year, month, 1) <= last + dt.timedelta(days=31):
            end = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
            days = {"last_business_day": [end], "fifteenth_and_last": [dt.date(year, month, 15), end],
                    "twenty_fifth": [dt.date(year, month, 25)]}[convention]
            nominal += days
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return sorted({back(d) for d in nominal if first <= back(d) <= last})


def campaign_start(rule: str, year: int) -> dt.date:
    """First day of a campaign in a year: "MM-DD", or black_friday / cyber_monday (the Friday and the
    Monday after the fourth Thursday of November)."""
    if rule in ("black_friday", "cyber_monday"):
        first = dt.date(year, 11, 1)
        thanksgiving = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
        return thanksgiving + dt.timedelta(days=1 if rule == "black_friday" else 4)
    month, day = (int(x) for x in rule.split("-"))
    return dt.date(year, month, day)
