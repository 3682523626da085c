"""The bank's authorisation rule: a logistic score over what is known when a payment asks for
authorisation, with keyed noise for everything the rule sees that the data does not show.

Its inputs are static facts of the flow and the world (is the device one the party registered, is
the address a datacentre's, ...), never the day's other flows, so a day's decisions do not depend
on how days are batched. Velocities belong to the training table (seg_6b/transactions).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine_kernels.fraud.draws import log_normal
from engine_kernels.fraud.policy import Rule

__all__ = ["is_member", "rule_scores"]


@njit(cache=True, parallel=True, nogil=True)
def _member(offsets, values, group, x, out):
    for i in prange(group.shape[0]):
        g = group[i]
        out[i] = False
        if g < 0 or x[i] < 0:
            continue
        for j in range(offsets[g], offsets[g + 1]):
            if values[j] == x[i]:
                out[i] = True
                break


def is_member(offsets: np.ndarray, values: np.ndarray, group: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether x[i] is in group[i]'s slice of a CSR list (false where either is -1)."""
    out = np.empty(group.size, np.bool_)
    _member(offsets, values, np.ascontiguousarray(group, np.int64), np.ascontiguousarray(x, np.int64), out)
    return out


def rule_scores(u: np.ndarray, features, rule: Rule) -> np.ndarray:
    """Score in (0, 1) of each flow: sigmoid(intercept + sum of weight x feature + noise), the
    features in RULE_FEATURES order (one array each: a day holds ~3M flows, so no matrix), the
    noise normal with the policy's sigma from each flow's own uniform u."""
    logit = np.log(log_normal(u, 1.0, rule.noise_sigma)) + rule.intercept
    for weight, feature in zip(rule.weights, features, strict=True):
        logit += weight * feature
    return 1.0 / (1.0 + np.exp(-logit))
