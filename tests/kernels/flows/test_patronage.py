"""Patronage (engine_kernels/flows/patronage.py): great-circle distances, each home's favourite site
by Huff gravity weight, and the homes nearest each site."""

import numpy as np
import pytest

from engine_kernels.flows.patronage import EARTH_KM, favourites, great_circle_km, neighbours, unit_vectors


def _scatter(n, seed, lat0=50.0, lon0=10.0, half_km=10.0):
    """n points uniform in a box of ±half_km around (lat0, lon0)."""
    rng = np.random.default_rng(seed)
    dlat = half_km / 111.2
    dlon = dlat / np.cos(np.radians(lat0))
    return lat0 + rng.uniform(-dlat, dlat, n), lon0 + rng.uniform(-dlon, dlon, n)


def _distances(lat_a, lon_a, lat_b, lon_b):
    """Brute-force great-circle km between every a (rows) and every b (columns)."""
    a, b = np.repeat(np.arange(lat_a.size), lat_b.size), np.tile(np.arange(lat_b.size), lat_a.size)
    return great_circle_km(lat_a[a], lon_a[a], lat_b[b], lon_b[b]).reshape(lat_a.size, lat_b.size)


def test_unit_vectors_are_on_the_unit_sphere_at_known_points():
    v = unit_vectors(np.array([0.0, 90.0, 0.0, -45.0]), np.array([0.0, 0.0, 90.0, 180.0]))
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert np.allclose(v[0], [1, 0, 0]) and np.allclose(v[1], [0, 0, 1]) and np.allclose(v[2], [0, 1, 0])
    assert np.allclose(v[3], [-np.sqrt(0.5), 0, -np.sqrt(0.5)])


def test_great_circle_known_distances():
    """London-Paris ~344 km; a quarter meridian and half the equator follow from the Earth radius."""
    km = great_circle_km(np.array([51.5074, 0.0, 0.0]), np.array([-0.1278, 0.0, 0.0]),
                         np.array([48.8566, 90.0, 0.0]), np.array([2.3522, 0.0, 180.0]))
    assert km[0] == pytest.approx(344, abs=2)
    assert km[1] == pytest.approx(np.pi / 2 * EARTH_KM, rel=1e-9)
    assert km[2] == pytest.approx(np.pi * EARTH_KM, rel=1e-9)


def test_great_circle_is_zero_for_identical_points_and_symmetric():
    lat, lon = _scatter(50, seed=1)
    assert np.allclose(great_circle_km(lat, lon, lat, lon), 0.0, atol=1e-9)
    lat2, lon2 = _scatter(50, seed=2)
    assert np.allclose(great_circle_km(lat, lon, lat2, lon2), great_circle_km(lat2, lon2, lat, lon))


def test_one_heavy_site_draws_most_homes():
    s_lat, s_lon = _scatter(8, seed=3)
    h_lat, h_lon = _scatter(5_000, seed=4)
    volume = np.ones(8)
    volume[5] = 1_000.0
    u = np.random.default_rng(5).random(5_000)
    site, _ = favourites(unit_vectors(h_lat, h_lon), unit_vectors(s_lat, s_lon), volume, u, candidates=8,
                         distance_km=2.0, exponent=2.0)
    assert (site == 5).mean() > 0.9


def test_equal_volumes_pick_the_nearest_site_at_its_huff_probability():
    """With equal volumes the nearest site is the favourite most often, and as often as its Huff
    probability (1 + km/d)^-e over the candidates' sum predicts."""
    s_lat, s_lon = _scatter(30, seed=6)
    h_lat, h_lon = _scatter(20_000, seed=7)
    u = np.random.default_rng(8).random(20_000)
    site, _ = favourites(unit_vectors(h_lat, h_lon), unit_vectors(s_lat, s_lon), np.ones(30), u, candidates=5,
                         distance_km=2.0, exponent=2.0)
    km = _distances(h_lat, h_lon, s_lat, s_lon)
    ranked = np.argsort(km, axis=1)[:, :5]
    weight = (1 + np.take_along_axis(km, ranked, axis=1) / 2.0) ** -2.0
    p = weight / weight.sum(axis=1, keepdims=True)
    rank = (ranked == site[:, None]).argmax(axis=1)
    assert (ranked == site[:, None]).any(axis=1).all()  # always one of the 5 nearest
    shares = np.bincount(rank, minlength=5) / rank.size
    assert shares[0] == shares.max() and (np.diff(shares) < 0).all()
    assert shares == pytest.approx(p.mean(axis=0), abs=0.015)


def test_favourite_km_is_the_great_circle_distance_of_the_pair():
    s_lat, s_lon = _scatter(12, seed=9, half_km=40)
    h_lat, h_lon = _scatter(2_000, seed=10, half_km=40)
    u = np.random.default_rng(11).random(2_000)
    site, km = favourites(unit_vectors(h_lat, h_lon), unit_vectors(s_lat, s_lon), np.linspace(1, 5, 12), u,
                          candidates=4, distance_km=3.0, exponent=1.5)
    assert km == pytest.approx(great_circle_km(h_lat, h_lon, s_lat[site], s_lon[site]), abs=1e-6)


def test_favourite_with_a_single_site_and_the_u_edges():
    """One site: every home picks it. u near 0 picks the first candidate (the nearest), u near 1 the last."""
    s_lat, s_lon = _scatter(6, seed=12)
    h_lat, h_lon = _scatter(300, seed=13)
    homes, sites = unit_vectors(h_lat, h_lon), unit_vectors(s_lat, s_lon)
    one, _ = favourites(homes, sites[:1], np.ones(1), np.full(300, 0.7), candidates=8, distance_km=2, exponent=2)
    assert (one == 0).all()
    ranked = np.argsort(_distances(h_lat, h_lon, s_lat, s_lon), axis=1)
    low, _ = favourites(homes, sites, np.ones(6), np.full(300, 1e-12), candidates=6, distance_km=2, exponent=2)
    high, _ = favourites(homes, sites, np.ones(6), np.full(300, 1 - 1e-12), candidates=6, distance_km=2, exponent=2)
    assert (low == ranked[:, 0]).all() and (high == ranked[:, 5]).all()


@pytest.fixture(scope="module")
def near():
    """Neighbours of 40 sites among 500 homes, counts from 0 to beyond the number of homes."""
    s_lat, s_lon = _scatter(40, seed=14, half_km=20)
    h_lat, h_lon = _scatter(500, seed=15, half_km=20)
    counts = np.array([0, 1, 2, 3, 5, 8, 17, 33, 64, 65, 499, 500, 501, 2_000] + [7] * 26)
    offsets, home, km = neighbours(unit_vectors(s_lat, s_lon), unit_vectors(h_lat, h_lon), counts)
    return counts, offsets, home, km, _distances(s_lat, s_lon, h_lat, h_lon)


def test_neighbours_count_is_the_wanted_count_capped_at_the_homes(near):
    counts, offsets, home, km, _ = near
    assert offsets[0] == 0 and np.diff(offsets).tolist() == np.minimum(counts, 500).tolist()
    assert home.size == km.size == offsets[-1]


def test_neighbours_are_the_k_nearest_homes_nearest_first(near):
    counts, offsets, home, km, brute = near
    for s in range(counts.size):
        mine, mine_km = home[offsets[s]:offsets[s + 1]], km[offsets[s]:offsets[s + 1]]
        assert (np.diff(mine_km) >= 0).all(), s
        assert np.unique(mine).size == mine.size, s
        assert mine.tolist() == np.argsort(brute[s])[:mine.size].tolist(), s
        assert mine_km == pytest.approx(brute[s, mine], abs=1e-6)


def test_neighbours_of_no_site_wanting_any():
    s_lat, s_lon = _scatter(3, seed=16)
    h_lat, h_lon = _scatter(10, seed=17)
    offsets, home, km = neighbours(unit_vectors(s_lat, s_lon), unit_vectors(h_lat, h_lon), np.zeros(3, np.int64))
    assert offsets.tolist() == [0, 0, 0, 0] and home.size == 0 and km.size == 0
