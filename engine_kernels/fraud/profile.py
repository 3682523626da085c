"""Profile changes: a session may open with a change to its party's profile (a password reset, a
new e-mail address or phone number, a new payee), made at the session's start, before its first
payment.

An account takeover's sessions open with one at the takeover share (the fraudster locks the victim
out and adds the mule before draining); every other session at the far lower legitimate share,
mostly to add a payee. The draw is keyed on (party id, session start), so a session's change does
not depend on which other sessions the day holds.
"""

from __future__ import annotations

import numpy as np

from engine_kernels.entities.draws import pick
from engine_kernels.fraud.draws import uniforms
from engine_kernels.fraud.policy import ProfileChange

__all__ = ["profile_changes"]


def profile_changes(label_key: int, party_id: np.ndarray, start_us: np.ndarray, takeover: np.ndarray,
                    policy: ProfileChange) -> np.ndarray:
    """Per session: the index of its profile change in PROFILE_CHANGES, or -1 for none."""
    u = uniforms(label_key, party_id, start_us.astype(np.uint64), 2)
    share = np.where(takeover, policy.takeover_share, policy.legit_share)
    kind = pick(u[:, 1], np.cumsum(np.stack([policy.legit_kinds, policy.takeover_kinds]), axis=1)[takeover.astype(int)])
    return np.where(u[:, 0] < share, kind, -1).astype(np.int8)
