"""Segment 1A through Dagster on the ci profile: published, contract-checked, validated, gated, deterministic."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from worlds import published_digests

from engine_assets.definitions import ASSET_CHECKS, ASSETS
from engine_assets.quality.gates import verify_gate
from engine_assets.run.errors import GateError
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager
from engine_assets.storage.publish import POINTER, read_manifest, scan_published
from engine_assets.storage.reader import Reader
from engine_assets.world.seg_1a import validation as seg_1a_validation
from engine_kernels.merchants.realism import RealismPolicy

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
UNIVERSE = ["seg_1a/merchants", "seg_1a/outlet_counts", "seg_1a/candidate_countries", "seg_1a/foreign_membership"]


def _of(segments: tuple[str, ...]):
    assets = [a for a in ASSETS if next(iter(a.keys)).path[0] in segments]
    checks = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] in segments]
    return assets, checks


def _run(root: Path, selection: list[str], partitions: list[str] | None = None) -> dg.ExecuteInProcessResult:
    """Materialise the selected assets (with their checks) of the reference and 1A segments."""
    engine = EngineResource(data_root=str(root))
    assets, checks = _of(("reference", "seg_1a"))
    tags = {}
    if partitions is not None:
        tags = {"dagster/asset_partition_range_start": partitions[0], "dagster/asset_partition_range_end": partitions[-1]}
    return dg.materialize(
        [*assets, *checks], selection=dg.AssetSelection.assets(*[s.split("/") for s in selection]),
        resources={"engine": engine, "shards": ShardIOManager(engine=engine)}, run_config=QUIET, tags=tags,
        raise_on_error=False,
    )


def _errors(result) -> list[str]:
    out = []
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error
        out.append(error.message + (error.cause.message if error.cause else ""))
    return out


def _build_world(root: Path) -> None:
    reference = ["reference/holidays", "reference/reference_validation"]
    catalogue = (["seg_1a/outlet_catalogue"], COUNTRY_GROUPS.get_partition_keys())
    for selection, partitions in ((reference + UNIVERSE, None), catalogue,
                                  (["seg_1a/seg_1a_validation"], None)):
        result = _run(root, selection, partitions)
        assert result.success, _errors(result)
        assert all(e.passed for e in result.get_asset_check_evaluations())


def _digests(root: Path, segment: str = "seg_1a") -> dict[str, list[str]]:
    return published_digests(next(root.glob(f"ci/seed=*/ph=*/{segment}")))


@pytest.fixture(scope="module")
def built(tmp_path_factory, share_reference):
    root = share_reference(tmp_path_factory.mktemp("seg1a") / "data")
    _build_world(root)
    return root


def test_segment_validation_passes_and_opens_the_gate(built):
    identity = EngineResource(data_root=str(built)).identity()
    report = verify_gate(identity, "seg_1a")
    names = {c["name"] for c in report["checks"]}
    assert {"outlet_rows_equal_n_per_merchant", "site_order_contiguous", "every_merchant_present",
            "candidate_ranks_contiguous_home_first", "gini_outlets", "foreign_share_rises_with_size"} <= names
    assert report["passed"] and not report["failed"]


def test_every_dataset_is_published_with_its_rng_accounting(built):
    base = next(built.glob("ci/seed=*/ph=*/seg_1a"))
    merchants = read_manifest(base / "merchants", "seg_1a/merchants")
    assert merchants["rows"] == 60 and merchants["rng_draws"] == {"1a.channel": 60, "1a.home": 60, "1a.mcc": 120}
    shards = sorted(p.name for p in (base / "outlet_catalogue").iterdir() if (p / POINTER).exists())
    assert shards == [f"country={c}" for c in COUNTRY_CODES]
    catalogue = pl.concat([scan_published(base / "outlet_catalogue" / s, s).collect() for s in shards])
    counts = scan_published(base / "outlet_counts", "outlet_counts").collect()
    # Single-site merchants are in the catalogue too: one row per outlet of every merchant.
    assert catalogue.height == counts["n_total"].sum() and catalogue["merchant_id"].n_unique() == 60
    assert (counts["n_total"] == 1).sum() > 0


def test_homes_are_the_profile_countries_weighted_by_gdp(built):
    base = next(built.glob("ci/seed=*/ph=*/seg_1a"))
    homes = scan_published(base / "merchants", "merchants").collect()["home_country_iso"].value_counts()
    by_home = dict(zip(homes["home_country_iso"], homes["count"]))
    assert set(by_home) <= set(COUNTRY_CODES)
    assert by_home["US"] == max(by_home.values())


def test_rebuild_is_byte_identical_whatever_the_partition_batching(built, world_root):
    """Catalogue country group by group, in reverse order, into a fresh root: the same bytes as one run."""
    result = _run(world_root, ["reference/holidays", "reference/reference_validation", *UNIVERSE])
    assert result.success, _errors(result)
    for group in reversed(COUNTRY_GROUPS.get_partition_keys()):
        single = _run(world_root, ["seg_1a/outlet_catalogue"], [group])
        assert single.success, _errors(single)
    first, second = _digests(built), _digests(world_root)
    assert len(first) == len(UNIVERSE) + len(COUNTRY_CODES)
    assert first == second


def test_universe_refuses_to_read_without_a_passed_reference(world_root):
    result = _run(world_root, UNIVERSE)
    assert not result.success
    [message] = _errors(result)
    assert "segment reference has no published validation bundle" in message and "reference/reference_validation" in message


def test_downstream_gate_refuses_an_unvalidated_1a(world_root):
    with pytest.raises(GateError, match="segment seg_1a has no published validation bundle"):
        verify_gate(EngineResource(data_root=str(world_root)).identity(), "seg_1a")


def _failed(outcomes) -> set[str]:
    return {o.name for o in outcomes if not o.passed}


def test_validation_catches_a_lost_outlet_a_wrong_home_and_a_missing_partition(built):
    identity = EngineResource(data_root=str(built)).identity()
    seg = seg_1a_validation.load_segment(Reader.for_assets_def(seg_1a_validation.validation, identity))
    assert not _failed(seg_1a_validation.structure_outcomes(seg, 60))

    lost = seg.catalogue.filter((pl.col("site_order") == 1) & (pl.col("n_country") >= 2)).row(0, named=True)
    tampered = seg_1a_validation.Segment1A(**{**seg.__dict__, "catalogue": seg.catalogue.filter(
        ~((pl.col("merchant_id") == lost["merchant_id"]) & (pl.col("legal_country_iso") == lost["legal_country_iso"])
          & (pl.col("site_order") == 1)))})
    assert {"outlet_rows_equal_n_per_merchant", "site_order_contiguous"} <= _failed(
        seg_1a_validation.structure_outcomes(tampered, 60))

    moved = seg_1a_validation.Segment1A(**{**seg.__dict__, "merchants": seg.merchants.with_columns(
        home_country_iso=pl.when(pl.col("merchant_id") == 1).then(pl.lit("ZZ")).otherwise(pl.col("home_country_iso")))})
    assert {"catalogue_home_matches_merchant", "membership_sums_to_n_with_one_home",
            "candidate_ranks_contiguous_home_first"} <= _failed(seg_1a_validation.structure_outcomes(moved, 60))

    missing = seg_1a_validation.Segment1A(**{**seg.__dict__, "missing_partitions": ["GB"]})
    assert _failed(seg_1a_validation.structure_outcomes(missing, 60)) == {"catalogue_partitions_complete"}
    assert "every_merchant_present" in _failed(seg_1a_validation.structure_outcomes(seg, 61))


def test_realism_outside_its_corridor_fails_once_enforced(built):
    seg = seg_1a_validation.load_segment(Reader.for_assets_def(seg_1a_validation.validation, EngineResource(data_root=str(built)).identity()))
    corridors = {"single_site_share": (0.0, 0.01)}
    strict = seg_1a_validation.realism_outcomes(seg, RealismPolicy(enforce_from_merchants=1, corridors=corridors))
    assert "single_site_share" in _failed(strict)
    lenient = seg_1a_validation.realism_outcomes(seg, RealismPolicy(enforce_from_merchants=10_000, corridors=corridors))
    [reported] = [o for o in lenient if o.name == "single_site_share"]
    assert reported.passed and reported.details["enforced"] is False and reported.figure > 0.01
