"""The party behind each arrival and its means (engine_kernels/flows/attach.py): order-free draws,
attachment shares against the policy, pools, fallbacks, and the card, token, device and address
each flow pays with."""

from types import SimpleNamespace

import numpy as np
import pytest

from engine_kernels.flows.attach import _geometric_pick, attach_arrivals, equip
from engine_kernels.vocabulary import ATM_WITHDRAWAL, ATTACHMENTS, CNP_PURCHASE, CP_PURCHASE, TRANSFER

REGULAR, NEIGHBOUR, DOMESTIC, VISITOR, ONLINE_REGULAR, ONLINE, ONLINE_FOREIGN = range(len(ATTACHMENTS))


def csr(group, n_groups):
    return np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups)))).astype(np.int64)


def _world(seed=1):
    """Four countries of 3,000, 4,000 and 8,000 card-active parties and none (country 3), with 1,000
    parties without a card spread among them; six sites in countries 0 and 1 with pools of 50
    regulars and 30 neighbours, except site 3 (no regulars) and site 5 (neither)."""
    rng = np.random.default_rng(seed)
    sizes = [3_000, 4_000, 8_000]
    party_country = np.concatenate([np.full(s, c) for c, s in enumerate(sizes)] + [rng.integers(0, 4, 1_000)])
    party_country = party_country[rng.permutation(party_country.size)].astype(np.int64)
    active = np.arange(party_country.size) < 15_000
    active = active[rng.permutation(active.size)]
    active_idx = np.flatnonzero(active & (party_country < 3))
    country_party = active_idx[np.argsort(party_country[active_idx], kind="stable")]
    country_offsets = csr(party_country[active_idx], 4)
    site_country = np.array([0, 0, 0, 0, 1, 1])
    regulars = [rng.choice(country_party[country_offsets[c]:country_offsets[c + 1]], 50, replace=False)
                if s not in (3, 5) else np.empty(0, np.int64) for s, c in enumerate(site_country)]
    neighbours = [rng.choice(country_party[country_offsets[c]:country_offsets[c + 1]], 30, replace=False)
                  if s != 5 else np.empty(0, np.int64) for s, c in enumerate(site_country)]
    return SimpleNamespace(
        party_country=party_country, country_party=country_party, country_offsets=country_offsets,
        site_country=site_country, regular_share=np.array([0.80, 0.45, 0.60, 0.80, 0.30, 0.50]),
        regular_offsets=csr(np.repeat(np.arange(6), [r.size for r in regulars]), 6),
        regular_party=np.concatenate(regulars).astype(np.int64),
        neighbour_offsets=csr(np.repeat(np.arange(6), [r.size for r in neighbours]), 6),
        neighbour_party=np.concatenate(neighbours).astype(np.int64),
        merchant_id=np.array([1_001, 2_002, 3_003], np.uint64),
        pool=np.array([[5, 50, 0, 5], [5, 5, 5, 5], [0, 0, 0, 0]]))  # by merchant, market


def _arrivals(w, n, seed=2, online_share=0.3, markets=(0, 1)):
    rng = np.random.default_rng(seed)
    online = rng.random(n) < online_share
    site = np.where(online, -1, rng.integers(0, 6, n))
    market = np.where(online, rng.choice(markets, n), w.site_country[np.maximum(site, 0)])
    merchant = rng.integers(0, 3, n)
    arrival_id = rng.choice(2**40, n, replace=False).astype(np.uint64) + np.uint64(1)
    return SimpleNamespace(arrival_id=arrival_id, online=online, site=site.astype(np.int64),
                           market=market.astype(np.int64), merchant=merchant)


def _attach(w, a, policy, key, rows=None, travel=None, domestic=None, foreign=None, online_regular=None):
    rows = np.arange(a.arrival_id.size) if rows is None else rows
    n = rows.size
    party, how = np.full(n, -9, np.int64), np.full(n, -9, np.int8)
    site = a.site[rows]
    attach_arrivals(np.uint64(key("6b.attach")), np.uint64(key("6b.online_pool")), a.arrival_id[rows],
                    a.online[rows], site, a.market[rows], w.merchant_id[a.merchant[rows]],
                    w.regular_share[np.maximum(site, 0)], w.pool[a.merchant[rows], a.market[rows]].astype(np.int64),
                    policy.travel_share if travel is None else travel,
                    policy.domestic_share if domestic is None else domestic,
                    policy.online_regular_share if online_regular is None else online_regular,
                    policy.online_foreign_share if foreign is None else foreign,
                    w.regular_offsets, w.regular_party, w.neighbour_offsets, w.neighbour_party,
                    w.country_offsets, w.country_party, w.party_country, party, how)
    return party, how


@pytest.fixture(scope="module")
def attached(flows, key):
    """200,000 arrivals attached on the synthetic world under 6b.yaml's attachment shares."""
    w = _world()
    a = _arrivals(w, 200_000)
    party, how = _attach(w, a, flows.attachment, key)
    return w, a, party, how


def _tolerance(p, n):
    return 4.5 * np.sqrt(p * (1 - p) / n) + 1e-9


def test_every_arrival_gets_a_card_active_party_and_a_channel_consistent_attachment(attached):
    w, a, party, how = attached
    assert (party >= 0).all() and np.isin(party, w.country_party).all()
    assert np.isin(how[~a.online], [REGULAR, NEIGHBOUR, DOMESTIC, VISITOR]).all()
    assert np.isin(how[a.online], [ONLINE_REGULAR, ONLINE, ONLINE_FOREIGN]).all()


def test_attachment_is_order_free(attached, flows, key):
    """An arrival's party and attachment do not depend on which other arrivals share the call."""
    w, a, party, how = attached
    rows = np.random.default_rng(3).permutation(party.size)[:20_000]
    party2, how2 = _attach(w, a, flows.attachment, key, rows=rows)
    assert party2.tolist() == party[rows].tolist() and how2.tolist() == how[rows].tolist()


def test_card_present_shares_follow_the_policy(attached, flows):
    """At a site with both pools: visitor = travel, domestic = domestic share, then regulars at
    the sector's regular share of the rest, neighbours the remainder."""
    w, a, _, how = attached
    att = flows.attachment
    for s in (0, 1, 2, 4):
        mine = how[a.site == s]
        rest = 1 - att.travel_share - att.domestic_share
        expected = {VISITOR: att.travel_share, DOMESTIC: att.domestic_share,
                    REGULAR: rest * w.regular_share[s], NEIGHBOUR: rest * (1 - w.regular_share[s])}
        for code, p in expected.items():
            assert (mine == code).mean() == pytest.approx(p, abs=_tolerance(p, mine.size)), (s, ATTACHMENTS[code])


def test_sites_without_pools_fall_back_to_neighbours_then_the_country(attached, flows):
    w, a, _, how = attached
    att = flows.attachment
    rest = 1 - att.travel_share - att.domestic_share
    no_regulars, bare = how[a.site == 3], how[a.site == 5]
    assert not (no_regulars == REGULAR).any()
    assert (no_regulars == NEIGHBOUR).mean() == pytest.approx(rest, abs=_tolerance(rest, no_regulars.size))
    assert not np.isin(bare, [REGULAR, NEIGHBOUR]).any()
    p = 1 - att.travel_share
    assert (bare == DOMESTIC).mean() == pytest.approx(p, abs=_tolerance(p, bare.size))


def test_parties_come_from_the_pool_or_country_their_attachment_names(attached):
    w, a, party, how = attached
    for s in range(6):
        at = a.site == s
        regs = w.regular_party[w.regular_offsets[s]:w.regular_offsets[s + 1]]
        nbrs = w.neighbour_party[w.neighbour_offsets[s]:w.neighbour_offsets[s + 1]]
        assert np.isin(party[at & (how == REGULAR)], regs).all(), s
        assert np.isin(party[at & (how == NEIGHBOUR)], nbrs).all(), s
        if regs.size:  # the regular draw covers the whole pool, not a corner of it
            assert np.unique(party[at & (how == REGULAR)]).size == regs.size, s
    home = w.party_country[party] == a.market
    assert home[np.isin(how, [REGULAR, NEIGHBOUR, DOMESTIC, ONLINE_REGULAR, ONLINE])].all()


def test_visitors_and_foreign_buyers_come_from_another_country(attached):
    w, a, party, how = attached
    abroad = np.isin(how, [VISITOR, ONLINE_FOREIGN])
    assert abroad.sum() > 3_000
    assert (w.party_country[party[abroad]] != a.market[abroad]).all()


def test_online_shares_follow_the_policy(attached, flows):
    w, a, _, how = attached
    att = flows.attachment
    pooled = a.online & (w.pool[a.merchant, a.market] > 0)
    unpooled = a.online & (w.pool[a.merchant, a.market] == 0)
    for rows, regular in ((pooled, (1 - att.online_foreign_share) * att.online_regular_share), (unpooled, 0.0)):
        mine = how[rows]
        expected = {ONLINE_FOREIGN: att.online_foreign_share, ONLINE_REGULAR: regular,
                    ONLINE: 1 - att.online_foreign_share - regular}
        for code, p in expected.items():
            assert (mine == code).mean() == pytest.approx(p, abs=_tolerance(p, mine.size)), ATTACHMENTS[code]


def test_online_regulars_repeat_within_the_pool_of_each_merchant_and_market(attached):
    """The online regulars of a (merchant, market) are at most its pool size of parties, of the
    market; two merchants' pools in the same market differ."""
    w, a, party, how = attached
    pools = {}
    for m in range(3):
        for c in (0, 1):
            mine = party[(how == ONLINE_REGULAR) & (a.merchant == m) & (a.market == c)]
            size = w.pool[m, c]
            if size == 0:
                assert mine.size == 0
                continue
            distinct = np.unique(mine)
            assert mine.size > 20 * size or size == 50
            assert 0 < distinct.size <= size, (m, c)
            assert distinct.size >= size - 1, (m, c)  # every slot is used (one hash collision allowed)
            assert (w.party_country[distinct] == c).all()
            pools[m, c] = set(distinct.tolist())
    assert pools[0, 0] != pools[1, 0]


def test_an_empty_market_sends_everyone_abroad(flows, key):
    """A market without card-active parties: card present arrivals become visitors, online ones
    foreign buyers, all from other countries."""
    w = _world()
    a = _arrivals(w, 5_000, seed=4, online_share=0.5, markets=(3,))
    a.market[:] = 3
    party, how = _attach(w, a, flows.attachment, key)
    assert (how[~a.online] == VISITOR).all() and (how[a.online] == ONLINE_FOREIGN).all()
    assert (w.party_country[party] != 3).all()


def test_a_visitor_lands_at_home_only_after_nine_home_draws(key):
    """Visitors are drawn up to nine times: when the home country holds 90% of the card-active
    parties, a visitor is still from home at rate 0.9^9."""
    party_country = np.repeat([0, 1], [9_000, 1_000]).astype(np.int64)
    w = SimpleNamespace(party_country=party_country, country_party=np.arange(10_000),
                        country_offsets=np.array([0, 9_000, 10_000]), site_country=np.zeros(6, np.int64),
                        regular_share=np.zeros(6), regular_offsets=np.zeros(7, np.int64),
                        regular_party=np.empty(0, np.int64), neighbour_offsets=np.zeros(7, np.int64),
                        neighbour_party=np.empty(0, np.int64), merchant_id=np.array([1, 2, 3], np.uint64),
                        pool=np.zeros((3, 2), np.int64))
    a = _arrivals(w, 60_000, seed=5, online_share=0.0)
    party, how = _attach(w, a, SimpleNamespace(), key, travel=1.0, domestic=0.0, foreign=0.0, online_regular=0.0)
    assert (how == VISITOR).all()
    at_home = (party_country[party] == 0).mean()
    assert at_home == pytest.approx(0.9**9, abs=_tolerance(0.9**9, party.size))


# --------------------------------------------------------------------------- equip


def test_geometric_pick_known_values():
    assert _geometric_pick(0.0, 3, 0.3) == 0 and _geometric_pick(0.999999, 3, 0.3) == 2
    # Weights 1, 0.5, 0.25 of total 1.75: boundaries at 1/1.75 and 1.5/1.75.
    assert _geometric_pick(0.5714, 3, 0.5) == 0 and _geometric_pick(0.5715, 3, 0.5) == 1
    assert _geometric_pick(0.857, 3, 0.5) == 1 and _geometric_pick(0.858, 3, 0.5) == 2
    assert _geometric_pick(0.99, 1, 0.3) == 0 and _geometric_pick(0.99, 4, 0.0) == 0
    assert [_geometric_pick(u, 4, 1.0) for u in (0.1, 0.3, 0.6, 0.9)] == [0, 1, 2, 3]


def test_geometric_pick_frequencies_decay_geometrically():
    u = np.random.default_rng(6).random(100_000)
    picks = np.array([_geometric_pick(x, 4, 0.3) for x in u])
    weights = 0.3 ** np.arange(4)
    assert np.bincount(picks, minlength=4) / u.size == pytest.approx(weights / weights.sum(), abs=0.005)


def _means():
    """600 parties in 2 countries: party p holds p % 4 cards (the first a credit card for odd p,
    parties with 3 cards all credit when p % 8 == 3); every card 0-2 tokens; p % 3 devices with 0-3
    addresses each; 50 other addresses per country; 4 sites with 2 terminals, 1 without."""
    rng = np.random.default_rng(7)
    n = 600
    party_country = (np.arange(n) % 2).astype(np.int64)
    n_cards = np.arange(n) % 4
    card_owner = np.repeat(np.arange(n), n_cards)
    card_list = np.arange(card_owner.size)
    rank = card_list - np.repeat(csr(card_owner, n)[:-1], n_cards)
    owner = card_owner
    is_debit = ~(((owner % 2 == 1) & (rank == 0)) | ((owner % 8 == 3)))
    n_tokens = rng.integers(0, 3, card_list.size)
    token_owner = np.repeat(card_list, n_tokens)
    n_devices = np.arange(n) % 3
    device_owner = np.repeat(np.arange(n), n_devices)
    n_terminals = np.array([2, 2, 2, 2, 0])
    terminal_site = np.repeat(np.arange(5), n_terminals)
    devices = device_owner.size + terminal_site.size  # personal devices, then terminals
    n_ips = np.concatenate([rng.integers(0, 4, device_owner.size), np.ones(terminal_site.size, np.int64)])
    ip_owner = np.repeat(np.arange(devices), n_ips)
    other_country = np.repeat([0, 1], 50)
    instruments = card_list.size + token_owner.size  # cards, then tokens
    return SimpleNamespace(
        n=n, party_country=party_country, card_offsets=csr(card_owner, n), card_list=card_list,
        card_is_debit=np.concatenate([is_debit, np.zeros(token_owner.size, bool)]),
        token_offsets=csr(token_owner, instruments), token_list=card_list.size + np.arange(token_owner.size),
        device_offsets=csr(device_owner, n), device_list=np.arange(device_owner.size),
        terminal_offsets=csr(terminal_site, 5), terminal_list=device_owner.size + np.arange(terminal_site.size),
        ip_offsets=csr(ip_owner, devices), ip_list=np.arange(ip_owner.size),
        other_ip_offsets=csr(other_country, 2), other_ip_list=ip_owner.size + np.arange(100))


def _equip(m, key, flow_type, party, site, decay=0.3, wallet=(0.25, 0.15, 0.0, 0.0), other_ip=0.06, unit_b=None):
    n = party.size
    out = [np.full(n, -9, np.int64) for _ in range(3)]
    unit_a = np.arange(1, n + 1, dtype=np.uint64)
    equip(np.uint64(key("6b.equip")), unit_a, np.zeros(n, np.uint64) if unit_b is None else unit_b,
          np.asarray(flow_type, np.int8), party, site, m.party_country, decay, np.array(wallet), other_ip,
          m.card_offsets, m.card_list, m.card_is_debit, m.token_offsets, m.token_list, m.device_offsets,
          m.device_list, m.terminal_offsets, m.terminal_list, m.ip_offsets, m.ip_list, m.other_ip_offsets,
          m.other_ip_list, *out)
    return out


def test_atm_takes_the_first_debit_card_or_else_the_first_card(key):
    m = _means()
    party = np.arange(m.n)
    instrument, device, ip = _equip(m, key, np.full(m.n, ATM_WITHDRAWAL), party, party % 5)
    for p in range(m.n):
        cards = m.card_list[m.card_offsets[p]:m.card_offsets[p + 1]]
        debit = cards[m.card_is_debit[cards]]
        expected = debit[0] if debit.size else (cards[0] if cards.size else -1)
        assert instrument[p] == expected, p
    # Both rules are exercised: a debit card behind a credit card, and a party with credit cards only.
    held = np.diff(m.card_offsets) > 0
    first = np.where(held, m.card_list[np.minimum(m.card_offsets[:-1], m.card_list.size - 1)], -1)
    assert ((instrument != first) & (instrument >= 0)).sum() > 50
    assert ((instrument >= 0) & ~m.card_is_debit[np.maximum(instrument, 0)]).sum() > 50
    # A terminal of the site, through the terminal's (one) address; none at the site without terminals.
    site = party % 5
    assert (device[site == 4] == -1).all() and (ip[site == 4] == -1).all()
    for s in range(4):
        terms = m.terminal_list[m.terminal_offsets[s]:m.terminal_offsets[s + 1]]
        assert np.isin(device[site == s], terms).all()
        assert (ip[site == s] == m.ip_list[m.ip_offsets[device[site == s]]]).all()


def test_card_choice_decays_geometrically_and_tokens_replace_cards_at_the_wallet_share(key):
    """Parties with 3 cards: the primary card is chosen at 1/(1+d+d^2); with no wallet share the
    instrument is always a card; with wallet share 1 a tokenised card is always paid by token."""
    m = _means()
    three = np.flatnonzero(np.arange(m.n) % 4 == 3)
    party = np.repeat(three, 400)
    instrument, _, _ = _equip(m, key, np.full(party.size, CP_PURCHASE), party, np.zeros(party.size, np.int64),
                              decay=0.3, wallet=(0.0, 0.0, 0.0, 0.0))
    rank = instrument - m.card_offsets[party]
    assert ((rank >= 0) & (rank < 3)).all()
    _, device, ip = _equip(m, key, np.full(party.size, CP_PURCHASE), party, np.full(party.size, 2))
    terminals = m.terminal_list[m.terminal_offsets[2]:m.terminal_offsets[3]]  # in store: a terminal of the site
    assert np.isin(device, terminals).all() and np.unique(device).size == terminals.size
    assert (ip == m.ip_list[m.ip_offsets[device]]).all()
    expected = 0.3 ** np.arange(3) / (1 + 0.3 + 0.09)
    assert np.bincount(rank, minlength=3) / rank.size == pytest.approx(expected, abs=0.01)
    all_tokens, _, _ = _equip(m, key, np.full(party.size, CP_PURCHASE), party, np.zeros(party.size, np.int64),
                              decay=0.3, wallet=(1.0, 1.0, 0.0, 0.0))
    card_of = np.where(all_tokens >= m.card_list.size, -1, all_tokens)
    tokenised = np.diff(m.token_offsets)[instrument] > 0
    assert (all_tokens[tokenised] >= m.card_list.size).all() and (card_of[~tokenised] == instrument[~tokenised]).all()
    for i in np.flatnonzero(tokenised)[:500]:  # the token is one of the chosen card's
        c = instrument[i]
        assert all_tokens[i] in m.token_list[m.token_offsets[c]:m.token_offsets[c + 1]]


def test_wallet_share_by_flow_type(key):
    m = _means()
    tokenised_cards = np.flatnonzero(np.diff(m.token_offsets)[:m.card_list.size] > 0)
    holders = np.unique(np.searchsorted(m.card_offsets, tokenised_cards, side="right") - 1)
    one_card = holders[np.diff(m.card_offsets)[holders] == 1]  # the only card has a token
    party = np.repeat(one_card, 2_000)
    for t, share in ((CP_PURCHASE, 0.25), (CNP_PURCHASE, 0.15)):
        instrument, _, _ = _equip(m, key, np.full(party.size, t), party, np.zeros(party.size, np.int64))
        got = (instrument >= m.card_list.size).mean()
        assert got == pytest.approx(share, abs=_tolerance(share, party.size)), t


def test_cnp_device_is_the_party_s_and_its_address_the_device_s_or_another_of_the_country(key):
    m = _means()
    party = np.repeat(np.arange(m.n), 100)
    instrument, device, ip = _equip(m, key, np.full(party.size, CNP_PURCHASE), party, np.full(party.size, -1),
                                    other_ip=0.06)
    n_dev = np.diff(m.device_offsets)[party]
    assert (device[n_dev == 0] == -1).all() and (ip[n_dev == 0] == -1).all()
    has = n_dev > 0
    lo = m.device_offsets[party[has]]
    assert ((device[has] >= lo) & (device[has] < lo + n_dev[has])).all()
    own_lo, own_hi = m.ip_offsets[device[has]], m.ip_offsets[device[has] + 1]
    own = (ip[has] >= own_lo) & (ip[has] < own_hi)
    c = m.party_country[party[has]]
    other_lo, other_hi = m.other_ip_offsets[c], m.other_ip_offsets[c + 1]  # other_ip_list[j] = ip_list.size + j
    other = (ip[has] >= m.ip_list.size + other_lo) & (ip[has] < m.ip_list.size + other_hi)
    assert (own | other).all()
    # The other pool is taken at other_ip_share where the device has addresses of its own, always otherwise.
    with_ips = own_hi > own_lo
    share = other[with_ips].mean()
    assert share == pytest.approx(0.06, abs=_tolerance(0.06, with_ips.sum()))
    assert other[~with_ips].all()
    # Devices are used evenly.
    two = (n_dev[has] == 2)
    assert ((device[has][two] - lo[two]) == 0).mean() == pytest.approx(0.5, abs=0.02)


def test_transfers_get_a_device_but_no_card_and_equip_is_order_free(key):
    m = _means()
    party = np.arange(m.n)
    instrument, device, ip = _equip(m, key, np.full(m.n, TRANSFER), party, np.full(m.n, -1))
    assert (instrument == -1).all()
    assert ((device >= 0) == (np.diff(m.device_offsets) > 0)).all()
    # The draws of a flow come from its own unit: the same unit alone gives the same means.
    types = np.random.default_rng(8).integers(0, 4, m.n)
    site = np.where(types == CNP_PURCHASE, -1, party % 5)
    full = _equip(m, key, types, party, site)
    rows = np.arange(100, 200)
    n = rows.size
    part = [np.full(n, -9, np.int64) for _ in range(3)]
    equip(np.uint64(key("6b.equip")), np.arange(1, m.n + 1, dtype=np.uint64)[rows], np.zeros(n, np.uint64),
          types[rows].astype(np.int8), party[rows], site[rows], m.party_country, 0.3,
          np.array([0.25, 0.15, 0.0, 0.0]), 0.06, m.card_offsets, m.card_list, m.card_is_debit, m.token_offsets,
          m.token_list, m.device_offsets, m.device_list, m.terminal_offsets, m.terminal_list, m.ip_offsets,
          m.ip_list, m.other_ip_offsets, m.other_ip_list, *part)
    for a, b in zip(full, part):
        assert a[rows].tolist() == b.tolist()
