"""Keyed uniforms inside numba loops: a flow's draws under a label come from the Philox blocks of
the flow's unit key folded into the label's key, so they depend only on (seed, parameter hash,
label, unit) and never on which other flows share the day or the thread."""

from __future__ import annotations

import numpy as np
from numba import njit

from engine_kernels.randomness.streams import fold_id, stream_block

__all__ = ["block_uniforms", "unit_key"]

_SCALE = 2.3283064365386963e-10


@njit(cache=True, nogil=True)
def unit_key(label_key, a, b):
    """Key of the unit (a, b) under a label: both ids folded in, a at position 0 and b at 1."""
    return fold_id(fold_id(np.uint64(label_key), np.uint64(a), np.uint64(0)), np.uint64(b), np.uint64(1))


@njit(cache=True, nogil=True)
def block_uniforms(key, block):
    """Four uniforms on (0, 1) from block `block` of the unit's stream."""
    w = stream_block(key, np.uint64(block))
    return ((np.float64(w[0]) + 0.5) * _SCALE, (np.float64(w[1]) + 0.5) * _SCALE,
            (np.float64(w[2]) + 0.5) * _SCALE, (np.float64(w[3]) + 0.5) * _SCALE)
