"""BRW rows vs the model: every row of fixtures/cases/browser.toml states the browser verdict a conforming
server leads to; it must be what model.evaluate_preflight/evaluate_actual give, put through the Fetch rules
(conformance/browser/fetch.py). Also the Fetch rules themselves, and the report that puts a browser verdict
beside the header-level case it rests on."""

from __future__ import annotations

import json

import pytest

from conformance.behaviour import model
from conformance.browser import fetch
from conformance.browser.driver import parse_network
from conformance.browser.report import disagreement_lines, link_related
from conformance.browser.table import (expected, model_view, substitute, table_view, twin_expected,
                                      twin_request)
from conformance.behaviour.tables import registry
from conformance.behaviour.cors import DECISIVE_QUESTIONS

ALL = registry().cases
BRW = [c for c in ALL.values() if c.area == "BRW"]
PAGE, OTHER = "http://127.0.0.1:41001", "http://127.0.0.1:41002"


def test_there_are_browser_cases():
    assert len(BRW) >= 15
    assert {"fetch", "xhr"} <= {c.send.get("api", "fetch") for c in BRW}
    assert {"GET", "HEAD", "PUT", "DELETE"} <= {c.send["http"] for c in BRW}


@pytest.mark.parametrize("case", BRW, ids=str)
def test_row_agrees_with_model_and_fetch(case):
    assert table_view(case) == model_view(expected(case, PAGE, OTHER)), case.id


@pytest.mark.parametrize("case", BRW, ids=str)
def test_row_does_not_depend_on_the_ports(case):
    """The verdict is about the origins' roles, not their port numbers."""
    assert model_view(expected(case, PAGE, OTHER)) == model_view(expected(case, "http://127.0.0.1:9", "http://127.0.0.1:65535"))


@pytest.mark.parametrize("case", BRW, ids=str)
def test_row_names_a_related_header_level_case(case):
    related = case.expect.get("related")
    assert related in ALL, f"{case.id}: related {related!r} is not a case ID"
    assert ALL[related].area != "BRW"


TWINS = [c for c in ALL.values() if c.area == "ACT" and "browser" in c.send]
PAGE_TWIN, OTHER_TWIN = "https://page.example", "https://other.example"


@pytest.mark.parametrize("case", TWINS, ids=str)
def test_twin_row_agrees_with_model_and_fetch(case):
    """An ACT browser twin states the verdict the model's answers lead to under the Fetch rules."""
    assert table_view(case) == model_view(twin_expected(case)), case.id


@pytest.mark.parametrize("case", [c for c in BRW if c.expect["browser"] == "allowed"], ids=str)
def test_allowed_row_has_a_header_level_twin(case):
    """A browser case that a conforming server lets through relates to a twin that sends the same request
    (method, page headers, credentials mode, a superset of what it reads) under the same rules from the same
    origins' roles, so the header-level verdict cannot pass where Chromium blocks (issue: lenient '*')."""
    twin = ALL[case.expect["related"]]
    assert "browser" in twin.send, f"{case.id}: related {twin.id} is not an ACT browser twin"
    mine, theirs = expected(case, PAGE, OTHER), twin_expected(twin)
    request = twin_request(twin)
    brw = substitute(case.setup.get("rules", []), PAGE_TWIN, OTHER_TWIN)
    assert twin.setup.get("rules", []) == brw, f"{twin.id}: rules differ from {case.id}'s"
    assert request.method == case.send["http"]
    assert request.origin == (OTHER_TWIN if case.send.get("from") == "other" else PAGE_TWIN)
    assert dict(request.headers) == dict(case.send.get("headers", {}))
    assert request.include_credentials == (case.send.get("credentials") == "include")
    assert set(case.send.get("read", ())) <= set(request.read)
    assert (mine.browser, mine.preflight) == (theirs.browser, theirs.preflight)
    assert set(mine.readable) <= set(theirs.readable)


@pytest.mark.parametrize("case", BRW, ids=str)
def test_row_is_well_formed(case):
    assert set(case.send) <= {"api", "http", "from", "headers", "credentials", "read"}, case.id
    assert set(case.expect) <= {"browser", "preflight", "stage", "readable", "related"}, case.id
    assert case.send.get("api", "fetch") in ("fetch", "xhr")
    assert case.send.get("from", "page") in ("page", "other")
    assert case.send.get("credentials", "same-origin") in ("same-origin", "include")
    assert case.expect["browser"] in ("allowed", "blocked")
    assert ("stage" in case.expect) == (case.expect["browser"] == "blocked")
    assert "{page_origin}" in json.dumps(case.setup.get("rules", [])) or case.setup.get("rules") in ([], None) or \
        any("*" in r["AllowedOrigins"] for r in case.setup["rules"])


@pytest.mark.parametrize("case", BRW, ids=str)
def test_level_matches_open_questions(case):
    decisive = set(expected(case, PAGE, OTHER).open_questions) & DECISIVE_QUESTIONS
    if decisive:
        assert case.level == "INFO", f"{case.id} rests on {sorted(decisive)} and must be INFO"


def test_a_wrong_row_is_caught():
    case = ALL["BRW-CRED-002"]  # '*' with credentials: blocked
    wrong = type(case)(**{**case.__dict__, "expect": {**case.expect, "browser": "allowed", "stage": None}})
    assert table_view(wrong) != model_view(expected(wrong, PAGE, OTHER))


def test_substitute_fills_in_the_origins_only():
    rules = [{"AllowedOrigins": ["{page_origin}", "*", "{other_origin}"], "AllowedMethods": ["GET"]}]
    assert substitute(rules, PAGE, OTHER) == [{"AllowedOrigins": [PAGE, "*", OTHER], "AllowedMethods": ["GET"]}]
    assert rules[0]["AllowedOrigins"][0] == "{page_origin}"  # the table is not changed


# ---- the Fetch rules -------------------------------------------------------------------------------------

O = "http://127.0.0.1:8000"


@pytest.mark.parametrize("headers, include, problem", [
    ({"Access-Control-Allow-Origin": O}, False, None),
    ({"Access-Control-Allow-Origin": "*"}, False, None),
    ({}, False, "no Access-Control-Allow-Origin"),
    ([("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Origin", O)], False, "several"),
    ({"Access-Control-Allow-Origin": f"{O}, {O}"}, False, "several"),
    ({"Access-Control-Allow-Origin": "*"}, True, "'*' with credentials"),
    ({"Access-Control-Allow-Origin": O}, True, "without Access-Control-Allow-Credentials"),
    ({"Access-Control-Allow-Origin": O, "Access-Control-Allow-Credentials": "true"}, True, None),
    ({"Access-Control-Allow-Origin": "http://127.0.0.1:8001"}, False, "is not the page's origin"),
    ({"access-control-allow-origin": O}, False, None),
])
def test_cors_check(headers, include, problem):
    found = fetch.cors_check(headers, O, include)
    assert (found is None) if problem is None else (problem in found), found


@pytest.mark.parametrize("method, names, headers, include, ok", [
    ("PUT", [], {"Access-Control-Allow-Methods": "GET, PUT"}, False, True),
    ("DELETE", [], {"Access-Control-Allow-Methods": "GET, PUT"}, False, False),
    ("GET", ["x-amz-meta-a"], {"Access-Control-Allow-Methods": "PUT"}, False, False),  # header not allowed
    ("GET", [], {}, False, True),                                                      # safelisted method
    ("PUT", ["x-amz-meta-a"], {"Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-amz-meta-*"},
     False, False),                                                                    # no wildcards but '*'
    ("PUT", ["x-amz-meta-a"], {"Access-Control-Allow-Methods": "*", "Access-Control-Allow-Headers": "*"}, False, True),
    ("PUT", ["x-amz-meta-a"], {"Access-Control-Allow-Methods": "*", "Access-Control-Allow-Headers": "*"}, True, False),
    ("PUT", ["x-amz-meta-a"], {"Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "X-Amz-Meta-A"},
     False, True),
])
def test_preflight_check(method, names, headers, include, ok):
    headers = {"Access-Control-Allow-Origin": O, "Access-Control-Allow-Credentials": "true", **headers}
    assert (fetch.preflight_check(200, headers, O, method, names, include) is None) == ok


def test_preflight_needs_an_ok_status():
    assert "status 403" in fetch.preflight_check(403, {"Access-Control-Allow-Origin": "*"}, O, "PUT", [], False)


def test_preflight_rules():
    assert not fetch.needs_preflight("GET", {})
    assert not fetch.needs_preflight("POST", {"Content-Type": "text/plain;charset=UTF-8"})
    assert fetch.needs_preflight("POST", {"Content-Type": "application/json"})
    assert fetch.needs_preflight("PUT", {})
    assert fetch.needs_preflight("GET", {"x-amz-meta-a": "1"})
    assert fetch.unsafe_request_headers({"X-B": "1", "x-a": "2", "Accept": "*/*"}) == ["x-a", "x-b"]


def test_readable_headers():
    headers = {"Access-Control-Expose-Headers": "ETag, x-amz-meta-note"}
    asked = ["ETag", "X-Amz-Meta-Note", "Content-Type", "x-amz-request-id"]
    assert fetch.readable_headers(headers, False, asked) == ["content-type", "etag", "x-amz-meta-note"]
    assert fetch.readable_headers({}, False, asked) == ["content-type"]
    assert fetch.readable_headers({"Access-Control-Expose-Headers": "*"}, False, asked) == sorted(a.lower() for a in asked)
    assert fetch.readable_headers({"Access-Control-Expose-Headers": "*"}, True, asked) == ["content-type"]


def test_expected_verdict_of_a_conforming_server():
    rules = [model.Rule((O,), ("GET", "PUT"), ("x-amz-meta-*",), ("ETag",))]
    put = fetch.expected_verdict(rules, fetch.BrowserRequest("PUT", O, {"x-amz-meta-a": "1"}, True))
    assert (put.browser, put.preflight, put.stage) == ("allowed", True, None)
    delete = fetch.expected_verdict(rules, fetch.BrowserRequest("DELETE", O))
    assert (delete.browser, delete.stage) == ("blocked", "preflight")
    other = fetch.expected_verdict(rules, fetch.BrowserRequest("GET", "http://127.0.0.1:1"))
    assert (other.browser, other.preflight, other.stage) == ("blocked", False, "response")
    assert fetch.expected_verdict(None, fetch.BrowserRequest("GET", O)).browser == "blocked"


def test_verdict_from_exchanges():
    request = fetch.BrowserRequest("PUT", O, {"x-amz-meta-a": "1"})
    good = {"Access-Control-Allow-Origin": O, "Access-Control-Allow-Methods": "PUT",
            "Access-Control-Allow-Headers": "x-amz-meta-a"}
    assert fetch.verdict_from_exchanges(request, (200, good), {"Access-Control-Allow-Origin": O}).browser == "allowed"
    assert fetch.verdict_from_exchanges(request, None, None).stage == "preflight"
    assert fetch.verdict_from_exchanges(request, (200, good), None).stage == "response"


# ---- Chromium's DevTools log and the side-by-side report -----------------------------------------------

def _event(method, **params):
    return {"message": json.dumps({"message": {"method": method, "params": params}})}


def test_parse_network_keeps_the_endpoint_requests_and_raw_header_lines():
    messages = [
        _event("Network.requestWillBeSent", requestId="1", type="Preflight",
               request={"method": "OPTIONS", "url": "http://127.0.0.1:9000/b/k", "headers": {"Origin": O}}),
        _event("Network.responseReceivedExtraInfo", requestId="1", statusCode=200,
               headers={"Access-Control-Allow-Origin": f"{O}\n{O}"}),
        _event("Network.requestWillBeSent", requestId="2", type="Fetch",
               request={"method": "PUT", "url": "http://127.0.0.1:9000/b/k", "headers": {}}),
        _event("Network.loadingFailed", requestId="2", errorText="net::ERR_FAILED",
               corsErrorStatus={"corsError": "PreflightMultipleAllowOriginValues", "failedParameter": ""}),
        _event("Network.requestWillBeSent", requestId="3", type="Document",
               request={"method": "GET", "url": f"{O}/index.html", "headers": {}}),
    ]
    entries = parse_network(messages, "http://127.0.0.1:9000")
    assert [(e.kind, e.method, e.status) for e in entries] == [("preflight", "OPTIONS", 200), ("request", "PUT", None)]
    assert entries[0].response_headers == [("Access-Control-Allow-Origin", O), ("Access-Control-Allow-Origin", O)]
    assert entries[1].cors_error["corsError"] == "PreflightMultipleAllowOriginValues"


def _record(case_id, area, verdict, **observations):
    return {"id": case_id, "area": area, "outcome": verdict, "verdict": verdict, "reason": "", "observations":
            observations}


def test_link_related_puts_both_verdicts_side_by_side():
    records = {
        "ACT-HEAD-001": _record("ACT-HEAD-001", "ACT", "pass"),
        "PRE-HDR-001": _record("PRE-HDR-001", "PRE", "fail"),
        "BRW-HEAD-001": _record("BRW-HEAD-001", "BRW", "fail", related="ACT-HEAD-001",
                                browser={"verdict": "blocked", "expected": "allowed"}),
        "BRW-PUT-001": _record("BRW-PUT-001", "BRW", "fail", related="PRE-HDR-001",
                               browser={"verdict": "blocked", "expected": "allowed"}),
        "BRW-GET-001": _record("BRW-GET-001", "BRW", "pass", related="ACT-GET-001",
                               browser={"verdict": "allowed", "expected": "allowed"}),
    }
    disagreements = link_related(records)
    assert [d["case"] for d in disagreements] == ["BRW-HEAD-001"]
    head = records["BRW-HEAD-001"]["observations"]
    assert head["related_case"]["verdict"] == "pass" and head["side_by_side"]["agree"] is False
    assert records["BRW-PUT-001"]["observations"]["side_by_side"]["agree"] is True
    assert records["BRW-GET-001"]["observations"]["related_case"]["outcome"] == "not run in this session"
    lines = disagreement_lines(disagreements, 1)
    assert lines[0] == "browser vs header-level verdicts: 1 disagree"
    assert "refuses what the header-level case accepts" in lines[1]
    assert "BRW-HEAD-001: browser blocked (conforming: allowed) -> fail  |  ACT-HEAD-001: pass" in lines[2]
    assert "did not run: 1" in lines[-1]
    records["ACT-GET-001"] = _record("ACT-GET-001", "ACT", "fail")
    lines = disagreement_lines(link_related(records), 0)
    assert any("deviations the browser does not notice" in line for line in lines)
    assert any("BRW-GET-001: browser allowed (conforming: allowed) -> pass  |  ACT-GET-001: fail" in line
               for line in lines)
