"""Atomic publication of dataset partitions and artefacts.

A partition is written into a hidden sibling directory, fsynced, given a `_manifest.json`, and
then made visible by one atomic rename (see "Versions and the atomic switch" below), so a reader
sees either the previous version or the new one, never a mix and never half a partition. A writer
killed at any point leaves only a hidden `.tmp-*` directory, which the next publisher of that
partition removes.
"""

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engine_assets.run.errors import NotPublishedError, PublishError

MANIFEST = "_manifest.json"
ROW_GROUP_ROWS = 1_000_000
ROWS_PER_FILE = 8_000_000


@dataclass(frozen=True)
class PartInfo:
    name: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Published:
    """What a publication left on disk; its manifest is the reader's table of contents."""

    path: Path
    rows: int
    bytes: int
    files: tuple[PartInfo, ...]
    manifest: Mapping[str, Any]


@dataclass(frozen=True)
class Publication:
    """An asset's output plus the facts only the producer knows (RNG draws per substream label)."""

    data: Any
    rng_draws: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Streams: everything an asset may return becomes an iterator of Arrow record batches.


def iter_batches(data: Any) -> Iterator[pa.RecordBatch]:
    """Arrow table / record batch / reader, polars DataFrame / LazyFrame, or an iterable of those."""
    if isinstance(data, pa.RecordBatch):
        yield data
    elif isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=ROW_GROUP_ROWS)
    elif isinstance(data, pa.RecordBatchReader):
        yield from data
    elif isinstance(data, pl.DataFrame):
        yield from data.to_arrow().to_batches(max_chunksize=ROW_GROUP_ROWS)
    elif isinstance(data, pl.LazyFrame):
        # Streaming engine: a LazyFrame larger than memory is written chunk by chunk.
        for chunk in data.collect_batches(chunk_size=ROW_GROUP_ROWS):
            yield from chunk.to_arrow().to_batches()
    elif isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise TypeError(
            f"cannot publish a {type(data).__name__} as a table; return an Arrow table or record batches, "
            "a polars DataFrame or LazyFrame, or an iterator of those"
        )
    else:
        for item in data:
            yield from iter_batches(item)


# ---------------------------------------------------------------------------------------------
# Writing inside a temporary directory.


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _part_info(path: Path, rows: int) -> PartInfo:
    _fsync_path(path)
    return PartInfo(path.name, rows, path.stat().st_size, _sha256_file(path))


def write_parquet_parts(
    directory: Path,
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    conform: Callable[[pa.Table], pa.Table] = lambda t: t,
    row_group_rows: int = ROW_GROUP_ROWS,
    rows_per_file: int = ROWS_PER_FILE,
    options: Mapping[str, Any] | None = None,
) -> list[PartInfo]:
    """Write `part-NNNNN.parquet` files (zstd) of full row groups of `row_group_rows` rows;
    `options` are further ParquetWriter keywords (per-column encodings, see Contract.parquet_options).

    Batches are buffered until a row group is full, so files never fill with tiny row groups
    whatever the producer's batch size; memory stays bounded by about one row group.
    """
    parts: list[PartInfo] = []
    current: list = [None, None, 0]  # writer, path, rows in file
    pending: list[pa.Table] = []
    pending_rows = 0

    def close_current() -> None:
        writer, path, rows = current
        if writer is not None:
            writer.close()
            parts.append(_part_info(path, rows))
            current[:] = [None, None, 0]

    def write(table: pa.Table) -> None:
        offset = 0
        while offset < table.num_rows:
            if current[0] is None:
                path = directory / f"part-{len(parts):05d}.parquet"
                current[:] = [pq.ParquetWriter(path, schema, compression="zstd", **(options or {})), path, 0]
            take = min(table.num_rows - offset, rows_per_file - current[2])
            current[0].write_table(table.slice(offset, take), row_group_size=row_group_rows)
            current[2] += take
            offset += take
            if current[2] >= rows_per_file:
                close_current()

    try:
        for batch in batches:
            table = conform(pa.Table.from_batches([batch]))
            if table.num_rows == 0:
                continue
            pending.append(table)
            pending_rows += table.num_rows
            if pending_rows >= row_group_rows:
                buffered = pa.concat_tables(pending)
                full = (pending_rows // row_group_rows) * row_group_rows
                write(buffered.slice(0, full))
                pending, pending_rows = [buffered.slice(full)], pending_rows - full
        if pending_rows:
            write(pa.concat_tables(pending))
        if not parts and current[0] is None:  # an empty partition still gets a file, so readers see the schema
            path = directory / "part-00000.parquet"
            current[:] = [pq.ParquetWriter(path, schema, compression="zstd", **(options or {})), path, 0]
            current[0].write_table(schema.empty_table())
    except BaseException:
        if current[0] is not None:  # release the file now, not when the traceback is dropped
            current[0].close()
        raise
    close_current()
    return parts


# ---------------------------------------------------------------------------------------------
# Versions and the atomic switch.
#
# A partition path is a symlink to an immutable, hidden version directory next to it:
#     country=US -> .country=US.v-<id>
# Publishing writes a new version, then replaces the symlink with one rename(2), which is atomic
# on every POSIX file system. Readers resolve the link once and read that version only, so a
# reader racing a rerun gets either a complete version or a clean "not published", never a mix
# of two versions. Switch and clean-up run under a per-partition lock so concurrent writers
# never delete a version another writer is about to link.
#
# A writer holds an flock on `.writer.lock` inside its temporary directory for as long as it
# lives. The kernel drops the lock when the process dies, however it dies, so a clean-up that
# can take the lock knows the directory is abandoned: no guessing from host names or pids.

WRITER_LOCK = ".writer.lock"


class _PartitionLock:
    def __init__(self, target: Path):
        self.path = target.with_name(f".{target.name}.lock")

    def __enter__(self) -> "_PartitionLock":
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _hold_writer_lock(tmp: Path) -> int:
    fd = os.open(tmp / WRITER_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _abandoned(tmp: Path) -> bool:
    """True if no living writer holds this temporary directory's lock."""
    try:
        fd = os.open(tmp / WRITER_LOCK, os.O_RDWR)
    except FileNotFoundError:
        return True  # the writer died before taking its lock
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _switch(finished: Path, version: Path, target: Path, writer_fd: int) -> None:
    """Make the finished directory a version, point `target` at it, delete what nobody can reach.

    The rename to a version name happens under the partition lock: clean-up by a concurrent
    writer only ever sees versions that are linked or replaced, never one about to be linked.
    """
    with _PartitionLock(target):
        if target.exists() and not target.is_symlink():
            raise PublishError(
                f"{target} is a plain directory, not a published partition; move it away and publish again"
            )
        os.rename(finished, version)
        os.unlink(version / WRITER_LOCK)
        os.close(writer_fd)
        link = target.with_name(f".{target.name}.link-{uuid.uuid4().hex}")
        os.symlink(version.name, link)
        os.replace(link, target)
        _fsync_path(target.parent)
        prefixes = (f".{target.name}.v-", f".{target.name}.tmp-", f".{target.name}.link-")
        # scandir with a name test: a country-partitioned dataset has hundreds of siblings here.
        with os.scandir(target.parent) as siblings:
            stale = [target.parent / e.name for e in siblings if e.name.startswith(prefixes) and e.name != version.name]
        for entry in stale:
            if entry.name.startswith(prefixes[2]):
                entry.unlink(missing_ok=True)  # a link left by a writer killed before its rename
            elif entry.name.startswith(prefixes[0]) or _abandoned(entry):
                shutil.rmtree(entry, ignore_errors=True)


def publish_directory(
    target: Path,
    fill: Callable[[Path], list[PartInfo]],
    manifest: Mapping[str, Any],
    what: str,
) -> Published:
    """Run `fill(tmp_dir)`, add the manifest, and make the result the published version of `target`.

    `what` names the dataset and partition in error messages. Nothing is visible at `target`
    unless every step succeeded; a previous version stays intact on failure.
    """
    started = time.perf_counter()
    token = uuid.uuid4().hex
    tmp = target.with_name(f".{target.name}.tmp-{token}")
    if target.parent.is_symlink():
        raise PublishError(
            f"{what}: {target.parent} is itself a published partition (the dataset was published without "
            "partitions); remove it before publishing partitions"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Under the partition lock, so a concurrent clean-up never sees this directory before its
        # writer lock exists (it would take it for a writer that died before locking).
        with _PartitionLock(target):
            tmp.mkdir()
            writer_fd = _hold_writer_lock(tmp)
    except OSError as exc:
        raise PublishError(
            f"cannot write {what} under {target.parent}: {exc.strerror}; "
            "make the data root writable or set ENGINE_DATA_ROOT to a writable directory"
        ) from exc
    try:
        parts = fill(tmp)
        full = dict(manifest)
        full.update(
            rows=sum(p.rows for p in parts),
            bytes=sum(p.bytes for p in parts),
            files=[p.__dict__ for p in parts],
            publish_wall_s=round(time.perf_counter() - started, 3),
        )
        (tmp / MANIFEST).write_text(json.dumps(full, indent=1, sort_keys=True, default=str))
        _fsync_path(tmp / MANIFEST)
        _fsync_path(tmp)
        _switch(tmp, target.with_name(f".{target.name}.v-{token}"), target, writer_fd)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            os.close(writer_fd)
        except OSError:
            pass  # already closed by the switch
        if isinstance(exc, OSError) and not isinstance(exc, PublishError):
            hint = "; free disk space" if exc.errno == errno.ENOSPC else ""
            raise PublishError(f"writing {what} failed ({exc.strerror or exc}){hint}; nothing was published") from exc
        raise
    return Published(target, full["rows"], full["bytes"], tuple(parts), full)


def publish_table(
    target: Path,
    data: Any,
    schema: pa.Schema,
    manifest: Mapping[str, Any],
    what: str,
    conform: Callable[[pa.Table], pa.Table] = lambda t: t,
    row_group_rows: int = ROW_GROUP_ROWS,
    rows_per_file: int = ROWS_PER_FILE,
    options: Mapping[str, Any] | None = None,
) -> Published:
    """Publish a table stream as zstd parquet parts with the given (contract) schema and writer options."""

    def fill(tmp: Path) -> list[PartInfo]:
        return write_parquet_parts(tmp, iter_batches(data), schema, conform, row_group_rows, rows_per_file, options)

    return publish_directory(target, fill, manifest, what)


def publish_files(target: Path, files: Mapping[str, bytes], manifest: Mapping[str, Any], what: str) -> Published:
    """Publish non-tabular artefacts (JSON, GeoTIFF, arrays) with the same atomic mechanism."""

    def fill(tmp: Path) -> list[PartInfo]:
        parts = []
        for name in sorted(files):
            if name == MANIFEST or "/" in name or name.startswith("."):
                raise PublishError(f"{what}: artefact file name {name!r} is reserved or not a plain file name")
            (tmp / name).write_bytes(files[name])
            parts.append(_part_info(tmp / name, 0))
        return parts

    return publish_directory(target, fill, manifest, what)


# ---------------------------------------------------------------------------------------------
# Reading published partitions only.


def published_version(partition: Path, what: str) -> Path:
    """The version directory a published partition points at right now."""
    # Strict resolution: a lenient resolve returns the link itself when it cannot follow it, and
    # reading through a live link could mix the files of two versions.
    try:
        version = partition.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        version = None
    if version is None or not version.name.startswith(f".{partition.name}.v-") or not (version / MANIFEST).exists():
        raise NotPublishedError(f"{what} is not published (nothing published at {partition}); materialise it first")
    return version


def read_manifest(partition: Path, what: str) -> dict[str, Any]:
    return json.loads((published_version(partition, what) / MANIFEST).read_text())


def published_files(partition: Path, what: str) -> dict[str, Path]:
    """Paths of the files of one version, resolved once, so later reads cannot mix versions."""
    version = published_version(partition, what)
    manifest = json.loads((version / MANIFEST).read_text())
    return {f["name"]: version / f["name"] for f in manifest["files"]}


def scan_published(partition: Path, what: str) -> pl.LazyFrame:
    """LazyFrame over exactly the files the manifest lists (stray files are never read)."""
    return pl.scan_parquet([str(p) for p in published_files(partition, what).values()])
