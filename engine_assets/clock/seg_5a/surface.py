"""5A's surfaces in memory: λ of every (merchant, country, zone) row for any UTC day of a scenario.

`load_surface` reads the published profile, shapes, clock table and calendar once; `Surface.day`
then evaluates one day of buckets (engine_kernels.intensity.evaluator) under the day's overlays
(engine_kernels.intensity.calendar). 5A's validation, 5B and the benchmarks all go through here.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.storage.reader import Reader
from engine_assets.world.seg_2a.clock import read_transitions
from engine_kernels.civil_time.transitions import Transitions
from engine_kernels.intensity.calendar import TYPES, Events, overlay_hours
from engine_kernels.intensity.evaluator import bucket_intensity
from engine_kernels.vocabulary import DEMAND_CLASSES

_US = 1_000_000
_HOUR_US = 3600 * _US


def day_start_us(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()) * _US


@dataclass(frozen=True)
class Surface:
    rows: pl.DataFrame  # the profile, in its published order
    zone: np.ndarray  # int64 index into table.tzids
    volume: np.ndarray
    shape_of: np.ndarray  # row index into shapes
    shapes: np.ndarray  # float64[n, 168]
    country: np.ndarray  # int64 index into countries
    countries: tuple[str, ...]
    demand_class: np.ndarray  # int64 index into DEMAND_CLASSES
    table: Transitions
    events: Events

    def overlay(self, day: dt.date) -> np.ndarray:
        return overlay_hours(day_start_us(day), self.country, self.demand_class, self.events, len(self.countries))

    def day(self, day: dt.date, bucket_minutes: int, overlays: bool = True) -> np.ndarray:
        """float64[rows, buckets]: λ of each row in each UTC bucket of the day."""
        return bucket_intensity(day_start_us(day), bucket_minutes, self.zone, self.volume, self.shape_of, self.shapes,
                                self.table, self.overlay(day) if overlays else None)


def events_of(calendar: pl.DataFrame, rows: pl.DataFrame, countries: tuple[str, ...]) -> Events:
    """The calendar's rows as kernel events; events of countries without rows are dropped."""
    if calendar.height == 0:
        return Events.empty()
    cal = calendar.with_columns(pl.col(pl.Categorical).cast(pl.String)).filter(
        pl.col("country_iso").is_null() | pl.col("country_iso").is_in(list(countries)))
    keyed = rows.select("merchant_id", country_iso="legal_country_iso", tzid=pl.col("tzid").cast(pl.String)).with_row_index(
        "row")
    cal = cal.join(keyed, on=["merchant_id", "country_iso", "tzid"], how="left", maintain_order="left")
    orphan = cal.filter(pl.col("merchant_id").is_not_null() & pl.col("row").is_null()).height
    if orphan:
        raise ValueError(f"seg_5a/calendar: {orphan} merchant-zone events name rows the profile lacks; "
                         "rebuild seg_5a/calendar after seg_5a/merchant_zone_profile")
    index = {c: i for i, c in enumerate(countries)}
    classes = {c: i for i, c in enumerate(DEMAND_CLASSES)}
    kinds = {t: i for i, t in enumerate(TYPES)}
    return Events(
        kind=np.array([kinds[k] for k in cal["event_type"]], np.int8),
        country=np.array([index.get(c, -1) if c is not None else -1 for c in cal["country_iso"]], np.int32),
        demand_class=np.array([classes[c] if c is not None else -1 for c in cal["demand_class"]], np.int16),
        row=cal["row"].fill_null(-1).cast(pl.Int64).to_numpy(),
        start_us=cal["start_local"].dt.epoch("us").to_numpy().astype(np.int64),
        end_us=cal["end_local"].dt.epoch("us").to_numpy().astype(np.int64),
        ramp_in_us=cal["ramp_in_hours"].cast(pl.Int64).to_numpy() * _HOUR_US,
        ramp_out_us=cal["ramp_out_hours"].cast(pl.Int64).to_numpy() * _HOUR_US,
        peak=cal["factor"].to_numpy().astype(np.float64),
    )


def surface_from_frames(profile: pl.DataFrame, shapes: pl.DataFrame, transitions: pl.DataFrame,
                        calendar: pl.DataFrame) -> Surface:
    rows = profile.with_columns(pl.col(pl.Categorical).cast(pl.String))
    table = read_transitions(transitions)
    zones = {z: i for i, z in enumerate(table.tzids)}
    unknown = sorted(set(rows["tzid"].unique()) - set(zones))
    if unknown:
        raise ValueError(f"seg_5a: zones {unknown[:5]} have no periods in seg_2a/tz_transitions")
    weights = shapes.sort("shape_id", "hour_of_week")["weight"].to_numpy().reshape(-1, 168)
    countries = tuple(sorted(rows["legal_country_iso"].unique()))
    country = {c: i for i, c in enumerate(countries)}
    classes = {c: i for i, c in enumerate(DEMAND_CLASSES)}
    return Surface(
        rows=rows, zone=np.array([zones[z] for z in rows["tzid"]], np.int64),
        volume=rows["weekly_volume"].to_numpy().astype(np.float64), shape_of=rows["shape_id"].to_numpy().astype(np.int64),
        shapes=weights, country=np.array([country[c] for c in rows["legal_country_iso"]], np.int64),
        countries=countries, demand_class=np.array([classes[c] for c in rows["demand_class"]], np.int64), table=table,
        events=events_of(calendar, rows, countries),
    )


# What a surface is built from: an asset that loads one declares these (`reads=SURFACE_DATASETS`).
SURFACE_DATASETS = ("seg_5a/merchant_zone_profile", "seg_5a/weekly_shapes", "seg_2a/tz_transitions", "seg_5a/calendar")


def load_surface(read: Reader, scenario: str) -> Surface:
    """The published 5A surface of one scenario."""
    profile, shapes, transitions, calendar = SURFACE_DATASETS
    return surface_from_frames(read.scan(profile).collect(), read.scan(shapes).collect(),
                               read.scan(transitions).collect(), read.scan(calendar, scenario).collect())
