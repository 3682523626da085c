"""Dataset contracts: loading, validating and deriving schemas from them.

A contract ``contracts/<segment>/<dataset>.yaml`` is a JSON-Schema (draft
2020-12) plus engine keys (``x-*``): a table contract describes one row and its
physical layout, a document contract a whole JSON artefact. Files are checked
first by ``contracts/meta.schema.yaml``, then by the semantic rules here that
JSON-Schema cannot express (column references, arrow vs JSON type, path).
"""


import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pyarrow as pa
import yaml

from engine_assets.run.config import strict_yaml
from engine_assets.run.errors import EngineError
from engine_assets.run.schema_errors import errors_in_order, explain, json_path, schema_problems, show

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
# The meta-schema always comes from the repository, whatever ``root`` a caller
# loads contracts from, so test fixtures are held to the same rules.
META_SCHEMA_PATH = CONTRACTS_DIR / "meta.schema.yaml"
DICTIONARY_FILE = "dictionary.yaml"

# x-arrow-type name -> (arrow type, the polars dtype a frame column must have).
_TYPES: Mapping[str, tuple[pa.DataType, pl.DataType]] = {
    "int8": (pa.int8(), pl.Int8()),
    "int16": (pa.int16(), pl.Int16()),
    "int32": (pa.int32(), pl.Int32()),
    "int64": (pa.int64(), pl.Int64()),
    "uint8": (pa.uint8(), pl.UInt8()),
    "uint16": (pa.uint16(), pl.UInt16()),
    "uint32": (pa.uint32(), pl.UInt32()),
    "uint64": (pa.uint64(), pl.UInt64()),
    "float32": (pa.float32(), pl.Float32()),
    "float64": (pa.float64(), pl.Float64()),
    "bool": (pa.bool_(), pl.Boolean()),
    "string": (pa.string(), pl.String()),
    "large_string": (pa.large_string(), pl.String()),
    "dictionary": (pa.dictionary(pa.int32(), pa.string()), pl.Categorical()),
    "date32": (pa.date32(), pl.Date()),
    "timestamp[us, UTC]": (pa.timestamp("us", tz="UTC"), pl.Datetime("us", "UTC")),
    "timestamp[us]": (pa.timestamp("us"), pl.Datetime("us")),
    "binary": (pa.binary(), pl.Binary()),
}
ARROW_TYPES: Mapping[str, pa.DataType] = {name: types[0] for name, types in _TYPES.items()}
_POLARS_BY_ARROW: Mapping[pa.DataType, pl.DataType] = dict(_TYPES.values())

DEFAULT_ARROW_TYPE: Mapping[str, str] = {"integer": "int64", "number": "float64", "boolean": "bool", "string": "string"}

_INTEGER_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_STRING_LIKE = ("string", "large_string", "dictionary")
_PARQUET_ENCODINGS = {"delta": "DELTA_BINARY_PACKED", "byte_stream_split": "BYTE_STREAM_SPLIT", "plain": "PLAIN"}
# Arrow dictionary columns are always written dictionary-encoded, so no x-encoding applies to them.
_ENCODABLE = {
    "delta": ("int32", "int64", "uint32", "uint64", "timestamp[us, UTC]", "timestamp[us]", "date32"),
    "byte_stream_split": ("float32", "float64"),
    "plain": _INTEGER_TYPES + ("float32", "float64", "bool", "string", "large_string", "date32", "timestamp[us, UTC]",
                               "timestamp[us]", "binary"),
}
# Dates, timestamps and bytes travel as strings in JSON, hence "string".
COMPATIBLE_ARROW_TYPES: Mapping[str, tuple[str, ...]] = {
    "integer": _INTEGER_TYPES,
    "number": ("float32", "float64"),
    "boolean": ("bool",),
    "string": _STRING_LIKE + ("date32", "timestamp[us, UTC]", "timestamp[us]", "binary"),
}

# Dictionary ``partitioning`` names for each allowed x-partition-keys layout.
PARTITIONING: Mapping[str, tuple[str, ...]] = {
    "none": (), "country": ("country",), "day": ("day",), "scenario": ("scenario",),
    "scenario_day": ("scenario", "day"),
}

_DATASET_ID = "^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$"

@dataclass(frozen=True)
class Violation:
    """One broken rule: which dataset, column and rule, and how many rows break it."""

    dataset: str
    column: str
    rule: str
    bad_rows: int
    message: str


class ContractViolation(EngineError):
    """Data does not satisfy its contract."""

    def __init__(self, violations: Sequence[Violation]):
        self.violations = list(violations)
        lines = "\n".join(f"- {v.message}" for v in self.violations)
        super().__init__(f"{len(self.violations)} contract violation(s):\n{lines}")


class ContractError(EngineError):
    """A contract or dictionary file is malformed or inconsistent."""


@dataclass(frozen=True)
class Column:
    """One column of a table contract."""

    name: str
    json_types: tuple[str, ...]
    arrow_type: pa.DataType
    nullable: bool
    minimum: float | None
    maximum: float | None
    exclusive_minimum: float | None
    exclusive_maximum: float | None
    enum: tuple[Any, ...] | None
    pattern: str | None
    min_length: int | None
    max_length: int | None
    description: str
    encoding: str | None = None  # x-encoding: a Parquet encoding without a dictionary

    @property
    def polars_dtype(self) -> pl.DataType:
        """The polars dtype a frame column must have to match this column."""
        return _POLARS_BY_ARROW[self.arrow_type]


@dataclass(frozen=True)
class ForeignKey:
    """Columns of one table whose value tuples must exist in another table."""

    columns: tuple[str, ...]
    ref_dataset: str
    ref_columns: tuple[str, ...]
    # The match lies in the same partition of the referenced dataset (a country's accounts belong
    # to its parties): checked against those partitions only, not the whole dataset.
    same_partition: bool = False


@dataclass(frozen=True)
class Contract:
    """A validated contract. ``json_schema`` is the raw file content; treat it as read-only."""

    dataset: str
    kind: str
    version: int
    path: Path
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_keys: tuple[str, ...]
    sort_keys: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    json_schema: dict[str, Any]
    scope: str = "run"
    files: tuple[str, ...] = ()  # artefacts: the file names a publication must hold

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in contract order."""
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``; KeyError if the contract has none."""
        return {column.name: column for column in self.columns}[name]

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the table, with the contract identity in its metadata."""
        self._require_table("an arrow schema")
        # Descriptions travel with the files so readers see them without the contract.
        fields = [
            pa.field(c.name, c.arrow_type, nullable=c.nullable, metadata={"description": c.description})
            for c in self.columns
        ]
        metadata = {"contract_dataset": self.dataset, "contract_version": str(self.version)}
        return pa.schema(fields, metadata=metadata)

    def parquet_options(self) -> dict[str, Any]:
        """ParquetWriter keywords: x-encoding columns skip the dictionary; x-statistics limits min/max."""
        options: dict[str, Any] = {}
        encoded = {c.name: _PARQUET_ENCODINGS[c.encoding] for c in self.columns if c.encoding}
        if encoded:
            options |= {"use_dictionary": [c.name for c in self.columns if not c.encoding], "column_encoding": encoded}
        if "x-statistics" in self.json_schema:  # min/max of a day's time zones prune nothing and cost time
            options["write_statistics"] = list(self.json_schema["x-statistics"])
        return options

    def polars_schema(self) -> pl.Schema:
        """Polars schema of the table (polars has no per-field nullability)."""
        self._require_table("a polars schema")
        return pl.Schema([(column.name, column.polars_dtype) for column in self.columns])

    def _require_table(self, what: str) -> None:
        if self.kind != "table":
            raise ContractError(f"{self.dataset} is a {self.kind} contract; it has no {what}")


@dataclass(frozen=True)
class DatasetEntry:
    """One entry of ``contracts/dictionary.yaml``."""

    id: str
    asset_key: tuple[str, ...]
    kind: str
    partitioning: str
    contract: str
    description: str

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """Path partition dimensions implied by ``partitioning``."""
        return PARTITIONING[self.partitioning]


# --- Reading and error formatting ---


def _read_yaml(path: Path) -> Any:
    try:
        return strict_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContractError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc


def _fail_if_any(problems: Sequence[str]) -> None:
    if problems:
        raise ContractError("\n".join(problems))


@functools.lru_cache(maxsize=1)
def _meta_schema() -> dict[str, Any]:
    meta_schema = _read_yaml(META_SCHEMA_PATH)
    jsonschema.Draft202012Validator.check_schema(meta_schema)
    return meta_schema


def _meta_validator() -> jsonschema.protocols.Validator:
    # The format checker makes "format: regex" on column patterns binding.
    return jsonschema.Draft202012Validator(_meta_schema(), format_checker=jsonschema.FormatChecker())


def _dictionary_validator() -> jsonschema.protocols.Validator:
    # The dictionary's shape lives beside the contract rules in the meta-schema.
    return jsonschema.Draft202012Validator({"$ref": "#/$defs/dictionary", "$defs": _meta_schema()["$defs"]})


# --- Semantic rules (after the meta-schema has accepted the file) ---


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _column_problems(path: Path, name: str, spec: Mapping[str, Any]) -> list[str]:
    """Rules for one column spec that the meta-schema cannot express."""
    where = f"{path}: at {json_path(['properties', name])}"
    json_types = _as_tuple(spec["type"])
    non_null = [t for t in json_types if t != "null"]
    if len(non_null) != 1:
        return [f"{where}.type: a column needs one non-null JSON type (plus optional 'null'), got {list(json_types)}"]
    json_type = non_null[0]
    arrow_name = spec.get("x-arrow-type", DEFAULT_ARROW_TYPE[json_type])
    compatible = COMPATIBLE_ARROW_TYPES[json_type]
    problems = []
    if arrow_name not in compatible:
        allowed = ", ".join(compatible)
        problems.append(f"{where}.x-arrow-type: {arrow_name!r} does not fit type {json_type!r}; allowed: {allowed}")
    numeric_keys = [k for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in spec]
    if numeric_keys and json_type not in ("integer", "number"):
        problems.append(f"{where}: {', '.join(numeric_keys)} only apply to integer or number columns")
    string_keys = [k for k in ("pattern", "minLength", "maxLength") if k in spec]
    if string_keys and arrow_name not in _STRING_LIKE:
        allowed = ", ".join(_STRING_LIKE)
        problems.append(f"{where}: {', '.join(string_keys)} only apply to arrow types {allowed}, not {arrow_name!r}")
    if "enum" in spec and arrow_name not in _STRING_LIKE + _INTEGER_TYPES + ("float32", "float64", "bool"):
        problems.append(f"{where}.enum: enum is not supported for arrow type {arrow_name!r}")
    type_checker = jsonschema.Draft202012Validator({"type": list(json_types)})
    for value in spec.get("enum", ()):
        if not type_checker.is_valid(value):
            problems.append(f"{where}.enum: value {show(value)} is not of type {list(json_types)}")
    if "pattern" in spec:
        problems.extend(_pattern_problems(f"{where}.pattern", spec["pattern"]))
    encoding = spec.get("x-encoding")
    if encoding and arrow_name not in _ENCODABLE[encoding]:
        problems.append(f"{where}.x-encoding: {encoding!r} does not apply to arrow type {arrow_name!r}; "
                        f"it takes {', '.join(_ENCODABLE[encoding])}")
    return problems


def _pattern_problems(where: str, pattern: str) -> list[str]:
    # The meta-schema checks Python's regex syntax; the frame checks run on
    # polars' (Rust) engine, which rejects some Python constructs (look-around).
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        lines = str(exc).strip().splitlines()
        reason = next((line for line in lines if line.startswith("error:")), lines[0])
        return [f"{where}: {pattern!r} is not a regex polars accepts ({reason})"]
    return []


def _table_problems(path: Path, doc: Mapping[str, Any]) -> list[str]:
    """Rules tying the table keys (required, PK, sort, FK, partitions) to the columns."""
    columns = doc["properties"]
    names = set(columns)
    problems = []
    for name, spec in columns.items():
        problems.extend(_column_problems(path, name, spec))

    problems += [
        f"{path}: at $.required: column {name!r} is missing; every column must be required, "
        "nullability is declared by a type list including 'null'"
        for name in columns
        if name not in doc["required"]
    ]

    def unknown(key: str, listed: Iterable[str]) -> list[str]:
        known = ", ".join(columns)
        return [f"{path}: at $.{key}: {n!r} is not a column; columns: {known}" for n in listed if n not in names]

    problems.extend(unknown("required", doc["required"]))
    problems.extend(unknown("x-primary-key", doc["x-primary-key"]))
    problems.extend(unknown("x-sort-keys", doc["x-sort-keys"]))
    problems.extend(unknown("x-statistics", doc.get("x-statistics", ())))
    for name in doc["x-primary-key"]:
        if name in names and "null" in _as_tuple(columns[name]["type"]):
            problems.append(f"{path}: at $.x-primary-key: column {name!r} is nullable; key columns must not be")
    for name in set(doc["x-partition-keys"]) & names:
        problems.append(f"{path}: at $.x-partition-keys: {name!r} is also a column; partitions live in the path")
    for index, fk in enumerate(doc.get("x-foreign-keys", [])):
        problems.extend(unknown(f"x-foreign-keys[{index}].columns", fk["columns"]))
        if len(fk["columns"]) != len(fk["references"]["columns"]):
            counts = f"{len(fk['columns'])} columns reference {len(fk['references']['columns'])}"
            problems.append(f"{path}: at $.x-foreign-keys[{index}]: {counts}")
    return problems


def _semantic_problems(path: Path, dataset_id: str, doc: Mapping[str, Any]) -> list[str]:
    problems = _table_problems(path, doc) if doc["x-kind"] == "table" else []
    if doc["x-dataset"] != dataset_id:
        mismatch = f"{doc['x-dataset']!r} does not match the file path; expected {dataset_id!r}"
        problems.insert(0, f"{path}: at $.x-dataset: {mismatch}")
    return problems


# --- Building the dataclasses ---


def _build_column(name: str, spec: Mapping[str, Any]) -> Column:
    json_types = _as_tuple(spec["type"])
    json_type = next(t for t in json_types if t != "null")
    arrow_name = spec.get("x-arrow-type", DEFAULT_ARROW_TYPE[json_type])
    enum = spec.get("enum")
    return Column(
        name=name,
        json_types=json_types,
        arrow_type=ARROW_TYPES[arrow_name],
        nullable="null" in json_types,
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
        exclusive_minimum=spec.get("exclusiveMinimum"),
        exclusive_maximum=spec.get("exclusiveMaximum"),
        enum=tuple(enum) if enum is not None else None,
        pattern=spec.get("pattern"),
        min_length=spec.get("minLength"),
        max_length=spec.get("maxLength"),
        description=spec["description"],
        encoding=spec.get("x-encoding"),
    )


def _build_contract(path: Path, doc: dict[str, Any]) -> Contract:
    # Document contracts have no "properties" in the column sense.
    properties = doc["properties"] if doc["x-kind"] == "table" else {}
    foreign_keys = tuple(
        ForeignKey(tuple(fk["columns"]), fk["references"]["dataset"], tuple(fk["references"]["columns"]),
                   bool(fk.get("same_partition", False)))
        for fk in doc.get("x-foreign-keys", [])
    )
    return Contract(
        dataset=doc["x-dataset"],
        kind=doc["x-kind"],
        version=doc["x-version"],
        path=path,
        columns=tuple(_build_column(name, spec) for name, spec in properties.items()),
        primary_key=tuple(doc.get("x-primary-key", ())),
        partition_keys=tuple(doc.get("x-partition-keys", ())),
        sort_keys=tuple(doc.get("x-sort-keys", ())),
        foreign_keys=foreign_keys,
        json_schema=doc,
        scope=doc.get("x-scope", "run"),
        files=tuple(f["name"] for f in doc.get("x-files", ())),
    )


# --- Public loading API ---


def load_contract(dataset_id: str, root: Path | str = CONTRACTS_DIR) -> Contract:
    """Load and validate the contract of ``dataset_id`` ("segment/dataset") under ``root``.

    Results are cached per (dataset, root); contracts do not change while the
    engine runs.
    """
    return _load_contract_cached(dataset_id, Path(root).resolve())


@functools.lru_cache(maxsize=None)
def _load_contract_cached(dataset_id: str, root: Path) -> Contract:
    path = root / f"{dataset_id}.yaml"
    if not re.fullmatch(_DATASET_ID, dataset_id):
        raise ContractError(f"{path}: {dataset_id!r} is not a dataset id of the form 'segment/dataset'")
    doc = _read_yaml(path)
    _fail_if_any(schema_problems(_meta_validator(), doc, str(path)))
    try:
        jsonschema.Draft202012Validator.check_schema(doc)
    except jsonschema.SchemaError as exc:
        where, text = explain(exc)
        raise ContractError(f"{path}: at {where}: not a valid JSON-Schema: {text}") from exc
    _fail_if_any(_semantic_problems(path, dataset_id, doc))
    return _build_contract(path, doc)


def load_dictionary(root: Path | str = CONTRACTS_DIR) -> dict[str, DatasetEntry]:
    """Read ``dictionary.yaml`` under ``root``: dataset id -> entry, in file order."""
    path = Path(root).resolve() / DICTIONARY_FILE
    doc = _read_yaml(path)
    _fail_if_any(schema_problems(_dictionary_validator(), doc, str(path)))
    entries: dict[str, DatasetEntry] = {}
    problems = []
    for index, raw in enumerate(doc["datasets"]):
        entry = DatasetEntry(**{**raw, "asset_key": tuple(raw["asset_key"])})
        where = f"{path}: at {json_path(['datasets', index])}"
        if entry.id in entries:
            problems.append(f"{where}.id: {entry.id!r} is listed twice")
        if "/".join(entry.asset_key) != entry.id:
            problems.append(f"{where}.asset_key: {list(entry.asset_key)} does not spell id {entry.id!r}")
        if entry.contract != f"{entry.id}.yaml":
            problems.append(f"{where}.contract: {entry.contract!r}; expected {entry.id + '.yaml'!r}")
        entries[entry.id] = entry
    _fail_if_any(problems)
    return entries


def _contract_file_ids(root: Path) -> list[str]:
    # Contract files live exactly one directory deep; the top-level YAML files
    # are the meta-schema and the dictionary.
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.glob("*/*.yaml"))


def _same_family(left: pa.DataType, right: pa.DataType) -> bool:
    """Whether two key columns can be joined without a lossy cast."""
    string_like = {ARROW_TYPES[name] for name in _STRING_LIKE}
    return left == right or (left in string_like and right in string_like)


def _foreign_key_problems(contract: Contract, entries: Mapping[str, DatasetEntry], root: Path) -> list[str]:
    problems = []
    for index, fk in enumerate(contract.foreign_keys):
        where = f"{contract.path}: at $.x-foreign-keys[{index}].references"
        if fk.ref_dataset not in entries:
            problems.append(f"{where}.dataset: {fk.ref_dataset!r} is not in the dictionary")
            continue
        referenced = load_contract(fk.ref_dataset, root)
        if referenced.kind != "table":
            problems.append(f"{where}.dataset: {fk.ref_dataset!r} is a {referenced.kind}, not a table")
            continue
        if fk.same_partition and (not contract.partition_keys or referenced.partition_keys != contract.partition_keys):
            problems.append(f"{contract.path}: at $.x-foreign-keys[{index}].same_partition: {fk.ref_dataset!r} is not "
                            f"partitioned like {contract.dataset!r} ({list(referenced.partition_keys)} against "
                            f"{list(contract.partition_keys)})")
        for local, remote in zip(fk.columns, fk.ref_columns):
            if remote not in referenced.column_names:
                columns = ", ".join(referenced.column_names)
                problems.append(f"{where}.columns: {remote!r} is not a column of {fk.ref_dataset}; columns: {columns}")
                continue
            mine, theirs = contract.column(local).arrow_type, referenced.column(remote).arrow_type
            if not _same_family(mine, theirs):
                target = f"{fk.ref_dataset}.{remote} ({theirs})"
                problems.append(f"{where}.columns: {local!r} ({mine}) cannot reference {target}")
    return problems


def validate_all_contracts(root: Path | str = CONTRACTS_DIR) -> list[str]:
    """Validate every contract under ``root`` and its agreement with the dictionary.

    Returns the dataset ids checked. Raises ContractError on the first bad file.
    """
    root = Path(root).resolve()
    entries = load_dictionary(root)
    file_ids = _contract_file_ids(root)
    dictionary_path = root / DICTIONARY_FILE
    for dataset_id in file_ids:
        if dataset_id not in entries:
            raise ContractError(f"{root / dataset_id}.yaml: contract file is not listed in {dictionary_path}")
    for dataset_id in entries:
        if dataset_id not in file_ids:
            raise ContractError(f"{dictionary_path}: {dataset_id!r} has no contract file {root / dataset_id}.yaml")
    for dataset_id, entry in entries.items():
        contract = load_contract(dataset_id, root)
        if contract.kind != entry.kind:
            mismatch = f"{contract.kind!r} but {dictionary_path} says {entry.kind!r}"
            raise ContractError(f"{contract.path}: at $.x-kind: {mismatch}")
        if contract.partition_keys != entry.partition_keys:
            raise ContractError(
                f"{contract.path}: at $.x-partition-keys: {list(contract.partition_keys)} but "
                f"{dictionary_path} says partitioning {entry.partitioning!r}"
            )
        _fail_if_any(_foreign_key_problems(contract, entries, root))
    return list(entries)


def validate_document(contract: Contract, document: Mapping[str, Any]) -> None:
    """Validate a JSON artefact against its document contract; raise ContractViolation."""
    if contract.kind != "document":
        raise ContractError(f"{contract.dataset} is a {contract.kind} contract; use check_frame for tables")
    validator = jsonschema.Draft202012Validator(contract.json_schema, format_checker=jsonschema.FormatChecker())
    dataset = contract.dataset
    # A document is one artefact, so each violation concerns exactly one "row".
    violations = [
        Violation(dataset, where, error.validator, 1, f"{dataset}: at {where}: {text}")
        for error in errors_in_order(validator, document)
        for where, text in [explain(error)]
    ]
    if violations:
        raise ContractViolation(violations)
