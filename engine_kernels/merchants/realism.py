"""Realism figures of a 1A universe, for the design's corridors.

single_site_share          share of merchants with N = 1                         (corridor 0.35–0.55)
median_multi_site_outlets  median N over multi-site merchants                    (6–20)
top10_outlet_share         outlets held by the 10% of merchants with most outlets (0.35–0.55)
gini_outlets               Gini of N over all merchants:
                           G = Σ_i (2i − n − 1)·x_(i) / (n·Σ x), x ascending     (0.45–0.62)
foreign_outlet_share       outlets outside the home country / all outlets        (0.08–0.20)
foreign_share_by_size_band foreign outlet share within the size bands of SIZE_BANDS
foreign_share_increasing   True when that share rises strictly from band to band (empty bands skipped)
max_outlets                largest N
cross_border_share         share of multi-site merchants with a foreign outlet
dispersion_cv              coefficient of variation of φ over multi-site merchants (0.05–0.20)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SIZE_BANDS", "RealismPolicy", "gini", "realism_figures"]

# Multi-site size bands (inclusive bounds; None means no upper bound), aligned with the default
# home-share steps so each band has one home floor.
SIZE_BANDS: tuple[tuple[int, int | None], ...] = ((2, 10), (11, 20), (21, 40), (41, None))


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are equal)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.shape[0]
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * x.sum()))


def realism_figures(
    n_total: np.ndarray, is_multi_site: np.ndarray, nb_phi: np.ndarray,
    member_of: np.ndarray, n_country: np.ndarray, is_home: np.ndarray,
) -> dict[str, float]:
    """The figures listed in the module docstring (a list for the size bands, a bool for the trend).

    Per merchant: n_total, is_multi_site and nb_phi (NaN for single-site merchants). Per
    membership row: member_of (index of its merchant in those arrays), n_country and is_home.
    """
    n_total = np.asarray(n_total).astype(np.int64)
    multi = np.asarray(is_multi_site).astype(bool)
    nb_phi = np.asarray(nb_phi, dtype=np.float64)
    phi = nb_phi[~np.isnan(nb_phi)]
    member_of = np.asarray(member_of)
    abroad = ~np.asarray(is_home).astype(bool)
    n_country = np.asarray(n_country).astype(np.int64)
    n = n_total.shape[0]

    top = np.sort(n_total)[::-1][: int(np.ceil(0.1 * n))]
    row_total = n_total[member_of]

    by_band = []
    for low, high in SIZE_BANDS:
        in_band = (row_total >= low) & (row_total <= (high if high is not None else np.iinfo(np.int64).max))
        outlets = n_country[in_band].sum()
        by_band.append(float(n_country[in_band & abroad].sum() / outlets) if outlets else float("nan"))
    present = [s for s in by_band if not np.isnan(s)]
    foreign_merchants = np.unique(member_of[abroad]).shape[0]
    return {
        "merchants": float(n),
        "outlets": float(n_total.sum()),
        "single_site_share": float(1.0 - multi.mean()),
        "median_multi_site_outlets": float(np.median(n_total[multi])) if multi.any() else float("nan"),
        "top10_outlet_share": float(top.sum() / n_total.sum()),
        "gini_outlets": gini(n_total),
        "foreign_outlet_share": float(n_country[abroad].sum() / n_country.sum()),
        "foreign_share_by_size_band": by_band,
        "foreign_share_increasing": bool(all(b > a for a, b in zip(present, present[1:]))),
        "max_outlets": float(n_total.max()),
        "cross_border_share": float(foreign_merchants / multi.sum()) if multi.any() else 0.0,
        "dispersion_cv": float(phi.std() / phi.mean()) if phi.size else float("nan"),
    }


@dataclass(frozen=True)
class RealismPolicy:
    """Corridors of the segment validation: figure name -> (low, high); a world with fewer merchants
    than enforce_from_merchants reports its figures without a verdict."""

    enforce_from_merchants: int
    corridors: dict[str, tuple[float, float]]
