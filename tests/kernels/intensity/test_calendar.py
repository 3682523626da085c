"""5A calendar kernel: overlay precedence against a slow reference, payday and campaign dates."""

import datetime as dt

import numpy as np
import pytest

from engine_kernels.intensity.calendar import (
    LOCAL_HOURS,
    LOCAL_ORIGIN_HOURS,
    TYPES,
    Events,
    campaign_start,
    overlay_hours,
    payday_dates,
)

HOUR = 3_600_000_000
DAY = dt.datetime(2026, 3, 31, tzinfo=dt.timezone.utc)
DAY_US = int(DAY.timestamp()) * 1_000_000


def slow_overlay(t0: int, country: int, klass: int, row: int, events: list[dict]) -> float:
    """The precedence rules written out: per type the most specific scope present, min for
    holiday/outage and max otherwise within it, product across types, clamp to [0, 5]."""
    product = 1.0
    for kind, name in enumerate(TYPES):
        found = []
        for e in events:
            if e["kind"] != kind or not e["start"] <= t0 < e["end"]:
                continue
            if e["class"] >= 0 and e["class"] != klass:
                continue
            if e["row"] >= 0:
                if e["row"] != row:
                    continue
                scope = 4
            elif e["country"] >= 0:
                if e["country"] != country:
                    continue
                scope = 2
            else:
                scope = 0
            scope += e["class"] >= 0
            mid = t0 + HOUR / 2
            w = 1.0
            if e["ramp_in"]:
                w = min(w, (mid - e["start"]) / e["ramp_in"])
            if e["ramp_out"]:
                w = min(w, (e["end"] - mid) / e["ramp_out"])
            found.append((scope, 1 + (e["peak"] - 1) * w))
        if found:
            top = max(s for s, _ in found)
            values = [f for s, f in found if s == top]
            product *= min(values) if name in ("holiday", "outage") else max(values)
    return min(max(product, 0.0), 5.0)


def as_events(events: list[dict]) -> Events:
    col = lambda k, t: np.array([e[k] for e in events], t)  # noqa: E731
    return Events(col("kind", np.int8), col("country", np.int32), col("class", np.int16), col("row", np.int64),
                  col("start", np.int64), col("end", np.int64), col("ramp_in", np.int64), col("ramp_out", np.int64),
                  col("peak", np.float64))


def test_overlay_equals_the_precedence_rules_on_random_events():
    rng = np.random.default_rng(5)
    rows, countries, classes = 40, 4, 3
    row_country = rng.integers(0, countries, rows)
    row_class = rng.integers(0, classes, rows)
    origin = DAY_US - LOCAL_ORIGIN_HOURS * HOUR
    events = []
    for _ in range(300):
        start = origin + int(rng.integers(-30, LOCAL_HOURS + 10)) * HOUR
        scope = rng.integers(0, 3)
        events.append({
            "kind": int(rng.integers(0, len(TYPES))),
            "country": int(rng.integers(0, countries)) if scope >= 1 else -1,
            "class": int(rng.integers(0, classes)) if rng.random() < 0.5 else -1,
            "row": int(rng.integers(0, rows)) if scope == 2 else -1,
            "start": start, "end": start + int(rng.integers(1, 60)) * HOUR,
            "ramp_in": int(rng.integers(0, 3)) * 6 * HOUR, "ramp_out": int(rng.integers(0, 3)) * 6 * HOUR,
            "peak": float(rng.choice([0.05, 0.4, 0.9, 1.3, 2.5, 4.0])),
        })
    fast = overlay_hours(DAY_US, row_country, row_class, as_events(events), countries)
    assert fast.shape == (rows, LOCAL_HOURS)
    for r in range(rows):
        for k in range(LOCAL_HOURS):
            expected = slow_overlay(origin + k * HOUR, row_country[r], row_class[r], r, events)
            assert fast[r, k] == pytest.approx(expected, rel=1e-12), (r, k)
    assert (fast != 1).mean() > 0.3  # the test exercised overlapping events, not an empty calendar


def test_specific_scope_wins_and_holidays_take_the_minimum():
    origin = DAY_US - LOCAL_ORIGIN_HOURS * HOUR
    base = {"kind": 0, "row": -1, "start": origin, "end": origin + 24 * HOUR, "ramp_in": 0, "ramp_out": 0}
    events = [
        {**base, "country": 0, "class": -1, "peak": 0.8},  # a holiday for everyone in country 0 ...
        {**base, "country": 0, "class": 1, "peak": 1.1},  # ... but class 1 there shops more: specific wins
        {**base, "country": 1, "class": -1, "peak": 0.7},  # two holidays on one day take the minimum
        {**base, "country": 1, "class": -1, "peak": 0.5},
        {**base, "kind": 3, "country": 1, "class": -1, "row": 2, "peak": 0.05},  # an outage multiplies
    ]
    out = overlay_hours(DAY_US, np.array([0, 0, 1]), np.array([0, 1, 0]), as_events(events), 2)
    assert out[0, 0] == pytest.approx(0.8) and out[1, 0] == pytest.approx(1.1)
    assert out[2, 0] == pytest.approx(0.5 * 0.05)
    assert (out[:, 24:] == 1).all()


def test_overlay_refuses_rows_it_does_not_have():
    e = {"kind": 3, "country": 0, "class": -1, "row": 9, "start": DAY_US, "end": DAY_US + HOUR, "ramp_in": 0,
         "ramp_out": 0, "peak": 0.05}
    with pytest.raises(ValueError, match="names row 9"):
        overlay_hours(DAY_US, np.array([0]), np.array([0]), as_events([e]), 1)


def weekdays(d: dt.date) -> bool:
    return d.weekday() < 5


@pytest.mark.parametrize("convention, first, last, expected", [
    ("last_business_day", "2026-03-01", "2026-05-31", ["2026-03-31", "2026-04-30", "2026-05-29"]),
    ("fifteenth_and_last", "2026-08-01", "2026-08-31", ["2026-08-14", "2026-08-31"]),
    ("biweekly_fridays", "2026-03-01", "2026-03-31", ["2026-03-13", "2026-03-27"]),
    ("twenty_fifth", "2026-01-01", "2026-02-28", ["2026-01-23", "2026-02-25"]),
    # A payday moved back across the start of the range still counts if it lands inside it.
    ("last_business_day", "2026-05-29", "2026-06-02", ["2026-05-29"]),
])
def test_payday_dates_follow_the_convention(convention, first, last, expected):
    got = payday_dates(convention, dt.date.fromisoformat(first), dt.date.fromisoformat(last), weekdays,
                       dt.date(2026, 1, 2))
    assert [d.isoformat() for d in got] == expected


def test_paydays_move_before_holidays_and_bad_conventions_are_refused():
    holiday = {dt.date(2026, 3, 31)}
    got = payday_dates("last_business_day", dt.date(2026, 3, 1), dt.date(2026, 3, 31),
                       lambda d: weekdays(d) and d not in holiday, dt.date(2026, 1, 2))
    assert got == [dt.date(2026, 3, 30)]
    with pytest.raises(ValueError, match="unknown payday convention"):
        payday_dates("monthly", dt.date(2026, 3, 1), dt.date(2026, 3, 31), weekdays, dt.date(2026, 1, 2))
    with pytest.raises(ValueError, match="not a Friday"):
        payday_dates("biweekly_fridays", dt.date(2026, 3, 1), dt.date(2026, 3, 31), weekdays, dt.date(2026, 1, 1))


def test_campaign_dates():
    assert campaign_start("black_friday", 2026) == dt.date(2026, 11, 27)
    assert campaign_start("cyber_monday", 2026) == dt.date(2026, 11, 30)
    assert campaign_start("black_friday", 2025) == dt.date(2025, 11, 28)
    assert campaign_start("black_friday", 2029) == dt.date(2029, 11, 23)
    assert campaign_start("11-11", 2026) == dt.date(2026, 11, 11)
