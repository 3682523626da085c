"""In-process Dagster runs on the ci profile: definitions, the shards IO manager, contract checks, gates."""

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from engine_assets import demo
from engine_assets.definitions import ASSET_CHECKS, ASSETS, defs
from engine_assets.quality import checks
from engine_assets.quality.checks import contract_check
from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import CheckOutcome, ValidationCheck, validation_asset, verify_gate
from engine_assets.quality.realism import Sample
from engine_assets.run import partitions
from engine_assets.run.identity import manifest_fingerprint
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS, DAYS, SCENARIO_DAYS, countries_in
from engine_assets.run.resources import EngineResource
from engine_assets.storage import io_manager, reader
from engine_assets.storage.datasets import load_dataset, partition_path
from engine_assets.storage.io_manager import ShardIOManager
from engine_assets.storage.publish import read_manifest
from engine_assets.world.engine.assets import REFERENCE_DATASETS

FIXTURE = Path(__file__).parent / "quality" / "contracts_fixture"
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _resources(tmp_path: Path) -> dict:
    engine = EngineResource(data_root=str(tmp_path / "data"))
    return {"engine": engine, "shards": ShardIOManager(engine=engine)}


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"engine/run_manifest", "reference/countries", "reference/population_grid", "reference/tz_grid"} <= keys
    # Every published dataset has exactly one blocking contract check.
    checked = {k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == "contract"}
    assert checked == {k for k in keys if not k.endswith("_validation")}
    # Every segment's validation reads on its own and reports its checks as Dagster checks.
    validations = sorted(k for k in keys if k.endswith("_validation"))
    assert all(k.split("/")[1] == k.split("/")[0] + "_validation" for k in validations)
    assert all(any(c.asset_key.to_user_string() == k for c in graph.asset_check_keys) for k in validations)
    # Every check blocks except figures a validation only reports.
    assert {k.name for k in graph.asset_check_keys if not graph.get_check_spec(k).blocking} == {
        "outlet_figures", "repeat_share_by_sector", "home_to_site_km"}
    # Each asset, multi-asset outputs included, says what it holds in its own words.
    descriptions = [graph.get(k).description for k in graph.get_all_asset_keys()]
    assert all(descriptions) and len(set(descriptions)) == len(descriptions)


def test_partitions_follow_the_ci_profile():
    assert COUNTRY_CODES == ["AE", "BR", "DE", "GB", "IN", "US"]
    # Dagster sees the countries in groups by first letter; storage keeps one partition per country.
    assert COUNTRY_GROUPS.get_partition_keys() == ["A", "B", "D", "G", "I", "U"]
    assert countries_in(["U", "D"]) == ["DE", "US"]
    assert DAYS.get_partition_keys() == ["2026-03-27", "2026-03-28", "2026-03-29"]
    assert len(SCENARIO_DAYS.get_partition_keys()) == 3


def test_day_partitions_do_not_depend_on_todays_date():
    # The horizon may lie in the future; all its days must exist as partitions regardless.
    future = dg.DailyPartitionsDefinition(
        start_date="2100-01-01", end_date="2100-01-03", end_offset=(dt.date(2100, 1, 2) - dt.date(1970, 1, 1)).days + 1
    )
    assert future.get_partition_keys() == ["2100-01-01", "2100-01-02"]


def test_run_manifest_records_the_reference_data_it_stands_on(world_root):
    engine = EngineResource(data_root=str(world_root))
    resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}
    selection = [["reference", "holidays"], ["reference", "reference_validation"], ["engine", "run_manifest"]]
    result = dg.materialize([*ASSETS, *ASSET_CHECKS], selection=dg.AssetSelection.assets(*selection),
                            resources=resources, run_config=QUIET)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    identity = engine.identity()
    doc = load_dataset(identity, load_contract("engine/run_manifest"), None)
    assert doc["parameter_hash"] == identity.parameter_hash
    assert doc["tzdata_iana_version"] == "2026f" and doc["package_versions"]["dagster"] == "1.13.27"
    # Every reference dataset is fingerprinted by its published bytes, so other reference data is another world.
    assert sorted(doc["reference_digests"]) == sorted(REFERENCE_DATASETS)
    assert all(len(d) == 64 for d in doc["reference_digests"].values())
    tampered = {**doc["reference_digests"], "reference/mcc": "0" * 64}
    assert manifest_fingerprint(doc["parameter_hash"], tampered, doc["engine_version"]) != doc["manifest_fingerprint"]
    assert manifest_fingerprint(doc["parameter_hash"], doc["reference_digests"], doc["engine_version"]) == \
        doc["manifest_fingerprint"]


# ---------------------------------------------------------------------------------------------
# Toy segment on test contracts: merchants partitioned by country, a foreign key to mcc_codes.

COUNTRY_PAIR = dg.StaticPartitionsDefinition(["GB", "US"])


@pytest.fixture
def fixture_contracts(monkeypatch):
    def load(dataset_id, root=FIXTURE):
        return load_contract(dataset_id, root=FIXTURE)

    monkeypatch.setattr(io_manager, "load_contract", load)
    monkeypatch.setattr(reader, "load_contract", load)
    monkeypatch.setattr(checks, "load_contract", load)


def _merchants(country: str, duplicate: bool = False) -> pl.DataFrame:
    ids = [1, 2, 2] if duplicate else [1, 2, 3]
    n = len(ids)
    return pl.DataFrame({
        "merchant_id": ids,
        "mcc": [5411, 5812, 5411],
        "name": ["A", "B", "C"],
        "channel": ["online", "in_store", "moto"],
        "country_iso": [country] * n,
        "risk_score": [0.1, 0.2, 0.3],
        "opened_on": [dt.date(2026, 1, 1)] * n,
        "created_at": [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)] * n,
        "closed_at": [None] * n,
        "is_active": [True] * n,
        "parent_id": [None] * n,
    }, schema_overrides={"closed_at": pl.Datetime("us", "UTC"), "parent_id": pl.Int64})


def _toy_assets(duplicate_in: str | None = None, by=COUNTRY_PAIR):
    @dg.asset(key=["demo", "mcc_codes"], io_manager_key="shards")
    def mcc_codes():
        return pl.DataFrame({"mcc": [5411, 5812], "label": ["Grocery", "Restaurants"]})

    @dg.asset(key=["demo", "merchants"], io_manager_key="shards", partitions_def=by,
              deps=[mcc_codes], backfill_policy=dg.BackfillPolicy.single_run())
    def merchants(context: dg.AssetExecutionContext):
        codes = partitions.countries_in(context.partition_keys) if by != COUNTRY_PAIR else context.partition_keys
        return {c: _merchants(c, duplicate=c == duplicate_in) for c in codes}

    # In the merchants' own segment: a read from another segment would need that segment's gate.
    @dg.asset(key=["demo", "merchant_count"], group_name="demo",
              ins={"merchants": dg.AssetIn(key=["demo", "merchants"], partition_mapping=dg.AllPartitionMapping())})
    def merchant_count(merchants: dict[str, pl.LazyFrame]) -> dict[str, int]:
        return {c: lf.select(pl.len()).collect().item() for c, lf in merchants.items()}

    return [mcc_codes, merchants, merchant_count], [
        contract_check(["demo", "mcc_codes"]), contract_check(["demo", "merchants"], by)]


def _failure_text(result) -> str:
    error = result.get_step_failure_events()[0].event_specific_data.error
    return error.message + (error.cause.message if error.cause else "")


def _materialise(tmp_path, assets, asset_checks, selection, tags=None):
    return dg.materialize([*assets, *asset_checks], selection=selection, resources=_resources(tmp_path),
                          run_config=QUIET, tags=tags or {}, raise_on_error=False)


RANGE = {"dagster/asset_partition_range_start": "GB", "dagster/asset_partition_range_end": "US"}


def test_partition_range_publishes_each_country_and_checks_pass(tmp_path, fixture_contracts):
    assets, asset_checks = _toy_assets()
    assert _materialise(tmp_path, assets, asset_checks, ["demo/mcc_codes"]).success
    result = _materialise(tmp_path, assets, asset_checks, ["demo/merchants"], RANGE)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.partition: e.passed for e in evaluations} == {"GB": True, "US": True}
    data = tmp_path / "data" / "ci"
    assert sorted(p.name for p in data.rglob("country=*")) == ["country=GB", "country=US"]
    counted = dg.materialize([*assets], selection=["demo/merchant_count"], resources=_resources(tmp_path), run_config=QUIET)
    assert counted.output_for_node("demo__merchant_count") == {"GB": 3, "US": 3}


@pytest.fixture
def country_groups(monkeypatch):
    """Three countries in two groups, the way a profile of many countries is partitioned in Dagster."""
    monkeypatch.setattr(partitions, "COUNTRY_CODES", ["GB", "GR", "US"])
    return partitions.StaticPartitionsDefinition(["G", "U"], "country_group")


GROUP_RANGE = {"dagster/asset_partition_range_start": "G", "dagster/asset_partition_range_end": "U"}


def test_a_country_group_is_one_dagster_partition_and_one_storage_partition_per_country(
        tmp_path, fixture_contracts, country_groups):
    assets, asset_checks = _toy_assets(by=country_groups)
    assert _materialise(tmp_path, assets, asset_checks, ["demo/mcc_codes"]).success
    result = _materialise(tmp_path, assets, asset_checks, ["demo/merchants"], GROUP_RANGE)
    assert result.success
    data = tmp_path / "data" / "ci"
    assert sorted(p.name for p in data.rglob("country=*")) == ["country=GB", "country=GR", "country=US"]
    built = {m.partition: m.metadata for m in result.get_asset_materialization_events()
             for m in [m.event_specific_data.materialization]}
    assert {k: (v["dagster/row_count"].value, v["countries"].value) for k, v in built.items()} == {
        "G": (6, "GB, GR"), "U": (3, "US")}
    evaluations = {e.partition: e for e in result.get_asset_check_evaluations()}
    assert {k: e.passed for k, e in evaluations.items()} == {"G": True, "U": True}
    assert evaluations["G"].metadata["rows_checked"].value == 6
    counted = dg.materialize([*assets], selection=["demo/merchant_count"], resources=_resources(tmp_path),
                             run_config=QUIET)
    assert counted.output_for_node("demo__merchant_count") == {"GB": 3, "GR": 3, "US": 3}  # asset code sees countries


def test_one_bad_country_fails_its_group_and_names_the_country(tmp_path, fixture_contracts, country_groups):
    assets, asset_checks = _toy_assets(duplicate_in="GR", by=country_groups)
    _materialise(tmp_path, assets, asset_checks, ["demo/mcc_codes"])
    result = _materialise(tmp_path, assets, asset_checks, ["demo/merchants", "demo/merchant_count"], GROUP_RANGE)
    verdicts = {e.partition: e for e in result.get_asset_check_evaluations()}
    assert not verdicts["G"].passed and verdicts["U"].passed
    assert verdicts["G"].metadata["failed_countries"].value == "GR"
    assert "merchant_id" in verdicts["G"].metadata["GR/violations"].value
    assert "demo__merchant_count" not in {e.step_key for e in result.get_step_success_events()}


def test_contract_violation_fails_the_blocking_check_and_stops_downstream(tmp_path, fixture_contracts):
    assets, asset_checks = _toy_assets(duplicate_in="US")
    _materialise(tmp_path, assets, asset_checks, ["demo/mcc_codes"])
    result = _materialise(tmp_path, assets, asset_checks, ["demo/merchants", "demo/merchant_count"], RANGE)
    verdicts = {e.partition: e for e in result.get_asset_check_evaluations()}
    assert verdicts["GB"].passed and not verdicts["US"].passed
    assert "merchant_id" in verdicts["US"].metadata["violations"].value
    assert not any(e.asset_key == dg.AssetKey(["demo", "merchant_count"]) for e in result.get_asset_materialization_events()
                   if hasattr(e, "asset_key"))
    assert "demo__merchant_count" not in {e.step_key for e in result.get_step_success_events()}


def test_foreign_key_orphans_fail_the_check(tmp_path, fixture_contracts):
    assets, asset_checks = _toy_assets()
    # mcc_codes never published with 5812: publish a smaller code list first.
    @dg.asset(key=["demo", "mcc_codes"], io_manager_key="shards")
    def mcc_codes():
        return pl.DataFrame({"mcc": [5411], "label": ["Grocery"]})

    _materialise(tmp_path, [mcc_codes], [], ["demo/mcc_codes"])
    result = _materialise(tmp_path, assets, asset_checks, ["demo/merchants"], RANGE)
    evaluations = result.get_asset_check_evaluations()
    assert {e.partition for e in evaluations} == {"GB", "US"}
    assert all(not e.passed and "mcc" in e.metadata["violations"].value for e in evaluations)


def test_a_range_run_records_a_verdict_per_partition_tied_to_its_materialisation(tmp_path, fixture_contracts):
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    assets, asset_checks = _toy_assets()
    with dg.instance_for_test() as instance:
        dg.materialize([*assets, *asset_checks], selection=["demo/mcc_codes"], resources=_resources(tmp_path),
                       run_config=QUIET, instance=instance)
        dg.materialize([*assets, *asset_checks], selection=["demo/merchants"], resources=_resources(tmp_path),
                       run_config=QUIET, tags=RANGE, instance=instance)
        key = dg.AssetCheckKey(dg.AssetKey(["demo", "merchants"]), "contract")
        infos = {i.partition_key: i for i in instance.event_log_storage.get_asset_check_partition_info([key])}
        # What the UI reads: each partition passed, none skipped, each against its own materialisation.
        assert {k: i.latest_execution_status for k, i in infos.items()} == {
            "GB": AssetCheckExecutionRecordStatus.SUCCEEDED, "US": AssetCheckExecutionRecordStatus.SUCCEEDED}
        assert all(i.latest_target_materialization_storage_id == i.latest_materialization_storage_id is not None
                   for i in infos.values())


def test_wrong_partition_mapping_is_a_clear_error(tmp_path, fixture_contracts):
    @dg.asset(key=["demo", "merchants"], io_manager_key="shards", partitions_def=COUNTRY_PAIR,
              backfill_policy=dg.BackfillPolicy.single_run())
    def merchants():
        return {"GB": _merchants("GB")}  # forgets US

    result = dg.materialize([merchants], resources=_resources(tmp_path), run_config=QUIET, tags=RANGE, raise_on_error=False)
    assert not result.success
    failure = _failure_text(result)
    assert "covers partitions ['GB', 'US']" in failure and "got ['GB']" in failure


def test_gate_blocks_downstream_until_validation_passes(tmp_path):
    verdict = {"passed": False}

    def evaluate(identity):
        return [CheckOutcome("conservation", verdict["passed"], 3, "== 0"),
                CheckOutcome("single_site_share", verdict["passed"], 0.61, "0.35-0.55",
                             Sample(1000, 500, "merchants").note())], {"note.txt": b"figures"}

    validation = validation_asset("seg_x", [], evaluate, "toy segment validation", [
        ValidationCheck("conservation", "Sites are conserved."),
        ValidationCheck("single_site_share", "Realism: share of merchants with one site.",
                        remedy="The hurdle's intercept in config/policies/1a.yaml sets it.")])

    @dg.asset(key=["seg_y", "first"], deps=[validation])
    def first(engine: EngineResource) -> int:
        verify_gate(engine.identity(), "seg_x")
        return 1

    def run(selection):
        return dg.materialize([validation, first], selection=selection, resources=_resources(tmp_path),
                              run_config=QUIET, raise_on_error=False)

    failed = run(["seg_x/seg_x_validation"])
    text = _failure_text(failed)
    assert "seg_x validation failed for profile ci (60 merchants), seed 20260101" in text
    assert "conservation = 3, outside == 0\n" in text
    assert ("single_site_share = 0.61, outside 0.35-0.55 (judged on 1000 merchants; the corridor applies from 500 "
            "merchants)") in text
    # What `make demo` prints: each failed check with its figure, band and what to do about it.
    [printed] = demo._failures(failed)
    assert printed.startswith("step seg_x__seg_x_validation failed: seg_x validation failed for profile ci")
    exact, realism = printed.split("single_site_share")
    assert "what to do: an exact rule of the engine" in exact and "Rematerialise" in exact
    assert "what to do: The hurdle's intercept in config/policies/1a.yaml sets it." in realism
    assert "make demo SEED=7" in realism and "report.json" in printed
    # The verdict is also a blocking Dagster check of the validation asset, with its figure and band.
    check = next(c for c in failed.get_asset_check_evaluations() if c.check_name == "conservation")
    assert (check.check_name, check.passed, check.blocking) == ("conservation", False, True)
    assert check.metadata["figure"].value == 3 and check.metadata["band"].value == "== 0"
    # The failed bundle is published for reading, and the gate refuses the downstream segment.
    blocked = run(["seg_y/first"])
    assert "segment seg_x did not pass validation (failed checks: conservation" in _failure_text(blocked)
    verdict["passed"] = True
    passed = run(["seg_x/seg_x_validation", "seg_y/first"])
    assert passed.success and passed.output_for_node("seg_y__first") == 1


def test_each_partition_of_a_range_run_records_its_own_rows(tmp_path, fixture_contracts):
    @dg.asset(key=["demo", "merchants"], io_manager_key="shards", partitions_def=COUNTRY_PAIR,
              backfill_policy=dg.BackfillPolicy.single_run())
    def merchants():
        return {"GB": _merchants("GB").head(1), "US": _merchants("US")}

    result = dg.materialize([merchants], resources=_resources(tmp_path), run_config=QUIET, tags=RANGE)
    rows = {m.partition: m.metadata["dagster/row_count"].value
            for m in (e.event_specific_data.materialization for e in result.get_asset_materialization_events())}
    assert rows == {"GB": 1, "US": 3}


def test_contract_checks_stack_small_partitions_and_never_a_month_of_big_ones():
    from engine_assets.quality.checks import _batches

    assert _batches([10] * 5, budget=100) == [[0, 1, 2, 3, 4]]
    assert _batches([60, 30, 20, 150, 5], budget=100) == [[0, 1], [2], [3], [4]]
    assert _batches([], budget=100) == []
    assert _batches([0, 0], budget=0) == [[0, 1]]



def test_a_seed_set_in_run_config_decides_what_is_drawn_and_where_it_is_published(world_root):
    job = defs.resolve_implicit_global_asset_job_def()
    config = {**QUIET, "resources": {"engine": {"config": {"seed": 7, "data_root": str(world_root)}}}}
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=config, asset_selection=[dg.AssetKey(["reference", "holidays"])],
                                        instance=instance, raise_on_error=False)
    assert result.success and all(e.passed for e in result.get_asset_check_evaluations())
    identity = EngineResource(seed=7, data_root=str(world_root)).identity()
    manifest = read_manifest(partition_path(identity, load_contract("reference/holidays"), None), "reference/holidays")
    assert manifest["identity"]["seed"] == 7
    assert [p.name for p in (world_root / "ci").iterdir()] == ["seed=7"]
