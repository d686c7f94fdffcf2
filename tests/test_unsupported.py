"""A target without bucket CORS (like community MinIO, which answers PutBucketCors with NotImplemented) gets
every case reported as unsupported, never as failed: checked with a small stand-in server."""

from __future__ import annotations

import pytest

from suiterun import LoopbackServer, QuietHandler

NOT_IMPLEMENTED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                   b"<Message>A header you provided implies functionality that is not implemented</Message></Error>")


class _StandIn(QuietHandler):
    """CreateBucket and DeleteBucket work; everything about CORS answers 501 NotImplemented."""

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_PUT(self):  # noqa: N802 (http.server's naming)
        self._drain()
        self._answer(200) if "?" not in self.path else self._answer(501, NOT_IMPLEMENTED)

    def do_DELETE(self):  # noqa: N802
        self._answer(204) if "?" not in self.path else self._answer(501, NOT_IMPLEMENTED)

    def do_GET(self):  # noqa: N802
        self._answer(501, NOT_IMPLEMENTED)

    do_OPTIONS = do_HEAD = do_POST = do_GET


@pytest.fixture
def stand_in():
    with LoopbackServer(_StandIn) as server:
        yield server.url


def test_not_implemented_makes_every_case_unsupported(suite, stand_in, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "stand-in-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "stand-in-secret")
    result, results = suite("--endpoint-url", stand_in, "--case", "CFG-*", "--case", "PRE-SEL-*", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    outcomes = {c["id"]: c["outcome"] for c in results["cases"]}
    assert outcomes and set(outcomes.values()) == {"unsupported"}, outcomes
    assert all("NotImplemented" in c["reason"] for c in results["cases"])
    assert "failed" not in result.stdout.str()


def test_profile_can_declare_bucket_cors_absent(suite, tmp_path, stand_in, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "stand-in-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "stand-in-secret")
    profile = tmp_path / "nocors.toml"
    profile.write_text(f'description = "no bucket CORS"\nendpoint_url = "{stand_in}"\n'
                       "[capabilities]\nbucket_cors = false\n")
    result, results = suite("--target", str(profile), "--case", "VAL-LIM-*")
    assert result.ret == 0
    assert {c["outcome"] for c in results["cases"]} == {"unsupported"}
    assert all("profile" in c["reason"] for c in results["cases"])
