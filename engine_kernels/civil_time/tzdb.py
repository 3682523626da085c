"""The one time-zone database of the engine: the pinned `tzdata` wheel, never the host's copy."""

import zoneinfo


def use_pinned_tzdata() -> None:
    """Make zoneinfo read only the tzdata wheel; every reader of zones calls this first.

    Hosts ship older databases (2025b on the reference machines); reading one would make local
    times depend on the machine. Zones already loaded from the host are dropped from the cache.
    Once the search path is empty, later calls change nothing (and keep the cache).
    """
    if zoneinfo.TZPATH:
        zoneinfo.reset_tzpath(to=())
        zoneinfo.ZoneInfo.clear_cache()


def tzdata_version() -> str:
    """IANA version of the pinned tzdata wheel (e.g. "2026f"), recorded in the run manifest."""
    import tzdata

    return tzdata.IANA_VERSION
