"""A day's account-to-account transfers (engine_kernels/flows/transfers.py): Poisson counts per
party, monthly credits on the keyed payday, payees near, in the household or abroad, the local
hour profile, amounts, and determinism."""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from engine_kernels.flows.transfers import BENEFIT, BILL, P2P, SALARY, day_transfers, transfer_unit

RETAIL, BUSINESS, OTHER = range(3)
DAY_US = 86_400_000_000
SIZES = (10_000, 6_000, 4_000)
P2P_RATE, BILL_RATE = np.array([0.5, 0.2, 0.1]), np.array([0.3, 1.0, 0.5])  # per day by party type (high, to count)


def _band(p, n):
    return 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9


def csr(group, n_groups):
    return np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups)))).astype(np.int64)


def _world(seed=1, offsets_h=(0,)):
    """20,000 parties in three countries, listed in home order (spatial = identity); 80% retail
    (70% of them salaried), 15% business, 5% other; 60% of the pairs (2j, 2j + 1) of list neighbours
    share a household; billers in
    countries 0 and 1 only. Prices: country 2 pays in a currency of 145 per dollar and minor unit 1."""
    rng = np.random.default_rng(seed)
    n = sum(SIZES)
    country = np.repeat(np.arange(3), SIZES).astype(np.int64)
    party_type = rng.choice(3, n, p=[0.80, 0.15, 0.05]).astype(np.int64)
    household = np.where(np.repeat(rng.random(n // 2) < 0.6, 2), np.arange(n) // 2, -1).astype(np.int64)
    business, other = np.flatnonzero(party_type == BUSINESS), np.flatnonzero(party_type == OTHER)
    billers = np.array([3, 5, 8, 13, 101, 102], np.int64)
    return SimpleNamespace(
        n=n, party_id=(np.arange(n, dtype=np.uint64) * np.uint64(7) + np.uint64(1_000)), party_type=party_type,
        salaried=(party_type == RETAIL) & (rng.random(n) < 0.7), income=rng.integers(0, 4, n).astype(np.int64),
        party_country=country, offset_s=(rng.choice(np.array(offsets_h), n) * 3_600).astype(np.int64),
        spatial=np.arange(n, dtype=np.int64), position=np.arange(n, dtype=np.int64), household=household,
        country_offsets=csr(country, 3), employers_offsets=csr(country[business], 3), employers=business,
        payers_offsets=csr(country[other], 3), payers=other, billers_offsets=np.array([0, 4, 6, 6]), billers=billers,
        price_fx=np.array([1.0, 0.9, 145.0]), minor_unit=np.array([0.01, 0.01, 1.0]))


def _rates(flows, **over):
    t = flows.transfers
    r = dict(p2p=P2P_RATE, bill=BILL_RATE, household=t.household_share,
             abroad=t.abroad_share, neighbourhood=t.neighbourhood)
    r.update(over)
    return SimpleNamespace(**r)


def _day(w, flows, key, day: dt.date, rates):
    t, a = flows.transfers, flows.amounts
    next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last_day = (next_month - dt.timedelta(days=1)).day
    d = (day - dt.date(1970, 1, 1)).days
    out = day_transfers(np.uint64(key("6b.transfer")), d, d * DAY_US, day.day, last_day, w.party_id, w.party_type,
                        w.salaried, w.income, w.party_country, w.offset_s, w.spatial, w.position, w.household,
                        w.country_offsets, w.employers_offsets, w.employers, w.payers_offsets, w.payers,
                        w.billers_offsets, w.billers, w.price_fx, w.minor_unit, rates.p2p, rates.bill,
                        rates.household, rates.abroad, rates.neighbourhood, t.paydays, t.payday_weights,
                        t.salary_usd, t.salary_sigma, t.benefit_usd, t.benefit_sigma, t.p2p_amount.median,
                        t.p2p_amount.sigma, t.p2p_round_share, t.bill_amount.median, t.bill_amount.sigma, t.hours,
                        a.ninety_nine, a.round_share)
    names = ("payer", "payee", "biller", "kind", "origin", "unit", "ts", "amount")
    return SimpleNamespace(day=d, start=d * DAY_US, **dict(zip(names, out)))


DAY = dt.date(2025, 6, 11)  # not a payday


@pytest.fixture(scope="module")
def world():
    return _world()


@pytest.fixture(scope="module")
def one_day(world, flows, key):
    return _day(world, flows, key, DAY, _rates(flows))


def test_counts_per_party_follow_the_poisson_rates(world, one_day):
    """Mean P2P and bill counts per party type are the daily rates (retail's within 5%, every type
    within its Poisson error), and the counts are Poisson: the share of parties with none is exp(-rate)."""
    d = one_day
    for kind, rate in ((P2P, P2P_RATE), (BILL, BILL_RATE)):
        counts = np.bincount(d.origin[d.kind == kind], minlength=world.n)
        for pt in range(3):
            mine = (world.party_type == pt) & ((world.party_country < 2) | (kind == P2P))
            assert counts[mine].mean() == pytest.approx(rate[pt], abs=4.5 * np.sqrt(rate[pt] / mine.sum())), (kind, pt)
            if pt == RETAIL:
                assert counts[mine].mean() == pytest.approx(rate[pt], rel=0.05), kind
            if mine.sum() > 3_000:
                assert (counts[mine] == 0).mean() == pytest.approx(np.exp(-rate[pt]), abs=0.02), (kind, pt)
    # A country without billers has no bills.
    assert not (d.kind[world.party_country[d.payer] == 2] == BILL).any()


def test_a_day_is_deterministic_and_units_are_distinct(world, flows, key, one_day):
    again = _day(world, flows, key, DAY, _rates(flows))
    for name in ("payer", "payee", "biller", "kind", "origin", "unit", "ts", "amount"):
        assert getattr(again, name).tolist() == getattr(one_day, name).tolist(), name
    units = set(zip(one_day.origin.tolist(), one_day.unit.tolist()))
    assert len(units) == one_day.origin.size
    k = one_day.unit & np.uint64(0xFFF)
    assert (one_day.unit == [transfer_unit(one_day.day, int(a), int(b)) for a, b in zip(one_day.kind, k)]).all()
    other = _day(world, flows, key, DAY + dt.timedelta(days=1), _rates(flows))
    assert other.ts.size != one_day.ts.size or other.payer.tolist() != one_day.payer.tolist()


def test_no_credits_off_payday_and_no_party_pays_itself(world, one_day):
    d = one_day
    assert not np.isin(d.kind, [SALARY, BENEFIT]).any()
    assert (d.payee != d.payer).all()
    assert (d.payee[d.kind == P2P] >= 0).all() and (d.payee[d.kind == BILL] == -1).all()
    assert (d.biller[d.kind == P2P] == -1).all()
    bills = d.kind == BILL
    c = world.party_country[d.payer[bills]]
    lo, hi = world.billers_offsets[c], world.billers_offsets[c + 1]
    idx = np.searchsorted(world.billers, d.biller[bills])
    assert ((idx >= lo) & (idx < hi) & (world.billers[np.minimum(idx, 5)] == d.biller[bills])).all()


def test_p2p_payees_abroad_live_elsewhere_and_the_others_nearby(world, flows, key):
    t = flows.transfers
    d = _day(world, flows, key, DAY, _rates(flows, p2p=np.array([2.0, 2.0, 2.0]), bill=np.zeros(3)))
    p2p = d.kind == P2P
    abroad = world.party_country[d.payee] != world.party_country[d.payer]
    assert abroad[p2p].mean() == pytest.approx(t.abroad_share, abs=_band(t.abroad_share, p2p.sum()))
    near = p2p & ~abroad
    gap = np.abs(world.position[d.payee[near]] - world.position[d.payer[near]])
    assert gap.min() >= 1 and gap.max() <= t.neighbourhood
    # Payers with a household member pay it at the household share (plus the rare neighbour draw
    # that lands on the member next door).
    has = world.household[d.payer[near]] >= 0
    same_household = world.household[d.payee[near]][has] == world.household[d.payer[near]][has]
    assert same_household.mean() == pytest.approx(t.household_share + 0.005, abs=_band(t.household_share, has.sum()) + 0.005)


def test_neighbour_payees_are_a_few_homes_away_on_either_side(world, flows, key):
    """Without households or abroad: the list distance is 1 + floor(Exp * N / 3) capped at N, on
    either side of the payer with equal odds."""
    n_hood = 200
    d = _day(world, flows, key, DAY, _rates(flows, p2p=np.full(3, 2.0), bill=np.zeros(3), household=0.0,
                                            abroad=0.0, neighbourhood=n_hood))
    step = world.position[d.payee] - world.position[d.payer]
    inner = (world.position[d.payer] >= n_hood) & (world.position[d.payer] < 10_000 - n_hood)  # away from edges
    gap = np.abs(step[inner])
    assert gap.min() >= 1 and gap.max() <= n_hood
    expected = 1 + np.minimum(np.floor(stats.expon.rvs(size=400_000, random_state=2) * n_hood / 3), n_hood - 1)
    assert gap.mean() == pytest.approx(expected.mean(), rel=0.03)
    assert (step[inner] > 0).mean() == pytest.approx(0.5, abs=_band(0.5, inner.sum()))


def test_the_side_of_a_neighbour_payee_does_not_depend_on_the_hour(world, flows, key):
    """Where the payee lives (before or after the payer in the home list) and when the payment is
    made are separate draws: payees after the payer are half of the morning's and half of the
    evening's payments."""
    d = _day(world, flows, key, DAY, _rates(flows, p2p=np.full(3, 2.0), bill=np.zeros(3), household=0.0,
                                            abroad=0.0, neighbourhood=50))
    inner = (world.position[d.payer] >= 50) & (world.position[d.payer] < 10_000 - 50)
    after = (world.position[d.payee] > world.position[d.payer])[inner]
    hour = ((d.ts[inner] - d.start) // 3_600_000_000 + world.offset_s[d.payer[inner]] // 3_600) % 24
    for name, when in (("morning", hour < 12), ("evening", hour >= 15)):
        assert after[when].mean() == pytest.approx(0.5, abs=_band(0.5, when.sum())), name


def test_local_hours_follow_the_policy_profile(flows, key):
    """Payers in zones from UTC-5 to UTC+9: the payer's local hour of its transfers follows the
    policy's 24-hour profile, and every time falls inside the UTC day."""
    w = _world(seed=2, offsets_h=(-5, 0, 1, 9))
    d = _day(w, flows, key, DAY, _rates(flows))
    assert (d.ts >= d.start).all() and (d.ts < d.start + DAY_US).all()
    local = ((d.ts - d.start) // 1_000_000 + w.offset_s[d.payer]) % 86_400
    counts = np.bincount(local // 3_600, minlength=24)
    expected = np.diff(flows.transfers.hours, prepend=0.0) * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 0.001


def test_amounts_are_log_normal_in_the_payer_s_money(world, one_day, flows):
    t = flows.transfers
    d = one_day
    for kind, median in ((P2P, t.p2p_amount.median), (BILL, t.bill_amount.median)):
        for c in (0, 1):
            x = d.amount[(d.kind == kind) & (world.party_country[d.payer] == c)]
            assert np.median(x) == pytest.approx(median * world.price_fx[c], rel=0.08), (kind, c)
            assert (x >= 0.01).all() and np.allclose(np.round(x / 0.01) * 0.01, x)
    jpy = d.amount[world.party_country[d.payer] == 2]
    assert (jpy >= 1).all() and (jpy == np.round(jpy)).all()
    p2p = d.amount[(d.kind == P2P) & (world.party_country[d.payer] == 0)]
    scale = 10.0 ** (np.floor(np.log10(p2p)) - 1)
    on_five = np.isclose(p2p / (5 * scale), np.round(p2p / (5 * scale)))
    assert on_five.mean() == pytest.approx(t.p2p_round_share, abs=_band(t.p2p_round_share, p2p.size) + 0.01)


@pytest.fixture(scope="module")
def credits(world, flows, key):
    """The monthly credits of every day of June and of July 2025 (no P2P or bills)."""
    none = _rates(flows, p2p=np.zeros(3), bill=np.zeros(3))
    out = {}
    for month in (6, 7):
        days = [dt.date(2025, month, d) for d in range(1, 32 if month == 7 else 31)]
        got = [_day(world, flows, key, day, none) for day in days]
        kind = np.concatenate([g.kind for g in got])
        out[month] = SimpleNamespace(
            dom=np.concatenate([np.full(g.kind.size, day.day) for g, day in zip(got, days)]), kind=kind,
            payer=np.concatenate([g.payer for g in got]), payee=np.concatenate([g.payee for g in got]),
            amount=np.concatenate([g.amount for g in got]))
    return out


def test_each_retail_party_is_credited_once_a_month_on_its_payday(world, credits, flows):
    t = flows.transfers
    june = credits[6]
    assert np.isin(june.kind, [SALARY, BENEFIT]).all()
    per_party = np.bincount(june.payee, minlength=world.n)
    assert (per_party[world.party_type == RETAIL] == 1).all() and (per_party[world.party_type != RETAIL] == 0).all()
    # June has 30 days: payday 31 is paid on the 30th.
    days = np.minimum(t.paydays, 30)
    assert np.isin(june.dom, days).all()
    shares = np.array([(june.dom == d).mean() for d in days])
    weights = np.diff(t.payday_weights, prepend=0.0)
    assert shares == pytest.approx(weights, abs=0.015)
    # Salaried parties get a salary from a business of their country, the others a benefit from a public body.
    salaried = world.salaried[june.payee]
    assert ((june.kind == SALARY) == salaried).all()
    assert (world.party_type[june.payer[june.kind == SALARY]] == BUSINESS).all()
    assert (world.party_type[june.payer[june.kind == BENEFIT]] == OTHER).all()
    assert (world.party_country[june.payer] == world.party_country[june.payee]).all()


def test_the_payday_and_the_employer_are_the_same_every_month(world, credits):
    june, july = credits[6], credits[7]
    order6, order7 = np.argsort(june.payee), np.argsort(july.payee)
    assert june.payee[order6].tolist() == july.payee[order7].tolist()
    assert june.payer[order6].tolist() == july.payer[order7].tolist()
    # The same day, except that payday 31 is the 30th in June.
    assert (np.where(july.dom[order7] == 31, 30, july.dom[order7]) == june.dom[order6]).all()


def test_salary_amounts_follow_the_income_band(world, credits, flows):
    t = flows.transfers
    june = credits[6]
    for band in range(4):
        for kind, base, sigma in ((SALARY, t.salary_usd, t.salary_sigma), (BENEFIT, t.benefit_usd, t.benefit_sigma)):
            mine = (june.kind == kind) & (world.income[june.payee] == band) & (world.party_country[june.payee] == 0)
            x = june.amount[mine]
            assert np.median(x) == pytest.approx(base[band], rel=3 * sigma / np.sqrt(mine.sum()) + 0.01), (band, kind)
            assert np.log(x).std() == pytest.approx(sigma, rel=0.15), (band, kind)
