"""report/realism on the ci world: one self-contained page per scenario holding every corridor of every segment."""

import base64
import json
import re
from html import unescape

import pytest
from worlds import run

from engine_assets.quality.gates import REPORT, bundle_files
from engine_assets.reporting.report.assets import SEGMENTS
from engine_assets.run.identity import resolve_identity
from engine_assets.run.partitions import DAYS, SCENARIOS
from engine_assets.run.progress import LISTENERS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(flows_world):
    result = run(flows_world, ["report/realism"], SCENARIOS.get_partition_keys())
    [event] = [e for e in result.get_asset_materialization_events()
               if e.event_specific_data.materialization.partition == "baseline"]
    metadata = event.event_specific_data.materialization.metadata
    return flows_world, metadata


def test_the_page_holds_every_check_of_every_segment_with_its_figure_band_and_verdict(report):
    root, metadata = report
    identity = resolve_identity("ci", data_root=str(root))
    page = open(metadata["page"].value).read()
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td class=\"figure\">([^<]*)</td><td>([^<]*)</td>"
                      r"<td class=\"[A-Z]+\">([A-Z ]+)</td>", page)
    expected = []
    for segment in SEGMENTS:
        checks = json.loads(bundle_files(identity, segment)[REPORT].read_text())["checks"]
        expected += [(segment, c["name"], c.get("corridor") or "") for c in checks]
    assert [(unescape(s), unescape(n), unescape(b)) for s, n, _, b, _ in rows] == expected
    assert {segment for segment, *_ in rows} == set(SEGMENTS) and len(SEGMENTS) == 11
    assert {v for *_, v in rows} <= {"PASS", "NOT JUDGED"}  # a world whose gates are open passed every check
    passing = sum(v == "PASS" for *_, v in rows)
    assert metadata["corridors"].value.startswith(f"{passing} pass, 0 fail")


def test_the_page_is_self_contained_and_its_pictures_are_pngs(report):
    _, metadata = report
    page = open(metadata["page"].value).read()
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == metadata["pictures"].value >= 11
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(base64.b64decode(s.split(",", 1)[1]).startswith(PNG) for s in sources)
    assert not re.search(r'(src|href)="(https?:|file:|/)', page), "the page links outside itself"
    for section in ("sites_over_population", "time_zone_mix", "hourly_volume", "dispersion", "virtual_share",
                    "entity_distributions", "amounts_by_class", "decline_and_refund", "fraud_over_time",
                    "label_delays", "campaign_timelines"):
        assert f'<section id="{section}">' in page


def test_the_metadata_links_the_page_and_shows_the_main_pictures(report):
    _, metadata = report
    assert metadata["open"].value.startswith("file://") and metadata["open"].value.endswith("realism.html")
    pictures = {k: v.value for k, v in metadata.items() if k.startswith("picture/")}
    assert {"picture/fraud_over_time", "picture/campaign_timelines", "picture/sites_over_population"} <= set(pictures)
    for markdown in pictures.values():
        data = re.fullmatch(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1)
        assert base64.b64decode(data).startswith(PNG)


def test_a_rebuilt_report_has_the_same_bytes(report):
    root, metadata = report
    before = open(metadata["page"].value, "rb").read()
    result = run(root, ["report/realism"], ["baseline"])
    [event] = result.get_asset_materialization_events()
    assert open(event.event_specific_data.materialization.metadata["page"].value, "rb").read() == before


def test_the_report_tells_its_progress_day_by_day(report):
    root, _ = report
    heard = []
    LISTENERS.append(lambda *args: heard.append(args))
    try:
        run(root, ["report/realism"], ["baseline"])
    finally:
        LISTENERS.pop()
    days = len(DAYS.get_partition_keys())
    assert [(what, done, total, unit) for what, done, total, unit, *_ in heard] == [
        ("report baseline", d, days, "days") for d in range(1, days + 1)]
    assert heard[-1][4] > 0  # rows: the flows read
