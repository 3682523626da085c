"""What `make demo` shows while it works: a live line per stage (rich), and a table of stages at the end.

The live line hears the engine's own progress (engine_assets/run/progress.py): the long steps of a
stage report each day or country they finish, in this process, since the demo runs its jobs
in-process. Without a terminal (CI, a pipe) rich draws nothing live and each stage prints one line.
"""

import resource
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine_assets.run.progress import LISTENERS, progress_line


@dataclass(frozen=True)
class StageTiming:
    stage: str
    seconds: float
    rows: int
    peak_rss_mb: float  # the process's peak so far: stages run one after the other in it


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class StageProgress:
    """One rich task per stage: its runs done out of its runs, and the latest line of the step that runs."""

    def __init__(self):
        self.console = Console()
        self.bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("runs  {task.fields[detail]}"), TimeElapsedColumn(),
                            console=self.console, transient=True)
        self.task = None

    def __enter__(self) -> "StageProgress":
        self.bar.start()
        LISTENERS.append(self._heard)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._heard in LISTENERS:
            LISTENERS.remove(self._heard)
        self.bar.stop()

    def _heard(self, what: str, done: int, total: int, unit: str, rows: int, seconds: float) -> None:
        if self.task is not None:
            self.bar.update(self.task, detail=progress_line(what, done, total, unit, rows, seconds))

    def start(self, stage: str, runs: int) -> None:
        self.task = self.bar.add_task(stage, total=runs, detail="")

    def run_done(self) -> None:
        self.bar.advance(self.task)

    def finish(self, line: str) -> None:
        self.bar.remove_task(self.task)
        self.task = None
        self.bar.console.print(f"  {line}", highlight=False)


def print_stage_table(timings: list[StageTiming]) -> None:
    table = Table(title="Stages", title_justify="left")
    for column in ("stage", "wall s", "rows", "rows/s", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for t in timings:
        rate = f"{t.rows / t.seconds:,.0f}" if t.rows and t.seconds > 0 else "-"
        table.add_row(t.stage, f"{t.seconds:,.1f}", f"{t.rows:,}" if t.rows else "-", rate, f"{t.peak_rss_mb:,.0f}")
    Console().print(table)
