"""seg_6b/patronage: each card-active party's favourite site per sector, and each site's neighbours.

Built once per world (scenario-free): per country, the card-active homes against the sites of
card-present merchants, by the Huff choice and nearest-home queries of
engine_kernels/flows/patronage.py. One row per (site, party, relation), with the home-site distance.
"""

import numpy as np
import polars as pl
import pyarrow as pa

from engine_assets.behaviour.seg_6b.world import World, index_of
from engine_kernels.flows.patronage import favourites, neighbours, unit_vectors
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import PATRONAGE_RELATIONS, SECTORS


def patronage_table(world: World, site_volume: pl.DataFrame) -> pa.Table:
    policy = world.identity.policies.flows.model.attachment
    n_sites = world.site_id.size
    volume = np.zeros(n_sites)
    volume[index_of(world.site_id, site_volume["site_id"].to_numpy(), "seg_6b: site volumes")] = \
        site_volume["volume"].to_numpy()
    site_merchant = world.site_merchant
    sector = world.merchant_sector[site_merchant]
    present = volume > 0  # sites of card-present merchants
    homes_all = unit_vectors(world.home_lat, world.home_lon)
    sites_all = unit_vectors(world.site_lat, world.site_lon)
    parts = []
    outside = 1 - policy.travel_share - policy.domestic_share
    for c in range(len(world.countries)):
        homes = world.country_party[world.country_offsets[c]:world.country_offsets[c + 1]]
        mine = np.flatnonzero(present & (world.site_country == c))
        if homes.size == 0 or mine.size == 0:
            continue
        for s in np.unique(sector[mine]):
            u = world.draws.uniform(substreams.FAVOURITE, world.party_id[homes], field=int(s))
            candidates = mine[sector[mine] == s]
            pick, km = favourites(homes_all[homes], sites_all[candidates], volume[candidates], u,
                                  policy.favourite_candidates, policy.favourite_distance_km, policy.favourite_exponent)
            parts.append((candidates[pick], homes, km, 0))
        walk_in = volume[mine] * outside * (1 - policy.regular_share[sector[mine]])
        lo, hi = policy.neighbours
        counts = np.clip(np.ceil(walk_in / policy.neighbour_visits_per_week[sector[mine]]), lo, hi).astype(np.int64)
        offsets, home, km = neighbours(sites_all[mine], homes_all[homes], counts)
        parts.append((np.repeat(mine, np.diff(offsets)), homes[home], km, 1))
    site = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    party = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    km = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    relation = np.concatenate([np.full(p[0].size, p[3], np.int8) for p in parts]) if parts else np.zeros(0, np.int8)
    order = np.lexsort((world.party_id[party], relation, world.site_id[site]))
    return pa.table({
        "site_id": pa.array(world.site_id[site][order], pa.uint64()),
        "party_id": pa.array(world.party_id[party][order], pa.uint64()),
        "relation": pa.DictionaryArray.from_arrays(pa.array(relation[order].astype(np.int32)),
                                                   pa.array(list(PATRONAGE_RELATIONS))),
        "sector": pa.DictionaryArray.from_arrays(pa.array(sector[site][order].astype(np.int32)),
                                                 pa.array(list(SECTORS))),
        "distance_km": pa.array(km[order].astype(np.float32)),
    })
