"""Every picture of the engine, drawn with matplotlib into PNG bytes that are the same on every run.

A picture only draws: the rasters it shows (population density, sites burnt in) are computed by
engine_kernels/geography/maps.py, the series by the validations. Figures use matplotlib's object
API on the Agg canvas (no pyplot state, no display), a fixed size and dpi, and no "Software"
entry in the PNG metadata, so the bytes depend on the data and the pinned matplotlib only.
"""

import datetime as dt
import io
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Panel", "raster_png", "volume_chart"]

# One dpi for every picture: a raster is drawn one pixel per cell at it, a chart sized in inches.
DPI = 90


def _figure(**size) -> "Figure":
    # Imported when a picture is drawn: matplotlib costs every Dagster process ~0.4 s to import.
    from matplotlib.figure import Figure

    return Figure(**size)


def _png(figure: "Figure") -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def raster_png(image: np.ndarray) -> bytes:
    """PNG of an 8-bit image, (H, W) grey or (H, W, 3) RGB, drawn pixel for pixel (no axes, no resampling)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"raster_png: need uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    if image.ndim == 2:
        # As RGB: a colormap would quantise the greys.
        image = np.repeat(image[:, :, None], 3, axis=2)
    height, width = image.shape[:2]
    figure = _figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    figure.figimage(image)
    return _png(figure)


@dataclass(frozen=True)
class Panel:
    """One country of a volume chart."""

    country: str
    tzid: str  # the clock the x axis is read in
    local_hours: np.ndarray  # hours since the window's first local midnight, one per value
    volume: np.ndarray  # expected arrivals in each UTC hour
    holidays: list[dt.date]
    paydays: list[dt.date]


def volume_chart(panels: list[Panel], start: dt.date, days: int, title: str) -> bytes:
    """PNG of hourly volume, one panel per country, local days shaded where they are holidays or paydays."""
    figure = _figure(figsize=(11, 2.1 * len(panels) + 0.6))
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        labelled = set()
        for d in range(days):
            day = start + dt.timedelta(days=d)
            kind = "holiday" if day in panel.holidays else "payday" if day in panel.paydays else None
            if kind is not None:
                ax.axvspan(24 * d, 24 * (d + 1), color="#f4b6b6" if kind == "holiday" else "#b9e3b9", lw=0,
                           label=None if kind in labelled else kind)
                labelled.add(kind)
        ax.plot(panel.local_hours, panel.volume, color="#1f3b73", lw=0.9)
        ax.set_ylabel("arrivals / h")
        ax.set_title(f"{panel.country} (local time of {panel.tzid})", fontsize=9, loc="left")
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", fontsize=8, frameon=False)
    ticks = list(range(0, 24 * days + 1, 24))
    axes[-1, 0].set_xticks(ticks, [(start + dt.timedelta(days=t // 24)).strftime("%a\n%d %b") for t in ticks],
                           fontsize=7)
    axes[-1, 0].set_xlim(0, 24 * days)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _png(figure)
