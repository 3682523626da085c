"""The world an export reads: behind its segments' validation gates, like every tool outside the asset graph."""

import datetime as dt
from typing import TYPE_CHECKING

from engine_assets.export.errors import ExportError
from engine_assets.export.request import INCLUDES, ExportRequest
from engine_assets.run.errors import GateError

if TYPE_CHECKING:
    from engine_assets.storage.reader import Reader

# Every dataset an export may read; the bank view is read for --as-of even without --include labels.
READABLE = ("seg_6b/transactions", *(d for datasets in INCLUDES.values() for d in datasets))


def describe_world(request: ExportRequest) -> str:
    identity = request.identity
    return f"the {identity.profile.name} world of seed {identity.seed} at {identity.run_root}"


def open_world(request: ExportRequest) -> "Reader":
    """A reader of the world whose gates for every requested dataset are open; else ExportError."""
    identity = request.identity
    if not identity.run_root.is_dir():
        name, seed = identity.profile.name, identity.seed
        raise ExportError(
            f"no {name} world of seed {seed} under {identity.data_root} (looked for {identity.run_root}); build it "
            f"with `ENGINE_PROFILE={name} python -m engine_assets.demo --seed {seed}` (`make demo` for the demo "
            "profile), or pass the --profile, --seed and --data-root of a built world")
    # Imported here: the reader loads Dagster, which arguments rejected above never need to wait for.
    from engine_assets.storage.reader import reader_for

    reader = reader_for(identity, *READABLE)
    try:
        reader.require(*request.datasets)
    except GateError as exc:
        raise ExportError(f"{describe_world(request)} cannot be exported: {exc}") from None
    return reader


def published_days(request: ExportRequest, reader: "Reader") -> tuple[list[dt.date], list[dt.date]]:
    """(days of the range whose training table is published, days that are not)."""
    published, missing = [], []
    for day in request.days:
        key = {"scenario": request.scenario, "day": day.isoformat()}
        (published if reader.is_published("seg_6b/transactions", key) else missing).append(day)
    if not published:
        raise ExportError(
            f"{describe_world(request)} has no published seg_6b/transactions for scenario {request.scenario} "
            f"from {request.days[0]} to {request.days[-1]}; build those days (behaviour_daily_job) or pass "
            "other --from/--to")
    return published, missing
