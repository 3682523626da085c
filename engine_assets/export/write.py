"""Streaming pieces to files in a hidden sibling directory, renamed into place only when complete.

The output directory appears whole or not at all: a failed or interrupted export removes its
hidden directory, and a reader never sees half a table. Frames are sunk by polars' streaming
engine, so memory follows one partition's batches, not the table.
"""

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import polars as pl

from engine_assets.export.errors import ExportError
from engine_assets.export.tables import Piece

MANIFEST = "export.json"


@dataclass
class Written:
    """One exported table: its files (absolute, final paths), rows and column types."""

    files: list[Path] = field(default_factory=list)
    rows: int = 0
    schema: dict[str, pl.DataType] = field(default_factory=dict)


def hidden_sibling(path: Path) -> Path:
    """A name next to `path` that no reader lists (dot-prefixed) and no other export picks (random)."""
    return path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:12]}")


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A hidden directory to write into; renamed to `out` if the block completes, removed if not."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = hidden_sibling(out)
    tmp.mkdir()
    try:
        yield tmp
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # an empty directory given as --out is replaced, as the request allowed
        if out.exists():  # created since the request was checked: never replace someone else's files
            raise ExportError(f"--out {out} appeared while exporting; the export is discarded, pass a new directory")
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sink(frame: pl.LazyFrame, path: Path, fmt: str) -> int:
    """Stream `frame` to `path`; the rows written, read back from the file itself."""
    if fmt == "parquet":
        frame.sink_parquet(path)
        return pl.scan_parquet(path).select(pl.len()).collect().item()
    frame.sink_csv(path)
    return pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()


def write_pieces(pieces: Iterable[Piece], tmp: Path, out: Path, fmt: str,
                 progress: Callable[[str, Written], None] = lambda table, written: None) -> dict[str, Written]:
    """Write every piece under `tmp` as `<table>/<stem>.<fmt>`; files are named by their final place in `out`.

    Pieces come table after table; `progress` is called as each table is complete.
    """
    tables: dict[str, Written] = {}
    for table, group in groupby(pieces, key=lambda piece: piece.table):
        written = tables[table] = Written()
        (tmp / table).mkdir()
        for piece in group:
            relative = Path(table) / f"{piece.stem}.{fmt}"
            written.schema = written.schema or dict(piece.frame.collect_schema())
            written.rows += sink(piece.frame, tmp / relative, fmt)
            written.files.append(out / relative)
        progress(table, written)
    return tables


def write_manifest(tmp: Path, document: dict) -> None:
    """`export.json`: what was exported, from which world, as of when; for the record and for scripts."""
    (tmp / MANIFEST).write_text(json.dumps(document, indent=1, default=str) + "\n")
