"""Segment 5B: arrivals, day by day.

`latent` draws each scenario's burst field once over the horizon; `arrivals` turns one
(scenario, day) at a time into bucket counts and arrival events: λ from 5A's surface × the 2B
day effect of the local day × the group's burst factor, NB2 counts, then one numba pass that
times and routes every arrival (engine_kernels.arrivals.simulation).
"""

import datetime as dt
from dataclasses import dataclass

import dagster as dg
import numpy as np
import polars as pl
import pyarrow as pa

from engine_assets.clock.seg_5a.surface import SURFACE_DATASETS, day_start_us
from engine_assets.clock.seg_5b.fabric import BY_COUNTRY, FABRIC_DATASETS, ROW_KEY, Fabric, load_fabric
from engine_assets.quality.contracts import load_contract
from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import SCENARIO_DAYS, SCENARIOS, scenario_days
from engine_assets.run.progress import Progress
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import PublishQueue
from engine_assets.storage.io_manager import dataset_out
from engine_assets.storage.publish import Publication, Published
from engine_assets.storage.reader import Reader, upstream
from engine_kernels.arrivals.simulation import (
    ARRIVAL_WORDS,
    bucket_counts,
    expand_arrivals,
    latent_paths,
    modulated_intensity,
    row_columns,
)
from engine_kernels.ids import arrival_ids
from engine_kernels.randomness import substreams
from engine_kernels.randomness.sampling import NORMAL_WORDS
from engine_kernels.randomness.streams import text_id, unit_keys
from engine_kernels.vocabulary import CHANNELS, DEMAND_CLASSES

GROUP = "seg_5b"
_CELL, _LATENT = substreams.CELL, substreams.LATENT
_DAY_US = 86_400 * 1_000_000


def day_arrival_ids(identity: RunIdentity, scenario: str, day_start_utc_us: int, n: int) -> np.ndarray:
    """arrival_id of a UTC day's n arrivals in time order (engine_kernels/ids.py): the scenario's
    position among the policy's scenarios, the day since 1970 and the rank. Unique in the run."""
    scenario_index = identity.policies.scenarios.names.index(scenario)
    return arrival_ids(scenario_index, day_start_utc_us // _DAY_US, np.arange(n, dtype=np.uint64))


def buckets_per_day(identity: RunIdentity) -> int:
    return 24 * 60 // identity.profile.bucket_minutes


def group_table(identity: RunIdentity, scenario: str, profile: pl.DataFrame) -> pl.DataFrame:
    """Each row's burst group, in profile order: rows of one (class, channel, country, size band)."""
    policy = identity.policies.bursts.model
    rows = profile.select("merchant_id", "legal_country_iso", pl.col("tzid", "demand_class", "channel_group").cast(pl.String),
                          "weekly_volume")
    rows = rows.with_columns(band=pl.Series(policy.band(rows["weekly_volume"].to_numpy())))
    keys = ["demand_class", "channel_group", "legal_country_iso", "band"]
    groups = rows.select(keys).unique().sort(keys).with_row_index("group_id")
    rows = rows.join(groups, on=keys, how="left", maintain_order="left")
    klass = np.array([DEMAND_CLASSES.index(c) for c in rows["demand_class"]])
    # The group's rate: its median row's expected arrivals an hour (rows of a group share a size band).
    rate = rows.select((pl.col("weekly_volume").median().over("group_id") / 168.0).alias("rate"))["rate"].to_numpy()
    return rows.select(
        scenario_id=pl.lit(scenario), *ROW_KEY, group_id=pl.col("group_id").cast(pl.UInt32),
        sigma=pl.Series(policy.burst_sigma(scenario, klass, rows["channel_group"], rate)),
        length_hours=pl.Series(policy.burst_length_hours(scenario, klass)),
    ).sort(ROW_KEY)


def latent_field(identity: RunIdentity, scenario: str, groups: pl.DataFrame) -> Publication:
    """The (bucket × group) factors of the horizon, bucket-major so a day is one contiguous slice."""
    policy = identity.policies.bursts.model
    per_group = groups.group_by("group_id").agg(pl.col("sigma", "length_hours").first()).sort("group_id")
    n_buckets = len(identity.profile.horizon.days) * buckets_per_day(identity)
    keys = unit_keys(identity.substream_key(_LATENT), np.column_stack([
        np.full(per_group.height, text_id(scenario), np.uint64), per_group["group_id"].to_numpy().astype(np.uint64)]))
    per_hour = 60 / identity.profile.bucket_minutes
    paths = latent_paths(keys, n_buckets, per_group["sigma"].to_numpy(), per_group["length_hours"].to_numpy() * per_hour,
                         policy.clip)
    g = per_group.height
    frame = pl.DataFrame({
        "bucket": np.repeat(np.arange(n_buckets, dtype=np.int32), g),
        "group_id": np.tile(per_group["group_id"].to_numpy().astype(np.uint32), n_buckets),
        "factor": paths.T.ravel(),
    })
    # One normal for the stationary start, then one per bucket (the last one unused but drawn).
    return Publication(frame, {_LATENT: int(g * (n_buckets + 1) * NORMAL_WORDS)})


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in ("latent_groups", "latent_field")},
    **upstream(GROUP, ins={"merchant_zone_profile": "seg_5a/merchant_zone_profile"}), partitions_def=SCENARIOS,
    backfill_policy=dg.BackfillPolicy.single_run(), group_name=GROUP,
)
def latent(context: dg.AssetExecutionContext, engine: EngineResource, merchant_zone_profile: pl.LazyFrame):
    """Burst groups of the rows and an Ornstein-Uhlenbeck path per group over the whole horizon."""
    identity = engine.identity()
    profile = merchant_zone_profile.collect()
    groups = {s: group_table(identity, s, profile) for s in context.partition_keys}
    return groups, {s: latent_field(identity, s, g) for s, g in groups.items()}


def _dictionary(indices: np.ndarray, names, mask: np.ndarray | None = None) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32, copy=False), mask=mask),
                                          pa.array(list(names), pa.string()))


@dataclass(frozen=True)
class Day:
    lam_5a: np.ndarray
    lam: np.ndarray
    counts: np.ndarray
    events: Publication  # of a pa.Table, with its RNG draws
    buckets: Publication


def simulate_day(identity: RunIdentity, fabric: Fabric, day: dt.date) -> Day:
    """λ, counts and the sorted arrival events of one UTC day of one scenario."""
    horizon = identity.profile.horizon
    minutes = identity.profile.bucket_minutes
    per_day = buckets_per_day(identity)
    surface = fabric.surface
    start = day_start_us(day)
    bucket_us = minutes * 60_000_000
    lam_5a = surface.day(day, minutes)
    d = (day - horizon.start).days
    lam = modulated_intensity(lam_5a, start, minutes, surface.zone, surface.table, fabric.gamma,
                              day_start_us(horizon.start), fabric.latent[d * per_day:(d + 1) * per_day], fabric.group)
    first_bucket = start // bucket_us
    words = np.zeros(fabric.kappa.size, np.int64)
    counts = bucket_counts(fabric.row_keys, first_bucket, lam, fabric.kappa, words=words)
    out = expand_arrivals(start, minutes, counts, fabric.row_keys, first_bucket, surface.zone, fabric.virtual_share,
                          fabric.site_group, fabric.sites, fabric.edge_group, fabric.edges, fabric.edge_zone,
                          fabric.settlement_zone, surface.table)
    ts, n = out.ts_utc, out.ts_utc.size  # sorted by ts_utc; ties in (row, k) order
    merchant, (country, klass, channel, settlement), edge_id = row_columns(out, fabric.merchant, fabric.attributes,
                                                                           fabric.edge_id)
    site = out.edge < 0
    arrival_id = day_arrival_ids(identity, fabric.scenario, start, n)
    events = pa.table({
        "arrival_id": pa.array(arrival_id, pa.uint64()),
        "scenario_id": _dictionary(np.zeros(n, np.int32), [fabric.scenario]),
        "ts_utc": pa.array(ts, pa.timestamp("us", "UTC")),
        "merchant_id": pa.array(merchant, pa.uint64()),
        "legal_country_iso": _dictionary(country, surface.countries),
        "site_id": pa.array(out.site_id, pa.uint64(), mask=~site),
        "edge_id": pa.array(edge_id, pa.uint64(), mask=site),
        "is_virtual": pa.array(~site),
        "tzid": _dictionary(out.zone, surface.table.tzids),
        "ts_local": pa.array(ts + out.offset_s.astype(np.int64) * 1_000_000, pa.timestamp("us")),
        "utc_offset_s": pa.array(out.offset_s, pa.int32()),
        "settlement_tzid": _dictionary(settlement, surface.table.tzids, mask=site),
        "settlement_ts_local": pa.array(ts + out.settlement_offset_s.astype(np.int64) * 1_000_000, pa.timestamp("us"),
                                        mask=site),
        "channel_group": _dictionary(channel, CHANNELS),
        "demand_class": _dictionary(klass, DEMAND_CLASSES),
    })
    r, b = np.nonzero(counts)
    buckets = pa.table({
        "merchant_id": pa.array(fabric.merchant[r], pa.uint64()),
        "legal_country_iso": _dictionary(surface.country[r], surface.countries),
        "tzid": _dictionary(surface.zone[r], surface.table.tzids),
        "bucket_start": pa.array(start + b.astype(np.int64) * bucket_us, pa.timestamp("us", "UTC")),
        "lambda_5a": pa.array(lam_5a[r, b].astype(np.float32)),
        "lambda": pa.array(lam[r, b].astype(np.float32)),
        "count": pa.array(counts[r, b], pa.int32()),
    })
    # Counts and arrivals draw from the same cell streams, at disjoint blocks; each records its own words.
    return Day(lam_5a, lam, counts, Publication(events, {_CELL: n * ARRIVAL_WORDS}),
               Publication(buckets, {_CELL: int(words.sum())}))


def simulate_and_publish(read: Reader, days: list[tuple[str, dt.date]],
                         progress: Progress | None = None) -> list[tuple[Published, Published]]:
    """(bucket counts, arrival events) publications of each (scenario, day), in order.

    Each day is published as soon as it is generated, on a writer thread, while the kernels
    generate the next: about two days' tables are alive at any time, however many days."""
    identity = read.identity
    counts_contract, events_contract = load_contract(f"{GROUP}/bucket_counts"), load_contract(f"{GROUP}/arrival_events")
    fabrics: dict[str, Fabric] = {}
    futures = []
    with PublishQueue(identity) as queue:
        for scenario, day in days:
            if scenario not in fabrics:  # loaded once per scenario
                fabrics[scenario] = load_fabric(read, scenario)
            result = simulate_day(identity, fabrics[scenario], day)
            key = {"scenario": scenario, "day": day.isoformat()}
            futures.append((queue.put(counts_contract, key, result.buckets), queue.put(events_contract, key, result.events)))
            if progress is not None:
                progress.advance(1, len(result.events.data))
        queue.wait()
    return [(c.result(), e.result()) for c, e in futures]


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in ("bucket_counts", "arrival_events")},
    # Country-partitioned tables are read whole; the rest map to the run's scenario or are unpartitioned.
    **upstream(GROUP, reads=[d for d in (*FABRIC_DATASETS, *SURFACE_DATASETS) if d not in BY_COUNTRY],
               reads_whole=BY_COUNTRY),
    partitions_def=SCENARIO_DAYS, backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=30),
    group_name=GROUP,
)
def arrivals(context: dg.AssetExecutionContext, engine: EngineResource):
    """Bucket counts (NB2 around λ × day effect × burst) and every arrival, timed and routed;
    published day by day inside the run (simulate_and_publish), so a month-long run stays small."""
    days = scenario_days(context.partition_keys)
    published = simulate_and_publish(Reader.of(context, engine.identity()), days,
                                     Progress(context.log, "5B arrival days", len(days), "days"))
    keys = context.partition_keys
    return {k: c for k, (c, _) in zip(keys, published)}, {k: e for k, (_, e) in zip(keys, published)}


ASSETS = [latent, arrivals]
