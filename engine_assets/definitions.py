"""Dagster definitions of the engine for the profile named by ENGINE_PROFILE (default: demo)."""

import dagster as dg

from engine_assets.checks import contract_check
from engine_assets.contracts import load_dictionary
from engine_assets.io_manager import shards_io_manager
from engine_assets.jobs import build_jobs
from engine_assets.resources import EngineResource
from engine_assets.segments import (
    engine, reference, reference_validation, seg_1a_merchants, seg_1a_validation, seg_1b_sites, seg_1b_validation,
    seg_2a_civil_time, seg_2a_validation, seg_2b_routing, seg_2b_validation, seg_3a_validation, seg_3a_zones,
    seg_3b_validation, seg_3b_virtual, seg_5a_intensity, seg_5a_validation,
    seg_5b_arrivals, seg_5b_validation,
)

ASSETS = [
    *engine.ASSETS, *reference.ASSETS, reference_validation.validation,
    *seg_1a_merchants.ASSETS, seg_1a_validation.validation,
    *seg_3a_zones.ASSETS, seg_3a_validation.validation,
    *seg_1b_sites.ASSETS, seg_1b_validation.validation,
    *seg_2a_civil_time.ASSETS, seg_2a_validation.validation,
    *seg_2b_routing.ASSETS, seg_2b_validation.validation,
    *seg_3b_virtual.ASSETS, seg_3b_validation.validation,
    *seg_5a_intensity.ASSETS, seg_5a_validation.validation,
    *seg_5b_arrivals.ASSETS, seg_5b_validation.validation,
]
# Every dataset of contracts/dictionary.yaml gets its blocking contract check.
_DATASETS = load_dictionary()
ASSET_CHECKS = [
    contract_check(list(key.path), a.partitions_def) for a in ASSETS for key in sorted(a.keys) if "/".join(key.path) in _DATASETS
] + [reference_validation.population_grid_realism, reference_validation.tz_zones_realism]


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=build_jobs(ASSETS),
        resources={"engine": EngineResource(), "shards": shards_io_manager},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
