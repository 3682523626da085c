"""No PASS, no read: the gate refuses missing, failed and tampered validation bundles."""

import pytest

from engine_assets.quality.gates import (
    FLAG,
    INDEX,
    REPORT,
    CheckOutcome,
    bundle_dir,
    verify_gate,
    write_validation_bundle,
)
from engine_assets.run.errors import GateError
from engine_assets.storage.publish import published_version

PASSING = [CheckOutcome("pk_unique", True, 0, "== 0"), CheckOutcome("single_site_share", True, 0.44, "0.35-0.55")]


def _version(identity):
    """The directory of the published bundle's current version."""
    return published_version(bundle_dir(identity, "seg_x"), "seg_x/validation")


def test_passing_bundle_opens_the_gate(identity):
    write_validation_bundle(identity, "seg_x", PASSING, attachments={"map.png": b"\x89PNG..."})
    version = _version(identity)
    assert {p.name for p in version.iterdir()} >= {REPORT, INDEX, FLAG, "map.png", "_manifest.json"}
    report = verify_gate(identity, "seg_x")
    assert report["passed"] and [c["name"] for c in report["checks"]] == ["pk_unique", "single_site_share"]


def test_missing_bundle_names_the_segment(identity):
    with pytest.raises(GateError, match=r"segment seg_x has no published validation bundle .* materialise seg_x/seg_x_validation"):
        verify_gate(identity, "seg_x")


def test_failed_validation_names_failed_checks(identity):
    outcomes = PASSING + [CheckOutcome("gini", False, 0.71, "0.45-0.62")]
    write_validation_bundle(identity, "seg_x", outcomes)
    assert not (_version(identity) / FLAG).exists()
    with pytest.raises(GateError, match=r"segment seg_x did not pass validation \(failed checks: gini"):
        verify_gate(identity, "seg_x")


def test_rerun_that_fails_removes_an_earlier_pass(identity):
    write_validation_bundle(identity, "seg_x", PASSING)
    verify_gate(identity, "seg_x")
    write_validation_bundle(identity, "seg_x", [CheckOutcome("gini", False, 0.71)])
    with pytest.raises(GateError, match="did not pass"):
        verify_gate(identity, "seg_x")


@pytest.mark.parametrize("member", [REPORT, "map.png"])
def test_tampered_member_is_detected(identity, member):
    write_validation_bundle(identity, "seg_x", PASSING, attachments={"map.png": b"png"})
    path = _version(identity) / member
    path.write_bytes(path.read_bytes().replace(b"0.44", b"0.99").replace(b"png", b"gif"))
    with pytest.raises(GateError, match=r"seg_x: validation bundle .*modified after it passed .*" + member.replace(".", r"\.")):
        verify_gate(identity, "seg_x")


def test_tampered_index_and_flag_are_detected(identity):
    write_validation_bundle(identity, "seg_x", PASSING)
    flag = _version(identity) / FLAG
    flag.write_text("0" * 64 + "\n")
    with pytest.raises(GateError, match=r"modified after it passed .*_passed\.flag differs from its manifest"):
        verify_gate(identity, "seg_x")


def test_a_file_added_to_a_version_is_never_read(identity):
    # Members are read by the names the manifest lists, never found by listing the version.
    write_validation_bundle(identity, "seg_x", PASSING)
    (_version(identity) / "extra.json").write_text("{")
    assert "extra.json" not in verify_gate(identity, "seg_x")


def test_a_member_deleted_after_the_pass_is_detected(identity):
    write_validation_bundle(identity, "seg_x", PASSING)
    (_version(identity) / REPORT).unlink()
    with pytest.raises(GateError, match=r"validation bundle at .* is damaged .*report\.json.*materialise seg_x"):
        verify_gate(identity, "seg_x")


def test_empty_bundle_is_refused(identity):
    with pytest.raises(ValueError, match="at least one check"):
        write_validation_bundle(identity, "seg_x", [])


@pytest.mark.parametrize("name", [REPORT, INDEX, FLAG, "_manifest.json"])
def test_attachments_cannot_replace_bundle_members(identity, name):
    with pytest.raises(ValueError, match="reserved"):
        write_validation_bundle(identity, "seg_x", PASSING, attachments={name: b"{}"})


def test_bundle_of_another_world_does_not_open_the_gate(identity, tmp_path):
    from engine_assets.run.identity import resolve_identity

    write_validation_bundle(identity, "seg_x", PASSING)
    other_seed = resolve_identity("ci", seed=identity.seed + 1, data_root=str(identity.data_root))
    # Same directory on purpose: a bundle copied or left from another world must not pass.
    import shutil

    shutil.copytree(identity.run_root / "seg_x", other_seed.run_root / "seg_x", symlinks=True)
    with pytest.raises(GateError, match="written for .* not for this world"):
        verify_gate(other_seed, "seg_x")


def test_plain_directory_is_not_a_bundle(identity):
    root = bundle_dir(identity, "seg_x")
    root.mkdir(parents=True)
    (root / REPORT).write_text('{"passed": true}')
    (root / FLAG).write_text("x")
    with pytest.raises(GateError, match="no published validation bundle"):
        verify_gate(identity, "seg_x")


def _declared_checks():
    import importlib

    from engine_assets.definitions import LAYERS

    checks = []
    for layer in LAYERS:
        for segment in layer.segments:
            try:
                checks += importlib.import_module(f"engine_assets.{layer.name}.{segment.name}.validation").CHECKS
            except ModuleNotFoundError:
                continue  # a segment without a validation of its own (the run manifest)
    return checks


def test_a_check_of_unbuilt_partitions_says_to_build_them():
    from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY

    coverage = [c for c in _declared_checks() if "partition" in c.name and ("complete" in c.name or "published" in c.name)]
    assert len(coverage) == 8 and all(c.remedy == MISSING_PARTITIONS_REMEDY for c in coverage)


def test_every_realism_check_says_which_knob_drives_it():
    """A failed corridor prints its remedy (gates.failure_report): it must name the policy or profile
    file to change, so `make demo` never stops without saying what to do."""
    import re

    from engine_assets.run.config import CONFIG_DIR

    realism = [c for c in _declared_checks() if c.realism]
    assert len(realism) >= 30
    for check in realism:
        files = re.findall(r"config/(?:policies|profiles)/[\w<>.]+\.yaml", check.remedy)
        assert files and check.remedy.endswith("."), (check.name, check.remedy)
        for name in files:
            assert "<name>" in name or (CONFIG_DIR.parent / name).is_file(), (check.name, name)
