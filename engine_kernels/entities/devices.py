"""The devices of a country: personal ones, shared household ones, merchant terminals, and the
networks each connects through.

Personal devices per party type come from the allocator; a household of two or more shares one
device with the policy's probability, linked to every member; every site of the country gets
one terminal or more. A device's networks use the IP vocabulary: its first network always, each
other with its probability, and a VPN or proxy for a share of the parties' devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.entities.draws import Draws, pick
from engine_kernels.entities.holdings import hand_out
from engine_kernels.entities.parties import Parties
from engine_kernels.entities.policy import DevicePolicy
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import DEVICE_TYPES, DEVICE_USAGES, IP_TYPES, PARTY_TYPES

__all__ = ["Devices", "draw_devices", "device_networks", "NETWORK_KEYS"]

PERSONAL, SHARED, BUSINESS, FARM, TERMINAL = range(len(DEVICE_USAGES))
OWNER, SHARED_USER = 0, 1
MOBILE, LAPTOP, DESKTOP, TABLET, TERMINAL_TYPE = range(len(DEVICE_TYPES))
NETWORK_KEYS = ("mobile", "laptop", "desktop", "tablet", "business_laptop", "business_desktop", "terminal")
VPN = IP_TYPES.index("vpn_proxy")


@dataclass(frozen=True)
class Devices:
    device_id: np.ndarray
    device_type: np.ndarray  # int8 into DEVICE_TYPES
    os: np.ndarray  # int8 into OPERATING_SYSTEMS
    usage: np.ndarray  # int8 into DEVICE_USAGES
    site: np.ndarray  # int64 position of a terminal's site, -1 otherwise
    link_party: np.ndarray  # party ↔ device links: party position ...
    link_device: np.ndarray  # ... device position ...
    link_role: np.ndarray  # ... and int8 into LINK_ROLES
    unplaced: int

    def extend(self, device_type: np.ndarray, usage: np.ndarray, owner: np.ndarray, policy: DevicePolicy,
               country_index: int, draws: Draws) -> "Devices":
        """These devices appended, each owned by one party (farm devices)."""
        first = self.device_id.shape[0]
        ids = entity_ids("device", country_index, np.arange(first + 1, first + device_type.shape[0] + 1, dtype=np.uint64))
        return Devices(
            np.concatenate([self.device_id, ids]), np.concatenate([self.device_type, device_type]),
            np.concatenate([self.os, _os(ids, device_type, policy, draws)]), np.concatenate([self.usage, usage]),
            np.concatenate([self.site, np.full(ids.shape[0], -1, np.int64)]),
            np.concatenate([self.link_party, owner]), np.concatenate([self.link_device, first + np.arange(ids.shape[0])]),
            np.concatenate([self.link_role, np.full(ids.shape[0], OWNER, np.int8)]), self.unplaced)


def _os(ids: np.ndarray, device_type: np.ndarray, policy: DevicePolicy, draws: Draws) -> np.ndarray:
    u = draws.uniform(substreams.DEVICE, ids, field=1)
    return pick(u, np.cumsum(policy.os_shares, axis=1)[device_type]).astype(np.int8)


def draw_devices(parties: Parties, site_ids: np.ndarray, policy: DevicePolicy, country_index: int,
                 draws: Draws) -> Devices:
    """Personal devices (by party), shared household devices, then terminals (by site); ids in that order."""
    owners, types, unplaced = [], [], 0
    for t, holding in enumerate(policy.personal):
        counts, lost = hand_out(parties.party_id, parties.party_type.astype(np.int64), holding, draws, 200 + t)
        owners.append(np.repeat(np.arange(parties.size), counts))
        types.append(np.full(int(counts.sum()), t, np.int8))
        unplaced += lost
    owner, kind = np.concatenate(owners), np.concatenate(types)
    order = np.lexsort((kind, owner))
    owner, kind = owner[order], kind[order]
    usage = np.where(parties.party_type[owner] == PARTY_TYPES.index("retail"), PERSONAL, BUSINESS).astype(np.int8)

    # Shared devices: one per chosen household of two or more, linked to every member.
    sizes = np.bincount(parties.household[parties.household >= 0], minlength=parties.household_id.shape[0])
    u = draws.uniforms(substreams.DEVICE, parties.household_id, 2, field=2)
    sharing = np.flatnonzero((sizes >= 2) & (u[:, 0] < policy.shared_household_share))
    shared_type = pick(u[sharing, 1], np.cumsum(policy.shared_types)).astype(np.int8)
    starts = np.concatenate(([0], np.cumsum(sizes)))  # retail parties come first, household by household
    members = np.concatenate([np.arange(starts[h], starts[h + 1]) for h in sharing]) if sharing.size else np.zeros(0, np.int64)
    n_personal = owner.shape[0]
    member_device = n_personal + np.repeat(np.arange(sharing.shape[0]), sizes[sharing])

    counts, lost = hand_out(np.asarray(site_ids, np.uint64), np.zeros(len(site_ids), np.int64), policy.terminals, draws, 210)
    site = np.repeat(np.arange(len(site_ids)), counts)
    unplaced += lost
    n_terminals = site.shape[0]

    device_type = np.concatenate([kind, shared_type, np.full(n_terminals, TERMINAL_TYPE, np.int8)])
    n = device_type.shape[0]
    device_id = entity_ids("device", country_index, np.arange(1, n + 1, dtype=np.uint64))
    return Devices(
        device_id=device_id, device_type=device_type, os=_os(device_id, device_type, policy, draws),
        usage=np.concatenate([usage, np.full(sharing.shape[0], SHARED, np.int8), np.full(n_terminals, TERMINAL, np.int8)]),
        site=np.concatenate([np.full(n_personal + sharing.shape[0], -1, np.int64), site]),
        link_party=np.concatenate([owner, members]),
        link_device=np.concatenate([np.arange(n_personal), member_device]),
        link_role=np.concatenate([np.full(n_personal, OWNER, np.int8), np.full(members.shape[0], SHARED_USER, np.int8)]),
        unplaced=unplaced,
    )


def network_key(device_type: np.ndarray, usage: np.ndarray) -> np.ndarray:
    """Index into NETWORK_KEYS of each device: business laptops and desktops connect like offices."""
    key = device_type.astype(np.int64).copy()  # mobile, laptop, desktop, tablet share their names
    key[device_type == TERMINAL_TYPE] = NETWORK_KEYS.index("terminal")
    office = usage == BUSINESS
    key[office & (device_type == LAPTOP)] = NETWORK_KEYS.index("business_laptop")
    key[office & (device_type == DESKTOP)] = NETWORK_KEYS.index("business_desktop")
    return key


def device_networks(devices: Devices, policy: DevicePolicy, draws: Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(device position, IP type, is first) of every device ↔ network link, by device; farm devices
    have none here (they use their ring's addresses)."""
    chosen = np.flatnonzero(devices.usage != FARM)
    key = network_key(devices.device_type[chosen], devices.usage[chosen])
    first = np.array([policy.first_network[k] for k in NETWORK_KEYS])[key]
    also = np.stack([policy.also_network[k] for k in NETWORK_KEYS])[key]
    u = draws.uniforms(substreams.NETWORK, devices.device_id[chosen], len(IP_TYPES) + 1)
    takes = u[:, : len(IP_TYPES)] < also
    takes[np.arange(chosen.shape[0]), first] = True
    vpn = (u[:, -1] < policy.vpn_share) & (devices.device_type[chosen] != TERMINAL_TYPE)
    takes[:, VPN] |= vpn
    device, ip_type = np.nonzero(takes)
    return chosen[device], ip_type.astype(np.int8), ip_type == first[device]
