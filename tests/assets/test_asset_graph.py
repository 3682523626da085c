"""A snapshot of the asset graph (keys, deps, partitions, groups, kinds, checks), so a change to the
graph shows in review. After an intended change: ENGINE_UPDATE_GRAPH=1 pytest tests/assets/test_asset_graph.py."""

import json
import os
from pathlib import Path

import dagster as dg

from engine_assets.definitions import defs

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _partitions(pdef: dg.PartitionsDefinition | None) -> str | None:
    if pdef is None:
        return None
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return " x ".join(f"{d.name}: {_partitions(d.partitions_def)}" for d in pdef.partitions_defs)
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        return f"daily {pdef.start.date()}..{pdef.end.date() if pdef.end else 'open'}"
    return "static " + ",".join(pdef.get_partition_keys())


def graph_snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    checks: dict[str, list[str]] = {}
    for key in graph.asset_check_keys:
        checks.setdefault(key.asset_key.to_user_string(), []).append(key.name)
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        spec = node.to_asset_spec() if hasattr(node, "to_asset_spec") else None
        out[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "kinds": sorted(node.kinds) if hasattr(node, "kinds") else sorted(spec.kinds),
            "checks": sorted(checks.get(key.to_user_string(), [])),
        }
    return out


def test_asset_graph_matches_its_snapshot():
    current = graph_snapshot()
    if os.environ.get("ENGINE_UPDATE_GRAPH"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed; if intended, regenerate tests/assets/asset_graph.json with ENGINE_UPDATE_GRAPH=1")


def test_every_asset_speaks_to_users():
    for asset in defs.resolve_asset_graph().asset_nodes:
        assert asset.description and asset.group_name != "default", asset.key
        assert asset.kinds, f"{asset.key.to_user_string()} declares no kinds (e.g. parquet, numba)"
