"""Segment 5A's evaluator: expected arrivals λ of every (merchant, zone) row in every UTC bucket of a day.

A row has a weekly volume V (arrivals per local week) and a weekly shape s (168 local-week
hours, Monday 00:00 first, summing to 1). Over a UTC bucket [t0, t1) the row expects

    λ = V · Σ_h s[h] · o(h) · |[t0, t1) ∩ local hour h| / 1 h

where local time is UTC plus the zone's offset from the transition table (engine_kernels.civil_time.transitions)
and o the calendar overlay of the row on that local hour (engine_kernels.intensity.calendar: LOCAL_HOURS
columns from local D − 14 h for the UTC day starting at D).
A bucket is walked in pieces that each lie in one local hour and one offset period, so half-hour
and 45-minute zones, and offset changes inside a bucket (St John's changes at 05:30 UTC), are
integrated exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine_kernels.civil_time.transitions import Transitions, offset_period
from engine_kernels.intensity.calendar import LOCAL_HOURS, LOCAL_ORIGIN_HOURS

__all__ = ["bucket_intensity", "bucket_offsets", "local_week_hour"]

_US_PER_HOUR = 3_600_000_000
_US_PER_WEEK = 168 * _US_PER_HOUR
# 1970-01-01 was a Thursday: shifting by three days puts Monday 00:00 at week position 0.
_EPOCH_MONDAY_SHIFT_US = 3 * 24 * _US_PER_HOUR


@njit(cache=True)
def local_week_hour(local_us):
    """Hour of the local week (0 = Monday 00:00-01:00) of a naive local µs timestamp."""
    return ((local_us + _EPOCH_MONDAY_SHIFT_US) % _US_PER_WEEK) // _US_PER_HOUR


@njit(parallel=True, cache=True)
def _evaluate(day_start_us, bucket_us, n_buckets, zone, volume, shape_of, shapes, offsets, starts_us, offset_s,
              overlay, out):
    for r in prange(zone.shape[0]):
        s = shapes[shape_of[r]]
        o = overlay[r]
        last = offsets[zone[r] + 1] - 1
        origin = day_start_us - LOCAL_ORIGIN_HOURS * _US_PER_HOUR
        for b in range(n_buckets):
            t = day_start_us + b * bucket_us
            end = t + bucket_us
            total = 0.0
            while t < end:
                # Walk the bucket in pieces that stay within one local hour and one offset period.
                p = offset_period(starts_us, offsets, zone[r], t)
                change = starts_us[p + 1] if p < last else end
                local = t + np.int64(offset_s[p]) * 1_000_000
                position = (local + _EPOCH_MONDAY_SHIFT_US) % _US_PER_WEEK
                span = min(_US_PER_HOUR - position % _US_PER_HOUR, end - t, change - t)
                total += s[position // _US_PER_HOUR] * o[(local - origin) // _US_PER_HOUR] * span / _US_PER_HOUR
                t += span
            out[r, b] = volume[r] * total


def bucket_intensity(
    day_start_utc_us: int, bucket_minutes: int, zone: np.ndarray, volume: np.ndarray, shape_of: np.ndarray,
    shapes: np.ndarray, table: Transitions, overlay: np.ndarray | None = None,
) -> np.ndarray:
    """float64[rows, buckets of the day]: λ of each row (zone index into table.tzids, weekly volume,
    shape index into shapes[n, 168]) in each UTC bucket of the day starting at day_start_utc_us;
    overlay[rows, LOCAL_HOURS] (from engine_kernels.intensity.calendar.overlay_hours) or None for none."""
    if 60 % bucket_minutes or bucket_minutes < 1:
        raise ValueError(f"bucket_minutes must divide 60, got {bucket_minutes}")
    shapes = np.ascontiguousarray(shapes, np.float64)
    if shapes.ndim != 2 or shapes.shape[1] != 168:
        raise ValueError(f"shapes must be [n, 168] local-week hours, got {shapes.shape}")
    zone = np.ascontiguousarray(zone, np.int64)
    volume = np.ascontiguousarray(volume, np.float64)
    shape_of = np.ascontiguousarray(shape_of, np.int64)
    if not (zone.shape == volume.shape == shape_of.shape):
        raise ValueError("zone, volume and shape_of need one entry per row")
    if zone.size and (zone.min() < 0 or zone.max() >= len(table.tzids)):
        raise ValueError(f"zone indices must lie in 0..{len(table.tzids) - 1}")
    if shape_of.size and (shape_of.min() < 0 or shape_of.max() >= shapes.shape[0]):
        raise ValueError(f"shape indices must lie in 0..{shapes.shape[0] - 1}")
    if (volume < 0).any() or not np.isfinite(volume).all():
        raise ValueError("weekly volumes must be finite and >= 0")
    n_buckets = 24 * 60 // bucket_minutes
    overlay = (np.ones((zone.size, LOCAL_HOURS)) if overlay is None
               else np.ascontiguousarray(overlay, np.float64))
    if overlay.shape != (zone.size, LOCAL_HOURS):
        raise ValueError(f"overlay must be [rows, {LOCAL_HOURS}] local hours, got {overlay.shape}")
    offsets = table.offset_seconds
    if offsets.size and (offsets.min() < -LOCAL_ORIGIN_HOURS * 3600 or offsets.max() > 14 * 3600):
        raise ValueError("a zone's UTC offset lies outside -14 h..+14 h")
    out = np.empty((zone.size, n_buckets))
    _evaluate(np.int64(day_start_utc_us), np.int64(bucket_minutes * 60_000_000), n_buckets, zone, volume, shape_of,
              shapes, table.offsets, table.utc_start * 1_000_000, table.offset_seconds, overlay, out)
    return out


@njit(parallel=True, cache=True)
def _midpoint_offsets(day_start_us, bucket_us, n_buckets, zone, offsets, starts_us, offset_s, out):
    for r in prange(zone.shape[0]):
        for b in range(n_buckets):
            middle = day_start_us + b * bucket_us + bucket_us // 2
            out[r, b] = offset_s[offset_period(starts_us, offsets, zone[r], middle)]


def bucket_offsets(day_start_utc_us: int, bucket_minutes: int, zone: np.ndarray, table: Transitions) -> np.ndarray:
    """int32[rows, buckets]: each row's UTC offset (seconds) at the middle of each UTC bucket of the day,
    which dates a bucket to a local day."""
    zone = np.ascontiguousarray(zone, np.int64)
    n_buckets = 24 * 60 // bucket_minutes
    out = np.empty((zone.size, n_buckets), np.int32)
    _midpoint_offsets(np.int64(day_start_utc_us), np.int64(bucket_minutes * 60_000_000), n_buckets, zone,
                      table.offsets, table.utc_start * 1_000_000, table.offset_seconds, out)
    return out
