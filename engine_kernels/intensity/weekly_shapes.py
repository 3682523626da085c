"""Segment 5A weekly shapes: a 168-hour local week (Monday 00:00 first) that sums to 1.

A day's profile is a floor plus Gaussian bumps in the minute of the day, each bump contributing
its exact mass inside every hour (normal CDF differences, wrapped around midnight); each day
of the week is weighted by whether it is one of the country's weekend days (bit d of the
weekend mask for weekday d, 0 = Monday: Fri–Sat in the Gulf, Sat–Sun elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.special import ndtr

__all__ = ["Bump", "DayProfile", "ShapePolicy", "ShapeTemplate", "class_shapes", "day_mass", "weekly_shape"]


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


@dataclass(frozen=True)
class ShapeTemplate:
    weekday: DayProfile
    weekend: DayProfile


@dataclass(frozen=True)
class ShapePolicy:
    templates: Mapping[str, ShapeTemplate]  # by demand class
    flatten: Mapping[str, float]  # by channel: share of the week spread evenly
    variants: int
    shift_minutes: float
    height: float


def _jitter(profile: DayProfile, u: np.ndarray, policy: ShapePolicy) -> DayProfile:
    """The profile with bump i shifted by (2u−1)·shift and its height scaled by 1 + (2u'−1)·height."""
    bumps = tuple(Bump((b.centre_minute + (2 * u[2 * i] - 1) * policy.shift_minutes) % 1440.0, b.width_minutes,
                       b.height * (1 + (2 * u[2 * i + 1] - 1) * policy.height)) for i, b in enumerate(profile.bumps))
    return DayProfile(profile.floor, bumps, profile.weekday_weight, profile.weekend_weight)


def class_shapes(policy: ShapePolicy, demand_class: str, channel: str, weekend_mask: int,
                 jitter: np.ndarray) -> np.ndarray:
    """float64[variants, 168]: the class × channel shapes of one weekend convention; jitter[v] holds
    the keyed uniforms of variant v (2 per bump of the weekday profile, then of the weekend one)."""
    template = policy.templates[demand_class]
    n = len(template.weekday.bumps)
    flat = policy.flatten[channel]
    out = np.empty((policy.variants, 168))
    for v in range(policy.variants):
        weekday, weekend = template.weekday, template.weekend
        if v > 0:
            weekday, weekend = _jitter(weekday, jitter[v, :2 * n], policy), _jitter(weekend, jitter[v, 2 * n:], policy)
        week = weekly_shape(weekday, weekend, weekend_mask)
        out[v] = (1 - flat) * week + flat / 168
    return out / out.sum(axis=1, keepdims=True)


def day_mass(shapes: np.ndarray) -> np.ndarray:
    """float64[n, 7]: each shape's share of its week on each weekday (0 = Monday)."""
    return np.asarray(shapes).reshape(-1, 7, 24).sum(axis=2)
