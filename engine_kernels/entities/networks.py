"""The IP addresses of a country, sized from device demand and filled by the allocator.

For each IP type t with D_t device links, the country holds ceil(D_t / devices_per_ip_t)
addresses; the allocator gives each at least one link, shares the rest by a log-normal size and
never lets an address exceed its cap. Links take addresses in order of their affinity (a
household's devices behind one router, an office's behind its gateway; carrier NAT, public
wifi and VPN exits mix subscribers at random), filling one address after another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.entities.draws import Draws, pick
from engine_kernels.entities.holdings import hand_out
from engine_kernels.entities.policy import Holding, IpPolicy
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import IP_TYPES

__all__ = ["HOSTED", "Pools", "geolocate", "pool_addresses"]

# Types whose exits sit in hosting countries; the others geolocate to their users' country.
HOSTED = (IP_TYPES.index("datacentre"), IP_TYPES.index("vpn_proxy"))
# Types whose subscribers share an address regardless of who they are.
MIXED = (IP_TYPES.index("mobile_cgnat"), IP_TYPES.index("public_wifi"), IP_TYPES.index("vpn_proxy"))


@dataclass(frozen=True)
class Pools:
    ip_type: np.ndarray  # int8 per address, addresses grouped by type in IP_TYPES order
    link_ip: np.ndarray  # int64 address position of each link, in the links' order
    unplaced: int


def pool_addresses(link_type: np.ndarray, affinity: np.ndarray, link_key: np.ndarray, policy: IpPolicy,
                   ip_ids, draws: Draws) -> Pools:
    """Addresses for links of `link_type` (IP types); `affinity` groups links that share an address
    when they can, `link_key` (uint64, unique per link) orders the rest; `ip_ids(first, n)` mints
    the ids of n addresses from serial position `first`."""
    link_ip = np.empty(link_type.shape[0], np.int64)
    types, unplaced, first = [], 0, 0
    mix = draws.hashes(substreams.IP_POOL, link_key)
    for t in range(len(IP_TYPES)):
        links = np.flatnonzero(link_type == t)
        demand = links.shape[0]
        if demand == 0:
            continue
        n = int(np.ceil(demand / policy.devices_per_ip[t]))
        holding = Holding(IP_TYPES[t], np.ones(1), np.array([demand / n]), 1, int(policy.cap[t]), float(policy.sigma[t]))
        sizes, lost = hand_out(ip_ids(first, n), np.zeros(n, np.int64), holding, draws, 300 + t,
                               totals=np.array([demand], np.int64))
        unplaced += lost
        order = np.lexsort((link_key[links], mix[links])) if t in MIXED else np.lexsort((link_key[links], affinity[links]))
        link_ip[links[order]] = first + np.searchsorted(np.cumsum(sizes), np.arange(demand), side="right")
        types.append(np.full(n, t, np.int8))
        first += n
    ip_type = np.concatenate(types) if types else np.zeros(0, np.int8)
    return Pools(ip_type, link_ip, unplaced)


def geolocate(ip_ids: np.ndarray, ip_type: np.ndarray, country: str, policy: IpPolicy, draws: Draws) -> np.ndarray:
    """Country of each address: a hosting country for datacentre and VPN exits, else `country`."""
    u = draws.uniform(substreams.IP_POOL, ip_ids, field=1)
    hosted = np.asarray(policy.hosting_countries, dtype=object)[pick(u, np.cumsum(policy.hosting_shares))]
    return np.where(np.isin(ip_type, HOSTED), hosted, country)
