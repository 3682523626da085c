"""Keyed draws of the entity world: every number an entity gets comes from its own substream.

A draw is keyed on (label, the entity's id, a field code), so an entity's attributes never depend
on which other entities, or countries, are built in the same run, and `words` counts what each
label used for the run's RNG report.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtri

from engine_kernels.randomness.streams import unit_keys, unit_uniforms

__all__ = ["Draws"]


class Draws:
    def __init__(self, keys: Callable[[str], int]):
        self._keys = keys
        self._fields: dict[tuple[str, int], int] = {}
        self.words: dict[str, int] = {}

    def _key(self, label: str, field: int) -> int:
        """The key of (label, field): the field folded into the label's key once, not once per unit."""
        if (label, field) not in self._fields:
            self._fields[label, field] = int(unit_keys(self._keys(label), np.array([[field]], np.uint64))[0])
        return self._fields[label, field]

    def uniforms(self, label: str, ids: np.ndarray, k: int = 1, field: int = 0) -> np.ndarray:
        """float64 (n, k) in (0, 1): k uniforms of each unit id (uint64) under `label` and `field`."""
        ids = np.asarray(ids, np.uint64)
        self.words[label] = self.words.get(label, 0) + ids.shape[0] * k
        return unit_uniforms(unit_keys(self._key(label, field), ids[:, None]), k)

    def uniform(self, label: str, ids: np.ndarray, field: int = 0) -> np.ndarray:
        return self.uniforms(label, ids, 1, field)[:, 0]

    def normal(self, label: str, ids: np.ndarray, field: int = 0) -> np.ndarray:
        """Standard normals by inversion of the unit's uniform."""
        return ndtri(self.uniform(label, ids, field))

    def hashes(self, label: str, ids: np.ndarray) -> np.ndarray:
        """uint64 per unit: its key under `label`, a pseudo-random function of the id (opaque tokens)."""
        ids = np.asarray(ids, np.uint64)
        return unit_keys(self._keys(label), ids[:, None])


def pick(u: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """Index drawn by each uniform from rows of cumulative shares (n, k) or one row (k,)."""
    cumulative = np.asarray(cumulative)
    if cumulative.ndim == 1:
        return np.minimum(np.searchsorted(cumulative, u, side="right"), cumulative.shape[0] - 1)
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), cumulative.shape[1] - 1)
