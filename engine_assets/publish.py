"""Atomic publication of dataset partitions and artefacts.

A partition is written into a hidden sibling directory, fsynced, given a `_manifest.json`, and
then put in place with one atomic directory exchange (Linux `renameat2(RENAME_EXCHANGE)`), so a
reader sees either the previous version or the new one, never a mix and never half a partition.
A writer killed at any point leaves only a hidden `.tmp-*` directory, which the next publisher
of that partition removes.
"""

import ctypes
import errno
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engine_assets.errors import NotPublishedError, PublishError

MANIFEST = "_manifest.json"
ROW_GROUP_ROWS = 1_000_000
ROWS_PER_FILE = 8_000_000
_HOST = socket.gethostname().replace(".", "_")


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
) -> list[PartInfo]:
    """Write `part-NNNNN.parquet` files (zstd) holding ~row_group_rows per row group.

    Small batches are buffered up to one row group so files do not fill with tiny row groups;
    memory stays bounded by one row group plus the producer's own batch.
    """
    parts: list[PartInfo] = []
    writer: pq.ParquetWriter | None = None
    path: Path | None = None
    file_rows = 0
    pending: list[pa.Table] = []
    pending_rows = 0

    def open_next() -> None:
        nonlocal writer, path, file_rows
        path = directory / f"part-{len(parts):05d}.parquet"
        writer = pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True)
        file_rows = 0

    def close_current() -> None:
        nonlocal writer
        if writer is not None:
            writer.close()
            parts.append(_part_info(path, file_rows))
            writer = None

    def flush() -> None:
        nonlocal pending, pending_rows, file_rows
        if not pending_rows:
            return
        table = pa.concat_tables(pending)
        pending, pending_rows = [], 0
        offset = 0
        while offset < table.num_rows:
            if writer is None or file_rows >= rows_per_file:
                close_current()
                open_next()
            take = min(table.num_rows - offset, rows_per_file - file_rows)
            writer.write_table(table.slice(offset, take), row_group_size=row_group_rows)
            file_rows += take
            offset += take

    for batch in batches:
        table = conform(pa.Table.from_batches([batch]))
        if table.num_rows == 0:
            continue
        pending.append(table)
        pending_rows += table.num_rows
        if pending_rows >= row_group_rows:
            flush()
    flush()
    if writer is None:  # an empty partition still gets one file, so readers see the schema
        open_next()
        writer.write_table(schema.empty_table())
    close_current()
    return parts


# ---------------------------------------------------------------------------------------------
# Atomic exchange of a finished temporary directory with the published one.

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)


def _exchange(a: Path, b: Path) -> None:
    if _renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    rc = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(b))


def _swap_into_place(tmp: Path, target: Path) -> Path | None:
    """Put tmp at target atomically; return where the previous version now lies (to delete)."""
    while True:
        try:
            os.rename(tmp, target)  # first publication (or an empty placeholder directory)
            return None
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        try:
            _exchange(tmp, target)
            return tmp
        except FileNotFoundError:
            continue  # the target vanished between the two calls: try a plain rename again
        except OSError as exc:
            if exc.errno not in (errno.ENOSYS, errno.EINVAL):
                raise
            # No exchange on this file system: move the old version aside first. Readers may
            # briefly find no partition, but never a partial one.
            aside = target.with_name(f".old-{target.name}.{_HOST}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
            os.rename(target, aside)
            os.rename(tmp, target)
            return aside


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(target: Path) -> None:
    """Delete temporary directories that writers on this host left behind when they died."""
    prefix_tmp, prefix_old = f".tmp-{target.name}.{_HOST}.", f".old-{target.name}.{_HOST}."
    for entry in target.parent.iterdir():
        for prefix in (prefix_tmp, prefix_old):
            if entry.name.startswith(prefix):
                pid = entry.name[len(prefix):].split(".")[0]
                if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                    shutil.rmtree(entry, ignore_errors=True)


def publish_directory(
    target: Path,
    fill: Callable[[Path], list[PartInfo]],
    manifest: Mapping[str, Any],
    what: str,
) -> Published:
    """Run `fill(tmp_dir)`, add the manifest, and swap the result into `target` atomically.

    `what` names the dataset and partition in error messages. Nothing is visible at `target`
    unless every step succeeded; a previous version stays intact on failure.
    """
    started = time.perf_counter()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(target)
        tmp = target.with_name(f".tmp-{target.name}.{_HOST}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        tmp.mkdir()
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
        old = _swap_into_place(tmp, target)
        _fsync_path(target.parent)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        hint = "free disk space" if exc.errno == errno.ENOSPC else "check the data root"
        raise PublishError(f"writing {what} failed ({exc.strerror or exc}); {hint}; nothing was published") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return Published(target, full["rows"], full["bytes"], tuple(parts), full)


def publish_table(
    target: Path,
    data: Any,
    schema: pa.Schema,
    manifest: Mapping[str, Any],
    what: str,
    conform: Callable[[pa.Table], pa.Table] = lambda t: t,
) -> Published:
    """Publish a table stream as zstd parquet parts with the given (contract) schema."""
    return publish_directory(
        target, lambda tmp: write_parquet_parts(tmp, iter_batches(data), schema, conform), manifest, what
    )


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


def read_manifest(partition: Path, what: str) -> dict[str, Any]:
    path = partition / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NotPublishedError(f"{what} is not published (no {MANIFEST} in {partition}); materialise it first") from None


def scan_published(partition: Path, what: str) -> pl.LazyFrame:
    """LazyFrame over exactly the files the manifest lists (stray files are never read)."""
    manifest = read_manifest(partition, what)
    return pl.scan_parquet([str(partition / f["name"]) for f in manifest["files"]])


def published_files(partition: Path, what: str) -> dict[str, Path]:
    manifest = read_manifest(partition, what)
    return {f["name"]: partition / f["name"] for f in manifest["files"]}
