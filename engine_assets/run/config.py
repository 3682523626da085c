"""Profiles and policies: loaded from YAML, validated by JSON-Schema before any work starts.

A profile (config/profiles/<name>.yaml) sets the scale of a world; policies
(config/policies/<name>.yaml) set its models. Every policy file needs a schema at
config/schemas/policies/<name>.schema.yaml, so a typo in a coefficient name fails at load,
not as a silent default deep inside a segment.
"""

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import jsonschema
import pycountry
import yaml

from engine_assets.run.errors import EngineConfigError
from engine_assets.run.schema_errors import schema_problems
from engine_kernels.digest import length_prefixed_sha256

if TYPE_CHECKING:
    from engine_assets.run.policies import Policies

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_PROFILE = "demo"


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text: schemas validate them, and hashes see the bytes."""


# YAML 1.1 reads NO (Norway), yes, on and off as booleans; only true and false are booleans here.
_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PlainLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _mapping_without_duplicates(loader: _PlainLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}: the last value would silently win; keep one", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_PlainLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def strict_yaml(text: str) -> Any:
    """The engine's one YAML reader (config, policies, contracts): YAML-1.2-like booleans, dates kept
    as text, duplicate keys refused. Raises yaml.YAMLError."""
    return yaml.load(text, Loader=_PlainLoader)


@dataclass(frozen=True)
class Horizon:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> list[dt.date]:
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seed: int
    merchants: int
    countries: tuple[str, ...] | None  # None means every country of the reference world
    horizon: Horizon
    bucket_minutes: int
    scenarios: tuple[str, ...]
    party_scale: float
    expected_arrivals: int
    path: Path
    sha256: str

    @property
    def file(self) -> str:
        """The profile's file as messages name it (relative to the repository when inside it)."""
        return _rel(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "merchants": self.merchants,
            "countries": "all" if self.countries is None else list(self.countries),
            "horizon": {"start": self.horizon.start.isoformat(), "end": self.horizon.end.isoformat()},
            "bucket_minutes": self.bucket_minutes,
            "scenarios": list(self.scenarios),
            "party_scale": self.party_scale,
            "expected_arrivals": self.expected_arrivals,
            "sha256": self.sha256,
        }


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EngineConfigError(f"{_rel(path)}: file not found") from None
    except OSError as exc:
        raise EngineConfigError(f"{_rel(path)}: cannot be read ({exc.strerror})") from None


def parse_yaml(raw: bytes, path: Path) -> Any:
    """Parse YAML bytes, turning syntax errors into one message with file, line and column."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EngineConfigError(f"{_rel(path)}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        return strict_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise EngineConfigError(f"{_rel(path)}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def read_yaml(path: Path) -> Any:
    return parse_yaml(read_bytes(path), path)


def validate_against_schema(document: Any, schema: Mapping[str, Any], where: str) -> None:
    """Raise one EngineConfigError listing every violation: file, JSON path, bad value, what is allowed."""
    problems = schema_problems(jsonschema.Draft202012Validator(schema), document, where)
    if problems:
        raise EngineConfigError("\n".join(problems + [f"{where}: what each field means: config/schemas/"]))


def _parse_date(text: str, where: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise EngineConfigError(f"{where}: field '{field}' = {text!r} is not a calendar date; use YYYY-MM-DD") from None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parameter_hash(digests: Mapping[str, str]) -> str:
    """SHA-256 over the (file name, SHA-256 of bytes) pairs, sorted by name, length-prefixed.

    Sorting makes the hash independent of directory listing order; length prefixes keep
    ("ab", "c") and ("a", "bc") apart.
    """
    return length_prefixed_sha256(t for name in sorted(digests) for t in (name.encode(), digests[name].encode())).hexdigest()


def load_policies(config_dir: Path = CONFIG_DIR) -> "Policies":
    """Every YAML in config/policies/, validated against its schema and parsed once into typed policies
    (engine_assets/run/policies.py), every scenario of scenarios.yaml parameterised by 5a.yaml and
    5b.yaml; files the engine does not read are still hashed."""
    # Imported here: the parsers load the kernels (numba, shapely), which readers of contracts never need.
    from engine_assets.run.policies import POLICY_FILES, Policies, scenario_gaps

    policy_dir = config_dir / "policies"
    schema_dir = config_dir / "schemas" / "policies"
    paths = sorted(policy_dir.glob("*.yaml"))
    if not paths:
        raise EngineConfigError(f"{_rel(policy_dir)}: no policy files found; the engine needs at least scenarios.yaml")
    digests: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for path in paths:
        schema_path = schema_dir / f"{path.stem}.schema.yaml"
        if not schema_path.exists():
            raise EngineConfigError(
                f"{_rel(path)}: no schema at {_rel(schema_path)}; every policy file needs one so its fields are checked"
            )
        raw = read_bytes(path)
        content = parse_yaml(raw, path)  # the same bytes as the hash: an edit cannot slip in between
        validate_against_schema(content, read_yaml(schema_path), _rel(path))
        if path.stem in POLICY_FILES:
            attribute, parse = POLICY_FILES[path.stem]
            try:
                parsed[attribute] = parse(content)
            except ValueError as exc:
                raise EngineConfigError(f"{_rel(path)}: {exc}") from None
        digests[path.name] = sha256_bytes(raw)
    missing = [f"{stem}.yaml" for stem in POLICY_FILES if f"{stem}.yaml" not in digests]
    if missing:
        raise EngineConfigError(
            f"{_rel(policy_dir)}: policy file(s) {', '.join(missing)} not found; every segment reads its own "
            "(restore them from the repository)"
        )
    policies = Policies(digests=digests, **parsed)
    gaps = scenario_gaps(policies)
    if gaps:
        raise EngineConfigError("\n".join(f"{_rel(policy_dir / f'{stem}.yaml')}: {gap}" for stem, gap in gaps.items()))
    return policies


# The pinned tz database draws its zones so that clocks agree from the POSIX epoch on (an earlier local time of a
# merged zone may be another place's), and arrival ids count UTC days from the same day.
TZ_DATABASE_START = dt.date(1970, 1, 1)


@lru_cache(maxsize=1)
def tz_database_range() -> tuple[dt.date, dt.date, str]:
    """(first day, last day, version) of the civil time the pinned tzdata states: from the epoch to the end of
    the last year its rules name. Later years would be its standing rules carried forward, a guess that
    drops the clock changes it lists year by year (Palestine's around Ramadan, for one)."""
    text = (resources.files("tzdata.zoneinfo") / "tzdata.zi").read_text()
    version = text.split("\n", 1)[0].removeprefix("# version").strip()
    # Rule lines: R NAME FROM TO - IN ON AT SAVE LETTER; FROM is a year, TO a year, "o" (only) or "ma" (max).
    years = [int(f) for line in text.splitlines() if line.startswith("R ") for f in line.split()[2:4] if f.isdigit()]
    return TZ_DATABASE_START, dt.date(max(years), 12, 31), version


def _check_clock_range(start: dt.date, end: dt.date, policies: "Policies", where: str, config_dir: Path) -> None:
    """The world's clock (seg_2a's transition table) spans the horizon plus and minus 2a.yaml's margin; all of it
    must lie where the pinned tz database states civil time."""
    margin = dt.timedelta(days=policies.civil_time.model.margin_days)
    first, last, version = tz_database_range()
    earliest, latest = first + margin, last - margin
    spans = (f"the engine's clock spans the horizon ± {margin.days} days ({_rel(config_dir / 'policies' / '2a.yaml')} "
             f"transitions.margin_days), and the pinned tz database (tzdata {version}) states civil time from {first} "
             f"to {last}")
    if start < earliest:
        raise EngineConfigError(
            f"{where}: field 'horizon.start' = {start} is outside the pinned tz database: {spans}; "
            f"start the horizon on or after {earliest}")
    if end > latest:
        raise EngineConfigError(
            f"{where}: field 'horizon.end' = {end} is outside the pinned tz database: {spans}; "
            f"end the horizon on or before {latest}")


def _country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def load_profile(name: str, policies: "Policies", config_dir: Path = CONFIG_DIR) -> Profile:
    """Read and validate config/profiles/<name>.yaml against its schema and the policies it names."""
    profile_dir = config_dir / "profiles"
    path = profile_dir / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in profile_dir.glob("*.yaml"))
        raise EngineConfigError(
            f"profile '{name}' not found at {_rel(path)}; known profiles: {', '.join(known)} "
            "(set ENGINE_PROFILE to one of them)"
        )
    where = _rel(path)
    raw = read_bytes(path)
    doc = parse_yaml(raw, path)
    validate_against_schema(doc, read_yaml(config_dir / "schemas" / "profile.schema.yaml"), where)
    if doc["name"] != name:
        raise EngineConfigError(f"{where}: field 'name' = {doc['name']!r} must equal the file name {name!r}")
    start = _parse_date(doc["horizon"]["start"], where, "horizon.start")
    end = _parse_date(doc["horizon"]["end"], where, "horizon.end")
    if end < start:
        raise EngineConfigError(f"{where}: field 'horizon.end' = {end} is before horizon.start = {start}; "
                                "swap them or correct the one that is wrong")
    _check_clock_range(start, end, policies, where, config_dir)
    countries = None
    if doc["countries"] != "all":
        unknown = [c for c in doc["countries"] if c not in _country_codes()]
        if unknown:
            raise EngineConfigError(
                f"{where}: field 'countries' has codes that are not ISO 3166-1 alpha-2: {', '.join(unknown)}; "
                "use codes such as US, GB, DE, or the word all"
            )
        countries = tuple(sorted(doc["countries"]))
    known_scenarios = policies.scenarios.names
    for s in doc["scenarios"]:
        if s not in known_scenarios:
            raise EngineConfigError(
                f"{where}: field 'scenarios' = {s!r} is not a scenario of config/policies/scenarios.yaml; "
                f"allowed values: {', '.join(known_scenarios)}"
            )
    return Profile(
        name=name,
        description=doc["description"].strip(),
        seed=doc["seed"],
        merchants=doc["merchants"],
        countries=countries,
        horizon=Horizon(start, end),
        bucket_minutes=doc["bucket_minutes"],
        scenarios=tuple(doc["scenarios"]),
        party_scale=float(doc["party_scale"]),
        expected_arrivals=doc["expected_arrivals"],
        path=path,
        sha256=sha256_bytes(raw),
    )


def active_profile_name() -> str:
    return os.environ.get("ENGINE_PROFILE", DEFAULT_PROFILE).strip() or DEFAULT_PROFILE
