"""The bytes of a publication: any table stream as Arrow record batches, written as zstd parquet parts of full
row groups, each part's rows, size and SHA-256 recorded for its manifest (engine_assets/storage/publish.py makes
the parts a published version)."""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 1_000_000
ROWS_PER_FILE = 8_000_000


@dataclass(frozen=True)
class PartInfo:
    name: str
    rows: int
    bytes: int
    sha256: str



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
