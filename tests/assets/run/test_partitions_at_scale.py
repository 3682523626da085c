"""Partitions of the `large` profile (every country, a year, two scenarios) stay far below Dagster's
recommended ~100k per asset, and backfills batch them per run."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COUNT = textwrap.dedent("""
    import json, warnings
    warnings.filterwarnings("ignore")
    from engine_assets.definitions import ASSETS
    out = {}
    for a in ASSETS:
        policy = a.backfill_policy
        for k in a.keys:
            out[k.to_user_string()] = {
                "partitions": len(a.partitions_def.get_partition_keys()) if a.partitions_def else 0,
                "dimensions": [d.name for d in getattr(a.partitions_def, "partitions_defs", [])],
                "policy": None if policy is None else policy.policy_type.value,
                "per_run": None if policy is None else policy.max_partitions_per_run}
    print(json.dumps(out))
""")


def test_large_profile_partitions_stay_small_and_batched():
    # The profile is read when the definitions load: a process of its own.
    env = {**os.environ, "ENGINE_PROFILE": "large"}
    done = subprocess.run([sys.executable, "-c", COUNT], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assets = json.loads(done.stdout.strip().splitlines()[-1])
    partitioned = {k: v for k, v in assets.items() if v["partitions"]}
    assert max(v["partitions"] for v in partitioned.values()) == 365 * 2  # a year of days, two scenarios
    assert all(v["partitions"] < 100_000 for v in partitioned.values())
    days = {k: v for k, v in partitioned.items() if v["dimensions"]}
    assert days and all(v["policy"] == "MULTI_RUN" and 1 < v["per_run"] <= 31 for v in days.values())
    # Countries and scenarios: one run over all (their validations read every partition), or a
    # scenario's report alone.
    others = {k: v for k, v in partitioned.items() if k not in days}
    assert {k for k, v in others.items() if v["policy"] != "SINGLE_RUN"} == {"report/realism"}
    # Every country of the reference world, in one Dagster partition per first letter.
    assert max(v["partitions"] for v in others.values()) == 26
