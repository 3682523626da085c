"""A DuckDB database of views over a world, so `duckdb world.duckdb` answers SQL at once.

One schema per segment (`seg_6b.transactions`, `seg_6a.parties`, `reference.countries`, ...) with a
view over every published table dataset, plus `engine.run_manifest` (the world's identity) and,
after an export, schema `exported` with a view per exported table. The database holds no data:
views name the absolute paths of the files of each partition's current version, so they stay
valid until the world is rebuilt (then, after the grace period of superseded versions, export
the database again).
Partition dimensions become columns (`country`, `scenario`, `day`) parsed from those paths.

Views over published data are created only for segments whose validation passed, the same gate
every reader of the engine goes through; a segment that did not pass is left out, with a note.
"""

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import polars as pl

from engine_assets.export.errors import ExportError
from engine_assets.export.write import Written, hidden_sibling
from engine_assets.quality.contracts import Contract, load_contract, load_dictionary
from engine_assets.run.errors import GateError
from engine_assets.run.identity import RunIdentity
from engine_assets.storage.datasets import published_partitions
from engine_assets.storage.objects import is_remote
from engine_assets.storage.publish import VERSIONS, published_files as version_files

EXPORTED = "exported"
# Column types of exported CSV files, so the views read them as the Parquet export would.
_DUCKDB_TYPES = {
    pl.UInt64: "UBIGINT", pl.UInt32: "UINTEGER", pl.UInt16: "USMALLINT", pl.UInt8: "UTINYINT",
    pl.Int64: "BIGINT", pl.Int32: "INTEGER", pl.Int16: "SMALLINT", pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE", pl.Float32: "FLOAT", pl.Boolean: "BOOLEAN", pl.String: "VARCHAR",
    pl.Categorical: "VARCHAR", pl.Enum: "VARCHAR", pl.Date: "DATE", pl.Binary: "BLOB",
}


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_name(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(sql_text(str(p)) for p in paths) + "]"


def duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMPTZ" if dtype.time_zone else "TIMESTAMP"
    return _DUCKDB_TYPES[dtype.base_type()]


def dimension_columns(contract: Contract) -> str:
    """`country`, `scenario`, `day` of each row, from its file's path `.../<dim>=<value>/.../_v/<version>/<file>`."""
    columns = []
    for i, dim in enumerate(contract.partition_keys):
        after = "/[^/]+" * (len(contract.partition_keys) - 1 - i)  # the deeper dimensions
        value = f"regexp_extract(filename, {sql_text(f'/{dim}=([^/]+){after}/{VERSIONS}/[^/]+/[^/]+$')}, 1)"
        columns.append(f"CAST({value} AS DATE) AS {dim}" if dim == "day" else f"{value} AS {dim}")
    return "".join(f", {c}" for c in columns)


def published_files(identity: RunIdentity, contract: Contract) -> list[Path]:
    """Every file of every published partition's current version, as its manifest lists them. The views
    name these versions: after a rebuild, export the DuckDB file again (superseded versions stay
    readable for the grace period of engine_assets/storage/publish.py, then go)."""
    return [path for partition in published_partitions(identity, contract)
            for path in version_files(partition, contract.dataset).values()]


def table_view(contract: Contract, files: list[Path]) -> str:
    name = sql_name(*contract.dataset.split("/"))
    if not contract.partition_keys:
        return f"CREATE VIEW {name} AS SELECT * FROM read_parquet({sql_list(files)}, hive_partitioning = false)"
    source = f"read_parquet({sql_list(files)}, filename = true, hive_partitioning = false)"
    return f"CREATE VIEW {name} AS SELECT * EXCLUDE (filename){dimension_columns(contract)} FROM {source}"


def document_view(contract: Contract, files: list[Path]) -> str:
    return f"CREATE VIEW {sql_name(*contract.dataset.split('/'))} AS SELECT * FROM read_json_auto({sql_list(files)})"


def world_views(identity: RunIdentity, note: Callable[[str], None]) -> list[str]:
    """CREATE statements for every published dataset of the world whose segment passed its validation."""
    from engine_assets.storage.reader import gate_of, reader_for  # loads Dagster, as every gated read does

    if is_remote(identity.data_root):
        note(f"no views of the published datasets: they live on {identity.data_root}, which DuckDB reads only "
             "through its httpfs extension, and nothing is downloaded at run time; the exported tables have views")
        return []
    dictionary = load_dictionary()
    reader = reader_for(identity, *(d for d, entry in dictionary.items() if entry.kind == "table"))
    views: dict[str, list[str]] = {}  # schema -> statements
    gates: dict[str, bool] = {}
    for dataset, entry in dictionary.items():
        contract = load_contract(dataset)
        files = published_files(identity, contract)
        if not files or entry.kind == "artefact":
            continue  # nothing published yet; artefacts (rasters, pictures) are files, not tables
        if entry.kind == "document":
            # The run manifest is the world's identity, written before any segment: no gate stands for it.
            views.setdefault(dataset.split("/")[0], []).append(document_view(contract, files))
            continue
        gate = gate_of(dataset)
        if gate not in gates:
            try:
                reader.gate(gate)
                gates[gate] = True
            except GateError as exc:
                gates[gate] = False
                note(f"no views of {gate}'s datasets: {exc}")
        if gates[gate]:
            views.setdefault(dataset.split("/")[0], []).append(table_view(contract, files))
    return [s for schema, statements in views.items()
            for s in (f"CREATE SCHEMA IF NOT EXISTS {sql_name(schema)}", *statements)]


def exported_views(tables: Mapping[str, Written], fmt: str) -> list[str]:
    """CREATE statements for the exported tables, schema `exported`."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {sql_name(EXPORTED)}"] if tables else []
    for table, written in tables.items():
        if fmt == "parquet":
            source = f"read_parquet({sql_list(written.files)})"
        else:
            types = ", ".join(f"{sql_text(c)}: {sql_text(duckdb_type(t))}" for c, t in written.schema.items())
            source = f"read_csv({sql_list(written.files)}, header = true, auto_detect = false, columns = {{{types}}})"
        statements.append(f"CREATE VIEW {sql_name(EXPORTED, table)} AS SELECT * FROM {source}")
    return statements


def write_database(path: Path, statements: list[str]) -> None:
    """Create the database under a hidden name and rename it into place once every view is created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = hidden_sibling(path)
    try:
        with duckdb.connect(str(tmp)) as con:
            for statement in statements:
                con.execute(statement)
            con.execute("CHECKPOINT")
        if path.exists():
            raise ExportError(f"--duckdb {path} appeared while exporting; the database is discarded, pass a new name")
        os.rename(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
