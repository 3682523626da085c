"""Each exported table as lazy frames, one per published partition, so no table is ever held whole.

A frame is built only when the writer asks for it (the pieces are a generator): its published
version is resolved then, and only one partition's rows are in flight at a time. Every frame
gains the partition it came from as ordinary columns (`scenario` and `day`, or `country`), so the
files read the same in any tool, with or without support for partitioned directories.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from engine_assets.export.as_of import bank_view_as_of, cases_as_of, events_as_of, transactions_as_of
from engine_assets.export.request import ExportRequest
from engine_assets.quality.contracts import load_contract
from engine_assets.storage.datasets import published_partitions

if TYPE_CHECKING:
    from engine_assets.storage.reader import Reader

# The simulation's ground truth in the training table; --no-truth drops them.
TRUTH_COLUMNS = ("is_fraud", "fraud_type", "truth_at")
# Day tables whose rows change with --as-of (the training table is joined with its bank view).
DAY_AS_OF: dict[str, Callable[[pl.LazyFrame, dt.datetime], pl.LazyFrame]] = {
    "seg_6b/bank_view": bank_view_as_of,
    "seg_6b/events": events_as_of,
}


@dataclass(frozen=True)
class Piece:
    """One file of the export: `<table>/<stem>.<format>`."""

    table: str
    stem: str
    frame: pl.LazyFrame


def table_name(dataset: str) -> str:
    return dataset.split("/", 1)[1]


def day_frame(request: ExportRequest, reader: "Reader", dataset: str, day: dt.date) -> pl.LazyFrame:
    key = {"scenario": request.scenario, "day": day.isoformat()}
    frame = reader.scan(dataset, key)
    if request.as_of is not None and dataset == "seg_6b/transactions":
        frame = transactions_as_of(frame, reader.scan("seg_6b/bank_view", key), request.as_of)
    elif request.as_of is not None and dataset in DAY_AS_OF:
        frame = DAY_AS_OF[dataset](frame, request.as_of)
    if dataset == "seg_6b/transactions" and not request.truth:
        frame = frame.drop(TRUTH_COLUMNS)
    return frame.with_columns(scenario=pl.lit(request.scenario), day=pl.lit(day))


def cases_frame(request: ExportRequest, reader: "Reader", days: list[dt.date]) -> pl.LazyFrame:
    """The scenario's cases opened by a flow of the exported days (cases are published for the whole world)."""
    flows = pl.concat([reader.scan("seg_6b/transactions", {"scenario": request.scenario, "day": d.isoformat()})
                       .select("flow_id") for d in days])
    cases = reader.scan("seg_6b/cases").filter(pl.col("scenario_id") == request.scenario)
    cases = cases.join(flows, left_on="first_flow_id", right_on="flow_id", how="semi", maintain_order="left")
    return cases if request.as_of is None else cases_as_of(cases, request.as_of)


def country_pieces(request: ExportRequest, reader: "Reader", dataset: str) -> Iterator[Piece]:
    """One piece per published country of a 6A table (entities do not depend on days or as-of)."""
    for partition in published_partitions(request.identity, load_contract(dataset)):
        country = partition.name.split("=", 1)[1]
        frame = reader.scan(dataset, country).with_columns(country=pl.lit(country))
        yield Piece(table_name(dataset), country, frame)


def pieces(request: ExportRequest, reader: "Reader", days: list[dt.date]) -> Iterator[Piece]:
    """Every file of the export, table after table, in `request.datasets` order."""
    for dataset in request.datasets:
        if dataset == "seg_6b/cases":
            yield Piece("cases", "cases", cases_frame(request, reader, days))
        elif dataset.startswith("seg_6a/"):
            yield from country_pieces(request, reader, dataset)
        else:
            for day in days:
                yield Piece(table_name(dataset), day.isoformat(), day_frame(request, reader, dataset, day))
