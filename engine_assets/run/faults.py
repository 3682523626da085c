"""Named points where a fault campaign kills the process, to prove that no moment of a build is unsafe.

`ENGINE_KILL_AT=<point>[:<n>]` makes the process SIGKILL itself the n-th time (default: the first) it
passes `<point>`; benchmarks/faults.py and tests/assets/test_faults.py set it on the runs they kill.
`ENGINE_FAULT_COUNT=<file>` appends each point passed to `<file>`, one name a line, so a campaign
knows how often a clean run passes each point. Unset, which is always the case outside a campaign,
a point costs two environment lookups.
"""

import os
import signal
from collections import Counter

KILL_ENV = "ENGINE_KILL_AT"
COUNT_ENV = "ENGINE_FAULT_COUNT"
POINTS = (
    "publish.before_manifest",  # a version's parts are in place (uploaded, on S3), its manifest is not
    "publish.before_pointer",  # the version is whole, the partition's pointer still names the previous one
    "publish.after_pointer",  # the pointer is switched; superseded versions not yet collected
    "validation.before_bundle",  # a segment's checks are done, its bundle not yet published
    "dagster.after_publish",  # a step's outputs are published, Dagster has not recorded them
)
_passed: Counter = Counter()


def point(name: str) -> None:
    count = os.environ.get(COUNT_ENV)
    if count:
        with open(count, "a") as out:
            out.write(name + "\n")
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _passed[name] += 1
    if _passed[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
