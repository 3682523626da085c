"""Realism figures of arrivals (segment 5B validation).

dispersion_index   per row, Σ_h (n_h − λ_h)² / Σ_h λ_h over its hours: about 1 for Poisson counts
                   around the surface λ, above 1 when bursts and day effects spread them
effective_groups   per class, how many burst groups its expected arrivals spread over, counted
                   as if equal: (Σ_g w_g)² / Σ_g w_g²
"""

from __future__ import annotations

import numpy as np

__all__ = ["dispersion_index", "effective_groups"]


def dispersion_index(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """[rows, hours] counts and expectations -> one index per row (a row expecting nothing divides by 1e-12)."""
    return ((observed - expected) ** 2).sum(axis=1) / np.maximum(expected.sum(axis=1), 1e-12)


def effective_groups(klass: np.ndarray, group: np.ndarray, weight: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class index 0..n_classes-1, (Σ_g w_g)² / Σ_g w_g² over its burst groups, w_g the summed
    `weight` of the group's rows (rows of one group share a class); 0 for a class without weight.

    Rows of a group share one burst path, so a class whose arrivals sit mostly in one group follows
    that path, whatever its arrival count: this is the number of independent paths it averages."""
    klass, group, weight = np.asarray(klass, np.int64), np.asarray(group, np.int64), np.asarray(weight, float)
    stride = int(group.max()) + 1 if group.size else 1
    keys, at = np.unique(klass * stride + group, return_inverse=True)
    by_group = np.bincount(at, weight, keys.size)
    group_class = keys // stride
    total = np.bincount(group_class, by_group, n_classes)
    squares = np.bincount(group_class, by_group ** 2, n_classes)
    return np.divide(total ** 2, squares, out=np.zeros(n_classes), where=squares > 0)
