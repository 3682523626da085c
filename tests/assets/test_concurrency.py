"""Concurrency: two runs of the same partitions at once, a reader during publications, and two worlds built at
once into one data root. A reader sees one whole version at every moment; runs that race to publish the same
bytes both succeed (the loser says so in its log), and what they leave equals a build by one run."""

import shutil
import threading

import campaign
import dagster as dg
from integrity import audit, world_digests

from engine_assets.quality.contracts import load_contract
from engine_assets.run.identity import resolve_identity
from engine_assets.storage.datasets import published_partitions
from engine_assets.storage.publish import published_files, read_manifest


class Reader(threading.Thread):
    """Reads every published partition of `datasets` over and over until stopped; records what it saw."""

    def __init__(self, root, datasets: list[str]):
        super().__init__(daemon=True)
        self.identity = resolve_identity("ci", data_root=str(root))
        self.datasets, self.stop, self.reads, self.errors = datasets, threading.Event(), 0, []

    def run(self) -> None:
        while not self.stop.is_set():
            for dataset in self.datasets:
                contract = load_contract(dataset)
                for partition in published_partitions(self.identity, contract):
                    try:
                        # Resolved once; every file checked against the manifest of that one version.
                        files = published_files(partition, dataset)
                        rows = read_manifest(partition, dataset)["rows"]
                    except Exception as exc:  # noqa: BLE001 - anything but a whole version is a failure
                        self.errors.append(f"{partition}: {exc!r}")
                        continue
                    assert files and rows >= 0
                    self.reads += 1


def test_two_runs_of_the_same_partitions_at_once_publish_one_whole_version(first_jobs, tmp_path):
    state = first_jobs.states[1]  # world_job built: launch clock_job twice at once
    root, home = tmp_path / "data", tmp_path / "home"
    shutil.copytree(state / "data", root, symlinks=True)
    shutil.copytree(state / "home", home)
    reader = Reader(root, ["seg_5a/calendar", "seg_5b/latent_field", "seg_5a/weekly_shapes"])
    reader.start()
    env = campaign.engine_env("ci", root, home)
    runs = [campaign.launch("clock_job", {}, env, tmp_path / f"run-{i}.log") for i in range(2)]
    codes = [run.wait(campaign.JOB_TIMEOUT) for run in runs]
    reader.stop.set()
    reader.join()
    logs = [(tmp_path / f"run-{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    assert reader.errors == [] and reader.reads > 0
    # Both runs wrote the same bytes: where one switched a pointer while the other was writing, the other kept
    # the winner's version (and logged so) instead of failing.
    assert world_digests("ci", root) == first_jobs.digests
    assert audit("ci", root, first_jobs.digests).ok


def test_two_worlds_built_at_once_into_one_data_root(first_jobs, tmp_path):
    root, home = tmp_path / "data", tmp_path / "home"
    shutil.copytree(first_jobs.states[0] / "home", home)
    # The instance's SQLite storage is created once before the runs: two processes creating it at the same
    # moment race in Dagster's schema creation, which is not what this test is about.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    config = tmp_path / "seed7.yaml"
    config.write_text("resources:\n  engine:\n    config:\n      seed: 7\n")
    env = campaign.engine_env("ci", root, home)
    runs = [campaign.launch("world_job", {}, env, tmp_path / "default.log"),
            campaign.launch("world_job", {}, env, tmp_path / "seed7.log", run_config=config)]
    codes = [run.wait(campaign.JOB_TIMEOUT) for run in runs]
    assert codes == [0, 0], [(tmp_path / n).read_text()[-3000:] for n in ("default.log", "seed7.log")]
    # The reference datasets, which both worlds publish, are one version; each world is whole; the profile's
    # world is the one world_job builds alone.
    clean_world = {k: v for k, v in first_jobs.digests.items() if not k.startswith(("seg_5", "seg_6"))}
    assert {k: v for k, v in world_digests("ci", root).items() if k in clean_world} == clean_world
    seven = audit("ci", root, world_digests("ci", root, seed=7), seed=7)
    assert seven.ok and seven.open_gates and seven.visible > 0
