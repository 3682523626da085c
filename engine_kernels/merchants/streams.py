"""Per-merchant substreams of segment 1A and the accounting of the words they consume.

Every 1A draw of merchant m under label L comes from the Philox substream
unit_keys(keys(L), [[m]]): its value depends on (seed, policies, L, m) only, never on which other
merchants are built alongside it or in which order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from engine_kernels.randomness.streams import unit_keys, unit_uniforms

__all__ = ["KeySource", "merchant_keys", "merchant_uniforms", "merge_draws"]

KeySource = Callable[[str], int]
"""Label -> 64-bit base key of its substream family (the engine passes identity.substream_key)."""


def merchant_keys(keys: KeySource, label: str, merchant_ids: np.ndarray) -> np.ndarray:
    """uint64[n]: the substream key of each merchant under `label`."""
    return unit_keys(keys(label), merchant_ids.reshape(-1, 1))


def merchant_uniforms(keys: KeySource, label: str, merchant_ids: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """float64[n, k] uniforms on (0, 1), one 32-bit word each, and the words consumed (n·k)."""
    u = unit_uniforms(merchant_keys(keys, label, merchant_ids), k)
    return u, int(u.size)


def merge_draws(*parts: Mapping[str, int]) -> dict[str, int]:
    """Sum word counts per label, labels sorted."""
    total: dict[str, int] = {}
    for part in parts:
        for label, words in part.items():
            total[label] = total.get(label, 0) + int(words)
    return dict(sorted(total.items()))
