"""Every entry point reads the pinned tzdata wheel, even if zones were loaded before the engine."""

import subprocess
import sys

SCRIPT = """
import zoneinfo
early = zoneinfo.ZoneInfo("Europe/London")      # may come from the host database
import engine_assets.definitions                  # any engine entry point
import tzdata
assert zoneinfo.TZPATH == (), zoneinfo.TZPATH
assert zoneinfo.ZoneInfo("Europe/London") is not early, "cached host zone survived the pin"
from engine_kernels import TZDATA_VERSION
assert TZDATA_VERSION == tzdata.IANA_VERSION == "2026f", TZDATA_VERSION
print("pinned")
"""


def test_importing_the_engine_pins_tzdata_and_drops_host_zones():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "pinned"
