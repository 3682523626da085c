"""What a scenario's days of arrivals are made from, loaded once per run: the 5A surface, the burst
field, 2B's day effects and site tables, 3B's edges, settlement clocks and virtual shares, all
aligned to the surface's (merchant, country, zone) rows.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.clock.seg_5a.surface import Surface, load_surface
from engine_assets.storage.reader import Reader
from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import text_id, unit_keys
from engine_kernels.tables.routing import RoutingTable
from engine_kernels.vocabulary import CARD_NOT_PRESENT

# A row of the surface and of every table aligned to it.
ROW_KEY = ["merchant_id", "legal_country_iso", "tzid"]


@dataclass(frozen=True)
class Fabric:
    """Everything a scenario's days need, loaded once per run, aligned to the surface's rows."""

    scenario: str
    surface: Surface
    row_keys: np.ndarray
    kappa: np.ndarray
    group: np.ndarray  # burst group of each row
    latent: np.ndarray  # float32[horizon buckets, groups]
    gamma: np.ndarray  # float32[rows, horizon days]
    sites: RoutingTable
    site_group: np.ndarray
    edges: RoutingTable
    edge_group: np.ndarray
    edge_id: np.ndarray
    edge_zone: np.ndarray
    settlement_zone: np.ndarray
    virtual_share: np.ndarray
    merchant: np.ndarray  # uint64 merchant of each row
    attributes: np.ndarray  # int32[4, rows]: country, demand class, channel (0 card present) and settlement zone


def _row_index(rows: pl.DataFrame, frame: pl.DataFrame, what: str) -> np.ndarray:
    """Position in `rows` (the surface's rows) of each row of `frame`, by (merchant, country, zone)."""
    keyed = rows.select(ROW_KEY).with_row_index("row")
    joined = frame.select(ROW_KEY).with_columns(pl.col("tzid").cast(pl.String)).join(
        keyed, on=ROW_KEY, how="left", maintain_order="left")
    if joined["row"].null_count():
        raise ValueError(f"seg_5b: {joined['row'].null_count()} rows of {what} are not in seg_5a/merchant_zone_profile")
    return joined["row"].to_numpy().astype(np.int64)


def burst_groups(read: Reader, scenario: str, rows: pl.DataFrame) -> np.ndarray:
    """The latent (burst) group of each of the surface's rows (-1 for a row without one)."""
    groups = read.table("seg_5b/latent_groups", scenario)
    group = np.full(rows.height, -1, np.int64)
    group[_row_index(rows, groups, "seg_5b/latent_groups")] = groups["group_id"].to_numpy()
    return group


# Everything a scenario's days are made from, besides the surface.
FABRIC_DATASETS = ("seg_5b/latent_groups", "seg_5b/latent_field", "seg_2b/day_effects", "seg_2b/alias_tables",
                   "seg_3b/edge_catalogue", "seg_3b/edge_alias_tables", "seg_3b/settlement_nodes",
                   "seg_3b/virtual_classification")
# Read whole: country-partitioned, while the days that use them are (scenario, day) partitions.
BY_COUNTRY = ["seg_2b/day_effects", "seg_2b/alias_tables"]


def load_fabric(read: Reader, scenario: str) -> Fabric:
    identity = read.identity
    policy = identity.policies.bursts.model
    surface = load_surface(read, scenario)
    rows = surface.rows
    n = rows.height
    row_keys = unit_keys(identity.substream_key(substreams.CELL), np.column_stack([
        np.full(n, text_id(scenario), np.uint64), rows["merchant_id"].to_numpy().astype(np.uint64),
        np.array([text_id(c) for c in rows["legal_country_iso"]], np.uint64),
        np.array([text_id(z) for z in rows["tzid"]], np.uint64)]))
    kappa = policy.count_dispersion(scenario, surface.demand_class, rows["channel_group"])

    group = burst_groups(read, scenario, rows)
    field = read.table("seg_5b/latent_field", scenario)
    n_groups = int(group.max()) + 1 if n else 0
    latent = field["factor"].to_numpy().reshape(-1, n_groups)

    days = identity.profile.horizon.days
    shocks, _ = read.every_country("seg_2b/day_effects")
    shocks = shocks.with_columns(pl.col("tzid").cast(pl.String)).sort(*ROW_KEY, "local_date")
    gamma = np.ones((n, len(days)), np.float32)
    at = _row_index(rows, shocks, "seg_2b/day_effects")
    day = (shocks["local_date"].to_numpy() - np.datetime64(days[0], "D")).astype(np.int64)
    gamma[at, day] = shocks["gamma"].to_numpy()

    alias, _ = read.every_country("seg_2b/alias_tables")
    alias = alias.with_columns(pl.col("tzid").cast(pl.String)).sort(*ROW_KEY, "slot")
    heads = alias.group_by(ROW_KEY, maintain_order=True).len()
    site_group = np.full(n, -1, np.int64)
    site_group[_row_index(rows, heads, "seg_2b/alias_tables")] = np.arange(heads.height)
    sites = RoutingTable(alias["prob"].to_numpy(), alias["alias"].to_numpy().astype(np.int32),
                         np.concatenate(([0], np.cumsum(heads["len"].to_numpy()))).astype(np.int64),
                         alias["site_id"].to_numpy().astype(np.uint64))

    zones = {z: i for i, z in enumerate(surface.table.tzids)}
    catalogue = read.table("seg_3b/edge_catalogue").sort("edge_id")
    edge_index = {e: i for i, e in enumerate(catalogue["edge_id"].to_list())}
    tables = read.table("seg_3b/edge_alias_tables").sort("merchant_id", "slot")
    edge_heads = tables.group_by("merchant_id", maintain_order=True).len()
    edges = RoutingTable(tables["prob"].to_numpy(), tables["alias"].to_numpy().astype(np.int32),
                         np.concatenate(([0], np.cumsum(edge_heads["len"].to_numpy()))).astype(np.int64),
                         np.array([edge_index[e] for e in tables["edge_id"].to_list()], np.uint64))
    merchant_edges = dict(zip(edge_heads["merchant_id"].to_list(), range(edge_heads.height)))
    edge_group = np.array([merchant_edges.get(m, -1) for m in rows["merchant_id"].to_list()], np.int64)
    nodes = read.table("seg_3b/settlement_nodes")
    settle = dict(zip(nodes["merchant_id"].to_list(), nodes["tzid"].to_list()))
    # -1: no settlement clock; only physical merchants may lack one (their rows never read it).
    settlement_zone = np.array([zones.get(settle.get(m, ""), -1) for m in rows["merchant_id"].to_list()], np.int64)
    classes = read.table("seg_3b/virtual_classification")
    share = dict(zip(classes["merchant_id"].to_list(), classes["virtual_share"].to_list()))
    virtual_share = np.array([share.get(m, 0.0) for m in rows["merchant_id"].to_list()])
    online = virtual_share > 0
    for what, bad in (("edge table", edge_group < 0), ("settlement zone in seg_2a/tz_transitions", settlement_zone < 0)):
        missing = np.flatnonzero(online & bad)
        if missing.size:
            raise ValueError(f"seg_5b: online merchants {sorted(set(rows['merchant_id'][missing].to_list()))[:5]} have no {what}; "
                             "rebuild seg_3b and check its validation")
    settlement_zone[~online] = np.maximum(settlement_zone[~online], 0)
    return Fabric(scenario, surface, row_keys, kappa, group, latent, gamma, sites, site_group, edges, edge_group,
                  catalogue["edge_id"].to_numpy().astype(np.uint64),
                  np.array([zones[z] for z in catalogue["tzid"]], np.int64), settlement_zone, virtual_share,
                  rows["merchant_id"].to_numpy().astype(np.uint64),
                  np.stack([surface.country, surface.demand_class,
                            (rows["channel_group"] == CARD_NOT_PRESENT).to_numpy(), settlement_zone]).astype(np.int32))
