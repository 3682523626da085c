"""Jobs: the stages that build a world, derived from the asset graph by layer and partitioning.

A Dagster run has one partitions definition, and a layer mixes several (the world's steps are
unpartitioned or per country; the clock's per scenario, then per scenario and day). Each layer
is cut into stages, walked in dependency order:

- a *whole* stage holds unpartitioned assets and assets of one partitioning whose backfill
  policy is a single run. It is built by one run over all its partitions: its unpartitioned
  assets (validations) read every partition, so building it one partition at a time cannot work
  on a new world;
- a *per-partition* stage holds only assets of one partitioning with a multi-run policy (days):
  any one of its partitions is a valid run, so backfills may launch one run per partition;
- unpartitioned assets that read a per-partition stage start the next stage.

A whole stage's job carries its whole partition range as run tags, so a launch without a
partition (Launchpad, `dagster job execute`) builds it in one run; a per-partition stage's job
runs the partition or range it is launched with.
"""

import graphlib
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from engine_assets.run.layers import Layer
from engine_assets.run.partitions import SCENARIOS, dimensions

# Dagster's run tags for one partition and for a range of partitions.
PARTITION = "dagster/partition"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass
class Stage:
    layer: str
    partitions_def: dg.PartitionsDefinition | None
    per_partition: bool
    keys: list[dg.AssetKey]
    name: str = ""

    def accepts(self, partitions_def: dg.PartitionsDefinition | None, per_partition: bool) -> bool:
        if self.per_partition or per_partition:
            return self.per_partition == per_partition and self.partitions_def == partitions_def
        return partitions_def is None or self.partitions_def in (None, partitions_def)


def _per_partition(asset: dg.AssetsDefinition) -> bool:
    policy = asset.backfill_policy
    return asset.partitions_def is not None and (policy is None or policy.max_partitions_per_run is not None)


def _layer_of(group: str, layers: Sequence[Layer]) -> str:
    for layer in layers:
        if group in layer.groups:
            return layer.name
    raise ValueError(f"asset group {group!r} belongs to no layer; a segment is a subpackage of a layer package "
                     "(engine_assets/world, engine_assets/clock) named after its group")


def build_stages(assets: list[dg.AssetsDefinition], layers: Sequence[Layer]) -> list[Stage]:
    """The stages of every layer, in build order, each with its job name."""
    owner = {key: a for a in assets for key in a.keys}
    parents = {key: {d.asset_key for d in spec.deps if d.asset_key in owner}
               for a in assets for spec in a.specs for key in [spec.key]}
    order = list(graphlib.TopologicalSorter({k: sorted(v) for k, v in sorted(parents.items())}).static_order())
    layer = {key: _layer_of(owner[key].group_names_by_key[key], layers) for key in order}
    stages: list[Stage] = []
    stage_of: dict[dg.AssetKey, int] = {}
    for key in order:
        asset = owner[key]
        per_partition = _per_partition(asset)
        pdef = asset.partitions_def
        after = [stage_of[p] + (1 if stages[stage_of[p]].per_partition and not per_partition else 0)
                 for p in parents[key] if layer[p] == layer[key]]
        first = max(after, default=0)
        index = next((i for i, s in enumerate(stages) if i >= first and s.layer == layer[key]
                      and s.accepts(pdef, per_partition)), None)
        if index is None:
            index = len(stages)
            stages.append(Stage(layer[key], pdef, per_partition, []))
        elif pdef is not None:
            stages[index].partitions_def = pdef
        stages[index].keys.append(key)
        stage_of[key] = index
    for layer_name in (layer.name for layer in layers):
        own = [s for s in stages if s.layer == layer_name]
        for i, stage in enumerate(own):
            stage.name = f"{layer_name}_job" if i == 0 else f"{layer_name}_{_label(stage)}_job"
    return stages


def _label(stage: Stage) -> str:
    if stage.partitions_def is None:
        return "validation" if any(k.path[-1].endswith("validation") for k in stage.keys) else "final"
    if any(isinstance(d, dg.TimeWindowPartitionsDefinition) for d in _dimensions(stage.partitions_def)):
        return "daily"
    return "by_scenario" if stage.partitions_def == SCENARIOS else "by_partition"


def _dimensions(pdef: dg.PartitionsDefinition) -> list[dg.PartitionsDefinition]:
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return [d.partitions_def for d in pdef.partitions_defs]
    return [pdef]


def describe(stage: Stage, layers: Sequence[Layer]) -> str:
    if stage.per_partition:
        how = "one run per partition or range of partitions (a backfill from the UI follows the assets' backfill policy)"
    elif stage.partitions_def is not None:
        how = "one run over every partition: launch it without a partition"
    else:
        how = "one run"
    segments = sorted({k.path[0] for k in stage.keys})
    text = next(layer.text for layer in layers if layer.name == stage.layer).rstrip(".")
    return f"{text}. Segments {', '.join(segments)}: {how}."


def stage_tags(stage: Stage) -> dict[str, str]:
    """A whole stage's run tags: its whole partition range, so a launch without a partition builds it.

    A launch of one partition adds a partition to these tags; EngineResource refuses such a run at
    start-up (its validations could not pass). A per-partition stage carries no range, so its
    backfills may launch one run per partition."""
    return {} if stage.per_partition else every_partition(stage.partitions_def)


def every_partition(partitions_def: dg.PartitionsDefinition | None) -> dict[str, str]:
    """Run tags of a range over every partition (none for an unpartitioned stage)."""
    if partitions_def is None:
        return {}
    keys = partitions_def.get_partition_keys()
    return {RANGE_START: keys[0], RANGE_END: keys[-1]}


def partition_ranges(partitions_def: dg.PartitionsDefinition) -> list[tuple[str, str]]:
    """(first, last) key ranges that together cover every partition once, in key order.

    A Dagster range of multi-dimensional keys spans each dimension from its first key's value to its
    last's, so one range from the first (day, scenario) to the last covers every scenario only if the
    range's ends differ in scenario too. Per value of the dimensions other than time, one range of
    days is exact: a one-dimensional definition gives one range."""
    keys = partitions_def.get_partition_keys()
    if not isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return [(keys[0], keys[-1])]
    other = [d.name for d in partitions_def.partitions_defs
             if not isinstance(d.partitions_def, dg.TimeWindowPartitionsDefinition)]
    groups: dict[tuple[str, ...], list[str]] = {}
    for key in keys:
        named = dimensions(key, partitions_def)
        groups.setdefault(tuple(named[name] for name in other), []).append(key)
    return [(group[0], group[-1]) for _, group in sorted(groups.items())]


def build_jobs(layers: Sequence[Layer]) -> list:
    assets = [a for layer in layers for segment in layer.segments for a in segment.assets]
    return [
        dg.define_asset_job(stage.name, selection=dg.AssetSelection.assets(*stage.keys),
                            description=describe(stage, layers), tags=stage_tags(stage))
        for stage in build_stages(assets, layers)
    ]
