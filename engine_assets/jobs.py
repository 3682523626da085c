"""Jobs by layer of the world. A job is defined once its layer has assets.

Dagster runs one partitions definition per job, so a layer whose assets are partitioned in
more than one way gets one job per way: `clock_job` (surfaces, latent fields: unpartitioned
and per scenario) and `arrivals_job` (per scenario and day, what a backfill covers).
"""

import dagster as dg

from engine_assets.partitions import SCENARIO_DAYS

LAYERS = {
    "world_job": ("engine", "reference", "seg_1a", "seg_3a", "seg_1b", "seg_2a", "seg_2b", "seg_3b"),
    "clock_job": ("seg_5a", "seg_5b"),
    "behaviour_job": ("seg_6a", "seg_6b"),
}
DESCRIPTIONS = {
    "world_job": "Layer 1: reference world, merchants, sites, time zones, routing, virtual merchants.",
    "clock_job": "Layer 2: intensity surfaces, calendars and latent burst fields.",
    "arrivals_job": "Layer 2, day by day: bucket counts and arrival events per scenario and day.",
    "behaviour_job": "Layer 3: customers, event flows, fraud campaigns, labels and the bank's view.",
}


def build_jobs(assets: list) -> list:
    by_day = {key for a in assets if a.partitions_def == SCENARIO_DAYS for key in a.keys}
    groups_present = {g for a in assets for g in a.group_names_by_key.values()}
    jobs = []
    for name, groups in LAYERS.items():
        present = [g for g in groups if g in groups_present]
        if not present:
            continue
        selection = dg.AssetSelection.groups(*present)
        daily = [k for k in by_day if k.path[0] in present]
        if daily:
            jobs.append(dg.define_asset_job("arrivals_job", selection=dg.AssetSelection.assets(*daily),
                                            description=DESCRIPTIONS["arrivals_job"]))
            selection = selection - dg.AssetSelection.assets(*daily)
        jobs.append(dg.define_asset_job(name, selection=selection, description=DESCRIPTIONS[name]))
    return jobs
