"""Partitions of the active profile (ENGINE_PROFILE), built once when the definitions load."""

import datetime as dt

import dagster as dg

from engine_assets.run.config import active_profile_name, load_policies, load_profile
from engine_kernels.reference.countries import iso_alpha2_codes

# The policies and profile of this process; check names and partitions are derived from them.
POLICIES = load_policies()
PROFILE = load_profile(active_profile_name(), POLICIES)


def _country_keys() -> list[str]:
    # "all": every code the reference world may hold (ISO 3166-1 plus Kosovo's user-assigned XK).
    return list(PROFILE.countries) if PROFILE.countries is not None else sorted(iso_alpha2_codes())


COUNTRIES = dg.StaticPartitionsDefinition(_country_keys())

# The horizon is synthetic time: the day partitions are exactly its days, whatever today's date.
# Without an end_offset reaching past the horizon end, Dagster would hide days after today.
DAYS = dg.DailyPartitionsDefinition(
    start_date=PROFILE.horizon.start.isoformat(),
    end_date=(PROFILE.horizon.end + dt.timedelta(days=1)).isoformat(),
    end_offset=(PROFILE.horizon.end - dt.date(1970, 1, 1)).days + 1,
)

SCENARIOS = dg.StaticPartitionsDefinition(list(PROFILE.scenarios))

SCENARIO_DAYS = dg.MultiPartitionsDefinition({"scenario": SCENARIOS, "day": DAYS})


def per_country(group: str) -> dict:
    """Arguments of a country-partitioned asset of `group` published by the shards IO manager; one
    run builds every country it is given (its validation reads them all)."""
    return dict(partitions_def=COUNTRIES, io_manager_key="shards", backfill_policy=dg.BackfillPolicy.single_run(),
                group_name=group)


def dimensions(partition_key: str | None, partitions_def: dg.PartitionsDefinition | None) -> str | dict[str, str] | None:
    """A Dagster partition key as storage names it: the key itself, or {dimension: value} for a
    multi-dimensional one (`2026-03-27|baseline` -> {"day": "2026-03-27", "scenario": "baseline"})."""
    if partition_key is None or not isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return partition_key
    return dict(partitions_def.get_partition_key_from_str(partition_key).keys_by_dimension)


def scenario_days(partition_keys) -> list[tuple[str, dt.date]]:
    """(scenario, day) of each key of SCENARIO_DAYS, in the keys' order."""
    out = []
    for key in partition_keys:
        dims = dimensions(key, SCENARIO_DAYS)
        out.append((dims["scenario"], dt.date.fromisoformat(dims["day"])))
    return out
