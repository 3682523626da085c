"""Segment 5B parameters: burst groups of (merchant, zone) rows, their latent field and count dispersion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

__all__ = ["BurstPolicy"]


@dataclass(frozen=True)
class BurstPolicy:
    """Rows share bursts within (class, channel, country, band of weekly volume); σ, L and κ by scenario,
    times per-class multipliers (by index into engine_kernels.vocabulary.DEMAND_CLASSES) and per-channel ones."""

    band_edges: tuple[float, ...]
    clip: tuple[float, float]
    sigma: Mapping[str, float]  # by scenario
    length_hours: Mapping[str, float]
    class_sigma: np.ndarray  # by class index
    class_length: np.ndarray
    channel_sigma: Mapping[str, float]
    kappa: Mapping[str, float]
    class_kappa: np.ndarray
    channel_kappa: Mapping[str, float]
    # Fluctuation scaling: above `reference_rate` (arrivals an hour) the relative variance of a
    # group's burst factor falls as (rate / reference_rate)^(rate_exponent − 2); 2 leaves σ as is.
    rate_exponent: float = 2.0
    reference_rate: float = 1.0

    def band(self, weekly_volume: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.band_edges), np.asarray(weekly_volume), side="right").astype(np.int8)

    def burst_sigma(self, scenario: str, demand_class: np.ndarray, channel: Iterable[str],
                    hourly_rate: np.ndarray | None = None) -> np.ndarray:
        """σ of each row's burst factor: σ₀ = the scenario's σ × its class's multiplier × its channel's.

        With `hourly_rate` (the expected arrivals an hour of the row's burst group), the relative
        variance exp(σ²) − 1 of the factor is exp(σ₀²) − 1 up to `reference_rate`, and falls as
        (rate / reference_rate)^(rate_exponent − 2) above it: Var N ∝ λ^rate_exponent at high rates
        (Taylor's law) instead of λ², so the dispersion index grows as λ^(rate_exponent − 1), not λ."""
        by_channel = np.array([self.channel_sigma[c] for c in channel])
        sigma = self.sigma[scenario] * self.class_sigma[demand_class] * by_channel
        if hourly_rate is None or self.rate_exponent == 2.0:
            return sigma
        ratio = np.maximum(np.asarray(hourly_rate, float), 1e-12) / self.reference_rate
        damping = np.minimum(1.0, ratio ** (self.rate_exponent - 2.0))
        return np.sqrt(np.log1p(np.expm1(sigma ** 2) * damping))

    def burst_length_hours(self, scenario: str, demand_class: np.ndarray) -> np.ndarray:
        """Correlation length of each row's burst factor: the scenario's L × its class's multiplier."""
        return self.length_hours[scenario] * self.class_length[demand_class]

    def count_dispersion(self, scenario: str, demand_class: np.ndarray, channel: Iterable[str]) -> np.ndarray:
        """NB2 κ of each row (Var N = λ + λ²/κ): the scenario's κ × its class's multiplier × its channel's."""
        return self.kappa[scenario] * self.class_kappa[demand_class] * np.array([self.channel_kappa[c] for c in channel])
