"""One country's entity world end to end (engine_kernels/entities/country.py): unique ids, every
reference resolvable, homes by household, roles on existing entities, and determinism."""

import numpy as np
import pytest

from engine_kernels.entities.country import DEVICES_PER_PARTY_CAP
from engine_kernels.entities.networks import HOSTED
from engine_kernels.ids import ID_KINDS
from engine_kernels.vocabulary import (ACCOUNT_TYPES, DEVICE_USAGES, ENTITY_KINDS, FRAUD_ROLES, INSTRUMENT_TYPES,
                                       IP_TYPES, PARTY_TYPES, RISK_TIERS)

N = 50_000
FARM = DEVICE_USAGES.index("farm")
RING_ROLES = [FRAUD_ROLES.index(r) for r in ("ring_organiser", "ring_associate", "device_farm", "ring_ip")]


@pytest.fixture(scope="module")
def world(build):
    return build("BR", N, "Americas")


def _role(world, name):
    return world.roles.entity_id[world.roles.role == FRAUD_ROLES.index(name)]


def _position(ids, wanted):
    """Position of each wanted id among (sorted) ids; asserts they are all there."""
    at = np.searchsorted(ids, wanted)
    assert (at < ids.shape[0]).all() and (ids[np.minimum(at, ids.shape[0] - 1)] == wanted).all()
    return at


def test_every_id_is_unique_within_and_across_kinds(world):
    kinds = {"party": world.parties.party_id, "household": world.parties.household_id,
             "account": world.accounts.account_id, "instrument": world.instruments.instrument_id,
             "device": world.devices.device_id, "ip": world.ip_id}
    every = np.concatenate(list(kinds.values()))
    assert np.unique(every).shape[0] == every.shape[0]
    for kind, ids in kinds.items():
        assert ids.size and (np.diff(ids.astype(np.int64)) == 1).all(), kind  # serials 1..n, in order
        assert ((ids >> np.uint64(60)) == ID_KINDS[kind]).all(), kind
        assert (((ids >> np.uint64(50)) & np.uint64(1023)) == 77).all(), kind
    assert world.parties.size == N and world.unplaced == 0


def test_every_reference_resolves(world):
    n_parties, n_accounts = world.parties.size, world.accounts.account_id.shape[0]
    n_instruments, n_devices, n_ips = world.instruments.instrument_id.shape[0], world.devices.device_id.shape[0], \
        world.ip_id.shape[0]
    assert world.accounts.party.min() >= 0 and world.accounts.party.max() < n_parties
    ins = world.instruments
    assert ins.account.min() >= 0 and ins.account.max() < n_accounts
    tokens = ins.instrument_type == INSTRUMENT_TYPES.index("wallet_token")
    assert (ins.card[tokens] >= 0).all() and ins.card[tokens].max() < n_instruments
    assert (ins.account[ins.card[tokens]] == ins.account[tokens]).all()
    d = world.devices
    assert d.link_party.min() >= 0 and d.link_party.max() < n_parties
    assert d.link_device.min() >= 0 and d.link_device.max() < n_devices
    assert world.link_device.min() >= 0 and world.link_device.max() < n_devices
    assert world.link_ip.min() >= 0 and world.link_ip.max() < n_ips
    assert (world.ip_type[world.link_ip] == world.link_type).all()
    # Every address is used, every device has a network, and a link's pair appears once.
    assert np.bincount(world.link_ip, minlength=n_ips).min() >= 1
    assert np.bincount(world.link_device, minlength=n_devices).min() >= 1
    pair = world.link_device.astype(np.int64) * n_ips + world.link_ip
    assert np.unique(pair).shape[0] == pair.shape[0]
    assert np.bincount(world.link_device[world.link_first], minlength=n_devices).tolist() == [1] * n_devices
    for arr in (world.homes.lat, world.score, world.tier):
        assert arr.shape == (n_parties,)


def test_homes_are_those_of_the_household_or_the_party(kit, world):
    p = world.parties
    retail = p.household >= 0
    at = kit.fake_homes(p.household_id[p.household[retail]])
    assert np.array_equal(world.homes.lat[retail], at.lat) and np.array_equal(world.homes.lon[retail], at.lon)
    own = kit.fake_homes(p.party_id[~retail])
    assert np.array_equal(world.homes.lat[~retail], own.lat) and np.array_equal(world.homes.cell[~retail], own.cell)
    assert (world.homes.tzid == "UTC").all()


def test_devices_per_party_stay_under_the_cap_with_farms(world):
    per_party = np.bincount(world.devices.link_party, minlength=world.parties.size)
    assert per_party.max() <= DEVICES_PER_PARTY_CAP


def test_roles_reference_existing_entities(kit, world):
    r = world.roles
    ids = {"party": world.parties.party_id, "account": world.accounts.account_id,
           "device": world.devices.device_id, "ip": world.ip_id,
           "merchant": np.arange(1, 2_001, dtype=np.uint64)}
    for k, name in enumerate(ENTITY_KINDS):
        _position(ids[name], r.entity_id[r.kind == k])
    # Every role appears once per entity.
    key = r.role.astype(np.uint64) * np.uint64(1 << 4) + r.kind.astype(np.uint64)
    assert np.unique(np.column_stack([key, r.entity_id]), axis=0).shape[0] == r.role.shape[0]
    ring_role = np.isin(r.role, RING_ROLES)
    assert ring_role.any() and (r.ring_id[ring_role] > 0).all() and (r.ring_id[~ring_role] == 0).all()
    assert ((r.ring_id[ring_role] >> np.uint64(60)) == ID_KINDS["ring"]).all()
    assert set(np.unique(r.role).tolist()) >= {FRAUD_ROLES.index(n) for n in FRAUD_ROLES} - {
        FRAUD_ROLES.index("collusive_merchant")}  # 0.3% of 2,000 merchants may well be none


def test_roles_fall_on_the_entities_they_describe(policy, world):
    p = world.parties
    synthetic = _position(p.party_id, _role(world, "synthetic_identity"))
    assert (p.party_type[synthetic] == PARTY_TYPES.index("retail")).all()
    members = _position(p.party_id, np.concatenate([_role(world, "ring_organiser"), _role(world, "ring_associate")]))
    assert (world.tier[members] == RISK_TIERS.index("high")).all() and not np.isin(members, synthetic).any()
    assert (p.party_type[members] == PARTY_TYPES.index("retail")).all()
    mules = _position(world.accounts.account_id, _role(world, "mule"))
    assert np.isin(world.accounts.account_type[mules], [ACCOUNT_TYPES.index("current"),
                                                        ACCOUNT_TYPES.index("business_current")]).all()
    # Farm devices belong to a member of their ring and connect only to their ring's hosted addresses.
    r = world.roles
    farm_role = r.role == FRAUD_ROLES.index("device_farm")
    farm = _position(world.devices.device_id, r.entity_id[farm_role])
    assert (world.devices.usage[farm] == FARM).all() and farm.shape[0] == (world.devices.usage == FARM).sum()
    member_role = np.isin(r.role, [FRAUD_ROLES.index("ring_organiser"), FRAUD_ROLES.index("ring_associate")])
    ring_of_party = dict(zip(r.entity_id[member_role].tolist(), r.ring_id[member_role].tolist()))
    owner = world.devices.link_party[np.isin(world.devices.link_device, farm)]
    owner_ring = [ring_of_party[int(i)] for i in p.party_id[owner]]
    assert owner_ring == r.ring_id[farm_role][np.argsort(farm, kind="stable")].tolist()
    ip_role = r.role == FRAUD_ROLES.index("ring_ip")
    ring_ips = _position(world.ip_id, r.entity_id[ip_role])
    assert np.isin(world.ip_type[ring_ips], HOSTED).all()
    ring_of_ip = dict(zip(ring_ips.tolist(), r.ring_id[ip_role].tolist()))
    ring_of_device = dict(zip(farm.tolist(), r.ring_id[farm_role].tolist()))
    farm_links = np.isin(world.link_device, farm)
    assert all(ring_of_ip[int(ip)] == ring_of_device[int(dev)]
               for dev, ip in zip(world.link_device[farm_links], world.link_ip[farm_links]))
    # Hosted addresses are abroad in hosting countries; the others at home.
    hosted = np.isin(world.ip_type, HOSTED)
    assert np.isin(world.ip_country[hosted], policy.ips.hosting_countries).all()
    assert (world.ip_country[~hosted] == "BR").all()


def test_tiers_are_exact_shares_of_the_countrys_scores(policy, world):
    counts = np.bincount(world.tier, minlength=len(RISK_TIERS))
    assert counts.tolist() == np.rint(policy.fraud.tier_shares * N).astype(int).tolist()
    order = np.argsort(world.score)
    assert (np.diff(world.tier[order]) >= 0).all()


def test_pool_addresses_keep_their_caps(policy, world):
    per_ip = np.bincount(world.link_ip, minlength=world.ip_id.shape[0])
    assert (per_ip <= policy.ips.cap[world.ip_type]).all()
    # Devices reach every IP type but datacentre through their networks; rings add their hosted types.
    ring_types = set(np.unique(world.ip_type[_position(world.ip_id, _role(world, "ring_ip"))]).tolist())
    pool_types = set(range(len(IP_TYPES))) - {IP_TYPES.index("datacentre")}
    assert set(np.unique(world.link_type).tolist()) == pool_types | ring_types


def test_the_same_inputs_build_the_same_world_and_another_seed_another(kit, build, world):
    again = build("BR", N, "Americas")
    a, b = kit.world_arrays(world), kit.world_arrays(again)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    other = kit.world_arrays(build("BR", N, "Americas", seed=8))
    differ = [name for name in a if a[name].shape != other[name].shape or not np.array_equal(a[name], other[name])]
    # Everything drawn differs; only what is fixed by the inputs (ids of the same counts, types) may not.
    for name in ("parties.segment", "parties.tenure_months", "score", "accounts.party", "instruments.token",
                 "devices.os", "link_ip", "roles.entity_id"):
        assert name in differ, name


@pytest.mark.parametrize(("n_parties", "n_sites", "n_merchants"), [(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 1, 1),
                                                                    (10, 0, 2), (50, 3, 3)])
def test_tiny_countries_build_whole_worlds(build, n_parties, n_sites, n_merchants):
    world = build("BR", n_parties, "Americas", n_sites=n_sites, n_merchants=n_merchants)
    assert world.parties.size == n_parties and world.unplaced == 0
    assert (world.devices.site >= 0).sum() >= n_sites  # every site has its terminal
    n_devices = world.devices.device_id.shape[0]
    assert np.bincount(world.link_device[world.link_first], minlength=n_devices).tolist() == [1] * n_devices


def test_a_country_with_sites_and_no_parties(build):
    """A country whose few sites earn it no party still gets its terminals and their addresses."""
    world = build("BR", 0, "Americas", n_sites=5, n_merchants=5)
    assert (world.devices.usage == DEVICE_USAGES.index("terminal")).sum() >= 5
    assert world.parties.size == 0 and world.ip_id.size >= 1
