"""Profile changes at the start of sessions (engine_kernels/fraud/profile.py): their shares and kinds."""

import numpy as np
from scipy import stats

from engine_kernels.fraud.policy import ProfileChange
from engine_kernels.fraud.profile import profile_changes
from engine_kernels.vocabulary import PROFILE_CHANGES

POLICY = ProfileChange(takeover_share=0.75, takeover_kinds=np.array([0.4, 0.3, 0.3, 0.0]), legit_share=0.02,
                       legit_kinds=np.array([0.0, 0.0, 0.0, 1.0]))


def _draw(n: int, takeover: bool, key: int = 11) -> np.ndarray:
    party = np.arange(1, n + 1, dtype=np.uint64)
    start = (party.astype(np.int64) * 7_919) % 86_400_000_000
    return profile_changes(key, party, start, np.full(n, takeover), POLICY)


def test_takeover_sessions_change_the_profile_at_their_share_and_kinds():
    changes = _draw(40_000, True)
    made = changes[changes >= 0]
    assert stats.binomtest(made.size, changes.size, 0.75).pvalue > 1e-3
    counts = np.bincount(made, minlength=len(PROFILE_CHANGES))
    assert counts[3] == 0  # a kind with no share never comes up
    assert stats.chisquare(counts[:3], made.size * np.array([0.4, 0.3, 0.3])).pvalue > 1e-3


def test_other_sessions_change_it_rarely_and_only_to_their_kinds():
    changes = _draw(100_000, False)
    made = changes[changes >= 0]
    assert stats.binomtest(made.size, changes.size, 0.02).pvalue > 1e-3
    assert set(made.tolist()) == {PROFILE_CHANGES.index("new_payee")}


def test_a_session_draws_the_same_change_alone_or_among_others():
    whole = _draw(5_000, True)
    party = np.arange(1, 5_001, dtype=np.uint64)[1234:1240]
    alone = profile_changes(11, party, (party.astype(np.int64) * 7_919) % 86_400_000_000, np.ones(6, bool), POLICY)
    assert alone.tolist() == whole[1234:1240].tolist()
    assert not np.array_equal(_draw(5_000, True, key=12), whole)  # the key matters
