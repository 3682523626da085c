"""What an export is asked to do, checked against the profile before anything is read or written.

Every check raises ExportError with one line saying what is wrong, where, and how to fix it, so a
bad argument costs nothing and leaves nothing behind.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from engine_assets.export.errors import ExportError
from engine_assets.run.config import CONFIG_DIR
from engine_assets.run.identity import RunIdentity, resolve_identity

FORMATS = ("parquet", "csv")
# What --include adds to the training table, and the datasets behind each item.
INCLUDES = {
    "flows": ("seg_6b/flows", "seg_6b/sessions"),
    "events": ("seg_6b/events",),
    "labels": ("seg_6b/truth_labels", "seg_6b/bank_view", "seg_6b/cases"),
    "entities": tuple(f"seg_6a/{name}" for name in (
        "parties", "accounts", "instruments", "devices", "device_links", "ips", "ip_links", "fraud_roles")),
}


@dataclass(frozen=True)
class ExportRequest:
    identity: RunIdentity
    scenario: str
    days: tuple[dt.date, ...]  # UTC days, the engine's day partitions
    as_of: dt.datetime | None  # UTC; None exports labels as published (the bank's view at the horizon's end)
    truth: bool  # keep the simulation's ground truth (is_fraud, fraud_type, truth_at, truth_labels)
    fmt: str
    include: tuple[str, ...]
    out: Path | None
    duckdb: Path | None

    @property
    def datasets(self) -> tuple[str, ...]:
        """Every dataset the exported files are read from, training table first."""
        extra = [d for item in self.include for d in INCLUDES[item]]
        return ("seg_6b/transactions", *(d for d in extra if self.truth or d != "seg_6b/truth_labels"))


def known_profiles() -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / "profiles").glob("*.yaml"))


def parse_day(text: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ExportError(f"{flag} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-27") from None


def parse_as_of(text: str) -> dt.datetime:
    """A date means the end of that UTC day; a time without an offset is UTC."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time.max, dt.timezone.utc)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExportError(f"--as-of {text!r} is neither a date nor a date and time; write it as YYYY-MM-DD (the "
                          "end of that UTC day) or YYYY-MM-DDTHH:MM[:SS][+HH:MM] (UTC without an offset)") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def parse_include(text: str | None) -> tuple[str, ...]:
    items = [item.strip() for item in (text or "").split(",") if item.strip()]
    unknown = [item for item in items if item not in INCLUDES]
    if unknown:
        raise ExportError(f"--include {text!r}: unknown item {unknown[0]!r}; choose from "
                          f"{', '.join(INCLUDES)}, comma-separated (e.g. --include labels,entities)")
    return tuple(dict.fromkeys(items))  # once each, in the order given


def check_out(out: Path) -> None:
    """The output directory must be new (or empty): an export never mixes with or replaces other files."""
    if out.is_dir() and any(out.iterdir()):
        raise ExportError(f"--out {out} already exists and is not empty; pass a new directory, or empty or remove it")
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} is a file; pass a directory path (it is created)")


def check_duckdb(path: Path) -> None:
    if path.exists():
        raise ExportError(f"--duckdb {path} already exists; remove it or pass another file name")


def choose_days(identity: RunIdentity, first: str | None, last: str | None) -> tuple[dt.date, ...]:
    horizon = identity.profile.horizon
    start = parse_day(first, "--from") if first else horizon.start
    end = parse_day(last, "--to") if last else horizon.end
    span = f"the {identity.profile.name} horizon {horizon.start} to {horizon.end} (UTC days, inclusive)"
    for flag, day in (("--from", start), ("--to", end)):
        if not horizon.start <= day <= horizon.end:
            raise ExportError(f"{flag} {day} lies outside {span}; pass a day within it")
    if start > end:
        raise ExportError(f"--from {start} is after --to {end}; swap them (both days are included)")
    return tuple(d for d in horizon.days if start <= d <= end)


def resolve_request(*, profile: str, seed: int | None = None, data_root: str | None = None,
                    scenario: str | None = None, first: str | None = None, last: str | None = None,
                    as_of: str | None = None, truth: bool = True, fmt: str = "parquet",
                    include: str | None = None, out: str | None = None, duckdb: str | None = None) -> ExportRequest:
    """Check every argument against the profile and the file system; nothing is read or written yet."""
    if profile not in known_profiles():
        raise ExportError(f"unknown profile {profile!r} (from --profile or ENGINE_PROFILE); pass one of "
                          f"{', '.join(known_profiles())} (config/profiles/)")
    identity = resolve_identity(profile, seed=seed, data_root=data_root)
    scenarios = identity.profile.scenarios
    scenario = scenario or scenarios[0]
    if scenario not in scenarios:
        raise ExportError(f"--scenario {scenario!r} is not a scenario of profile {profile} "
                          f"({', '.join(scenarios)}); pass --scenario {scenarios[0]}")
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r} is not supported; pass --format parquet or --format csv")
    days = choose_days(identity, first, last)
    moment = parse_as_of(as_of) if as_of else None
    range_start = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
    if moment is not None and moment < range_start:
        raise ExportError(f"--as-of {moment.isoformat()} is before the exported days, which start at "
                          f"{range_start.isoformat()}; pass a moment at or after it, or a later --from")
    items = parse_include(include)
    if out is None and duckdb is None:
        raise ExportError("nothing to write: pass --out DIR for the exported files and/or --duckdb FILE for "
                          "a DuckDB database of views over the world")
    out_path = Path(out).expanduser().resolve() if out else None
    duckdb_path = Path(duckdb).expanduser().resolve() if duckdb else None
    if out_path is not None:
        check_out(out_path)
    if duckdb_path is not None:
        check_duckdb(duckdb_path)
    return ExportRequest(identity, scenario, days, moment, truth, fmt, items, out_path, duckdb_path)
