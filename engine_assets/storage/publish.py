"""Atomic publication of dataset partitions and artefacts.

A partition is written as a fresh version, fsynced, given a `_manifest.json`, and then made
visible by switching the partition's pointer (see "Versions and the pointer" below), so a reader
sees either the previous version or the new one, never a mix and never half a partition. A writer
killed at any point leaves only an unreferenced version, which the next publisher of that
partition (or `fraud-engine gc`) removes.
"""

import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import polars as pl
import pyarrow as pa

from engine_assets.run.errors import DamagedError, NotPublishedError, PublishError, PublishRaceError
from engine_assets.run import faults
from engine_assets.storage import objects
from engine_assets.storage.objects import DataPath, is_remote
from engine_assets.storage.parts import (  # noqa: F401 - PartInfo and ROW_GROUP_ROWS are read from here too
    ROW_GROUP_ROWS,
    ROWS_PER_FILE,
    PartInfo,
    _fsync_path,
    _part_info,
    _sha256_file,
    iter_batches,
    write_parquet_parts,
)

MANIFEST = "_manifest.json"


@dataclass(frozen=True)
class Published:
    """What a publication left on disk; its manifest is the reader's table of contents."""

    path: DataPath  # the partition
    rows: int
    bytes: int
    files: tuple[PartInfo, ...]
    manifest: Mapping[str, Any]
    version: DataPath | None = None  # the version directory holding `files`
    raced: bool = False  # another writer switched first, to the same bytes: `version` is its version


@dataclass(frozen=True)
class Publication:
    """An asset's output plus the facts only the producer knows (RNG draws per substream label)."""

    data: Any
    rng_draws: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Versions and the pointer.
#
#   <partition>/_pointer.json          {"version": <token>, "manifest_sha256": ...}, written last
#   <partition>/_v/<token>/            the parts and the version's _manifest.json
#   <partition>/_v/.<token>.lock       held by the version's writer for as long as it writes
#
# A publication writes a fresh version, then switches the pointer with a conditional write: it
# names the pointer it read before writing (none, the first time), and if another writer switched
# the pointer in between, this one loses and says so; nothing is overwritten silently. On local
# disk the conditional write is a compare under an flock and an atomic replace of the pointer
# file; on S3 it is a put with If-None-Match / If-Match (engine_assets/storage/objects.py), and a
# version's parts are written to a local spool directory, then uploaded. Readers follow
# pointer -> manifest -> files and never list a directory or a prefix.
#
# A version nobody points at is deleted after a grace period (readers may still hold it): by the
# next publication of its partition, or by `fraud-engine gc` over a whole data root. On local disk
# a writer holds an flock on its version's lock file; the kernel drops it however the writer dies,
# so a version whose lock is free and that has no manifest is abandoned and goes at once. An object
# store has no locks: a version without a manifest goes once its newest object is older than the
# grace period (its writer uploads parts back to back, then the manifest).

POINTER = "_pointer.json"
VERSIONS = "_v"
GRACE_ENV = "ENGINE_VERSION_GRACE_S"
DEFAULT_GRACE_S = 900.0


def grace_s() -> float:
    """How long a superseded version stays readable: $ENGINE_VERSION_GRACE_S, else 15 minutes."""
    return float(os.environ.get(GRACE_ENV, DEFAULT_GRACE_S))


def _etag(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_bytes(path: DataPath) -> bytes | None:
    """A file's or object's bytes, None if there is none (one GET on an object store, never a listing)."""
    if is_remote(path):
        return objects.read(path)
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _read_pointer(partition: DataPath) -> tuple[dict[str, Any] | None, str | None]:
    """The partition's pointer and its tag (the SHA-256 of its bytes; on S3 its ETag), or (None, None)."""
    if is_remote(partition):
        data, tag = objects.read_tagged(partition / POINTER)
    else:
        data = _read_bytes(partition / POINTER)
        tag = _etag(data)
    return (None if data is None else json.loads(data)), tag


class _Locked:
    """An exclusive flock on `path` (created if missing) for the duration of a block."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> "_Locked":
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _put_pointer(partition: DataPath, doc: Mapping[str, Any], expected: str | None, what: str) -> None:
    """Write the pointer if it is still the one tagged `expected` (None: there was none), else lose."""
    data = json.dumps(doc, sort_keys=True).encode()
    if is_remote(partition):
        objects.put_if(partition / POINTER, data, expected, what)
        return
    with _Locked(partition / VERSIONS / ".pointer.lock"):
        _, current = _read_pointer(partition)
        if current != expected:
            raise PublishRaceError(
                f"{what}: another writer published this partition while this one was writing; nothing was "
                "overwritten, the other version stands: materialise it again if this one should win")
        staged = partition / f".{POINTER}.{uuid.uuid4().hex}"
        staged.write_bytes(data)
        _fsync_path(staged)
        os.replace(staged, partition / POINTER)
        _fsync_path(partition)


def _lock_of(version: Path) -> Path:
    return version.parent / f".{version.name}.lock"


def _lock_is_held(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def collect_versions(partition: DataPath, grace: float | None = None, now: float | None = None) -> list[DataPath]:
    """Delete the partition's versions nobody points at: abandoned writes at once (on an object store,
    once older than `grace` seconds), superseded versions once older than `grace`. Returns what was deleted."""
    grace = grace_s() if grace is None else grace
    now = time.time() if now is None else now
    pointer, _ = _read_pointer(partition)
    current = pointer["version"] if pointer else None
    if is_remote(partition):
        stale = [v.path for v in objects.stored_versions(partition / VERSIONS, MANIFEST)
                 if v.name != current and now - (v.newest if v.finished is None else v.finished) >= grace]
        for version in stale:
            objects.remove_prefix(version)
        return stale
    deleted = []
    try:
        entries = list(os.scandir(partition / VERSIONS))
    except (FileNotFoundError, NotADirectoryError):
        return deleted
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or entry.name == current:
            continue
        version = Path(entry.path)
        lock = _lock_of(version)
        if _lock_is_held(lock):
            continue  # a writer is at work on it
        try:
            finished = (version / MANIFEST).stat().st_mtime
        except FileNotFoundError:
            finished = None  # its writer died before the manifest: abandoned
        if finished is None or now - finished >= grace:
            shutil.rmtree(version, ignore_errors=True)
            lock.unlink(missing_ok=True)
            deleted.append(version)
    return deleted


@contextmanager
def _local_version(version: Path, what: str) -> Iterator[Path]:
    """The version's directory, held under the writer's lock; removed again if anything fails."""
    writer = _Locked(_lock_of(version))
    try:
        version.parent.mkdir(parents=True, exist_ok=True)
        writer.__enter__()  # before the version exists: a collector never sees it unlocked
    except OSError as exc:
        raise PublishError(
            f"cannot write {what} under {version.parent.parent.parent}: {exc.strerror}; "
            "make the data root writable or set ENGINE_DATA_ROOT to a writable directory"
        ) from exc
    try:
        version.mkdir()
        yield version
    except BaseException as exc:
        if not _is_current(version):
            shutil.rmtree(version, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, PublishError):
            hint = "; free disk space" if exc.errno == errno.ENOSPC else ""
            raise PublishError(f"writing {what} failed ({exc.strerror or exc}){hint}; nothing was published") from exc
        raise
    finally:
        _lock_of(version).unlink(missing_ok=True)
        writer.__exit__()


def _is_current(version: DataPath) -> bool:
    """Whether the partition's pointer names `version`: a switch whose answer was lost (a timeout after the
    store applied it) must not cost the partition its published version."""
    try:
        pointer, _ = _read_pointer(version.parent.parent)
    except (OSError, ValueError):
        return False  # unreadable here: the caller's own failure is the one to report
    return bool(pointer) and pointer["version"] == version.name


SPOOL_PREFIX = "engine-spool-"


def _sweep_dead_spools() -> None:
    """Remove the spool directories of writers that died without cleaning up (SIGKILL leaves them behind)."""
    for spool in Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*-*"):
        pid = spool.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(spool, ignore_errors=True)
        except (ValueError, PermissionError):
            continue  # not one of ours, or another user's live process


@contextmanager
def _spooled_version(version: DataPath, what: str) -> Iterator[Path]:
    """A local spool directory for a version bound for an object store; what was uploaded goes if anything fails."""
    _sweep_dead_spools()
    try:
        with (tempfile.TemporaryDirectory(prefix=f"{SPOOL_PREFIX}{os.getpid()}-") as spool,
              objects.store_errors(what, version)):
            yield Path(spool)
    except BaseException:
        try:
            if not _is_current(version):
                objects.remove_prefix(version)
        except Exception:  # noqa: BLE001 - the store may be the failure; the collector removes it later
            pass
        raise


def _finish_version(version: DataPath, written: Path, parts: list[PartInfo], body: bytes) -> None:
    """Make the version whole where it lives: its parts (uploaded, if spooled), then its manifest."""
    if is_remote(version):
        for part in parts:
            objects.upload(written / part.name, version / part.name)
        faults.point("publish.before_manifest")
        objects.put_bytes(version / MANIFEST, body)
        return
    faults.point("publish.before_manifest")
    (version / MANIFEST).write_bytes(body)
    _fsync_path(version / MANIFEST)
    _fsync_path(version)


def publish_directory(
    target: DataPath,
    fill: Callable[[Path], list[PartInfo]],
    manifest: Mapping[str, Any],
    what: str,
) -> Published:
    """Run `fill(directory)`, add the manifest, and make the result the published version of `target`.

    `what` names the dataset and partition in error messages. Nothing is visible at `target`
    unless every step succeeded; a previous version stays intact on failure or on a lost race.
    """
    started = time.perf_counter()
    token = uuid.uuid4().hex
    version = target / VERSIONS / token
    if _exists(target.parent / POINTER):
        raise PublishError(
            f"{what}: {target.parent} is itself a published partition (the dataset was published without "
            "partitions); remove it before publishing partitions"
        )
    if not is_remote(target) and target.is_symlink():
        raise PublishError(f"{what}: {target} is a link from an earlier storage layout; delete the world under "
                           f"{target.parent} (or its data root) and build it again")
    parts: list[PartInfo] = []
    try:
        with (_spooled_version if is_remote(target) else _local_version)(version, what) as written:
            _, replaces = _read_pointer(target)  # the version this one replaces: the switch loses if it changed
            parts = fill(written)
            full = dict(manifest)
            full.update(
                rows=sum(p.rows for p in parts),
                bytes=sum(p.bytes for p in parts),
                files=[p.__dict__ for p in parts],
                publish_wall_s=round(time.perf_counter() - started, 3),
            )
            body = json.dumps(full, indent=1, sort_keys=True, default=str).encode()
            _finish_version(version, written, parts, body)
            faults.point("publish.before_pointer")
            _put_pointer(target, {"version": token, "manifest_sha256": hashlib.sha256(body).hexdigest()},
                         replaces, what)
    except PublishRaceError:
        winner = _same_content(target, parts, what)
        if winner is None:
            raise
        return winner
    faults.point("publish.after_pointer")
    collect_versions(target)
    return Published(target, full["rows"], full["bytes"], tuple(parts), full, version)


def _same_content(target: DataPath, parts: list[PartInfo], what: str) -> Published | None:
    """The version that won the race for `target`, if its files are `parts` byte for byte. Two runs of one
    world write identical bytes (every draw is keyed by ids), so losing to one of them loses nothing: the
    publication stands as the winner's."""
    try:
        version, manifest = published_manifest(target, what)
    except (NotPublishedError, DamagedError):
        return None
    files = tuple(PartInfo(**f) for f in manifest["files"])
    if [(f.name, f.sha256) for f in files] != [(p.name, p.sha256) for p in parts]:
        return None
    return Published(target, manifest["rows"], manifest["bytes"], files, manifest, version, raced=True)


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


def _exists(path: DataPath) -> bool:
    return objects.exists(path) if is_remote(path) else path.exists()


def published_manifest(partition: DataPath, what: str) -> tuple[DataPath, dict[str, Any]]:
    """The version the partition's pointer names right now, and its manifest: two reads, no listing. A manifest
    that vanished because a newer publication replaced its version (and collected it) is followed to the newer
    version; one missing or changed under a pointer that still names it is damage."""
    pointer, _ = _read_pointer(partition)
    while True:
        if pointer is None:
            raise NotPublishedError(f"{what} is not published (nothing published at {partition}); materialise it first")
        version = partition / VERSIONS / pointer["version"]
        body = _read_bytes(version / MANIFEST)
        if body is not None and hashlib.sha256(body).hexdigest() == pointer["manifest_sha256"]:
            return version, json.loads(body)
        now, _ = _read_pointer(partition)
        if now == pointer:
            break
        pointer = now  # superseded while being read: follow the partition to its current version
    problem = "is missing" if body is None else "is not the one published (its SHA-256 differs from the pointer's)"
    raise DamagedError(f"{what} is damaged: the manifest of the version its pointer names ({version / MANIFEST}) "
                       f"{problem}; materialise {what} again")


def published_version(partition: DataPath, what: str) -> DataPath:
    """The version directory the partition's pointer names right now."""
    return published_manifest(partition, what)[0]


def is_pointed(partition: DataPath) -> bool:
    """Whether a partition has a pointer (one read, no listing)."""
    return _exists(partition / POINTER)


def read_manifest(partition: DataPath, what: str) -> dict[str, Any]:
    return published_manifest(partition, what)[1]


def published_files(partition: DataPath, what: str) -> dict[str, DataPath]:
    """Paths of the files of one version, resolved once, so later reads cannot mix versions. On local disk each
    file is checked against its manifest (size and SHA-256, once per process and file state) before it is
    handed out: a file changed after publication is reported, never read."""
    while True:
        version, manifest = published_manifest(partition, what)
        files = {f["name"]: version / f["name"] for f in manifest["files"]}
        if is_remote(version):
            return files
        try:
            for entry in manifest["files"]:
                _verify(files[entry["name"]], entry, what)
            return files
        except DamagedError:
            if published_manifest(partition, what)[0] == version:
                raise  # still the version published: damage, not a newer publication collecting this one


_VERIFIED: set[tuple[str, int, int]] = set()


def _verify(path: Path, entry: Mapping[str, Any], what: str) -> None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise DamagedError(f"{what} is damaged: {path}, listed by its manifest, is missing; materialise {what} "
                           "again") from None
    state = (str(path), stat.st_size, stat.st_mtime_ns)
    if state in _VERIFIED:
        return
    if stat.st_size != entry["bytes"] or _sha256_file(path) != entry["sha256"]:
        raise DamagedError(f"{what} is damaged: {path} differs from its manifest (size or SHA-256), so it changed "
                           f"after publication; materialise {what} again")
    _VERIFIED.add(state)


def _each(fn: Callable[[Any], Any], partitions: list[DataPath]) -> list[Any]:
    """`fn` over partitions in order; concurrently on an object store, where each is a few round trips of latency."""
    if len(partitions) > 1 and is_remote(partitions[0]):
        with ThreadPoolExecutor(max_workers=min(32, len(partitions))) as pool:
            return list(pool.map(fn, partitions))
    return [fn(p) for p in partitions]


def pointed(partitions: list[DataPath]) -> list[bool]:
    """Whether each partition has a pointer."""
    return _each(is_pointed, partitions)


def published_files_of(partitions: list[DataPath], what: str,
                       missing_ok: bool = False) -> list[dict[str, DataPath] | None]:
    """`published_files` of each partition, each resolved once; None for one not published if `missing_ok`."""
    def files(partition: DataPath) -> dict[str, DataPath] | None:
        try:
            return published_files(partition, what)
        except NotPublishedError:
            if missing_ok:
                return None
            raise

    return _each(files, partitions)


def scan_published(partition: DataPath, what: str) -> pl.LazyFrame:
    """LazyFrame over exactly the files the manifest lists (stray files are never read)."""
    return objects.scan_parquet(list(published_files(partition, what).values()))
