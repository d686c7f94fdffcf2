"""--concurrency: bad values are one usage error (exit 4). That requests in flight together give the verdicts and
records of a run that sends one request after another is tested with the worker counts (test_parallel.py)."""

from __future__ import annotations

import pytest

from suiterun import clean_env, run_suite


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
