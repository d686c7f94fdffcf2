"""BRW: what a real browser makes of the target's CORS headers. A headless Chromium loads a page the suite
serves on 127.0.0.1 and runs fetch() / XMLHttpRequest against the target; its verdict (allowed or blocked,
which response headers JavaScript can read) must be the one a conforming server leads to
(fixtures/cases/browser.toml; opt-in with --browser)."""

from __future__ import annotations

import re
from typing import Callable, Iterator

import pytest

from conformance.browser.driver import Browser, BrowserUnavailable, Run, find_browser
from conformance.browser.fetch import BrowserRequest, verdict_from_exchanges
from conformance.browser.server import OriginServer
from conformance.browser.table import browser_request, expected, substitute
from conformance.target.buckets import Buckets
from conformance.behaviour.tables import cases
from conformance.behaviour.checks import establishing
from conformance.errors import InfraError, ServerError, Unsupported
from conformance.target.http import S3
from conformance.cases.steps import as_multisets, get_rules, put_rules

BODY = "browser conformance object\n"
META = {"note": "brw"}
URL = re.compile(r"https?://[^\s'\"]+")


@pytest.fixture(scope="session")
def origins() -> Iterator[dict[str, OriginServer]]:
    """The page's origin and a second origin (another port) that no rule lists."""
    servers = {"page": OriginServer().start(), "other": OriginServer().start()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def browser(s3cors) -> Iterator[Browser]:
    """One headless Chromium per pytest process (found and checked at start-up by the plugin)."""
    if not s3cors.browser:
        raise Unsupported("browser cases need --browser")
    try:
        chromium, driver = find_browser(s3cors.chromium)
        started = Browser(chromium, driver, page_timeout=s3cors.request_timeout).start()
    except BrowserUnavailable as exc:
        raise InfraError(str(exc)) from None
    yield started
    started.close()


@pytest.fixture(scope="session")
def _browser_configs() -> dict:
    return {}


@pytest.fixture
def browser_bucket(case, check, s3: S3, buckets: Buckets, poll: Callable, origins, _browser_configs) -> str:
    """The bucket holding the row's configuration with the real page origins, one per configuration."""
    name = case.setup["config"]
    if name not in _browser_configs:
        rules = substitute(case.setup["rules"], origins["page"].origin, origins["other"].origin)
        bucket, problem = buckets.create(), None
        try:
            put = put_rules(s3, bucket, rules) if rules else None
        except ServerError as exc:  # a precondition of the browser cases, not their verdict
            put, problem = None, str(exc)
        if put is not None:
            if put.ok:
                poll(lambda: get_rules(s3, bucket),
                     lambda r: r.ok and as_multisets(r.data.get("CORSRules", [])) == as_multisets(rules))
            else:
                problem = f"PutBucketCors answered {put.status} {put.code}: {put.message}"
        _browser_configs[name] = (bucket, problem)
    bucket, problem = _browser_configs[name]
    check.precondition(problem is None, f"configuration {name!r}: {problem}")
    return bucket


def _record(s3: S3, run: Run, case_id: str) -> None:
    """Chromium's own requests (preflight and request, from its DevTools log) become the case's exchanges."""
    for entry in run.network:
        error = entry.error
        if entry.cors_error:
            error = f"{error or 'blocked'}: CORS error {entry.cors_error.get('corsError')}" + (
                f" ({entry.cors_error['failedParameter']})" if entry.cors_error.get("failedParameter") else "")
        s3.recorder.add(entry.method, entry.url, entry.request_headers.items(), None, status=entry.status,
                        response_headers=entry.response_headers, error=error,
                        note=f"Chromium {entry.kind} ({case_id})")


def _stage(run: Run) -> str | None:
    """Where Chromium stopped a blocked request, from the CORS error it logged."""
    if run.result.get("verdict") != "blocked":
        return None
    errors = [e.cors_error.get("corsError", "") for e in run.network if e.cors_error]
    preflight = run.preflight()
    if any("Preflight" in e for e in errors) or (preflight is not None and run.request() is not None
                                                  and run.request().status is None):
        return "preflight"
    return "response"


def _observed(run: Run, request: BrowserRequest):
    """The Fetch rules applied to the headers Chromium received."""
    pre, act = run.preflight(), run.request()
    return verdict_from_exchanges(
        request, (pre.status or 0, pre.response_headers) if pre is not None and pre.status is not None else None,
        act.response_headers if act is not None and act.status is not None else None)


@cases("BRW-*")
def test_browser_verdict(case, check, s3: S3, browser: Browser, origins, browser_bucket):
    send, expect = case.send, case.expect
    page, other = origins["page"], origins["other"]
    http = send["http"]
    headers = dict(send.get("headers", {}))
    key = f"brw/{case.id.lower()}.txt"
    if http != "PUT":  # GET, HEAD and DELETE need the object (put signed, without Origin)
        with establishing(f"PutObject {key}"):
            put = s3.api("put_object", Bucket=browser_bucket, Key=key, Body=BODY.encode(),
                         ContentType="text/plain", Metadata=META)
        check.precondition(put.ok, f"PutObject {key} answered {put.status} {put.code}")
    request = browser_request(case, page.origin, other.origin)
    spec = {"api": send.get("api", "fetch"), "method": http, "url": s3.presigned(http, browser_bucket, key, headers),
            "headers": headers, "credentials": send.get("credentials", "same-origin"),
            "body": BODY if http == "PUT" else None, "read": list(send.get("read", [])),
            "timeout_ms": int(s3.timeout * 1000)}
    served = origins["other" if send.get("from") == "other" else "page"]
    try:
        run = browser.run(served.page_url, spec, s3.endpoint)
    except Exception as exc:  # the browser itself failed, not the target
        raise InfraError(f"Chromium: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from None
    _record(s3, run, case.id)
    result = run.result
    if result.get("verdict") not in ("allowed", "blocked"):
        raise InfraError(f"the page could not run the request: {result.get('error')}")

    model = expected(case, page.origin, other.origin)
    readable = sorted(n for n, v in (result.get("readable") or {}).items() if v is not None)
    preflighted = run.preflight() is not None
    redact = s3.recorder.redactor
    check.observe("related", expect["related"])
    check.observe("browser", {
        "verdict": result["verdict"], "expected": expect["browser"], "status": result.get("status"),
        "preflight": preflighted, "stage": _stage(run), "readable": readable,
        "visible_headers": result.get("visible", []), "error": result.get("error"),
        "cors_errors": [e.cors_error for e in run.network if e.cors_error], "api": result.get("api"),
        "ms": result.get("ms"), "page_origin": served.origin, "chromium": browser.version})
    check.observe("model", model.public())
    check.observe("console", [URL.sub(lambda m: redact.url(m.group(0)), line) for line in run.console])

    check.must(result["verdict"] == expect["browser"], "the browser's verdict (allowed or blocked)",
               expect["browser"], result["verdict"])
    if expect["browser"] == "allowed" and result["verdict"] == "allowed" and send.get("read"):
        check.must(readable == expect.get("readable", []), "the response headers JavaScript can read",
                   expect.get("readable", []), readable)
    check.info(preflighted == expect["preflight"], "Chromium sent a preflight", expect["preflight"], preflighted)
    if expect["browser"] == "blocked" and result["verdict"] == "blocked":
        check.info(_stage(run) == expect.get("stage"), "where the browser stopped the request",
                   expect.get("stage"), _stage(run))
    derived = _observed(run, request)
    check.info(derived.browser == result["verdict"],
               "the Fetch rules applied to the headers Chromium received give its verdict",
               result["verdict"], derived.public())
