"""Jobs by layer of the world. A job is defined once its layer has assets."""

import dagster as dg

LAYERS = {
    "world_job": ("engine", "reference", "seg_1a", "seg_3a", "seg_1b", "seg_2a", "seg_2b", "seg_3b"),
    "clock_job": ("seg_5a", "seg_5b"),
    "behaviour_job": ("seg_6a", "seg_6b"),
}
DESCRIPTIONS = {
    "world_job": "Layer 1: reference world, merchants, sites, time zones, routing, virtual merchants.",
    "clock_job": "Layer 2: intensity surfaces and arrivals, day by day.",
    "behaviour_job": "Layer 3: customers, event flows, fraud campaigns, labels and the bank's view.",
}


def build_jobs(groups_present: set[str]) -> list:
    jobs = []
    for name, groups in LAYERS.items():
        present = [g for g in groups if g in groups_present]
        if present:
            jobs.append(dg.define_asset_job(name, selection=dg.AssetSelection.groups(*present), description=DESCRIPTIONS[name]))
    return jobs
