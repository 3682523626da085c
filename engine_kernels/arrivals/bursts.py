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

    def band(self, weekly_volume: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.band_edges), np.asarray(weekly_volume), side="right").astype(np.int8)

    def burst_sigma(self, scenario: str, demand_class: np.ndarray, channel: Iterable[str]) -> np.ndarray:
        """σ of each row's burst factor: the scenario's σ × its class's multiplier × its channel's."""
        return self.sigma[scenario] * self.class_sigma[demand_class] * np.array([self.channel_sigma[c] for c in channel])

    def burst_length_hours(self, scenario: str, demand_class: np.ndarray) -> np.ndarray:
        """Correlation length of each row's burst factor: the scenario's L × its class's multiplier."""
        return self.length_hours[scenario] * self.class_length[demand_class]

    def count_dispersion(self, scenario: str, demand_class: np.ndarray, channel: Iterable[str]) -> np.ndarray:
        """NB2 κ of each row (Var N = λ + λ²/κ): the scenario's κ × its class's multiplier × its channel's."""
        return self.kappa[scenario] * self.class_kappa[demand_class] * np.array([self.channel_kappa[c] for c in channel])
