"""The `shards` IO manager: assets return data, this publishes it with its contract and reads it back.

Output: a table stream (Arrow table / batches, polars DataFrame / LazyFrame, iterator of those)
or a JSON document, optionally wrapped in `Publication` to report RNG draws; when one run covers
several partitions, a mapping partition key -> output.
Input: a LazyFrame (or document) for an unpartitioned upstream, and for a partitioned upstream
always a dict partition key -> LazyFrame, whatever the number of partitions, so asset code has
one shape to handle.

Keys in both directions are storage's: a country, not the Dagster partition of its country group
(engine_assets/run/partitions.py); Dagster records one materialisation per group, summing its countries.
"""

from typing import Any, Mapping

import dagster as dg

from engine_assets.quality.contracts import load_contract, load_dictionary
from engine_assets.run import faults
from engine_assets.run.partitions import is_country_groups, stored_partitions
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import publish_dataset
from engine_assets.storage.publish import Published
from engine_assets.storage.reader import Reader


def dataset_id(asset_key: dg.AssetKey) -> str:
    if len(asset_key.path) != 2:
        raise ValueError(f"asset key {asset_key.to_user_string()} is not [segment, dataset]")
    return "/".join(asset_key.path)


def dataset_out(dataset: str) -> dg.AssetOut:
    """An output of a multi-asset published by the shards IO manager, described by contracts/dictionary.yaml
    (a multi-asset's docstring covers all its outputs, so each output takes its dataset's own words)."""
    return dg.AssetOut(key=dataset.split("/"), io_manager_key="shards", description=load_dictionary()[dataset].description)


def _split(obj: Any, keys: list[str], dataset: str, is_document: bool) -> Mapping[str, Any]:
    """Map each partition of this run to its output, accepting a bare output for a single partition."""
    if isinstance(obj, Mapping) and set(obj) == set(keys):
        return obj
    if len(keys) == 1 and not (isinstance(obj, Mapping) and not is_document):
        return {keys[0]: obj}
    got = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
    raise ValueError(
        f"{dataset}: this run covers partitions {sorted(keys)}; return a mapping with exactly those keys (got {got})"
    )


def _metadata(kind: str, pubs: dict[str, Published], grouped: bool) -> dict[str, Any]:
    """One materialisation's metadata: its publication's, or a country group's summed over its countries."""
    rows = {"dagster/row_count": sum(p.rows for p in pubs.values())} if kind == "table" else {"kind": kind}
    raced = {"race": "lost to the same bytes"} if any(p.raced for p in pubs.values()) else {}
    if not grouped:
        [pub] = pubs.values()
        return rows | raced | {"bytes": pub.bytes, "path": dg.MetadataValue.path(str(pub.path)),
                               "files": dg.MetadataValue.json([f.__dict__ for f in pub.files])}
    return rows | raced | {
        "bytes": sum(p.bytes for p in pubs.values()),
        "countries": ", ".join(pubs),
        "path": dg.MetadataValue.path(str(next(iter(pubs.values())).path.parent)),
        "files": dg.MetadataValue.json({code: [f.__dict__ for f in p.files] for code, p in pubs.items()}),
    }


class ShardIOManager(dg.IOManager):
    """Publishes and reads datasets of the world `engine` names."""

    def __init__(self, engine: EngineResource):
        self.engine = engine

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        contract = load_contract(dataset_id(context.asset_key))
        identity = self.engine.identity()
        partitioned = context.has_asset_partitions
        pdef = context.asset_partitions_def if partitioned else None
        parts = stored_partitions(context.asset_partition_keys if partitioned else [None], pdef)
        storage = {key: stored for group in parts.values() for key, stored in group.items()}
        outputs = _split(obj, list(storage), contract.dataset, contract.kind == "document") if partitioned else {None: obj}
        published = {k: publish_dataset(identity, contract, storage[k], v) for k, v in outputs.items()}
        faults.point("dagster.after_publish")
        for key, pub in published.items():
            if pub.raced:  # harmless (same bytes), but a second run of the same partitions is worth knowing about
                context.log.warning(f"{contract.dataset} {key or ''}: another run published the same bytes first; "
                                    "its version stands")
        common = {"contract_version": contract.version, "parameter_hash": identity.parameter_hash, "seed": identity.seed}
        grouped = is_country_groups(pdef)
        if not partitioned:
            context.add_output_metadata(_metadata(contract.kind, published, grouped) | common)
            return
        # One materialisation per Dagster partition, each with its own rows, bytes and digests.
        for key, group in parts.items():
            context.step_context.add_asset_metadata(
                _metadata(contract.kind, {k: published[k] for k in group}, grouped) | common,
                asset_key=context.asset_key, partition_key=key)

    def load_input(self, context: dg.InputContext) -> Any:
        # Inputs are read like every other read: declared, and behind the upstream segment's gate.
        read = Reader.for_assets_def(context.step_context.assets_def, self.engine.identity())
        dataset = dataset_id(context.asset_key)
        if not context.has_asset_partitions:
            return read.scan(dataset)
        parts = stored_partitions(context.asset_partition_keys, context.asset_partitions_def)
        return {key: read.scan(dataset, stored) for group in parts.values() for key, stored in group.items()}


@dg.io_manager(required_resource_keys={"engine"},
               description="Publishes each dataset atomically with its contract; reads it back as LazyFrames.")
def shards_io_manager(init_context: dg.InitResourceContext) -> ShardIOManager:
    # The run's own `engine` resource, so a seed set in run config also decides where data is
    # published; a copy bound when the definitions load would keep the profile's seed.
    return ShardIOManager(init_context.resources.engine)
