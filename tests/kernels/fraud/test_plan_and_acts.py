"""The fraud plan and its acts (engine_kernels/fraud/plan.py, acts.py) on a small hand-made world
under config/policies/fraud.yaml: counts around the policy's rates, targets through roles and
exposure, and what each campaign type does."""

import dataclasses

import numpy as np
import pytest
import yaml

from engine_assets.run.config import CONFIG_DIR
from engine_assets.run.fraud_policy import parse_fraud
from engine_kernels.fraud.acts import NearSites, Places, Weighted, draw_acts
from engine_kernels.flows.patronage import great_circle_km
from engine_kernels.fraud.plan import (
    APP,
    ATO,
    CARD_TESTING,
    COLLUSION,
    DAY_US,
    FIRST_PARTY,
    MULE,
    REFUND,
    STOLEN,
    VICTIM,
    Pools,
    draw_plan,
)
from engine_kernels.randomness.streams import label_key
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, CP_PURCHASE, FRAUD_TYPES, TRANSFER

PH = "ab" * 32
FIRST_DAY = 20_500
N_DAYS = 60
N_PARTIES = 2_000_000  # the rates are per million parties: enough campaigns of every type
SCALE = 40  # the small world's parties stand for this many


def keys(label):
    return label_key(7, PH, label)


@pytest.fixture(scope="module")
def policy():
    with open(CONFIG_DIR / "policies" / "fraud.yaml") as f:
        return parse_fraud(yaml.safe_load(f))[0]


@pytest.fixture(scope="module")
def world():
    """50,000 parties in 4 countries, 400 sites with 30 regulars each, 200 edges, a few roles."""
    rng = np.random.default_rng(3)
    n_parties, n_sites, n_edges, n_merchants = 50_000, 400, 200, 150
    party_country = rng.integers(0, 4, n_parties)
    first_card = np.where(rng.random(n_parties) < 0.9, np.arange(n_parties) + 1_000_000, -1)
    regular_party = np.concatenate([rng.choice(n_parties, 30, replace=False) for _ in range(n_sites)])
    site_merchant = rng.integers(0, n_merchants, n_sites)
    site_country = rng.integers(0, 4, n_sites)
    # four countries side by side along the equator, 10 degrees each; homes and sites in their own
    site_lat, site_lon = rng.uniform(-5, 5, n_sites), site_country * 10 + rng.uniform(-5, 5, n_sites)
    home_lat, home_lon = rng.uniform(-5, 5, n_parties), party_country * 10 + rng.uniform(-5, 5, n_parties)
    edge_merchant = rng.integers(0, n_merchants, n_edges)
    cash = np.sort(rng.choice(n_sites, 40, replace=False))
    csr = lambda group, n: np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n))))  # noqa: E731
    pools = Pools(card_parties=np.flatnonzero(first_card >= 0), first_card=first_card, sites=np.arange(n_sites),
                  regular_offsets=np.arange(0, n_sites * 30 + 1, 30), regular_party=regular_party,
                  mules=np.arange(100, 140), fraudsters=np.arange(200, 260), ring_parties=np.arange(300, 330),
                  colluders=np.array([5, 6]), party_country=party_country,
                  merchant_country=rng.integers(0, 4, n_merchants),
                  country_offsets=csr(party_country[first_card >= 0], 4),
                  country_party=np.flatnonzero(first_card >= 0)[np.argsort(party_country[first_card >= 0],
                                                                           kind="stable")])
    edge_country = rng.integers(0, 4, n_edges)
    volume = rng.random(n_edges) + 0.1
    risky = np.arange(n_edges) % 2 == 0
    places = Places(
        edges=Weighted.of(np.arange(n_edges), edge_country, volume, 4),
        risky_edges=Weighted.of(np.arange(n_edges), edge_country, volume * np.where(risky, 4, 1), 4),
        risky_sites=Weighted.of(np.arange(1, n_sites, 3), site_country[1::3], np.ones(site_country[1::3].size), 4),
        cash_sites=Weighted.of(cash, site_country[cash], np.ones(cash.size), 4),
        near_sites=NearSites.of(site_lat, site_lon, np.ones(n_sites), 8, 2.0, 2.0),
        near_risky=NearSites.of(site_lat, site_lon, (np.arange(n_sites) % 3 == 1) * 1.0, 8, 2.0, 2.0),
        near_cash=NearSites.of(site_lat, site_lon, np.isin(np.arange(n_sites), cash) * 1.0, 8, 2.0, 2.0),
        domestic_share=0.6, edge_merchant=edge_merchant, edge_country=edge_country,
        site_merchant=site_merchant, site_country=site_country, site_cash=np.isin(np.arange(n_sites), cash),
        site_lat=site_lat, site_lon=site_lon, home_lat=home_lat, home_lon=home_lon,
        terminal_offsets=np.arange(n_sites + 1),
        terminal_list=np.arange(n_sites) + 5_000_000,
        merchant_site_offsets=csr(site_merchant, n_merchants), merchant_sites=np.argsort(site_merchant, kind="stable"),
        merchant_edge_offsets=csr(edge_merchant, n_merchants), merchant_edges=np.argsort(edge_merchant, kind="stable"),
        farm_devices=np.arange(7_000_000, 7_000_020), risky_ips=np.arange(8_000_000, 8_000_050),
        other_ip_offsets=np.arange(0, 41, 10), other_ip_list=np.arange(9_000_000, 9_000_040),
        party_country=party_country, first_card=first_card, price_fx=np.array([1.0, 0.9, 150.0, 3.7]),
        minor_unit=np.array([0.01, 0.01, 1.0, 0.01]), merchant_median_usd=rng.random(n_merchants) * 50 + 10,
        merchant_sigma=np.full(n_merchants, 0.6), party_offset_us=(party_country - 1) * 3_600_000_000,
        hour_share=np.r_[np.full(7, 0.2), np.full(17, 1.0)], ninety_nine=0.3, round_share=0.2)
    return pools, places


@pytest.fixture(scope="module")
def drawn(policy, world):
    pools, places = world
    plan = draw_plan(keys, policy, 0, FIRST_DAY, N_DAYS, N_PARTIES, pools)
    return plan, draw_acts(keys, policy, plan, places)


def test_campaign_counts_follow_the_policy_rates(policy, world):
    """Over 30 scenarios each type's mean count is its rate x parties x (horizon + lead-in) months."""
    pools, _ = world
    from engine_kernels.fraud.plan import _lead_days

    lead = _lead_days(policy)
    counts = np.array([np.bincount(draw_plan(keys, policy, s, FIRST_DAY, N_DAYS, N_PARTIES, pools).fraud_type,
                                   minlength=len(FRAUD_TYPES)) for s in range(30)])
    for t, rate in enumerate(policy.campaigns):
        mean = rate.per_million_month * N_PARTIES / 1e6 * (N_DAYS + lead[t]) / 30
        sd = np.sqrt(mean + mean ** 2 / policy.dispersion) / np.sqrt(30)
        assert counts[:, t].mean() == pytest.approx(mean, abs=4.5 * sd + 0.5), FRAUD_TYPES[t]
    assert counts.std(axis=0).min() > 0  # campaigns vary from scenario to scenario


def test_plan_is_keyed(policy, world, drawn):
    plan, _ = drawn
    again = draw_plan(keys, policy, 0, FIRST_DAY, N_DAYS, N_PARTIES, world[0])
    for field in dataclasses.fields(plan):
        assert np.array_equal(getattr(plan, field.name), getattr(again, field.name)), field.name
    other = draw_plan(keys, policy, 1, FIRST_DAY, N_DAYS, N_PARTIES, world[0])
    assert not np.array_equal(other.start_day[:50], plan.start_day[:50])


def test_targets_come_through_roles_and_exposure(drawn, world):
    pools, _ = world
    plan, _ = drawn
    t = plan.fraud_type[plan.campaign]
    stolen = np.flatnonzero(t == STOLEN)
    assert stolen.size > 100
    for i in stolen:
        site = plan.site[plan.campaign[i]]
        regulars = pools.regular_party[pools.regular_offsets[site]:pools.regular_offsets[site + 1]]
        assert plan.party[i] in regulars
    # one target per regular: a campaign never steals the same card twice
    pairs = plan.campaign[stolen] * 10**7 + plan.party[stolen]
    assert np.unique(pairs).size == pairs.size
    assert np.isin(plan.mule[plan.fraud_type == APP], pools.mules).all()
    # a scam's victims live in its mule's country
    scam = np.flatnonzero(t == APP)
    assert (pools.party_country[plan.party[scam]] == pools.party_country[plan.mule[plan.campaign[scam]]]).all()
    assert np.isin(plan.party[np.isin(t, [REFUND, FIRST_PARTY])], pools.fraudsters).all()
    # a bust-out's cards belong to ring members in the colluder's country, else to its countrymen
    ring = np.flatnonzero(t == COLLUSION)
    home = pools.merchant_country[plan.merchant[plan.campaign[ring]]]
    assert (pools.party_country[plan.party[ring]] == home).all()
    assert np.isin(plan.merchant[plan.fraud_type == COLLUSION], pools.colluders).all()
    assert (plan.role[np.isin(t, [CARD_TESTING, STOLEN, ATO, APP])] == VICTIM).all()


def test_card_testing_probes_then_charges_the_cards_that_work(drawn, policy, world):
    plan, acts = drawn
    _, places = world
    ct = plan.fraud_type[acts.campaign] == CARD_TESTING
    probe = ct & (acts.unit % 65536 < 1000)
    assert probe.sum() > 500
    units = places.minor_unit[acts.merchant_country[probe]]
    assert (acts.amount[probe] <= 2.0 + units).all()
    assert (acts.flow_type[probe] == CNP_PURCHASE).all()
    assert np.isin(acts.ip[probe], places.risky_ips).all() and np.isin(acts.device[probe], places.farm_devices).all()
    dead = np.unique(acts.target[probe & acts.invalid])
    share = dead.size / np.unique(acts.target[probe]).size
    assert share == pytest.approx(policy.card_testing.invalid_share, abs=0.06)
    charged = np.unique(acts.target[ct & ~probe])
    assert charged.size > 50 and not np.isin(charged, dead).any()


def _home_km(places, party, site):
    return great_circle_km(places.home_lat[party], places.home_lon[party], places.site_lat[site],
                           places.site_lon[site])


def _km_between(places, site, sites):
    return great_circle_km(np.full(sites.size, places.site_lat[site]), np.full(sites.size, places.site_lon[site]),
                           places.site_lat[sites], places.site_lon[sites])


def _nearest_km(places, party, sites):
    """km from each party's home to the nearest of `sites`."""
    return np.array([_home_km(places, np.full(sites.size, p), sites).min() for p in party])


def test_stolen_cards_are_used_a_few_times_a_day_and_adapt(drawn, policy, world):
    plan, acts = drawn
    _, places = world
    st = plan.fraud_type[acts.campaign] == STOLEN
    day = (acts.ts_utc[st] + places.party_offset_us[acts.party[st]]) // DAY_US  # the victim's local day
    per_day = np.unique(acts.target[st] * 100_000 + day, return_counts=True)[1]
    assert per_day.min() >= policy.stolen_cards.per_day.lo and per_day.max() <= policy.stolen_cards.per_day.hi
    adapted_from = plan.adapted_from[acts.campaign[st]]
    adapted = acts.ts_utc[st] >= adapted_from
    assert 0.1 < adapted.mean() < 0.9
    assert (acts.instrument[st] == plan.instrument[acts.target[st]]).all()
    early, late = ~adapted, adapted
    assert np.isin(acts.ip[st][early & (acts.flow_type[st] == CNP_PURCHASE)], places.risky_ips).all()
    assert not np.isin(acts.ip[st][late], places.risky_ips).any()
    assert (acts.flow_type[st][late] == CNP_PURCHASE).mean() == pytest.approx(policy.stolen_cards.online_share,
                                                                               abs=0.05)
    offline = acts.flow_type[st][early] != CNP_PURCHASE
    assert offline.mean() == pytest.approx(1 - policy.stolen_cards.online_share, abs=0.05)
    at_site = acts.site[st][early][offline]
    assert np.array_equal(acts.flow_type[st][early][offline] == ATM_WITHDRAWAL, places.site_cash[at_site])
    # Before adapting, counterfeits buy what resells at one of the few such sites nearest the
    # compromised site (the ring works where it skims) at the domestic share, else anywhere; once
    # adapted, near the victim's home, in its country.
    in_store = acts.flow_type[st] != CNP_PURCHASE
    rows = early & in_store
    compromised = plan.site[acts.campaign[st][rows]]
    risky = places.near_risky.sites
    local = [site in risky[np.argsort(_km_between(places, c, risky))[:8]]
             for c, site in zip(compromised, acts.site[st][rows])]
    assert rows.sum() > 200 and np.mean(local) == pytest.approx(places.domestic_share, abs=0.08)
    rows = late & in_store
    victims, sites = acts.party[st][rows], acts.site[st][rows]
    assert rows.sum() > 50 and np.median(_home_km(places, victims, sites)) < 2.5 * np.median(
        _nearest_km(places, victims, np.arange(places.site_lat.size)))
    assert (places.site_country[sites] == places.party_country[victims]).mean() > 0.9


def test_scams_pay_a_mule_who_forwards_and_cashes_out(drawn, policy, world):
    plan, acts = drawn
    _, places = world
    app = plan.fraud_type[acts.campaign] == APP
    paid = app & (acts.role == VICTIM)
    assert (acts.flow_type[paid] == TRANSFER).all()
    assert (acts.payee[paid] == plan.mule[acts.campaign[paid]]).all()
    forward = app & (acts.role == MULE) & (acts.flow_type == TRANSFER)
    assert (acts.party[forward] == plan.mule[acts.campaign[forward]]).all()
    assert (acts.payee[forward] == plan.second_mule[acts.campaign[forward]]).all()
    cash = app & (acts.role == MULE) & (acts.flow_type == ATM_WITHDRAWAL)
    assert cash.sum() > 0 and (acts.party[cash] == plan.second_mule[acts.campaign[cash]]).all()
    # at a cash machine among the few nearest the mule's home
    assert places.site_cash[acts.site[cash]].all()
    machines = np.flatnonzero(places.site_cash)
    nearest = _nearest_km(places, acts.party[cash], machines)
    km = _home_km(places, acts.party[cash], acts.site[cash])
    assert np.median(km) < 2.5 * np.median(nearest) and np.median(km) < 0.2 * np.median(
        _home_km(places, acts.party[cash], machines[np.arange(cash.sum()) % machines.size]))
    # every forward comes after the payment it passes on, and forwards less
    pay = {(t, u % 65536): (ts, a) for t, u, ts, a in zip(acts.target[paid], acts.unit[paid], acts.ts_utc[paid],
                                                          acts.amount[paid])}
    for t, u, ts, a in zip(acts.target[forward], acts.unit[forward], acts.ts_utc[forward], acts.amount[forward]):
        t0, a0 = pay[(t, u % 65536 - 500)]
        assert ts > t0 and a <= a0


def test_refund_abuse_claims_refunds_and_collusion_buys_at_the_colluder(drawn, world):
    plan, acts = drawn
    _, places = world
    refund = plan.fraud_type[acts.campaign] == REFUND
    assert refund.sum() > 0 and (~np.isnan(acts.refund_days[refund])).all()
    assert np.isnan(acts.refund_days[~refund]).all()
    coll = plan.fraud_type[acts.campaign] == COLLUSION
    assert coll.sum() > 0
    assert (acts.merchant[coll] == plan.merchant[acts.campaign[coll]]).all()
    assert np.isin(acts.flow_type[coll], [CP_PURCHASE, CNP_PURCHASE]).all()
    # in store at the colluder's branch nearest the ring member's home
    for party, site, merchant in zip(acts.party[coll], acts.site[coll], acts.merchant[coll]):
        offsets = places.merchant_site_offsets
        branches = places.merchant_sites[offsets[merchant]:offsets[merchant + 1]]
        assert site == branches[np.argmin(_home_km(places, np.full(branches.size, party), branches))]


def test_acts_are_time_ordered_and_first_party_makes_none(drawn):
    plan, acts = drawn
    assert (np.diff(acts.ts_utc) >= 0).all()
    assert not (plan.fraud_type[acts.campaign] == FIRST_PARTY).any()
    assert (acts.amount > 0).all()


def test_weighted_places_follow_their_weights_at_home_and_anywhere():
    items = np.arange(6)
    country = np.array([0, 0, 1, 1, 1, 3])
    weight = np.array([1.0, 3.0, 1.0, 1.0, 2.0, 5.0])
    w = Weighted.of(items, country, weight, 4)
    u = (np.arange(40_000) + 0.5) / 40_000
    home = w.pick(u, np.ones(u.size, np.int64), True)
    assert np.isin(home, [2, 3, 4]).all()
    assert np.bincount(home, minlength=6)[[2, 3, 4]] / u.size == pytest.approx([0.25, 0.25, 0.5], abs=0.001)
    anywhere = w.pick(u)
    assert np.bincount(anywhere, minlength=6) / u.size == pytest.approx(weight / weight.sum(), abs=0.001)
    # a country without places, or an act away from home, picks anywhere
    assert np.array_equal(w.pick(u, np.full(u.size, 2), True), anywhere)
    assert np.array_equal(w.pick(u, np.zeros(u.size, np.int64), False), anywhere)


def test_acts_happen_mostly_at_home(drawn, world):
    """Refund abusers shop at home at the policy's domestic share, plus the picks from anywhere that
    land at home by weight."""
    plan, acts = drawn
    _, places = world
    mine = plan.fraud_type[acts.campaign] == REFUND
    country = places.party_country[acts.party[mine]]
    home = country == acts.merchant_country[mine]
    weight = np.diff(np.concatenate(([0.0], places.edges.anywhere)))
    share = np.bincount(places.edge_country[places.edges.items], weights=weight, minlength=4)
    expected = places.domestic_share + (1 - places.domestic_share) * share[country].mean()
    assert mine.sum() > 500 and home.mean() == pytest.approx(expected, abs=0.04)


def test_acts_keep_their_victims_waking_hours(drawn, world):
    """Outside card-testing bursts, acts follow the local-day profile: the seven night hours hold
    1.4 of its 18.4 shares (7.6%)."""
    plan, acts = drawn
    _, places = world
    mine = np.isin(plan.fraud_type[acts.campaign], [STOLEN, REFUND])
    local = acts.ts_utc[mine] + places.party_offset_us[acts.party[mine]]
    hour = (local // 3_600_000_000) % 24
    assert (hour < 7).mean() == pytest.approx(1.4 / 18.4, abs=0.02)


def test_a_bust_out_stops_at_each_card_s_credit_line(drawn, policy, world):
    """With a low credit line, each ring card's payments add up to no more than it (give or take the
    price points, which move an amount to a round figure of its scale) and the rest of the bust-out
    is not made."""
    plan, acts = drawn
    _, places = world
    low = dataclasses.replace(policy, merchant_collusion=dataclasses.replace(policy.merchant_collusion, limit_usd=150.0))
    capped = draw_acts(keys, low, plan, places)
    results = []
    for drawn_acts, limit in ((acts, policy.merchant_collusion.limit_usd), (capped, 150.0)):
        coll = plan.fraud_type[drawn_acts.campaign] == COLLUSION
        usd = drawn_acts.amount[coll] / places.price_fx[drawn_acts.merchant_country[coll]]
        totals = np.bincount(drawn_acts.target[coll], usd)
        assert totals.max() <= limit * 1.15
        results.append((coll.sum(), totals.max()))
    assert results[1][0] < results[0][0] and results[1][1] > 100.0  # the line binds, and cards reach it
    other = plan.fraud_type[capped.campaign] != COLLUSION
    assert other.sum() == (plan.fraud_type[acts.campaign] != COLLUSION).sum()
