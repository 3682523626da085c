"""Garbage collection of versions nobody points at, over a whole data root (`fraud-engine gc`).

Each publication already collects its own partition (engine_assets/storage/publish.py); this
sweeps what no later publication will revisit: partitions rebuilt and then left, writes
abandoned by killed workers, versions that lost a race. A superseded version goes only once
older than the grace period, since a reader may still hold it.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from engine_assets.storage import objects
from engine_assets.storage.objects import DataPath, is_remote
from engine_assets.storage.publish import VERSIONS, collect_versions


@dataclass(frozen=True)
class Collected:
    partitions: int  # partitions looked at
    versions: list[DataPath]  # versions deleted


def collect_root(root: DataPath, grace: float | None = None, now: float | None = None) -> Collected:
    """Collect every partition under `root` (a data root, a world's run root or one dataset)."""
    partitions, deleted = 0, []
    if is_remote(root):  # the collector is the one part of the engine that lists an object store
        for partition in objects.partitions_under(root, VERSIONS):
            partitions += 1
            deleted += collect_versions(partition, grace, now)
        return Collected(partitions, deleted)
    for directory, subdirectories, _ in os.walk(root):
        if VERSIONS in subdirectories:
            partitions += 1
            deleted += collect_versions(Path(directory), grace, now)
        # A version's own files hold no partitions: do not walk into them.
        subdirectories[:] = [d for d in subdirectories if d != VERSIONS]
    return Collected(partitions, deleted)
