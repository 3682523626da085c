"""Frame checks against table contracts, and conforming Arrow tables to them."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine_assets.quality.contract_checks import (
    CheckReport,
    ContractViolation,
    check_frame,
    check_frames,
    conform_to_contract,
)
from engine_assets.quality.contracts import Contract, load_contract

FIXTURE_DIR = Path(__file__).resolve().parent / "contracts_fixture"
ROWS = 10
BAD = 3
DATASET = "demo/merchants"


@pytest.fixture(scope="module")
def merchants() -> Contract:
    return load_contract(DATASET, FIXTURE_DIR)


@pytest.fixture(scope="module")
def mcc_codes() -> pl.LazyFrame:
    return pl.LazyFrame(
        {"mcc": pl.Series(range(5000, 5000 + ROWS), dtype=pl.Int16), "label": [f"code {i}" for i in range(ROWS)]}
    )


def clean_frame(rows: int = ROWS) -> pl.DataFrame:
    """Rows that satisfy every rule of demo/merchants (mcc values exist in mcc_codes)."""
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return pl.DataFrame(
        {
            "merchant_id": list(range(1, rows + 1)),
            "mcc": [5000 + i % ROWS for i in range(rows)],
            "name": [f"shop {i}" for i in range(rows)],
            "channel": [("online", "in_store", "moto")[i % 3] for i in range(rows)],
            "country_iso": ["DE"] * rows,
            "risk_score": [0.5] * rows,
            "opened_on": [date(2025, 6, 1)] * rows,
            "created_at": [created] * rows,
            "closed_at": [None] * rows,
            "is_active": [True] * rows,
            "parent_id": [None] * rows,
        },
        schema={
            "merchant_id": pl.Int64,
            "mcc": pl.Int16,
            "name": pl.String,
            "channel": pl.Categorical(),
            "country_iso": pl.String,
            "risk_score": pl.Float64,
            "opened_on": pl.Date,
            "created_at": pl.Datetime("us", "UTC"),
            "closed_at": pl.Datetime("us", "UTC"),
            "is_active": pl.Boolean,
            "parent_id": pl.Int64,
        },
    )


def with_values(frame: pl.DataFrame, column: str, values: list[Any]) -> pl.DataFrame:
    """Replace the first len(values) rows of ``column``, keeping its dtype."""
    series = frame[column]
    replaced = pl.Series(column, values + series.to_list()[len(values):], dtype=series.dtype, strict=False)
    return frame.with_columns(replaced)


def check(contract: Contract, frame: pl.DataFrame, references: dict | None = None) -> CheckReport:
    return check_frame(contract, frame.lazy(), references)


# --- Clean data ---


def test_clean_frame_passes(merchants: Contract, mcc_codes: pl.LazyFrame):
    report = check(merchants, clean_frame(), {"demo/mcc_codes": mcc_codes})
    assert report.passed, report.violations
    assert report.rows_checked == ROWS
    assert report.not_checked == []
    for label in ("not_null:merchant_id", "range:mcc", "enum:channel", "pattern:country_iso", "length:name",
                  "range:risk_score", "primary_key_unique:merchant_id", "foreign_key:mcc->demo/mcc_codes"):
        assert label in report.checks_run
    report.raise_if_failed()


def test_unsupplied_reference_is_not_checked_rather_than_passed(merchants: Contract):
    report = check(merchants, clean_frame())
    assert report.not_checked == ["foreign_key:mcc->demo/mcc_codes: referenced frame not supplied"]
    assert not any(label.startswith("foreign_key") for label in report.checks_run)
    assert report.to_metadata()["not_checked"] == report.not_checked[0]


def test_eager_frames_are_accepted(merchants: Contract, mcc_codes: pl.LazyFrame):
    assert check_frame(merchants, clean_frame(), {"demo/mcc_codes": mcc_codes.collect()}).passed


# --- One violation kind at a time, each with exactly BAD bad rows ---

FrameEdit = Callable[[pl.DataFrame], pl.DataFrame]

VIOLATIONS: dict[str, tuple[FrameEdit, str, str, str]] = {
    # case: (edit, rule, column, message fragment)
    "null in non-nullable column": (
        lambda f: with_values(f, "name", [None] * BAD), "not_null", "name", "null in a non-nullable column"),
    "below minimum": (lambda f: with_values(f, "merchant_id", [0, -1, -2]), "range", "merchant_id", "outside [1, inf)"),
    "above maximum": (lambda f: with_values(f, "mcc", [10000, 20000, 30000]), "range", "mcc", "outside [0, 9999]"),
    "at exclusive minimum": (
        lambda f: with_values(f, "risk_score", [0.0, -0.5, -1.0]), "range", "risk_score", "outside (0, 1)"),
    "at exclusive maximum": (
        lambda f: with_values(f, "risk_score", [1.0, 1.5, 2.0]), "range", "risk_score", "outside (0, 1)"),
    "NaN in bounded float": (
        lambda f: with_values(f, "risk_score", [float("nan")] * BAD), "range", "risk_score", "outside (0, 1)"),
    "value outside enum": (
        lambda f: with_values(f, "channel", ["atm", "atm", "phone"]), "enum", "channel", "not in ['online'"),
    "pattern mismatch": (
        lambda f: with_values(f, "country_iso", ["de", "D", "12"]), "pattern", "country_iso", "'^[A-Z]{2}$'"),
    "too short": (lambda f: with_values(f, "name", ["", "", ""]), "length", "name", "length outside [1, 20]"),
    "too long": (lambda f: with_values(f, "name", ["x" * 21] * BAD), "length", "name", "length outside [1, 20]"),
    "duplicate primary key": (
        lambda f: with_values(f, "merchant_id", [99, 99, 99]), "primary_key_unique", "merchant_id", "duplicate keys"),
    "null primary key part": (
        lambda f: with_values(f, "merchant_id", [None] * BAD), "primary_key_not_null", "merchant_id", "null key part"),
    "foreign key orphan": (
        lambda f: with_values(f, "mcc", [1, 2, 3]), "foreign_key", "mcc", "no match in demo/mcc_codes(mcc)"),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_violation_is_caught_with_exact_count(merchants: Contract, mcc_codes: pl.LazyFrame, case: str):
    edit, rule, column, fragment = VIOLATIONS[case]
    # Out-of-range codes are also orphans; the reference is only given to the FK case.
    references = {"demo/mcc_codes": mcc_codes} if rule == "foreign_key" else None
    report = check(merchants, edit(clean_frame()), references)
    matching = [v for v in report.violations if v.rule == rule]
    assert len(matching) == 1, report.violations
    violation = matching[0]
    # A null key part is also a plain not-null violation; nothing else may fire.
    assert {v.rule for v in report.violations} <= {rule, "not_null"}
    assert (violation.dataset, violation.column, violation.bad_rows) == (DATASET, column, BAD)
    assert violation.message.startswith(f"{DATASET}: ")
    assert f"'{column}'" in violation.message and f" {BAD} rows" in violation.message
    assert fragment in violation.message
    assert not report.passed


def test_nulls_in_nullable_columns_and_null_foreign_keys_pass(merchants: Contract, mcc_codes: pl.LazyFrame):
    assert check(merchants, clean_frame(), {"demo/mcc_codes": mcc_codes}).passed
    frame = with_values(clean_frame(), "mcc", [None])
    report = check(merchants, frame, {"demo/mcc_codes": mcc_codes})
    assert [v.rule for v in report.violations] == ["not_null"]


def test_composite_primary_key_duplicates_count_rows(tmp_path: Path):
    contract_text = (FIXTURE_DIR / "demo" / "mcc_codes.yaml").read_text(encoding="utf-8")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mcc_codes.yaml").write_text(
        contract_text.replace("x-primary-key: [mcc]", "x-primary-key: [mcc, label]"), encoding="utf-8"
    )
    contract = load_contract("demo/mcc_codes", tmp_path)
    frame = pl.DataFrame(
        {"mcc": [1, 1, 1, 1, 2], "label": ["a", "a", "a", "b", "a"]}, schema={"mcc": pl.Int16, "label": pl.String}
    )
    (violation,) = check(contract, frame).violations
    assert violation.bad_rows == 3 and violation.column == "mcc,label"
    assert "primary key columns ('mcc', 'label') has 3 rows with duplicate keys" in violation.message


# --- Schema-level problems ---


def test_missing_column_is_reported_and_its_checks_skipped(merchants: Contract):
    report = check(merchants, clean_frame().drop("country_iso"))
    (violation,) = report.violations
    assert (violation.rule, violation.column, violation.bad_rows) == ("missing_column", "country_iso", ROWS)
    assert violation.message == f"{DATASET}: column 'country_iso' is missing ({ROWS} rows affected)"
    assert "pattern:country_iso" not in report.checks_run


def test_unexpected_column_is_reported(merchants: Contract):
    (violation,) = check(merchants, clean_frame().with_columns(pl.lit(1).alias("surprise"))).violations
    assert (violation.rule, violation.column, violation.bad_rows) == ("unexpected_column", "surprise", ROWS)
    assert "column 'surprise' is not in the contract" in violation.message


def test_each_dtype_mismatch_is_reported(merchants: Contract):
    frame = clean_frame().with_columns(
        pl.col("mcc").cast(pl.Int64),
        pl.col("channel").cast(pl.String),
        pl.col("created_at").dt.replace_time_zone(None),
    )
    report = check(merchants, frame)
    mismatched = {v.column: v for v in report.violations if v.rule == "dtype"}
    assert set(mismatched) == {"mcc", "channel", "created_at"}
    assert "column 'mcc' has 10 rows of dtype Int64; contract requires Int16" in mismatched["mcc"].message
    assert any(item.startswith("values:mcc: skipped") for item in report.not_checked)


def test_enum_dtype_is_accepted_for_dictionary_columns(merchants: Contract, mcc_codes: pl.LazyFrame):
    frame = clean_frame().with_columns(pl.col("channel").cast(pl.String).cast(pl.Enum(["online", "in_store", "moto"])))
    assert check(merchants, frame, {"demo/mcc_codes": mcc_codes}).passed


# --- Report surface ---


def test_report_metadata_is_flat_and_json_serialisable(merchants: Contract):
    frame = with_values(clean_frame(), "mcc", [10000, 20000, 30000])
    metadata = check(merchants, frame).to_metadata()
    json.dumps(metadata)
    assert all(not isinstance(value, (dict, list)) for value in metadata.values())
    assert metadata["passed"] is False and metadata["violation_count"] == 1
    assert metadata["bad_rows/range/mcc"] == BAD


def test_raise_if_failed_lists_every_violation(merchants: Contract):
    frame = with_values(with_values(clean_frame(), "mcc", [-1]), "country_iso", ["x"])
    with pytest.raises(ContractViolation) as caught:
        check(merchants, frame).raise_if_failed()
    assert {v.column for v in caught.value.violations} == {"mcc", "country_iso"}
    assert "2 contract violation(s)" in str(caught.value)
    assert "column 'mcc' has 1 rows outside [0, 9999]" in str(caught.value)


def test_two_million_rows_pass(merchants: Contract, mcc_codes: pl.LazyFrame):
    rows = 2_000_000
    frame = (
        pl.LazyFrame({"merchant_id": pl.int_range(1, rows + 1, eager=True)})
        .with_columns(
            mcc=(5000 + pl.col("merchant_id") % ROWS).cast(pl.Int16),
            name=pl.format("shop {}", pl.col("merchant_id")),
            channel=pl.lit("online").cast(pl.Categorical()),
            country_iso=pl.lit("DE"),
            risk_score=(pl.col("merchant_id") % 999 + 1) / 1000.0,
            opened_on=pl.lit(date(2025, 6, 1)),
            created_at=pl.lit(datetime(2026, 1, 1)).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
            closed_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")),
            is_active=pl.lit(True),
            parent_id=pl.lit(None, dtype=pl.Int64),
        )
        .collect()  # check materialised data, not literals the optimiser could fold
        .lazy()
    )
    report = check_frame(merchants, frame, {"demo/mcc_codes": mcc_codes})
    assert report.passed, report.violations
    assert report.rows_checked == rows


# --- conform_to_contract ---


def arrow_clean(rows: int = 3) -> pa.Table:
    """A demo/merchants table in loose types and shuffled column order."""
    return pa.table(
        {
            "parent_id": pa.array([None] * rows, pa.int64()),
            "merchant_id": pa.array(range(1, rows + 1), pa.int32()),
            "mcc": pa.array([5411] * rows, pa.int64()),
            "name": pa.array(["shop"] * rows, pa.large_string()),
            "channel": pa.array(["online"] * rows),
            "country_iso": pa.array(["DE"] * rows),
            "risk_score": pa.array([0.5] * rows, pa.float32()),
            "opened_on": pa.array([date(2025, 6, 1)] * rows),
            "created_at": pa.array([datetime(2026, 1, 1)] * rows, pa.timestamp("ns", tz="UTC")),
            "closed_at": pa.array([None] * rows, pa.timestamp("us", tz="UTC")),
            "is_active": pa.array([True] * rows),
        }
    )


def test_conform_orders_casts_and_stamps_the_contract_schema(merchants: Contract):
    conformed = conform_to_contract(merchants, arrow_clean())
    assert isinstance(conformed, pa.Table)
    assert conformed.schema.equals(merchants.arrow_schema(), check_metadata=True)
    assert conformed.column("mcc").to_pylist() == [5411] * 3
    assert conformed.column("channel").type == pa.dictionary(pa.int32(), pa.string())


def test_conform_accepts_record_batches(merchants: Contract):
    batch = arrow_clean().to_batches()[0]
    conformed = conform_to_contract(merchants, batch)
    assert isinstance(conformed, pa.RecordBatch)
    assert conformed.schema.equals(merchants.arrow_schema(), check_metadata=True)


def _conform_violations(contract: Contract, table: pa.Table) -> list:
    with pytest.raises(ContractViolation) as caught:
        conform_to_contract(contract, table)
    return caught.value.violations


def test_conform_rejects_missing_and_extra_columns(merchants: Contract):
    table = arrow_clean().drop_columns(["name"]).append_column("extra", pa.array([1, 2, 3]))
    violations = {(v.rule, v.column) for v in _conform_violations(merchants, table)}
    assert violations == {("missing_column", "name"), ("unexpected_column", "extra")}


@pytest.mark.parametrize(
    ("column", "values", "source"),
    [
        ("mcc", pa.array([70000, 80000, 90000, 1], pa.int64()), "int64"),
        ("risk_score", pa.array(["x", "y", "z", "0.5"]), "string"),
        ("merchant_id", pa.array([1.5, 2.5, 3.5, 4.0], pa.float64()), "double"),
    ],
)
def test_failed_cast_names_dataset_column_types_and_count(
    merchants: Contract, column: str, values: pa.Array, source: str
):
    table = arrow_clean(4)
    table = table.set_column(table.schema.get_field_index(column), column, values)
    (violation,) = _conform_violations(merchants, table)
    target = merchants.arrow_schema().field(column).type
    assert (violation.rule, violation.column, violation.bad_rows) == ("cast", column, BAD)
    assert violation.message.startswith(f"{DATASET}: column '{column}' has {BAD} rows that cannot be cast")
    assert f"from {source} to {target}" in violation.message


def test_conform_rejects_nulls_in_non_nullable_columns(merchants: Contract):
    table = arrow_clean()
    table = table.set_column(table.schema.get_field_index("name"), "name", pa.array([None, None, "a"]))
    (violation,) = _conform_violations(merchants, table)
    assert (violation.rule, violation.column, violation.bad_rows) == ("not_null", "name", 2)


def test_conformed_parquet_reads_back_clean(merchants: Contract, tmp_path: Path):
    path = tmp_path / "merchants.parquet"
    pq.write_table(conform_to_contract(merchants, arrow_clean()), path)
    report = check_frame(merchants, pl.scan_parquet(path))
    assert report.passed, report.violations
    assert report.rows_checked == 3


def test_reference_without_key_columns_is_not_checked(merchants: Contract):
    report = check(merchants, clean_frame(), {"demo/mcc_codes": pl.LazyFrame({"code": [1]})})
    assert report.not_checked == ["foreign_key:mcc->demo/mcc_codes: referenced frame lacks mcc"]
    assert report.passed


def test_many_partitions_report_like_one_at_a_time(merchants: Contract, mcc_codes: pl.LazyFrame):
    """check_frames: the foreign key in one pass, orphans charged to the partition that holds them."""
    refs = {"demo/mcc_codes": mcc_codes}
    frames = {
        "DE": clean_frame().lazy(),
        "GB": with_values(clean_frame(), "mcc", [1, 2]).lazy(),
        "FR": with_values(clean_frame(), "risk_score", [7.0]).lazy(),
        "IT": with_values(clean_frame(), "merchant_id", [2]).lazy(),  # a key repeated inside one partition
        "PT": with_values(clean_frame(), "channel", ["atm", "moto", "phone"]).lazy(),  # a categorical outside its enum
        "ES": clean_frame().clear().lazy(),
    }
    together = check_frames(merchants, frames, refs)
    for key, frame in frames.items():
        alone = check_frame(merchants, frame, refs)
        assert together[key].violations == alone.violations, key
        assert sorted(together[key].checks_run) == sorted(alone.checks_run), key
        assert together[key].not_checked == alone.not_checked == []
    assert [v.bad_rows for v in together["GB"].violations] == [2] and together["DE"].passed
    assert [v.rule for v in together["IT"].violations] == ["primary_key_unique"] and together["ES"].rows_checked == 0
    assert [(v.rule, v.bad_rows) for v in together["PT"].violations] == [("enum", 2)]
    unsupplied = check_frames(merchants, frames)
    assert unsupplied["DE"].not_checked == ["foreign_key:mcc->demo/mcc_codes: referenced frame not supplied"]
