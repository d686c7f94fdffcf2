"""A self-contained HTML report made from results.json: opens from disk, no server, no network.

Conformance score per area and per level, every case with its requirement, outcome and reason, its HTTP
exchanges one click away (<details>), and filters for outcome and level (a few lines of inline script). The spec
(docs/spec.md) is embedded at the end, and each § or Q reference of a source or reason links to its anchor there."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from conformance.behaviour.tables import AREAS, LEVELS
from conformance.behaviour.outcomes import JUDGED, OUTCOMES
from conformance.paths import spec_path
from conformance.behaviour.sources import source_links
from conformance.reports.evidence import exchange_text
from conformance.reports.spec_html import link_refs, render_spec

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}
.o-pass{color:#176f2c}.o-fail,.o-unexpected-pass,.o-error{color:#b00020;font-weight:bold}
.o-non-strict{color:#a15c00}.o-expected-fail{color:#6b4fa0}.o-info,.o-unsupported{color:#555}
.case{border-top:1px solid #ddd;padding:.4em 0}.case .head{font-weight:600}.reason{white-space:pre-wrap;margin:.2em 0}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre-wrap;margin:.3em 0}
.filters label{margin-right:1em}.muted{color:#666}
.spec{border-top:2px solid #ccc;margin-top:2em}.spec table{font-size:13px}.spec code{background:#f3f3f3}
.spec :target,.spec tr:has(:target){background:#fff6c8}
"""

SCRIPT = """
(function(){
  function apply(){
    var on = {};
    document.querySelectorAll('.filters input').forEach(function(box){ on[box.value] = box.checked; });
    var shown = 0;
    document.querySelectorAll('.case').forEach(function(c){
      var visible = on['o:' + c.dataset.outcome] && on['l:' + c.dataset.level];
      c.style.display = visible ? '' : 'none';
      if (visible) shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  document.querySelectorAll('.filters input').forEach(function(box){ box.addEventListener('change', apply); });
  apply();
  document.body.setAttribute('data-ready', '1');
})();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def score(records: list[dict]) -> tuple[int, int, str]:
    """(passed, judged, percentage text) over the verdicts that judge conformance (pass/non-strict/fail).

    The verdict is the outcome before the expectation file: a known deviation is still a deviation."""
    judged = [r for r in records if r.get("verdict") in JUDGED]
    passed = sum(1 for r in judged if r["verdict"] == "pass")
    return passed, len(judged), (f"{100 * passed / len(judged):.0f}%" if judged else "n/a")


def _score_table(title: str, groups: list[tuple[str, list[dict]]]) -> list[str]:
    rows = [f"<h2>{_e(title)}</h2>", "<table><tr><th></th><th>score</th><th>passed / judged</th>" +
            "".join(f"<th>{o}</th>" for o in OUTCOMES) + "<th>total</th></tr>"]
    for name, records in groups:
        passed, judged, pct = score(records)
        counts = "".join(f"<td class='num' data-count='{o}'>{sum(1 for r in records if r['outcome'] == o)}</td>"
                         for o in OUTCOMES)
        rows.append(f"<tr data-group='{_e(name)}'><th>{_e(name)}</th><td class='num'>{pct}</td>"
                    f"<td class='num'>{passed} / {judged}</td>{counts}<td class='num' data-count='total'>"
                    f"{len(records)}</td></tr>")
    rows.append("</table>")
    return rows


def _exchange(x: dict) -> str:
    request, response = exchange_text(x)
    label = f"{x.get('method')} {x.get('url')} &rarr; {_e(x.get('status') or 'no response')}"
    if x.get("note"):
        label += f" <span class='muted'>({_e(x['note'])})</span>"
    return (f"<details><summary>{label}</summary><pre>{_e(request)}</pre>"
            f"<pre>{_e(response)}</pre></details>")


BACKING = {"recorded": "a recorded AWS exchange", "documented": "AWS documentation only",
           "secondary": "secondary sources only"}


def _refs(text: str | None) -> str:
    """Escaped text whose § and Q references link to the embedded spec (plain text if the spec is missing)."""
    return link_refs(text or "") if spec_path().is_file() else _e(text)


def _case(r: dict) -> str:
    links = ", ".join(f"<a href='{_e(url)}'>{_e(key)}</a>" for key, url in source_links(r.get("source", "")))
    parts = [f"<div class='case' id='{_e(r['id'])}' data-outcome='{_e(r['outcome'])}' data-level='{_e(r['level'])}'>",
             f"<div class='head'>{_e(r['id'])} <span class='o-{_e(r['outcome'])}'>{_e(r['outcome'])}</span> "
             f"<span class='muted'>[{_e(r['level'])}]</span> {_e(r.get('title'))}</div>",
             f"<div class='muted'>source: {_refs(r.get('source'))}{' (' + links + ')' if links else ''}</div>"]
    if r.get("backing"):  # what the requirement rests on: an AWS recording, AWS documentation, or secondary sources
        recordings = ", ".join(r.get("recordings") or [])
        parts.append(f"<div class='muted'>backed by: {_e(BACKING.get(r['backing'], r['backing']))}"
                     f"{' (' + _e(recordings) + ')' if recordings else ''}</div>")
    if r.get("reason"):
        parts.append(f"<div class='reason'>{_refs(r['reason'])}</div>")
    if r.get("verdict") and r["verdict"] != r["outcome"]:
        parts.append(f"<div class='muted'>verdict before the expectation file: {_e(r['verdict'])}</div>")
    checks = r.get("checks") or []
    exchanges = r.get("exchanges") or []
    if checks or exchanges or r.get("observations"):
        inner = []
        if checks:
            inner.append("<table><tr><th>level</th><th>check</th><th>ok</th><th>expected</th><th>actual</th></tr>" +
                         "".join(f"<tr><td>{_e(c.get('level'))}</td><td>{_e(c.get('what'))}</td>"
                                 f"<td>{'yes' if c.get('ok') else '<b>no</b>'}</td>"
                                 f"<td>{_e(json.dumps(c.get('expected'), ensure_ascii=False))}</td>"
                                 f"<td>{_e(json.dumps(c.get('actual'), ensure_ascii=False))}</td></tr>"
                                 for c in checks) + "</table>")
        if r.get("observations"):
            inner.append(f"<pre>{_e(json.dumps(r['observations'], indent=1, ensure_ascii=False))}</pre>")
        inner += [_exchange(x) for x in exchanges]
        parts.append(f"<details class='evidence'><summary>evidence: {len(checks)} checks, {len(exchanges)} "
                     f"HTTP exchanges</summary>{''.join(inner)}</details>")
    parts.append("</div>")
    return "".join(parts)


def _spec_section() -> str:
    """The spec the case sources cite, in the page, so that their links work from disk."""
    path = spec_path()
    if not path.is_file():
        return f"<p class='muted'>The spec ({_e(path)}) was not found; § references are not linked.</p>"
    return ("<section class='spec' id='spec'><h2>The specification (docs/spec.md of the suite)</h2>"
            f"{render_spec(path.read_text(encoding='utf-8'))}</section>")


def render(document: dict) -> str:
    """The whole page for one results.json document."""
    records = document.get("cases", [])
    target = document.get("target", {})
    suite = document.get("suite", {})
    title = f"S3 CORS conformance: {target.get('name', '?')}"
    passed, judged, pct = score(records)
    by_area = [(f"{a}: {AREAS[a]}", [r for r in records if r["area"] == a]) for a in AREAS
               if any(r["area"] == a for r in records)]
    by_level = [(lv, [r for r in records if r["level"] == lv]) for lv in LEVELS if any(r["level"] == lv for r in records)]
    out = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
           "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "script-src 'unsafe-inline'\">",
           f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           f"<p>{_e(target.get('description'))} &mdash; endpoint {_e(target.get('endpoint_url'))}<br>"
           f"run {_e(document.get('run_id'))}, started {_e(document.get('started'))}, "
           f"{_e(document.get('duration_s'))} s, {_e(document.get('http_requests'))} HTTP requests; "
           f"suite {_e(suite.get('version'))} ({_e(suite.get('git_revision'))}); expectations: "
           f"{_e(document.get('options', {}).get('expectations') or 'none')}</p>",
           f"<p><b>Conformance score: <span id='score'>{pct}</span></b> "
           f"(<span id='passed'>{passed}</span> of <span id='judged'>{judged}</span> cases with a verdict pass; "
           "known deviations count as what they are; info, unsupported and error cases are not judged).</p>"]
    out += _score_table("By area", by_area + [("all", records)])
    out += _score_table("By level", by_level)
    out.append("<h2>Cases</h2><div class='filters'>outcome: " + "".join(
        f"<label><input type='checkbox' value='o:{o}' checked> <span class='o-{o}'>{o}</span></label>"
        for o in OUTCOMES) + "<br>level: " + "".join(
        f"<label><input type='checkbox' value='l:{lv}' checked> {lv}</label>" for lv in LEVELS) +
        f"<br><span class='muted'>showing <span id='shown'>{len(records)}</span> of "
        f"<span id='total'>{len(records)}</span> cases</span></div>")
    out += [_case(r) for r in records]
    out.append(_spec_section())
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def write_html(document: dict, out: Path) -> None:
    """Write the HTML report of a results.json document."""
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(render(document), encoding="utf-8")
    tmp.replace(out)
