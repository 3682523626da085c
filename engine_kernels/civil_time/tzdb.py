"""The one time-zone database of the engine: the pinned `tzdata` wheel, never the host's copy."""

import zoneinfo


def use_pinned_tzdata() -> str:
    """Make zoneinfo read only the tzdata wheel and return its IANA version (e.g. "2026f").

    Hosts ship older databases (2025b on the reference machines); reading one would make local
    times depend on the machine. Zones already loaded from the host are dropped from the cache.
    """
    zoneinfo.reset_tzpath(to=())
    zoneinfo.ZoneInfo.clear_cache()
    import tzdata

    return tzdata.IANA_VERSION
