"""The `shards` IO manager: assets return data, this publishes it with its contract and reads it back.

Output: a table stream (Arrow table / batches, polars DataFrame / LazyFrame, iterator of those)
or a JSON document, optionally wrapped in `Publication` to report RNG draws; when one run covers
several partitions, a mapping partition key -> output.
Input: a LazyFrame (or document) for an unpartitioned upstream, and for a partitioned upstream
always a dict partition key -> LazyFrame, whatever the number of partitions, so asset code has
one shape to handle.
"""

from typing import Any, Mapping

import dagster as dg

from engine_assets.contracts import load_contract
from engine_assets.resources import EngineResource
from engine_assets.storage import PartitionKey, load_dataset, publish_dataset


def dataset_id(asset_key: dg.AssetKey) -> str:
    if len(asset_key.path) != 2:
        raise ValueError(f"asset key {asset_key.to_user_string()} is not [segment, dataset]")
    return "/".join(asset_key.path)


def _key(partition_key: str, partitions_def: dg.PartitionsDefinition | None) -> PartitionKey:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return dict(partitions_def.get_partition_key_from_str(partition_key).keys_by_dimension)
    return partition_key


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


class ShardIOManager(dg.ConfigurableIOManager):
    engine: dg.ResourceDependency[EngineResource]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        contract = load_contract(dataset_id(context.asset_key))
        identity = self.engine.identity()
        if context.has_asset_partitions:
            keys = list(context.asset_partition_keys)
            outputs = _split(obj, keys, contract.dataset, contract.kind == "document")
            pdef = context.asset_partitions_def
        else:
            outputs, pdef = {None: obj}, None
        published = {k: publish_dataset(identity, contract, None if k is None else _key(k, pdef), v) for k, v in outputs.items()}
        rows = sum(p.rows for p in published.values())
        size = sum(p.bytes for p in published.values())
        meta: dict[str, Any] = {"dagster/row_count": rows} if contract.kind == "table" else {"kind": "document"}
        meta |= {
            "bytes": size,
            "partitions_written": len(published),
            "contract_version": contract.version,
            "path": dg.MetadataValue.path(str(identity.dataset_dir(contract.dataset))),
            "parameter_hash": identity.parameter_hash,
            "seed": identity.seed,
        }
        if len(published) == 1:
            only = next(iter(published.values()))
            meta["files"] = dg.MetadataValue.json([f.__dict__ for f in only.files])
        else:
            meta["rows_by_partition"] = dg.MetadataValue.json({str(k): p.rows for k, p in sorted(published.items())})
        context.add_output_metadata(meta)

    def load_input(self, context: dg.InputContext) -> Any:
        contract = load_contract(dataset_id(context.asset_key))
        identity = self.engine.identity()
        if not context.has_asset_partitions:
            return load_dataset(identity, contract, None)
        pdef = context.asset_partitions_def
        return {k: load_dataset(identity, contract, _key(k, pdef)) for k in context.asset_partition_keys}
