"""`report/realism`: the realism report of a world, one self-contained HTML page per scenario.

Thin: days.py reduces each day, figures.py draws, page.py writes the page. It reads every segment's
validation report (each through its gate, so a report exists only for a world whose segments all
passed) and the published data behind the pictures.
"""

import base64
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from engine_assets.quality.contracts import load_contract, load_dictionary
from engine_assets.quality.gates import validation_key
from engine_assets.reporting.report import figures
from engine_assets.reporting.report.days import day_tally
from engine_assets.reporting.report.page import corridors, render
from engine_assets.run.partitions import DAYS, SCENARIOS
from engine_assets.run.progress import Progress
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import publish_dataset
from engine_assets.storage.reader import Reader, upstream

GROUP = "report"
PAGE = "realism.html"
# Segments with a validation: every segment of the data dictionary but the run manifest (checked by
# its contract alone) and this report.
SEGMENTS = tuple(sorted({d.split("/")[0] for d in load_dictionary()} - {"engine", GROUP}))
BY_DAY = ("seg_5b/arrival_events", "seg_5b/bucket_counts", "seg_6b/flows", "seg_6b/truth_labels", "seg_6b/events",
          "seg_6b/bank_view")
BY_COUNTRY = ("seg_2a/site_timezones", "seg_6a/parties", "seg_6a/accounts", "seg_6a/instruments",
              "seg_6a/device_links", "seg_6a/ip_links")
# Shown in the asset's metadata; the page holds them all.
IN_METADATA = ("fraud_over_time", "campaign_timelines", "learnability", "sites_over_population")


def _upstream() -> dict:
    wiring = upstream(GROUP, reads=["seg_6b/fraud_campaigns"], reads_whole=[*BY_DAY, *BY_COUNTRY])
    wired = {dep.asset_key if isinstance(dep, dg.AssetDep) else dep for dep in wiring["deps"]}
    wiring["deps"] += [validation_key(s) for s in SEGMENTS if validation_key(s) not in wired]
    return wiring


def build_page(read: Reader, scenario: str, log=None) -> tuple[bytes, list[figures.Picture], list]:
    """The page of one scenario, its pictures and its corridor rows."""
    identity = read.identity
    reports = {segment: read.gate(segment) for segment in SEGMENTS}
    days = DAYS.get_partition_keys()
    fx = identity.policies.flows.model.amounts.fx_per_usd
    progress = Progress(log, f"report {scenario}", len(days), "days")
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="report") as pool:
        tallies = []
        for tally in pool.map(lambda d: day_tally(read, scenario, d, fx), days):
            tallies.append(tally)
            progress.advance(1, tally.flows)
    dates = [dt.date.fromisoformat(d) for d in days]
    pictures = [
        figures.bundled(read, "seg_1b", "sites_world.png", "sites_over_population", "Sites over population",
                        "Every physical site (red) over the population density it was placed by (grey, log scale)."),
        figures.time_zone_mix(read),
        figures.bundled(read, "seg_5a", "hourly_volume.png", "hourly_volume", "Hourly volume by country",
                        "Expected arrivals per hour in each country's local time; holidays and paydays shaded."),
        *figures.dispersion_and_virtual(tallies, dates),
        figures.entity_distributions(read),
        figures.amounts_by_class(tallies),
        figures.decline_and_refund(tallies, dates),
        figures.fraud_over_time(tallies, dates),
        figures.label_delays(tallies),
        figures.campaign_timelines(read, scenario, dates[0], len(dates)),
    ]
    learned = figures.learnability(reports["seg_6b"])
    if learned is not None:
        pictures.append(learned)
    rows = corridors(reports)
    title = f"Realism report: {identity.profile.name} world, scenario {scenario}"
    line = f"profile {identity.profile.name} · seed {identity.seed} · parameter hash {identity.parameter_hash[:16]}"
    return render(title, line, pictures, rows), pictures, rows


def _metadata(path, pictures, rows) -> dict:
    verdicts = [r.verdict for r in rows]
    metadata = {
        "page": dg.MetadataValue.path(str(path)),
        "open": dg.MetadataValue.url(path.as_uri()),
        "corridors": f"{verdicts.count('PASS')} pass, {verdicts.count('FAIL')} fail, "
                     f"{verdicts.count('NOT JUDGED')} not judged of {len(rows)}",
        "pictures": len(pictures),
    }
    for p in pictures:
        if p.name in IN_METADATA:
            image = base64.b64encode(p.png).decode()
            metadata[f"picture/{p.name}"] = dg.MetadataValue.md(f"![{p.title}](data:image/png;base64,{image})")
    return metadata


@dg.asset(key=[GROUP, "realism"], group_name=GROUP, io_manager_key="shards", partitions_def=SCENARIOS,
          description="One self-contained HTML page per scenario: the world's pictures and every corridor of every "
                      "segment with its figure, band and verdict.",
          **_upstream())
def realism(context: dg.AssetExecutionContext, engine: EngineResource):
    identity = engine.identity()
    read = Reader.of(context, identity)
    contract = load_contract(f"{GROUP}/realism")
    pages = {}
    for scenario in context.partition_keys:
        page, pictures, rows = build_page(read, scenario, context.log)
        # Published here, not by the IO manager, so the metadata can name the version's file.
        pages[scenario] = publish_dataset(identity, contract, {"scenario": scenario}, {PAGE: page})
        context.add_asset_metadata(_metadata(pages[scenario].version / PAGE, pictures, rows), partition_key=scenario)
    return pages
