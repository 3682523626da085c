"""One country's entity world, end to end: parties, homes, holdings, devices, addresses and roles.

Everything a country holds is drawn from keys on its own entities' ids, so a country built alone
is the same as inside any batch. Homes need the map, which the caller brings as `place_homes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine_kernels.entities.devices import FARM, LAPTOP, MOBILE, Devices, device_networks, draw_devices
from engine_kernels.entities.draws import Draws
from engine_kernels.entities.holdings import Accounts, Instruments, draw_accounts, draw_instruments
from engine_kernels.entities.networks import geolocate, pool_addresses
from engine_kernels.entities.parties import Parties, draw_parties
from engine_kernels.entities.policy import EntityPolicy
from engine_kernels.entities.roles import Rings, draw_rings, merchant_roles, propagate, risk_scores, risk_tiers, weighted_pick
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import ACCOUNT_TYPES, ENTITY_KINDS, FRAUD_ROLES, IP_TYPES, RISK_TIERS

__all__ = ["CountryInputs", "CountryWorld", "Homes", "build_country", "DEVICES_PER_PARTY_CAP"]

# A person runs at most this many devices, farm devices included (the blocking cap of 6A).
DEVICES_PER_PARTY_CAP = 20
CARD_ACCOUNTS = (ACCOUNT_TYPES.index("credit_card"), ACCOUNT_TYPES.index("business_credit_card"))
CURRENT_ACCOUNTS = (ACCOUNT_TYPES.index("current"), ACCOUNT_TYPES.index("business_current"))
VPN = IP_TYPES.index("vpn_proxy")
HOSTED_TYPES = np.array([IP_TYPES.index("datacentre"), VPN], np.int8)


@dataclass(frozen=True)
class Homes:
    lat: np.ndarray
    lon: np.ndarray
    cell: np.ndarray
    tzid: np.ndarray  # object


@dataclass(frozen=True)
class CountryInputs:
    country: str
    country_index: int
    region: int  # into REGIONS, len(REGIONS) for none
    n_parties: int
    site_ids: np.ndarray  # uint64, the country's sites
    site_merchant: np.ndarray  # uint64 merchant of each site
    merchant_ids: np.ndarray  # uint64 merchants at home in the country
    merchant_mcc: np.ndarray


@dataclass(frozen=True)
class Roles:
    kind: np.ndarray  # int8 into ENTITY_KINDS
    entity_id: np.ndarray  # uint64
    role: np.ndarray  # int8 into FRAUD_ROLES
    ring_id: np.ndarray  # uint64, 0 for none


@dataclass(frozen=True)
class CountryWorld:
    parties: Parties
    homes: Homes  # per party
    score: np.ndarray
    tier: np.ndarray
    accounts: Accounts
    instruments: Instruments
    devices: Devices
    ip_id: np.ndarray
    ip_type: np.ndarray
    ip_country: np.ndarray  # object
    link_device: np.ndarray  # device ↔ IP links
    link_ip: np.ndarray
    link_type: np.ndarray
    link_first: np.ndarray
    roles: Roles
    unplaced: int


def _per_party(n: int, party: np.ndarray) -> np.ndarray:
    return np.bincount(party, minlength=n) > 0


def _roles(*parts: tuple[str, str, np.ndarray, np.ndarray | None]) -> Roles:
    kinds, ids, roles, rings = [], [], [], []
    for kind, role, entity_id, ring in parts:
        kinds.append(np.full(entity_id.shape[0], ENTITY_KINDS.index(kind), np.int8))
        ids.append(entity_id.astype(np.uint64))
        roles.append(np.full(entity_id.shape[0], FRAUD_ROLES.index(role), np.int8))
        rings.append(np.zeros(entity_id.shape[0], np.uint64) if ring is None else ring.astype(np.uint64))
    return Roles(*(np.concatenate(x) for x in (kinds, ids, roles, rings)))


def _farms(devices: Devices, rings: Rings, n_parties: int, policy: EntityPolicy, country_index: int,
           draws: Draws) -> tuple[Devices, np.ndarray]:
    """Devices with each ring member's farm appended (within the per-party cap) and the ring of each farm device."""
    held = np.bincount(devices.link_party, minlength=n_parties)[rings.member]
    size = np.minimum(rings.farm_devices, np.maximum(DEVICES_PER_PARTY_CAP - held, 0))
    owner = np.repeat(rings.member, size)
    k = np.arange(owner.shape[0]) - np.repeat(np.cumsum(size) - size, size)
    device_type = np.where(k % 2 == 0, MOBILE, LAPTOP).astype(np.int8)
    extended = devices.extend(device_type, np.full(owner.shape[0], FARM, np.int8), owner, policy.devices, country_index,
                              draws)
    return extended, np.repeat(rings.ring, size)


def build_country(inputs: CountryInputs, place_homes: Callable[[np.ndarray], Homes], policy: EntityPolicy,
                  draws: Draws) -> CountryWorld:
    ci, fraud = inputs.country_index, policy.fraud
    parties = draw_parties(inputs.n_parties, ci, inputs.region, policy.parties, draws)
    n = parties.size
    retail = parties.household >= 0
    units = np.concatenate([parties.household_id, parties.party_id[~retail]])
    at = place_homes(units)
    unit = parties.home_unit()
    homes = Homes(at.lat[unit], at.lon[unit], at.cell[unit], at.tzid[unit])

    accounts = draw_accounts(parties, policy.accounts, ci, draws)
    instruments = draw_instruments(accounts, policy.instruments, inputs.country, ci, draws)
    devices = draw_devices(parties, inputs.site_ids, policy.devices, ci, draws)
    net_device, net_type, net_first = device_networks(devices, policy.devices, draws)

    # Features of the risk score.
    has_card = _per_party(n, accounts.party[np.isin(accounts.account_type, CARD_ACCOUNTS)])
    vpn_devices = np.zeros(devices.device_id.shape[0], bool)
    vpn_devices[net_device[net_type == VPN]] = True
    uses_vpn = _per_party(n, devices.link_party[vpn_devices[devices.link_device]])
    score = risk_scores(parties.segment, parties.tenure_months, has_card, uses_vpn, parties.party_id, fraud, draws)
    tier = risk_tiers(score, fraud.tier_shares)

    n_retail = int(retail.sum())
    u = draws.uniform(substreams.ROLE, parties.party_id[:n_retail], field=1)
    synthetic = np.flatnonzero(weighted_pick(fraud.synthetic_share * n_retail, score[:n_retail], fraud.score_slope, u))
    current = np.flatnonzero(np.isin(accounts.account_type, CURRENT_ACCOUNTS))
    u = draws.uniform(substreams.ROLE, accounts.account_id[current], field=2)
    mules = current[weighted_pick(fraud.mule_share * accounts.account_id.shape[0], score[accounts.party[current]],
                                  fraud.score_slope, u)]
    high = RISK_TIERS.index("high")
    candidates = np.setdiff1d(np.flatnonzero(retail & (tier == high)), synthetic)
    ring_ids = entity_ids("ring", ci, np.arange(1, 1 + int(np.ceil(fraud.rings_per_million * n_retail / 1e6)) + 1,
                                                dtype=np.uint64))
    rings = draw_rings(candidates, parties.party_id[candidates], n_retail, lambda k: ring_ids[:k], ci, fraud, draws)
    devices, farm_ring = _farms(devices, rings, n, policy, ci, draws)
    farm = np.flatnonzero(devices.usage == FARM)

    # Addresses: the pools of ordinary links, then each ring's own hosted exits.
    owner = np.full(devices.device_id.shape[0], -1, np.int64)
    first_link = np.unique(devices.link_device, return_index=True)
    owner[first_link[0]] = devices.link_party[first_link[1]]
    # Links that share an address when they can: a household's, a party's, a merchant's terminals.
    affinity = np.zeros(devices.device_id.shape[0], np.uint64)
    owned = np.flatnonzero(owner >= 0)
    home = parties.household[owner[owned]]
    affinity[owned] = np.where(home >= 0, parties.household_id[np.maximum(home, 0)] if parties.household_id.size
                               else 0, parties.party_id[owner[owned]])
    terminals = devices.site >= 0
    affinity[terminals] = inputs.site_merchant[devices.site[terminals]]
    # Unique per link: the device's serial (its id below the kind and country bits) and the type.
    link_key = (devices.device_id[net_device] & np.uint64((1 << 50) - 1)) * np.uint64(8) + net_type.astype(np.uint64)

    def ip_ids(first: int, count: int) -> np.ndarray:
        return entity_ids("ip", ci, np.arange(first + 1, first + count + 1, dtype=np.uint64))

    pools = pool_addresses(net_type, affinity[net_device], link_key, policy.ips, ip_ids, draws)
    n_pool = pools.ip_type.shape[0]
    ring_ip_first = n_pool + np.concatenate(([0], np.cumsum(rings.ips_per_ring)))
    ring_ip_type = np.repeat(HOSTED_TYPES[rings.ip_hosted_type], rings.ips_per_ring)
    k = np.arange(farm.shape[0]) - np.searchsorted(farm_ring, farm_ring, side="left")
    farm_ip = ring_ip_first[farm_ring] + k % np.maximum(rings.ips_per_ring[farm_ring], 1) if farm.size else farm
    ip_type = np.concatenate([pools.ip_type, ring_ip_type])
    ip_id = ip_ids(0, ip_type.shape[0])
    ring_ips = np.arange(n_pool, ip_type.shape[0])

    # Risky accounts and devices of risky owners.
    risky_party = np.isin(tier, fraud.risky_tiers)
    risky_accounts = np.flatnonzero(propagate(risky_party[accounts.party], accounts.account_id, fraud, draws, 3))
    owned = np.flatnonzero((owner >= 0) & (devices.usage != FARM))
    risky_devices = owned[propagate(risky_party[owner[owned]], devices.device_id[owned], fraud, draws, 4)]
    risky_merchant, collusive = merchant_roles(inputs.merchant_ids, inputs.merchant_mcc, fraud, draws)
    ring_of = ring_ids[rings.ring]
    roles = _roles(
        ("party", "synthetic_identity", parties.party_id[synthetic], None),
        ("party", "ring_organiser", parties.party_id[rings.member[rings.organiser]], ring_of[rings.organiser]),
        ("party", "ring_associate", parties.party_id[rings.member[~rings.organiser]], ring_of[~rings.organiser]),
        ("account", "mule", accounts.account_id[mules], None),
        ("account", "risky_account", accounts.account_id[risky_accounts], None),
        ("device", "risky_device", devices.device_id[risky_devices], None),
        ("device", "device_farm", devices.device_id[farm], ring_ids[farm_ring]),
        ("ip", "ring_ip", ip_id[ring_ips], ring_ids[np.repeat(np.arange(rings.n_rings), rings.ips_per_ring)]),
        ("merchant", "risky_merchant", inputs.merchant_ids[risky_merchant], None),
        ("merchant", "collusive_merchant", inputs.merchant_ids[collusive], None),
    )
    link_device = np.concatenate([net_device, farm])
    order = np.lexsort((np.concatenate([net_type, ip_type[farm_ip]]), link_device))
    return CountryWorld(
        parties=parties, homes=homes, score=score, tier=tier, accounts=accounts, instruments=instruments,
        devices=devices, ip_id=ip_id, ip_type=ip_type,
        ip_country=geolocate(ip_id, ip_type, inputs.country, policy.ips, draws),
        link_device=link_device[order], link_ip=np.concatenate([pools.link_ip, farm_ip])[order],
        link_type=np.concatenate([net_type, ip_type[farm_ip]])[order],
        link_first=np.concatenate([net_first, np.ones(farm.shape[0], bool)])[order],
        roles=roles,
        unplaced=accounts.unplaced + instruments.unplaced + devices.unplaced + pools.unplaced,
    )


