"""Object storage under a data root `s3://bucket/prefix`: the operations publication does differently there.

A local data root is a `pathlib.Path`; an S3 one is a `upath.UPath` over s3fs, which takes the endpoint and
credentials from the environment like every AWS client (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION). Everything here is one request, or one listing for the garbage
collector: readers ask for objects by name and never list a prefix, and no call goes through s3fs's
listings cache, so a reader never sees a pointer older than the last one written.

The pointer switch is S3's conditional write: `If-None-Match: *` when the partition had no pointer,
`If-Match: <ETag read before writing>` otherwise; the store answers 412 when another writer came first.
"""

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Union

import polars as pl
from fsspec.asyn import sync
from upath import UPath

from engine_assets.run.errors import PublishError, PublishRaceError, StoreError

# A path under a data root: a local path, or an object-store path.
DataPath = Union[Path, UPath]
SUPPORTED = ("s3",)


def is_remote(path: Any) -> bool:
    return not isinstance(path, PurePath)


def object_root(text: str) -> UPath:
    """The UPath of an object-store data root `text` (`s3://bucket[/prefix]`). The endpoint is part of the
    path's options, so two roots on two endpoints never share a client, whatever the environment says later."""
    protocol = text.split("://", 1)[0]
    if protocol not in SUPPORTED:
        raise ValueError(f"{protocol}://")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return UPath(text, **({"endpoint_url": endpoint} if endpoint else {}))


def scan_parquet(paths: list, **kwargs: Any) -> pl.LazyFrame:
    """polars' scan of local or object-store parquet files (all under one data root), on the root's endpoint."""
    options = None
    if paths and is_remote(paths[0]):
        endpoint = paths[0].storage_options.get("endpoint_url")
        options = {"aws_endpoint_url": endpoint} if endpoint else None
    return pl.scan_parquet([str(p) for p in paths], storage_options=options, **kwargs)


def _call(path: UPath, method: str, **kwargs: Any) -> dict[str, Any]:
    bucket, _, key = path.path.partition("/")
    return path.fs.call_s3(method, Bucket=bucket, Key=key, **kwargs)


STORE_HINT = ("check that the bucket exists and that AWS_ENDPOINT_URL and the AWS credentials in the environment "
              "reach it")


@contextmanager
def reaching(path: UPath) -> Iterator[None]:
    """A request to the store; its failure (other than a missing object) as a StoreError naming the object."""
    try:
        yield
    except (FileNotFoundError, PublishError):
        raise
    except _store_failures() as exc:
        raise StoreError(f"cannot reach {path} ({type(exc).__name__}: {exc}); {STORE_HINT}") from exc


async def _get(path: UPath) -> tuple[bytes, str]:
    bucket, _, key = path.path.partition("/")
    response = await path.fs._call_s3("get_object", Bucket=bucket, Key=key)
    async with response["Body"] as body:
        return await body.read(), response["ETag"]


def read_tagged(path: UPath) -> tuple[bytes | None, str | None]:
    """The object's bytes and the ETag they were read under, or (None, None) if there is none: one GET, whose
    answer carries both, so a conditional write based on the tag loses if the object changed since."""
    try:
        with reaching(path):
            return sync(path.fs.loop, _get, path)
    except FileNotFoundError:
        return None, None


def read(path: UPath) -> bytes | None:
    """The object's bytes, None if there is none: one GET."""
    return read_tagged(path)[0]


def exists(path: UPath) -> bool:
    """Whether the object exists: one HEAD request, never a listing."""
    try:
        with reaching(path):
            _call(path, "head_object")
    except FileNotFoundError:
        return False
    return True


def put_if(path: UPath, data: bytes, expected: str | None, what: str) -> None:
    """Write `data` if the object still carries the ETag `expected` (None: if it does not exist), else lose."""
    condition = {"IfNoneMatch": "*"} if expected is None else {"IfMatch": expected}
    try:
        with reaching(path):
            try:
                _call(path, "put_object", Body=data, **condition)
            except OSError as exc:  # a 412 is the store's answer, not its failure
                if "pre-condition" in str(exc):
                    raise _Lost() from None
                raise
    except _Lost:
        raise PublishRaceError(
            f"{what}: another writer published this partition while this one was writing; nothing was "
            "overwritten, the other version stands: materialise it again if this one should win") from None


class _Lost(Exception):
    """The conditional write was refused."""


def put_bytes(path: UPath, data: bytes) -> None:
    path.fs.pipe_file(path.path, data)


def upload(local: Path, path: UPath) -> None:
    path.fs.put_file(str(local), path.path)


def remove_prefix(path: UPath) -> None:
    """Delete every object under `path/` (a version); what is already gone is not an error."""
    try:
        path.fs.rm(path.path, recursive=True)
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class StoredVersion:
    name: str
    path: UPath
    finished: float | None  # when its manifest was written (epoch seconds), None without one
    newest: float  # when its newest object was written


def stored_versions(versions: UPath, manifest: str) -> list[StoredVersion]:
    """The versions under a partition's `_v/` prefix, from one recursive listing."""
    try:
        listed = versions.fs.find(versions.path, detail=True, withdirs=False)
    except FileNotFoundError:
        return []
    found: dict[str, dict[str, float]] = {}
    prefix = versions.path.rstrip("/") + "/"
    for key, info in listed.items():
        name, _, member = key.removeprefix(prefix).partition("/")
        if not member:
            continue  # an object beside the versions, not in one
        seen = found.setdefault(name, {"newest": 0.0})
        written = info["LastModified"].timestamp()
        seen["newest"] = max(seen["newest"], written)
        if member == manifest:
            seen["finished"] = written
    return [StoredVersion(n, versions / n, f.get("finished"), f["newest"]) for n, f in sorted(found.items())]


def partitions_under(root: UPath, versions: str) -> list[UPath]:
    """Every partition under `root` that holds versions, from one recursive listing (garbage collection only)."""
    try:
        keys = root.fs.find(root.path, withdirs=False)
    except FileNotFoundError:
        return []
    marker = f"/{versions}/"
    found = sorted({key.split(marker, 1)[0] for key in keys if marker in key})
    return [UPath(f"{root.protocol}://{key}", **root.storage_options) for key in found]


def _store_failures() -> tuple[type[BaseException], ...]:
    """What a failing store raises: s3fs turns most failures into OSError, but not all of botocore's and aiohttp's."""
    import aiohttp
    import botocore.exceptions

    return OSError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, aiohttp.ClientError


@contextmanager
def store_errors(what: str, where: DataPath) -> Iterator[None]:
    """Failures of the store (unreachable endpoint, refused credentials, missing bucket) or of the local spool
    as one PublishError; a producer's own error passes through unchanged."""
    try:
        yield
    except (PublishError, StoreError):
        raise
    except _store_failures() as exc:
        if getattr(exc, "errno", None) == errno.ENOSPC:
            hint = f"free disk space where parts are spooled before upload ({tempfile.gettempdir()}, TMPDIR)"
        else:
            hint = STORE_HINT
        raise PublishError(
            f"writing {what} to {where} failed ({type(exc).__name__}: {exc}); nothing was published; {hint}"
        ) from exc
