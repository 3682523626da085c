"""Calendar effects read off an aggregated series (engine_kernels/intensity/realism.py)."""

import datetime as dt

import numpy as np
import pytest

from engine_kernels.intensity.realism import event_day_ratio

FIRST = dt.date(2026, 3, 1)
WINDOW = {FIRST + dt.timedelta(days=d) for d in range(28)}


def _day(d: int) -> dt.date:
    return FIRST + dt.timedelta(days=d)


def test_holiday_at_seventy_percent_of_its_clean_weekdays():
    volume = np.full(28, 100.0)
    volume[[7, 21]] = [80.0, 60.0]  # the weeks either side of day 14 differ: their mean is the base
    volume[14] = 49.0
    assert event_day_ratio(volume, FIRST, {_day(14)}, {_day(14)}, WINDOW) == pytest.approx(49.0 / 70.0)


def test_busy_and_out_of_window_weeks_are_skipped_for_the_next_clean_ones():
    volume = np.full(28, 100.0)
    volume[[0, 14]] = [50.0, 200.0]
    # Day 7: its week before is busy, the week after (14) and two weeks after (21) are clean.
    ratio = event_day_ratio(volume, FIRST, {_day(7)}, {_day(0), _day(7)}, WINDOW)
    assert ratio == pytest.approx(100.0 / 150.0)


def test_nothing_to_measure_gives_none():
    volume = np.full(28, 100.0)
    assert event_day_ratio(volume, FIRST, set(), set(), WINDOW) is None
    assert event_day_ratio(volume, FIRST, {_day(40)}, set(), WINDOW) is None  # outside the window
    volume[3] = 0.0
    assert event_day_ratio(volume, FIRST, {_day(3)}, {_day(3)}, WINDOW) is None  # no volume on the day
