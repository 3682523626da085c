"""The reader every asset reads through: declared datasets only, each behind its segment's gate."""

import dagster as dg
import pytest

from engine_assets.definitions import ASSETS
from engine_assets.quality.contracts import load_dictionary
from engine_assets.quality.gates import validation_key
from engine_assets.run.errors import GateError, LineageError
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager
from engine_assets.storage.reader import EARLY_READS, Reader, gate_of, segment_of, upstream


def test_an_undeclared_dataset_is_refused_before_anything_is_read(identity):
    read = Reader(identity, "seg_2b", ["seg_2a/site_timezones", "seg_2b/seg_2b_validation"], asset="seg_2b/thing")
    with pytest.raises(LineageError, match=r"seg_2b/thing read seg_1b/site_locations without declaring it: add "
                                           r"seg_1b/site_locations to the asset's ins or deps"):
        read.scan("seg_1b/site_locations")


def test_another_segment_is_read_only_with_its_validation_declared(identity):
    read = Reader(identity, "seg_2b", ["seg_2a/site_timezones"], asset="seg_2b/thing")
    with pytest.raises(LineageError, match=r"reads seg_2a without declaring its validation: add seg_2a/seg_2a_validation"):
        read.every_country("seg_2a/site_timezones")


def test_a_declared_read_still_waits_for_the_gate(identity):
    read = Reader(identity, "seg_2b", ["seg_2a/site_timezones", "seg_2a/seg_2a_validation"], asset="seg_2b/thing")
    with pytest.raises(GateError, match=r"segment seg_2a has no published validation bundle"):
        read.table("seg_2a/site_timezones", "GB")


def test_an_asset_reading_what_it_did_not_declare_fails_its_step(tmp_path):
    @dg.asset(key=["seg_y", "sneaky"], group_name="seg_y", **upstream("seg_y", reads=["seg_y/declared"]))
    def sneaky(context: dg.AssetExecutionContext, engine: EngineResource):
        Reader.of(context, engine.identity()).scan("seg_y/undeclared")

    engine = EngineResource(data_root=str(tmp_path / "data"))
    result = dg.materialize([sneaky], resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                            raise_on_error=False)
    [failure] = result.get_step_failure_events()
    assert "LineageError" in failure.event_specific_data.error.cause.cls_name
    assert "seg_y/sneaky read seg_y/undeclared without declaring it" in failure.event_specific_data.error.cause.message


def test_upstream_declares_each_read_and_the_gate_of_each_other_segment():
    spec = upstream("seg_5a", ins={"merchants": "seg_1a/merchants"}, reads=["seg_5a/weekly_shapes"],
                    reads_whole=["seg_3a/zone_alloc", "seg_3a/zone_plan"])
    assert {n: i.key.to_user_string() for n, i in spec["ins"].items()} == {"merchants": "seg_1a/merchants"}
    keys = [d.asset_key.to_user_string() if isinstance(d, dg.AssetDep) else d.to_user_string() for d in spec["deps"]]
    assert keys == ["seg_5a/weekly_shapes", "seg_3a/zone_alloc", "seg_3a/zone_plan",
                    "seg_1a/seg_1a_validation", "seg_3a/seg_3a_validation"]
    # zone_plan is read before 3A is validated: it stands behind 1A's gate (engine_assets/storage/reader.py).
    assert gate_of("seg_3a/zone_plan") == "seg_1a" and set(EARLY_READS) == {"seg_3a/zone_plan"}


def test_every_asset_waits_only_on_gates_of_segments_it_reads():
    datasets = set(load_dictionary())
    for asset in ASSETS:
        group = next(iter(asset.group_names_by_key.values()))
        declared = {"/".join(d.asset_key.path) for spec in asset.specs for d in spec.deps}
        read = {d for d in declared if d in datasets}
        gates = {d for d in declared if d.endswith("_validation")}
        wanted = {"/".join(validation_key(gate_of(d)).path) for d in read if segment_of(d) != group}
        if group == "report":  # the realism report reads every validation's report itself: it waits on all
            wanted = {k.to_user_string() for a in ASSETS for k in a.keys if k.path[-1].endswith("_validation")}
        own = {"/".join(validation_key(group).path)}
        assert gates - own == wanted, f"{asset.keys}: waits on {sorted(gates)} but reads {sorted(read)}"
        assert declared <= datasets | gates, f"{asset.keys}: declares {sorted(declared - datasets - gates)}"
