"""The run's identity as a Dagster resource: profile from ENGINE_PROFILE, seed overridable per run."""

from typing import Optional

import dagster as dg

from engine_assets.config import active_profile_name
from engine_assets.identity import RunIdentity, cached_identity


class EngineResource(dg.ConfigurableResource):
    """Which world this run builds. Override the seed in run config to build a sibling world."""

    seed: Optional[int] = None
    data_root: Optional[str] = None

    def identity(self) -> RunIdentity:
        return cached_identity(active_profile_name(), self.seed, self.data_root)
