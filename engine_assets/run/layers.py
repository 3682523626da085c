"""The engine's layers, found by walking their packages.

A layer is a package of engine_assets (`world`, `clock`, and `behaviour` once it exists); each of
its subpackages is one segment whose name is the segment's Dagster group and whose `ASSETS` (and
optional `CHECKS`) are its definitions. Adding a segment is adding its subpackage: nothing else
lists segments.

Every asset's `kinds` (the tags the UI shows) are its storage format, from its contract
(parquet, json, tiff), and the compute libraries its segment package names in `KINDS`.
"""

import importlib
import importlib.util
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

# The layers in build order; a layer takes part once its package exists.
LAYER_NAMES = ("world", "clock", "behaviour", "reporting")


@dataclass(frozen=True)
class Segment:
    name: str
    assets: tuple[dg.AssetsDefinition, ...]
    checks: tuple[dg.AssetChecksDefinition, ...] = ()


@dataclass(frozen=True)
class Layer:
    name: str
    text: str  # the first line of the layer package's docstring, shown on its jobs
    segments: tuple[Segment, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)


def _segment(module_name: str, name: str, formats: Mapping[str, str]) -> Segment:
    module = importlib.import_module(module_name)
    assets = tuple(getattr(module, "ASSETS", ()))
    if not assets:
        raise ValueError(f"{module_name} defines no ASSETS: a segment package exposes its assets as ASSETS")
    for asset in assets:
        stray = {k.to_user_string(): g for k, g in asset.group_names_by_key.items() if g != name}
        if stray:
            raise ValueError(f"{module_name}: assets {stray} are not in group {name!r}; a segment's assets carry its name as group")
    compute = tuple(getattr(module, "KINDS", ()))
    tagged = dg.map_asset_specs(lambda spec: spec.merge_attributes(kinds=_kinds(spec, compute, formats)), assets)
    return Segment(name, tuple(tagged), tuple(getattr(module, "CHECKS", ())))


def _kinds(spec: dg.AssetSpec, compute: tuple[str, ...], formats: Mapping[str, str]) -> set[str]:
    storage = formats.get(spec.key.to_user_string())
    if storage is None:  # a validation: its bundle is JSON and it declares so itself
        return set()
    return {storage, *compute}


def _formats() -> dict[str, str]:
    """Dataset id -> its storage kind, from contracts/dictionary.yaml (read once per load)."""
    from engine_assets.quality.contracts import load_dictionary

    return {dataset: _FORMAT[entry.kind] for dataset, entry in load_dictionary().items()}


_FORMAT = {"table": "parquet", "document": "json", "artefact": "files"}


def load_layer(name: str, formats: Mapping[str, str] | None = None) -> Layer | None:
    package_name = f"engine_assets.{name}"
    if importlib.util.find_spec(package_name) is None:
        return None
    package = importlib.import_module(package_name)
    formats = _formats() if formats is None else formats
    segments = tuple(_segment(f"{package_name}.{info.name}", info.name, formats)
                     for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name) if info.ispkg)
    return Layer(name, (package.__doc__ or name).strip().splitlines()[0], segments)


def load_layers() -> list[Layer]:
    formats = _formats()
    return [layer for name in LAYER_NAMES if (layer := load_layer(name, formats)) is not None]
