"""The 1A policy as immutable, typed coefficients: dense vectors by sector, channel and GDP band.

engine_assets/run/policies.py builds it from config/policies/1a.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CandidatePolicy",
    "CrossBorderPolicy",
    "Effects",
    "HomeShareFloor",
    "Policy1A",
]


@dataclass(frozen=True)
class Effects:
    """Additive effects of a linear predictor.

    η = intercept + sector[s] + channel[c] + gdp_band[b], with s, c, b the merchant's sector,
    channel and GDP-per-capita band indices (engine_kernels.vocabulary order; bands 0, 1, ...).
    """

    intercept: float
    sector: tuple[float, ...]
    channel: tuple[float, ...]
    gdp_band: tuple[float, ...]

    def predictor(self, sector: np.ndarray, channel: np.ndarray, band: np.ndarray) -> np.ndarray:
        """η per merchant (float64) from integer sector, channel and band indices."""
        return (
            self.intercept
            + np.asarray(self.sector)[sector]
            + np.asarray(self.channel)[channel]
            + np.asarray(self.gdp_band)[band]
        )


@dataclass(frozen=True)
class CandidatePolicy:
    """Gravity ranking of foreign candidates.

    weight(h, c) = GDP_c^gdp_exponent / max(d(h, c), distance_floor_km)^distance_exponent
                   × (1 + same_currency_bonus·[cur_h = cur_c] + same_region_bonus·[reg_h = reg_c])
    and a merchant with N outlets gets min(cap, floor(base + per_log_outlets · ln N)) of them.
    """

    gdp_exponent: float
    distance_exponent: float
    distance_floor_km: float
    same_currency_bonus: float
    same_region_bonus: float
    count_base: float
    count_per_log_outlets: float
    count_cap: int
    sanctioned: frozenset[str]


@dataclass(frozen=True)
class CrossBorderPolicy:
    """Whether and how far a multi-site merchant crosses borders.

    p_open = logistic(p_intercept + p_openness·o_s + p_channel[c] + p_log_outlets·ln N)
    K ~ ZeroTruncatedPoisson(exp(theta0 + theta_log_outlets·ln N + theta_openness·o_s))
    where o_s ∈ [0, 1] is the openness of the merchant's sector.
    """

    openness: tuple[float, ...]
    p_intercept: float
    p_openness: float
    p_channel: tuple[float, ...]
    p_log_outlets: float
    theta0: float
    theta_log_outlets: float
    theta_openness: float


@dataclass(frozen=True)
class HomeShareFloor:
    """Home share of a cross-border merchant: share[i] for the first i with N <= max_outlets[i], else share[-1]."""

    max_outlets: tuple[int, ...]
    share: tuple[float, ...]

    def of(self, n_total: np.ndarray) -> np.ndarray:
        band = np.searchsorted(np.asarray(self.max_outlets), n_total, side="left")
        return np.asarray(self.share)[band]


@dataclass(frozen=True)
class Policy1A:
    """Every coefficient of segment 1A."""

    version: int
    home_gdp_exponent: float
    home_floor_vs_uniform: float
    sector_weights: tuple[float, ...]
    cnp_probability: tuple[float, ...]
    gdp_band_edges: tuple[float, ...]
    hurdle: Effects
    nb_mean: Effects
    nb_dispersion: Effects
    nb_max_attempts: int
    candidates: CandidatePolicy
    cross_border: CrossBorderPolicy
    home_share: HomeShareFloor

    @property
    def n_gdp_bands(self) -> int:
        return len(self.gdp_band_edges) + 1
