"""Faults: a build killed at a named point shows no partial partition, opens no gate over damaged data, and heals
on a rerun to the bytes of a clean build (two trials of benchmarks/faults.py's campaign, which adds random
moments, on world_job of the ci world); a full disk and a read-only data root fail with one clear error and
leave what was published as it was."""

import os
import subprocess
from contextlib import contextmanager

import campaign
import numpy as np
import pyarrow as pa
import pytest

from engine_assets.run.errors import PublishError
from engine_assets.storage.publish import published_files, publish_table, scan_published


@pytest.mark.parametrize("kill", ["publish.before_pointer:{last}", "validation.before_bundle:1"])
def test_a_killed_build_shows_nothing_partial_and_heals_on_rerun(first_jobs, tmp_path, kill):
    clean, passes = first_jobs, first_jobs.passes[0]
    assert passes.get("publish.before_pointer", 0) >= 10 and passes.get("validation.before_bundle", 0) >= 1, passes
    # The last publication of the job: by then most of the world is published and its validations ran.
    kill = kill.format(last=passes["publish.before_pointer"])
    trial = campaign.run_trial(1, clean, 0, kill, tmp_path)
    assert trial.damaged == [] and trial.wrong_gates == []
    assert trial.killed, "the job was killed at its point"
    assert trial.rerun_ok and trial.identical, trial


SCHEMA = pa.schema([("row", pa.int64()), ("value", pa.float64())])


def _table(rows: int) -> pa.Table:
    rng = np.random.default_rng(rows)  # random values: zstd cannot shrink them below the disk's size
    return pa.table({"row": np.arange(rows), "value": rng.random(rows)}, schema=SCHEMA)


@contextmanager
def tmpfs(path, size: str):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
def test_a_full_disk_and_a_read_only_data_root_fail_clearly_and_keep_what_was_published(tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        target = disk / "seg" / "ds" / "country=US"
        publish_table(target, _table(1_000), SCHEMA, {}, "seg/ds US")
        before = {name: path.read_bytes() for name, path in published_files(target, "seg/ds US").items()}
        with pytest.raises(PublishError, match=r"^writing seg/ds US failed \(.*No space left on device\); free "
                                               r"disk space; nothing was published$"):
            publish_table(target, _table(1_000_000), SCHEMA, {}, "seg/ds US")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(PublishError, match=r"^cannot write seg/ds US under .*/disk/seg/ds: Read-only file system; "
                                               r"make the data root writable or set ENGINE_DATA_ROOT"):
            publish_table(target, _table(10), SCHEMA, {}, "seg/ds US")
        after = {name: path.read_bytes() for name, path in published_files(target, "seg/ds US").items()}
        assert after == before and scan_published(target, "seg/ds US").collect().height == 1_000
