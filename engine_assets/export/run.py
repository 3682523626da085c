"""An export from a checked request to files and a DuckDB database, and what it did."""

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from engine_assets.export.request import ExportRequest
from engine_assets.export.tables import pieces
from engine_assets.export.views import exported_views, world_views, write_database
from engine_assets.export.world import open_world, published_days
from engine_assets.export.write import Written, staging, write_manifest, write_pieces


@dataclass
class ExportSummary:
    days: list[dt.date]
    missing_days: list[dt.date]
    tables: dict[str, Written] = field(default_factory=dict)
    views: int = 0
    notes: list[str] = field(default_factory=list)


def manifest(request: ExportRequest, summary: ExportSummary) -> dict:
    return {
        "world": request.identity.tokens() | {"run_root": str(request.identity.run_root)},
        "scenario": request.scenario,
        "days": [d.isoformat() for d in summary.days],
        "days_not_published": [d.isoformat() for d in summary.missing_days],
        "as_of": request.as_of.isoformat() if request.as_of else None,
        "truth": request.truth,
        "format": request.fmt,
        "include": list(request.include),
        "tables": {t: {"rows": w.rows, "files": [p.name for p in w.files]} for t, w in summary.tables.items()},
    }


def note(summary: ExportSummary, text: str, progress: Callable[[str], None]) -> None:
    summary.notes.append(text)
    progress(f"note: {text}")


def run_export(request: ExportRequest, progress: Callable[[str], None] = lambda line: None) -> ExportSummary:
    """Export `request`; ExportError (nothing written) if the world cannot serve it.

    The files appear in `request.out` only once all are written; the DuckDB database only once all its
    views exist, and if it cannot be created the files just exported are removed too, so a failed
    export leaves nothing behind.
    """
    reader = open_world(request)
    days, missing = published_days(request, reader)
    summary = ExportSummary(days, missing)
    if missing:
        note(summary, f"days {', '.join(map(str, missing))} of scenario {request.scenario} are not published in this "
                      "world; exported the others", progress)

    def done(table: str, written: Written) -> None:
        progress(f"{table}: {written.rows:,} rows in {len(written.files)} file(s)")

    out = request.out
    if out is not None:
        with staging(out) as tmp:
            summary.tables = write_pieces(pieces(request, reader, days), tmp, out, request.fmt, done)
            write_manifest(tmp, manifest(request, summary))
    if request.duckdb is not None:
        try:
            statements = world_views(request.identity, lambda text: note(summary, text, progress))
            statements += exported_views(summary.tables, request.fmt)
            write_database(request.duckdb, statements)
        except BaseException:
            if out is not None:
                shutil.rmtree(out, ignore_errors=True)  # created by this export a moment ago
            raise
        summary.views = sum(s.startswith("CREATE VIEW") for s in statements)
    return summary

