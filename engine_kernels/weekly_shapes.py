"""Segment 5A weekly shapes: a 168-hour local week (Monday 00:00 first) that sums to 1.

A day's profile is a floor plus Gaussian bumps in the minute of the day, each bump contributing
its exact mass inside every hour (normal CDF differences, wrapped around midnight); each day
of the week is weighted by whether it is one of the country's weekend days (bit d of the
weekend mask for weekday d, 0 = Monday: Fri–Sat in the Gulf, Sat–Sun elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

__all__ = ["Bump", "DayProfile", "weekly_shape"]


@dataclass(frozen=True)
class Bump:
    centre_minute: float
    width_minutes: float
    height: float


@dataclass(frozen=True)
class DayProfile:
    """A floor (share of the day spread evenly) and bumps; weekday and weekend weights of the day."""

    floor: float
    bumps: tuple[Bump, ...]
    weekday_weight: float = 1.0
    weekend_weight: float = 1.0


def _hourly(profile: DayProfile) -> np.ndarray:
    edges = np.arange(25) * 60.0
    mass = np.full(24, profile.floor / 24)
    for bump in profile.bumps:
        if bump.width_minutes <= 0 or bump.height < 0:
            raise ValueError(f"a bump needs width > 0 and height >= 0, got {bump}")
        for shift in (-1440.0, 0.0, 1440.0):  # wrap: a bump at 23:30 spills into the morning
            z = (edges - bump.centre_minute - shift) / bump.width_minutes
            mass += bump.height * np.diff(ndtr(z))
    return mass


def weekly_shape(weekday: DayProfile, weekend: DayProfile, weekend_mask: int) -> np.ndarray:
    """float64[168] local-week shape summing to 1: weekday days follow `weekday`, weekend days `weekend`."""
    if not 0 <= weekend_mask < 128:
        raise ValueError(f"weekend_mask must be 7 bits (bit d = weekday d), got {weekend_mask}")
    days = []
    for d in range(7):
        is_weekend = bool(weekend_mask >> d & 1)
        profile = weekend if is_weekend else weekday
        hourly = _hourly(profile)
        days.append(hourly / hourly.sum() * (profile.weekend_weight if is_weekend else profile.weekday_weight))
    week = np.concatenate(days)
    if not np.isfinite(week).all() or week.sum() <= 0 or (week < 0).any():
        raise ValueError("a weekly shape needs non-negative weights with a positive total")
    return week / week.sum()
