"""Figures of the population grid (engine_kernels/reference/population.py) on small grids."""

import numpy as np
import pytest

from engine_kernels.geography.geodesy import cell_area_km2
from engine_kernels.reference.population import country_totals, dense_share


def test_country_totals_in_code_order_without_the_no_country_cells():
    index = np.array([[0, 1, 1], [2, 0, 3]])
    population = np.array([[5.0, 1.0, 2.0], [4.0, 7.0, 0.5]])
    assert country_totals(population, index, 3).tolist() == [3.0, 4.0, 0.5]
    assert country_totals(population, index, 4).tolist() == [3.0, 4.0, 0.5, 0.0]


def test_dense_share_counts_people_in_cells_at_or_above_the_threshold():
    area = cell_area_km2(np.arange(2))[:, None]
    population = np.array([[1000.0, 10.0], [999.0, 0.0]]) * area  # persons per km² times the cell area
    assert dense_share(population, 1000) == pytest.approx(population[0, 0] / population.sum())
