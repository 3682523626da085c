"""The ci world with 5B's arrivals and 6B's days built, shared by the 6B asset tests."""

import pytest
from worlds import DAY_TABLES, PLAN_TABLES, day_keys, run

from engine_assets.run.partitions import DAYS, SCENARIOS


@pytest.fixture(scope="session")
def flows_world(ci_world):
    run(ci_world, ["seg_5b/latent_groups", "seg_5b/latent_field"], SCENARIOS.get_partition_keys())
    keys = day_keys(DAYS.get_partition_keys())
    run(ci_world, ["seg_5b/bucket_counts", "seg_5b/arrival_events"], [keys[0], keys[-1]])
    run(ci_world, ["seg_5b/seg_5b_validation", "seg_6b/patronage"])
    run(ci_world, list(PLAN_TABLES), SCENARIOS.get_partition_keys())
    run(ci_world, list(DAY_TABLES), [keys[0], keys[-1]])
    run(ci_world, ["seg_6b/cases", "seg_6b/seg_6b_validation"])
    return ci_world
