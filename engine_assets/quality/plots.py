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

__all__ = ["Panel", "bar_chart", "histogram_chart", "line_chart", "raster_png", "timeline_chart", "volume_chart"]

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


# Charts of the realism report (engine_assets/reporting/report): one palette, one size, labelled axes.
PALETTE = ("#1f3b73", "#c0392b", "#27ae60", "#e67e22", "#8e44ad", "#16a085", "#7f8c8d", "#d4ac0d", "#2c3e50",
           "#e84393")


def _finish(figure: "Figure", ax, title: str, xlabel: str, ylabel: str, legend: str = "inside") -> bytes:
    """Title, labels and grid; the legend inside the axes, to their right, or below them (where the data
    fills the axes)."""
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(color="#e5e5e5", lw=0.5)
    ax.set_axisbelow(True)
    if ax.get_legend_handles_labels()[0]:
        place = {"inside": {}, "right": {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)},
                 "below": {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncol": 3}}[legend]
        ax.legend(fontsize=7, frameon=False, **place)
    figure.tight_layout()
    return _png(figure)


def bar_chart(labels: list[str], values: list[float], title: str, xlabel: str, *,
              marks: dict[str, float] | None = None) -> bytes:
    """Horizontal bars, first label on top; `marks` draws named vertical reference lines (a corridor's ends)."""
    figure = _figure(figsize=(7, 0.28 * len(labels) + 1.2))
    ax = figure.subplots()
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=PALETTE[0], height=0.7)
    ax.set_yticks(y, labels)
    for i, (name, x) in enumerate((marks or {}).items()):
        ax.axvline(x, color=PALETTE[1 + i], lw=1, ls="--", label=name)
    return _finish(figure, ax, title, xlabel, "", legend="below")


def histogram_chart(series: dict[str, np.ndarray], bins: np.ndarray, title: str, xlabel: str, *,
                    logx: bool = False) -> bytes:
    """Overlaid step histograms on shared `bins`, each series as its share per bin (so series of different
    sizes compare, and log-spaced bins read as they look); empty series are left out."""
    figure = _figure(figsize=(7, 3.2))
    ax = figure.subplots()
    for i, (name, values) in enumerate(series.items()):
        if len(values):
            ax.hist(values, bins=bins, histtype="step", lw=1.3, color=PALETTE[i % len(PALETTE)], label=name,
                    weights=np.full(len(values), 1 / len(values)))
    if logx:
        ax.set_xscale("log")
    return _finish(figure, ax, title, xlabel, "share per bin")


def line_chart(x: list, series: dict[str, np.ndarray], title: str, ylabel: str, *, stacked: bool = False,
               shaded: dict[str, list] | None = None) -> bytes:
    """Lines (or stacked areas) over `x` (dates or numbers); `shaded` names spans of x to shade, e.g. holidays."""
    figure = _figure(figsize=(9, 3.2))
    ax = figure.subplots()
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    if stacked and series:
        ax.stackplot(x, *series.values(), labels=list(series), colors=colours, alpha=0.85)
    else:
        for colour, (name, values) in zip(colours, series.items()):
            ax.plot(x, values, color=colour, lw=1.2, marker="o", ms=2.5, label=name)
    for i, (name, spans) in enumerate((shaded or {}).items()):
        for j, (start, end) in enumerate(spans):
            ax.axvspan(start, end, color=("#f4b6b6", "#b9e3b9", "#d6d6f5")[i % 3], lw=0, alpha=0.6,
                       label=name if j == 0 else None)
    ax.set_ylim(bottom=0)
    if x and isinstance(x[0], dt.date):
        from matplotlib.dates import DateFormatter

        ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
    figure.autofmt_xdate()
    return _finish(figure, ax, title, "", ylabel, legend="right")


def timeline_chart(spans: list[tuple[str, float, float]], title: str, xlabel: str, *, until: float | None = None,
                   rows_per_lane: int = 12) -> bytes:
    """One lane per kind; each (kind, start, end) span is a thin bar on one of the lane's rows, taken in
    turn in order of start, so thousands of windows stay readable. `until` marks the horizon's end."""
    kinds = sorted({kind for kind, *_ in spans})
    figure = _figure(figsize=(9, 0.55 * len(kinds) + 1.4))
    ax = figure.subplots()
    lane = {kind: len(kinds) - 1 - i for i, kind in enumerate(kinds)}
    taken = dict.fromkeys(kinds, 0)
    step = 0.8 / rows_per_lane
    for kind, start, end in sorted(spans, key=lambda s: (s[0], s[1], s[2])):
        row = taken[kind] % rows_per_lane
        taken[kind] += 1
        ax.barh(lane[kind] - 0.4 + (row + 0.5) * step, max(end - start, 0.05), left=start, height=step * 0.8,
                lw=0, alpha=0.55, color=PALETTE[kinds.index(kind) % len(PALETTE)])
    if until is not None:
        ax.axvline(until, color="#333333", lw=0.8, ls="--", label="horizon end")
    ax.set_yticks([lane[k] for k in kinds], [f"{k} ({taken[k]})" for k in kinds])
    ax.set_xlim(left=0)
    return _finish(figure, ax, title, xlabel, "", legend="right")
