"""Rasters for pictures (engine_kernels/geography/maps.py): grey levels, burnt-in sites, a country's frame."""

import numpy as np
import pytest

from engine_kernels.geography.geodesy import cell_area_km2
from engine_kernels.geography.maps import SITE_RGB, WORLD, country_frame, grey_density, sites_raster


def test_grey_density_maps_log_density_onto_48_to_255():
    grey = grey_density(np.array([0.0, 0.01, 0.1, 10.0, 1e4, 1e6]))
    assert grey.dtype == np.uint8 and grey.tolist() == [0, 48, 48, 131, 255, 255]


def test_sites_are_burnt_in_where_they_lie_and_off_frame_ones_left_out():
    density = np.ones((18, 36))
    rgb = sites_raster(density, WORLD, np.array([89.0, 0.0, 95.0]), np.array([-179.0, 0.0, 0.0]), scale=2, dot=2)
    assert rgb.shape == (36, 72, 3)
    red = np.argwhere((rgb == SITE_RGB).all(axis=2))
    assert red.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [18, 36], [18, 37], [19, 36], [19, 37]]


def test_country_frame_frames_the_bulk_of_the_sites_with_a_margin():
    population = np.ones((2160, 4320), np.float32)
    lat, lon = np.linspace(40.0, 50.0, 101), np.linspace(0.0, 10.0, 101)
    frame = country_frame(population, lat, lon)
    # 1st-99th percentiles 40.1-49.9 N and 0.1-9.9 E, 2 degrees around, on whole 1/12-degree cells.
    assert frame.bounds == pytest.approx((90 - 622 / 12, -180 + 2137 / 12, 90 - 457 / 12, -180 + 2302 / 12))
    assert frame.density.shape == (165, 165) and frame.scale == 900 // 165
    assert frame.density[:, 0] == pytest.approx(1 / cell_area_km2(np.arange(457, 622)))
