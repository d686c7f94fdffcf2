"""Helpers for tests that run the suite as a user does, in a subprocess, against a server they started."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from conformance.target.embedded import EmbeddedMoto


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a run: no S3CORS_* twin leaks in from the caller; placeholder credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    env.update(AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    output: str
    results: dict | None
    reports: Path

    @property
    def cases(self) -> dict[str, dict]:
        return {c["id"]: c for c in (self.results or {}).get("cases", [])}


def run_suite(reports: Path, *args: str, timeout: float = 240, env: dict | None = None, cwd: Path | None = None) -> Run:
    """python -m pytest --pyargs conformance ARGS, with results in REPORTS; waits for the end."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance", f"--reports-dir={reports}",
         "-p", "no:cacheprovider", "--fuzz-examples=0", *args],
        cwd=cwd or reports.parent, env=env or clean_env(), capture_output=True, text=True, timeout=timeout)
    path = reports / "results.json"
    results = json.loads(path.read_text()) if path.is_file() else None
    return Run(done.returncode, done.stdout + done.stderr, results, reports)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that writes no access log."""

    def log_message(self, *args) -> None:
        pass


class LoopbackServer:
    """An HTTP server on 127.0.0.1 and a free port (url), answering with handler in threads of its own while the
    with-block runs."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class MotoServer:
    """moto's S3 server in this process (like a user's endpoint), with a plain boto3 client on it."""

    def __enter__(self) -> "MotoServer":
        self._server = EmbeddedMoto()
        self.url = self._server.start()
        self.client = boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                                   aws_access_key_id="k", aws_secret_access_key="s")
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop()

    def names(self) -> set[str]:
        return {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}


# What legitimately differs between two runs of the same cases: names and IDs made per run, times, workers,
# request IDs, dates, ports. Everything else of a case record must be equal.
_VOLATILE = [
    (re.compile(r"s3cors-\d{12}-[0-9a-f]{6}-(main|gw\d+|probe)-\d{4,}"), "<bucket>"),
    (re.compile(r"\d{12}-[0-9a-f]{6}"), "<run-id>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r"localhost:\d+"), "localhost:<port>"),         # privileged origins on the endpoint's port
    (re.compile(r"([?&]Expires=)\d+"), r"\1<expires>"),         # SigV2 presigned URLs: a time
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<date>"),
    (re.compile(r"\d{8}T\d{6}Z"), "<amz-date>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "<timestamp>"),
    (re.compile(r"/\d{8}/"), "/<day>/"),
    (re.compile(r"<(RequestId|HostId|UploadId)>[^<]*</"), r"<\1>…</"),
    (re.compile(r"<Buckets>.*</Buckets>", re.S), "<Buckets>…</Buckets>"),  # ListBuckets: every bucket there is
    (re.compile(r"([?&]uploadId=)[^&\s\"']+"), r"\1…"),
]
_VOLATILE_HEADERS = {"date", "x-amz-request-id", "x-amz-id-2", "x-amz-date", "authorization", "etag",
                     "last-modified", "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request",
                     "content-md5", "user-agent", "x-amzn-requestid", "server", "connection", "keep-alive",
                     "x-amz-checksum-crc32", "expires", "x-amz-expiration", "content-length"}
_VOLATILE_KEYS = {"nodeid", "worker", "duration_s", "ms", "request_id", "http_requests"}  # shared set-up lands anywhere


def _scrub_text(text: str) -> str:
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text


def normalise_record(record: dict) -> dict:
    """A case record with what may differ between equivalent runs (names, IDs, times, workers, and the
    set-up of per-worker shared buckets, which lands in whichever case runs first, ListBuckets listings, how
    often a poll repeated itself, whether a request was sent or a case run ahead: xdist workers do neither) normalised
    away."""
    exchanges = [_listing_masked(_when_unsaid(x)) for x in record.get("exchanges", [])
                 if not (x.get("note") or "").startswith("shared setup")]
    out = normalise({**record, "exchanges": [{k: v for k, v in x.items() if k != "seq"} for x in exchanges]})
    # Runs of identical exchanges are kept once: a poll that waits in vain for a change (CFG-DEL-003 on moto)
    # makes as many attempts as its deadline allows, which depends on the machine's load.
    kept: list[dict] = []
    for exchange in out["exchanges"]:
        if not kept or kept[-1] != exchange:
            kept.append(exchange)
    return {**out, "exchanges": kept}


_AHEAD = re.compile(r"^(sent|created|run) ahead(: |$)")


def _when_unsaid(exchange: dict) -> dict:
    """An exchange without the note that it was sent ahead of its case (when, not what, was sent)."""
    note = exchange.get("note") or ""
    return {**exchange, "note": _AHEAD.sub("", note)} if _AHEAD.match(note) else exchange


def _listing_masked(exchange: dict) -> dict:
    """A ListBuckets exchange with its listing masked: which buckets exist depends on what other workers do."""
    if exchange.get("method") != "GET" or urlsplit(exchange.get("url") or "").path not in ("", "/"):
        return exchange
    headers = [[h, "<listing>" if str(h).lower() == "content-length" else v]
               for h, v in exchange.get("response_headers") or []]
    return {**exchange, "response_body": "<listing>", "response_headers": headers}


def normalise(value):
    """A value with everything that may differ between equivalent runs replaced by placeholders."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _VOLATILE_KEYS:
                continue
            if k in ("request_headers", "response_headers") and isinstance(v, list):
                v = [[h, "<volatile>" if str(h).lower() in _VOLATILE_HEADERS else normalise(x)] for h, x in v]
            out[k] = normalise(v)
        return out
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value
