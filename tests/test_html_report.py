"""The self-contained HTML report: made from results.json, escapes everything, and, rendered by a real headless
Chromium from disk with no network, shows the same counts as results.json."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from conformance.reports.html_report import OUTCOMES, render, score, write_html


def _doc(cases):
    return {"schema": "s3cors-results/1", "target": {"name": "t<x>", "endpoint_url": "http://127.0.0.1:1"},
            "cases": cases}


def _case(case_id, outcome, verdict=None, level="MUST"):
    return {"id": case_id, "area": case_id[:3], "level": level, "title": "a <b>title</b>", "source": "A: LS-SNAP",
            "outcome": outcome, "verdict": verdict or outcome, "reason": "got <script>alert(1)</script>",
            "checks": [{"level": "MUST", "what": "w", "ok": False, "expected": 1, "actual": 2}],
            "exchanges": [{"method": "GET", "url": "http://127.0.0.1:1/b", "request_headers": [["Origin", "o"]],
                           "status": 200, "response_headers": [["Vary", "Origin"]], "response_body": "<x/>"}]}


def test_score_counts_verdicts_not_outcomes():
    cases = [_case("PRE-A-001", "pass"), _case("PRE-A-002", "expected-fail", "fail"),
             _case("PRE-A-003", "info"), _case("PRE-A-004", "non-strict")]
    assert score(cases) == (1, 3, "33%")


def test_everything_is_escaped_and_self_contained():
    page = render(_doc([_case("PRE-A-001", "fail")]))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &lt;b&gt;title&lt;/b&gt;" in page and "t&lt;x&gt;" in page
    # No external resource: every src/href is an in-page anchor or a source link, never a stylesheet or script.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)


def test_case_references_link_to_the_embedded_spec():
    case = _case("PRE-A-001", "fail")
    case["source"] = 'A: LS-SNAP "opt-put" (\u00a74.1 step 5, \u00a75 Method)'
    case["reason"] = "got 200 (\u00a79 'Rule iteration'; Q2)"
    page = render(_doc([case]))
    ids = set(re.findall(r"id='([^']+)'", page))
    links = re.findall(r"<a class='ref' href='#([^']+)'>", page)
    assert links[:4] == ["s4.1-step-5", "s5-method", "s9-rule-iteration", "q2"]
    assert set(links) <= ids, "every reference lands on an anchor of the page"
    assert "id='spec'" in page and "Decision order and error answers" in page


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found and os.environ.get("S3CORS_REQUIRE_CHROMIUM") == "1":
        pytest.fail("S3CORS_REQUIRE_CHROMIUM=1 but no chromium on PATH (install: bash fixtures/browser/install.sh)")
    if not found:
        pytest.skip("no chromium on PATH (CI installs it and sets S3CORS_REQUIRE_CHROMIUM=1)")
    return found


def test_report_renders_in_chromium_with_the_counts_of_results_json(suite, tmp_path):
    chromium = _chromium()
    result, results = suite("--case=CFG-*", "--case=ACT-*", "--case=ACT-ERR-003")
    assert result.ret == 0, result.stdout.str()
    page = suite.reports / "report.html"
    assert page.is_file()
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
         "--proxy-server=127.0.0.1:9", "--disable-background-networking", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert 'data-ready="1"' in dom, "the page's script ran"
    cases = results["cases"]
    assert re.search(rf'id="shown">{len(cases)}<', dom) and re.search(rf'id="total">{len(cases)}<', dom)
    all_row = re.search(r"<tr data-group=\"all\">(.*?)</tr>", dom, re.S).group(1)
    shown = dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', all_row))
    for outcome in OUTCOMES:
        assert int(shown[outcome]) == results["summary"]["by_outcome"][outcome], outcome
    assert int(shown["total"]) == len(cases)
    assert dom.count('class="case"') == len(cases)
    passed, judged, pct = score(cases)
    assert f'id="score">{pct}<' in dom and f'id="judged">{judged}<' in dom


def test_write_html_from_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_doc([_case("PRE-A-001", "pass")])))
    write_html(json.loads(path.read_text()), tmp_path / "report.html")
    assert "PRE-A-001" in (tmp_path / "report.html").read_text()
