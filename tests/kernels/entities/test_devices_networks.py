"""Devices and networks (engine_kernels/entities/devices.py, networks.py): who uses which device,
terminals per site, operating systems, the networks of each device, address pools and where the
addresses are."""

import numpy as np
import pytest

from engine_kernels.entities.devices import NETWORK_KEYS, device_networks, draw_devices, network_key
from engine_kernels.entities.networks import HOSTED, geolocate, pool_addresses
from engine_kernels.entities.parties import draw_parties
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import DEVICE_TYPES, DEVICE_USAGES, IP_TYPES, LINK_ROLES, PARTY_TYPES, REGIONS

CI = 77
PERSONAL, SHARED, BUSINESS, FARM, TERMINAL = range(len(DEVICE_USAGES))
MOBILE, LAPTOP, DESKTOP, TABLET, TERMINAL_TYPE = range(len(DEVICE_TYPES))
RESIDENTIAL, CGNAT, CORPORATE, WIFI, DATACENTRE, VPN = range(len(IP_TYPES))
N_SITES = 3_000


@pytest.fixture(scope="module")
def world(policy, kit):
    """(parties, devices, networks) of a 40,000-party country in Asia with 3,000 sites."""
    draws = kit.make_draws()
    parties = draw_parties(40_000, CI, REGIONS.index("Asia"), policy.parties, draws)
    sites = np.arange(1, N_SITES + 1, dtype=np.uint64) * np.uint64(1 << 24)
    devices = draw_devices(parties, sites, policy.devices, CI, draws)
    return parties, devices, device_networks(devices, policy.devices, draws)


def test_devices_per_party_and_parties_per_device_are_bounded(world):
    parties, devices, _ = world
    assert np.bincount(devices.link_party, minlength=parties.size).max() <= 20
    per_device = np.bincount(devices.link_device, minlength=devices.device_id.shape[0])
    assert per_device.max() <= 6
    # Personal and business devices have their one owner, shared ones every member, terminals none.
    usage = devices.usage
    assert (per_device[np.isin(usage, (PERSONAL, BUSINESS))] == 1).all()
    assert (per_device[usage == SHARED] >= 2).all() and (per_device[usage == TERMINAL] == 0).all()
    n = devices.device_id.shape[0]
    assert devices.device_id.tolist() == entity_ids("device", CI, np.arange(1, n + 1, dtype=np.uint64)).tolist()


def test_personal_devices_follow_the_party_type(policy, kit, world):
    parties, devices, _ = world
    owner_links = devices.link_role == LINK_ROLES.index("owner")
    dev, party = devices.link_device[owner_links], devices.link_party[owner_links]
    retail = parties.party_type[party] == PARTY_TYPES.index("retail")
    assert (devices.usage[dev[retail]] == PERSONAL).all() and (devices.usage[dev[~retail]] == BUSINESS).all()
    for t, holding in enumerate(policy.devices.personal):
        held = np.bincount(party[devices.device_type[dev] == t], minlength=parties.size)
        assert held.max() <= holding.cap, DEVICE_TYPES[t]
        # Only eligible parties (their keyed uniform under the device type's code below the party
        # type's share) hold one, and each party type holds round(eligible × per owner) devices.
        u = kit.make_draws().uniforms(substreams.HOLDING, parties.party_id, 2, field=200 + t)[:, 0]
        eligible = u < holding.eligible[parties.party_type]
        assert (held[~eligible] == 0).all(), DEVICE_TYPES[t]
        for pt in range(len(PARTY_TYPES)):
            mine = parties.party_type == pt
            assert held[mine].sum() == np.rint((eligible & mine).sum() * holding.per_holder[pt])
            p = holding.eligible[pt]
            assert eligible[mine].mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / mine.sum()) + 1e-9)
            # Without a floor, a few eligible parties of low propensity end up with none.
            assert 0.8 * eligible[mine].sum() <= (held[mine] > 0).sum() <= eligible[mine].sum()


def test_shared_devices_link_the_members_of_one_household(policy, world):
    parties, devices, _ = world
    shared = np.flatnonzero(devices.usage == SHARED)
    assert shared.size > 0
    links = np.isin(devices.link_device, shared)
    assert (devices.link_role[links] == LINK_ROLES.index("shared_user")).all()
    dev, party = devices.link_device[links], devices.link_party[links]
    household = parties.household[party]
    assert (household >= 0).all()
    # One household per shared device, and all of its members.
    order = np.argsort(dev, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(dev[order]) != 0])
    lo, hi = np.minimum.reduceat(household[order], starts), np.maximum.reduceat(household[order], starts)
    assert (lo == hi).all()
    sizes = np.bincount(parties.household[parties.household >= 0])
    assert (np.bincount(dev, minlength=devices.device_id.shape[0])[shared] == sizes[lo]).all()
    assert np.unique(lo).shape[0] == lo.shape[0]  # at most one shared device per household
    share = lo.shape[0] / (sizes >= 2).sum()
    assert share == pytest.approx(policy.devices.shared_household_share, abs=0.02)
    assert np.isin(devices.device_type[shared], [t for t, p in enumerate(policy.devices.shared_types) if p > 0]).all()


def test_every_site_gets_a_terminal(policy, world):
    _, devices, _ = world
    terminals = devices.usage == TERMINAL
    assert (devices.device_type[terminals] == TERMINAL_TYPE).all()
    assert (devices.site[~terminals] == -1).all()
    per_site = np.bincount(devices.site[terminals], minlength=N_SITES)
    assert per_site.min() >= 1 and per_site.max() <= policy.devices.terminals.cap
    assert per_site.sum() == np.rint(N_SITES * policy.devices.terminals.per_holder[0])


def test_operating_systems_belong_to_the_device_type(policy, world):
    _, devices, _ = world
    shares = policy.devices.os_shares
    assert (shares[devices.device_type, devices.os] > 0).all()
    mobiles = devices.os[devices.device_type == MOBILE]
    assert set(np.unique(mobiles).tolist()) == {0, 1}  # android, ios
    assert (mobiles == 0).mean() == pytest.approx(shares[MOBILE, 0], abs=0.01)


def test_every_device_has_one_first_network_of_its_policy_type(policy, world):
    _, devices, (dev, ip_type, first) = world
    n = devices.device_id.shape[0]
    assert np.bincount(dev[first], minlength=n).tolist() == [1] * n  # no farm devices here
    # A device holds a network type once.
    assert np.unique(dev.astype(np.int64) * 8 + ip_type).shape[0] == dev.shape[0]
    key = network_key(devices.device_type, devices.usage)
    expected_first = np.array([policy.devices.first_network[k] for k in NETWORK_KEYS])[key]
    assert (ip_type[first] == expected_first[dev[first]]).all()
    assert (ip_type[first][devices.device_type[dev[first]] == MOBILE] == CGNAT).all()
    assert (ip_type[first][devices.device_type[dev[first]] == TERMINAL_TYPE] == CORPORATE).all()
    office = (devices.usage[dev[first]] == BUSINESS) & (devices.device_type[dev[first]] == LAPTOP)
    assert office.any() and (ip_type[first][office] == CORPORATE).all()


def test_other_networks_and_vpns_follow_their_probabilities(policy, world):
    _, devices, (dev, ip_type, first) = world
    n = devices.device_id.shape[0]
    takes = np.zeros((n, len(IP_TYPES)), bool)
    takes[dev, ip_type] = True
    key = network_key(devices.device_type, devices.usage)
    for k, name in enumerate(NETWORK_KEYS):
        mine = key == k
        for t in range(len(IP_TYPES)):
            if t == policy.devices.first_network[name] or t == VPN:
                continue
            p = policy.devices.also_network[name][t]
            tol = 5 * np.sqrt(p * (1 - p) / mine.sum()) + 1e-9
            assert takes[mine, t].mean() == pytest.approx(p, abs=tol), (name, IP_TYPES[t])
    not_terminal = devices.device_type != TERMINAL_TYPE
    assert not takes[~not_terminal, VPN].any()
    p = policy.devices.vpn_share
    assert takes[not_terminal, VPN].mean() == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / not_terminal.sum()))


def test_farm_devices_get_no_networks_of_their_own(policy, kit, world):
    parties, devices, _ = world
    farmed = devices.extend(np.array([MOBILE, LAPTOP, MOBILE], np.int8), np.full(3, FARM, np.int8),
                            np.array([5, 5, 9]), policy.devices, CI, kit.make_draws())
    dev, _, _ = device_networks(farmed, policy.devices, kit.make_draws())
    n = devices.device_id.shape[0]
    assert dev.max() < n and farmed.device_id.shape[0] == n + 3
    assert farmed.link_party[-3:].tolist() == [5, 5, 9] and farmed.link_device[-3:].tolist() == [n, n + 1, n + 2]


# --- address pools ---

@pytest.fixture(scope="module")
def pools(policy, kit, world):
    """Address pools of the country's device links; a link's affinity is its owner's household."""
    parties, devices, (dev, ip_type, _) = world
    owner = np.full(devices.device_id.shape[0], -1, np.int64)
    owner[devices.link_device[::-1]] = devices.link_party[::-1]  # the first link of each device
    affinity = np.where(owner >= 0, parties.household[np.maximum(owner, 0)] + 1, 0).astype(np.uint64)
    link_key = dev.astype(np.uint64) * np.uint64(8) + ip_type.astype(np.uint64)

    def ip_ids(first, n):
        return entity_ids("ip", CI, np.arange(first + 1, first + n + 1, dtype=np.uint64))

    got = pool_addresses(ip_type, affinity[dev], link_key, policy.ips, ip_ids, kit.make_draws())
    return ip_type, affinity[dev], got


def test_every_address_holds_one_link_or_more_and_no_more_than_its_cap(policy, pools):
    link_type, _, got = pools
    per_ip = np.bincount(got.link_ip, minlength=got.ip_type.shape[0])
    assert per_ip.min() >= 1 and (per_ip <= policy.ips.cap[got.ip_type]).all()
    assert (got.ip_type[got.link_ip] == link_type).all()  # a link lands on an address of its type
    assert (np.diff(got.ip_type) >= 0).all() and got.unplaced == 0
    for t in range(len(IP_TYPES)):
        demand = int((link_type == t).sum())
        assert (got.ip_type == t).sum() == int(np.ceil(demand / policy.ips.devices_per_ip[t])), IP_TYPES[t]


def test_residential_links_of_a_household_share_addresses_and_carrier_links_mix(policy, pools):
    link_type, affinity, got = pools

    def spread(t):
        """(addresses per affinity group, whether each group's addresses are consecutive, affinities per address)."""
        links = np.flatnonzero((link_type == t) & (affinity > 0))
        pairs = np.unique(np.column_stack([affinity[links].astype(np.int64), got.link_ip[links]]), axis=0)
        groups, first, per_group = np.unique(pairs[:, 0], return_index=True, return_counts=True)
        lo = pairs[first, 1]
        hi = np.maximum.reduceat(pairs[:, 1], first)
        per_address = np.bincount(pairs[:, 1])
        return per_group, hi - lo + 1 == per_group, per_address[per_address > 0]

    # Residential links fill one address after another in household order: a household's links sit
    # on consecutive addresses, each address shared by few households.
    per_group, consecutive, per_address = spread(RESIDENTIAL)
    links_per_group = np.bincount(np.unique(affinity[link_type == RESIDENTIAL], return_inverse=True)[1])
    assert consecutive.all()
    assert per_group.mean() < 0.5 * links_per_group.mean()
    assert per_address.mean() < 2.0
    # Carrier NAT mixes subscribers: an address serves nearly as many households as it has links.
    per_group, consecutive, per_address = spread(CGNAT)
    links_per_address = np.bincount(got.link_ip[(link_type == CGNAT) & (affinity > 0)])
    assert per_address.mean() > 0.9 * links_per_address[links_per_address > 0].mean()
    assert per_address.mean() > 30


def test_hosted_addresses_geolocate_to_hosting_countries_and_the_rest_stay_home(policy, kit):
    n = 60_000
    ip_type = (np.arange(n) % len(IP_TYPES)).astype(np.int8)
    ids = entity_ids("ip", CI, np.arange(1, n + 1, dtype=np.uint64))
    country = geolocate(ids, ip_type, "KE", policy.ips, kit.make_draws())
    hosted = np.isin(ip_type, HOSTED)
    assert set(HOSTED) == {DATACENTRE, VPN}
    assert (country[~hosted] == "KE").all()
    assert np.isin(country[hosted], policy.ips.hosting_countries).all()
    names, counts = np.unique(country[hosted], return_counts=True)
    share = dict(zip(names.tolist(), (counts / hosted.sum()).tolist()))
    for name, p in zip(policy.ips.hosting_countries, policy.ips.hosting_shares):
        assert share[name] == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / hosted.sum())), name
