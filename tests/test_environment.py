"""The environment's proxy and CA bundle settings are read once: a request (also one sent ahead, in another
thread) never iterates os.environ, which pytest changes for every test; and the settings mean what they meant to
requests."""

from __future__ import annotations

import os
import threading

import pytest
import requests

from conformance.target.environment import HttpEnvironment
from conformance.target.recorder import Recorder
from conformance.target.redact import Redactor
from suiterun import LoopbackServer, QuietHandler

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                    "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD")

URLS = ["http://127.0.0.1:9000/b/k", "http://10.1.2.3/b", "https://s3.example.com/b/k",
        "https://bucket.s3.example.com/k", "http://s3.example.com:9000/b", "https://other.example.org/",
        "http://localhost:8000/x", "https://example.com/"]

ENVIRONMENTS = [
    {},
    {"http_proxy": "http://proxy:3128", "https_proxy": "http://proxy:3129"},
    {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"},
    {"all_proxy": "http://all:1", "no_proxy": "localhost,127.0.0.1"},
    {"http_proxy": "http://p:1", "https_proxy": "http://p:2", "no_proxy": "10.0.0.0/8, .example.com"},
    {"https_proxy": "http://p:2", "NO_PROXY": "s3.example.com"},
    {"http_proxy": "http://p:1", "no_proxy": "s3.example.com:9000"},
    {"http_proxy": "http://p:1", "https_proxy": "http://p:2", "no_proxy": "*"},
    {"http_proxy": "http://p:1", "REQUEST_METHOD": "GET"},  # CGI: HTTP_PROXY may come from a request header
]


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environ", ENVIRONMENTS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()) or "none")
def test_proxies_are_those_requests_would_take(monkeypatch, environ):
    _clean(monkeypatch)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = HttpEnvironment.read()
    for url in URLS:
        expected = {k: v for k, v in requests.utils.get_environ_proxies(url).items() if k != "no"}
        assert settings.proxies_for(url) == expected, url


def test_ca_bundle_of_the_environment_replaces_only_the_default(monkeypatch):
    _clean(monkeypatch)
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/curl.pem")
    assert HttpEnvironment.read().verify(True) == "/etc/curl.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/requests.pem")
    settings = HttpEnvironment.read()
    assert settings.verify(True) == "/etc/requests.pem"
    assert settings.verify(False) is False and settings.verify("/mine.pem") == "/mine.pem"
    _clean(monkeypatch)
    assert HttpEnvironment.read().verify(True) is True


class _Proxy(QuietHandler):
    """A stand-in HTTP proxy: answers every OPTIONS 200 and says which request target it got."""

    def do_OPTIONS(self):  # noqa: N802 - the http.server hook
        self.send_response(200)
        self.send_header("X-Target", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_request_goes_through_the_proxy_without_reading_the_environment(monkeypatch):
    """The proxy named in the environment when the client was built carries the request; meanwhile iterating
    os.environ fails (as it does when pytest removes PYTEST_CURRENT_TEST in the middle), and nothing notices."""
    from conformance.target.http import S3
    from conformance.target.profiles import Credentials, Settings, resolve_target

    _clean(monkeypatch)
    with LoopbackServer(_Proxy) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        target, _ = resolve_target(Settings(endpoint_url="http://s3.example.invalid:9000"))
        s3 = S3(target, Credentials("k", "s"), Recorder(Redactor()))

        def changing(self):
            raise KeyError("PYTEST_CURRENT_TEST")

        monkeypatch.setattr(type(os.environ), "__iter__", changing)
        answers = [s3.preflight("bucket", "key", "https://a.example", "GET")]

        def ahead():
            answers.append(s3.preflight("bucket", "k2", "https://a.example", "GET"))

        other = threading.Thread(target=ahead)
        other.start()
        other.join(30)
        monkeypatch.undo()
    assert [answer.status for answer in answers] == [200, 200]
    assert [answer.header("X-Target") for answer in answers] == [
        "http://s3.example.invalid:9000/bucket/key", "http://s3.example.invalid:9000/bucket/k2"]
