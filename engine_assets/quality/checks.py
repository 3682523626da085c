"""Blocking asset checks generated from dataset contracts.

Each published dataset gets one `contract` check that re-reads what readers will see (the
published partitions of this run) and applies the contract's vectorised polars rules: columns
and types, nulls, ranges, enums, patterns, primary-key uniqueness and foreign keys.
"""

import hashlib
import json
from pathlib import Path
from typing import Any, Iterator

import dagster as dg
import polars as pl

# Public in spirit (it is the type of AssetCheckEvaluation's field) but not re-exported by dagster.
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData

from engine_assets.quality.contract_checks import ContractViolation, check_frames
from engine_assets.quality.contracts import Contract, load_contract, validate_document
from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import is_country_groups, stored_partitions
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import PartitionKey, is_published, load_dataset, partition_path, scan_dataset
from engine_assets.storage.publish import MANIFEST, read_manifest

# Rows of the partitions one check stacks into one frame: bounds the check's memory.
CHECK_ROWS = 4_000_000


def check_partitions(
    identity: RunIdentity, contract: Contract, keys: list[PartitionKey]
) -> list[tuple[bool, dict[str, Any]]]:
    """Verdict and UI metadata for each of the published partitions `keys`, in order.

    Table partitions are checked together so that each foreign key is one pass over all of them;
    a same-partition foreign key joins only the batch's own partitions of the referenced dataset.
    """
    data = [load_dataset(identity, contract, key) for key in keys]
    if contract.kind == "artefact":
        return [_check_artefact(contract, files) for files in data]
    if contract.kind == "document":
        return [_check_document(contract, document) for document in data]
    whole = {fk.ref_dataset: scan_dataset(identity, load_contract(fk.ref_dataset))
             for fk in contract.foreign_keys if not fk.same_partition}
    reports = {}
    for batch in _batches([read_manifest(partition_path(identity, contract, k), str(k))["rows"] for k in keys]):
        local = {fk.ref_dataset: _same_partitions(identity, load_contract(fk.ref_dataset), [keys[i] for i in batch])
                 for fk in contract.foreign_keys if fk.same_partition}
        reports |= check_frames(contract, {i: data[i] for i in batch}, whole | local)
    return [(reports[i].passed, reports[i].to_metadata()) for i in range(len(keys))]


def _same_partitions(identity: RunIdentity, contract: Contract, keys: list[PartitionKey]) -> pl.LazyFrame:
    """The published ones of these partitions of a table dataset, as one LazyFrame."""
    frames = [load_dataset(identity, contract, k) for k in keys if is_published(identity, contract, k)]
    return pl.concat(frames, how="vertical") if frames else pl.LazyFrame(schema=contract.polars_schema())


def _batches(rows: list[int], budget: int = CHECK_ROWS) -> list[list[int]]:
    """Positions of consecutive partitions grouped up to `budget` rows (a bigger one alone): many
    small country partitions still share one scan, while a month of arrival days is never
    stacked into one frame."""
    batches: list[list[int]] = []
    total = 0
    for i, n in enumerate(rows):
        if not batches or total + n > budget:
            batches.append([])
            total = 0
        batches[-1].append(i)
        total += n
    return batches


def _check_document(contract: Contract, document: dict) -> tuple[bool, dict[str, Any]]:
    try:
        validate_document(contract, document)
    except ContractViolation as exc:
        return False, {"violations": str(exc)}
    return True, {"document_keys": len(document)}


def _check_artefact(contract: Contract, files: dict[str, Path]) -> tuple[bool, dict[str, Any]]:
    """The published files are exactly the contract's, and each still has its recorded digest."""
    manifest = json.loads((next(iter(files.values())).parent / MANIFEST).read_text())
    recorded = {f["name"]: f["sha256"] for f in manifest["files"]}
    problems = []
    if set(files) != set(contract.files):
        problems.append(f"files {sorted(files)} differ from the contract's {sorted(contract.files)}")
    for name, path in files.items():
        if hashlib.sha256(path.read_bytes()).hexdigest() != recorded.get(name):
            problems.append(f"{name} does not match its recorded SHA-256")
    return not problems, {"files": sorted(files), "problems": problems}


def partition_evaluations(
    context: dg.AssetCheckExecutionContext,
    asset_key: dg.AssetKey,
    check_name: str,
    verdicts: dict[str | None, tuple[bool, dict[str, Any]]],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """One evaluation per partition checked, each tied to that partition's latest materialisation.

    An `AssetCheckResult` in a run over a partition range is recorded without a partition, so
    the UI would show every partition of the range as skipped; evaluations carry their own.
    """
    latest = _latest_materialisations(context.instance, asset_key, list(verdicts))
    for key, (passed, metadata) in verdicts.items():
        yield dg.AssetCheckEvaluation(
            asset_key=asset_key, check_name=check_name, passed=passed, metadata=metadata,
            severity=dg.AssetCheckSeverity.ERROR, blocking=True, partition=key,
            target_materialization_data=latest.get(key),
        )
    # The check's own output, which lets downstream steps of the run wait for it.
    [output] = context.op_execution_context.op_def.output_defs
    yield dg.Output(None, output_name=output.name)


def _latest_materialisations(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: list[str | None]
                             ) -> dict[str | None, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialisation of each partition, in two queries whatever their number (250
    countries would otherwise cost a query each)."""
    if partitions == [None]:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key), limit=1).records
    else:
        latest = instance.event_log_storage.get_latest_storage_id_by_partition(
            asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, set(partitions))
        ids = [latest[p] for p in partitions if p in latest]
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=ids),
                                                  limit=max(len(ids), 1)).records if ids else []
    return {r.partition_key: AssetCheckEvaluationTargetMaterializationData(
        storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp) for r in records}


def _group_verdict(results: dict[str, tuple[bool, dict[str, Any]]]) -> tuple[bool, dict[str, Any]]:
    """A country group's verdict: it passes if every country does; failing countries' metadata under their code."""
    failed = {code: metadata for code, (passed, metadata) in results.items() if not passed}
    metadata: dict[str, Any] = {"countries": ", ".join(results), "failed_countries": ", ".join(failed)}
    if rows := [m["rows_checked"] for _, m in results.values() if "rows_checked" in m]:
        metadata["rows_checked"] = sum(rows)
    for code, failure in failed.items():
        metadata |= {f"{code}/{name}": value for name, value in failure.items()}
    return not failed, metadata


def contract_check(asset_key: list[str], partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetChecksDefinition:
    contract = load_contract("/".join(asset_key))

    @dg.asset_check(
        asset=dg.AssetKey(asset_key),
        name="contract",
        blocking=True,
        partitions_def=partitions_def,
        description=f"Published data of {contract.dataset} satisfies contracts/{contract.dataset}.yaml "
        f"(version {contract.version}).",
    )
    def _contract(context: dg.AssetCheckExecutionContext, engine: EngineResource):
        identity = engine.identity()
        # In the partitions' own order, so the latest verdict is the last partition's.
        keys: list[str | None] = [None] if partitions_def is None else sorted(
            context.partition_keys, key=partitions_def.get_partition_keys().index)
        parts = stored_partitions(keys, partitions_def)
        results = iter(check_partitions(identity, contract, [s for group in parts.values() for s in group.values()]))
        got = {key: {name: next(results) for name in group} for key, group in parts.items()}
        grouped = is_country_groups(partitions_def)
        verdicts = {key: _group_verdict(by_name) if grouped else by_name[key] for key, by_name in got.items()}
        yield from partition_evaluations(context, dg.AssetKey(asset_key), "contract", verdicts)

    return _contract
