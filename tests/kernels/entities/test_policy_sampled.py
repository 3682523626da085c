"""Every distribution configured in config/policies/6a.yaml is actually sampled, and every value
of the policy is actually used.

Coverage: in large builds every category with a positive share (party types and segments, age and
income bands by segment, household sizes, account and instrument types and forms, schemes,
device types, operating systems, networks, IP types, fraud roles, risk tiers, hosting countries)
appears, and no category with a zero share does.

Use: each value of the policy, changed on its own with dataclasses.replace, changes the world
build_country makes (a few only in a context where they can show, see CONTEXT; the values
build_country does not read are listed in EXEMPT with the reason); a few changes are also checked
for their direction.
"""

import dataclasses

import numpy as np
import pytest

from engine_kernels.entities.country import build_country
from engine_kernels.entities.devices import NETWORK_KEYS, network_key
from engine_kernels.entities.networks import HOSTED
from engine_kernels.entities.roles import draw_rings
from engine_kernels.ids import entity_ids
from engine_kernels.vocabulary import (ACCOUNT_TYPES, AGE_BANDS, DEVICE_TYPES, DEVICE_USAGES, FRAUD_ROLES,
                                       INCOME_BANDS, INSTRUMENT_FORMS, INSTRUMENT_TYPES, IP_TYPES,
                                       OPERATING_SYSTEMS, PARTY_TYPES, REGIONS, RISK_TIERS, SCHEMES, SEGMENTS,
                                       SEGMENTS_BY_TYPE)

DEBIT, CREDIT, WALLET, HANDLE = range(len(INSTRUMENT_TYPES))
PHYSICAL, VIRTUAL, TOKEN, ALIAS = range(len(INSTRUMENT_FORMS))
RESIDENTIAL, CORPORATE = IP_TYPES.index("residential"), IP_TYPES.index("corporate")
DATACENTRE, VPN = IP_TYPES.index("datacentre"), IP_TYPES.index("vpn_proxy")
TERMINAL_TYPE = DEVICE_TYPES.index("terminal")
DOMESTIC = {"CN": "Asia", "IN": "Asia", "JP": "Asia", "RU": "Europe", "FR": "Europe"}
N_MERCHANTS = 4_000


def _pairs(a, b, n_a, n_b):
    """(n_a, n_b) bool: which (a, b) pairs occur."""
    seen = np.zeros((n_a, n_b), bool)
    seen[a, b] = True
    return seen


@pytest.fixture(scope="module")
def big(build):
    """300,000 parties in Europe with 3,000 sites and 4,000 merchants (rings included)."""
    return build("DE", 300_000, "Europe", n_sites=3_000, n_merchants=N_MERCHANTS)


# --- coverage ---

def test_every_party_type_and_segment_is_drawn(big):
    p = big.parties
    assert set(np.unique(p.party_type).tolist()) == set(range(len(PARTY_TYPES)))
    seen = _pairs(p.party_type, p.segment, len(PARTY_TYPES), len(SEGMENTS))
    for t, name in enumerate(PARTY_TYPES):
        assert {SEGMENTS[s] for s in np.flatnonzero(seen[t])} == set(SEGMENTS_BY_TYPE[name]), name


@pytest.mark.parametrize(("field", "table", "bands"), [("age_band", "age", AGE_BANDS),
                                                       ("income_band", "income", INCOME_BANDS)])
def test_every_band_with_a_positive_share_in_a_segment_is_drawn_and_no_other(policy, big, field, table, bands):
    shares = getattr(policy.parties, table)
    seen = _pairs(big.parties.segment, getattr(big.parties, field), len(SEGMENTS), len(bands))
    assert np.array_equal(seen, shares > 0), np.argwhere(seen != (shares > 0)).tolist()


def test_every_household_size_is_drawn(big):
    sizes = np.bincount(big.parties.household[big.parties.household >= 0])
    assert set(sizes.tolist()) == {1, 2, 3, 4, 5, 6}


def test_every_account_type_is_held_by_every_type_of_its_holders_only(policy, big):
    owner_type = big.parties.party_type[big.accounts.party]
    seen = _pairs(owner_type, big.accounts.account_type, len(PARTY_TYPES), len(ACCOUNT_TYPES))
    expected = np.zeros_like(seen)
    for code, product in enumerate(policy.accounts):
        expected[list(product.holders), code] = True
    assert np.array_equal(seen, expected)


def test_every_instrument_type_and_form_is_drawn(big):
    ins = big.instruments
    seen = _pairs(ins.instrument_type, ins.form, len(INSTRUMENT_TYPES), len(INSTRUMENT_FORMS))
    expected = np.zeros_like(seen)
    expected[[DEBIT, DEBIT, CREDIT, CREDIT, WALLET, HANDLE],
             [PHYSICAL, VIRTUAL, PHYSICAL, VIRTUAL, TOKEN, ALIAS]] = True
    assert np.array_equal(seen, expected)
    months = np.unique(ins.expiry_month[ins.instrument_type != HANDLE])
    assert months.tolist() == list(range(1, 61))  # expiry_months [1, 60]: every month, none outside


def test_every_international_scheme_is_drawn(policy, big):
    cards = np.isin(big.instruments.instrument_type, (DEBIT, CREDIT))
    seen = set(np.unique(big.instruments.scheme[cards]).tolist())
    assert seen == set(np.flatnonzero(policy.instruments.scheme_shares > 0).tolist())
    assert {SCHEMES[s] for s in seen} == {"VISA", "MASTERCARD", "AMEX", "DISCOVER"}


@pytest.mark.parametrize("country", sorted(DOMESTIC))
def test_every_domestic_scheme_is_drawn_in_its_country(policy, build, country):
    world = build(country, 6_000, DOMESTIC[country])
    cards = np.isin(world.instruments.instrument_type, (DEBIT, CREDIT))
    scheme = world.instruments.scheme[cards]
    own, share = policy.instruments.domestic[country]
    assert sorted(policy.instruments.domestic) == sorted(DOMESTIC)
    assert (scheme == own).mean() == pytest.approx(share, abs=5 * np.sqrt(share * (1 - share) / scheme.shape[0]))
    international = set(np.flatnonzero(policy.instruments.scheme_shares > 0).tolist())
    assert set(np.unique(scheme).tolist()) == international | {own}


def test_every_device_type_usage_and_os_is_drawn(policy, big):
    d = big.devices
    owner = d.link_party[d.link_role == 0]
    owned = d.link_device[d.link_role == 0]
    personal = np.isin(d.usage[owned], (DEVICE_USAGES.index("personal"), DEVICE_USAGES.index("business")))
    seen = _pairs(big.parties.party_type[owner[personal]], d.device_type[owned[personal]], len(PARTY_TYPES), 4)
    eligible = np.stack([h.eligible for h in policy.devices.personal], axis=1) > 0
    assert np.array_equal(seen, eligible)
    shared = d.device_type[d.usage == DEVICE_USAGES.index("shared")]
    assert set(np.unique(shared).tolist()) == set(np.flatnonzero(policy.devices.shared_types > 0).tolist())
    assert set(np.unique(d.usage).tolist()) == set(range(len(DEVICE_USAGES)))
    assert set(np.unique(d.device_type).tolist()) == set(range(len(DEVICE_TYPES)))
    seen = _pairs(d.device_type, d.os, len(DEVICE_TYPES), len(OPERATING_SYSTEMS))
    assert np.array_equal(seen, policy.devices.os_shares > 0), np.argwhere(seen != (policy.devices.os_shares > 0))


def test_every_network_a_device_can_reach_is_drawn(policy, big):
    d = big.devices
    not_farm = np.flatnonzero(d.usage != DEVICE_USAGES.index("farm"))
    links = np.isin(big.link_device, not_farm)
    key = network_key(d.device_type, d.usage)[big.link_device[links]]
    seen = _pairs(key, big.link_type[links], len(NETWORK_KEYS), len(IP_TYPES))
    expected = np.zeros_like(seen)
    for k, name in enumerate(NETWORK_KEYS):
        expected[k, policy.devices.first_network[name]] = True
        expected[k] |= policy.devices.also_network[name] > 0
        expected[k, VPN] |= name != "terminal" and policy.devices.vpn_share > 0
    assert np.array_equal(seen, expected), np.argwhere(seen != expected).tolist()


def test_every_ip_type_and_hosting_country_is_drawn(policy, big):
    # Datacentre addresses are reached through rings only; the world has rings of both kinds.
    assert set(np.unique(big.ip_type).tolist()) == set(range(len(IP_TYPES)))
    assert set(np.unique(big.link_type).tolist()) == set(range(len(IP_TYPES)))
    farm = big.devices.usage[big.link_device] == DEVICE_USAGES.index("farm")
    assert set(np.unique(big.link_type[farm]).tolist()) == {DATACENTRE, VPN}
    hosted = np.isin(big.ip_type, HOSTED)
    assert set(np.unique(big.ip_country[hosted]).tolist()) == set(policy.ips.hosting_countries)


def test_every_fraud_role_and_risk_tier_is_drawn(big):
    assert set(np.unique(big.roles.role).tolist()) == set(range(len(FRAUD_ROLES)))
    assert set(np.unique(big.tier).tolist()) == set(range(len(RISK_TIERS)))


def test_every_ring_size_farm_and_address_count_in_the_policy_ranges_is_drawn(policy, kit):
    f = policy.fraud
    n_retail, n_candidates, ci = 20_000_000, 20_000, 5
    ring_ids = entity_ids("ring", ci, np.arange(1, 1 + int(f.rings_per_million * n_retail / 1e6) + 2, dtype=np.uint64))
    candidate_ids = entity_ids("party", ci, np.arange(1, n_candidates + 1, dtype=np.uint64))
    rings = draw_rings(np.arange(n_candidates), candidate_ids, n_retail, lambda k: ring_ids[:k], ci, f,
                       kit.make_draws())
    assert rings.n_rings == 1_200
    associates = np.bincount(rings.ring) - 1
    assert np.unique(associates).tolist() == list(range(f.ring_associates[0], f.ring_associates[1] + 1))
    assert np.unique(rings.farm_devices).tolist() == list(range(f.farm_devices[0], f.farm_devices[1] + 1))
    assert np.unique(rings.ips_per_ring).tolist() == list(range(f.ring_ips[0], f.ring_ips[1] + 1))


# --- every value is used ---

# Values build_country does not read, and why.
EXEMPT = {
    "parties.payments_per_active_party_week": "sizes the countries (party_counts), not their worlds",
    "parties.active_share": "sizes the countries (party_counts)",
    "parties.population_weight": "sizes the countries (party_counts)",
    "instruments.handles.virtual_share": "transfer handles are aliases: they have no physical or virtual form",
    "instruments.rail_default": "names the rail of the published tables (asset layer)",
    "instruments.rails": "names the rail of the published tables (asset layer)",
}
# Maps whose entries are checked one by one (the others are changed as a whole).
BY_KEY = ("parties.segment_mix", "devices.first_network", "devices.also_network")
SWEEP_COUNTRY, SWEEP_REGION = "FR", "Europe"  # FR has a domestic scheme


def _leaves(obj, path=""):
    """Dotted paths of every value of the policy: tuples of dataclasses by index, BY_KEY maps by key."""
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _leaves(getattr(obj, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(obj, tuple) and obj and dataclasses.is_dataclass(obj[0]):
        for i, item in enumerate(obj):
            yield from _leaves(item, f"{path}[{i}]")
    elif path in BY_KEY:
        for key in obj:
            yield f"{path}[{key}]"
    elif not path.endswith(".name"):  # a Holding's name is its label in messages
        yield path


def _steps(path):
    for part in path.split("."):
        name, _, index = part.partition("[")
        yield name, (index[:-1] if index else None)


def _get(obj, path):
    for name, index in _steps(path):
        obj = getattr(obj, name)
        if index is not None:
            obj = obj[int(index)] if isinstance(obj, tuple) else obj[index]
    return obj


def _set(obj, steps, value):
    (name, index), rest = steps[0], steps[1:]
    child = getattr(obj, name)
    if index is None:
        new = _set(child, rest, value) if rest else value
    elif isinstance(child, tuple):
        i = int(index)
        new = (*child[:i], _set(child[i], rest, value) if rest else value, *child[i + 1:])
    else:
        new = {**child, index: _set(child[index], rest, value) if rest else value}
    return dataclasses.replace(obj, **{name: new})


def _perturbed(path, value):
    """Another valid value for the policy value at `path`."""
    last = path.rsplit(".", 1)[-1]
    if last == "domestic":
        own, share = value[SWEEP_COUNTRY]
        return {**value, SWEEP_COUNTRY: (own, min(1.0, share * 2))}
    if path.startswith("devices.first_network["):
        return CORPORATE if value == RESIDENTIAL else RESIDENTIAL
    if path.startswith("devices.also_network["):
        return np.full_like(value, 0.5)
    if last == "cap" and isinstance(value, np.ndarray):  # per IP type: binding for every type
        return np.full_like(value, 3)
    if last == "floor":
        return 1 - value  # 1 → 0 lets eligible owners of low propensity hold none; 0 → 1 gives each one
    if last == "cap":
        return 1
    if last == "risky_mccs":
        return value - {5967}
    if last == "hosting_countries":
        return value[::-1]
    if isinstance(value, float):
        return value * 0.5
    if isinstance(value, tuple) and last in ("ring_associates", "farm_devices", "ring_ips", "expiry_months"):
        return value[0] + 1, value[1] + 1
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):  # holders, accounts, tiers
        return value[:-1] if len(value) > 1 else (*value, value[0] + 1)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        if value.size > 1 and np.allclose(value.sum(axis=-1), 1):  # distributions: move the shares along
            return np.roll(value, 1, axis=-1)
        return value * 0.5
    raise TypeError(f"no perturbation for {path} = {value!r}")


def _scaled(path, factor):
    """A change of the policy multiplying the value at `path` by `factor`."""
    def change(policy):
        return _set(policy, list(_steps(path)), _get(policy, path) * factor)
    return change


def _both(*changes):
    def change(policy):
        for c in changes:
            policy = c(policy)
        return policy
    return change


# Values whose change is invisible at the policy's other values, and the context in which they show.
# The allocator shares what is left after the floor by largest remainder over the owners' log-normal
# weights; when that is well under one item per owner, nobody's share reaches a whole item and the
# remainders go to the highest weights: only the owners' ranking counts, and sigma (a monotone
# rescaling of the weights) cannot change it. Likewise a floor the shares already meet.
CONTEXT = {
    "accounts[3].holding.sigma": ("0.15 loans per holder beyond the floor",
                                  _scaled("accounts[3].holding.per_holder", 2)),
    "accounts[5].holding.sigma": ("0.3 business savings accounts per holder beyond the floor",
                                  _scaled("accounts[5].holding.per_holder", 2)),
    "accounts[7].holding.sigma": ("0.2 business loans per holder beyond the floor",
                                  _scaled("accounts[7].holding.per_holder", 2)),
    "instruments.debit.holding.sigma": ("0.25 debit cards per account beyond the floor",
                                        _scaled("instruments.debit.holding.per_holder", 2)),
    "instruments.credit.holding.sigma": ("0.3 credit cards per account beyond the floor",
                                         _scaled("instruments.credit.holding.per_holder", 2)),
    "devices.personal[3].sigma": ("1.05 tablets per owner, at most 2: everyone eligible gets one, the rest go by rank",
                                  _both(_scaled("devices.personal[3].per_holder", 3),
                                        _scaled("devices.personal[3].cap", 4))),
    "devices.personal[0].sigma": ("0.15 mobiles per owner beyond the one every eligible owner holds",
                                  _scaled("devices.personal[0].per_holder", 2)),
    "instruments.wallet.sigma": ("0.3 tokens per tokenised card beyond the first",
                                 _scaled("instruments.wallet.per_holder", 2)),
    "instruments.handles.holding.sigma": ("0.1 handles per account beyond the first",
                                          _scaled("instruments.handles.holding.per_holder", 2)),
    "devices.personal[3].floor": ("with sigma 0.2 every eligible owner already gets a tablet",
                                  _scaled("devices.personal[3].sigma", 5)),
}


def _sweep_policy(policy):
    """The policy with rings common enough that a small country has several (not so many that the
    high tier runs out of members for them)."""
    return dataclasses.replace(policy, fraud=dataclasses.replace(policy.fraud, rings_per_million=3_000.0))


def _sweep_build(kit, policy):
    inputs = kit.country_inputs(SWEEP_COUNTRY, 6_000, SWEEP_REGION, n_sites=400, n_merchants=2_000)
    return build_country(inputs, kit.fake_homes, policy, kit.make_draws())


@pytest.fixture(scope="module")
def sweep_base(policy, kit):
    base = _sweep_policy(policy)
    world = _sweep_build(kit, base)
    roles = np.bincount(world.roles.role, minlength=len(FRAUD_ROLES))
    assert (roles > 0).all(), roles  # every role is there to be changed
    return base, kit.digest(world)


def test_the_sweep_covers_every_value_of_the_policy(policy):
    """Every value but the exempt ones has a perturbation that really changes it."""
    leaves = set(_leaves(policy))
    assert set(EXEMPT) | set(CONTEXT) <= leaves and len(leaves) > 140
    for path in leaves - set(EXEMPT):
        value = _get(policy, path)
        new = _perturbed(path, value)
        if isinstance(value, np.ndarray):
            assert new.shape == value.shape and not np.array_equal(new, value), path
        else:
            assert type(new) is type(value) and new != value, path


def _sweep_ids(policy_):
    return sorted(set(_leaves(policy_)) - set(EXEMPT))


def pytest_generate_tests(metafunc):
    if "sweep_path" in metafunc.fixturenames:
        from engine_assets.run.config import load_policies

        metafunc.parametrize("sweep_path", _sweep_ids(load_policies().entities.model))


def test_changing_the_value_changes_the_world(kit, sweep_base, sweep_path):
    base, base_digest = sweep_base
    if sweep_path in CONTEXT:
        base = CONTEXT[sweep_path][1](base)
        base_digest = kit.digest(_sweep_build(kit, base))
    changed = _set(base, list(_steps(sweep_path)), _perturbed(sweep_path, _get(base, sweep_path)))
    assert _get(changed, sweep_path) is not _get(base, sweep_path)
    assert kit.digest(_sweep_build(kit, changed)) != base_digest, f"{sweep_path} changes nothing"


@pytest.mark.parametrize("field", ["devices_per_ip", "sigma", "cap"])
def test_each_pool_types_sizing_is_used(kit, sweep_base, field):
    """Per IP type, not only as a whole: each type devices reach has its own addresses. (Datacentre
    addresses come from rings alone, sized by fraud.ring_ips: no network of a device reaches one, so
    its row of ips.types is never read.)"""
    base, base_digest = sweep_base
    world = _sweep_build(kit, base)
    farm = world.devices.usage[world.link_device] == DEVICE_USAGES.index("farm")
    pooled = np.unique(world.link_type[~farm])
    assert set(pooled.tolist()) >= set(range(len(IP_TYPES))) - {DATACENTRE}
    for t in pooled:
        value = getattr(base.ips, field).copy()
        value[t] = 3 if field == "cap" else value[t] * 0.5
        changed = dataclasses.replace(base, ips=dataclasses.replace(base.ips, **{field: value}))
        assert kit.digest(_sweep_build(kit, changed)) != base_digest, (field, IP_TYPES[t])


# --- the direction of a few changes ---

def _retail_share(world, segment):
    p = world.parties
    return (p.segment[p.party_type == 0] == SEGMENTS.index(segment)).mean()


def _realised_odds(world, policy):
    risky_owner = np.isin(world.tier, policy.fraud.risky_tiers)[world.accounts.party]
    risky = np.isin(world.accounts.account_id,
                    world.roles.entity_id[world.roles.role == FRAUD_ROLES.index("risky_account")])
    p1, p0 = risky[risky_owner].mean(), risky[~risky_owner].mean()
    return p1 / (1 - p1) / (p0 / (1 - p0))


@pytest.fixture(scope="module")
def mid(policy, build):
    return build("DE", 40_000, "Europe")


def test_a_segment_mix_sets_the_segments(policy, build, mid):
    europe = REGIONS.index("Europe")
    mix = policy.parties.segment_mix["retail"].copy()
    mix[europe] = [0.05, 0.15, 0.1, 0.1, 0.6]
    changed = dataclasses.replace(policy, parties=dataclasses.replace(
        policy.parties, segment_mix={**policy.parties.segment_mix, "retail": mix}))
    assert _retail_share(mid, "retired") == pytest.approx(0.24, abs=0.01)
    assert _retail_share(build("DE", 40_000, "Europe", policy_=changed), "retired") == pytest.approx(0.6, abs=0.01)
    # Only Europe's row was changed: an African country is as before.
    before, after = build("KE", 5_000, "Africa"), build("KE", 5_000, "Africa", policy_=changed)
    assert np.array_equal(before.parties.segment, after.parties.segment)


def test_the_vpn_share_sets_the_share_of_devices_behind_a_vpn(policy, build, mid):
    def vpn_share(world):
        not_terminal = np.flatnonzero((world.devices.device_type != TERMINAL_TYPE)
                                      & (world.devices.usage != DEVICE_USAGES.index("farm")))
        on_vpn = np.unique(world.link_device[world.link_type == VPN])
        return np.isin(not_terminal, on_vpn).mean()

    changed = dataclasses.replace(policy, devices=dataclasses.replace(policy.devices, vpn_share=0.3))
    assert vpn_share(mid) == pytest.approx(0.04, abs=0.005)
    assert vpn_share(build("DE", 40_000, "Europe", policy_=changed)) == pytest.approx(0.3, abs=0.01)


def test_the_odds_ratio_sets_the_risk_of_risky_owners_accounts(policy, build, mid):
    assert 1.5 <= _realised_odds(mid, policy) <= 2.0
    changed = dataclasses.replace(policy, fraud=dataclasses.replace(policy.fraud, odds_ratio=5.0))
    assert _realised_odds(build("DE", 40_000, "Europe", policy_=changed), changed) == pytest.approx(5.0, rel=0.2)


def test_household_sizes_set_the_households(policy, build, mid):
    sizes = policy.parties.household_sizes.copy()
    sizes[REGIONS.index("Europe")] = [0, 0, 0, 0, 0, 1.0]
    changed = dataclasses.replace(policy, parties=dataclasses.replace(policy.parties, household_sizes=sizes))
    world = build("DE", 40_000, "Europe", policy_=changed)
    per_household = np.bincount(world.parties.household[world.parties.household >= 0])
    assert (per_household[:-1] == 6).all() and 1 <= per_household[-1] <= 6
    assert np.bincount(mid.parties.household[mid.parties.household >= 0]).mean() == pytest.approx(2.28, abs=0.05)
