"""How many parties (customers) each country holds, anchored on the world's payments and its people.

A country's payments anchor is the weekly arrivals its residents make: card-present volume where
the sites are, online volume in the merchants' markets (the asset adds both up per country). With
k payments per active party per week and a share a of parties active in a week, the anchor is

    P_c = W_c / (k · a)

parties. A country of many people but few merchants in the world still has customers (they buy
abroad and online), so the count blends the anchor with the same total spread by population:

    N_c = (1 − β) · P_c + β · (Σ P) · pop_c / Σ pop

times the profile's party scale, made whole by largest remainder so the countries add up to the
rounded total exactly. Every country with people and β > 0 gets at least its population share.
"""

from __future__ import annotations

import numpy as np

from engine_kernels.tables.integerise import largest_remainder

__all__ = ["party_counts"]


def party_counts(weekly_payments: np.ndarray, population: np.ndarray, payments_per_party_week: float,
                 active_share: float, population_weight: float, scale: float = 1.0) -> np.ndarray:
    """int64 parties per country, in the order of the inputs (one entry per country)."""
    weekly = np.asarray(weekly_payments, np.float64)
    people = np.asarray(population, np.float64)
    if weekly.shape != people.shape or weekly.ndim != 1:
        raise ValueError(f"weekly_payments and population need one value per country: {weekly.shape}, {people.shape}")
    if not (np.isfinite(weekly).all() and (weekly >= 0).all() and np.isfinite(people).all() and (people >= 0).all()):
        raise ValueError("weekly_payments and population must be finite and >= 0")
    if not (payments_per_party_week > 0 and 0 < active_share <= 1 and 0 <= population_weight <= 1 and scale > 0):
        raise ValueError("payments_per_party_week and scale must be > 0, active_share in (0, 1], "
                         "population_weight in [0, 1]")
    anchor = weekly / (payments_per_party_week * active_share)
    total = anchor.sum()
    if total == 0:
        return np.zeros(weekly.shape[0], np.int64)
    by_people = total * people / people.sum() if people.sum() > 0 else np.zeros_like(people)
    blended = ((1 - population_weight) * anchor + population_weight * by_people) * scale
    whole = int(round(blended.sum()))
    return largest_remainder(blended, whole) if whole > 0 else np.zeros(weekly.shape[0], np.int64)
