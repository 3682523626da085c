import random
import shutil
from pathlib import Path

import pytest

from engine_assets.run.config import CONFIG_DIR, load_policies, load_profile, parameter_hash
from engine_assets.run.errors import EngineConfigError
from engine_assets.run.identity import resolve_identity


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _load(config_dir: Path, profile: str = "ci"):
    return load_profile(profile, load_policies(config_dir), config_dir)


@pytest.mark.parametrize("name", ["ci", "demo", "reference", "large"])
def test_every_shipped_profile_loads(name):
    profile = load_profile(name, load_policies())
    assert profile.name == name
    assert profile.horizon.end >= profile.horizon.start
    assert set(profile.scenarios) <= {"baseline", "stress"}


def test_ci_profile_has_six_countries_and_three_days():
    profile = load_profile("ci", load_policies())
    assert profile.countries == ("AE", "BR", "DE", "GB", "IN", "US")
    assert len(profile.horizon.days) == 3


def test_bad_enum_names_file_field_value_and_allowed_values(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "bucket_minutes: 60", "bucket_minutes: 7")
    with pytest.raises(EngineConfigError) as err:
        _load(config_dir)
    msg = str(err.value)
    assert "profiles/ci.yaml: at $.bucket_minutes: 7 is not allowed" in msg
    assert "allowed values: 5, 10, 15, 20, 30, 60" in msg


def test_unknown_field_lists_allowed_fields(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchant: 60")
    with pytest.raises(EngineConfigError) as err:
        _load(config_dir)
    msg = str(err.value)
    assert "at $: unknown field(s) 'merchant'" in msg and "allowed fields:" in msg and "merchants" in msg
    assert "required field 'merchants' is missing" in msg


def test_wrong_type_names_expected_type(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchants: lots")
    with pytest.raises(EngineConfigError, match=r'at \$\.merchants: "lots" is not allowed; expected type: integer'):
        _load(config_dir)


def test_unknown_scenario_lists_policy_scenarios(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "scenarios: [baseline]", "scenarios: [panic]")
    with pytest.raises(EngineConfigError, match=r"'panic' is not a scenario .* allowed values: baseline, stress"):
        _load(config_dir)


def test_unknown_country_code_is_named(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "[US, GB,", "[US, XQ,")
    with pytest.raises(EngineConfigError, match=r"'countries' has codes that are not ISO 3166-1 alpha-2: XQ"):
        _load(config_dir)


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('end: "2026-03-29"', 'end: "2026-02-30"', r"'horizon.end' = '2026-02-30' is not a calendar date"),
        ('end: "2026-03-29"', 'end: "2026-03-01"', r"'horizon.end' = 2026-03-01 is before horizon.start"),
        ("name: ci", "name: other", r"'name' = 'other' must equal the file name 'ci'"),
        ("seed: 20260101", "seed: -4", r"at \$\.seed: -4 is not allowed; allowed: >= 0"),
    ],
)
def test_semantic_profile_errors(config_dir, old, new, expected):
    _edit(config_dir / "profiles/ci.yaml", old, new)
    with pytest.raises(EngineConfigError, match=expected):
        _load(config_dir)


def test_duplicate_keys_are_refused(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchants: 60\nmerchants: 70")
    with pytest.raises(EngineConfigError, match=r"profiles/ci.yaml: not valid YAML \(line 5.*duplicate key 'merchants'"):
        _load(config_dir)


def test_norway_is_a_country_not_false(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "[US, GB,", "[US, NO, GB,")
    assert "NO" in _load(config_dir).countries


def test_yaml_syntax_error_names_line(config_dir):
    (config_dir / "profiles/ci.yaml").write_text("name: ci\nseed: [1, 2\n")
    with pytest.raises(EngineConfigError, match=r"profiles/ci.yaml: not valid YAML \(line \d+, column \d+\)"):
        _load(config_dir)


def test_missing_profile_lists_known_profiles(config_dir):
    with pytest.raises(EngineConfigError, match=r"profile 'nope' not found .* known profiles: ci, demo, large, reference"):
        _load(config_dir, "nope")


def test_policy_without_schema_is_rejected(config_dir):
    (config_dir / "policies/extra.yaml").write_text("a: 1\n")
    with pytest.raises(EngineConfigError, match=r"policies/extra.yaml: no schema at .*extra.schema.yaml"):
        load_policies(config_dir)


def test_policy_violating_its_schema_is_rejected(config_dir):
    _edit(config_dir / "policies/scenarios.yaml", "version: 1", "version: 0")
    with pytest.raises(EngineConfigError, match=r"policies/scenarios.yaml: at \$\.version: 0 is not allowed; allowed: >= 1"):
        load_policies(config_dir)


def _hash(config_dir: Path) -> str:
    return resolve_identity("ci", config_dir=config_dir).parameter_hash


def test_one_byte_policy_change_changes_parameter_hash(config_dir):
    before = _hash(config_dir)
    path = config_dir / "policies/scenarios.yaml"
    path.write_bytes(path.read_bytes() + b" ")
    assert len(before) == 64 and before != _hash(config_dir)


def test_profile_edit_changes_parameter_hash_and_directory(config_dir):
    before = resolve_identity("ci", config_dir=config_dir)
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchants: 61")
    after = resolve_identity("ci", config_dir=config_dir)
    assert before.parameter_hash != after.parameter_hash and before.run_root != after.run_root


def test_parameter_hash_ignores_file_order(tmp_path, config_dir):
    digests = {f"p{i}.yaml": f"{i:064x}" for i in range(12)}
    shuffled = list(digests.items())
    random.Random(7).shuffle(shuffled)
    assert parameter_hash(digests) == parameter_hash(dict(shuffled))
    # The same files created in reverse order on disk give the same hash.
    other = tmp_path / "other"
    shutil.copytree(config_dir, other)
    (config_dir / "policies/b_extra.yaml").write_text("x: 1\n")
    (config_dir / "policies/a_extra.yaml").write_text("y: 2\n")
    (other / "policies/a_extra.yaml").write_text("y: 2\n")
    (other / "policies/b_extra.yaml").write_text("x: 1\n")
    for d in (config_dir, other):
        for stem in ("a_extra", "b_extra"):
            (d / f"schemas/policies/{stem}.schema.yaml").write_text("type: object\n")
    assert _hash(config_dir) == _hash(other)


def test_parameter_hash_separates_name_and_digest():
    assert parameter_hash({"ab": "c"}) != parameter_hash({"a": "bc"})


def test_seed_override_and_data_layout(tmp_path):
    ident = resolve_identity("ci", seed=7, data_root=str(tmp_path))
    assert ident.seed == 7
    assert ident.run_root == tmp_path / "ci" / "seed=7" / f"ph={ident.parameter_hash[:16]}"
    with pytest.raises(EngineConfigError, match="seed override"):
        resolve_identity("ci", seed=-1, data_root=str(tmp_path))


def test_s3_data_root_takes_its_endpoint_from_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    ident = resolve_identity("ci", seed=7, data_root="s3://bucket/engine/")
    assert str(ident.run_root) == f"s3://bucket/engine/ci/seed=7/ph={ident.parameter_hash[:16]}"
    assert ident.run_root.storage_options == {"endpoint_url": "http://127.0.0.1:9000"}


def test_object_stores_without_conditional_writes_are_refused_clearly():
    with pytest.raises(EngineConfigError, match=r"gs:// is not a supported data root; .*s3://bucket/prefix"):
        resolve_identity("ci", data_root="gs://bucket/engine")


# --- segment 1A: bad input fails when the configuration loads, before any draw ---


def _error(config_dir: Path) -> str:
    with pytest.raises(EngineConfigError) as err:
        load_profile("ci", load_policies(config_dir), config_dir)
    return str(err.value)


def test_negative_dispersion_names_the_field(config_dir):
    _edit(config_dir / "policies/1a.yaml", "  dispersion:\n    base: 1.3", "  dispersion:\n    base: -1.3")
    msg = _error(config_dir)
    assert "policies/1a.yaml: at $.outlet_count.dispersion.base: -1.3 is not allowed; allowed: > 0" in msg


def test_unknown_mcc_group_names_the_field_and_the_known_groups(config_dir):
    _edit(config_dir / "policies/1a.yaml", "    grocery: 0.10\n", "    grocery: 0.10\n    casinos: 0.02\n")
    msg = _error(config_dir)
    assert "policies/1a.yaml: at $.merchants.sector_weights: unknown field(s) 'casinos'" in msg
    assert "grocery" in msg and "entertainment" in msg


def test_zero_merchants_names_the_profile_field(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchants: 0")
    msg = _error(config_dir)
    assert "profiles/ci.yaml: at $.merchants: 0 is not allowed; allowed: >= 1" in msg


def test_cross_field_error_is_caught_at_load(config_dir):
    _edit(config_dir / "policies/1a.yaml", "gdp_band: [-0.3, -0.1, 0.1, 0.2]", "gdp_band: [-0.3, 0.2]")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "hurdle.gdp_band must have 4 entries" in msg


def test_inverted_realism_corridor_is_refused(config_dir):
    _edit(config_dir / "policies/1a.yaml", "gini_outlets: [0.45, 0.62]", "gini_outlets: [0.62, 0.45]")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "realism.corridors.gini_outlets" in msg


# --- every policy file parsed once, into the typed objects the segments read ---


def test_policies_are_typed_and_hashed_by_file():
    from engine_assets.run.policies import IntensityPolicy, SegmentPolicy
    from engine_kernels.arrivals.bursts import BurstPolicy
    from engine_kernels.merchants.policy import Policy1A

    policies = load_policies()
    assert isinstance(policies.merchants, SegmentPolicy) and isinstance(policies.merchants.model, Policy1A)
    assert isinstance(policies.bursts.model, BurstPolicy) and isinstance(policies.intensity, IntensityPolicy)
    assert policies.scenarios.names == ("baseline", "stress")
    assert policies.civil_time.model.overrides == {"CN": "Asia/Shanghai"}
    assert policies.routing.realism.median_top_share == (0.25, 0.6)
    assert sorted(policies.digests) == sorted(p.name for p in (CONFIG_DIR / "policies").glob("*.yaml"))


def test_missing_policy_file_is_named(config_dir):
    (config_dir / "policies/5b.yaml").unlink()
    with pytest.raises(EngineConfigError, match=r"policies: policy file\(s\) 5b.yaml not found"):
        load_policies(config_dir)


def test_override_outside_the_tz_database_is_refused_at_load(config_dir):
    _edit(config_dir / "policies/2a.yaml", "CN: Asia/Shanghai", "CN: Asia/Peking")
    msg = _error(config_dir)
    assert "policies/2a.yaml: overrides: zones {'CN': 'Asia/Peking'} are not in the pinned tz database" in msg
