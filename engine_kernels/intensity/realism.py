"""Realism figures of intensity surfaces (segment 5A validation).

event_day_ratio   a calendar effect as an analyst would read it off the aggregated series: the
                  mean, over the event days (holidays, paydays) inside a window, of the volume on
                  the day over the mean volume on the same weekday of the nearest clean weeks
                  (one week either side, then two; at most two such days; a clean day has no
                  holiday, payday or payday ramp)
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["event_day_ratio"]


def event_day_ratio(volume: np.ndarray, first: dt.date, event_days: set[dt.date], busy: set[dt.date],
                    window: set[dt.date]) -> float | None:
    """`volume` holds one value per local date from `first`; None when no event day in the window
    has volume and a clean week to compare with."""
    ratios = []
    for day in sorted(event_days & window):
        base = [day + dt.timedelta(days=7 * w) for w in (-1, 1, -2, 2)]
        clean = [d for d in base if d in window and d not in busy][:2]
        on_day = volume[(day - first).days]
        if clean and on_day > 0:
            ratios.append(on_day / np.mean([volume[(d - first).days] for d in clean]))
    return float(np.mean(ratios)) if ratios else None
