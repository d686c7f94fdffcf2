"""Interrupting a run (Ctrl-C to the process group, SIGTERM to the main process, with and without xdist)
leaves no bucket of the run behind, and never touches a bucket the run did not create."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from conformance.target.embedded import EmbeddedMoto
from conformance.target.polling import poll


@pytest.fixture
def moto_server():
    """A separately started moto server (like a user's own endpoint), on 127.0.0.1 and a free port."""
    server = EmbeddedMoto()
    url = server.start()
    yield url
    server.stop()


def _client(url: str):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                        aws_secret_access_key="s")


def _created(journal_dir: Path) -> int:
    return sum(p.read_text().count("+") for p in journal_dir.glob("*.log")) if journal_dir.is_dir() else 0


@pytest.mark.parametrize("how, xdist", [
    pytest.param("SIGINT-group", [], id="ctrl-c"),
    pytest.param("SIGTERM-main", [], id="sigterm"),
    pytest.param("SIGINT-group", ["-n", "2"], id="ctrl-c-xdist"),
    pytest.param("SIGTERM-main", ["-n", "2"], id="sigterm-xdist"),
])
def test_interrupted_run_leaves_nothing(moto_server, tmp_path, how, xdist):
    s3 = _client(moto_server)
    # Buckets that look like the suite's but are not this run's: they must survive. (moto's state is
    # per process, so buckets of earlier tests in this worker are there too: compare with a snapshot.)
    foreign = [f"s3cors-991231235959-abcdef-main-{n:04d}" for n in range(1, 3)] + [f"not-the-suite-{how.lower()}"]
    for name in foreign:
        s3.create_bucket(Bucket=name)
    before = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    env.update(AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance", "--endpoint-url", moto_server,
         "--expectations", "moto", f"--reports-dir={reports}", "-p", "no:cacheprovider", *xdist],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        started = poll(lambda: _created(reports / ".journal"), lambda n: n >= 6, timeout=60, first_interval=0.02)
        assert started >= 6, "the run did not start creating buckets"
        if how == "SIGINT-group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text  # pytest's "interrupted"
    assert "KeyboardInterrupt" in text or "Interrupted" in text, text[-3000:]
    names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    assert names == before, f"left behind: {sorted(names - before)}, removed: {sorted(before - names)}\n{text[-3000:]}"
    assert not list((reports / ".journal").glob("*.log")), "journal still lists pending buckets"


def test_keep_buckets_leaves_the_runs_buckets(moto_server, tmp_path):
    before = {b["Name"] for b in _client(moto_server).list_buckets().get("Buckets", [])}
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    env.update(AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance", "--endpoint-url", moto_server, "--keep-buckets",
         "--case", "CFG-RT-00[12]", f"--reports-dir={tmp_path / 'reports'}", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "buckets kept (--keep-buckets)" in done.stdout
    kept = {b["Name"] for b in _client(moto_server).list_buckets().get("Buckets", [])} - before
    assert len(kept) == 2 and all(n.startswith("s3cors-") for n in kept), kept
