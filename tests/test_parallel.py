"""Parallel runs agree: one request at a time (--concurrency 1), requests in flight together (the default),
-n 2 and -n 4 give the same verdicts and the same results.json case records
(ordering aside, and with what legitimately differs normalised: bucket names, run IDs, times, workers,
dates, request IDs, per-worker shared set-up), against the embedded moto and against s3rver; two runs against
one endpoint at the same time do not interfere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from suiterun import MotoServer, clean_env, normalise_record


def _s3rver_installed() -> bool:
    home = os.environ.get("S3CORS_SERVERS_HOME") or str(Path.home() / ".cache" / "s3cors-servers")
    return shutil.which("node") is not None and Path(home, "s3rver", ".installed").is_file()


@pytest.mark.parametrize("target", [
    "moto",
    pytest.param("s3rver", marks=pytest.mark.skipif(not _s3rver_installed(), reason="s3rver is not installed "
                                                    "(bash fixtures/servers/s3rver/install.sh)")),
])
def test_worker_counts_and_concurrency_give_identical_records(suite_run, tmp_path, target):
    """One request after another in one process is the base; requests in flight together (the default
    --concurrency), and that with -n 2 and -n 4, give the same verdicts and records."""
    forms = {"sequential": ["--concurrency=1"], "default": [], "-n 2": ["-n", "2"], "-n 4": ["-n", "4"]}
    runs = {name: suite_run(tmp_path / name.replace(" ", ""), f"--target={target}", *args)
            for name, args in forms.items()}
    for name, run in runs.items():
        assert run.results is not None and run.returncode == 0, f"{name}:\n{run.output[-3000:]}"
    assert runs["sequential"].results["options"]["concurrency"] == 1
    assert runs["default"].results["options"]["concurrency"] > 1, "the default sends requests together"
    base = runs["sequential"].cases
    assert base and "error" not in {c["outcome"] for c in base.values()}
    for name in ("default", "-n 2", "-n 4"):
        other = runs[name].cases
        assert sorted(other) == sorted(base), f"{name} ran other cases"
        verdicts = {k: (c["outcome"], c["verdict"]) for k, c in other.items()}
        assert verdicts == {k: (c["outcome"], c["verdict"]) for k, c in base.items()}, f"{name}: verdicts differ"
        if name.startswith("-n"):
            assert len({c["worker"] for c in other.values()}) > 1, f"{name} ran everything on one worker"
        differ = [k for k in base if normalise_record(base[k]) != normalise_record(other[k])]
        assert not differ, f"{name}: case records differ: {differ}"
        for record in other.values():  # evidence numbered in the order kept
            assert [x.get("seq") for x in record["exchanges"]] == list(range(1, len(record["exchanges"]) + 1))
        assert runs[name].results["summary"] == runs["sequential"].results["summary"]


def test_two_runs_against_one_endpoint_at_once_do_not_interfere(tmp_path):
    args = ["--target=moto-server", "-p", "no:cacheprovider", "--fuzz-examples=0"]
    with MotoServer() as moto:
        before = moto.names()
        procs = [subprocess.Popen([sys.executable, "-m", "pytest", "--pyargs", "conformance",
                                   f"--endpoint-url={moto.url}", f"--reports-dir={tmp_path / name}", *args, *extra],
                                  cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for name, extra in (("a", ["-n", "2"]), ("b", []))]
        try:
            outputs = [p.communicate(timeout=240)[0].decode(errors="replace") for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        after = moto.names()
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]
    import json

    a, b = (json.loads((tmp_path / name / "results.json").read_text()) for name in ("a", "b"))
    assert a["run_id"] != b["run_id"]
    va = {c["id"]: (c["outcome"], c["verdict"]) for c in a["cases"]}
    vb = {c["id"]: (c["outcome"], c["verdict"]) for c in b["cases"]}
    assert va == vb
    assert after == before, f"left behind: {sorted(after - before)}"
