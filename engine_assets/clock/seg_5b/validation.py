"""Segment-wide checks of 5B: every arrival accounted for, in its bucket, on its route, on its clock.

Blocking, per (scenario, day): every partition published; Σ arrivals = Σ counts per (merchant,
country, bucket); every arrival inside its UTC day, sorted by ts_utc; a site of the merchant in
the arrival's zone, or an edge of the merchant; local time equal to zoneinfo for a fixed sample
and for every arrival within ±2 h of a clock change; arrival ids unique and carrying their
scenario and day. Realism (config/policies/5b.yaml): mean burst factor; p99/p50 of non-zero
bucket counts; dispersion of hourly counts around 5A's surface per (merchant, zone), by
channel; virtual and card-not-present shares of arrivals; arrivals per local hour of the week
against the shapes (realism figures of the first scenario; stress scales online traffic on purpose).

It reads every arrival once, two days at a time: the balance and hourly sums are bincounts over
dense (merchant, country) and row keys, and zoneinfo is asked only for the sample and for
arrivals near a change of a zone that changes that day.
"""

import datetime as dt
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.clock.seg_5a.surface import SURFACE_DATASETS, Surface, day_start_us, load_surface
from engine_assets.clock.seg_5b.assets import GROUP, day_arrival_ids
from engine_assets.clock.seg_5b.fabric import ROW_KEY, burst_groups
from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.run.partitions import DAYS
from engine_assets.storage.reader import Reader
from engine_kernels.arrivals.realism import dispersion_index, effective_groups
from engine_kernels.civil_time.tzdb import use_pinned_tzdata
from engine_kernels.intensity.evaluator import bucket_offsets
from engine_kernels.vocabulary import CARD_NOT_PRESENT, CHANNELS, DEMAND_CLASSES

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_SAMPLE = 2000
_NEAR_CHANGE_US = 2 * _HOUR_US
_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


def _key(scenario: str, day: str) -> dict:
    return {"scenario": scenario, "day": day}


def clock_errors(events: pl.DataFrame, changes: dict[str, np.ndarray], seed: int, window: tuple[int, int]) -> tuple[int, int]:
    """(arrivals compared, mismatches) of ts_local against zoneinfo: a fixed sample plus every arrival
    within ±2 h of a change of its zone's offset (changes of zones that change within `window`)."""
    ts = events["ts_utc"].dt.epoch("us").to_numpy()
    near = np.zeros(ts.size, bool)
    for zone, instants in changes.items():
        instants = instants[(instants >= window[0] - _NEAR_CHANGE_US) & (instants < window[1] + _NEAR_CHANGE_US)]
        if instants.size == 0:
            continue
        mine = np.flatnonzero((events["tzid"] == zone).to_numpy())
        if mine.size:
            gap = np.abs(ts[mine, None] - instants[None, :]).min(axis=1)
            near[mine[gap <= _NEAR_CHANGE_US]] = True
    rng = np.random.default_rng(seed)
    pick = np.union1d(np.flatnonzero(near), rng.choice(ts.size, min(_SAMPLE, ts.size), replace=False))
    local = events["ts_local"].dt.epoch("us").to_numpy()[pick]
    zones = events["tzid"].gather(pick).cast(pl.String).to_list()
    use_pinned_tzdata()
    clocks = {z: zoneinfo.ZoneInfo(z) for z in set(zones)}  # held: ZoneInfo's own cache keeps only 8 strongly
    bad = 0
    for t, zone, got in zip(ts[pick].tolist(), zones, local.tolist()):
        at = dt.datetime.fromtimestamp(t // 1_000_000, dt.timezone.utc).replace(microsecond=t % 1_000_000)
        wall = at.astimezone(clocks[zone]).replace(tzinfo=None)
        bad += int((wall - _EPOCH) // _MICROSECOND != got)
    return int(pick.size), bad


def _codes(column: pl.Series, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """int64 position in `names` of each value of a Categorical column (-1: not there), without
    materialising a string per row."""
    values = column.unique()
    lookup = np.full(int(values.to_physical().max()) + 1 if values.len() else 1, -1, np.int64)
    position = {name: i for i, name in enumerate(names)}
    lookup[values.to_physical().to_numpy()] = [position.get(v, -1) for v in values.cast(pl.String).to_list()]
    return lookup[column.to_physical().to_numpy()]


class _Keys:
    """Dense integer keys of the surface's merchants, (merchant, country) pairs and rows, so a
    day's balance and hourly sums are table lookups and bincounts instead of joins."""

    def __init__(self, surface: Surface):
        merchant = surface.rows["merchant_id"].to_numpy().astype(np.int64)
        self.countries, self.zones = surface.countries, surface.table.tzids
        self.merchant_of = np.full(int(merchant.max()) + 2 if merchant.size else 1, -1, np.int64)
        merchants = np.unique(merchant)
        self.merchant_of[merchants] = np.arange(merchants.size)
        pair = self.merchant_of[merchant] * len(self.countries) + surface.country
        pairs = np.unique(pair)
        self.pair_of = np.full(merchants.size * len(self.countries), -1, np.int64)
        self.pair_of[pairs] = np.arange(pairs.size)
        self.n_pairs = pairs.size
        self.row_of = np.full(pairs.size * len(self.zones), -1, np.int64)
        self.row_of[self.pair_of[pair] * len(self.zones) + surface.zone] = np.arange(merchant.size)

    def pair(self, merchant: np.ndarray, country: np.ndarray) -> np.ndarray:
        """The pair index of each (merchant id, country index), -1 for a pair the surface lacks."""
        merchant = merchant.astype(np.int64)
        known = (merchant >= 0) & (merchant < self.merchant_of.size)
        m = np.where(known, self.merchant_of[np.where(known, merchant, 0)], -1)
        ok = (m >= 0) & (country >= 0)
        return np.where(ok, self.pair_of[np.where(ok, m * len(self.countries) + country, 0)], -1)

    def row(self, merchant: np.ndarray, country: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """The surface row of each (merchant id, country index, zone index), -1 where there is none."""
        pair = self.pair(merchant, country)
        ok = (pair >= 0) & (zone >= 0)
        return np.where(ok, self.row_of[np.where(ok, pair * len(self.zones) + zone, 0)], -1)


@dataclass
class _Inputs:
    """What every day's checks of one scenario share."""

    read: Reader
    scenario: str
    surface: Surface
    rows: pl.DataFrame
    keys: _Keys
    physical_share: np.ndarray
    sites: pl.DataFrame
    edges: pl.DataFrame
    changes: dict[str, np.ndarray]


@dataclass
class _DayTally:
    missing: int = 0
    unbalanced: int = 0
    outside: int = 0
    unsorted: int = 0
    wrong_site: int = 0
    wrong_edge: int = 0
    bad_ids: int = 0
    compared: int = 0
    clock_bad: int = 0
    total: int = 0
    virtual: int = 0
    card_not_present: int = 0
    counts: np.ndarray | None = None
    hourly_n: np.ndarray | None = None  # [rows, 24]
    hourly_lam: np.ndarray | None = None  # [rows, 24]
    by_class_hour: np.ndarray | None = None  # [classes, 168] physical arrivals
    expected: np.ndarray | None = None  # [classes, 168] what the shapes expect of them


def _check_day(inputs: _Inputs, d: int, day: str) -> _DayTally:
    read, tally = inputs.read, _DayTally()
    identity = read.identity
    key = _key(inputs.scenario, day)
    events_dataset, counts_dataset = f"{GROUP}/arrival_events", f"{GROUP}/bucket_counts"
    if not (read.is_published(events_dataset, key) and read.is_published(counts_dataset, key)):
        tally.missing = 1
        return tally
    bucket_us = identity.profile.bucket_minutes * 60_000_000
    start = day_start_us(dt.date.fromisoformat(day))
    events = read.scan(events_dataset, key).select(
        "arrival_id", "ts_utc", "merchant_id", "legal_country_iso", "site_id", "edge_id", "is_virtual", "tzid",
        "ts_local", "demand_class", "channel_group").collect()
    counts = read.scan(counts_dataset, key).collect()
    ts = events["ts_utc"].dt.epoch("us").to_numpy()
    tally.total, tally.virtual = ts.size, int(events["is_virtual"].sum())
    tally.card_not_present = int((events["channel_group"] == CARD_NOT_PRESENT).sum())
    tally.outside = int(((ts < start) | (ts >= start + _DAY_US)).sum())
    tally.unsorted = int((np.diff(ts) < 0).sum())
    keys, per_day = inputs.keys, 24 * 60 // identity.profile.bucket_minutes
    # Σ arrivals = Σ counts in every (merchant, country, bucket): one bincount each; an arrival or a
    # count of a pair the surface lacks is a cell out of balance by itself.
    pair = keys.pair(events["merchant_id"].to_numpy(), _codes(events["legal_country_iso"], keys.countries))
    bucket = (ts - start) // bucket_us
    counted = counts["count"].to_numpy()
    count_pair = keys.pair(counts["merchant_id"].to_numpy(), _codes(counts["legal_country_iso"], keys.countries))
    count_bucket = (counts["bucket_start"].dt.epoch("us").to_numpy() - start) // bucket_us
    cells = keys.n_pairs * per_day
    inside = (pair >= 0) & (bucket >= 0) & (bucket < per_day)
    count_inside = (count_pair >= 0) & (count_bucket >= 0) & (count_bucket < per_day)
    got = np.bincount(pair[inside] * per_day + bucket[inside], minlength=cells)
    want = np.bincount(count_pair[count_inside] * per_day + count_bucket[count_inside], counted[count_inside], cells)
    tally.unbalanced = int((got != want).sum()) + int((~inside).sum()) + int((~count_inside).sum())
    virtual = events["is_virtual"].to_numpy()
    tally.wrong_site = events.filter(~pl.col("is_virtual")).select("site_id", "merchant_id", "tzid").join(
        inputs.sites, on=["site_id", "merchant_id", "tzid"], how="anti").height
    tally.wrong_edge = events.filter(pl.col("is_virtual")).select("edge_id", "merchant_id").join(
        inputs.edges, on=["edge_id", "merchant_id"], how="anti").height
    # An id is the scenario's and day's bits plus the arrival's rank in the day: unique in the run.
    ids = events["arrival_id"].to_numpy()
    tally.bad_ids = int((ids != day_arrival_ids(identity, inputs.scenario, start, ids.size)).sum())
    tally.compared, tally.clock_bad = clock_errors(events, inputs.changes, seed=d, window=(start, start + _DAY_US))
    tally.counts = counts["count"].to_numpy()
    # Hourly counts and the deterministic surface of every row, for the dispersion.
    at = keys.row(counts["merchant_id"].to_numpy(), _codes(counts["legal_country_iso"], keys.countries),
                  _codes(counts["tzid"], keys.zones))
    hour = (counts["bucket_start"].dt.epoch("us").to_numpy() - start) // _HOUR_US
    known = (at >= 0) & (hour >= 0) & (hour < 24)  # anything else is already out of balance above
    n_rows = inputs.rows.height
    tally.hourly_n = np.bincount(at[known] * 24 + hour[known], counted[known], n_rows * 24).reshape(n_rows, 24)
    surface = inputs.surface
    lam = surface.day(dt.date.fromisoformat(day), 60)
    tally.hourly_lam = lam
    # What the shapes expect of physical arrivals, by class and local hour of the week.
    offset = bucket_offsets(start, 60, surface.zone, surface.table).astype(np.int64) * 1_000_000
    local = start + np.arange(24)[None, :] * _HOUR_US + _HOUR_US // 2 + offset
    week_hour = (local + 3 * _DAY_US) % (168 * _HOUR_US) // _HOUR_US  # 1970-01-01 was a Thursday
    tally.expected = np.bincount((surface.demand_class[:, None] * 168 + week_hour).ravel(),
                                 (lam * inputs.physical_share[:, None]).ravel(),
                                 len(DEMAND_CLASSES) * 168).reshape(-1, 168)
    week_hour = (events["ts_local"].dt.epoch("us").to_numpy()[~virtual] // _HOUR_US + 72) % 168  # 1970-01-01 was a Thursday
    klass = _codes(events["demand_class"], DEMAND_CLASSES)[~virtual]
    known = klass >= 0
    tally.by_class_hour = np.bincount(klass[known] * 168 + week_hour[known],
                                      minlength=len(DEMAND_CLASSES) * 168).reshape(-1, 168).astype(np.float64)
    return tally


def evaluate(read: Reader):
    identity = read.identity
    policy = identity.policies.bursts.realism
    sites, _ = read.every_country("seg_2a/site_timezones")
    sites = sites.select("site_id", "merchant_id", pl.col("tzid").cast(pl.String).cast(pl.Categorical))
    edges = read.table("seg_3b/edge_catalogue").select("edge_id", "merchant_id")
    transitions = read.table("seg_2a/tz_transitions")
    changes = {z: g["utc_start"].dt.epoch("us").to_numpy()[1:] for (z,), g in transitions.partition_by("tzid", as_dict=True).items()}
    classes = read.table("seg_3b/virtual_classification")
    share = dict(zip(classes["merchant_id"].to_list(), classes["virtual_share"].to_list()))

    totals = _DayTally()
    unbuilt: list[str] = []
    counts_all, figures = [], {}
    scenarios = identity.profile.scenarios
    days = DAYS.get_partition_keys()
    for scenario in scenarios:
        surface = load_surface(read, scenario)
        rows = surface.rows.select(*ROW_KEY, "channel_group", "demand_class").with_row_index("row")
        inputs = _Inputs(read, scenario, surface, rows, _Keys(surface),
                         1 - np.array([share.get(m, 0.0) for m in surface.rows["merchant_id"].to_list()]), sites, edges,
                         changes)
        hourly_lam = np.zeros((rows.height, len(days) * 24))
        hourly_n = np.zeros_like(hourly_lam)
        by_class_hour = np.zeros((len(DEMAND_CLASSES), 168))
        expected = np.zeros((len(DEMAND_CLASSES), 168))
        # Days are independent and polars and numba release the GIL: two at a time, merged in order.
        scenario_arrivals, scenario_virtual, scenario_cnp = 0, 0, 0
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="5b-validation") as pool:
            for d, tally in enumerate(pool.map(lambda item: _check_day(inputs, *item), enumerate(days))):
                for name in ("missing", "unbalanced", "outside", "unsorted", "wrong_site", "wrong_edge", "bad_ids",
                             "compared", "clock_bad", "total", "virtual", "card_not_present"):
                    setattr(totals, name, getattr(totals, name) + getattr(tally, name))
                scenario_arrivals, scenario_virtual = scenario_arrivals + tally.total, scenario_virtual + tally.virtual
                scenario_cnp += tally.card_not_present
                if tally.missing:
                    unbuilt.append(f"{scenario}|{days[d]}")
                    continue
                counts_all.append(tally.counts)
                hourly_n[:, 24 * d:24 * (d + 1)] = tally.hourly_n
                hourly_lam[:, 24 * d:24 * (d + 1)] = tally.hourly_lam
                by_class_hour += tally.by_class_hour
                expected += tally.expected
        figures[scenario] = _realism_figures(read, scenario, surface, rows, hourly_lam, hourly_n, by_class_hour,
                                             expected, inputs.physical_share, policy.shape_min_effective_groups)
        figures[scenario]["virtual_share"] = scenario_virtual / scenario_arrivals if scenario_arrivals else 0.0
        figures[scenario]["card_not_present_share"] = scenario_cnp / scenario_arrivals if scenario_arrivals else 0.0
    missing, unbalanced, outside, unsorted = totals.missing, totals.unbalanced, totals.outside, totals.unsorted
    wrong_site, wrong_edge, bad_ids = totals.wrong_site, totals.wrong_edge, totals.bad_ids
    compared, clock_bad, total = totals.compared, totals.clock_bad, totals.total

    counts_all = np.concatenate(counts_all) if counts_all else np.zeros(1)
    sample = Sample(identity.profile.merchants, policy.enforce_from_merchants, "merchants")
    base = figures[scenarios[0]]
    share = base["virtual_share"]  # of the first scenario: stress scales online classes on purpose
    ratio = float(np.percentile(counts_all, 99) / max(np.percentile(counts_all, 50), 1))

    worst_corr = min(base["shape_correlation"].values()) if base["shape_correlation"] else None
    dispersion = {"measure": "median over the (merchant, zone) rows with >= 50 expected arrivals"}
    return [
        invariant("every_partition_published", missing, "(scenario, day) partitions missing",
                  {"missing": unbuilt[:20]} if unbuilt else None),
        invariant("arrivals_equal_counts", unbalanced, "(merchant, country, bucket) cells out of balance"),
        invariant("arrivals_inside_their_day_and_sorted", outside + unsorted,
                  "arrivals outside their day or before the one preceding them",
                  {"outside_their_day": outside, "out_of_order": unsorted}),
        invariant("sites_belong_to_merchant_and_zone", wrong_site, "arrivals at a site of another merchant or zone"),
        invariant("edges_belong_to_merchant", wrong_edge, "arrivals on an edge of another merchant"),
        invariant("local_time_equals_zoneinfo", clock_bad, "arrivals whose local time differs from zoneinfo",
                  {"compared": compared}),
        invariant("arrival_ids_unique", bad_ids, "arrivals whose id is not their scenario, day and rank",
                  {"arrivals": total}),
        corridor("latent_mean", base["latent_mean"], *policy.latent_mean, digits=4, sample=sample),
        corridor("count_p99_over_p50", ratio, low=policy.count_p99_over_p50_min, digits=4, sample=sample,
                 details={"measure": "p99 / p50 of non-zero bucket counts"}),
        corridor("dispersion_card_present", base["dispersion"].get("card_present"), *policy.dispersion_card_present,
                 digits=4, sample=sample, details=dispersion),
        corridor("dispersion_card_not_present", base["dispersion"].get("card_not_present"),
                 *policy.dispersion_card_not_present, digits=4, sample=sample, details=dispersion),
        corridor("virtual_share_of_arrivals", share, *policy.virtual_share, digits=4, sample=sample, details={
            "expected_by_calibration": identity.policies.intensity.demand.virtual_share,
            "measure": "virtual arrivals / arrivals of the first scenario"}),
        corridor("card_not_present_share_of_arrivals", base["card_not_present_share"],
                 *policy.card_not_present_share, digits=4, sample=sample, details={
                     "expected_by_calibration": identity.policies.intensity.demand.card_not_present_share,
                     "measure": "arrivals at card-not-present merchants / arrivals of the first scenario",
                     "by_scenario": {s: round(f["card_not_present_share"], 4) for s, f in figures.items()}}),
        corridor("arrivals_follow_weekly_shape", worst_corr, low=policy.shape_correlation_min, digits=4, sample=sample,
                 details={"measure": f"lowest correlation over the classes whose physical arrivals spread over "
                                     f">= {policy.shape_min_effective_groups} burst groups (counted as if equal)",
                          "by_class": base["shape_correlation"],
                          "not_judged_too_few_groups": base["shape_unjudged"],
                          "effective_burst_groups": base["shape_groups"],
                          "arrivals_by_scenario": {s: f["arrivals"] for s, f in figures.items()},
                          "virtual_share_by_scenario": {s: round(f["virtual_share"], 4) for s, f in figures.items()}}),
    ], {}


def _realism_figures(read, scenario, surface, rows, hourly_lam, hourly_n, by_class_hour, expected, physical_share,
                     min_groups) -> dict:
    field = read.table(f"{GROUP}/latent_field", scenario)["factor"].to_numpy()
    lam_total = hourly_lam.sum(axis=1)
    dispersion = dispersion_index(hourly_n, hourly_lam)
    steady = lam_total >= 50  # rows with enough arrivals for a stable ratio
    channel = rows["channel_group"].to_numpy()
    medians = {c: float(np.median(dispersion[steady & (channel == c)])) for c in CHANNELS
               if (steady & (channel == c)).any()}
    # A class is judged when its physical arrivals spread over enough burst groups: one that sits
    # in one or two groups follows their burst paths, not its shape, however many arrivals it has.
    group = burst_groups(read, scenario, surface.rows)
    spread = effective_groups(surface.demand_class, group, lam_total * physical_share, len(DEMAND_CLASSES))
    correlation, unjudged, sizes = {}, {}, {}
    for k, name in enumerate(DEMAND_CLASSES):
        if by_class_hour[k].sum() >= 1000:  # enough arrivals for 168 hours to mean something
            value = round(float(np.corrcoef(by_class_hour[k], expected[k])[0, 1]), 4)
            (correlation if spread[k] >= min_groups else unjudged)[name] = value
            sizes[name] = float(np.floor(spread[k] * 10) / 10)  # floored: a shown 5.0 was judged at 5
    return {"latent_mean": float(field.mean()) if field.size else float("nan"), "dispersion": medians,
            "shape_correlation": correlation, "shape_unjudged": unjudged, "shape_groups": sizes,
            "arrivals": int(hourly_n.sum())}


# What to turn when a realism check fails, by check.
REMEDIES = {
    "every_partition_published": MISSING_PARTITIONS_REMEDY,
    "latent_mean": (
        "The burst factor is exp(Z − σ²/2) clipped to `latent.clip` in config/policies/5b.yaml, so its mean "
        "leaves 1 when σ (`latent.sigma` times `latent.class_sigma` and `latent.channel_sigma`) is large enough "
        "for the clip to bite: lower them or widen the clip. With few burst groups, a `latent.length_hours` long "
        "against the `horizon` of config/profiles/<name>.yaml also moves it."),
    "count_p99_over_p50": (
        "The tail of bucket counts comes mostly from the spread of merchant volumes (a lower `alpha` or higher "
        "`clip` of `volumes.per_site` in config/policies/5a.yaml raises p99) and from bursts (`latent.sigma`, "
        "`counts.kappa` in config/policies/5b.yaml). Buckets holding only an arrival or two (few "
        "`expected_arrivals` per merchant in config/profiles/<name>.yaml) keep the ratio small."),
    "dispersion_card_present": (
        "Card-present counts spread around the surface through bursts (`latent.sigma`, "
        "`latent.channel_sigma.card_present`), count dispersion (`counts.kappa`, "
        "`counts.channel_kappa.card_present`; a lower κ spreads more) in config/policies/5b.yaml and day shocks "
        "(`day_effects.sigma` in config/policies/2b.yaml). The spread grows with the hourly rate "
        "(`expected_arrivals` per merchant in config/profiles/<name>.yaml)."),
    "dispersion_card_not_present": (
        "Card-not-present counts spread around the surface through bursts (`latent.sigma`, "
        "`latent.channel_sigma.card_not_present`, the online classes' `latent.class_sigma`) and count dispersion "
        "(`counts.kappa`, `counts.channel_kappa.card_not_present`, `counts.class_kappa`; a lower κ spreads more) "
        "in config/policies/5b.yaml. The spread grows with the hourly rate (`expected_arrivals` per merchant in "
        "config/profiles/<name>.yaml)."),
    "virtual_share_of_arrivals": (
        "The expected share is calibrated to `volumes.virtual_share_of_arrivals` in config/policies/5a.yaml (set "
        "the target there); a realised share off it comes from the online merchants' bursts (`latent` and "
        "`counts` in config/policies/5b.yaml) or from a world with few online merchants (raise `merchants` in "
        "config/profiles/<name>.yaml)."),
    "card_not_present_share_of_arrivals": (
        "The expected share is calibrated to `volumes.card_not_present_share_of_arrivals` in "
        "config/policies/5a.yaml (set the target there); a realised share off it comes from card-not-present "
        "bursts (`latent.channel_sigma`, `counts.channel_kappa` in config/policies/5b.yaml) or from a world with "
        "few card-not-present merchants (raise `merchants` in config/profiles/<name>.yaml)."),
    "arrivals_follow_weekly_shape": (
        "Arrivals stray from the shapes when bursts do not average out: for the class with the lowest correlation, "
        "lower `latent.sigma` or its `latent.class_sigma`, or shorten `latent.length_hours`, in "
        "config/policies/5b.yaml, or give the world more arrivals (`expected_arrivals` or a longer `horizon` in "
        "config/profiles/<name>.yaml)."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("every_partition_published", "Every (scenario, day) partition is published."),
    ("arrivals_equal_counts", "Arrivals equal bucket counts per (merchant, country, bucket)."),
    ("arrivals_inside_their_day_and_sorted", "Arrivals lie inside their day and are sorted by ts_utc."),
    ("sites_belong_to_merchant_and_zone", "Each physical arrival's site belongs to its merchant in its zone."),
    ("edges_belong_to_merchant", "Each virtual arrival's edge belongs to its merchant."),
    ("local_time_equals_zoneinfo", "Local times equal zoneinfo on a sample and near every clock change."),
    ("arrival_ids_unique", "arrival_id is unique in the run."),
    ("latent_mean", "Realism: the burst factor averages 1."),
    ("count_p99_over_p50", "Realism: non-zero bucket counts are heavy-tailed."),
    ("dispersion_card_present", "Realism: dispersion of card-present hourly counts around the surface."),
    ("dispersion_card_not_present", "Realism: dispersion of card-not-present hourly counts around the surface."),
    ("virtual_share_of_arrivals", "Realism: share of arrivals routed to edges (first scenario)."),
    ("card_not_present_share_of_arrivals", "Realism: share of arrivals at card-not-present merchants (first scenario)."),
    ("arrivals_follow_weekly_shape", "Realism: arrivals per local hour of the week follow each class's shape."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/{name}" for name in ("latent_groups", "latent_field", "bucket_counts", "arrival_events")]
    + [*SURFACE_DATASETS, "seg_2a/site_timezones", "seg_3b/edge_catalogue", "seg_3b/virtual_classification"],
    evaluate=evaluate,
    description="Arrivals conserve counts, stay in their buckets, follow their routes and clocks; bursts and dispersion.",
    checks=CHECKS,
)
