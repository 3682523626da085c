"""Pictures (engine_assets/quality/plots.py): the same input gives the same PNG bytes, of the expected size."""

import datetime as dt
import io

import matplotlib.image
import numpy as np
import pytest

from engine_assets.quality.plots import Panel, raster_png, volume_chart


def _decode(png: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(png), format="png")


@pytest.mark.parametrize("shape", [(54, 108), (37, 91, 3)])
def test_raster_is_drawn_pixel_for_pixel_and_byte_stable(shape):
    image = np.random.default_rng(3).integers(0, 256, shape).astype(np.uint8)
    png = raster_png(image)
    assert png == raster_png(image) and png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = _decode(png)
    rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    assert pixels.shape[:2] == shape[:2]
    assert np.array_equal(np.round(pixels[..., :3] * 255).astype(np.uint8), rgb)


def test_raster_refuses_what_is_not_an_8_bit_image():
    with pytest.raises(ValueError, match="uint8"):
        raster_png(np.zeros((4, 4), np.float64))


def test_volume_chart_is_byte_stable_and_sized_by_its_panels():
    start = dt.date(2026, 3, 2)
    hours = np.arange(7 * 24) + 0.5
    panels = [Panel(c, "Europe/Berlin", hours, 10 + np.sin(hours / 24 * 2 * np.pi), [start + dt.timedelta(days=2)],
                    [start + dt.timedelta(days=4)]) for c in ("DE", "FR")]
    png = volume_chart(panels, start, 7, "two countries")
    assert png == volume_chart(panels, start, 7, "two countries")
    assert _decode(png).shape[:2] == (round((2.1 * 2 + 0.6) * 90), 11 * 90)
