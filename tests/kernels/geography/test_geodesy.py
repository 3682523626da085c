"""The engine's sphere, distances and grid cell ids against values any atlas or formula gives."""

import numpy as np
import pytest

from engine_kernels.geography.geodesy import (
    EARTH_RADIUS_KM,
    cell_area_km2,
    cell_centres,
    cell_of,
    cell_rows_cols,
    chord_km,
    flat_cell,
    grid_shape,
    haversine_km,
    pairwise_haversine_km,
    unit_vectors,
)


def test_haversine_known_distances():
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(EARTH_RADIUS_KM * np.pi / 180, rel=1e-12)
    assert haversine_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(EARTH_RADIUS_KM * np.pi / 2, rel=1e-12)
    # asin is ill-conditioned near 1: antipodes lose digits, still within a metre.
    assert haversine_km(10.0, 20.0, -10.0, -160.0) == pytest.approx(EARTH_RADIUS_KM * np.pi, abs=1e-3)
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=0.5)  # London - Paris


def test_pairwise_distances_agree_with_elementwise_and_are_symmetric():
    lat, lon = np.array([51.5, 48.9, -33.9, 35.7]), np.array([-0.1, 2.4, 151.2, 139.7])
    d = pairwise_haversine_km(lat, lon)
    assert np.allclose(d, haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]), rtol=1e-12, atol=1e-9)
    assert np.array_equal(d, d.T) and (np.diag(d) == 0).all()


def test_chord_between_unit_vectors_gives_the_great_circle_distance():
    lat, lon = np.array([0.0, 51.5, -33.9]), np.array([0.0, -0.1, 151.2])
    p = unit_vectors(lat, lon)
    assert p.flags.c_contiguous and np.allclose(np.linalg.norm(p, axis=1), 1.0)
    chords = np.linalg.norm(p[:, None, :] - p[None, :, :], axis=2)
    assert np.allclose(chord_km(chords), pairwise_haversine_km(lat, lon), rtol=1e-9, atol=1e-6)


def test_flat_cell_ids_are_row_major_and_invert():
    rows, cols = np.array([0, 5, 1079, 2159]), np.array([0, 4319, 2160, 17])
    flat = flat_cell(rows, cols)
    assert flat.dtype == np.int64 and flat.tolist() == np.ravel_multi_index((rows, cols), grid_shape()).tolist()
    assert all(np.array_equal(a, b) for a, b in zip(cell_rows_cols(flat), (rows, cols)))
    assert flat_cell(np.array([2]), np.array([3]), res=10.0).tolist() == [2 * 36 + 3]


def test_cell_of_inverts_cell_centres():
    rows, cols = np.array([0, 5, 1079, 2159]), np.array([0, 4319, 2160, 17])
    assert all(np.array_equal(a, b) for a, b in zip(cell_of(*cell_centres(rows, cols)), (rows, cols)))
    assert cell_of(np.array([90.0, -90.0]), np.array([180.0, -180.0]))[1].tolist() == [0, 0]


def test_cell_areas_cover_the_sphere():
    n_rows, n_cols = grid_shape()
    total = cell_area_km2(np.arange(n_rows)).sum() * n_cols
    assert total == pytest.approx(4 * np.pi * EARTH_RADIUS_KM**2, rel=1e-12)


def test_a_resolution_that_does_not_divide_the_globe_is_refused():
    with pytest.raises(ValueError, match="does not divide 180 degrees"):
        grid_shape(7.0)
