"""A scenario's fraud plan over the world: whom campaigns can target (6A's roles and exposure),
where they can act, and the plan's two tables (seg_6b/fraud_campaigns, seg_6b/fraud_targets).

The plan and its acts are drawn by engine_kernels/fraud from keyed units; the flows asset draws
the same acts again from the same world and takes each day's (engine_assets/behaviour/seg_6b/fraud_day.py).
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from engine_assets.behaviour.seg_6b.world import World, codes_of, csr, index_of, weekly_volumes, zone_offsets
from engine_assets.storage.reader import Reader
from engine_kernels.fraud.acts import Acts, NearSites, Places, Weighted, draw_acts
from engine_kernels.fraud.plan import DAY_US, FIRST_PARTY, Plan, Pools, draw_plan
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import FRAUD_TYPES, IP_TYPES, LABEL_ROLES, PARTY_TYPES, SCAM_KINDS, SECTORS

# What the plan reads besides the world (engine_assets/behaviour/seg_6b/assets.py declares it).
ROLE_READS = ("seg_6a/fraud_roles",)
# Sectors whose goods resell: where stolen and tested cards are spent before a ring adapts.
RISKY_SECTORS = ("digital", "retail", "travel", "entertainment")
_UTC = pa.timestamp("us", "UTC")


@dataclass
class Fraud:
    """A scenario's plan and every act of it, on the run's world."""

    plan: Plan
    acts: Acts


def _roles(read: Reader, world: World) -> dict[str, np.ndarray]:
    """Indices of the parties and merchants holding each 6A fraud role; an account's role (a mule
    account, a risky one) is its holder's."""
    roles = read.every_country("seg_6a/fraud_roles", ["entity_kind", "entity_id", "role"], tagged=False)[0]
    roles = roles.with_columns(pl.col("entity_kind", "role").cast(pl.String))
    accounts = read.every_country("seg_6a/accounts", ["account_id", "party_id"], tagged=False)[0]
    held = roles.filter(pl.col("entity_kind") == "account").join(
        accounts, left_on="entity_id", right_on="account_id").select("role", entity_id=pl.col("party_id"))
    parties = pl.concat([roles.filter(pl.col("entity_kind") == "party").select("role", "entity_id"), held])
    out = {}
    for rows, ids, kind in ((parties, world.party_id, "party"),
                            (roles.filter(pl.col("entity_kind") == "merchant"), world.merchant_id, "merchant")):
        for role in rows["role"].unique().sort().to_list():
            found = rows.filter(pl.col("role") == role)["entity_id"].to_numpy()
            out[role] = np.unique(index_of(ids, found, f"seg_6a/fraud_roles ({kind} {role})"))
    return out


def _first_card(world: World) -> np.ndarray:
    has = np.diff(world.card_offsets) > 0
    return np.where(has, world.card_list[np.minimum(world.card_offsets[:-1], max(world.card_list.size - 1, 0))], -1)


def plan_pools(read: Reader, world: World) -> Pools:
    roles = _roles(read, world)
    none = np.zeros(0, np.int64)
    first_card = _first_card(world)
    retail = world.party_type == PARTY_TYPES.index("retail")
    card_parties = np.flatnonzero(world.card_active & retail)
    with_card = first_card >= 0
    fraudsters = np.union1d(roles.get("synthetic_identity", none), roles.get("risky_account", none))
    fraudsters = fraudsters[world.card_active[fraudsters]]
    ring = np.union1d(roles.get("ring_organiser", none), roles.get("ring_associate", none))
    colluders = roles.get("collusive_merchant", roles.get("risky_merchant", none))
    if colluders.size == 0:
        colluders = np.unique(world.site_merchant)
    sites = np.flatnonzero(np.diff(world.regular_offsets) > 0)
    # A world without mules (a small one) lends its scams ordinary parties' accounts.
    mules = roles.get("mule", none)
    return Pools(card_parties=card_parties, first_card=first_card, sites=sites,
                 regular_offsets=world.regular_offsets.astype(np.int64), regular_party=world.regular_party,
                 mules=mules if mules.size else card_parties, fraudsters=fraudsters[with_card[fraudsters]],
                 ring_parties=ring[with_card[ring]], colluders=colluders, party_country=world.party_country,
                 merchant_country=world.merchant_country,
                 country_offsets=world.country_offsets.astype(np.int64), country_party=world.country_party)


def places(read: Reader, world: World) -> Places:
    """Where campaigns spend, weighted by 5A's expected weekly volume: an edge by its merchant's
    online volume in the edge's market, a site by its own."""
    policy = world.identity.policies.fraud.model
    n_countries = len(world.countries)
    sites, markets = weekly_volumes(read)
    site_volume = np.zeros(world.site_id.size)
    at_site = index_of(world.site_id, sites["site_id"].to_numpy(), "seg_6b: site volumes")
    site_volume[at_site] = sites["volume"].to_numpy()
    market = codes_of(markets["market"], world.countries, -1)
    key = index_of(world.merchant_id, markets["merchant_id"].to_numpy(), "seg_6b: online markets") * n_countries
    key = key + market
    order = np.argsort(key)
    key, volume = key[order], markets["volume"].to_numpy()[order]
    wanted = world.edge_merchant * n_countries + world.edge_country
    at = np.minimum(np.searchsorted(key, wanted), max(key.size - 1, 0))
    edge_volume = np.where((key.size > 0) & (key[at] == wanted), volume[at] if key.size else 0.0, 0.0)
    risky = np.isin(world.merchant_sector, [SECTORS.index(s) for s in RISKY_SECTORS])
    edge_tilt = np.where(risky[world.edge_merchant], policy.risky_tilt, 1.0)
    site_tilt = np.where(risky[world.site_merchant], policy.risky_tilt, 1.0)
    edges = np.arange(world.edge_id.size)
    all_sites = np.arange(world.site_id.size)
    cash = all_sites[world.merchant_is_cash[world.site_merchant]]
    edge_country = np.maximum(world.edge_country, 0)
    ip_risky = np.flatnonzero(np.isin(world.ip_type, [IP_TYPES.index("datacentre"), IP_TYPES.index("vpn_proxy")]))
    n_merchants = world.merchant_id.size
    attachment = world.identity.policies.flows.model.attachment
    huff = attachment.favourite_candidates, attachment.favourite_distance_km, attachment.favourite_exponent
    return Places(
        edges=Weighted.of(edges, edge_country, edge_volume, n_countries),
        risky_edges=Weighted.of(edges, edge_country, edge_volume * edge_tilt, n_countries),
        risky_sites=Weighted.of(all_sites, world.site_country, site_volume * site_tilt, n_countries),
        cash_sites=Weighted.of(cash, world.site_country[cash], site_volume[cash], n_countries),
        near_sites=NearSites.of(world.site_lat, world.site_lon, site_volume, *huff),
        near_risky=NearSites.of(world.site_lat, world.site_lon, site_volume * site_tilt, *huff),
        near_cash=NearSites.of(world.site_lat, world.site_lon, np.where(np.isin(all_sites, cash), site_volume, 0.0),
                               *huff),
        domestic_share=policy.domestic_share, edge_merchant=world.edge_merchant, edge_country=world.edge_country,
        site_merchant=world.site_merchant, site_country=world.site_country,
        site_cash=world.merchant_is_cash[world.site_merchant], site_lat=world.site_lat, site_lon=world.site_lon,
        home_lat=world.home_lat, home_lon=world.home_lon,
        terminal_offsets=world.terminal_offsets,
        terminal_list=world.terminal_list,
        merchant_site_offsets=csr(world.site_merchant, n_merchants),
        merchant_sites=np.argsort(world.site_merchant, kind="stable"),
        merchant_edge_offsets=csr(world.edge_merchant, n_merchants),
        merchant_edges=np.argsort(world.edge_merchant, kind="stable"),
        farm_devices=world.farm_devices, risky_ips=ip_risky, other_ip_offsets=world.other_ip_offsets,
        other_ip_list=world.other_ip_list, party_country=world.party_country, first_card=_first_card(world),
        price_fx=world.money.price_fx, minor_unit=world.money.minor_unit,
        merchant_median_usd=world.identity.policies.flows.model.amounts.median_usd[world.merchant_sector],
        merchant_sigma=world.identity.policies.flows.model.amounts.sigma[world.merchant_sector],
        party_offset_us=zone_offsets(world.transitions, _middle_us(world))[world.home_zone] * 1_000_000,
        hour_share=np.diff(world.identity.policies.flows.model.transfers.hours, prepend=0.0),
        ninety_nine=world.identity.policies.flows.model.amounts.ninety_nine,
        round_share=world.identity.policies.flows.model.amounts.round_share)


def _middle_us(world: World) -> int:
    horizon = world.identity.profile.horizon
    middle = horizon.start + (horizon.end - horizon.start) / 2
    return (middle - dt.date(1970, 1, 1)).days * DAY_US


def draw_fraud(read: Reader, world: World, scenario: str) -> Fraud:
    """The scenario's plan and acts on the run's world."""
    identity = world.identity
    horizon = identity.profile.horizon
    policy = identity.policies.fraud.model
    first_day = (horizon.start - dt.date(1970, 1, 1)).days
    n_days = (horizon.end - horizon.start).days + 1
    plan = draw_plan(identity.substream_key, policy, identity.policies.scenarios.names.index(scenario), first_day,
                     n_days, world.party_id.size, plan_pools(read, world))
    return Fraud(plan, draw_acts(identity.substream_key, policy, plan, places(read, world)))


def windows(fraud: Fraud) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each campaign's window [start, end) in µs: its days, widened to every act it makes."""
    plan, acts = fraud.plan, fraud.acts
    start = plan.start_day * DAY_US
    end = (plan.start_day + plan.days) * DAY_US
    count = np.bincount(acts.campaign, minlength=start.size)
    if acts.size:
        np.minimum.at(start, acts.campaign, acts.ts_utc)
        np.maximum.at(end, acts.campaign, acts.ts_utc + 1)
    return start, end, count


def _ids(index: np.ndarray, ids: np.ndarray) -> pa.Array:
    return pa.array(ids[np.maximum(index, 0)] if ids.size else np.zeros(index.size, np.uint64), pa.uint64(),
                    mask=index < 0)


def _codes(codes: np.ndarray, names) -> pa.DictionaryArray:
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0),
                                          pa.array(list(names), pa.string()))


def plan_tables(world: World, fraud: Fraud) -> tuple[pa.Table, pa.Table]:
    plan = fraud.plan
    start, end, acts = windows(fraud)
    targets = np.bincount(plan.campaign, minlength=plan.campaign_id.size)
    campaigns = pa.table({
        "campaign_id": pa.array(plan.campaign_id, pa.uint64()),
        "fraud_type": _codes(plan.fraud_type, FRAUD_TYPES),
        "window_start": pa.array(start, _UTC),
        "window_end": pa.array(end, _UTC),
        "targets": pa.array(targets.astype(np.int32)),
        "acts": pa.array(np.where(plan.fraud_type == FIRST_PARTY, 0, acts).astype(np.int32)),
        "site_id": _ids(plan.site, world.site_id),
        "merchant_id": _ids(plan.merchant, world.merchant_id),
        "mule_party_id": _ids(plan.mule, world.party_id),
        "second_mule_party_id": _ids(plan.second_mule, world.party_id),
        "scam_kind": _codes(plan.scam_kind, SCAM_KINDS),
        "adapted_from": pa.array(plan.adapted_from, _UTC, mask=plan.adapted_from < 0),
    })
    order = np.lexsort((plan.serial, plan.campaign_id[plan.campaign]))
    targets = pa.table({
        "campaign_id": pa.array(plan.campaign_id[plan.campaign][order], pa.uint64()),
        "target_serial": pa.array(plan.serial[order].astype(np.int32)),
        "role": _codes(plan.role[order], LABEL_ROLES),
        "party_id": pa.array(world.party_id[plan.party[order]], pa.uint64()),
        "instrument_id": _ids(plan.instrument[order], world.instrument_id),
    })
    return campaigns.sort_by("campaign_id"), targets


def plan_words(fraud: Fraud) -> dict[str, int]:
    """Words the plan drew, per substream (for the RNG audit)."""
    plan = fraud.plan
    return {substreams.FRAUD_PLAN: 8 * plan.campaign_id.size + 4 * len(FRAUD_TYPES),
            substreams.FRAUD_TARGET: 12 * plan.party.size, substreams.FRAUD_ACT: 8 * fraud.acts.size}
