"""Pictures (engine_assets/quality/plots.py): the same input gives the same PNG bytes, of the expected size."""

import datetime as dt
import io

import matplotlib.image
import numpy as np
import pytest

from engine_assets.quality.plots import (Panel, bar_chart, histogram_chart, line_chart, raster_png, timeline_chart,
                                         volume_chart)


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


def _charts():
    rng = np.random.default_rng(11)
    days = [dt.date(2026, 3, 25) + dt.timedelta(days=d) for d in range(14)]
    return {
        "bar": lambda: bar_chart(["a", "b", "c"], [3.0, 2.0, 1.0], "bars", "x", marks={"limit": 2.5}),
        "histogram": lambda: histogram_chart({"one": rng.lognormal(size=500), "none": np.empty(0)},
                                             np.logspace(-2, 2, 30), "hist", "x", logx=True),
        "line": lambda: line_chart(days, {"a": np.arange(14.0), "b": np.ones(14)}, "lines", "y",
                                   shaded={"holiday": [(days[2], days[3])]}),
        "stacked": lambda: line_chart(days, {"a": np.arange(14.0), "b": np.ones(14)}, "stack", "y", stacked=True),
        "timeline": lambda: timeline_chart([("stolen_cards", 0.5, 3.0), ("app_scam", 2.0, 2.01),
                                            ("stolen_cards", 1.0, 9.0)], "windows", "days"),
    }


@pytest.mark.parametrize("kind", ["bar", "histogram", "line", "stacked", "timeline"])
def test_report_charts_are_pngs_with_the_same_bytes_every_time(kind):
    # A fresh generator per drawing: the same data must give the same bytes.
    first, second = _charts()[kind](), _charts()[kind]()
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and first == second
    pixels = _decode(first)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 500
    assert (pixels[..., :3] < 0.5).any()  # something is drawn in ink, not a blank canvas


def test_a_timeline_has_one_lane_per_kind_whatever_the_number_of_campaigns():
    few = _decode(timeline_chart([("a", 0, 1), ("b", 1, 2)], "t", "x"))
    many = _decode(timeline_chart([("a", i, i + 1) for i in range(50)] + [("b", 1, 2)], "t", "x"))
    assert few.shape == many.shape
