"""A killed xdist worker (SIGKILL: no cleanup of its own) leaves no bucket behind: the controller reads the
run's journal at the end and removes what the dead worker created. Buckets that look like the suite's but
are not the run's (another prefix, another run that is too recent to be a leftover) are not touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conformance.behaviour.tables import registry
from conformance.target.polling import poll
from suiterun import MotoServer, clean_env


def _children(pid: int) -> list[int]:
    """Direct child processes of pid (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _pending_by_worker(journal_dir: Path) -> dict[str, set[str]]:
    alive: dict[str, None] = {}
    for path in journal_dir.glob("*.log") if journal_dir.is_dir() else []:
        for line in path.read_text().splitlines():
            if line.startswith("+"):
                alive[line[1:]] = None
            elif line.startswith("-"):
                alive.pop(line[1:], None)
    by: dict[str, set[str]] = {}
    for name in alive:
        by.setdefault(name.split("-")[3], set()).add(name)
    return by


def test_sigkilled_worker_leaves_nothing_and_foreign_buckets_survive(tmp_path):
    reports = tmp_path / "reports"
    recent = time.strftime("%y%m%d%H%M%S", time.gmtime())  # a run that started just now: not a leftover
    foreign = [f"s3cors-{recent}-abcdef-gw0-0001", f"s3cors-{recent}-abcdef-gw1-0002",
               "s3cors-991231235959-abcdef-main-0001", "other-prefix-gw0-0001", "s3corsx-000000000000-abcdef-gw0-0001"]
    with MotoServer() as moto:
        for name in foreign:
            moto.client.create_bucket(Bucket=name)
        before = moto.names()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--pyargs", "conformance", f"--endpoint-url={moto.url}",
             "--target=moto-server", f"--reports-dir={reports}", "-p", "no:cacheprovider", "--fuzz-examples=0",
             "-n", "2", "--case=PRE-*", "--case=ACT-*", "--case=HDR-*"],
            cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            # Both workers hold buckets of their own (shared configurations live for the whole session).
            pending = poll(lambda: _pending_by_worker(reports / ".journal"),
                           lambda by: len(by.get("gw0", ())) >= 2 and len(by.get("gw1", ())) >= 2,
                           timeout=60, first_interval=0.02)
            assert len(pending.get("gw0", ())) >= 2 and len(pending.get("gw1", ())) >= 2, pending
            workers = _children(proc.pid)
            assert len(workers) == 2, workers
            victim = workers[0]
            os.kill(victim, signal.SIGKILL)
            output, _ = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        text = output.decode(errors="replace")
        after = moto.names()
    assert "crashed" in text, text[-3000:]
    assert proc.returncode == 1, text[-3000:]
    assert after == before, (f"left behind: {sorted(after - before)}; removed: {sorted(before - after)}\n"
                             f"{text[-3000:]}")
    assert set(foreign) <= after
    assert not list((reports / ".journal").glob("*.log")), "journal still lists pending buckets"
    assert "buckets left behind" not in text
    # Every selected case has exactly one record; the one the dead worker was running is an error.
    results = json.loads((reports / "results.json").read_text())
    ids = [c["id"] for c in results["cases"]]
    assert len(ids) == len(set(ids)) == len(registry().select(["PRE-*", "ACT-*", "HDR-*"]))
    crashed = [c for c in results["cases"] if "crashed" in c["reason"]]
    assert len(crashed) == 1 and crashed[0]["outcome"] == "error", crashed
    assert crashed[0]["reason"].startswith("infrastructure: worker"), crashed
    assert results["interrupted"] is True
