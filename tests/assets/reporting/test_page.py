"""The report page (engine_assets/reporting/report/page.py): verdicts read from the reports, text escaped, self-contained."""

import re

from engine_assets.reporting.report.figures import Picture
from engine_assets.reporting.report.page import FAIL, NOT_JUDGED, PASS, corridors, render

REPORTS = {
    "seg_1a": {"checks": [
        {"name": "gini", "passed": True, "figure": 0.51234567, "corridor": "0.45-0.62",
         "details": {"sample": "1000 merchants", "enforced": True}},
        {"name": "small", "passed": True, "figure": 0.9, "corridor": "<= 0.5",
         "details": {"sample": "12 merchants", "enforced": False}},
    ]},
    "seg_6b": {"checks": [
        {"name": "rate <b>", "passed": False, "figure": None, "corridor": ">= 1", "details": {}},
    ]},
}


def test_each_check_gets_its_verdict_and_sample():
    rows = corridors(REPORTS)
    assert [(r.segment, r.check, r.verdict, r.sample) for r in rows] == [
        ("seg_1a", "gini", PASS, "1000 merchants"), ("seg_1a", "small", NOT_JUDGED, "12 merchants"),
        ("seg_6b", "rate <b>", FAIL, "")]


def test_the_page_escapes_text_embeds_pictures_and_counts_verdicts():
    picture = Picture("one", "A & B", "caption <i>", b"\x89PNG\r\n\x1a\nfake")
    page = render("Report <x>", "profile ci", [picture], corridors(REPORTS)).decode()
    assert "<title>Report &lt;x&gt;</title>" in page and "rate &lt;b&gt;" in page and "caption &lt;i&gt;" in page
    assert 'src="data:image/png;base64,iVBORw0KGgpmYWtl"' in page
    assert "3 checks over 2 segments: 1 pass, 1 fail, 1 not judged" in page
    assert re.search(r'<td class="figure">0.512346</td><td>0.45-0.62</td><td class="PASS">PASS</td>', page)
    assert '<td class="figure">not measured</td>' in page and '<td class="NOT">NOT JUDGED</td>' in page
    assert page == render("Report <x>", "profile ci", [picture], corridors(REPORTS)).decode()
