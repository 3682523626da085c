"""Segment-wide checks of 5B: every arrival accounted for, in its bucket, on its route, on its clock.

Blocking, per (scenario, day): every partition published; Σ arrivals = Σ counts per (merchant,
country, bucket); every arrival inside its UTC day, sorted by ts_utc; a site of the merchant in
the arrival's zone, or an edge of the merchant; local time equal to zoneinfo for a fixed sample
and for every arrival within ±2 h of a clock change; arrival ids unique and carrying their
scenario and day. Realism (config/policies/5b.yaml): mean burst factor; p99/p50 of non-zero
bucket counts; dispersion of hourly counts around 5A's surface per (merchant, zone), by
channel; virtual share of arrivals; arrivals per local hour of the week against the shapes.
"""

import datetime as dt
import zoneinfo

import numpy as np
import polars as pl

from engine_assets.contracts import load_contract
from engine_assets.gates import CheckOutcome, validation_asset
from engine_assets.identity import RunIdentity
from engine_assets.partitions import DAYS
from engine_assets.segments.country_data import read_frame, scan_countries
from engine_assets.segments.seg_5a_surface import day_start_us, load_surface
from engine_assets.segments.seg_5b_arrivals import GROUP, ROW_KEY
from engine_assets.storage import is_published
from engine_kernels.demand import CLASSES
from engine_kernels.intensity import bucket_offsets

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_SAMPLE = 2000
_NEAR_CHANGE_US = 2 * _HOUR_US


def _key(scenario: str, day: str) -> dict:
    return {"scenario": scenario, "day": day}


def clock_errors(events: pl.DataFrame, changes: dict[str, np.ndarray], seed: int) -> tuple[int, int]:
    """(arrivals compared, mismatches) of ts_local against zoneinfo: a fixed sample plus every arrival
    within ±2 h of a change of its zone's offset."""
    ts = events["ts_utc"].dt.epoch("us").to_numpy()
    tz = events["tzid"].to_numpy()
    near = np.zeros(ts.size, bool)
    for zone, instants in changes.items():
        mine = tz == zone
        if mine.any() and instants.size:
            gap = np.abs(ts[mine, None] - instants[None, :]).min(axis=1)
            near[np.flatnonzero(mine)[gap <= _NEAR_CHANGE_US]] = True
    rng = np.random.default_rng(seed)
    pick = np.union1d(np.flatnonzero(near), rng.choice(ts.size, min(_SAMPLE, ts.size), replace=False))
    local = events["ts_local"].dt.epoch("us").to_numpy()
    bad = 0
    for i in pick:
        at = dt.datetime.fromtimestamp(ts[i] / 1e6, dt.timezone.utc).replace(microsecond=int(ts[i] % 1_000_000))
        wall = at.astimezone(zoneinfo.ZoneInfo(tz[i])).replace(tzinfo=None)
        expected = int((wall - dt.datetime(1970, 1, 1)) / dt.timedelta(microseconds=1))
        bad += int(expected != local[i])
    return int(pick.size), bad


def evaluate(identity: RunIdentity):
    policy = identity.policies["5b"]["realism"]
    minutes = identity.profile.bucket_minutes
    bucket_us = minutes * 60_000_000
    sites, _ = scan_countries(identity, "seg_2a/site_timezones")
    sites = sites.select("site_id", "merchant_id", pl.col("tzid").cast(pl.String))
    edges = read_frame(identity, "seg_3b/edge_catalogue").select("edge_id", "merchant_id")
    transitions = read_frame(identity, "seg_2a/tz_transitions")
    changes = {z: g["utc_start"].dt.epoch("us").to_numpy()[1:] for (z,), g in transitions.partition_by("tzid", as_dict=True).items()}
    classes = read_frame(identity, "seg_3b/virtual_classification")

    missing, unbalanced, outside, unsorted, wrong_site, wrong_edge, bad_ids = 0, 0, 0, 0, 0, 0, 0
    compared, clock_bad, total, virtual = 0, 0, 0, 0
    counts_all, figures = [], {}
    scenarios = identity.profile.scenarios
    for scenario in scenarios:
        surface = load_surface(identity, scenario)
        rows = surface.rows.select(*ROW_KEY, "channel_group", "demand_class").with_row_index("row")
        hourly_lam = np.zeros((rows.height, len(identity.profile.horizon.days) * 24))
        hourly_n = np.zeros_like(hourly_lam)
        by_class_hour = np.zeros((len(CLASSES), 168))
        expected = np.zeros((len(CLASSES), 168))
        share = dict(zip(classes["merchant_id"].to_list(), classes["virtual_share"].to_list()))
        physical_share = 1 - np.array([share.get(m, 0.0) for m in surface.rows["merchant_id"].to_list()])
        scenario_index = sorted(identity.policies["scenarios"]["scenarios"]).index(scenario)
        for d, day in enumerate(DAYS.get_partition_keys()):
            key = _key(scenario, day)
            if not (is_published(identity, load_contract(f"{GROUP}/arrival_events"), key)
                    and is_published(identity, load_contract(f"{GROUP}/bucket_counts"), key)):
                missing += 1
                continue
            start = day_start_us(dt.date.fromisoformat(day))
            events = read_frame(identity, f"{GROUP}/arrival_events", key)
            counts = read_frame(identity, f"{GROUP}/bucket_counts", key)
            ts = events["ts_utc"].dt.epoch("us").to_numpy()
            total += ts.size
            virtual += int(events["is_virtual"].sum())
            outside += int(((ts < start) | (ts >= start + _DAY_US)).sum())
            unsorted += int((np.diff(ts) < 0).sum())
            got = events.group_by("merchant_id", "legal_country_iso", b=pl.col("ts_utc").dt.epoch("us") // bucket_us).len()
            want = counts.group_by("merchant_id", "legal_country_iso", b=pl.col("bucket_start").dt.epoch("us") // bucket_us).agg(
                n=pl.col("count").sum())
            both = got.join(want, on=["merchant_id", "legal_country_iso", "b"], how="full", coalesce=True).fill_null(0)
            unbalanced += both.filter(pl.col("len") != pl.col("n")).height
            physical = events.filter(~pl.col("is_virtual")).select("site_id", "merchant_id", "tzid")
            wrong_site += physical.join(sites, on=["site_id", "merchant_id", "tzid"], how="anti").height
            online = events.filter(pl.col("is_virtual")).select("edge_id", "merchant_id")
            wrong_edge += online.join(edges, on=["edge_id", "merchant_id"], how="anti").height
            ids = events["arrival_id"].to_numpy()
            prefix = (np.uint64(scenario_index) << np.uint64(56)) | (np.uint64(start // _DAY_US) << np.uint64(36))
            bad_ids += int(ts.size - np.unique(ids).size) + int(((ids & ~np.uint64((1 << 36) - 1)) != prefix).sum())
            n, bad = clock_errors(events, changes, seed=d)
            compared, clock_bad = compared + n, clock_bad + bad
            counts_all.append(counts["count"].to_numpy())
            # Hourly counts and the deterministic surface of every row, for the dispersion.
            at = counts.join(rows, on=ROW_KEY, how="left")["row"].to_numpy()
            hour = (counts["bucket_start"].dt.epoch("us").to_numpy() - start) // _HOUR_US + 24 * d
            np.add.at(hourly_n, (at, hour), counts["count"].to_numpy())
            lam = surface.day(dt.date.fromisoformat(day), 60)
            hourly_lam[:, 24 * d:24 * (d + 1)] = lam
            # What the shapes expect of physical arrivals, by class and local hour of the week.
            offset = bucket_offsets(start, 60, surface.zone, surface.table).astype(np.int64) * 1_000_000
            local = start + np.arange(24)[None, :] * _HOUR_US + _HOUR_US // 2 + offset
            week_hour = (local + 3 * _DAY_US) % (168 * _HOUR_US) // _HOUR_US  # 1970-01-01 was a Thursday
            expected += np.bincount((surface.demand_class[:, None] * 168 + week_hour).ravel(),
                                    (lam * physical_share[:, None]).ravel(), len(CLASSES) * 168).reshape(-1, 168)
            local = events.filter(~pl.col("is_virtual")).select(
                pl.col("demand_class"),
                h=(pl.col("ts_local").dt.weekday().cast(pl.Int32) - 1) * 24 + pl.col("ts_local").dt.hour().cast(pl.Int32))
            cls = np.array([CLASSES.index(c) for c in local["demand_class"]], np.int64)
            np.add.at(by_class_hour, (cls, local["h"].to_numpy()), 1)
        figures[scenario] = _realism_figures(identity, scenario, rows, hourly_lam, hourly_n, by_class_hour, expected)

    counts_all = np.concatenate(counts_all) if counts_all else np.zeros(1)
    enforced = identity.profile.merchants >= policy["enforce_from_merchants"]
    note = {} if enforced else {"enforced": False, "why": "fewer merchants than enforce_from_merchants"}
    base = figures[scenarios[0]]
    share = virtual / total if total else 0.0
    ratio = float(np.percentile(counts_all, 99) / max(np.percentile(counts_all, 50), 1))

    def realism(name, value, ok, corridor, details=None):
        return CheckOutcome(name, bool(ok) or not enforced, None if value is None or value != value else round(value, 4),
                            corridor, {**(details or {}), **note})

    lo, hi = policy["latent_mean"]
    cp_lo, cp_hi = policy["dispersion_card_present"]
    cnp_lo, cnp_hi = policy["dispersion_card_not_present"]
    v_lo, v_hi = policy["virtual_share"]
    worst_corr = min(base["shape_correlation"].values()) if base["shape_correlation"] else None
    return [
        CheckOutcome("every_partition_published", missing == 0, missing, "== 0 (scenario, day) partitions missing"),
        CheckOutcome("arrivals_equal_counts", unbalanced == 0, unbalanced, "== 0 (merchant, country, bucket) cells"),
        CheckOutcome("arrivals_inside_their_day_and_sorted", outside + unsorted == 0, outside + unsorted, "== 0"),
        CheckOutcome("sites_belong_to_merchant_and_zone", wrong_site == 0, wrong_site, "== 0 arrivals"),
        CheckOutcome("edges_belong_to_merchant", wrong_edge == 0, wrong_edge, "== 0 arrivals"),
        CheckOutcome("local_time_equals_zoneinfo", clock_bad == 0, clock_bad, "== 0 mismatches",
                     {"compared": compared}),
        CheckOutcome("arrival_ids_unique", bad_ids == 0, bad_ids, "== 0", {"arrivals": total}),
        realism("latent_mean", base["latent_mean"], lo <= base["latent_mean"] <= hi, f"{lo}-{hi}"),
        realism("count_p99_over_p50", ratio, ratio >= policy["count_p99_over_p50_min"],
                f">= {policy['count_p99_over_p50_min']} (non-zero bucket counts)"),
        realism("dispersion_card_present", base["dispersion"].get("card_present"),
                cp_lo <= base["dispersion"].get("card_present", np.nan) <= cp_hi, f"{cp_lo}-{cp_hi} (median)"),
        realism("dispersion_card_not_present", base["dispersion"].get("card_not_present"),
                cnp_lo <= base["dispersion"].get("card_not_present", np.nan) <= cnp_hi, f"{cnp_lo}-{cnp_hi} (median)"),
        realism("virtual_share_of_arrivals", share, v_lo <= share <= v_hi, f"{v_lo}-{v_hi}"),
        realism("arrivals_follow_weekly_shape", worst_corr, worst_corr is not None
                and worst_corr >= policy["shape_correlation_min"], f">= {policy['shape_correlation_min']} per class",
                {"by_class": base["shape_correlation"], "arrivals_by_scenario": {s: f["arrivals"] for s, f in figures.items()}}),
    ], {}


def _realism_figures(identity, scenario, rows, hourly_lam, hourly_n, by_class_hour, expected) -> dict:
    field = read_frame(identity, f"{GROUP}/latent_field", scenario)["factor"].to_numpy()
    lam_total = hourly_lam.sum(axis=1)
    dispersion = ((hourly_n - hourly_lam) ** 2).sum(axis=1) / np.maximum(lam_total, 1e-12)
    steady = lam_total >= 50  # rows with enough arrivals for a stable ratio
    channel = rows["channel_group"].to_numpy()
    medians = {c: float(np.median(dispersion[steady & (channel == c)])) for c in ("card_present", "card_not_present")
               if (steady & (channel == c)).any()}
    correlation = {}
    for k, name in enumerate(CLASSES):
        if by_class_hour[k].sum() >= 1000:  # enough arrivals for 168 hours to mean something
            correlation[name] = round(float(np.corrcoef(by_class_hour[k], expected[k])[0, 1]), 4)
    return {"latent_mean": float(field.mean()) if field.size else float("nan"), "dispersion": medians,
            "shape_correlation": correlation, "arrivals": int(hourly_n.sum())}


validation = validation_asset(
    GROUP,
    deps=[[GROUP, "latent_groups"], [GROUP, "latent_field"], [GROUP, "bucket_counts"], [GROUP, "arrival_events"]],
    evaluate=evaluate,
    description="Arrivals conserve counts, stay in their buckets, follow their routes and clocks; bursts and dispersion.",
)
