"""Checking data against table contracts.

``check_frame`` evaluates a contract's row rules on a polars LazyFrame with as
few passes as possible: one aggregated ``select`` for all per-column rules, one
group-by for primary-key uniqueness and one anti-join per foreign key, all
collected together so polars can share the scan. ``conform_to_contract`` is
the writer's gate: it turns an Arrow table into exactly the contract's schema
or refuses.
"""

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from engine_assets.quality.contracts import Column, Contract, ContractViolation, ForeignKey, Violation

_ARROW_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
_MAX_LISTED_VALUES = 10


@dataclass(frozen=True)
class CheckReport:
    """Outcome of ``check_frame``.

    ``not_checked`` lists rules that could not be evaluated (e.g. a foreign key
    whose referenced frame was not supplied); they count neither as passed nor
    as failed, so callers can tell "clean" from "unverified".
    """

    dataset: str
    rows_checked: int
    violations: list[Violation] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no violation was found (rules in ``not_checked`` aside)."""
        return not self.violations

    def to_metadata(self) -> dict[str, Any]:
        """Flat, JSON-serialisable summary for asset metadata in the UI."""
        metadata: dict[str, Any] = {
            "contract_dataset": self.dataset,
            "rows_checked": self.rows_checked,
            "passed": self.passed,
            "checks_run": len(self.checks_run),
            "violation_count": len(self.violations),
            "violations": "\n".join(v.message for v in self.violations),
            "not_checked": "\n".join(self.not_checked),
        }
        for violation in self.violations:
            metadata[f"bad_rows/{violation.rule}/{violation.column}"] = violation.bad_rows
        return metadata

    def raise_if_failed(self) -> None:
        """Raise ContractViolation listing every violation, if there is any."""
        if self.violations:
            raise ContractViolation(self.violations)


@dataclass(frozen=True)
class _Check:
    """A rule reduced to one count of bad rows.

    ``count`` is either an aggregate expression (evaluated in the shared
    ``select``) or a one-cell query of its own (group-by, anti-join).
    The violation message reads "<dataset>: <subject> has <n> <what>".
    """

    rule: str
    columns: tuple[str, ...]
    subject: str
    what: str
    count: pl.Expr | pl.LazyFrame
    target: str = ""

    @property
    def label(self) -> str:
        return f"{self.rule}:{','.join(self.columns)}" + (f"->{self.target}" if self.target else "")

    def violation(self, dataset: str, bad_rows: int) -> Violation:
        message = f"{dataset}: {self.subject} has {bad_rows} {self.what}"
        return Violation(dataset, ",".join(self.columns), self.rule, bad_rows, message)


# --- Message helpers ---


def _columns_phrase(columns: Sequence[str]) -> str:
    if len(columns) == 1:
        return f"column '{columns[0]}'"
    return "columns (" + ", ".join(f"'{c}'" for c in columns) + ")"


def _interval(column: Column) -> str:
    """Human form of a column's bounds, e.g. ``[0, 9999]`` or ``(0, inf)``."""
    low, high = "(-inf", "inf)"
    if column.minimum is not None:
        low = f"[{column.minimum}"
    # When both an inclusive and an exclusive bound exist, show the stricter one.
    if column.exclusive_minimum is not None and (column.minimum is None or column.exclusive_minimum >= column.minimum):
        low = f"({column.exclusive_minimum}"
    if column.maximum is not None:
        high = f"{column.maximum}]"
    if column.exclusive_maximum is not None and (column.maximum is None or column.exclusive_maximum <= column.maximum):
        high = f"{column.exclusive_maximum})"
    return f"{low}, {high}"


def _values_phrase(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(v) for v in values[:_MAX_LISTED_VALUES])
    more = f", ... ({len(values)} values)" if len(values) > _MAX_LISTED_VALUES else ""
    return f"[{shown}{more}]"


# --- Per-column rules ---


def _is_categorical(dtype: pl.DataType) -> bool:
    # Both Categorical and Enum become Arrow dictionaries on write.
    return dtype.base_type() in (pl.Categorical, pl.Enum)


def _dtype_matches(actual: pl.DataType, expected: pl.DataType) -> bool:
    return _is_categorical(actual) if _is_categorical(expected) else actual == expected


def _as_text(column: Column) -> pl.Expr:
    """Column as String, so string rules also work on categoricals."""
    return pl.col(column.name).cast(pl.String)


def _outside(value: pl.Expr, bounds: Sequence[tuple[Callable[[Any, Any], Any], Any]]) -> pl.Expr:
    """True where ``value`` breaks any (comparison, bound) pair; null where it is null."""
    return ~pl.all_horizontal([compare(value, bound) for compare, bound in bounds if bound is not None])


def _range_check(column: Column) -> _Check | None:
    bounds = [
        (operator.ge, column.minimum), (operator.gt, column.exclusive_minimum),
        (operator.le, column.maximum), (operator.lt, column.exclusive_maximum),
    ]
    if all(bound is None for _, bound in bounds):
        return None
    outside = _outside(pl.col(column.name), bounds)
    # polars orders NaN above every number, so NaN would pass a lone minimum.
    if column.polars_dtype.is_float():
        outside = outside | pl.col(column.name).is_nan()
    subject = _columns_phrase([column.name])
    return _Check("range", (column.name,), subject, f"rows outside {_interval(column)}", outside.sum())


def _value_checks(column: Column) -> list[_Check]:
    """Rules on a column's values. Nulls never count here; ``not_null`` owns them."""
    name, subject = column.name, _columns_phrase([column.name])
    checks = [check for check in [_range_check(column)] if check is not None]
    if column.enum is not None:
        values = list(column.enum)
        # A categorical compares with strings on its categories: casting every row to text costs ~30x.
        value = pl.col(name)
        what = f"rows not in {_values_phrase(values)}"
        checks.append(_Check("enum", (name,), subject, what, (~value.is_in(values)).sum()))
    if column.pattern is not None:
        # JSON-Schema patterns are unanchored searches, which is what str.contains does.
        bad = ~_as_text(column).str.contains(column.pattern)
        checks.append(_Check("pattern", (name,), subject, f"rows not matching pattern {column.pattern!r}", bad.sum()))
    if column.min_length is not None or column.max_length is not None:
        length_bounds = [(operator.ge, column.min_length), (operator.le, column.max_length)]
        bad = _outside(_as_text(column).str.len_chars(), length_bounds)
        low = column.min_length if column.min_length is not None else 0
        high = column.max_length if column.max_length is not None else "inf"
        checks.append(_Check("length", (name,), subject, f"rows with length outside [{low}, {high}]", bad.sum()))
    return checks


def _row_checks(contract: Contract, present: set[str], typed: set[str]) -> list[_Check]:
    """Every rule that reduces to one aggregate over the frame."""
    checks = []
    for column in contract.columns:
        if column.name in present and not column.nullable:
            nulls = pl.col(column.name).is_null().sum()
            subject = _columns_phrase([column.name])
            what = "rows that are null in a non-nullable column"
            checks.append(_Check("not_null", (column.name,), subject, what, nulls))
        if column.name in typed:
            checks.extend(_value_checks(column))
    key = contract.primary_key
    if key and all(c in present for c in key):
        nulls = pl.any_horizontal([pl.col(c).is_null() for c in key]).sum()
        subject = f"primary key {_columns_phrase(key)}"
        checks.append(_Check("primary_key_not_null", key, subject, "rows with a null key part", nulls))
    return checks


# --- Schema comparison ---


def _typed_columns(contract: Contract, actual: pl.Schema) -> set[str]:
    """Contract columns present with the right dtype: the ones safe to check by value."""
    expected = contract.polars_schema()
    return {name for name, dtype in expected.items() if name in actual and _dtype_matches(actual[name], dtype)}


def _schema_violations(contract: Contract, actual: pl.Schema, rows: int) -> list[Violation]:
    """Missing, unexpected and mistyped columns; each affects every row."""
    dataset, expected = contract.dataset, contract.polars_schema()

    def violation(name: str, rule: str, problem: str) -> Violation:
        return Violation(dataset, name, rule, rows, f"{dataset}: column '{name}' {problem}")

    violations = [
        violation(name, "missing_column", f"is missing ({rows} rows affected)")
        for name in expected
        if name not in actual
    ]
    violations += [
        violation(name, "dtype", f"has {rows} rows of dtype {actual[name]}; contract requires {dtype}")
        for name, dtype in expected.items()
        if name in actual and not _dtype_matches(actual[name], dtype)
    ]
    violations += [
        violation(name, "unexpected_column", f"is not in the contract ({rows} rows affected)")
        for name in actual
        if name not in expected
    ]
    return violations


# --- Multi-row rules: duplicates and foreign keys ---


def _duplicate_rows(frame: pl.LazyFrame, key: Sequence[str], by: str | None = None) -> pl.LazyFrame:
    """One-cell frame: rows whose key occurs more than once (with ``by``: per value of ``by``,
    as columns ``by`` and ``len``, keys compared within each value only).

    Rows with a null key part are left to the not-null rule rather than
    counted again here.
    """
    # Contract column names start with a letter, so this name cannot collide.
    count = "__contract_key_rows"
    groups = list(key) + ([by] if by else [])
    repeated = frame.drop_nulls(subset=list(key)).group_by(groups).agg(pl.len().alias(count)).filter(pl.col(count) > 1)
    if by:
        return repeated.group_by(by).agg(pl.col(count).sum().cast(pl.Int64).alias("len"))
    return repeated.select(pl.col(count).sum().cast(pl.Int64))


def _orphan_rows(
    frame: pl.LazyFrame, fk: ForeignKey, reference: pl.LazyFrame, dtypes: pl.Schema, by: str | None = None
) -> pl.LazyFrame:
    """One-cell frame: rows whose non-null FK tuple is missing from the reference.

    With ``by`` (a column of ``frame`` outside the key), the count per value of that column
    instead, as columns ``by`` and ``len``.
    """
    columns = list(fk.columns)
    # Categoricals join reliably only once both sides are plain strings.
    key_types = [pl.String() if _is_categorical(dtypes[c]) else dtypes[c] for c in columns]
    left = frame.select([pl.col(c).cast(t) for c, t in zip(columns, key_types)] + ([pl.col(by)] if by else []))
    left = left.filter(pl.all_horizontal([pl.col(c).is_not_null() for c in columns]))
    # Reference values that do not fit the local dtype cannot match any local value anyway.
    right = reference.select(
        [pl.col(r).cast(t, strict=False).alias(c) for c, r, t in zip(columns, fk.ref_columns, key_types)]
    ).unique()
    orphans = left.join(right, on=columns, how="anti")
    if by:
        return orphans.group_by(by).agg(pl.len().cast(pl.Int64))
    return orphans.select(pl.len().cast(pl.Int64))


def _key_checks(
    contract: Contract, frame: pl.LazyFrame, present: set[str], by: str | None
) -> tuple[list[_Check], list[str]]:
    """The primary-key uniqueness query, or why it cannot run."""
    key = contract.primary_key
    if not key:
        return [], []
    if not all(c in present for c in key):
        return [], [f"primary_key_unique:{','.join(key)}: key columns missing"]
    subject = f"primary key {_columns_phrase(key)}"
    return [_Check("primary_key_unique", key, subject, "rows with duplicate keys", _duplicate_rows(frame, key, by))], []


def _foreign_key_checks(
    contract: Contract,
    frame: pl.LazyFrame,
    actual: pl.Schema,
    typed: set[str],
    references: Mapping[str, pl.LazyFrame],
    by: str | None,
) -> tuple[list[_Check], list[str]]:
    """Anti-join queries for the foreign keys that can be checked, and why the others cannot."""
    checks, not_checked = [], []
    for fk in contract.foreign_keys:
        label = f"foreign_key:{','.join(fk.columns)}->{fk.ref_dataset}"
        reference = references.get(fk.ref_dataset)
        if reference is None:
            not_checked.append(f"{label}: referenced frame not supplied")
            continue
        reference = reference.lazy()
        missing = [c for c in fk.ref_columns if c not in reference.collect_schema()]
        if missing:
            not_checked.append(f"{label}: referenced frame lacks {', '.join(missing)}")
        elif not all(c in typed for c in fk.columns):
            not_checked.append(f"{label}: local key columns missing or mistyped")
        else:
            what = f"rows with no match in {fk.ref_dataset}({', '.join(fk.ref_columns)})"
            orphans = _orphan_rows(frame, fk, reference, actual, by)
            checks.append(_Check("foreign_key", fk.columns, _columns_phrase(fk.columns), what, orphans, fk.ref_dataset))
    return checks, not_checked


# --- check_frame ---


@dataclass(frozen=True)
class _Plan:
    """The queries that check a frame, and how to turn their results into the report of one part."""

    queries: list[pl.LazyFrame]
    finish: Callable[[list[pl.DataFrame], int | None], CheckReport]


def _plan(contract: Contract, frame: pl.LazyFrame, references: Mapping[str, pl.LazyFrame] | None,
          by: str | None = None) -> _Plan:
    """Every rule as few queries; with ``by`` each count is taken per value of that column."""
    actual = frame.collect_schema()
    columns = pl.Schema({k: v for k, v in actual.items() if k != by})
    present = {name for name in contract.column_names if name in columns}
    typed = _typed_columns(contract, columns)
    not_checked = [
        f"values:{name}: skipped, dtype {columns[name]} does not match the contract"
        for name in contract.column_names
        if name in present and name not in typed
    ]
    row_checks = _row_checks(contract, present, typed)
    key_checks, key_skipped = _key_checks(contract, frame, present, by)
    fk_checks, fk_skipped = _foreign_key_checks(contract, frame, columns, typed, references or {}, by)
    query_checks = key_checks + fk_checks
    not_checked += key_skipped + fk_skipped
    counts = [pl.len().cast(pl.Int64).alias("__contract_rows")] + [
        check.count.cast(pl.Int64).alias(f"__contract_check_{i}") for i, check in enumerate(row_checks)
    ]
    aggregated = frame.group_by(by).agg(counts) if by else frame.select(counts)

    def finish(results: list[pl.DataFrame], part: int | None) -> CheckReport:
        if by:
            results = [r.filter(pl.col(by) == part).drop(by) for r in results]
        first = results[0].row(0) if results[0].height else (0,) * (len(row_checks) + 1)
        rows, *row_counts = first
        query_counts = [(result.item() if result.height else 0) or 0 for result in results[1:]]
        violations = _schema_violations(contract, columns, rows)
        violations += [
            check.violation(contract.dataset, bad)
            for check, bad in zip(row_checks + query_checks, row_counts + query_counts)
            if bad
        ]
        checks_run = ["columns"] + [f"dtype:{name}" for name in contract.column_names if name in present]
        checks_run += [check.label for check in row_checks + query_checks]
        return CheckReport(contract.dataset, rows, violations, checks_run, list(not_checked))

    return _Plan([aggregated] + [check.count for check in query_checks], finish)


def check_frame(
    contract: Contract,
    frame: pl.LazyFrame,
    references: Mapping[str, pl.LazyFrame] | None = None,
) -> CheckReport:
    """Check ``frame`` against a table contract; never raises for bad data.

    ``references`` maps referenced dataset ids to their frames for foreign-key
    checks. Columns that are missing or mistyped are reported and skipped by
    the value rules (their results would be meaningless).
    """
    plan = _plan(contract, frame.lazy(), references)
    # One collect_all so polars can share the scan between the queries.
    return plan.finish(pl.collect_all(plan.queries), None)


def check_frames(
    contract: Contract,
    frames: Mapping[Any, pl.LazyFrame],
    references: Mapping[str, pl.LazyFrame] | None = None,
) -> dict[Any, CheckReport]:
    """``check_frame`` for many partitions of one dataset, as if each were checked alone.

    Partitions with the same schema are stacked with their position as a column and checked
    by one set of grouped queries: hundreds of small country partitions cost one scan, and
    each foreign key hashes its reference once instead of once per partition.
    """
    by_schema: dict[tuple, list] = {}
    for key, frame in frames.items():
        by_schema.setdefault(tuple(frame.lazy().collect_schema().items()), []).append(key)
    part = "__contract_part"
    reports = {}
    for keys in by_schema.values():
        stacked = pl.concat([frames[k].lazy().with_columns(pl.lit(i, pl.Int64).alias(part)) for i, k in enumerate(keys)])
        plan = _plan(contract, stacked, references, by=part)
        results = pl.collect_all(plan.queries)
        reports.update({k: plan.finish(results, i) for i, k in enumerate(keys)})
    return {key: reports[key] for key in frames}


# --- conform_to_contract ---


def _casts(values: pa.Array, target: pa.DataType) -> bool:
    try:
        pc.cast(values, target, safe=True)
    except _ARROW_CAST_ERRORS:
        return False
    return True


def _count_by_distinct_value(values: pa.Array | pa.ChunkedArray, target: pa.DataType) -> int:
    """Rows whose value fails a safe cast, trying each distinct value once."""
    distinct = pc.unique(values).drop_null()
    bad = [i for i in range(len(distinct)) if not _casts(distinct.slice(i, 1), target)]
    if not bad:
        return 0
    return pc.sum(pc.is_in(values, value_set=pc.take(distinct, pa.array(bad)))).as_py() or 0


def _count_uncastable(values: pa.Array | pa.ChunkedArray, target: pa.DataType) -> int:
    """How many non-null rows a safe cast to ``target`` would reject."""
    try:
        # A lossy cast shows as a value that does not survive the round trip.
        back = pc.cast(pc.cast(values, target, safe=False), values.type, safe=False)
    except _ARROW_CAST_ERRORS:
        # No unsafe cast either (e.g. unparsable strings): test values one by one.
        return _count_by_distinct_value(values, target)
    survived = pc.fill_null(pc.equal(values, back), False)
    return pc.sum(pc.and_(pc.is_valid(values), pc.invert(survived))).as_py() or 0


def _conform_column(
    dataset: str, target: pa.Field, values: pa.Array | pa.ChunkedArray
) -> tuple[pa.Array | pa.ChunkedArray, list[Violation]]:
    name = target.name
    violations = []
    if values.type != target.type:
        try:
            values = pc.cast(values, target.type, safe=True)
        except _ARROW_CAST_ERRORS as exc:
            bad = _count_uncastable(values, target.type)
            problem = f"has {bad} rows that cannot be cast from {values.type} to {target.type} ({exc})"
            violations.append(Violation(dataset, name, "cast", bad, f"{dataset}: column '{name}' {problem}"))
    if not target.nullable and values.null_count:
        nulls = values.null_count
        message = f"{dataset}: column '{name}' has {nulls} rows that are null in a non-nullable column"
        violations.append(Violation(dataset, name, "not_null", nulls, message))
    return values, violations


def _layout_violations(dataset: str, expected: Sequence[str], names: Sequence[str], rows: int) -> list[Violation]:
    """Missing, unexpected and duplicated columns of an Arrow table."""
    problems = [(n, "missing_column", "is missing") for n in expected if n not in names]
    problems += [(n, "unexpected_column", "is not in the contract") for n in dict.fromkeys(names) if n not in expected]
    problems += [(n, "duplicate_column", "appears more than once") for n in dict.fromkeys(names) if names.count(n) > 1]
    return [
        Violation(dataset, name, rule, rows, f"{dataset}: column '{name}' {problem} ({rows} rows affected)")
        for name, rule, problem in problems
    ]


def conform_to_contract(contract: Contract, table: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """Return ``table`` with exactly the contract's columns, order, types and metadata.

    Raises ContractViolation for missing, extra or duplicated columns, values
    that do not survive a safe cast, and nulls in non-nullable columns.
    """
    schema = contract.arrow_schema()
    names = table.schema.names
    violations = _layout_violations(contract.dataset, schema.names, names, table.num_rows)
    arrays = []
    for target in schema:
        if names.count(target.name) == 1:
            values, problems = _conform_column(contract.dataset, target, table.column(target.name))
            arrays.append(values)
            violations += problems
    if violations:
        raise ContractViolation(violations)
    if isinstance(table, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(arrays, schema=schema)
    return pa.Table.from_arrays(arrays, schema=schema)
