"""The reference query API on a tiny synthetic world with known answers."""

import numpy as np
import pytest
import shapely

from engine_kernels.reference.world import ReferenceWorld

RES = 10.0  # 18 x 36 cells of 10 degrees


def _world() -> ReferenceWorld:
    population = np.zeros((18, 36), np.float32)
    country = np.zeros((18, 36), np.uint16)
    # AA: two cells in row 4 (lat 45..55), cols 18..19 (lon 0..20); BB: one cell south of it.
    country[4, 18:20] = 1
    country[5, 18] = 2
    population[4, 18], population[4, 19], population[5, 18] = 300, 100, 50
    flat = lambda r, c: r * 36 + c  # noqa: E731
    zones = {"Zone/West": np.array([flat(4, 18), flat(5, 18)]), "Zone/East": np.array([flat(4, 19)])}
    polygons = {"AA": shapely.to_wkb(shapely.box(0, 40, 20, 50)), "BB": shapely.to_wkb(shapely.box(0, 30, 10, 40))}

    def lookup(lats, lons):
        return np.where(lons < 10, "Zone/West", np.where(lons < 20, "Zone/East", "Zone/Else")).astype(object)

    return ReferenceWorld(population, country, ["AA", "BB"], zones, polygons,
                          {"AA": ["Zone/West", "Zone/East"], "BB": ["Zone/West"]}, lookup, resolution=RES)


def test_populated_cells_carry_weights_and_bounds():
    cells = _world().populated_cells("AA")
    assert sorted(zip(cells.rows.tolist(), cells.cols.tolist())) == [(4, 18), (4, 19)]
    assert cells.population.sum() == 400 and cells.cumulative[-1] == 1.0
    south, west, north, east = cells.bounds()
    assert np.allclose(north - south, RES) and np.allclose(east - west, RES)
    assert set(cells.lat.tolist()) == {45.0} and set(cells.lon.tolist()) == {5.0, 15.0}


def test_cells_of_one_zone():
    east = _world().populated_cells("AA", "Zone/East")
    assert east.cols.tolist() == [19] and east.population.tolist() == [100]
    with pytest.raises(ValueError, match="AA has no populated cells in zone Zone/Else"):
        _world().populated_cells("AA", "Zone/Else")


def test_sampling_follows_population():
    cells = _world().populated_cells("AA")
    u = (np.arange(100_000) + 0.5) / 100_000
    picked = cells.pick(u)
    assert abs(np.mean(cells.cols[picked] == 18) - 0.75) < 1e-3
    lat, lon = cells.sample_points(u, u[::-1], u)
    assert lat.min() >= 40 and lat.max() <= 50 and lon.min() >= 0 and lon.max() <= 20


def test_point_in_country_and_zone_restriction():
    world = _world()
    lats, lons = np.array([45.0, 45.0, 35.0, 45.0]), np.array([5.0, 15.0, 5.0, 25.0])
    assert world.contains("AA", lats, lons).tolist() == [True, True, False, False]
    assert world.contains("BB", lats, lons).tolist() == [False, False, True, False]
    assert world.zones_at("BB", lats, lons).tolist() == ["Zone/West", None, "Zone/West", None]


def test_unknown_country_is_named():
    with pytest.raises(KeyError, match="'ZZ' is not in the reference world"):
        _world().populated_cells("ZZ")


def test_population_centroid_is_the_weighted_mean_on_the_sphere():
    lat, lon = _world().population_centroid("AA")
    # Same latitude: the longitude is the angle of the weighted sum of (cos, sin) of 5° and 15°.
    expected_lon = np.degrees(np.arctan2(300 * np.sin(np.radians(5)) + 100 * np.sin(np.radians(15)),
                                         300 * np.cos(np.radians(5)) + 100 * np.cos(np.radians(15))))
    assert lon == pytest.approx(expected_lon, abs=1e-9) and 7.0 < lon < 7.6
    assert 45.0 < lat < 45.2  # the chord's midpoint projects slightly poleward of 45°


def test_population_centroid_straddles_the_antimeridian():
    population = np.zeros((18, 36), np.float32)
    country = np.zeros((18, 36), np.uint16)
    country[10, [0, 35]] = 1  # lon -175 and 175, lat -15
    population[10, [0, 35]] = 50
    world = ReferenceWorld(population, country, ["FJ"], {}, {}, {}, lambda a, b: a, resolution=RES)
    lat, lon = world.population_centroid("FJ")
    assert abs(abs(lon) - 180.0) < 1e-9 and lat == pytest.approx(-15.0, abs=0.5)
