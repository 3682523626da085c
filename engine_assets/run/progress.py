"""Progress of long steps: partitions and rows done, rate and ETA, to the Dagster event log and to listeners.

A step that loops over days or countries calls `advance` after each one. The event log gets a line
at most every `every_s` seconds (and at the end), so a 90-day run logs a few dozen lines rather than
one per day; listeners (`make demo`'s live line) hear every advance, in the process that runs the step.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# (what, done, total, unit, rows, seconds): called in-process after each advance.
Listener = Callable[[str, int, int, str, int, float], None]
LISTENERS: list[Listener] = []


def progress_line(what: str, done: int, total: int, unit: str, rows: int, seconds: float) -> str:
    """`6B days baseline: 5/14 days, 1,234,567 rows, 210,000 rows/s, ETA 12 s`."""
    rate = rows / seconds if seconds > 0 else 0.0
    eta = seconds / done * (total - done) if done else float("nan")
    left = f"ETA {eta:,.0f} s" if done < total else f"done in {seconds:,.1f} s"
    return f"{what}: {done}/{total} {unit}, {rows:,} rows, {rate:,.0f} rows/s, {left}"


@dataclass
class Progress:
    log: object | None  # a Dagster context.log (or any object with .info), or None for listeners only
    what: str
    total: int
    unit: str
    every_s: float = 10.0
    done: int = 0
    rows: int = 0
    _started: float = field(init=False)
    _logged: float = field(init=False)

    def __post_init__(self) -> None:
        self._started = self._logged = time.monotonic()

    def advance(self, units: int = 1, rows: int = 0) -> None:
        self.done += units
        self.rows += rows
        now = time.monotonic()
        seconds = now - self._started
        for listener in LISTENERS:
            listener(self.what, self.done, self.total, self.unit, self.rows, seconds)
        if self.log is not None and (now - self._logged >= self.every_s or self.done >= self.total):
            self._logged = now
            self.log.info(progress_line(self.what, self.done, self.total, self.unit, self.rows, seconds))
