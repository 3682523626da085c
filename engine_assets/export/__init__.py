"""`fraud-engine export`: a built world's training table, and what users ask of it, as Parquet or CSV.

request.py   the arguments, checked against the profile before anything is read or written
world.py     the world behind its validation gates, and the published partitions to export
as_of.py     what the bank knew at a moment: later label events and lifecycle events hidden
tables.py    each exported table as lazy frames, one per published partition
write.py     streaming every frame to a hidden sibling directory, renamed into place when complete
views.py     a DuckDB file with a view over every published dataset and every exported table
run.py       the export from request to summary
"""

from engine_assets.export.errors import ExportError
from engine_assets.export.request import ExportRequest, resolve_request
from engine_assets.export.run import run_export

__all__ = ["ExportError", "ExportRequest", "resolve_request", "run_export"]
