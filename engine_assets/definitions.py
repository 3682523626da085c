"""Dagster definitions of the engine for the profile named by ENGINE_PROFILE (default: demo).

Assembled from the layer packages (engine_assets/run/layers.py): every segment subpackage of
`world`, `clock` (and `behaviour`) contributes its assets and checks.
"""

import dagster as dg

from engine_assets.quality.checks import contract_check
from engine_assets.quality.contracts import load_dictionary
from engine_assets.run.executors import in_process_or_celery_executor
from engine_assets.run.jobs import build_jobs, build_stages
from engine_assets.run.layers import load_layers
from engine_assets.run.partitions import SCENARIOS
from engine_assets.run.resources import EngineResource
from engine_assets.run.schedules import daily_schedules, report_sensor
from engine_assets.storage.io_manager import shards_io_manager
from engine_kernels.civil_time.tzdb import use_pinned_tzdata

# Every Dagster process (webserver, daemon, run workers) loads this module: from here on, any zone
# read anywhere, by the engine or a library, comes from the pinned tzdata.
use_pinned_tzdata()

LAYERS = load_layers()
ASSETS = [a for layer in LAYERS for segment in layer.segments for a in segment.assets]
# Every dataset of contracts/dictionary.yaml gets its blocking contract check.
_DATASETS = load_dictionary()
ASSET_CHECKS = [
    contract_check(list(key.path), a.partitions_def) for a in ASSETS for key in sorted(a.keys) if "/".join(key.path) in _DATASETS
] + [c for layer in LAYERS for segment in layer.segments for c in segment.checks]


def build_definitions() -> dg.Definitions:
    stages = build_stages(ASSETS, LAYERS)
    report_job = next(s.name for s in stages if dg.AssetKey(["report", "realism"]) in s.keys)
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=build_jobs(LAYERS),
        schedules=daily_schedules(ASSETS, stages),
        sensors=[report_sensor(dg.AssetKey(["seg_6b", "seg_6b_validation"]), report_job,
                               SCENARIOS.get_partition_keys())],
        resources={"engine": EngineResource(), "shards": shards_io_manager},
        executor=in_process_or_celery_executor,
    )


defs = build_definitions()
