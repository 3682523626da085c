"""Realism figures of arrivals (segment 5B validation).

dispersion_index   per row, Σ_h (n_h − λ_h)² / Σ_h λ_h over its hours: about 1 for Poisson counts
                   around the surface λ, above 1 when bursts and day effects spread them
"""

from __future__ import annotations

import numpy as np

__all__ = ["dispersion_index"]


def dispersion_index(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """[rows, hours] counts and expectations -> one index per row (a row expecting nothing divides by 1e-12)."""
    return ((observed - expected) ** 2).sum(axis=1) / np.maximum(expected.sum(axis=1), 1e-12)
