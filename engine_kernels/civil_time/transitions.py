"""Civil time from the pinned tz database: every offset change of a zone, and UTC -> local through them.

`zone_transitions` asks `zoneinfo` (reading the pinned tzdata wheel: see engine_kernels.civil_time.tzdb)
for the zone's UTC offset, DST flag and abbreviation once a day over a window, and bisects each
day on which any of them changes down to the second. Offset changes in the tz database are weeks
apart, so a daily probe sees every one; the 2A validation compares the resulting table with
`zoneinfo` at every transition and on random instants.

The table is the engine's only clock: `utc_to_local` converts µs timestamps by binary search in
it, with no Python per row.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from engine_kernels.civil_time.tzdb import use_pinned_tzdata

__all__ = ["Transitions", "offset_period", "utc_to_local", "zone_transitions", "zones_transitions"]

_UTC = dt.timezone.utc
_DAY = 86_400


@dataclass(frozen=True)
class Transitions:
    """Offset periods of many zones, sorted by (zone, utc_start).

    Zone z owns rows offsets[z]:offsets[z+1]; its first row starts at the window start and gives
    the offset then in force, every later row is a change. Times are seconds since the epoch.
    """

    tzids: tuple[str, ...]
    offsets: np.ndarray  # int64[len(tzids) + 1]
    utc_start: np.ndarray  # int64 seconds
    offset_seconds: np.ndarray  # int32
    is_dst: np.ndarray  # bool
    abbreviation: np.ndarray  # object (str)


def _state(zone: zoneinfo.ZoneInfo, t: int) -> tuple[int, bool, str]:
    local = dt.datetime.fromtimestamp(t, _UTC).astimezone(zone)
    offset = local.utcoffset()
    dst = local.dst()
    return int(offset.total_seconds()), bool(dst and dst.total_seconds() != 0), local.tzname() or ""


def zone_transitions(tzid: str, start: int, end: int) -> list[tuple[int, int, bool, str]]:
    """(utc_start, offset_seconds, is_dst, abbreviation) of `tzid` over [start, end) in epoch seconds."""
    use_pinned_tzdata()
    zone = zoneinfo.ZoneInfo(tzid)
    rows = [(start, *_state(zone, start))]
    previous = rows[0][1:]
    t = start
    while t < end:
        step = min(_DAY, end - t)
        state = _state(zone, t + step)
        if state != previous:
            low, high = t, t + step  # state(low) == previous != state(high)
            while high - low > 1:
                mid = (low + high) // 2
                if _state(zone, mid) == previous:
                    low = mid
                else:
                    high = mid
            rows.append((high, *_state(zone, high)))
            previous = rows[-1][1:]
            t = high
        else:
            t += step
    return rows


def zones_transitions(tzids: list[str], start: dt.datetime, end: dt.datetime) -> Transitions:
    """The transitions of every zone over [start, end), zones in sorted order."""
    names = tuple(sorted(set(tzids)))
    lo, hi = int(start.timestamp()), int(end.timestamp())
    if hi <= lo:
        raise ValueError(f"transition window is empty: {start} .. {end}")
    per_zone = [zone_transitions(z, lo, hi) for z in names]
    counts = np.array([len(r) for r in per_zone], np.int64)
    flat = [row for rows in per_zone for row in rows]
    return Transitions(
        tzids=names,
        offsets=np.concatenate(([0], np.cumsum(counts))),
        utc_start=np.array([r[0] for r in flat], np.int64),
        offset_seconds=np.array([r[1] for r in flat], np.int32),
        is_dst=np.array([r[2] for r in flat], bool),
        abbreviation=np.array([r[3] for r in flat], object),
    )


@njit(cache=True)
def offset_period(starts, offsets, zone, t):
    """Row of the offset period of `zone` holding instant t: the zone's last period starting at or
    before t, or its first if t precedes them all. `starts` and `offsets` are a Transitions' utc_start
    (in the unit of t) and offsets; t is one instant (in numba code) or an array of them."""
    lo, hi = offsets[zone], offsets[zone + 1]
    return lo + np.maximum(np.searchsorted(starts[lo:hi], t, side="right") - 1, 0)


@njit(parallel=True, cache=True)
def _to_local(ts_us, zone, offsets, starts_us, offset_s, out):
    for i in prange(ts_us.shape[0]):
        out[i] = ts_us[i] + np.int64(offset_s[offset_period(starts_us, offsets, zone[i], ts_us[i])]) * 1_000_000


def utc_to_local(ts_utc_us: np.ndarray, zone: np.ndarray, table: Transitions) -> np.ndarray:
    """Local wall-clock µs (as naive µs since the epoch) of UTC µs timestamps in zones `zone`
    (indices into table.tzids)."""
    ts = np.ascontiguousarray(ts_utc_us, np.int64)
    z = np.ascontiguousarray(zone, np.int64)
    if ts.shape != z.shape:
        raise ValueError(f"timestamps and zones must have one shape, got {ts.shape} and {z.shape}")
    if z.size and (z.min() < 0 or z.max() >= len(table.tzids)):
        raise ValueError(f"zone indices must lie in 0..{len(table.tzids) - 1}")
    out = np.empty_like(ts)
    _to_local(ts, z, table.offsets, table.utc_start * 1_000_000, table.offset_seconds, out)
    return out
