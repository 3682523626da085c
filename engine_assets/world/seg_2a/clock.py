"""What other segments use of 2A: the zone grid's labelled cells and the transition table, both ways.

The transition table is the engine's clock: `transitions_table` publishes a `Transitions`
(engine_kernels/civil_time/transitions.py) as rows, `read_transitions` reads them back for 3B, 5A
and 5B, and `transition_window` is the span it covers.
"""

import datetime as dt

import numpy as np
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_kernels.civil_time.transitions import Transitions
from engine_kernels.geography.geodesy import cell_centres, cell_rows_cols


def labelled_cells(tz_grid: pl.DataFrame, zones: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, tzid) of a country's populated cells (`tz_grid` holds only them) labelled with one of its zones."""
    cells = tz_grid.filter(pl.col("tzid").is_in(sorted(zones)))
    lat, lon = cell_centres(*cell_rows_cols(cells["cell"].to_numpy()))
    return lat, lon, np.asarray(cells["tzid"].to_list(), dtype=object)


def transition_window(identity: RunIdentity) -> tuple[dt.datetime, dt.datetime]:
    """[horizon start − margin, horizon end + 1 day + margin) in UTC."""
    margin = dt.timedelta(days=identity.policies.civil_time.model.margin_days)
    horizon = identity.profile.horizon
    start = dt.datetime.combine(horizon.start, dt.time(), dt.timezone.utc) - margin
    return start, dt.datetime.combine(horizon.end + dt.timedelta(days=1), dt.time(), dt.timezone.utc) + margin


def zones_in_world(identity: RunIdentity, tz_zones: pl.DataFrame) -> list[str]:
    """Every zone a site of the active countries may end up in: their listed zones and overrides."""
    active = identity.profile.countries
    rows = tz_zones if active is None else tz_zones.filter(pl.col("country_iso").is_in(list(active)))
    return sorted(set(rows["tzid"].to_list()) | set(identity.policies.civil_time.model.overrides.values()) | {"UTC"})


def transitions_table(table: Transitions) -> pl.DataFrame:
    counts = np.diff(table.offsets)
    return pl.DataFrame({
        "tzid": np.repeat(np.asarray(table.tzids, dtype=object), counts).tolist(),
        "utc_start": pl.Series(table.utc_start * 1_000_000).cast(pl.Datetime("us", "UTC")),
        "offset_seconds": table.offset_seconds,
        "is_dst": table.is_dst,
        "abbreviation": table.abbreviation.tolist(),
    })


def read_transitions(frame: pl.DataFrame) -> Transitions:
    """The published table back as a Transitions (zones sorted, periods in time order)."""
    frame = frame.with_columns(pl.col("tzid").cast(pl.String)).sort("tzid", "utc_start")
    names = frame["tzid"].unique(maintain_order=True).to_list()
    counts = frame.group_by("tzid", maintain_order=True).len()["len"].to_numpy()
    return Transitions(
        tzids=tuple(names), offsets=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        utc_start=frame["utc_start"].dt.epoch("s").to_numpy().astype(np.int64),
        offset_seconds=frame["offset_seconds"].to_numpy().astype(np.int32),
        is_dst=frame["is_dst"].to_numpy(), abbreviation=np.asarray(frame["abbreviation"].to_list(), dtype=object),
    )
