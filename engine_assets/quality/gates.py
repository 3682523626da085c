"""Segment validation bundles and the gate that reads them: no PASS, no read.

A segment's `validation` asset writes `<run_root>/<segment>/validation/` with
  report.json   every check with its figure, corridor and verdict
  index.json    each member's path, size and SHA-256
  _passed.flag  SHA-256 over the members (path and bytes, in path order), written only on success
Every read of another segment's data goes through engine_assets/storage/reader.py, which calls
`verify_gate` before the first read: no asset can forget it.
"""

import base64
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from engine_assets.run import faults
from engine_assets.run.errors import DamagedError, GateError, NotPublishedError, StoreError
from engine_assets.run.identity import RunIdentity
from engine_assets.storage.publish import MANIFEST, Published, is_pointed, publish_files, published_files
from engine_kernels.digest import length_prefixed_sha256

if TYPE_CHECKING:
    from engine_assets.storage.reader import Reader

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
    """Where the segment's bundle is published (its pointer and versions)."""
    return identity.run_root / segment / "validation"


def bundle_files(identity: RunIdentity, segment: str) -> dict[str, Path]:
    """The members of the segment's published bundle, by name (its current version's files)."""
    return published_files(bundle_dir(identity, segment), f"{segment}/validation")


def _flag_digest(members: Mapping[str, bytes]) -> str:
    return length_prefixed_sha256(t for path in sorted(members) for t in (path.encode(), members[path])).hexdigest()


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
    faults.point("validation.before_bundle")
    return publish_files(bundle_dir(identity, segment), files, manifest, f"{segment}/validation")


def verify_gate(identity: RunIdentity, segment: str) -> dict[str, Any]:
    """Return the segment's report if its bundle passed, is intact and is this world's; else raise GateError."""
    root = bundle_dir(identity, segment)
    rerun = f"materialise {validation_key(segment).to_user_string()} (and fix what it reports) before reading {segment}"
    try:
        # One resolution of the published version: a concurrent republish cannot mix two bundles. Its
        # members are the files its manifest lists, read by name: the bundle's prefix is never listed.
        files = published_files(root, f"{segment}/validation")
        listed = set(files) - {FLAG}
        members = {name: files[name].read_bytes() for name in listed}
        flag = files[FLAG].read_text().strip() if FLAG in files else None
    except NotPublishedError:
        raise GateError(f"segment {segment} has no published validation bundle at {root}; "
                        f"{_stale_world(identity, segment) or rerun}") from None
    except DamagedError as exc:
        raise GateError(f"segment {segment}: validation bundle at {root} is damaged or was modified after it passed "
                        f"({exc}); {rerun}") from None
    except OSError as exc:
        raise GateError(f"segment {segment}: validation bundle at {root} is damaged or changed while being read "
                        f"({exc}); {rerun}") from exc
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
    if indexed != actual:
        changed = sorted((set(indexed) ^ set(actual)) | {p for p in indexed if indexed[p] != actual.get(p)})
        raise GateError(f"segment {segment}: validation bundle was modified after it passed (members {changed}); {rerun}")
    if flag != _flag_digest(members):
        raise GateError(f"segment {segment}: _passed.flag does not match the bundle at {root}; {rerun}")
    if report.get("identity") != identity.tokens():
        raise GateError(
            f"segment {segment}: the validation bundle was written for {report.get('identity')}, not for this world "
            f"{identity.tokens()}; {rerun}"
        )
    return report


def _stale_world(identity: RunIdentity, segment: str) -> str | None:
    """Why a bundle is missing when the same profile and seed published it under another parameter hash: the
    policies or the profile changed since (the hash covers them all), so this run looks in a new directory."""
    here = identity.run_root
    try:  # a listing, once, on the way to an error: readers never list
        others = sorted(p.name for p in here.parent.iterdir()
                        if p.name.startswith("ph=") and p.name != here.name and is_pointed(p / segment / "validation"))
    except (OSError, StoreError):
        return None
    if not others:
        return None
    then = ", ".join(o.removeprefix("ph=") for o in others)
    return (f"profile {identity.profile.name}, seed {identity.seed} has {segment} built under {' and '.join(others)} "
            f"beside it: the policies or the profile changed since that world was built (parameter hash {then} then, "
            f"{identity.parameter_hash[:16]} now), so this run reads {here.name}, where {segment} is not built. "
            f"Rebuild {segment} and the segments before it with the current configuration (materialise "
            f"{validation_key(segment).to_user_string()} and its upstream assets, e.g. make demo), or restore config/ "
            "as it was to read the world already built")


@dataclass(frozen=True)
class ValidationCheck:
    """A check a segment's validation reports, declared up front so Dagster shows it before it runs.

    Blocking checks keep `_passed.flag` from being written when they fail (and fail the step);
    a non-blocking one reports a figure without a verdict.
    """

    name: str
    description: str
    blocking: bool = True
    # What a user does when it fails: for a realism check, the policy knob or profile setting that
    # drives the figure. Exact rules share INVARIANT_REMEDY.
    remedy: str = ""

    @property
    def realism(self) -> bool:
        return self.description.startswith("Realism:")

    @property
    def check_name(self) -> str:
        # Dagster check names are identifiers: `holidays_in_calendar[stress]` -> `holidays_in_calendar_stress`.
        return re.sub(r"\W+", "_", self.name).strip("_")


MISSING_PARTITIONS_REMEDY = ("partitions were never built, or their run failed: materialise the missing partitions "
                             "(the report's details name them), then the validation")
INVARIANT_REMEDY = ("an exact rule of the engine, not a matter of seed or scale: the published data was changed "
                    "after it was written, or the engine has a bug. Rematerialise the segment's assets and then its "
                    "validation; if the check fails again, report it with the bundle")


def failure_report(identity: RunIdentity, segment: str, failed: list[CheckOutcome],
                   declared: Mapping[str, ValidationCheck]) -> str:
    """The message of a failed validation: each failed check with its figure and band, and what to do."""
    profile = identity.profile
    lines = [f"{segment} validation failed for profile {profile.name} ({profile.merchants:,} merchants), seed "
             f"{identity.seed}; the whole report is {bundle_files(identity, segment)[REPORT]}"]
    for outcome in failed:
        check = declared[outcome.name]
        sample = outcome.details.get("sample")
        judged = f" (judged on {sample}; the corridor applies from {outcome.details['judged_from']})" if sample else ""
        lines.append(f"  {outcome.name} = {outcome.figure}, outside {outcome.corridor}{judged}")
        if check.realism:
            lines.append(f"    what to do: {check.remedy} A realism figure scatters from seed to seed: if other seeds "
                         "pass (make demo SEED=7; benchmarks/seeds.py tabulates many), this world is an outlier; if "
                         "most fail, the model needs the fix, not a wider band.")
        else:
            lines.append(f"    what to do: {check.remedy or INVARIANT_REMEDY}.")
    return "\n".join(lines)


def validation_key(segment: str):
    """The asset key of a segment's validation: named after the segment so it reads on its own in a graph."""
    import dagster as dg

    return dg.AssetKey([segment, f"{segment}_validation"])


def _metadata_value(value: Any):
    import dagster as dg

    if value is None or isinstance(value, bool):
        return dg.MetadataValue.text(str(value))
    return value if isinstance(value, (int, float, str)) else dg.MetadataValue.json(value)


def check_result(check: ValidationCheck, outcome: CheckOutcome):
    """The Dagster check result of one outcome: its verdict, figure and band, and the details behind them."""
    import dagster as dg

    metadata = {"figure": _metadata_value(outcome.figure), "band": outcome.corridor or "reported"}
    metadata |= {f"details/{k}": _metadata_value(v) for k, v in sorted(outcome.details.items())}
    return dg.AssetCheckResult(
        asset_key=None, check_name=check.check_name, passed=bool(outcome.passed), metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        description=f"{outcome.figure} against {outcome.corridor or 'no band (reported)'}",
    )


def _declared(segment: str, checks: list[ValidationCheck], outcomes: list[CheckOutcome]) -> dict[str, ValidationCheck]:
    by_name = {c.name: c for c in checks}
    produced = [o.name for o in outcomes]
    if sorted(produced) != sorted(by_name):
        raise ValueError(
            f"{segment}: the validation produced checks {sorted(set(produced) - set(by_name))} that are not declared "
            f"and did not produce {sorted(set(by_name) - set(produced))}; keep its CHECKS in step with evaluate()"
        )
    return by_name


def validation_asset(
    segment: str,
    reads: Iterable[str],
    evaluate: Callable[["Reader"], tuple[list[CheckOutcome], Mapping[str, bytes]]],
    description: str,
    checks: list[ValidationCheck],
):
    """The segment's validation asset: run the segment-wide checks, publish the bundle, gate on it.

    `reads` are the datasets `evaluate` reads through the Reader it is given (all their partitions).

    `evaluate` returns the outcomes and any attachments (maps, plots); every outcome is one of
    `checks` and becomes a Dagster asset check of this asset with its figure and band. A failing
    segment still publishes its bundle (without the flag) and records its checks, then fails the step.
    """
    import dagster as dg

    from engine_assets.run.resources import EngineResource
    from engine_assets.storage.reader import Reader, upstream

    key = validation_key(segment)
    specs = [dg.AssetCheckSpec(c.check_name, asset=key, description=c.description, blocking=c.blocking)
             for c in checks]

    @dg.asset(key=key, group_name=segment, description=description, kinds={"json"}, check_specs=specs,
              **upstream(segment, reads=reads))
    def _validation(context: dg.AssetExecutionContext, engine: EngineResource):
        identity = engine.identity()
        outcomes, attachments = evaluate(Reader.of(context, identity))
        declared = _declared(segment, checks, outcomes)
        published = write_validation_bundle(identity, segment, outcomes, attachments)
        failed = [o for o in outcomes if not o.passed]
        metadata = {
            "passed": not failed,
            "checks_passed": f"{len(outcomes) - len(failed)} of {len(outcomes)}",
            "bundle": dg.MetadataValue.path(str(published.version)),
        }
        for name, data in sorted((attachments or {}).items()):
            metadata[f"file/{name}"] = dg.MetadataValue.path(str(published.version / name))
            if name.endswith(".png"):
                # Dagster shows Markdown inline only below 1,000 characters, so a picture is one click away.
                image = base64.b64encode(data).decode()
                metadata[f"picture/{name}"] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{image})")
        yield dg.MaterializeResult(metadata=metadata,
                                   check_results=[check_result(declared[o.name], o) for o in outcomes])
        if failed:
            raise dg.Failure(description=failure_report(identity, segment, failed, declared), metadata=metadata)

    return _validation
