"""What a world's data root must satisfy whatever happened to the processes that wrote it: every partition a
reader can see is whole, and every validation gate that opens stands over the data a clean build publishes.

Used after every kill of a fault campaign (benchmarks/faults.py, tests/assets/test_faults.py) and by the
concurrency tests. Everything is read through the storage layer, so it holds on local disk and on S3.
"""

import hashlib
from dataclasses import dataclass, field

from engine_assets.quality.contracts import load_contract, load_dictionary
from engine_assets.quality.gates import bundle_dir, verify_gate
from engine_assets.run.errors import DamagedError, GateError, NotPublishedError
from engine_assets.run.identity import resolve_identity
from engine_assets.storage.datasets import published_partitions
from engine_assets.storage.publish import is_pointed, published_files, read_manifest


def world_digests(profile: str, root, seed: int | None = None) -> dict[str, list[str]]:
    """`name:sha256` of every file each published partition's manifest lists, hashed again from where it is
    stored, by `<dataset>/<partition>`. A partition whose manifest is missing or changed stops it."""
    identity = resolve_identity(profile, seed=seed, data_root=str(root))
    out = {}
    for dataset in load_dictionary():
        contract = load_contract(dataset)
        for partition in published_partitions(identity, contract):
            files = published_files(partition, contract.dataset)
            where = str(partition.relative_to(identity.dataset_dir(contract.dataset, contract.scope)))
            key = dataset if where == "." else f"{dataset}/{where}"
            out[key] = [f"{name}:{hashlib.sha256(path.read_bytes()).hexdigest()}" for name, path in sorted(files.items())]
    return out


@dataclass
class Audit:
    visible: int = 0  # partitions a reader can see
    damaged: list[str] = field(default_factory=list)  # visible but not whole: missing or changed manifest or file
    open_gates: list[str] = field(default_factory=list)  # segments whose validation passed
    failed_gates: list[str] = field(default_factory=list)  # segments whose published validation did not pass
    wrong_gates: list[str] = field(default_factory=list)  # open over data that differs from the clean build's

    @property
    def ok(self) -> bool:
        return not (self.damaged or self.wrong_gates)


def audit(profile: str, root, clean: dict[str, list[str]], seed: int | None = None) -> Audit:
    """Check `root` against the digests of a clean build of the same world (`world_digests`)."""
    identity = resolve_identity(profile, seed=seed, data_root=str(root))
    found = Audit()
    seen: dict[str, list[str]] = {}
    for dataset in load_dictionary():
        contract = load_contract(dataset)
        base = identity.dataset_dir(contract.dataset, contract.scope)
        for partition in published_partitions(identity, contract):
            found.visible += 1
            where = str(partition.relative_to(base))
            key = dataset if where == "." else f"{dataset}/{where}"
            try:
                files = published_files(partition, contract.dataset)
                listed = {f["name"]: f["sha256"] for f in read_manifest(partition, contract.dataset)["files"]}
                digests = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}
            except (DamagedError, NotPublishedError, OSError) as exc:
                found.damaged.append(f"{key}: {exc}")
                continue
            if digests != listed:
                found.damaged.append(f"{key}: files differ from the manifest")
            seen[key] = [f"{name}:{digest}" for name, digest in sorted(digests.items())]
    for segment in sorted({d.split("/")[0] for d in load_dictionary()}):
        if not is_pointed(bundle_dir(identity, segment)):
            continue
        try:
            verify_gate(identity, segment)
        except GateError as exc:
            (found.failed_gates if "did not pass" in str(exc) else found.damaged).append(f"{segment}: {exc}")
            continue
        found.open_gates.append(segment)
        mine = {k: v for k, v in seen.items() if k.startswith(f"{segment}/")}
        if mine != {k: v for k, v in clean.items() if k.startswith(f"{segment}/")}:
            found.wrong_gates.append(segment)
    return found
