"""Atomic publication: whole partitions or nothing, whatever happens to the writer."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import services

from engine_assets.run.errors import NotPublishedError, PublishError, PublishRaceError
from engine_assets.storage.gc import collect_root
from engine_assets.storage.objects import is_remote
from engine_assets.storage.publish import (
    GRACE_ENV,
    MANIFEST,
    POINTER,
    SPOOL_PREFIX,
    VERSIONS,
    collect_versions,
    published_files,
    publish_files,
    publish_table,
    published_version,
    read_manifest,
    scan_published,
)

SCHEMA = pa.schema([("writer", pa.int32()), ("row", pa.int64()), ("value", pa.float64())])


def _batches(writer: int, rows: int, batch: int = 10_000):
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        yield pa.record_batch(
            [pa.array(np.full(n, writer, np.int32)), pa.array(np.arange(start, start + n)), pa.array(np.ones(n))],
            schema=SCHEMA,
        )


def _entries(directory) -> dict[str, list[str]]:
    """Of a dataset directory (local or on S3): the partitions with a pointer, the finished versions (current or
    superseded) and the unfinished ones (being written or abandoned), as paths relative to it."""
    if is_remote(directory):  # prefixes exist only through the objects under them
        keys = [k.removeprefix(directory.path + "/").split("/") for k in directory.fs.find(directory.path)]
        versions = sorted({"/".join(k[:3]) for k in keys if len(k) > 3 and k[1] == VERSIONS})
        finished = {"/".join(k[:3]) for k in keys if len(k) == 4 and k[3] == MANIFEST}
        return {"visible": sorted(k[0] for k in keys if k[1:] == [POINTER]),
                "versions": [v for v in versions if v in finished], "tmp": [v for v in versions if v not in finished]}
    versions = sorted(v for v in directory.glob(f"*/{VERSIONS}/*") if v.is_dir())
    return {
        "visible": sorted(p.name for p in directory.iterdir() if (p / POINTER).exists()),
        "versions": [str(v.relative_to(directory)) for v in versions if (v / MANIFEST).exists()],
        "tmp": [str(v.relative_to(directory)) for v in versions if not (v / MANIFEST).exists()],
    }


@pytest.fixture
def no_grace(monkeypatch):
    """Superseded versions go at the next publication (readers of these tests never hold one)."""
    monkeypatch.setenv(GRACE_ENV, "0")


def _run(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], stdout=subprocess.PIPE, text=True)


def test_round_trip_with_manifest(store):
    target = store / "seg" / "ds" / "country=US"
    pub = publish_table(target, _batches(1, 25_000), SCHEMA, {"dataset": "seg/ds"}, "seg/ds US", row_group_rows=10_000)
    manifest = read_manifest(target, "x")
    assert pub.rows == manifest["rows"] == 25_000
    assert manifest["files"][0]["sha256"] and manifest["bytes"] == sum(f["bytes"] for f in manifest["files"])
    frame = scan_published(target, "x").collect()
    assert frame.height == 25_000 and frame["row"].to_list() == list(range(25_000))


def test_accepts_polars_and_arrow_shapes(tmp_path):
    table = pa.Table.from_batches(list(_batches(2, 100)))
    for i, data in enumerate([table, pl.from_arrow(table), pl.from_arrow(table).lazy(), iter([table.to_batches()])]):
        pub = publish_table(tmp_path / f"p{i}", data, SCHEMA, {}, "shape test")
        assert pub.rows == 100


def test_rejects_unpublishable_output_without_leaving_anything(tmp_path):
    with pytest.raises(TypeError, match="cannot publish a dict"):
        publish_table(tmp_path / "p", {"a": 1}, SCHEMA, {}, "bad")
    assert _entries(tmp_path) == {"visible": [], "versions": [], "tmp": []}


def test_same_rows_give_identical_bytes(store):
    digests = []
    for name in ("a", "b"):
        pub = publish_table(store / name, _batches(3, 50_000), SCHEMA, {}, "determinism")
        digests.append([f.sha256 for f in pub.files])
    assert digests[0] == digests[1]


def test_empty_partition_keeps_schema(store):
    publish_table(store / "e", iter([]), SCHEMA, {}, "empty")
    frame = scan_published(store / "e", "empty").collect()
    assert frame.height == 0 and frame.columns == ["writer", "row", "value"]


def test_rows_split_into_files_and_row_groups(tmp_path):
    pub = publish_table(tmp_path / "s", _batches(1, 55_000, 3_000), SCHEMA, {}, "split", row_group_rows=10_000, rows_per_file=20_000)
    assert [f.rows for f in pub.files] == [20_000, 20_000, 15_000]
    import pyarrow.parquet as pq

    assert pq.ParquetFile(published_files(tmp_path / "s", "split")["part-00000.parquet"]).num_row_groups == 2


def test_failing_producer_leaves_previous_version_intact(store, no_grace):
    target = store / "p"
    publish_table(target, _batches(1, 1_000), SCHEMA, {}, "v1")

    def broken():
        yield from _batches(2, 5_000)
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        publish_table(target, broken(), SCHEMA, {}, "v2")
    frame = scan_published(target, "p").collect()
    assert frame.height == 1_000 and set(frame["writer"]) == {1}
    assert _entries(store)["visible"] == ["p"] and len(_entries(store)["versions"]) == 1
    assert _entries(store)["tmp"] == []


def test_unpublished_partition_is_not_readable(store):
    (store / "half" / VERSIONS / "x").mkdir(parents=True)
    (store / "half" / VERSIONS / "x" / "part-00000.parquet").write_bytes(b"junk")
    with pytest.raises(NotPublishedError, match="not published"):
        scan_published(store / "half", "seg/ds partition US")


def test_unwritable_data_root_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(PublishError, match=r"cannot write seg/ds .* ENGINE_DATA_ROOT"):
        publish_table(blocker / "seg" / "ds", _batches(1, 10), SCHEMA, {}, "seg/ds")


def test_artefacts_publish_atomically(store):
    pub = publish_files(store / "a", {"grid.bin": b"\x00" * 10, "meta.json": b"{}"}, {"dataset": "x/y"}, "x/y")
    assert sorted(f.name for f in pub.files) == ["grid.bin", "meta.json"]
    with pytest.raises(PublishError, match="reserved"):
        publish_files(store / "b", {MANIFEST: b"{}"}, {}, "x/y")
    assert _entries(store)["visible"] == ["a"] and _entries(store)["tmp"] == []


KILLED_WRITER = """
import sys, time, numpy as np, pyarrow as pa
from pathlib import Path
from engine_assets.run.identity import data_root_path
from engine_assets.storage.publish import publish_table
schema = pa.schema([("writer", pa.int32()), ("row", pa.int64()), ("value", pa.float64())])
target, marker = data_root_path(sys.argv[1]), Path(sys.argv[2])
def batches():
    for i in range(1000):
        n = 50_000
        yield pa.record_batch([pa.array(np.full(n, 2, np.int32)), pa.array(np.arange(n)), pa.array(np.ones(n))], schema=schema)
        if i == 30:
            marker.write_text("mid-partition")
            time.sleep(60)
publish_table(target, batches(), schema, {}, "killed", row_group_rows=100_000, rows_per_file=400_000)
"""


def test_writer_killed_mid_partition_leaves_nothing_half_written(store, tmp_path, no_grace):
    target, marker = store / "ds" / "day=2026-03-25", tmp_path / "marker"
    publish_table(target, _batches(1, 1_000), SCHEMA, {}, "v1")
    proc = _run(KILLED_WRITER, str(target), str(marker))
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None and time.time() < deadline, "writer ended before reaching mid-partition"
        time.sleep(0.05)
    if is_remote(store):  # parts are spooled locally and uploaded once complete: nothing reached the store yet
        [spool] = Path(tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}{proc.pid}-*")
        assert any(spool.glob("part-*.parquet")) and _entries(target.parent)["tmp"] == []
    else:
        abandoned = [target.parent / n for n in _entries(target.parent)["tmp"]]
        assert abandoned and any(abandoned[0].glob("part-*.parquet")), "the writer had written parts"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Readers still see the complete previous version, nothing of the killed writer.
    frame = scan_published(target, "ds").collect()
    assert frame.height == 1_000 and set(frame["writer"]) == {1}
    # A rerun publishes and removes the dead writer's leftovers.
    publish_table(target, _batches(3, 2_000), SCHEMA, {}, "rerun")
    assert scan_published(target, "ds").collect().height == 2_000
    assert _entries(target.parent)["visible"] == ["day=2026-03-25"]
    assert len(_entries(target.parent)["versions"]) == 1 and _entries(target.parent)["tmp"] == []
    if is_remote(store):
        assert not spool.exists(), "the dead writer's spool went"
    else:
        assert [p.name for p in (target / VERSIONS).glob(".*.lock")] == [".pointer.lock"], "the dead writer's lock went"


CONCURRENT_WRITER = """
import sys, numpy as np, pyarrow as pa
from pathlib import Path
from engine_assets.run.errors import PublishRaceError
from engine_assets.run.identity import data_root_path
from engine_assets.storage.publish import publish_table
schema = pa.schema([("writer", pa.int32()), ("row", pa.int64()), ("value", pa.float64())])
target, writer = data_root_path(sys.argv[1]), int(sys.argv[2])
def batches():
    for start in range(0, 60_000, 5_000):
        yield pa.record_batch([pa.array(np.full(5_000, writer, np.int32)), pa.array(np.arange(start, start + 5_000)),
                               pa.array(np.ones(5_000))], schema=schema)
won = lost = 0
for _ in range(4):
    try:
        publish_table(target, batches(), schema, {"writer": writer}, "concurrent", row_group_rows=5_000,
                      rows_per_file=10_000)
        won += 1
    except PublishRaceError:
        lost += 1  # reported, never overwritten silently
print(won, lost)
"""


def test_concurrent_writers_never_mix_a_partition(store, no_grace):
    target = store / "ds" / "country=US"
    procs = [_run(CONCURRENT_WRITER, str(target), str(w)) for w in range(4)]
    seen = set()
    while any(p.poll() is None for p in procs):
        try:
            version = published_version(target, "ds")  # a reader resolves once and reads that version only
            manifest = json.loads((version / MANIFEST).read_text())
            frame = pl.read_parquet([str(version / f["name"]) for f in manifest["files"]])
        except (FileNotFoundError, NotPublishedError, pl.exceptions.PolarsError, OSError, ValueError):
            continue  # replaced while we read: a reader retries, it never sees a mix
        writers = set(frame["writer"])
        assert len(writers) == 1 and writers == {manifest["writer"]} and frame.height == 60_000
        seen |= writers
    assert all(p.wait() == 0 for p in procs) and seen, "readers saw at least one complete version"
    outcomes = [tuple(map(int, p.stdout.read().split())) for p in procs]
    assert sum(won for won, _ in outcomes) >= 1 and all(won + lost == 4 for won, lost in outcomes)
    final = scan_published(target, "ds").collect()
    manifest = read_manifest(target, "ds")
    assert set(final["writer"]) == {manifest["writer"]} and final.height == 60_000
    version = published_version(target, "ds")
    assert sorted(f.name for f in version.iterdir()) == sorted([MANIFEST] + [f["name"] for f in manifest["files"]])
    assert _entries(target.parent) | {"versions": len(_entries(target.parent)["versions"])} == {
        "visible": ["country=US"], "versions": 1, "tmp": []}


BIG_STREAM = """
import resource, sys, time, numpy as np, pyarrow as pa
from pathlib import Path
from engine_assets.storage.publish import publish_table
schema = pa.schema([(c, pa.int64()) for c in "abcde"])
rows, batch = int(sys.argv[2]), 500_000
def batches():
    for start in range(0, rows, batch):
        base = np.arange(start, start + batch, dtype=np.int64)
        yield pa.record_batch([pa.array(base * k) for k in range(1, 6)], schema=schema)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
pub = publish_table(Path(sys.argv[1]), batches(), schema, {}, "big")
print(pub.rows, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - t)
"""


def test_twenty_million_row_stream_publishes_in_bounded_memory(tmp_path):
    rows = 20_000_000
    out = subprocess.run([sys.executable, "-c", BIG_STREAM, str(tmp_path / "big"), str(rows)],
                         capture_output=True, text=True, check=True).stdout.split()
    published, before_kb, peak_kb, seconds = int(out[0]), int(out[1]), int(out[2]), float(out[3])
    growth_mb = (peak_kb - before_kb) / 1024
    in_memory_mb = rows * 5 * 8 / 2**20  # what holding the whole stream would cost
    print(f"20M rows published in {seconds:.1f} s; peak RSS grew {growth_mb:.0f} MB (whole stream: {in_memory_mb:.0f} MB)")
    assert published == rows
    assert growth_mb < 0.4 * in_memory_mb


def test_failed_publishes_release_their_files(tmp_path):
    def broken():
        yield from _batches(1, 20_000)
        raise RuntimeError("producer failed")

    before = len(os.listdir("/proc/self/fd"))
    errors = []
    for i in range(5):
        try:
            publish_table(tmp_path / "p", broken(), SCHEMA, {}, "leak", row_group_rows=5_000)
        except RuntimeError as exc:
            errors.append(exc)  # keep the tracebacks alive, as Dagster does
    assert len(errors) == 5 and len(os.listdir("/proc/self/fd")) <= before


def test_partitions_under_an_unpartitioned_publication_are_refused(store):
    publish_table(store / "ds", _batches(1, 10), SCHEMA, {}, "unpartitioned")
    with pytest.raises(PublishError, match=r"published without partitions.*remove it"):
        publish_table(store / "ds" / "country=US", _batches(1, 10), SCHEMA, {}, "partitioned")
    assert scan_published(store / "ds", "ds").collect().height == 10


def test_a_writer_that_lost_the_race_says_so_and_the_winner_stands(store):
    target = store / "ds" / "country=US"
    publish_table(target, _batches(1, 100), SCHEMA, {}, "first")

    def overtaken():
        # Another writer publishes the same partition while this one is still writing.
        publish_table(target, _batches(2, 200), SCHEMA, {"writer": 2}, "winner")
        yield from _batches(3, 300)

    with pytest.raises(PublishRaceError, match="another writer published this partition"):
        publish_table(target, overtaken(), SCHEMA, {"writer": 3}, "loser")
    assert read_manifest(target, "ds")["writer"] == 2
    assert set(scan_published(target, "ds").collect()["writer"]) == {2}
    assert _entries(target.parent)["tmp"] == []  # the loser's version is gone


def test_superseded_versions_stay_readable_for_the_grace_period_then_go(store, monkeypatch):
    monkeypatch.setenv(GRACE_ENV, "3600")
    target = store / "ds" / "day=2026-03-25"
    publish_table(target, _batches(1, 100), SCHEMA, {}, "v1")
    held = published_files(target, "ds")  # a reader resolved version 1
    publish_table(target, _batches(2, 100), SCHEMA, {}, "v2")
    assert set(pl.read_parquet([str(p) for p in held.values()])["writer"]) == {1}, "still readable"
    assert len(_entries(target.parent)["versions"]) == 2
    # Within the grace period nothing goes; after it, only what the pointer names stays.
    assert collect_versions(target, grace=3600) == []
    gone = collect_versions(target, grace=3600, now=time.time() + 3601)
    assert [v.parent for v in gone] == [target / VERSIONS] and not any(p.exists() for p in held.values())
    assert set(scan_published(target, "ds").collect()["writer"]) == {2}
    assert len(_entries(target.parent)["versions"]) == 1


def test_gc_sweeps_a_data_root_and_keeps_what_pointers_name(store, monkeypatch):
    monkeypatch.setenv(GRACE_ENV, "3600")
    for country in ("US", "GB"):
        for writer in (1, 2):
            publish_table(store / "w" / "seg" / "ds" / f"country={country}", _batches(writer, 10), SCHEMA, {},
                          "ds")
    publish_table(store / "w" / "seg" / "doc", _batches(1, 10), SCHEMA, {}, "unpartitioned")
    assert collect_root(store, grace=3600).versions == []
    swept = collect_root(store, grace=3600, now=time.time() + 3601)
    assert swept.partitions == 3 and len(swept.versions) == 2
    for country in ("US", "GB"):
        assert set(scan_published(store / "w" / "seg" / "ds" / f"country={country}", "ds").collect()["writer"]) == {2}
    assert len(_entries(store / "w" / "seg" / "ds")["versions"]) == 2


def test_gc_command_reports_what_it_deleted(store, monkeypatch):
    from engine_assets.cli import main

    monkeypatch.setenv(GRACE_ENV, "3600")
    target = store / "seg" / "ds"
    publish_table(target, _batches(1, 10), SCHEMA, {}, "ds")
    publish_table(target, _batches(2, 10), SCHEMA, {}, "ds")
    assert main(["gc", "--data-root", str(store)]) == 0  # within the grace period: nothing goes
    assert len(list((target / VERSIONS).iterdir())) >= 2
    assert main(["gc", "--data-root", str(store), "--grace-minutes", "0"]) == 0
    assert [p.name for p in (target / VERSIONS).iterdir() if p.is_dir()] == [published_version(target, "ds").name]
    assert main(["gc", "--data-root", str(store / "missing")]) == 2


def test_an_unreachable_s3_endpoint_is_named_and_nothing_is_published(monkeypatch):
    from servers import free_port

    from engine_assets.run.errors import StoreError
    from engine_assets.storage.objects import object_root

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for name, value in {**services.AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(name, value)
    target = object_root("s3://engine/world") / "seg" / "ds"
    with pytest.raises(StoreError, match=r"cannot reach s3://engine/world/seg/_pointer.json .*AWS_ENDPOINT_URL"):
        publish_table(target, _batches(1, 10), SCHEMA, {}, "seg/ds")
    with pytest.raises(StoreError, match=r"cannot reach s3://engine/world/seg/ds/_pointer.json"):
        scan_published(target, "seg/ds")


def test_a_switch_whose_answer_is_lost_keeps_the_version_it_made_current(store, monkeypatch):
    # The store applied the pointer write, then the connection dropped before its answer came back.
    import engine_assets.storage.publish as publish

    switch = publish._put_pointer

    def applied_then_failed(*args, **kwargs):
        switch(*args, **kwargs)
        raise OSError(104, "Connection reset by peer")

    target = store / "ds" / "country=US"
    monkeypatch.setattr(publish, "_put_pointer", applied_then_failed)
    with pytest.raises(PublishError, match="Connection reset by peer"):
        publish_table(target, _batches(1, 100), SCHEMA, {}, "ds")
    # The pointer names the new version, so it stays whole and readable; the next run republishes it anyway.
    assert scan_published(target, "ds").collect().height == 100


@pytest.mark.parametrize("damage", ["deleted", "edited"])
def test_a_damaged_manifest_is_named_not_taken_for_unpublished(store, damage):
    from engine_assets.run.errors import DamagedError

    target = store / "ds" / "country=US"
    publish_table(target, _batches(1, 100), SCHEMA, {}, "ds")
    manifest = published_version(target, "ds") / MANIFEST
    if damage == "deleted":
        manifest.unlink()
    else:
        manifest.write_bytes(manifest.read_bytes().replace(b'"rows": 100', b'"rows": 99'))
    problem = "is missing" if damage == "deleted" else "is not the one published"
    with pytest.raises(DamagedError, match=rf"seg/ds US is damaged: the manifest .* {problem}.*materialise seg/ds US"):
        scan_published(target, "seg/ds US")


def test_losing_the_race_to_the_same_bytes_is_no_loss(store):
    # Two runs of one world (two seeds sharing the reference datasets, or one partition launched twice)
    # publish identical bytes: the second to switch keeps the first's version instead of failing.
    target = store / "ds" / "country=US"

    def overtaken():
        winner = publish_table(target, _batches(2, 200), SCHEMA, {}, "winner")
        overtaken.winner = winner
        yield from _batches(2, 200)

    got = publish_table(target, overtaken(), SCHEMA, {}, "loser")
    assert got.version == overtaken.winner.version == published_version(target, "ds")
    assert [f.sha256 for f in got.files] == [f.sha256 for f in overtaken.winner.files]
    assert len(_entries(target.parent)["versions"]) == 1 and _entries(target.parent)["tmp"] == []


@pytest.mark.parametrize("tamper", ["flipped byte", "truncated", "deleted"])
def test_a_data_file_changed_after_publication_is_never_read(tmp_path, tamper):
    from engine_assets.run.errors import DamagedError

    target = tmp_path / "ds" / "country=US"
    publish_table(target, _batches(1, 1_000), SCHEMA, {}, "seg/ds US")
    assert scan_published(target, "seg/ds US").collect().height == 1_000  # read once: verified, then remembered
    part = published_files(target, "seg/ds US")["part-00000.parquet"]
    data = bytearray(part.read_bytes())
    if tamper == "flipped byte":
        data[len(data) // 2] ^= 0xFF
        part.write_bytes(bytes(data))
    elif tamper == "truncated":
        part.write_bytes(bytes(data[:-100]))
    else:
        part.unlink()
    problem = "is missing" if tamper == "deleted" else "differs from its manifest"
    with pytest.raises(DamagedError, match=rf"seg/ds US is damaged: .*part-00000.parquet.* {problem}.*materialise"):
        scan_published(target, "seg/ds US")
