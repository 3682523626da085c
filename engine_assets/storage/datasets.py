"""Datasets on disk: where a partition lives, how it is published with its contract, how it is read.

Dagster-free, so kernels' benchmarks and tests publish and read exactly as assets do.
"""

import json
import re
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping

import polars as pl

from engine_assets.quality.contract_checks import conform_to_contract
from engine_assets.quality.contracts import Contract, ContractViolation, Violation, validate_document
from engine_assets.run.errors import NotPublishedError
from engine_assets.run.identity import RunIdentity
from engine_assets.storage.objects import DataPath, scan_parquet
from engine_assets.storage.publish import (
    PartInfo,
    Publication,
    Published,
    pointed,
    publish_files,
    publish_table,
    published_files,
    published_files_of,
    published_manifest,
    scan_published,
)
from engine_kernels.reference.countries import iso_alpha2_codes

PartitionKey = str | Mapping[str, str] | None
# Returned by an asset whose published version is already current (a cached reference build).
REUSE = object()
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")


def partition_path(identity: RunIdentity, contract: Contract, key: PartitionKey) -> Path:
    """`<run_root>/<segment>/<dataset>[/<dim>=<value>...]`, dimensions in contract order."""
    base = identity.dataset_dir(contract.dataset, contract.scope)
    dims = list(contract.partition_keys)
    if not dims:
        if key is not None:
            raise ValueError(f"{contract.dataset} is not partitioned but got partition key {key!r}")
        return base
    if key is None:
        raise ValueError(f"{contract.dataset} is partitioned by {', '.join(dims)}; a partition key is required")
    values = {dims[0]: key} if isinstance(key, str) else dict(key)
    if set(values) != set(dims):
        raise ValueError(f"{contract.dataset}: partition key {key!r} does not name the dimensions {dims}")
    for dim in dims:
        if not _SAFE_VALUE.match(values[dim]):
            raise ValueError(f"{contract.dataset}: partition value {values[dim]!r} for {dim} is not a safe path token")
    return base.joinpath(*(f"{dim}={values[dim]}" for dim in dims))


def describe(contract: Contract, key: PartitionKey) -> str:
    return contract.dataset if key is None else f"{contract.dataset} partition {key}"


def publish_dataset(identity: RunIdentity, contract: Contract, key: PartitionKey, payload: Any) -> Published:
    """Publish one partition of a dataset: a table stream or, for documents, a JSON-able dict."""
    target = partition_path(identity, contract, key)
    what = describe(contract, key)
    if isinstance(payload, Published):  # published by the asset itself (PublishQueue)
        if payload.path != target:
            raise ValueError(f"{what}: the asset returned the publication of {payload.path}, not of {target}")
        return payload
    if payload is REUSE:
        version, manifest = published_manifest(target, what)  # one read of the pointer and the manifest
        files = tuple(PartInfo(**f) for f in manifest["files"])
        return Published(target, manifest["rows"], manifest["bytes"], files, manifest, version)
    rng_draws: Mapping[str, int] = {}
    if isinstance(payload, Publication):
        payload, rng_draws = payload.data, payload.rng_draws
    manifest = {
        "dataset": contract.dataset,
        "partition": key,
        "contract_version": contract.version,
        "identity": identity.tokens(),
        "rng_draws": dict(sorted(rng_draws.items())),
    }
    if contract.kind == "artefact":
        if set(payload) != set(contract.files):
            raise ContractViolation([Violation(contract.dataset, "files", "artefact_files", 1,
                f"{contract.dataset}: artefact files {sorted(payload)} differ from the contract's {sorted(contract.files)}")])
        return publish_files(target, payload, manifest, what)
    if contract.kind == "document":
        validate_document(contract, payload)
        body = json.dumps(payload, indent=1, sort_keys=True).encode() + b"\n"
        return publish_files(target, {f"{contract.dataset.split('/')[1]}.json": body}, manifest, what)
    return publish_table(target, payload, contract.arrow_schema(), manifest, what,
                         conform=lambda t: conform_to_contract(contract, t), options=contract.parquet_options())


def load_dataset(identity: RunIdentity, contract: Contract, key: PartitionKey) -> pl.LazyFrame | dict:
    """A published partition: a LazyFrame over its parts, or the document for document datasets."""
    target = partition_path(identity, contract, key)
    what = describe(contract, key)
    if contract.kind == "artefact":
        return published_files(target, what)
    if contract.kind == "document":
        [document] = published_files(target, what).values()  # resolved once, with its manifest
        return json.loads(document.read_text())
    return scan_published(target, what)


def is_published(identity: RunIdentity, contract: Contract, key: PartitionKey) -> bool:
    try:
        published_files(partition_path(identity, contract, key), describe(contract, key))
    except NotPublishedError:
        return False
    return True


def partition_values(identity: RunIdentity, dimension: str) -> list[str]:
    """Every value a partition dimension takes in the world's profile, in order: what may be published."""
    profile = identity.profile
    if dimension == "country":
        return list(profile.countries) if profile.countries is not None else sorted(iso_alpha2_codes())
    if dimension == "scenario":
        return list(profile.scenarios)
    if dimension == "day":
        return [day.isoformat() for day in profile.horizon.days]
    raise ValueError(f"unknown partition dimension {dimension!r}")


def _profile_partitions(identity: RunIdentity, contract: Contract) -> list[DataPath]:
    """Every partition of a dataset the world's profile may hold, in key order."""
    keys: list[dict[str, str]] = [{}]
    for dimension in contract.partition_keys:
        keys = [{**k, dimension: v} for k in keys for v in partition_values(identity, dimension)]
    return [partition_path(identity, contract, k or None) for k in keys]


def published_partitions(identity: RunIdentity, contract: Contract) -> list[DataPath]:
    """Every published partition of a dataset, in key order. The profile says which partitions may
    exist; each is asked for its pointer, never found by listing directories (on object storage a
    listing is slow and may lag)."""
    paths = _profile_partitions(identity, contract)
    return [p for p, published in zip(paths, pointed(paths)) if published]


def resolved_partitions(identity: RunIdentity, contract: Contract) -> list[tuple[DataPath, dict[str, DataPath]]]:
    """Every published partition of a dataset with the files of its current version, in key order: each
    partition's pointer and manifest read once (concurrently on object storage), nothing listed."""
    paths = _profile_partitions(identity, contract)
    files = published_files_of(paths, contract.dataset, missing_ok=True)
    return [(p, f) for p, f in zip(paths, files) if f is not None]


def scan_dataset(identity: RunIdentity, contract: Contract) -> pl.LazyFrame:
    """All published partitions of a table dataset as one LazyFrame (foreign-key checks, reports)."""
    parts = resolved_partitions(identity, contract)
    if not parts:
        return pl.LazyFrame(schema=contract.polars_schema())
    return pl.concat([scan_parquet(list(files.values())) for _, files in parts], how="vertical")


def scan_partitions(identity: RunIdentity, contract: Contract, columns: list[str] | None = None,
                    tagged: bool = True) -> tuple[pl.DataFrame, list[str]]:
    """Every published partition of a single-dimension table dataset (only `columns`, if given),
    with the partition's value in a `partition` column unless `tagged` is false; and the values
    published."""
    parts = resolved_partitions(identity, contract)
    values = [p.name.split("=", 1)[1] for p, _ in parts]
    schema = contract.polars_schema()
    wanted = list(schema) if columns is None else list(columns)
    # Each partition resolved once, to one version; then one scan over all their files.
    paths = {f: value for (_, files), value in zip(parts, values) for f in files.values()}
    if not paths:
        empty = {c: schema[c] for c in wanted} | ({"partition": pl.String} if tagged else {})
        return pl.DataFrame(schema=empty), values
    if not tagged:
        return scan_parquet(list(paths)).select(wanted).collect(), values
    files = {str(f): value for f, value in paths.items()}
    frame = scan_parquet(list(paths), include_file_paths="__file").select(
        *wanted, partition=pl.col("__file").replace_strict(files, return_dtype=pl.String))
    return frame.collect(), values


class PublishQueue:
    """Publishes partitions on `writers` background threads while the caller computes the next ones.

    Parquet encoding and compression release the GIL, so a day's tables are written while the
    kernels generate the next day. At most `pending` publications wait or run: `put` blocks
    beyond that, which bounds memory to about two days' tables whatever the run's length. Each
    publication is atomic on its own; the error of a finished one is raised by the next `put`
    (of a running one, by the `put` that waits for it) or by `wait`, and leaving the block waits
    for every started publication and raises its error unless an exception is already leaving.
    Publications are independent (one partition each), so two writers give the same bytes as one:
    many small partitions (a country's entity tables) spend most of their time in per-file work.
    """

    def __init__(self, identity: RunIdentity, pending: int = 2, writers: int = 1):
        self.identity, self.pending = identity, pending
        self._pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="publish")
        self._queue: deque[Future] = deque()
        self._done: list[Published] = []

    def put(self, contract: Contract, key: PartitionKey, payload: Any) -> Future:
        while self._queue and (len(self._queue) >= self.pending or self._queue[0].done()):
            self._done.append(self._queue.popleft().result())  # raises a finished publication's error now
        future = self._pool.submit(publish_dataset, self.identity, contract, key, payload)
        self._queue.append(future)
        return future

    def wait(self) -> list[Published]:
        """Every publication so far, in the order put, once all have finished; else the first error,
        raised once every publication has finished."""
        error = None
        while self._queue:
            try:
                self._done.append(self._queue.popleft().result())
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the others finished
                error = error or exc
        if error is not None:
            raise error
        return list(self._done)

    def __enter__(self) -> "PublishQueue":
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        try:
            if exc_type is None:
                self.wait()  # a publication's error is never lost, even without a wait() of the caller's
        finally:
            self._pool.shutdown(wait=True)  # never leave a writer running behind a failed asset
