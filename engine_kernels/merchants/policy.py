"""The 1A policy (config/policies/1a.yaml) as immutable, typed coefficients.

The engine validates the YAML against config/schemas/policies/1a.schema.yaml before it gets
here, so this module only converts maps into dense vectors and checks what a schema cannot:
lengths that must agree between fields and orderings that must be strictly increasing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_kernels.reference.mcc import DEMAND_SECTORS

__all__ = [
    "CHANNELS",
    "SECTORS",
    "CandidatePolicy",
    "CrossBorderPolicy",
    "Effects",
    "HomeShareFloor",
    "Policy1A",
]

SECTORS: tuple[str, ...] = DEMAND_SECTORS
CHANNELS: tuple[str, ...] = ("card_present", "card_not_present")


def _by_name(table: Mapping[str, Any] | None, names: Sequence[str], field: str, default: float = 0.0) -> tuple:
    """Dense vector over `names` from a partial map; absent names take `default`."""
    table = table or {}
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(names)}")
    return tuple(float(table.get(name, default)) for name in names)


def _increasing(values: Sequence[float], field: str) -> tuple:
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{field} must be strictly increasing, got {list(values)}")
    return tuple(values)


@dataclass(frozen=True)
class Effects:
    """Additive effects of a linear predictor.

    η = intercept + sector[s] + channel[c] + gdp_band[b], with s, c, b the merchant's sector,
    channel and GDP-per-capita band indices (SECTORS and CHANNELS order; bands 0, 1, ...).
    """

    intercept: float
    sector: tuple[float, ...]
    channel: tuple[float, ...]
    gdp_band: tuple[float, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], field: str, n_bands: int, log_base: bool = False) -> Effects:
        """Parse {intercept | base, sector, channel, gdp_band}.

        With log_base the map carries a positive `base` (a mean or a dispersion) and the
        intercept is ln(base), so that exp(η) = base · exp(effects).
        """
        intercept = math.log(d["base"]) if log_base else float(d["intercept"])
        bands = tuple(float(x) for x in d.get("gdp_band", [0.0] * n_bands))
        if len(bands) != n_bands:
            raise ValueError(
                f"{field}.gdp_band must have {n_bands} entries (one per GDP band: "
                f"len(gdp_bands.per_capita_edges_usd) + 1), got {len(bands)}"
            )
        return cls(
            intercept=intercept,
            sector=_by_name(d.get("sector"), SECTORS, f"{field}.sector"),
            channel=_by_name(d.get("channel"), CHANNELS, f"{field}.channel"),
            gdp_band=bands,
        )

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
    """Every coefficient of segment 1A; built with `Policy1A.from_dict` from the parsed YAML."""

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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Policy1A:
        """Build from the schema-validated YAML; ValueError names the field of a cross-field problem."""
        merchants = d["merchants"]
        edges = _increasing([float(x) for x in d["gdp_bands"]["per_capita_edges_usd"]],
                            "gdp_bands.per_capita_edges_usd")
        n_bands = len(edges) + 1
        weights = _by_name(merchants["sector_weights"], SECTORS, "merchants.sector_weights")
        if not any(w > 0 for w in weights):
            raise ValueError("merchants.sector_weights: at least one sector needs a positive weight")
        cnp = merchants["card_not_present"]
        cand = d["candidates"]
        count = cand["count"]
        cross = d["cross_border"]
        p_open = cross["open_probability"]
        k_foreign = cross["foreign_count"]
        floor = d["split"]["home_share_floor"]
        max_outlets = _increasing([int(x) for x in floor["max_outlets"]], "split.home_share_floor.max_outlets")
        shares = tuple(float(x) for x in floor["share"])
        if len(shares) != len(max_outlets) + 1:
            raise ValueError(
                "split.home_share_floor.share must have one entry more than max_outlets "
                f"(the last applies above the largest bound), got {len(shares)} and {len(max_outlets)}"
            )
        if not all(0.5 < h <= 1.0 for h in shares):
            # Above one half the home quota h·N exceeds one outlet for every N >= 2, so the home
            # always has mass to give when foreign countries are lifted to their first outlet.
            raise ValueError(f"split.home_share_floor.share must lie in (0.5, 1], got {list(shares)}")
        outlet_count = d["outlet_count"]
        return cls(
            version=int(d["version"]),
            home_gdp_exponent=float(merchants["home_country"]["gdp_exponent"]),
            home_floor_vs_uniform=float(merchants["home_country"]["floor_vs_uniform"]),
            sector_weights=weights,
            cnp_probability=_by_name(
                cnp.get("by_sector"), SECTORS, "merchants.card_not_present.by_sector", default=float(cnp["default"])
            ),
            gdp_band_edges=edges,
            hurdle=Effects.from_dict(d["hurdle"], "hurdle", n_bands),
            nb_mean=Effects.from_dict(outlet_count["mean"], "outlet_count.mean", n_bands, log_base=True),
            nb_dispersion=Effects.from_dict(
                outlet_count["dispersion"], "outlet_count.dispersion", n_bands, log_base=True
            ),
            nb_max_attempts=int(outlet_count["max_attempts"]),
            candidates=CandidatePolicy(
                gdp_exponent=float(cand["gdp_exponent"]),
                distance_exponent=float(cand["distance_exponent"]),
                distance_floor_km=float(cand["distance_floor_km"]),
                same_currency_bonus=float(cand["same_currency_bonus"]),
                same_region_bonus=float(cand["same_region_bonus"]),
                count_base=float(count["base"]),
                count_per_log_outlets=float(count["per_log_outlets"]),
                count_cap=int(count["cap"]),
                sanctioned=frozenset(cand.get("sanctioned_countries", ())),
            ),
            cross_border=CrossBorderPolicy(
                openness=_by_name(cross["openness"], SECTORS, "cross_border.openness"),
                p_intercept=float(p_open["intercept"]),
                p_openness=float(p_open["openness"]),
                p_channel=_by_name(p_open.get("channel"), CHANNELS, "cross_border.open_probability.channel"),
                p_log_outlets=float(p_open["log_outlets"]),
                theta0=float(k_foreign["theta0"]),
                theta_log_outlets=float(k_foreign["theta_log_outlets"]),
                theta_openness=float(k_foreign["theta_openness"]),
            ),
            home_share=HomeShareFloor(max_outlets=max_outlets, share=shares),
        )
