"""Segment validation bundles and the gate that reads them: no PASS, no read.

A segment's `validation` asset writes `<run_root>/<segment>/validation/` with
  report.json   every check with its figure, corridor and verdict
  index.json    each member's path, size and SHA-256
  _passed.flag  SHA-256 over the members (path and bytes, in path order), written only on success
The first asset of each downstream segment calls `verify_gate` before it reads anything.
"""

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from engine_assets.errors import GateError, NotPublishedError
from engine_assets.identity import RunIdentity
from engine_assets.publish import MANIFEST, Published, publish_files, published_version

FLAG = "_passed.flag"
REPORT = "report.json"
INDEX = "index.json"


@dataclass(frozen=True)
class CheckOutcome:
    """One segment-level check: a name, whether it passed, and the figures behind the verdict."""

    name: str
    passed: bool
    figure: float | int | str | None = None
    corridor: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def bundle_dir(identity: RunIdentity, segment: str) -> Path:
    return identity.run_root / segment / "validation"


def _flag_digest(members: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for path in sorted(members):
        for token in (path.encode(), members[path]):
            h.update(len(token).to_bytes(8, "big"))
            h.update(token)
    return h.hexdigest()


def _json(doc: Any) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True, default=str).encode() + b"\n"


def write_validation_bundle(
    identity: RunIdentity,
    segment: str,
    outcomes: list[CheckOutcome],
    attachments: Mapping[str, bytes] | None = None,
) -> Published:
    """Publish the bundle atomically; the flag is written only if every check passed.

    A failing bundle is still published (without the flag) so users can read why it failed.
    """
    if not outcomes:
        raise ValueError(f"{segment}: a validation bundle needs at least one check")
    reserved = {REPORT, INDEX, FLAG, MANIFEST} & set(attachments or {})
    if reserved:
        raise ValueError(f"{segment}: attachment names {sorted(reserved)} are reserved for the bundle itself")
    passed = all(o.passed for o in outcomes)
    report = {
        "segment": segment,
        "passed": passed,
        "identity": identity.tokens(),
        "checks": [asdict(o) for o in outcomes],
        "failed": [o.name for o in outcomes if not o.passed],
    }
    members = {REPORT: _json(report), **dict(attachments or {})}
    index = {"segment": segment, "members": [
        {"path": p, "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in sorted(members.items())
    ]}
    members[INDEX] = _json(index)
    files = dict(members)
    if passed:
        files[FLAG] = (_flag_digest(members) + "\n").encode()
    manifest = {"dataset": f"{segment}/validation", "partition": None, "identity": identity.tokens(), "passed": passed}
    return publish_files(bundle_dir(identity, segment), files, manifest, f"{segment}/validation")


def verify_gate(identity: RunIdentity, segment: str) -> dict[str, Any]:
    """Return the segment's report if its bundle passed, is intact and is this world's; else raise GateError."""
    root = bundle_dir(identity, segment)
    rerun = f"materialise {segment}/validation (and fix what it reports) before reading {segment}"
    try:
        # One resolution of the published version: a concurrent republish cannot mix two bundles.
        version = published_version(root, f"{segment}/validation")
        listed = {f["name"] for f in json.loads((version / MANIFEST).read_text())["files"]}
        on_disk = {p.name for p in version.iterdir()} - {MANIFEST}
        members = {name: (version / name).read_bytes() for name in on_disk if name != FLAG}
        flag = (version / FLAG).read_text().strip() if FLAG in on_disk else None
    except NotPublishedError:
        raise GateError(f"segment {segment} has no published validation bundle at {root}; {rerun}") from None
    except OSError as exc:
        raise GateError(f"segment {segment}: validation bundle at {root} changed while being read ({exc}); retry") from exc
    try:
        report = json.loads(members[REPORT])
        index = json.loads(members[INDEX])
    except (KeyError, ValueError) as exc:
        raise GateError(f"segment {segment}: validation bundle at {root} is incomplete or unreadable ({exc}); {rerun}")
    if flag is None:
        failed = ", ".join(report.get("failed", [])) or "unknown"
        raise GateError(f"segment {segment} did not pass validation (failed checks: {failed}; see {root / REPORT}); {rerun}")
    indexed = {m["path"]: m["sha256"] for m in index["members"]}
    actual = {p: hashlib.sha256(b).hexdigest() for p, b in members.items() if p != INDEX}
    if indexed != actual or on_disk != listed:
        changed = sorted((set(indexed) ^ set(actual)) | {p for p in indexed if indexed[p] != actual.get(p)} | (on_disk ^ listed))
        raise GateError(f"segment {segment}: validation bundle was modified after it passed (members {changed}); {rerun}")
    if flag != _flag_digest(members):
        raise GateError(f"segment {segment}: _passed.flag does not match the bundle at {root}; {rerun}")
    if report.get("identity") != identity.tokens():
        raise GateError(
            f"segment {segment}: the validation bundle was written for {report.get('identity')}, not for this world "
            f"{identity.tokens()}; {rerun}"
        )
    return report


def validation_asset(
    segment: str,
    deps: list,
    evaluate: Callable[[RunIdentity], tuple[list[CheckOutcome], Mapping[str, bytes]]],
    description: str,
):
    """The `<segment>/validation` asset: run the segment-wide checks, publish the bundle, gate on it.

    `evaluate` returns the outcomes and any attachments (maps, plots). A failing segment still
    publishes its bundle (without the flag) so its report can be read, then fails the step.
    """
    import dagster as dg

    from engine_assets.resources import EngineResource

    @dg.asset(key=[segment, "validation"], group_name=segment, deps=deps, description=description, kinds={"json"})
    def _validation(engine: EngineResource) -> dg.MaterializeResult:
        identity = engine.identity()
        outcomes, attachments = evaluate(identity)
        write_validation_bundle(identity, segment, outcomes, attachments)
        figures = {o.name: {"passed": o.passed, "figure": o.figure, "corridor": o.corridor} for o in outcomes}
        metadata = {
            "passed": all(o.passed for o in outcomes),
            "checks": dg.MetadataValue.json(figures),
            "bundle": dg.MetadataValue.path(str(bundle_dir(identity, segment))),
        }
        for name, data in sorted((attachments or {}).items()):
            # Pictures show in the UI next to the figures, and link to the bundle's copy.
            metadata[f"file/{name}"] = dg.MetadataValue.path(str(bundle_dir(identity, segment) / name))
            if name.endswith(".png"):
                image = base64.b64encode(data).decode()
                metadata[f"picture/{name}"] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{image})")
        failed = [o for o in outcomes if not o.passed]
        if failed:
            lines = [f"{o.name}: {o.figure} outside {o.corridor}" for o in failed]
            raise dg.Failure(description=f"{segment} validation failed: " + "; ".join(lines), metadata=metadata)
        return dg.MaterializeResult(metadata=metadata)

    return _validation
