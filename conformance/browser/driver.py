"""Debian's Chromium, headless and off the network, driven through Selenium and Debian's chromedriver.

Why Selenium + chromium-driver: Debian builds chromedriver from the same source as its chromium package and
ships both at the same version, so the driver always matches the browser, and neither downloads anything at
run time (Selenium Manager is not used: both paths are given, and SE_OFFLINE is set). Playwright would need a
Chromium build of its own, or a system Chromium of a version its CDP client was not made for.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

INSTALL_HINT = ("install it with: bash fixtures/browser/install.sh (as root: apt-get install chromium "
                "chromium-driver; pip install 's3-cors-conformance[browser]'), or give --chromium PATH")
CHROMIUM_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)
DRIVER_PLACES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

# Headless, no first-run work, and nothing that talks to the network on its own: every host name but the
# loopback ones fails to resolve, no proxy, no background services, no component or safe-browsing updates.
FLAGS = (
    "--headless=new",
    "--no-sandbox",                # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--safebrowsing-disable-auto-update",
    "--disable-features=OptimizationHints,MediaRouter,Translate,NetworkTimeServiceQuerying,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    "--password-store=basic",
    "--use-mock-keychain",
    "--window-size=800,600",
)


class BrowserUnavailable(Exception):
    """No usable Chromium, chromedriver or Selenium: the message says what is missing and how to install it."""


def _which(names, places=()) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in places if os.access(p, os.X_OK)), None)


def find_browser(chromium: str | None = None) -> tuple[str, str]:
    """(chromium, chromedriver) executables, or BrowserUnavailable with a clear message."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        raise BrowserUnavailable(f"--browser needs the Python package selenium; {INSTALL_HINT}") from None
    if chromium:
        path = shutil.which(chromium) or chromium
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise BrowserUnavailable(f"--chromium {chromium}: no such executable")
    else:
        path = _which(CHROMIUM_NAMES)
        if path is None:
            raise BrowserUnavailable(f"--browser: no Chromium found on PATH ({', '.join(CHROMIUM_NAMES)}); "
                                     f"{INSTALL_HINT}")
    driver = _which(DRIVER_NAMES, (str(Path(path).resolve().parent / "chromedriver"), *DRIVER_PLACES))
    if driver is None:
        raise BrowserUnavailable(f"--browser: Chromium is {path}, but no chromedriver was found "
                                 f"(Debian: apt-get install chromium-driver); {INSTALL_HINT}")
    return path, driver


@dataclass
class NetworkEntry:
    """One request Chromium made, from its DevTools network events."""

    request_id: str
    method: str = ""
    url: str = ""
    kind: str = ""                       # "preflight" or "request"
    request_headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    cors_error: dict | None = None


@dataclass
class Run:
    """What one request in the page gave: the page's result, console messages and the network entries."""

    result: dict[str, Any]
    console: list[str]
    network: list[NetworkEntry]

    def preflight(self) -> NetworkEntry | None:
        return next((e for e in self.network if e.kind == "preflight"), None)

    def request(self) -> NetworkEntry | None:
        return next((e for e in self.network if e.kind == "request"), None)


def _header_lines(raw: Any) -> list[tuple[str, str]]:
    """DevTools header objects join repeated lines with '\\n': split them back into lines."""
    out = []
    for name, value in (raw or {}).items():
        for line in str(value).split("\n"):
            out.append((name, line))
    return out


def parse_network(messages: list[dict], endpoint: str) -> list[NetworkEntry]:
    """Network entries towards the endpoint's host:port, in the order Chromium started them."""
    netloc = urlsplit(endpoint).netloc
    entries: dict[str, NetworkEntry] = {}
    extra: dict[str, list[tuple[str, str]]] = {}
    extra_status: dict[str, int] = {}
    for message in messages:
        try:
            event = json.loads(message["message"])["message"]
        except (KeyError, TypeError, ValueError):
            continue
        method, params = event.get("method", ""), event.get("params", {})
        rid = params.get("requestId")
        if rid is None:
            continue
        if method == "Network.requestWillBeSent":
            request = params.get("request", {})
            if urlsplit(request.get("url", "")).netloc != netloc:
                continue
            kind = "preflight" if params.get("type") == "Preflight" or request.get("method") == "OPTIONS" else "request"
            entries.setdefault(rid, NetworkEntry(rid, request.get("method", ""), request.get("url", ""), kind,
                                                 dict(request.get("headers", {}))))
        elif method == "Network.responseReceivedExtraInfo":
            extra[rid] = _header_lines(params.get("headers"))
            if params.get("statusCode"):
                extra_status[rid] = int(params["statusCode"])
        elif method == "Network.responseReceived" and rid in entries:
            response = params.get("response", {})
            entries[rid].status = response.get("status")
            entries[rid].response_headers = _header_lines(response.get("headers"))
        elif method == "Network.loadingFailed" and rid in entries:
            entries[rid].error = params.get("errorText")
            entries[rid].cors_error = params.get("corsErrorStatus")
        elif method == "Network.requestWillBeSentExtraInfo" and rid in entries:
            headers = params.get("headers")
            if headers:
                entries[rid].request_headers = dict(headers)
    for rid, entry in entries.items():
        if rid in extra:  # the raw lines as received, duplicates kept
            entry.response_headers = extra[rid]
        if entry.status is None and rid in extra_status:
            entry.status = extra_status[rid]
    return list(entries.values())


class Browser:
    """One headless Chromium (per pytest process), reused by every case of that process."""

    def __init__(self, chromium: str, chromedriver: str, *, page_timeout: float = 30.0) -> None:
        self.chromium, self.chromedriver = chromium, chromedriver
        self.page_timeout = page_timeout
        self.driver = None
        self.version = ""
        self._profile: tempfile.TemporaryDirectory | None = None

    def start(self) -> Browser:
        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.TemporaryDirectory(prefix="s3cors-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        log = open(os.devnull, "w")  # noqa: SIM115 - closed with the service
        try:
            self.driver = webdriver.Chrome(options=options, service=Service(self.chromedriver, log_output=log))
        except Exception as exc:
            self._profile.cleanup()
            raise BrowserUnavailable(f"could not start {self.chromium} with {self.chromedriver}: "
                                     f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}") from None
        self.driver.set_script_timeout(self.page_timeout)
        self.driver.set_page_load_timeout(self.page_timeout)
        self.version = self.driver.capabilities.get("browserVersion", "")
        return self

    def run(self, page_url: str, spec: dict[str, Any], endpoint: str) -> Run:
        """Load the page of an origin (fresh for every request) and run one request from it."""
        driver = self.driver
        driver.get(page_url)
        driver.get_log("browser")      # drop what the page load logged
        driver.get_log("performance")
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "window.s3corsRun(arguments[0]).then(done, (e) => done({verdict: 'error', error: String(e)}));", spec)
        console = [str(m.get("message", "")) for m in driver.get_log("browser")]
        network = parse_network(driver.get_log("performance"), endpoint)
        return Run(result or {"verdict": "error", "error": "the page returned nothing"}, console, network)

    def close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None
