"""Building the ci world through Dagster, step by step, for the asset tests."""

from pathlib import Path

import dagster as dg

from engine_assets.definitions import ASSET_CHECKS, ASSETS
from engine_assets.run.partitions import COUNTRY_GROUPS, SCENARIO_DAYS, SCENARIOS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager
from engine_assets.storage.publish import POINTER, read_manifest

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
ASSET_SEGMENTS = ("reference", "seg_1a", "seg_3a", "seg_1b", "seg_2a", "seg_2b", "seg_3b", "seg_5a", "seg_5b", "seg_6a",
                  "seg_6b", "report")
UPSTREAM = ["reference/holidays", "reference/reference_validation", "seg_1a/merchants", "seg_1a/outlet_counts",
            "seg_1a/candidate_countries", "seg_1a/foreign_membership", "seg_2a/tz_transitions"]
KEYS = COUNTRY_GROUPS.get_partition_keys()
DIGESTED = ("seg_3a", "seg_1b", "seg_2a", "seg_2b", "seg_3b", "seg_5a", "seg_6a")
DAY_TABLES = ("seg_6b/flows", "seg_6b/events", "seg_6b/sessions", "seg_6b/truth_labels", "seg_6b/bank_view",
              "seg_6b/transactions")
PLAN_TABLES = ("seg_6b/fraud_campaigns", "seg_6b/fraud_targets")
ENTITY_TABLES = [f"seg_6a/{name}" for name in ("parties", "accounts", "instruments", "devices", "device_links", "ips",
                                               "ip_links", "fraud_roles")]


def run(root: Path, selection: list[str], partitions: list[str] | None = None) -> dg.ExecuteInProcessResult:
    """Materialise `selection` (and its asset checks) under data root `root`; every step and check must pass."""
    engine = EngineResource(data_root=str(root))
    assets = [a for a in ASSETS if next(iter(a.keys)).path[0] in ASSET_SEGMENTS]
    checks = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] in ASSET_SEGMENTS]
    tags = {} if partitions is None else {"dagster/asset_partition_range_start": partitions[0],
                                          "dagster/asset_partition_range_end": partitions[-1]}
    result = dg.materialize([*assets, *checks], selection=dg.AssetSelection.assets(*[s.split("/") for s in selection]),
                            resources={"engine": engine, "shards": ShardIOManager(engine=engine)}, run_config=QUIET,
                            tags=tags, raise_on_error=False)
    errors = [e.event_specific_data.error for e in result.get_step_failure_events()]
    assert result.success, [e.message + (e.cause.message if e.cause else "") for e in errors]
    assert all(e.passed for e in result.get_asset_check_evaluations())
    return result


def day_keys(days) -> list[str]:
    """The (scenario, day) partition keys of `days`, every scenario."""
    return [str(k) for k in SCENARIO_DAYS.get_partition_keys() if k.keys_by_dimension["day"] in days]


def build_world(root: Path, order=(KEYS,)) -> None:
    """The ci world up to 5A's validation and 6A's; country steps run once per group of `order`."""
    run(root, UPSTREAM)
    run(root, ["seg_1a/outlet_catalogue"], KEYS)
    run(root, ["seg_1a/seg_1a_validation"])
    for group in order:
        run(root, ["seg_3a/zone_plan", "seg_1b/site_locations"], group)
    run(root, ["seg_1b/seg_1b_validation"])
    for group in order[::-1]:
        run(root, ["seg_2a/site_timezones"], group)
    run(root, ["seg_2a/seg_2a_validation"])
    run(root, ["seg_3a/zone_alloc"], KEYS)
    run(root, ["seg_3a/seg_3a_validation"])
    for group in order:
        run(root, ["seg_2b/site_weights", "seg_2b/alias_tables", "seg_2b/day_effects"], group)
    run(root, ["seg_2b/seg_2b_validation"])
    run(root, ["seg_3b/virtual_classification", "seg_3b/settlement_nodes", "seg_3b/edge_catalogue",
               "seg_3b/edge_alias_tables", "seg_3b/seg_3b_validation"])
    run(root, ["seg_5a/weekly_shapes", "seg_5a/merchant_zone_profile"])
    run(root, ["seg_5a/calendar"], SCENARIOS.get_partition_keys())
    run(root, ["seg_5a/seg_5a_validation"])
    run(root, ["seg_6a/party_counts"])
    for group in order:
        run(root, ENTITY_TABLES, group)
    run(root, ["seg_6a/seg_6a_validation"])


def published_digests(base: Path) -> dict[str, list[str]]:
    """SHA-256 of the files of every published partition under `base` (validations aside), by its path
    relative to `base`: each partition through its pointer, so superseded versions still in their grace
    period are not counted."""
    out = {}
    for pointer in sorted(base.rglob(POINTER)):
        partition = pointer.parent
        if "validation" not in str(partition):
            out[str(partition.relative_to(base))] = [f["sha256"] for f in read_manifest(partition, str(partition))["files"]]
    return out


def digests(root: Path) -> dict[str, list[str]]:
    """SHA-256 of every published file of the world's segments, by dataset and partition."""
    out = {}
    for segment in DIGESTED:
        base = next(root.glob(f"ci/seed=*/ph=*/{segment}"))
        out |= {f"{segment}/{k}": v for k, v in published_digests(base).items()}
    return out
