"""The Fetch rules of conformance/browser/fetch.py against the real Chromium: a small server on 127.0.0.1
answers with crafted CORS headers (a second Access-Control-Allow-Origin, '*' with credentials, a requested header
missing from Access-Control-Allow-Headers, an unexposed header, a wildcard pattern echoed as configured...) and
Chromium's verdict must be the one the rules give. Skipped where Chromium is not installed."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from conformance.browser.driver import Browser, BrowserUnavailable, find_browser
from conformance.browser.fetch import BrowserRequest, verdict_from_exchanges
from conformance.browser.server import OriginServer
from suiterun import LoopbackServer, QuietHandler

ALLOW = "{origin}"
# name: (method, request headers, credentials include, read, preflight headers, actual headers)
SCENARIOS = {
    "echo": ("GET", {}, False, ["etag"], None, [("Access-Control-Allow-Origin", ALLOW)]),
    "star": ("GET", {}, False, [], None, [("Access-Control-Allow-Origin", "*")]),
    "none": ("GET", {}, False, [], None, []),
    "two-acao": ("GET", {}, False, [], None, [("Access-Control-Allow-Origin", ALLOW),
                                              ("Access-Control-Allow-Origin", ALLOW)]),
    "star-credentials": ("GET", {}, True, [], None, [("Access-Control-Allow-Origin", "*"),
                                                     ("Access-Control-Allow-Credentials", "true")]),
    "echo-no-acac": ("GET", {}, True, [], None, [("Access-Control-Allow-Origin", ALLOW)]),
    "echo-acac": ("GET", {}, True, [], None, [("Access-Control-Allow-Origin", ALLOW),
                                             ("Access-Control-Allow-Credentials", "true")]),
    "exposed": ("GET", {}, False, ["ETag", "x-amz-meta-note", "Content-Type", "x-amz-request-id"], None,
                [("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Expose-Headers", "ETag, x-amz-meta-note")]),
    "not-exposed": ("GET", {}, False, ["ETag", "Content-Type"], None, [("Access-Control-Allow-Origin", ALLOW)]),
    "put-ok": ("PUT", {"x-amz-meta-note": "1"}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "x-amz-meta-note")], [("Access-Control-Allow-Origin", ALLOW)]),
    "put-header-missing": ("PUT", {"x-amz-meta-note": "1"}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "PUT")],
        [("Access-Control-Allow-Origin", ALLOW)]),
    "put-header-pattern": ("PUT", {"x-amz-meta-note": "1"}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "PUT"),
        ("Access-Control-Allow-Headers", "x-amz-meta-*")], [("Access-Control-Allow-Origin", ALLOW)]),
    "put-method-missing": ("PUT", {}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "GET")],
        [("Access-Control-Allow-Origin", ALLOW)]),
    "put-preflight-403": ("PUT", {}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "PUT")],
        [("Access-Control-Allow-Origin", ALLOW)]),
    "put-actual-no-acao": ("PUT", {}, False, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Methods", "PUT")], []),
    "delete-credentials-star-methods": ("DELETE", {}, True, [], [
        ("Access-Control-Allow-Origin", ALLOW), ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "*")], [("Access-Control-Allow-Origin", ALLOW),
                                                ("Access-Control-Allow-Credentials", "true")]),
}
PREFLIGHT_STATUS = {"put-preflight-403": 403}


def _headers(lines, origin):
    return [(k, v.replace(ALLOW, origin)) for k, v in lines]


class _Fake(QuietHandler):
    origin = ""

    def _answer(self, preflight: bool) -> None:
        name = self.path.strip("/").split("?")[0]
        method, _, _, _, pre, act = SCENARIOS[name]
        lines = pre if preflight else act
        self.send_response(PREFLIGHT_STATUS.get(name, 200) if preflight else 200)
        for k, v in _headers(lines or [], self.origin):
            self.send_header(k, v)
        body = b"" if preflight or self.command == "HEAD" else b"ok\n"
        self.send_header("ETag", '"abc"')
        self.send_header("x-amz-meta-note", "1")
        self.send_header("x-amz-request-id", "r1")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self):
        self._answer(True)

    def do_GET(self):
        self._answer(False)

    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(False)

    def do_DELETE(self):
        self._answer(False)


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[Browser, OriginServer, str]]:
    try:
        chromium, driver = find_browser()
        browser = Browser(chromium, driver).start()
    except BrowserUnavailable as exc:
        if os.environ.get("S3CORS_REQUIRE_CHROMIUM") == "1":  # CI installs it: a skip would hide a broken install
            pytest.fail(f"S3CORS_REQUIRE_CHROMIUM=1 but: {exc}")
        pytest.skip(f"no browser here: {exc}")
    page = OriginServer().start()
    _Fake.origin = page.origin
    with LoopbackServer(_Fake) as fake:
        yield browser, page, fake.url
    page.stop()
    browser.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_chromium_decides_as_the_fetch_rules_say(setup, name):
    browser, page, endpoint = setup
    method, headers, include, read, pre, act = SCENARIOS[name]
    spec = {"api": "fetch", "method": method, "url": f"{endpoint}/{name}", "headers": headers,
            "credentials": "include" if include else "same-origin", "body": "x" if method == "PUT" else None,
            "read": read}
    run = browser.run(page.page_url, spec, endpoint)
    request = BrowserRequest(method, page.origin, headers, include, tuple(read))
    rules = verdict_from_exchanges(
        request, None if pre is None else (PREFLIGHT_STATUS.get(name, 200), _headers(pre, page.origin)),
        _headers(act, page.origin))
    assert run.result["verdict"] == rules.browser, (name, run.result, run.console, rules)
    assert (run.preflight() is not None) == rules.preflight, name
    if rules.browser == "allowed":
        readable = sorted(k for k, v in run.result["readable"].items() if v is not None)
        assert readable == list(rules.readable), (name, run.result)
    # xhr agrees with fetch
    xhr = browser.run(page.page_url, {**spec, "api": "xhr"}, endpoint)
    assert xhr.result["verdict"] == rules.browser, (name, xhr.result, xhr.console)
