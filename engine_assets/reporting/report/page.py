"""The report as one self-contained HTML page: pictures embedded as data URIs, no script, no external file.

The page is a function of the world's figures only (no clock, no host name), so a rebuild of the
same world gives the same bytes.
"""

import base64
from dataclasses import dataclass
from html import escape

from engine_assets.reporting.report.figures import Picture

PASS, FAIL, NOT_JUDGED = "PASS", "FAIL", "NOT JUDGED"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;color:#1d2430;
padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
.meta{color:#5a6372;font-size:.9rem}figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85rem;color:#5a6372}table{border-collapse:collapse;font-size:.8rem;width:100%}
th,td{border-bottom:1px solid #eee;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.figure{font-variant-numeric:tabular-nums}.PASS{color:#1e7b34;font-weight:600}
.FAIL{color:#b3261e;font-weight:700}.NOT{color:#8a6d00}nav a{margin-right:.8rem}
"""


@dataclass(frozen=True)
class Corridor:
    segment: str
    check: str
    figure: object
    band: str
    verdict: str
    sample: str


def corridors(reports: dict[str, dict]) -> list[Corridor]:
    """Every check of every segment's validation report, in segment then report order."""
    rows = []
    for segment, report in reports.items():
        for check in report["checks"]:
            details = check.get("details") or {}
            verdict = PASS if check["passed"] else FAIL
            if check["passed"] and details.get("enforced") is False:
                verdict = NOT_JUDGED
            rows.append(Corridor(segment, check["name"], check.get("figure"), check.get("corridor") or "",
                                 verdict, str(details.get("sample", ""))))
    return rows


def _figure_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "not measured" if value is None else str(value)


def _picture(p: Picture) -> str:
    data = base64.b64encode(p.png).decode()
    return (f'<section id="{p.name}"><h2>{escape(p.title)}</h2><figure>'
            f'<img alt="{escape(p.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(p.caption)}</figcaption></figure></section>")


def _table(rows: list[Corridor]) -> str:
    body = "".join(
        f'<tr><td>{escape(r.segment)}</td><td>{escape(r.check)}</td><td class="figure">{escape(_figure_text(r.figure))}'
        f'</td><td>{escape(r.band)}</td><td class="{r.verdict.split()[0]}">{r.verdict}</td>'
        f"<td>{escape(r.sample)}</td></tr>" for r in rows)
    return ('<table id="corridor-table"><thead><tr><th>segment</th><th>check</th><th>figure</th><th>band</th>'
            f"<th>verdict</th><th>judged on</th></tr></thead><tbody>{body}</tbody></table>")


def render(title: str, identity_line: str, pictures: list[Picture], rows: list[Corridor]) -> bytes:
    counts = {v: sum(r.verdict == v for r in rows) for v in (PASS, FAIL, NOT_JUDGED)}
    summary = (f"{len(rows)} checks over {len({r.segment for r in rows})} segments: {counts[PASS]} pass, "
               f"{counts[FAIL]} fail, {counts[NOT_JUDGED]} not judged (too small a sample for the corridor).")
    nav = "".join(f'<a href="#{p.name}">{escape(p.title)}</a>' for p in pictures) + '<a href="#corridors">Corridors</a>'
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f'<p class="meta">{escape(identity_line)}</p><p id="summary">{escape(summary)}</p><nav>{nav}</nav>'
            + "".join(_picture(p) for p in pictures)
            + f'<section id="corridors"><h2>Every corridor of every segment</h2>{_table(rows)}</section>'
            "</body></html>\n")
    return html.encode()
