"""Progress lines of long steps: counts, rate and ETA, logged at a cadence, heard by listeners at every advance."""

from engine_assets.run import progress as progress_module
from engine_assets.run.progress import LISTENERS, Progress, progress_line


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(line)


def test_a_progress_line_says_done_total_rows_rate_and_eta():
    assert progress_line("6B days baseline", 5, 14, "days", 1_000_000, 4.0) == (
        "6B days baseline: 5/14 days, 1,000,000 rows, 250,000 rows/s, ETA 7 s")
    assert progress_line("x", 14, 14, "days", 10, 2.0).endswith("done in 2.0 s")


def test_the_event_log_gets_a_line_per_cadence_and_the_last_one(monkeypatch):
    clock = iter([0.0, 0.0, 1.0, 2.0, 12.0, 14.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    log = _Log()
    heard = []
    LISTENERS.append(lambda *args: heard.append(args))
    try:
        step = Progress(log, "days", 5, "days", every_s=10.0)
        for _ in range(5):
            step.advance(1, 100)
    finally:
        LISTENERS.pop()
    assert [h[1] for h in heard] == [1, 2, 3, 4, 5]
    assert len(log.lines) == 2  # at 12 s (10 s after the start) and at the end
    assert log.lines[0].startswith("days: 4/5 days, 400 rows") and log.lines[1].startswith("days: 5/5 days, 500 rows")
    assert "done in 14.0 s" in log.lines[1]
