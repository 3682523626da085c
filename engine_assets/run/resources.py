"""The run's identity as a Dagster resource: profile from ENGINE_PROFILE, seed overridable per run."""

from typing import Optional

import dagster as dg

from engine_assets.run.config import active_profile_name
from engine_assets.run.errors import LaunchError
from engine_assets.run.identity import RunIdentity, cached_identity
from engine_assets.run.jobs import PARTITION, RANGE_START


class EngineResource(dg.ConfigurableResource):
    """Which world this run builds. Override the seed in run config to build a sibling world."""

    seed: Optional[int] = None
    data_root: Optional[str] = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.dagster_run is not None:
            refuse_one_partition_of_a_whole_job(context.dagster_run.job_name, context.dagster_run.tags)

    def identity(self) -> RunIdentity:
        return cached_identity(active_profile_name(), self.seed, self.data_root)


def refuse_one_partition_of_a_whole_job(job: str, tags: dict[str, str]) -> None:
    """A job built whole carries its partition range as tags (engine_assets/run/jobs.py); the Launchpad
    adds a partition to them when one is picked. Its validations read every partition, so say how
    to launch it before any work, instead of failing in validation after it."""
    if PARTITION in tags and RANGE_START in tags:
        raise LaunchError(
            f"{job} builds all its partitions in one run and cannot run for partition {tags[PARTITION]} "
            f"alone: launch it without a partition (Launchpad: leave Partition empty and confirm; CLI: dagster job "
            f"execute -j {job}), or rebuild one partition of an asset from the asset graph"
        )
