"""Segment 5B parameters: burst groups of (merchant, zone) rows, their latent field and count dispersion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from engine_kernels.intensity.demand import CLASSES

__all__ = ["BurstPolicy"]


@dataclass(frozen=True)
class BurstPolicy:
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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BurstPolicy:
        edges = tuple(float(x) for x in d["grouping"]["volume_band_edges"])
        if list(edges) != sorted(set(edges)):
            raise ValueError("grouping.volume_band_edges must increase")
        lat, counts = d["latent"], d["counts"]
        if not lat["clip"][0] < 1 < lat["clip"][1]:
            raise ValueError("latent.clip must be [low < 1, high > 1]")
        scenarios = set(lat["sigma"])
        for where, table in (("latent.length_hours", lat["length_hours"]), ("counts.kappa", counts["kappa"])):
            if set(table) != scenarios:
                raise ValueError(f"{where} must name the same scenarios as latent.sigma ({', '.join(sorted(scenarios))})")
        per_class = lambda m: np.array([float(m.get(c, 1.0)) for c in CLASSES])  # noqa: E731
        return cls(edges, (float(lat["clip"][0]), float(lat["clip"][1])), dict(lat["sigma"]),
                   dict(lat["length_hours"]), per_class(lat["class_sigma"]), per_class(lat["class_length"]),
                   dict(lat["channel_sigma"]),
                   dict(counts["kappa"]), per_class(counts["class_kappa"]), dict(counts["channel_kappa"]))

    def require(self, scenario: str) -> None:
        if scenario not in self.sigma:
            raise ValueError(f"scenario {scenario!r} has no latent.sigma, latent.length_hours and counts.kappa "
                             "in config/policies/5b.yaml")

    def band(self, weekly_volume: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.band_edges), np.asarray(weekly_volume), side="right").astype(np.int8)
