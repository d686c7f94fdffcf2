"""Fault injection: the suite against moto behind a proxy that resets connections, answers 503 SlowDown,
delays and stalls requests at fixed rates with a fixed seed. Every verdict equals the clean run's, except
cases that became error because their retries ran out; none flips to fail or to pass. Nothing is left
behind, and the evidence shows the retries."""

from __future__ import annotations

import pytest

from faultproxy import FaultProxy
from suiterun import MotoServer

SEED = 20261127
RATES = {"reset": 0.04, "http503": 0.04, "delay": 0.04, "stall": 0.005}
# The moto-server profile (capabilities, account, moto.toml), pointed at the proxy; every case but the
# generated properties (--fuzz-examples=0). Two workers keep the faulty run short (backoff waits add up).
ARGS = ("--target=moto-server", "--request-timeout=2", "-n", "2")


def _retries_ran_out(record: dict) -> bool:
    return record["outcome"] == "error" and record["reason"].startswith("infrastructure:") and (
        "attempts" in record["reason"])


def test_faults_change_no_verdict_but_to_error(suite_run, tmp_path):
    with MotoServer() as moto, FaultProxy(moto.url, seed=SEED, delay_s=0.1, **RATES) as proxy:
        proxy.enabled = False
        clean = suite_run(tmp_path / "clean", f"--endpoint-url={proxy.url}", *ARGS)
        assert clean.returncode == 0, clean.output[-3000:]
        assert "error" not in {c["outcome"] for c in clean.cases.values()}

        proxy.enabled = True
        faulty = suite_run(tmp_path / "faulty", f"--endpoint-url={proxy.url}", *ARGS)
        proxy.enabled = False
        leftover = {n for n in moto.names() if faulty.results and faulty.results["run_id"] in n}

    out = faulty.output
    assert faulty.results is not None, out[-3000:]
    injected = proxy.counts
    for fault in ("reset", "http503", "delay"):
        assert injected[fault] > 0, proxy.summary()
    assert set(faulty.cases) == set(clean.cases), "the same cases ran"

    errors = []
    for case_id, before in clean.cases.items():
        after = faulty.cases[case_id]
        if after["outcome"] == before["outcome"] and after["verdict"] == before["verdict"]:
            continue
        assert _retries_ran_out(after), (f"{case_id} flipped from {before['outcome']} to {after['outcome']}: "
                                         f"{after['reason']}")
        errors.append(case_id)
    # The run fails only because of those errors (they are no expected deviation).
    assert faulty.returncode == (1 if errors else 0), out[-3000:]
    assert "Traceback" not in out

    notes = [x["note"] or "" for c in faulty.cases.values() for x in c["exchanges"]]
    assert any("(attempt 2)" in n for n in notes), "no retry recorded in the evidence"
    assert any("boto3" in n and "(attempt 2)" in n for n in notes), "no boto3 retry recorded"
    assert any(x["error"] for c in faulty.cases.values() for x in c["exchanges"]), "no failed attempt recorded"

    assert not leftover, f"left behind: {sorted(leftover)}"
    assert "buckets left behind" not in out
    assert not list((tmp_path / "faulty" / ".journal").glob("*.log"))
    print(f"\nfaults: {proxy.summary()}; {len(errors)} of {len(clean.cases)} cases became error: {errors}")


@pytest.mark.parametrize("fault", ["reset", "http503"])
def test_a_request_that_always_fails_is_an_error_with_its_attempts_in_the_evidence(suite_run, tmp_path, fault):
    """Every preflight fails (the probe and the setup go through): the case is an error, never a fail, and
    each attempt of the request under test is in its evidence."""
    with MotoServer() as moto, FaultProxy(moto.url, only=lambda head: head.startswith(b"OPTIONS "),
                                          **{fault: 1.0}) as proxy:
        run = suite_run(tmp_path / "r", f"--endpoint-url={proxy.url}", "--target=moto-server",
                        "--case=PRE-METH-002", "--request-timeout=2")
        left = {n for n in moto.names() if run.results and run.results["run_id"] in n}
    assert proxy.counts[fault] == 3, proxy.summary()
    (record,) = run.cases.values()
    assert record["outcome"] == "error", record
    assert record["reason"].startswith("infrastructure:") and "after 3 attempts" in record["reason"], record
    notes = [x["note"] for x in record["exchanges"]]
    assert any("(attempt 3)" in n for n in notes), notes
    assert run.returncode == 1 and "Traceback" not in run.output, run.output[-3000:]
    assert not left


def test_boto3_setup_call_that_always_fails_is_an_error_not_a_fail(suite_run, tmp_path):
    """PutBucketCors of a case's setup answered 503 SlowDown every time: boto3 retries (each attempt in the
    evidence), then the case is an error."""
    with MotoServer() as moto, FaultProxy(moto.url, http503=1.0, only=_put_cors_after_probe()) as proxy:
        run = suite_run(tmp_path / "r", f"--endpoint-url={proxy.url}", "--target=moto-server",
                        "--case=PRE-METH-002", "--request-timeout=2")
        left = {n for n in moto.names() if run.results and run.results["run_id"] in n}
    (record,) = run.cases.values()
    assert record["outcome"] == "error", record
    assert "put_bucket_cors" in record["reason"] and "503 SlowDown after 3 attempts" in record["reason"], record
    notes = [x["note"] for x in record["exchanges"]]
    assert "shared setup: boto3 PutBucketCors (attempt 3)" in notes, notes
    assert run.returncode == 1 and "Traceback" not in run.output, run.output[-3000:]
    assert not left


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
