"""The one way assets and validations read published data: declared datasets only, each behind its gate.

A `Reader` belongs to one asset. It serves a dataset only if the asset declared it upstream
(`ins` or `deps`), so the asset graph is the true data flow, and before the first read of
another segment's dataset it verifies that segment's validation bundle (`verify_gate`): a
segment is read only after its validation passed, and no asset can forget to check.

One plan is read before its segment is validated: 3A's validation needs 2A's zones, which need
1B's sites, which are placed by 3A's zone plan. `EARLY_READS` names that dataset and the gate
that stands for it (the plan is drawn from 1A's catalogue only, and its blocking contract check
runs before anything reads it).
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from engine_assets.quality.contracts import Contract, load_contract
from engine_assets.quality.gates import validation_key, verify_gate
from engine_assets.run.errors import LineageError
from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import COUNTRY_CODES
from engine_assets.storage.datasets import PartitionKey, is_published, load_dataset, partition_path, scan_partitions
from engine_assets.storage.publish import read_manifest
from engine_kernels.digest import length_prefixed_sha256

EARLY_READS = {"seg_3a/zone_plan": "seg_1a"}


def segment_of(dataset: str) -> str:
    return dataset.split("/", 1)[0]


class Reader:
    """What one asset may read of the world `identity`: the datasets in `declared`, gated."""

    def __init__(self, identity: RunIdentity, segment: str, declared: Iterable[str], asset: str | None = None):
        self.identity, self.segment = identity, segment
        self.declared = frozenset(declared)
        self.asset = asset or segment
        self._gates: dict[str, dict[str, Any]] = {}

    @classmethod
    def of(cls, context: dg.AssetExecutionContext | dg.OpExecutionContext, identity: RunIdentity) -> "Reader":
        """The reader of the asset (or multi-asset) that `context` executes: its declared upstreams."""
        return cls.for_assets_def(context.assets_def, identity)

    @classmethod
    def for_assets_def(cls, assets_def: dg.AssetsDefinition, identity: RunIdentity) -> "Reader":
        groups = set(assets_def.group_names_by_key.values())
        if len(groups) != 1:
            raise ValueError(f"assets {sorted(k.to_user_string() for k in assets_def.keys)} span groups {sorted(groups)}")
        declared = {"/".join(dep.asset_key.path) for spec in assets_def.specs for dep in spec.deps}
        first = min(k.to_user_string() for k in assets_def.keys)
        return cls(identity, groups.pop(), declared, first)

    def _contract(self, dataset: str) -> Contract:
        if dataset not in self.declared:
            raise LineageError(
                f"{self.asset} read {dataset} without declaring it: add {dataset} to the asset's ins or deps "
                "so the asset graph shows where its data comes from")
        if segment_of(dataset) != self.segment:
            self.gate(gate_of(dataset))
        return load_contract(dataset)

    def gate(self, segment: str) -> dict[str, Any]:
        """The report of `segment`'s validation, verified once per reader; its validation must be declared."""
        if segment not in self._gates:
            if "/".join(validation_key(segment).path) not in self.declared:
                raise LineageError(
                    f"{self.asset} reads {segment} without declaring its validation: add "
                    f"{validation_key(segment).to_user_string()} to the asset's deps so it runs after the gate opens")
            self._gates[segment] = verify_gate(self.identity, segment)
        return self._gates[segment]

    def scan(self, dataset: str, partition: PartitionKey = None) -> pl.LazyFrame:
        """One published partition (or an unpartitioned dataset) as a LazyFrame, types as published."""
        return load_dataset(self.identity, self._contract(dataset), partition)

    def table(self, dataset: str, partition: PartitionKey = None) -> pl.DataFrame:
        """One published partition, collected, with dictionary columns as plain strings."""
        frame = self.scan(dataset, partition).collect()
        return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))

    def document(self, dataset: str, partition: PartitionKey = None) -> dict:
        return load_dataset(self.identity, self._contract(dataset), partition)

    def artefact(self, dataset: str, partition: PartitionKey = None) -> dict[str, Path]:
        return load_dataset(self.identity, self._contract(dataset), partition)

    def every_country(self, dataset: str, columns: list[str] | None = None,
                      tagged: bool = True) -> tuple[pl.DataFrame, list[str]]:
        """Every published country partition in one frame (only `columns`, if given), each row's
        country in `partition` unless `tagged` is false, and the countries of the profile that are
        not published."""
        contract = self._contract(dataset)
        frame, codes = scan_partitions(self.identity, contract, columns, tagged)
        return frame, sorted(set(COUNTRY_CODES) - set(codes))

    def require(self, *datasets: str) -> None:
        """Declare intent to read `datasets` through another object (a cached in-memory world): refuses
        undeclared ones and opens their gates, as a read would."""
        for dataset in datasets:
            self._contract(dataset)

    def is_published(self, dataset: str, partition: PartitionKey = None) -> bool:
        return is_published(self.identity, self._contract(dataset), partition)

    def digest(self, dataset: str, partition: PartitionKey = None) -> str:
        """SHA-256 over the published files of a partition: each name and its recorded SHA-256, in name order."""
        contract = self._contract(dataset)
        manifest = read_manifest(partition_path(self.identity, contract, partition), dataset)
        files = sorted((f["name"], f["sha256"]) for f in manifest["files"])
        return length_prefixed_sha256(t.encode() for pair in files for t in pair).hexdigest()


def gate_of(dataset: str) -> str:
    """The segment whose validation must have passed before `dataset` is read from outside its segment."""
    return EARLY_READS.get(dataset, segment_of(dataset))


def _key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(dataset.split("/"))


def upstream(segment: str, ins: dict[str, str] | None = None, reads: Iterable[str] = (),
             reads_whole: Iterable[str] = ()) -> dict[str, Any]:
    """`ins` and `deps` of an asset of `segment`: inputs the IO manager loads (argument -> dataset),
    datasets it reads through its Reader (`reads`: the partitions Dagster maps; `reads_whole`: every
    partition), and the validation of every other segment among them, so it runs after their gates open."""
    ins = dict(ins or {})
    reads, reads_whole = list(reads), list(reads_whole)
    read = [*ins.values(), *reads, *reads_whole]
    gates = sorted({gate_of(d) for d in read if segment_of(d) != segment})
    deps = [*(_key(d) for d in reads),
            *(dg.AssetDep(_key(d), partition_mapping=dg.AllPartitionMapping()) for d in reads_whole),
            *(validation_key(g) for g in gates)]
    return {"ins": {name: dg.AssetIn(key=_key(d)) for name, d in ins.items()}, "deps": deps}


def reader_for(identity: RunIdentity, *datasets: str) -> Reader:
    """A reader of `datasets` for tools outside the asset graph (benchmarks, tests, notebooks): it
    belongs to no segment, so every read is behind its segment's gate."""
    gates = {"/".join(validation_key(gate_of(d)).path) for d in datasets}
    return Reader(identity, "", [*datasets, *gates], asset="a tool")
