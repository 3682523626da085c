"""Contract files: meta-schema, semantic rules, dictionary consistency, schema derivation."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any, Callable

import jsonschema
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from engine_assets.quality.contract_checks import ContractViolation, conform_to_contract
from engine_assets.quality.contracts import (
    ARROW_TYPES,
    CONTRACTS_DIR,
    META_SCHEMA_PATH,
    Contract,
    ContractError,
    load_contract,
    load_dictionary,
    validate_all_contracts,
    validate_document,
)
from engine_assets.storage.datasets import publish_dataset
from engine_assets.storage.publish import publish_table

FIXTURE_DIR = Path(__file__).resolve().parent / "contracts_fixture"
HEX64 = "0123456789abcdef" * 4


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def fixture_doc(dataset_id: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURE_DIR / f"{dataset_id}.yaml").read_text(encoding="utf-8"))


def one_column_contract(spec: dict[str, Any], dataset_id: str = "demo/single") -> dict[str, Any]:
    return {
        "x-dataset": dataset_id,
        "x-kind": "table",
        "x-version": 1,
        "type": "object",
        "additionalProperties": False,
        "required": ["value"],
        "properties": {"value": {"description": "the value", **spec}},
        "x-primary-key": [],
        "x-partition-keys": [],
        "x-sort-keys": [],
    }


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture contracts, for dictionary-consistency tests."""
    root = tmp_path / "contracts"
    shutil.copytree(FIXTURE_DIR, root)
    return root


# --- Repository contracts ---


def test_contracts_dir_is_the_repository_folder():
    assert CONTRACTS_DIR == Path(__file__).resolve().parents[3] / "contracts"
    assert (CONTRACTS_DIR / "dictionary.yaml").is_file()


def test_meta_schema_is_a_valid_json_schema():
    meta_schema = yaml.safe_load(META_SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(meta_schema)


def test_every_repository_contract_validates_and_matches_the_dictionary():
    checked = validate_all_contracts()
    assert "engine/run_manifest" in checked
    assert set(checked) == set(load_dictionary())


def test_fixture_contracts_validate():
    assert validate_all_contracts(FIXTURE_DIR) == ["demo/merchants", "demo/mcc_codes", "demo/daily_summary"]


def test_dictionary_entries_are_parsed():
    entry = load_dictionary()["engine/run_manifest"]
    assert entry.asset_key == ("engine", "run_manifest")
    assert entry.kind == "document"
    assert entry.partition_keys == ()
    assert load_dictionary(FIXTURE_DIR)["demo/merchants"].partition_keys == ("country",)


def test_load_contract_builds_columns_and_keys():
    contract = load_contract("demo/merchants", FIXTURE_DIR)
    assert contract.kind == "table" and contract.version == 3
    assert contract.column_names[:3] == ("merchant_id", "mcc", "name")
    assert contract.primary_key == ("merchant_id",)
    assert contract.partition_keys == ("country",)
    assert contract.foreign_keys[0].ref_dataset == "demo/mcc_codes"
    mcc = contract.column("mcc")
    assert (mcc.minimum, mcc.maximum, mcc.arrow_type, mcc.nullable) == (0, 9999, pa.int16(), False)
    assert contract.column("closed_at").nullable


def test_load_contract_is_cached():
    assert load_contract("demo/merchants", FIXTURE_DIR) is load_contract("demo/merchants", str(FIXTURE_DIR))


# --- Run manifest document ---


def valid_manifest() -> dict[str, Any]:
    return {
        "profile": {"name": "ci", "countries": ["DE"]},
        "policies": {"merchants.yaml": HEX64},
        "parameter_hash": HEX64,
        "manifest_fingerprint": HEX64,
        "seed": 2**64 - 1,
        "engine_version": "0.1.0",
        "package_versions": {"polars": "2.1.0"},
        "tzdata_iana_version": "2026f",
        "reference_digests": {},
    }


def test_run_manifest_accepts_a_valid_document():
    validate_document(load_contract("engine/run_manifest"), valid_manifest())


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"seed": 2**64}, "$.seed"),
        ({"seed": -1}, "$.seed"),
        ({"parameter_hash": "abc"}, "$.parameter_hash"),
        ({"policies": {"merchants.yaml": "XYZ"}}, "$.policies['merchants.yaml']"),
        ({"tzdata_iana_version": "2026"}, "$.tzdata_iana_version"),
        ({"unexpected": 1}, "$"),
    ],
)
def test_run_manifest_rejects_bad_values(change: dict[str, Any], path: str):
    with pytest.raises(ContractViolation) as caught:
        validate_document(load_contract("engine/run_manifest"), {**valid_manifest(), **change})
    message = str(caught.value)
    assert "engine/run_manifest" in message and f"at {path}:" in message
    assert caught.value.violations[0].column == path


def test_run_manifest_requires_every_key():
    manifest = valid_manifest()
    del manifest["reference_digests"]
    with pytest.raises(ContractViolation, match=r"at \$: required field 'reference_digests' is missing; add it"):
        validate_document(load_contract("engine/run_manifest"), manifest)


def test_documents_have_no_arrow_schema():
    with pytest.raises(ContractError, match="document contract"):
        load_contract("engine/run_manifest").arrow_schema()


# --- Bad contract files ---

Mutation = Callable[[dict[str, Any]], None]


def _set_column(column: str, **changes: Any) -> Mutation:
    return lambda doc: doc["properties"][column].update(changes)


def _drop_column_key(column: str, key: str) -> Mutation:
    return lambda doc: doc["properties"][column].pop(key)


def _set(**changes: Any) -> Mutation:
    """Set top-level keys; ``x_primary_key`` stands for ``x-primary-key``."""
    return lambda doc: doc.update({k.replace("_", "-") if k.startswith("x_") else k: v for k, v in changes.items()})


def _unrequire(column: str) -> Mutation:
    return lambda doc: doc["required"].remove(column)


BAD_CONTRACTS: dict[str, tuple[Mutation, list[str]]] = {
    "unknown arrow type": (
        _set_column("mcc", **{"x-arrow-type": "int9"}),
        ["$.properties.mcc.x-arrow-type", '"int9"', "allowed", '"int8"', '"timestamp[us, UTC]"'],
    ),
    "arrow type incompatible with JSON type": (
        _set_column("mcc", **{"x-arrow-type": "string"}),
        ["$.properties.mcc.x-arrow-type", "'string'", "'integer'", "allowed: int8"],
    ),
    "unknown JSON type": (_set_column("mcc", type="integr"), ["$.properties.mcc.type", '"integr"', '"integer"']),
    "two non-null JSON types": (_set_column("mcc", type=["integer", "string"]), ["$.properties.mcc.type"]),
    "primary key column missing": (_set(x_primary_key=["nope"]), ["$.x-primary-key", "'nope'", "columns: mcc"]),
    "sort key column missing": (_set(x_sort_keys=["nope"]), ["$.x-sort-keys", "'nope'"]),
    "nullable primary key": (_set_column("mcc", type=["integer", "null"]), ["$.x-primary-key", "'mcc'", "nullable"]),
    "nullability by omission from required": (_unrequire("label"), ["$.required", "'label'", "'null'"]),
    "required lists an unknown column": (_set(required=["mcc", "label", "ghost"]), ["$.required", "'ghost'"]),
    "column without type": (_drop_column_key("label", "type"), ["$.properties.label", "'type'"]),
    "column without description": (_drop_column_key("label", "description"), ["$.properties.label", "'description'"]),
    "empty description": (_set_column("label", description=""), ["$.properties.label.description"]),
    "x-dataset does not match path": (
        _set(x_dataset="demo/other"), ["$.x-dataset", "'demo/other'", "'demo/mcc_codes'"]),
    "misspelt column keyword": (_set_column("mcc", minimun=1), ["$.properties.mcc", "'minimun'", "minimum"]),
    "misspelt table key": (_set(x_primary_keys=["mcc"]), ["$", "'x-primary-keys'", "x-primary-key"]),
    "column name not snake_case": (
        lambda doc: doc["properties"].update({"Label": doc["properties"].pop("label")}),
        ["$.properties", '"Label"', "^[a-z][a-z0-9_]*$"],
    ),
    "open table": (_set(additionalProperties=True), ["$.additionalProperties", "true", "allowed value: false"]),
    "unknown partition layout": (_set(x_partition_keys=["month"]), ["$.x-partition-keys", '["month"]', '["country"]']),
    "version below one": (_set(x_version=0), ["$.x-version", "0 is not allowed; allowed: >= 1"]),
    "unknown kind": (_set(x_kind="view"), ["$.x-kind", '"view"', '"table", "document"']),
    "table keys on a document": (_set(x_kind="document"), ['"x-primary-key" is not allowed here']),
    "bounds on a string column": (_set_column("label", minimum=1), ["$.properties.label", "minimum"]),
    "pattern on an integer column": (_set_column("mcc", pattern="^1"), ["$.properties.mcc", "pattern"]),
    "enum value of the wrong type": (_set_column("mcc", enum=[1, "two"]), ["$.properties.mcc.enum", '"two"']),
    "invalid regex": (_set_column("label", pattern="(["), ["$.properties.label.pattern", '"(["']),
    "regex polars cannot run": (_set_column("label", pattern="(?=a)"), ["$.properties.label.pattern", "look-around"]),
    "foreign key with unknown column": (
        _set(x_foreign_keys=[{"columns": ["ghost"], "references": {"dataset": "demo/other", "columns": ["x"]}}]),
        ["$.x-foreign-keys[0].columns", "'ghost'"],
    ),
    "delta encoding on a string column": (
        _set_column("label", **{"x-encoding": "delta"}),
        ["$.properties.label.x-encoding", "'delta'", "'string'", "it takes int32"],
    ),
    "delta encoding on a dictionary column": (
        _set_column("label", **{"x-arrow-type": "dictionary", "x-encoding": "delta"}),
        ["$.properties.label.x-encoding", "'delta'", "'dictionary'"],
    ),
    "plain encoding on a dictionary column": (
        _set_column("label", **{"x-arrow-type": "dictionary", "x-encoding": "plain"}),
        ["$.properties.label.x-encoding", "'plain'", "'dictionary'"],
    ),
    "byte_stream_split encoding on an integer column": (
        _set_column("mcc", **{"x-encoding": "byte_stream_split"}),
        ["$.properties.mcc.x-encoding", "'byte_stream_split'", "'int16'", "it takes float32, float64"],
    ),
    "unknown encoding": (
        _set_column("mcc", **{"x-encoding": "rle"}),
        ["$.properties.mcc.x-encoding", '"rle"', '"delta"', '"byte_stream_split"', '"plain"'],
    ),
    "statistics on an unknown column": (
        _set(x_statistics=["mcc", "ghost"]), ["$.x-statistics", "'ghost'", "columns: mcc"]),
    "foreign key arity mismatch": (
        _set(x_foreign_keys=[{"columns": ["mcc", "label"], "references": {"dataset": "demo/x", "columns": ["a"]}}]),
        ["$.x-foreign-keys[0]", "2 columns reference 1"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTRACTS))
def test_bad_contract_is_rejected_naming_file_and_field(tmp_path: Path, case: str):
    mutate, expected = BAD_CONTRACTS[case]
    document = copy.deepcopy(fixture_doc("demo/mcc_codes"))
    mutate(document)
    path = write_yaml(tmp_path / "demo" / "mcc_codes.yaml", document)
    with pytest.raises(ContractError) as caught:
        load_contract("demo/mcc_codes", tmp_path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_partition_key_may_not_also_be_a_column(tmp_path: Path):
    document = fixture_doc("demo/mcc_codes")
    document["properties"]["day"] = {"type": "string", "x-arrow-type": "date32", "description": "d"}
    document["required"].append("day")
    document["x-partition-keys"] = ["day"]
    write_yaml(tmp_path / "demo" / "mcc_codes.yaml", document)
    with pytest.raises(ContractError, match=r"\$\.x-partition-keys: 'day' is also a column"):
        load_contract("demo/mcc_codes", tmp_path)


def test_missing_contract_file_is_reported(tmp_path: Path):
    with pytest.raises(ContractError, match="file not found"):
        load_contract("demo/absent", tmp_path)


def test_malformed_dataset_id_is_rejected(tmp_path: Path):
    with pytest.raises(ContractError, match="segment/dataset"):
        load_contract("../escape", tmp_path)


# --- Dictionary consistency ---


def test_contract_file_missing_from_dictionary(fixture_copy: Path):
    write_yaml(fixture_copy / "demo" / "extra.yaml", one_column_contract({"type": "integer"}, "demo/extra"))
    with pytest.raises(ContractError, match=r"extra\.yaml: contract file is not listed"):
        validate_all_contracts(fixture_copy)


def test_dictionary_entry_without_contract_file(fixture_copy: Path):
    (fixture_copy / "demo" / "daily_summary.yaml").unlink()
    with pytest.raises(ContractError, match="'demo/daily_summary' has no contract file"):
        validate_all_contracts(fixture_copy)


def _edit_dictionary(root: Path, dataset_id: str, **changes: Any) -> None:
    path = root / "dictionary.yaml"
    dictionary = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in dictionary["datasets"]:
        if entry["id"] == dataset_id:
            entry.update(changes)
    write_yaml(path, dictionary)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"kind": "document"}, "$.x-kind: 'table' but"),
        ({"partitioning": "day"}, "$.x-partition-keys: ['country'] but"),
        ({"asset_key": ["demo", "other"]}, "does not spell id"),
        ({"contract": "demo/other.yaml"}, "expected 'demo/merchants.yaml'"),
        ({"partitioning": "weekly"}, '"weekly" is not allowed'),
    ],
)
def test_dictionary_must_agree_with_contracts(fixture_copy: Path, changes: dict[str, Any], fragment: str):
    _edit_dictionary(fixture_copy, "demo/merchants", **changes)
    with pytest.raises(ContractError) as caught:
        validate_all_contracts(fixture_copy)
    assert fragment in str(caught.value)


def _set_foreign_key(root: Path, references: dict[str, Any]) -> None:
    document = fixture_doc("demo/merchants")
    document["x-foreign-keys"] = [{"columns": ["mcc"], "references": references}]
    write_yaml(root / "demo" / "merchants.yaml", document)


@pytest.mark.parametrize(
    ("references", "fragment"),
    [
        ({"dataset": "demo/unknown", "columns": ["mcc"]}, "'demo/unknown' is not in the dictionary"),
        ({"dataset": "demo/mcc_codes", "columns": ["code"]}, "'code' is not a column of demo/mcc_codes"),
        ({"dataset": "demo/mcc_codes", "columns": ["label"]}, "'mcc' (int16) cannot reference"),
        ({"dataset": "demo/daily_summary", "columns": ["day"]}, "is a document, not a table"),
    ],
)
def test_foreign_keys_must_reference_existing_columns(fixture_copy: Path, references: dict[str, Any], fragment: str):
    _set_foreign_key(fixture_copy, references)
    with pytest.raises(ContractError) as caught:
        validate_all_contracts(fixture_copy)
    message = str(caught.value)
    assert fragment in message and "merchants.yaml: at $.x-foreign-keys[0].references" in message


# --- Schema derivation ---

JSON_TYPE_OF = {
    **{name: "integer" for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")},
    "float32": "number",
    "float64": "number",
    "bool": "boolean",
    **{name: "string" for name in ("string", "large_string", "dictionary", "date32", "binary")},
    "timestamp[us, UTC]": "string",
    "timestamp[us]": "string",
}

POLARS_OF = {
    "int8": pl.Int8, "int16": pl.Int16, "int32": pl.Int32, "int64": pl.Int64,
    "uint8": pl.UInt8, "uint16": pl.UInt16, "uint32": pl.UInt32, "uint64": pl.UInt64,
    "float32": pl.Float32, "float64": pl.Float64, "bool": pl.Boolean,
    "string": pl.String, "large_string": pl.String, "dictionary": pl.Categorical(),
    "date32": pl.Date, "timestamp[us, UTC]": pl.Datetime("us", "UTC"), "timestamp[us]": pl.Datetime("us"),
    "binary": pl.Binary,
}

EXPECTED_ARROW = {
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(), "uint64": pa.uint64(),
    "float32": pa.float32(), "float64": pa.float64(), "bool": pa.bool_(),
    "string": pa.string(), "large_string": pa.large_string(),
    "dictionary": pa.dictionary(pa.int32(), pa.string()),
    "date32": pa.date32(), "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"), "timestamp[us]": pa.timestamp("us"),
    "binary": pa.binary(),
}


def test_every_allowed_arrow_type_is_covered():
    assert set(ARROW_TYPES) == set(EXPECTED_ARROW) == set(JSON_TYPE_OF) == set(POLARS_OF)


def _single_column(tmp_path: Path, spec: dict[str, Any]) -> Contract:
    write_yaml(tmp_path / "demo" / "single.yaml", one_column_contract(spec))
    return load_contract("demo/single", tmp_path)


@pytest.mark.parametrize("nullable", [False, True], ids=["required", "nullable"])
@pytest.mark.parametrize("arrow_name", sorted(EXPECTED_ARROW))
def test_schema_derivation_for_every_arrow_type(tmp_path: Path, arrow_name: str, nullable: bool):
    json_type = JSON_TYPE_OF[arrow_name]
    contract = _single_column(
        tmp_path, {"type": [json_type, "null"] if nullable else json_type, "x-arrow-type": arrow_name}
    )
    schema = contract.arrow_schema()
    field = schema.field("value")
    assert field.type == EXPECTED_ARROW[arrow_name]
    assert field.nullable is nullable
    assert field.metadata == {b"description": b"the value"}
    assert schema.metadata == {b"contract_dataset": b"demo/single", b"contract_version": b"1"}
    assert contract.polars_schema() == pl.Schema({"value": POLARS_OF[arrow_name]})


@pytest.mark.parametrize(
    ("json_type", "expected"),
    [("integer", pa.int64()), ("number", pa.float64()), ("boolean", pa.bool_()), ("string", pa.string())],
)
def test_default_arrow_type_follows_json_type(tmp_path: Path, json_type: str, expected: pa.DataType):
    assert _single_column(tmp_path, {"type": json_type}).arrow_schema().field("value").type == expected


def test_arrow_schema_keeps_contract_column_order():
    contract = load_contract("demo/merchants", FIXTURE_DIR)
    assert contract.arrow_schema().names == list(contract.column_names)
    assert list(contract.polars_schema()) == list(contract.column_names)


def test_document_contract_must_be_a_valid_json_schema(tmp_path: Path):
    document = fixture_doc("demo/daily_summary")
    document["properties"]["payments"]["type"] = "integr"
    path = write_yaml(tmp_path / "demo" / "daily_summary.yaml", document)
    with pytest.raises(ContractError) as caught:
        load_contract("demo/daily_summary", tmp_path)
    message = str(caught.value)
    assert f"{path}: at $.properties.payments.type: not a valid JSON-Schema" in message and '"integr"' in message


# --- Parquet layout: x-encoding and x-statistics ---


@pytest.mark.parametrize(
    ("arrow_name", "encoding", "parquet_name"),
    [
        ("int64", "delta", "DELTA_BINARY_PACKED"),
        ("uint32", "delta", "DELTA_BINARY_PACKED"),
        ("date32", "delta", "DELTA_BINARY_PACKED"),
        ("timestamp[us]", "delta", "DELTA_BINARY_PACKED"),
        ("float32", "byte_stream_split", "BYTE_STREAM_SPLIT"),
        ("float64", "byte_stream_split", "BYTE_STREAM_SPLIT"),
        ("string", "plain", "PLAIN"),
        ("bool", "plain", "PLAIN"),
    ],
)
def test_encoding_fitting_the_arrow_type_is_accepted(tmp_path: Path, arrow_name: str, encoding: str, parquet_name: str):
    contract = _single_column(
        tmp_path, {"type": JSON_TYPE_OF[arrow_name], "x-arrow-type": arrow_name, "x-encoding": encoding}
    )
    assert contract.column("value").encoding == encoding
    assert contract.parquet_options() == {"use_dictionary": [], "column_encoding": {"value": parquet_name}}


def test_arrival_events_timestamps_are_delta_encoded_without_dictionary():
    contract = load_contract("seg_5b/arrival_events")
    options = contract.parquet_options()
    timestamps = ["ts_utc", "ts_local", "settlement_ts_local"]
    for name in timestamps:
        assert options["column_encoding"][name] == "DELTA_BINARY_PACKED"
        assert name not in options["use_dictionary"]
    assert options["column_encoding"] == dict.fromkeys(["arrival_id", *timestamps], "DELTA_BINARY_PACKED")
    # Every other column keeps its dictionary, in contract order.
    assert options["use_dictionary"] == [n for n in contract.column_names if n not in options["column_encoding"]]
    assert "scenario_id" in options["use_dictionary"] and "tzid" in options["use_dictionary"]
    assert options["write_statistics"] == ["arrival_id", "ts_utc", "ts_local"]


def test_contract_without_encodings_or_statistics_has_no_parquet_options(tmp_path: Path):
    assert load_contract("demo/merchants", FIXTURE_DIR).parquet_options() == {}
    assert _single_column(tmp_path, {"type": "integer"}).parquet_options() == {}


def test_statistics_alone_do_not_touch_dictionaries(tmp_path: Path):
    document = one_column_contract({"type": "integer"})
    document["x-statistics"] = ["value"]
    write_yaml(tmp_path / "demo" / "single.yaml", document)
    assert load_contract("demo/single", tmp_path).parquet_options() == {"write_statistics": ["value"]}


def test_empty_statistics_list_means_no_column_has_statistics(tmp_path: Path):
    document = one_column_contract({"type": "integer"})
    document["x-statistics"] = []
    write_yaml(tmp_path / "demo" / "single.yaml", document)
    assert load_contract("demo/single", tmp_path).parquet_options() == {"write_statistics": []}


def _column_chunks(path: Path) -> dict[str, Any]:
    """Column chunk metadata of the first row group, by column name."""
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    return {row_group.column(i).path_in_schema: row_group.column(i) for i in range(row_group.num_columns)}


def _bucket_counts_table() -> pa.Table:
    return pa.table({
        "merchant_id": pa.array([3, 5, 8], pa.uint64()),
        "legal_country_iso": pa.array(["DE", "DE", "FR"]).dictionary_encode(),
        "tzid": pa.array(["Europe/Berlin", "Europe/Berlin", "Europe/Paris"]).dictionary_encode(),
        "bucket_start": pa.array([0, 300_000_000, 600_000_000], pa.timestamp("us", tz="UTC")),
        "lambda_5a": pa.array([0.5, 1.25, 2.0], pa.float32()),
        "lambda": pa.array([0.75, 1.5, 2.5], pa.float32()),
        "count": pa.array([1, 2, 4], pa.int32()),
    })


def test_published_parquet_carries_the_contract_encodings_and_statistics(identity):
    contract = load_contract("seg_5b/bucket_counts")
    published = publish_dataset(identity, contract, {"scenario": "baseline", "day": "2026-01-01"},
                                _bucket_counts_table())
    chunks = _column_chunks(published.version / published.files[0].name)
    assert list(chunks) == list(contract.column_names)
    assert "DELTA_BINARY_PACKED" in chunks["bucket_start"].encodings
    for name in ("lambda_5a", "lambda"):
        assert "BYTE_STREAM_SPLIT" in chunks[name].encodings
    for name in ("bucket_start", "lambda_5a", "lambda"):
        assert not {"RLE_DICTIONARY", "PLAIN_DICTIONARY"} & set(chunks[name].encodings), name
    for name in ("merchant_id", "legal_country_iso", "tzid", "count"):
        assert "RLE_DICTIONARY" in chunks[name].encodings, name
    with_statistics = [name for name, chunk in chunks.items() if chunk.is_stats_set]
    assert with_statistics == ["merchant_id", "legal_country_iso", "bucket_start"]
    assert (chunks["merchant_id"].statistics.min, chunks["merchant_id"].statistics.max) == (3, 8)
    assert (chunks["legal_country_iso"].statistics.min, chunks["legal_country_iso"].statistics.max) == ("DE", "FR")
    assert chunks["bucket_start"].statistics.has_min_max
    assert all(chunks[name].statistics is None for name in ("tzid", "lambda_5a", "lambda", "count"))


def test_plain_encoded_column_is_written_without_dictionary_and_all_columns_keep_statistics(tmp_path: Path):
    document = one_column_contract({"type": "string", "x-encoding": "plain"})
    document["properties"]["code"] = {"type": "string", "description": "a code"}
    document["required"].append("code")
    write_yaml(tmp_path / "contracts" / "demo" / "single.yaml", document)
    contract = load_contract("demo/single", tmp_path / "contracts")
    table = pa.table({"value": ["a", "b", "a"], "code": ["x", "x", "y"]})
    target = tmp_path / "data" / "demo" / "single"
    published = publish_table(target, table, contract.arrow_schema(), {}, "demo/single",
                              conform=lambda t: conform_to_contract(contract, t), options=contract.parquet_options())
    chunks = _column_chunks(published.version / published.files[0].name)
    assert "PLAIN" in chunks["value"].encodings and "RLE_DICTIONARY" not in chunks["value"].encodings
    assert "RLE_DICTIONARY" in chunks["code"].encodings
    # Without x-statistics every column keeps its min/max.
    assert all(chunk.is_stats_set for chunk in chunks.values())
    assert (chunks["code"].statistics.min, chunks["code"].statistics.max) == ("x", "y")


def test_contracts_are_read_by_the_strict_yaml_reader(tmp_path):
    from engine_assets.quality.contracts import ContractError, _read_yaml

    path = tmp_path / "dup.yaml"
    path.write_text("type: object\ntype: array\n", encoding="utf-8")
    with pytest.raises(ContractError, match="duplicate key 'type'"):
        _read_yaml(path)
    path.write_text("enum: [NO, SE]\n", encoding="utf-8")
    assert _read_yaml(path) == {"enum": ["NO", "SE"]}  # Norway stays a country code
