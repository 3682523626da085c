"""Every value of config/policies/6b.yaml's model is used: changed on its own, it changes a day.

The ci world's middle day (a payday) is rebuilt in memory with build_day for each value of the
parsed FlowPolicy changed by itself (numbers halved, flags flipped, distributions reshaped, lists
emptied or extended); its flows and events must differ from the day built with the policy as it
is. Values that shape the patronage rebuild it first; the realism corridors are the validation's
and are covered by its tests.
"""

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from engine_assets.behaviour.seg_6b.assets import flows as flows_asset
from engine_assets.behaviour.seg_6b.assets import load_world
from engine_assets.behaviour.seg_6b.day import ARRIVAL_COLUMNS, build_day
from engine_assets.behaviour.seg_6b.patronage import patronage_table
from engine_assets.behaviour.seg_6b.tables import day_tables
from engine_assets.behaviour.seg_6b.world import country_money, market_pools, weekly_volumes
from engine_assets.run.partitions import DAYS, POLICIES
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader
from engine_kernels.flows.policy import FlowPolicy

# Distributions held as cumulative shares: reshaped to a flat distribution of the same length.
CUMULATIVE = {"amounts.atm_weights", "transfers.payday_weights", "transfers.hours"}
# Read when the world is loaded (who is salaried, who bills): the world is loaded again.
WORLD = {"transfers.biller_sectors", "transfers.salary_segments", "transfers.paydays", "transfers.payday_weights"}
# The ci world has no merchant of a cash category, so no ATM withdrawal: tests/kernels/flows/test_amounts.py
# shows these values shape ATM amounts.
EXEMPT = {"amounts.atm_values", "amounts.atm_weights"}
BOUNDS = {"attachment.neighbours", "attachment.online_regulars"}
PATRONAGE = ("attachment.favourite", "attachment.neighbour", "attachment.regular_share", "attachment.travel_share",
             "attachment.domestic_share")


def _leaves(value, path=""):
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _leaves(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    else:
        yield path, value


def _changed(path: str, value):
    if path == "authorisation.reasons":  # cumulative per flow type: every reason equally likely
        n = value.shape[1]
        return np.tile(np.arange(1, n + 1) / n, (value.shape[0], 1))
    if path.endswith(".cap"):  # a cap shows only where it binds: 1/20 of it does
        return value * 0.05
    if path in CUMULATIVE:
        return np.arange(1, value.size + 1) / value.size
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return ~value
        return value[::-1].copy() if path.endswith(("paydays", "atm_values")) else value * 0.5
    if isinstance(value, frozenset):
        return frozenset() if value else frozenset({"US", "BR", "AE"})
    if isinstance(value, Mapping):
        return {k: v * 2 for k, v in value.items()}
    if path == "amounts.price_floor":  # binds where a country's price level is below it
        return 0.9
    if path in BOUNDS:  # (min, max) of a pool: the max brought down to the min binds in any world
        return value[0], value[0]
    if isinstance(value, tuple) and dataclasses.is_dataclass(value[0]):  # clearing hours by flow type
        return tuple(dataclasses.replace(v, median=v.median * 0.5) for v in value)
    if isinstance(value, tuple):
        return tuple(type(v)(v * 0.5) if not isinstance(v, int) else max(v // 2, 1) for v in value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return max(value // 2, 1)
    # A small share halved may move no flow of a small day (a 12% challenge failure rate halved
    # moves ~4 of the ci day's challenges): below 0.3 it is multiplied instead.
    return value * 0.5 if value >= 0.3 else min(value * 4, 0.9) if value else 0.2


def _replace(policy, path: str, new):
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(policy, **{head: new})
    return dataclasses.replace(policy, **{head: _replace(getattr(policy, head), rest, new)})


@pytest.fixture(scope="module")
def baseline(flows_world):
    identity = EngineResource(data_root=str(flows_world)).identity()
    read = Reader.for_assets_def(flows_asset, identity)
    world = load_world(read)
    sites, markets = weekly_volumes(read)
    day = DAYS.get_partition_keys()[1]
    arrivals = read.scan("seg_5b/arrival_events", {"scenario": "baseline", "day": day}).select(
        ARRIVAL_COLUMNS).collect()
    date = dt.date.fromisoformat(day)

    def build(w):
        built = build_day(w, "baseline", date, arrivals, market_pools(w, markets))
        tables = day_tables(w, "baseline", built)
        return tuple(pa.concat_tables(tables[name]) for name in ("flows", "events", "sessions"))

    return identity, read, world, sites, build, build(world)


# A log-normal without a cap in the file holds an infinite one, which is not a policy value.
LEAVES = [path for path, value in _leaves(POLICIES.flows.model)
          if not (path.endswith(".cap") and value == np.inf) and path not in EXEMPT]


def test_every_policy_value_is_swept():
    every = [path for path, _ in _leaves(POLICIES.flows.model)]
    assert len(LEAVES) > 60 and "amounts.fx_per_usd" in LEAVES and "sessions.tail_minutes.sigma" in LEAVES
    assert EXEMPT <= set(every) and WORLD <= set(LEAVES) and BOUNDS <= set(LEAVES)


@pytest.mark.parametrize("path", LEAVES)
def test_each_policy_value_changes_the_day(baseline, path):
    identity, read, world, sites, build, before = baseline
    model: FlowPolicy = identity.policies.flows.model
    value = dict(_leaves(model))[path]
    policies = dataclasses.replace(identity.policies, flows=dataclasses.replace(
        identity.policies.flows, model=_replace(model, path, _changed(path, value))))
    changed = dataclasses.replace(identity, policies=policies)
    reader = copy.copy(read)
    reader.identity = changed
    if path in WORLD:
        w = load_world(reader)
    else:
        w = copy.copy(world)
        w.identity = changed
        w.money = country_money(reader, w.countries)
    if path.startswith(PATRONAGE):
        w.attach_patronage(pl.from_arrow(patronage_table(w, sites)))
    after = build(w)
    assert not all(a.equals(b) for a, b in zip(after, before)), f"{path} changed nothing"
