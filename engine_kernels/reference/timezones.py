"""IANA time zones of points and of populated grid cells.

Zone polygons come from timezonefinder's data (timezone-boundary-builder); which zones a country
may use comes from the pinned tzdata's `zone1970.tab` and `zone.tab`. A polygon answer is only
kept when it agrees with the country the population grid put the cell in, so the two sources of
borders never produce, say, an Indian cell labelled Asia/Kathmandu.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from timezonefinder import TimezoneFinder

from engine_kernels.geography.geodesy import cell_centres, grid_shape

__all__ = [
    "LABEL_SOURCES",
    "NUDGE_DEGREES",
    "TzGrid",
    "ZoneShares",
    "country_zones",
    "label_populated_cells",
    "pinned_zoneinfo_dir",
    "zone_of_points",
]

# How a cell got its zone, in the order the rules are tried (see label_populated_cells).
LABEL_SOURCES = ("polygon", "single_zone", "nudged", "country_dominant", "first_listed")
# Cells on coasts and borders are retried this far north, south, east and west of their centre.
NUDGE_DEGREES = 0.05


@functools.cache
def _finder() -> TimezoneFinder:
    # Loading the polygon index costs tens of milliseconds and some memory: do it once per process.
    return TimezoneFinder()


@functools.cache
def _finder_zone_names() -> tuple[str, ...]:
    return tuple(_finder().timezone_names)


@functools.cache
def _finder_answer_is_zone() -> np.ndarray:
    # Etc/GMT±N polygons cover oceans and Antarctica: an offset, not a place's zone.
    return np.array([not name.startswith("Etc/") for name in _finder_zone_names()])


def _zone_ids(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Index into _finder_zone_names() of the polygon holding each point; -1 for no (or an Etc/) answer."""
    ids = _finder().timezone_ids_at(
        lngs=np.ascontiguousarray(lons, np.float64), lats=np.ascontiguousarray(lats, np.float64)
    ).astype(np.int32)
    answered = ids >= 0
    answered[answered] = _finder_answer_is_zone()[ids[answered]]
    return np.where(answered, ids, -1)


def zone_of_points(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Object array of IANA zone names of the polygons holding the points; None where there is
    no answer or only an `Etc/` ocean offset."""
    ids = _zone_ids(lats, lons)
    names = np.array(_finder_zone_names() + (None,), dtype=object)
    return names[ids]


def pinned_zoneinfo_dir() -> Path:
    """The `zoneinfo` directory of the installed tzdata wheel, located without importing it."""
    spec = importlib.util.find_spec("tzdata")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the tzdata package is not installed; run make install")
    return Path(spec.submodule_search_locations[0]) / "zoneinfo"


def country_zones(tzdata_dir: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """Zones per ISO country code: those of `zone1970.tab`, then those `zone.tab` adds.

    zone1970.tab merges countries whose clocks have agreed since 1970 (`AE,OM,RE,SC,TF  Asia/Dubai`),
    so a country may appear there only through a line of its neighbour; zone.tab still names the
    country's own zone (OM: Asia/Muscat), which is what polygon lookups answer. Taking both keeps
    each country's zone list complete. Every zone must exist as a file in `tzdata_dir` (default:
    the pinned wheel's zoneinfo directory).
    """
    directory = Path(tzdata_dir) if tzdata_dir is not None else pinned_zoneinfo_dir()
    zones: dict[str, list[str]] = {}
    for table in ("zone1970.tab", "zone.tab"):
        for country_list, zone in _read_zone_table(directory / table):
            if not (directory / zone).is_file():
                raise ValueError(f"{directory / table}: zone {zone} is not in the tz database at {directory}")
            for country in country_list.split(","):
                listed = zones.setdefault(country, [])
                if zone not in listed:
                    listed.append(zone)
    return dict(sorted(zones.items()))


def _read_zone_table(path: Path) -> list[tuple[str, str]]:
    """(country codes, zone) of every data line of a tzdata zone table (tab-separated, # comments)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            rows.append((fields[0], fields[2]))
    return rows


@dataclass(frozen=True)
class ZoneShares:
    """Population of each (country, zone) pair and its share of the country, sorted by country
    then by falling population."""

    country_iso: np.ndarray
    tzid: np.ndarray
    population: np.ndarray
    share: np.ndarray

    def of(self, country: str) -> dict[str, float]:
        """Zone -> share of the country's population."""
        rows = self.country_iso == country
        return dict(zip(self.tzid[rows].tolist(), self.share[rows].tolist()))


@dataclass(frozen=True)
class TzGrid:
    """The zone of every populated cell (population > 0), with how each label was obtained.

    `zone_id` indexes `zone_names`; `source` indexes LABEL_SOURCES; `source_counts` counts cells
    per source.
    """

    rows: np.ndarray
    cols: np.ndarray
    country_iso: np.ndarray
    zone_id: np.ndarray
    zone_names: tuple[str, ...]
    source: np.ndarray
    shares: ZoneShares
    source_counts: dict[str, int]

    @property
    def tzid(self) -> np.ndarray:
        """Zone name of every cell."""
        return np.asarray(self.zone_names, dtype=object)[self.zone_id]


def label_populated_cells(
    country_index: np.ndarray,
    population: np.ndarray,
    codes: list[str],
    country_zones: dict[str, list[str]],
) -> TzGrid:
    """Label each populated cell with one of its country's zones, trying in turn:

    1. polygon: the zone polygon at the cell centre, if the country may use that zone;
    2. single_zone: the country's zone, if it lists exactly one;
    3. nudged: the first acceptable polygon answer NUDGE_DEGREES north, south, east, west;
    4. country_dominant: the zone holding most of the country's population labelled by 1-3;
    5. first_listed: the country's first listed zone, if 1-3 labelled none of its cells.

    A country "may use" the zones listed for it, plus zones listed only for codes absent from
    `codes` (territories the country grid draws inside another country, e.g. Indian/Reunion in
    France). A country with no listed zones (Kosovo, XK) may use any polygon answer.
    """
    if country_index.shape != population.shape:
        raise ValueError(f"label_populated_cells: grids differ in shape {country_index.shape} / {population.shape}")
    n_rows, _ = country_index.shape
    res = 180.0 / n_rows
    if grid_shape(res) != country_index.shape:
        raise ValueError(f"label_populated_cells: shape {country_index.shape} is not a global grid")
    rows, cols = np.nonzero(population > 0)
    owner = country_index[rows, cols].astype(np.int64)
    if np.any(owner == 0):
        raise ValueError(f"label_populated_cells: {np.count_nonzero(owner == 0)} populated cells lie in no country")
    weight = population[rows, cols].astype(np.float64)

    names, allowed, listed = _zone_rules(codes, country_zones)
    label = np.full(len(rows), -1, np.int64)
    source = np.full(len(rows), -1, np.int8)
    lat, lon = cell_centres(rows, cols, res)

    def accept(answer: np.ndarray, todo: np.ndarray, how: int) -> None:
        ok = (answer >= 0) & allowed[owner[todo], np.maximum(answer, 0)]
        label[todo[ok]], source[todo[ok]] = answer[ok], how

    accept(_zone_ids(lat, lon), np.arange(len(rows)), 0)
    only = np.array([z[0] if len(z) == 1 else -1 for z in listed])
    todo = np.flatnonzero((label < 0) & (only[owner] >= 0))
    label[todo], source[todo] = only[owner[todo]], 1
    for d_lat, d_lon in ((NUDGE_DEGREES, 0.0), (-NUDGE_DEGREES, 0.0), (0.0, NUDGE_DEGREES), (0.0, -NUDGE_DEGREES)):
        todo = np.flatnonzero(label < 0)
        nudged_lat = np.clip(lat[todo] + d_lat, -90.0, 90.0)
        nudged_lon = (lon[todo] + d_lon + 180.0) % 360.0 - 180.0
        accept(_zone_ids(nudged_lat, nudged_lon), todo, 2)

    per_zone = _population_by_zone(owner, label, weight, len(codes) + 1, len(names))
    todo = np.flatnonzero(label < 0)
    has_labels = per_zone.sum(axis=1) > 0
    dominant = np.argmax(per_zone, axis=1)
    first = np.array([z[0] if z else -1 for z in listed])
    from_dominant = has_labels[owner[todo]]
    label[todo] = np.where(from_dominant, dominant[owner[todo]], first[owner[todo]])
    source[todo] = np.where(from_dominant, 3, 4)
    if np.any(label < 0):
        stuck = sorted({codes[i - 1] for i in owner[label < 0]})
        raise ValueError(f"label_populated_cells: no zone found for countries {stuck}; add them to the zone tables")

    used, zone_id = np.unique(label, return_inverse=True)
    zone_names = tuple(names[i] for i in used)
    shares = _zone_shares(owner, zone_id, weight, codes, zone_names)
    counts = np.bincount(source, minlength=len(LABEL_SOURCES))
    return TzGrid(
        rows=rows.astype(np.int32),
        cols=cols.astype(np.int32),
        country_iso=np.asarray(codes, dtype=object)[owner - 1],
        zone_id=zone_id.astype(np.int16),
        zone_names=zone_names,
        source=source.astype(np.uint8),
        shares=shares,
        source_counts={name: int(n) for name, n in zip(LABEL_SOURCES, counts)},
    )


def _zone_rules(
    codes: list[str], country_zones: dict[str, list[str]]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Zone names (the finder's, then listed zones it lacks), allowed[country index, zone id] and
    each country index's listed zone ids (index 0 = no country: nothing allowed)."""
    names = list(_finder_zone_names())
    names += sorted({z for zones in country_zones.values() for z in zones} - set(names))
    zone_id = {name: i for i, name in enumerate(names)}
    allowed = np.zeros((len(codes) + 1, len(names)), bool)
    listed = np.empty(len(codes) + 1, dtype=object)
    listed[0] = []
    in_grid = set(codes)
    for i, code in enumerate(codes, start=1):
        listed[i] = [zone_id[z] for z in country_zones.get(code, [])]
        if listed[i]:
            allowed[i, listed[i]] = True
        else:
            allowed[i, : len(_finder_zone_names())] = _finder_answer_is_zone()
    zones_in_grid = {z for c, zones in country_zones.items() if c in in_grid for z in zones}
    absorbed = {z for c, zones in country_zones.items() if c not in in_grid for z in zones} - zones_in_grid
    allowed[1:, sorted(zone_id[z] for z in absorbed)] = True
    return names, allowed, listed


def _population_by_zone(owner: np.ndarray, label: np.ndarray, weight: np.ndarray, n_countries: int,
                        n_zones: int) -> np.ndarray:
    """[country index, zone id] -> population of the cells labelled so far (label >= 0)."""
    done = label >= 0
    flat = np.bincount(owner[done] * n_zones + label[done], weights=weight[done], minlength=n_countries * n_zones)
    return flat.reshape(n_countries, n_zones)


def _zone_shares(owner: np.ndarray, zone_id: np.ndarray, weight: np.ndarray, codes: list[str],
                 zone_names: tuple[str, ...]) -> ZoneShares:
    """Per (country, zone) population and share of the country's population."""
    per_zone = _population_by_zone(owner, zone_id, weight, len(codes) + 1, len(zone_names))
    country, zone = np.nonzero(per_zone > 0)
    population = per_zone[country, zone]
    share = population / per_zone.sum(axis=1)[country]
    order = np.lexsort((zone, -population, country))
    return ZoneShares(
        country_iso=np.asarray(codes, dtype=object)[country[order] - 1],
        tzid=np.asarray(zone_names, dtype=object)[zone[order]],
        population=population[order],
        share=share[order],
    )
