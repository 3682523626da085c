"""Partitions of the active profile (ENGINE_PROFILE), built once when the definitions load.

A run launched for a key outside the profile (a country it does not hold, a day outside its horizon)
is refused by Dagster before any step starts; the definitions here make that refusal name the
profile, what it holds and how to get the key into a world.
"""

import datetime as dt

import dagster as dg

from engine_assets.run.config import active_profile_name, load_policies, load_profile
from engine_kernels.reference.countries import iso_alpha2_codes

# The policies and profile of this process; check names and partitions are derived from them.
POLICIES = load_policies()
PROFILE = load_profile(active_profile_name(), POLICIES)


def _country_codes() -> list[str]:
    # "all": every code the reference world may hold (ISO 3166-1 plus Kosovo's user-assigned XK).
    return list(PROFILE.countries) if PROFILE.countries is not None else sorted(iso_alpha2_codes())


# The profile's countries, in order. Storage publishes one partition per country; Dagster sees them in
# groups by first letter (COUNTRY_GROUPS), so a world of 250 countries is 26 Dagster partitions per asset:
# Dagster records each partition of each asset in several events of ~10 ms (docs/decisions.md).
COUNTRY_CODES = _country_codes()


def country_group(code: str) -> str:
    """The Dagster partition that builds country `code`: its first letter (DE -> D)."""
    return code[0]


def countries_in(groups) -> list[str]:
    """The profile's countries that the country groups `groups` build, in the profile's order."""
    wanted = set(groups)
    return [code for code in COUNTRY_CODES if country_group(code) in wanted]


# What a profile holds of each dimension, and how a user gets another value into a world.
_FIX = {"country_group": "add a country of that letter to its countries",
        "scenario": "add the scenario to its scenarios", "day": "extend its horizon"}


def _held(dimension: str) -> str:
    """What the profile holds of a dimension, in its file's words."""
    if dimension == "day":
        return f"horizon {PROFILE.horizon.start} to {PROFILE.horizon.end}"
    if dimension == "scenario":
        return f"scenarios {', '.join(PROFILE.scenarios)}"
    groups = ", ".join(sorted({country_group(c) for c in COUNTRY_CODES}))
    if PROFILE.countries is None:
        return f"country groups {groups} (all: the ISO 3166-1 alpha-2 codes of the reference world, by first letter)"
    return f"country groups {groups} (countries {', '.join(PROFILE.countries)}, by first letter)"


def outside_profile(key: str, bad: dict[str, str]) -> str:
    """The refusal of partition `key`, whose `bad` dimensions (dimension -> value) the profile does not hold."""
    what = "; ".join(f"{dim.replace('_', ' ')} {value!r} is not in its {_held(dim)}" for dim, value in bad.items())
    code = bad.get("country_group", "")
    if code in COUNTRY_CODES:  # a country where its group was wanted
        return (f"partition key {key!r} is outside profile {PROFILE.name} ({PROFILE.file}): {what}; {code} is a "
                f"country of the profile, built by the partition of its first letter: launch {country_group(code)!r}")
    fixes = " and ".join("add the country to its countries" if dim == "country_group" and value in iso_alpha2_codes()
                         else _FIX[dim] for dim, value in bad.items())
    return (f"partition key {key!r} is outside profile {PROFILE.name} ({PROFILE.file}): {what}; launch a key the "
            f"profile holds, or {fixes} in {PROFILE.file} (a new world, under a new ph= directory), or set "
            "ENGINE_PROFILE to a profile that holds it")


# Dagster's classes with one change: `validate_partition_key`, which Dagster calls on every key a run is
# launched for, names the profile. They keep Dagster's class names: Dagster stores a class name with each
# partition subset it serialises and reads the subset back only under the same name, so subsets written by
# a webserver (which rebuilds Dagster's own classes from snapshots) and by a code server still agree.


class StaticPartitionsDefinition(dg.StaticPartitionsDefinition):
    """The profile's country groups or scenarios."""

    def __init__(self, keys: list[str], dimension: str):
        super().__init__(keys)
        self.dimension = dimension

    def validate_partition_key(self, partition_key: str, context=None) -> None:
        try:
            super().validate_partition_key(partition_key, context)
        except dg.DagsterUnknownPartitionError:
            raise dg.DagsterUnknownPartitionError(
                outside_profile(partition_key, {self.dimension: partition_key})) from None


class MultiPartitionsDefinition(dg.MultiPartitionsDefinition):
    """(scenario, day) of the profile."""

    def validate_partition_key(self, partition_key: str, context=None) -> None:
        try:
            super().validate_partition_key(partition_key, context)
        except dg.DagsterUnknownPartitionError:
            names, values = self.partition_dimension_names, str(partition_key).split("|")
            if len(values) != len(names):
                raise dg.DagsterUnknownPartitionError(
                    f"partition key {str(partition_key)!r} does not name a {' and a '.join(names)}: write "
                    f"{'|'.join(names)}, e.g. {self.get_first_partition_key()}") from None
            with dg.partition_loading_context(new_ctx=context):
                bad = {d.name: v for d, v in zip(self.partitions_defs, values)
                       if not d.partitions_def.has_partition_key(v)}
            raise dg.DagsterUnknownPartitionError(outside_profile(str(partition_key), bad)) from None


COUNTRY_GROUPS = StaticPartitionsDefinition(sorted({country_group(c) for c in COUNTRY_CODES}), "country_group")

# The horizon is synthetic time: the day partitions are exactly its days, whatever today's date.
# Without an end_offset reaching past the horizon end, Dagster would hide days after today.
DAYS = dg.DailyPartitionsDefinition(
    start_date=PROFILE.horizon.start.isoformat(),
    end_date=(PROFILE.horizon.end + dt.timedelta(days=1)).isoformat(),
    end_offset=(PROFILE.horizon.end - dt.date(1970, 1, 1)).days + 1,
)

SCENARIOS = StaticPartitionsDefinition(list(PROFILE.scenarios), "scenario")

SCENARIO_DAYS = MultiPartitionsDefinition({"scenario": SCENARIOS, "day": DAYS})


def per_country(group: str) -> dict:
    """Arguments of a per-country asset of `group` published by the shards IO manager; one run builds
    every country group it is given (its validation reads them all)."""
    return dict(partitions_def=COUNTRY_GROUPS, io_manager_key="shards", backfill_policy=dg.BackfillPolicy.single_run(),
                group_name=group)


def dimensions(partition_key: str | None, partitions_def: dg.PartitionsDefinition | None) -> str | dict[str, str] | None:
    """A Dagster partition key as storage names it: the key itself, or {dimension: value} for a
    multi-dimensional one (`2026-03-27|baseline` -> {"day": "2026-03-27", "scenario": "baseline"})."""
    if partition_key is None or not isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return partition_key
    return dict(partitions_def.get_partition_key_from_str(partition_key).keys_by_dimension)


def is_country_groups(partitions_def: dg.PartitionsDefinition | None) -> bool:
    return getattr(partitions_def, "dimension", None) == "country_group"


def stored_partitions(partition_keys, partitions_def: dg.PartitionsDefinition | None) -> dict[str | None, dict]:
    """Each Dagster partition key -> {key asset code uses: partition as storage names it}: a country
    group's countries (each its own storage partition), or the key itself (`dimensions`; None for an
    unpartitioned asset)."""
    if is_country_groups(partitions_def):
        return {key: {code: code for code in countries_in([key])} for key in sorted(partition_keys)}
    return {key: {key: dimensions(key, partitions_def)} for key in partition_keys}


def scenario_days(partition_keys) -> list[tuple[str, dt.date]]:
    """(scenario, day) of each key of SCENARIO_DAYS, in the keys' order."""
    out = []
    for key in partition_keys:
        dims = dimensions(key, SCENARIO_DAYS)
        out.append((dims["scenario"], dt.date.fromisoformat(dims["day"])))
    return out
