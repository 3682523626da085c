"""Zones are read from the pinned tzdata wheel only, yet importing the kernels changes nothing global."""

import subprocess
import sys

PINNED_BY_ENTRY_POINT = """
import zoneinfo
early = zoneinfo.ZoneInfo("Europe/London")      # may come from the host database
import engine_assets.definitions                  # the entry point of every Dagster process
assert zoneinfo.TZPATH == (), zoneinfo.TZPATH
assert zoneinfo.ZoneInfo("Europe/London") is not early, "cached host zone survived the pin"
print("pinned")
"""

PINNED_BY_READER = """
import datetime as dt, zoneinfo
early = zoneinfo.ZoneInfo("Europe/London")
from engine_kernels.civil_time.transitions import zones_transitions
from engine_kernels.civil_time.tzdb import tzdata_version
import tzdata
zones_transitions(["Europe/London"], dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                  dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))
assert zoneinfo.TZPATH == (), zoneinfo.TZPATH
assert zoneinfo.ZoneInfo("Europe/London") is not early, "cached host zone survived the pin"
assert tzdata_version() == tzdata.IANA_VERSION == "2026f", tzdata_version()
print("pinned")
"""


def _run(script: str) -> str:
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_importing_the_kernels_leaves_the_zone_search_path_alone():
    default = _run("import zoneinfo; print(zoneinfo.TZPATH)")
    assert _run("import engine_kernels, zoneinfo; print(zoneinfo.TZPATH)") == default


def test_the_dagster_entry_point_pins_tzdata_and_drops_host_zones():
    assert _run(PINNED_BY_ENTRY_POINT) == "pinned"


def test_a_kernel_reading_zones_pins_tzdata_first():
    assert _run(PINNED_BY_READER) == "pinned"
