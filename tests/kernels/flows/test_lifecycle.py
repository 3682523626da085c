"""Payment lifecycles (engine_kernels/flows/lifecycle.py: lifecycle, expand_events) under the policy
of config/policies/6b.yaml: decline rates and reasons, latency, 3-D Secure, partial approvals,
reversals, clearing, refunds, settlement of transfers, and the events each flow expands to."""

from types import SimpleNamespace

import numpy as np
import pytest

from engine_kernels.flows.lifecycle import expand_events, lifecycle
from engine_kernels.vocabulary import (
    ATM_WITHDRAWAL,
    CNP_PURCHASE,
    CP_PURCHASE,
    DECLINE_REASONS,
    EVENT_TYPES,
    OUTCOMES,
    THREE_DS_RESULTS,
    TRANSFER,
)

APPROVED, PARTIAL, DECLINED, AUTH_FAILED = range(len(OUTCOMES))
FRICTIONLESS, CHALLENGE_PASSED, CHALLENGE_FAILED = range(len(THREE_DS_RESULTS))
AUTHENTICATION, AUTH_REQUEST, AUTH_RESPONSE, REVERSAL, CLEARING, REFUND = range(len(EVENT_TYPES))
T0 = 1_750_000_000_000_000  # µs, mid-June 2025
HOUR_US = 3_600_000_000
INCOME = 2  # upper_middle


def _band(p, n):
    return 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9


def _flows(n_per_type, types=(CP_PURCHASE, CNP_PURCHASE, ATM_WITHDRAWAL, TRANSFER), three_ds=0.0, ratio=1.0,
           income=INCOME, partial_ok=False, settle=4.0, declinable=True, amount=50.0, seed=1):
    rng = np.random.default_rng(seed)
    t = np.repeat(np.array(types, np.int8), n_per_type)
    n = t.size
    return SimpleNamespace(
        unit_a=rng.choice(2**40, n, replace=False).astype(np.uint64), unit_b=np.zeros(n, np.uint64), flow_type=t,
        ts_utc=T0 + rng.integers(0, 86_400_000_000, n), amount=np.full(n, amount),
        amount_ratio=np.full(n, float(ratio)), income=np.full(n, income, np.int64), minor_unit=np.full(n, 0.01),
        partial_ok=np.full(n, partial_ok), three_ds_rate=np.full(n, float(three_ds)), settle_hours=np.full(n, settle),
        declinable=np.full(n, declinable))


def _run(key, f, flows, rows=None):
    rows = np.arange(f.flow_type.size) if rows is None else rows
    return lifecycle(key("6b.lifecycle"), f.unit_a[rows], f.unit_b[rows], f.flow_type[rows], f.ts_utc[rows],
                     f.amount[rows], f.amount_ratio[rows], f.income[rows], f.minor_unit[rows], f.partial_ok[rows],
                     f.three_ds_rate[rows], f.settle_hours[rows], f.declinable[rows], flows.authorisation,
                     flows.lifecycle)


@pytest.fixture(scope="module")
def plain(flows, key):
    """100,000 flows of each type, amount at the sector median, no 3-D Secure, no partial approvals."""
    f = _flows(100_000)
    return f, _run(key, f, flows)


@pytest.fixture(scope="module")
def online(flows, key):
    """100,000 card-not-present purchases, 3-D Secure at 20%."""
    f = _flows(100_000, types=(CNP_PURCHASE,), three_ds=0.2, seed=2)
    return f, _run(key, f, flows)


def test_decline_rate_is_the_policy_rate_times_the_income_odds(plain, flows):
    f, life = plain
    auth = flows.authorisation
    for t in range(4):
        mine = f.flow_type == t
        p = auth.decline[t] * auth.income_odds[INCOME]
        got = (life.outcome[mine] == DECLINED).mean()
        assert got == pytest.approx(p, abs=_band(p, mine.sum())), t


def test_decline_rate_rises_with_amount_and_income_odds_and_stops_at_one_half(flows, key):
    auth = flows.authorisation
    for income, ratio in ((0, 4.0), (3, 0.25), (0, 1_000.0)):
        f = _flows(50_000, types=(CNP_PURCHASE,), income=income, ratio=ratio, seed=3)
        life = _run(key, f, flows)
        p = min(auth.decline[CNP_PURCHASE] * auth.income_odds[income] * ratio ** auth.amount_elasticity, 0.5)
        assert (life.outcome == DECLINED).mean() == pytest.approx(p, abs=_band(p, 50_000)), (income, ratio)


def test_payers_that_cannot_be_declined_never_are(flows, key):
    f = _flows(20_000, declinable=False, ratio=1_000.0, seed=4)
    life = _run(key, f, flows)
    assert not (life.outcome == DECLINED).any() and (life.reason == -1).all()


def test_decline_reasons_follow_the_policy_table(flows, key):
    f = _flows(60_000, ratio=1e6, seed=5)  # every declinable flow at the 50% cap
    life = _run(key, f, flows)
    table = np.diff(flows.authorisation.reasons, prepend=0.0, axis=1)
    for t in range(4):
        declined = (f.flow_type == t) & (life.outcome == DECLINED)
        assert declined.sum() > 25_000
        shares = np.bincount(life.reason[declined], minlength=len(DECLINE_REASONS)) / declined.sum()
        for r in range(len(DECLINE_REASONS)):
            assert shares[r] == pytest.approx(table[t, r], abs=_band(table[t, r], declined.sum())), (t, r)
    assert (life.reason[life.outcome != DECLINED] == -1).all()
    never = np.flatnonzero(table[TRANSFER] == 0)  # reasons the policy never gives transfers
    assert not np.isin(life.reason[(f.flow_type == TRANSFER) & (life.outcome == DECLINED)], never).any()


def test_latency_is_log_normal_inside_the_timeout(plain, flows):
    f, life = plain
    lat = flows.authorisation.latency
    ms = life.latency_us[life.auth_at >= 0] / 1_000
    assert np.median(ms) == pytest.approx(lat.median, rel=0.02)
    assert np.log(ms).std() == pytest.approx(lat.sigma, rel=0.03)
    assert np.percentile(ms, 99) < 2_000 and ms.min() >= 1 and ms.max() <= lat.cap


def test_three_ds_attempts_results_and_timing(online, flows):
    """3-D Secure at the flow's rate; frictionless at the policy share taking [0.8, 4] s;
    challenges fail at the policy share and a failure ends the flow before authorisation."""
    f, life = online
    auth = flows.authorisation
    tried = life.three_ds >= 0
    assert tried.mean() == pytest.approx(0.2, abs=_band(0.2, tried.size))
    frictionless = life.three_ds == FRICTIONLESS
    assert frictionless.sum() / tried.sum() == pytest.approx(auth.frictionless, abs=_band(auth.frictionless,
                                                                                          tried.sum()))
    challenged = np.isin(life.three_ds, [CHALLENGE_PASSED, CHALLENGE_FAILED])
    failed = life.three_ds == CHALLENGE_FAILED
    p = auth.challenge_failure
    assert failed.sum() / challenged.sum() == pytest.approx(p, abs=_band(p, challenged.sum()))
    assert (life.outcome[failed] == AUTH_FAILED).all() and (life.outcome[~failed] != AUTH_FAILED).all()
    assert (life.auth_at[failed] == -1).all() and (life.events[failed] == 1).all()
    assert (life.clearing_at[failed] == -1).all() and (life.approved[failed] == 0).all()
    wait = (life.auth_at - f.ts_utc) / 1e6
    lo, hi = auth.frictionless_seconds
    assert (wait[frictionless] >= lo - 1e-6).all() and (wait[frictionless] <= hi).all()
    passed = life.three_ds == CHALLENGE_PASSED
    assert np.median(wait[passed]) == pytest.approx(auth.challenge_seconds.median, rel=0.05)
    assert (wait[passed] <= 600).all() and (wait[~tried] == 0).all()


def test_approved_amount_clearing_and_reversal(plain, flows):
    """Approved flows carry their amount; clearing only for approved flows not reversed (card
    present within the policy cap); reversals at the policy share of approvals."""
    f, life = plain
    ok = np.isin(life.outcome, [APPROVED, PARTIAL])
    assert (life.approved[life.outcome == APPROVED] == f.amount[life.outcome == APPROVED]).all()
    assert (life.approved[~ok] == 0).all()
    assert ((life.clearing_at >= 0) == (ok & (life.reversal_at < 0))).all()
    responded = life.auth_at + life.latency_us
    for t in (CP_PURCHASE, CNP_PURCHASE, ATM_WITHDRAWAL):
        mine = (f.flow_type == t) & ok
        p = flows.lifecycle.reversal_share[t]
        assert (life.reversal_at[mine] >= 0).mean() == pytest.approx(p, abs=_band(p, mine.sum())), t
        rev = mine & (life.reversal_at >= 0)
        assert (life.reversal_at[rev] - responded[rev] <= 1_440 * 60_000_000).all()
        cleared = mine & (life.clearing_at >= 0)
        hours = (life.clearing_at[cleared] - responded[cleared]) / HOUR_US
        spec = flows.lifecycle.clearing_hours[t]
        assert hours.max() <= spec.cap and hours.min() > 0, t
        assert np.median(hours) == pytest.approx(spec.median, rel=0.03), t


def test_transfers_settle_after_the_rail_s_hours_and_are_never_reversed_or_refunded(plain, flows, key):
    f, life = plain
    mine = (f.flow_type == TRANSFER) & (life.outcome == APPROVED)
    responded = life.auth_at + life.latency_us
    assert (life.clearing_at[mine] - responded[mine] == 4 * HOUR_US).all()
    transfers = f.flow_type == TRANSFER
    assert (life.reversal_at[transfers] == -1).all() and (life.refund_at[transfers] == -1).all()
    instant = _flows(1_000, types=(TRANSFER,), settle=0.0, seed=6)
    got = _run(key, instant, flows)
    ok = got.outcome == APPROVED
    assert (got.clearing_at[ok] - got.auth_at[ok] - got.latency_us[ok] == 1_000).all()  # at least 1 ms later


def test_refunds_of_cleared_purchases(plain, flows):
    """Refunds follow clearing at the policy share, never exceed the approved amount, are partial at
    the policy share; ATM withdrawals are never refunded."""
    f, life = plain
    pol = flows.lifecycle
    assert (life.refund_at[f.flow_type == ATM_WITHDRAWAL] == -1).all()
    for t in (CP_PURCHASE, CNP_PURCHASE):
        cleared = (f.flow_type == t) & (life.clearing_at >= 0)
        refunded = cleared & (life.refund_at >= 0)
        p = pol.refund_share[t]
        assert refunded.sum() / cleared.sum() == pytest.approx(p, abs=_band(p, cleared.sum())), t
        assert (life.refund_at[refunded] > life.clearing_at[refunded]).all()
        days = (life.refund_at[refunded] - life.clearing_at[refunded]) / (24 * HOUR_US)
        assert days.max() <= pol.refund_days.cap and np.median(days) == pytest.approx(pol.refund_days.median, rel=0.1)
    refunded = life.refund_at >= 0
    amounts, approved = life.refund_amount[refunded], life.approved[refunded]
    assert (amounts <= approved).all() and (amounts >= 0.01).all()
    partial = amounts < approved
    p = pol.partial_refund_share
    assert partial.mean() == pytest.approx(p, abs=_band(p, refunded.sum()))
    lo, hi = pol.partial_refund_fraction
    fraction = amounts[partial] / approved[partial]
    assert fraction.min() >= lo - 0.001 and fraction.max() <= hi + 0.001
    assert (life.refund_amount[~refunded] == 0).all()


def test_partial_approvals_grant_a_fraction_where_allowed(flows, key):
    auth = flows.authorisation
    f = _flows(100_000, types=(CP_PURCHASE,), partial_ok=True, seed=7)
    life = _run(key, f, flows)
    ok = np.isin(life.outcome, [APPROVED, PARTIAL])
    partial = life.outcome == PARTIAL
    p = auth.partial_share
    assert partial.sum() / ok.sum() == pytest.approx(p, abs=_band(p, ok.sum()))
    fraction = life.approved[partial] / f.amount[partial]
    lo, hi = auth.partial_fraction
    assert fraction.min() >= lo - 0.001 and fraction.max() <= hi + 0.001
    assert np.allclose(np.round(life.approved[partial] / 0.01) * 0.01, life.approved[partial])


def test_lifecycle_is_order_free(plain, flows, key):
    f, life = plain
    rows = np.random.default_rng(8).permutation(f.flow_type.size)[:5_000]
    part = _run(key, f, flows, rows)
    for whole, alone in zip(life.arrays(), part.arrays()):
        assert whole[rows].tolist() == alone.tolist()


def _events(f, life):
    return expand_events(f.ts_utc, f.amount, life)


@pytest.mark.parametrize("which", ["plain", "online"])
def test_events_of_each_flow_are_in_order_and_counted(which, request):
    """expand_events: life.events rows per flow, seq 0..k-1, strictly increasing times, types in
    lifecycle order, the first at the flow's time; response codes 0 approved, 1 partial, 2 + reason."""
    f, life = request.getfixturevalue(which)
    row, seq, kind, at, value, code = _events(f, life)
    assert np.bincount(row, minlength=f.flow_type.size).tolist() == life.events.tolist()
    assert (np.diff(row) >= 0).all()
    first = np.concatenate(([0], np.cumsum(life.events)[:-1]))
    expected_seq = np.arange(row.size) - np.repeat(first, life.events)
    assert seq.tolist() == expected_seq.tolist()
    same = row[1:] == row[:-1]
    assert (np.diff(at)[same] > 0).all() and (np.diff(kind)[same] > 0).all()
    assert (at[seq == 0] == f.ts_utc[row[seq == 0]]).all()
    responses = kind == AUTH_RESPONSE
    r = row[responses]
    expected = np.where(life.outcome[r] == PARTIAL, 1, np.where(life.outcome[r] == DECLINED, 2 + life.reason[r], 0))
    assert code[responses].tolist() == expected.tolist() and (code[~responses] == -1).all()
    assert (value[responses] == life.approved[r]).all()
    assert (kind == REFUND).sum() == (life.refund_at >= 0).sum()
    assert (kind == AUTHENTICATION).sum() == (life.three_ds >= 0).sum()


def test_event_counts_by_path(plain):
    """Declined: request + response; approved: + clearing (+ refund) or + reversal."""
    f, life = plain
    declined = life.outcome == DECLINED
    assert (life.events[declined] == 2).all()
    ok = ~declined
    expected = 2 + (life.reversal_at[ok] >= 0) + (life.clearing_at[ok] >= 0) + (life.refund_at[ok] >= 0)
    assert (life.events[ok] == expected).all()
    assert life.events.sum() == _events(f, life)[0].size


def test_forced_declines_and_claimed_refunds_leave_every_other_flow_as_it_was(plain, flows, key):
    """A forced decline reason wins over the draws where the payer can be declined; a claimed refund
    is full and comes the claimed days after clearing; the other flows' lifecycles do not move."""
    f, before = plain
    n = f.flow_type.size
    forced = np.full(n, -1, np.int8)
    forced[::7] = DECLINE_REASONS.index("invalid_card_data")
    claimed = np.full(n, np.nan)
    claimed[3::11] = 4.0
    life = lifecycle(key("6b.lifecycle"), f.unit_a, f.unit_b, f.flow_type, f.ts_utc, f.amount, f.amount_ratio, f.income,
                     f.minor_unit, f.partial_ok, f.three_ds_rate, f.settle_hours, f.declinable,
                     flows.authorisation, flows.lifecycle, forced, claimed)
    hit = forced >= 0
    assert (life.outcome[hit] == DECLINED).all()
    assert (life.reason[hit] == DECLINE_REASONS.index("invalid_card_data")).all()
    untouched = ~hit & np.isnan(claimed)
    for name in ("outcome", "reason", "auth_at", "clearing_at", "refund_at", "approved"):
        assert np.array_equal(getattr(life, name)[untouched], getattr(before, name)[untouched]), name
    refunded = ~hit & ~np.isnan(claimed) & (life.clearing_at >= 0) & (f.flow_type != TRANSFER)
    assert refunded.sum() > 1_000
    assert (life.refund_at[refunded] - life.clearing_at[refunded] == 4 * 24 * HOUR_US).all()
    assert np.array_equal(life.refund_amount[refunded], life.approved[refunded])
    assert (life.reversal_at[refunded] < 0).all()
