"""A server's answer is a verdict, only silence is an error: a deterministic 5xx fails the case (and an
expectation entry naming that status and code matches it), while a connection failure is an error that no
expectation entry can match. The suite runs against moto behind tests/faultproxy.py."""

from __future__ import annotations

import pytest

from faultproxy import FaultProxy
from suiterun import MotoServer

OPTIONS_ONLY = dict(only=lambda head: head.startswith(b"OPTIONS "))


def _expectations(tmp_path, body: str) -> str:
    path = tmp_path / "expectations.toml"
    path.write_text(body, encoding="utf-8")
    return f"--expectations={path}"


CRASH_ENTRY = ('[PRE-METH-002]\noutcome = "fail"\nstatus = 500\ncode = "InternalError"\n'
               'reason = "the preflight crashes the server"\n')


@pytest.mark.parametrize(("entry", "outcome", "returncode"), [
    pytest.param(None, "fail", 1, id="no-entry-fail"),
    pytest.param(CRASH_ENTRY, "expected-fail", 0, id="entry-naming-the-answer"),
    pytest.param(CRASH_ENTRY.replace("InternalError", "ServiceFailure"), "fail", 1, id="entry-naming-another-code"),
    pytest.param(CRASH_ENTRY.replace('status = 500\ncode = "InternalError"\n', ""), "fail", 1,
                 id="entry-naming-no-server-error"),
])
def test_a_deterministic_500_is_a_fail(suite_run, tmp_path, entry, outcome, returncode):
    with MotoServer() as moto, FaultProxy(moto.url, http500=1.0, **OPTIONS_ONLY) as proxy:
        args = [_expectations(tmp_path, entry)] if entry else ["--expectations=none"]
        run = suite_run(tmp_path / "r", f"--endpoint-url={proxy.url}", "--target=moto-server",
                        "--case=PRE-METH-002", "--request-timeout=5", *args)
    assert proxy.counts["http500"] == 3, proxy.summary()  # retried, still there: the server's answer
    (record,) = run.cases.values()
    assert (record["outcome"], record["verdict"]) == (outcome, "fail"), record
    assert record["server_error"] == {"status": 500, "code": "InternalError"}, record
    assert "a 2xx or 4xx answer (not a server error)" in record["reason"], record
    assert "got '500 InternalError (We encountered an internal error." in record["reason"], record
    assert any(c["level"] == "MUST" and not c["ok"] and "server error" in c["what"] for c in record["checks"])
    assert run.returncode == returncode and "Traceback" not in run.output, run.output[-3000:]


@pytest.mark.parametrize("entry", [
    pytest.param('[VAL-EMPTY-002]\noutcome = "fail"\nstatus = 500\nreason = "crashes"\n', id="crash-entry"),
    pytest.param('[VAL-EMPTY-002]\noutcome = "fail"\nreason = "r"\n', id="fail-entry"),
])
def test_a_connection_failure_never_matches_an_expectation(suite_run, tmp_path, entry):
    """The issue's case: VAL-EMPTY-002's PutBucketCors connection reset every time (moto.toml records a 500
    for it) is an error, never an expected failure, and the run fails."""
    with MotoServer() as moto, FaultProxy(moto.url, reset=1.0, only=_put_cors_after_probe()) as proxy:
        run = suite_run(tmp_path / "r", f"--endpoint-url={proxy.url}", "--target=moto-server",
                        "--case=VAL-EMPTY-002", "--request-timeout=5", _expectations(tmp_path, entry))
    assert proxy.counts["reset"] == 3, proxy.summary()
    (record,) = run.cases.values()
    assert (record["outcome"], record["verdict"]) == ("error", "error"), record
    assert record["reason"].startswith("infrastructure:") and record["server_error"] is None, record
    assert record["expectation"] is not None  # the entry was there, and did not match
    assert run.returncode == 1 and "Traceback" not in run.output, run.output[-3000:]


def test_a_shipped_crash_entry_does_not_match_silence(suite_run, tmp_path):
    """The same with moto.toml itself (the profile's file), whose VAL-EMPTY-002 entry names the 500."""
    with MotoServer() as moto, FaultProxy(moto.url, reset=1.0, only=_put_cors_after_probe()) as proxy:
        run = suite_run(tmp_path / "r", f"--endpoint-url={proxy.url}", "--target=moto-server",
                        "--case=VAL-EMPTY-002", "--request-timeout=5")
    (record,) = run.cases.values()
    assert record["expectation"]["status"] == 500 and record["outcome"] == "error", record
    assert run.returncode == 1


def _put_cors_after_probe():
    """Matches PutBucketCors requests except the first (the start-up probe's)."""
    seen = []

    def match(head: bytes) -> bool:
        line = head.split(b"\r\n", 1)[0]
        if line.startswith(b"PUT ") and b"?cors" in line:
            seen.append(line)
            return len(seen) > 1
        return False
    return match
