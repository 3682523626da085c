"""5A's picture: expected hourly volume of a few countries over two weeks, holidays and paydays marked."""

import datetime as dt
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: render to bytes
import matplotlib.pyplot as plt  # noqa: E402


@dataclass(frozen=True)
class Panel:
    country: str
    tzid: str  # the clock the x axis is read in
    local_hours: object  # hours since the window's first local midnight, one per value
    volume: object  # expected arrivals in each UTC hour
    holidays: list[dt.date]
    paydays: list[dt.date]


def volume_chart(panels: list[Panel], start: dt.date, days: int, title: str) -> bytes:
    """PNG bytes: one panel per country, local days shaded where they are holidays or paydays."""
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.1 * len(panels) + 0.6), sharex=True, squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        for d in range(days):
            day = start + dt.timedelta(days=d)
            if day in panel.holidays:
                ax.axvspan(24 * d, 24 * (d + 1), color="#f4b6b6", lw=0, label="holiday" if day == min(
                    x for x in panel.holidays if start <= x < start + dt.timedelta(days=days)) else None)
            elif day in panel.paydays:
                ax.axvspan(24 * d, 24 * (d + 1), color="#b9e3b9", lw=0, label="payday" if day == min(
                    x for x in panel.paydays if start <= x < start + dt.timedelta(days=days)) else None)
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
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
