"""The 5A evaluator against a slow, obviously correct minute-by-minute sum through zoneinfo."""

import datetime as dt
import zoneinfo

import numpy as np
import pytest

from engine_kernels.civil_time.transitions import zones_transitions
from engine_kernels.intensity.calendar import LOCAL_HOURS, LOCAL_ORIGIN_HOURS
from engine_kernels.intensity.evaluator import bucket_intensity

UTC = dt.timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
         "America/St_Johns", "Pacific/Chatham", "UTC"]
TABLE = zones_transitions(ZONES, dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2028, 1, 1, tzinfo=UTC))


def slow(day: dt.date, bucket_minutes: int, tzid: str, volume: float, shape: np.ndarray,
         overlay: np.ndarray) -> np.ndarray:
    """Σ over the day's minutes of V · s[local week hour] · o[local hour from D − 14 h] / 60, local
    time from zoneinfo per minute."""
    zone = zoneinfo.ZoneInfo(tzid)
    start = dt.datetime.combine(day, dt.time(), UTC)
    origin = dt.datetime.combine(day, dt.time()) - dt.timedelta(hours=LOCAL_ORIGIN_HOURS)
    out = np.zeros(24 * 60 // bucket_minutes)
    for minute in range(24 * 60):
        local = (start + dt.timedelta(minutes=minute)).astimezone(zone)
        k = int((local.replace(tzinfo=None) - origin).total_seconds() // 3600)
        out[minute // bucket_minutes] += volume * shape[local.weekday() * 24 + local.hour] * overlay[k] / 60
    return out


@pytest.mark.parametrize("day", [dt.date(2026, 3, 8), dt.date(2026, 3, 29), dt.date(2026, 4, 5), dt.date(2026, 11, 1),
                                 dt.date(2026, 6, 17)])
@pytest.mark.parametrize("bucket_minutes", [15, 60])
def test_evaluator_equals_minute_sums_on_dst_and_odd_offset_days(day, bucket_minutes):
    rng = np.random.default_rng(day.toordinal() + bucket_minutes)
    shapes = rng.random((3, 168))
    shapes /= shapes.sum(axis=1, keepdims=True)
    rows = len(ZONES) * 2
    zone = np.array([TABLE.tzids.index(z) for z in ZONES] * 2)
    volume = rng.uniform(10, 5000, rows)
    shape_of = rng.integers(0, 3, rows)
    overlay = rng.uniform(0, 3, (rows, LOCAL_HOURS))
    start_us = int(dt.datetime.combine(day, dt.time(), UTC).timestamp()) * 1_000_000
    fast = bucket_intensity(start_us, bucket_minutes, zone, volume, shape_of, shapes, TABLE, overlay)
    for r in range(rows):
        expected = slow(day, bucket_minutes, TABLE.tzids[zone[r]], volume[r], shapes[shape_of[r]], overlay[r])
        assert np.allclose(fast[r], expected, rtol=1e-12, atol=1e-9), (TABLE.tzids[zone[r]], day)


def test_a_week_of_buckets_adds_up_to_the_weekly_volume():
    shapes = np.random.default_rng(1).random((1, 168))
    shapes /= shapes.sum()
    zone = np.array([TABLE.tzids.index("Asia/Kathmandu")])
    total = 0.0
    for d in range(7):
        start = int(dt.datetime(2026, 6, 1 + d, tzinfo=UTC).timestamp()) * 1_000_000
        total += bucket_intensity(start, 15, zone, np.array([700.0]), np.array([0]), shapes, TABLE).sum()
    assert total == pytest.approx(700.0, rel=1e-12)


def test_overlay_multiplies_and_bad_input_is_refused():
    shapes = np.full((1, 168), 1 / 168)
    start = int(dt.datetime(2026, 6, 1, tzinfo=UTC).timestamp()) * 1_000_000
    zone = TABLE.tzids.index("UTC")
    overlay = np.ones((1, LOCAL_HOURS))
    overlay[0, LOCAL_ORIGIN_HOURS + 5] = 0.05  # local 05:00-06:00 of the UTC day in UTC itself
    lam = bucket_intensity(start, 60, np.array([zone]), np.array([168.0]), np.array([0]), shapes, TABLE, overlay)
    assert lam[0, 5] == pytest.approx(0.05) and lam[0, 4] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="local hours"):
        bucket_intensity(start, 60, np.array([zone]), np.array([1.0]), np.array([0]), shapes, TABLE, np.ones((1, 24)))
    with pytest.raises(ValueError, match="bucket_minutes must divide 60"):
        bucket_intensity(start, 7, np.array([0]), np.array([1.0]), np.array([0]), shapes, TABLE)
    with pytest.raises(ValueError, match="weekly volumes"):
        bucket_intensity(start, 60, np.array([0]), np.array([-1.0]), np.array([0]), shapes, TABLE)
