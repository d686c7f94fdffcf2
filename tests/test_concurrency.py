"""--concurrency: requests in flight together give the verdicts and the case records (exchanges in the same
order, with what legitimately differs normalised) of a run that sends one request after another, against the
embedded moto and s3rver, also combined with -n 2; bad values are one usage error (exit 4)."""

from __future__ import annotations

import pytest

from suiterun import clean_env, normalise_record, run_suite
from test_parallel import _s3rver_installed


def _comparable(record: dict) -> dict:
    """A normalised record with runs of identical exchanges kept once: a poll that waits in vain for a change
    (CFG-DEL-003 on moto) makes as many attempts as its deadline allows, which depends on the machine's load."""
    out = normalise_record(record)
    kept: list[dict] = []
    for exchange in out["exchanges"]:
        if not kept or kept[-1] != exchange:
            kept.append(exchange)
    return {**out, "exchanges": kept}


@pytest.mark.parametrize("target", [
    "moto",
    pytest.param("s3rver", marks=pytest.mark.skipif(not _s3rver_installed(), reason="s3rver is not installed "
                                                    "(bash fixtures/servers/s3rver/install.sh)")),
])
def test_concurrent_runs_match_a_sequential_one(tmp_path, target):
    runs = {name: run_suite(tmp_path / name, f"--target={target}", *args) for name, args in (
        ("sequential", ["--concurrency=1"]), ("default", []), ("default-n2", ["-n", "2"]))}
    for name, run in runs.items():
        assert run.results is not None and run.returncode == 0, f"{name}:\n{run.output[-3000:]}"
    assert runs["sequential"].results["options"]["concurrency"] == 1
    assert runs["default"].results["options"]["concurrency"] > 1, "the default sends requests together"
    base = runs["sequential"].cases
    assert base and "error" not in {c["outcome"] for c in base.values()}
    for name in ("default", "default-n2"):
        other = runs[name].cases
        assert sorted(other) == sorted(base), f"{name} ran other cases"
        verdicts = {k: (c["outcome"], c["verdict"]) for k, c in other.items()}
        assert verdicts == {k: (c["outcome"], c["verdict"]) for k, c in base.items()}, f"{name}: verdicts differ"
        differ = [k for k in base if _comparable(base[k]) != _comparable(other[k])]
        assert not differ, f"{name}: case records differ: {differ}"
        for record in other.values():  # evidence numbered in the order kept
            assert [x.get("seq") for x in record["exchanges"]] == list(range(1, len(record["exchanges"]) + 1))
        assert runs[name].results["summary"] == runs["sequential"].results["summary"]


@pytest.mark.parametrize("args, env, message", [
    (["--concurrency=0"], {}, "--concurrency: must be a whole number from 1 to 64, not 0"),
    (["--concurrency=65"], {}, "--concurrency: must be a whole number from 1 to 64, not 65"),
    (["--concurrency=many"], {}, "argument --concurrency: invalid int value: 'many'"),
    ([], {"S3CORS_CONCURRENCY": "many"}, "S3CORS_CONCURRENCY='many': not a number"),
    ([], {"S3CORS_CONCURRENCY": "0"}, "--concurrency: must be a whole number from 1 to 64, not 0"),
])
def test_bad_concurrency_is_one_usage_error(tmp_path, args, env, message):
    run = run_suite(tmp_path / "reports", "--case=CFG-GET-001", *args, env=clean_env(**env))
    assert run.returncode == 4, run.output[-2000:]
    assert message in run.output and "Traceback" not in run.output
    assert run.results is None
