"""Shared helpers for the project's own tests."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from pathlib import Path

import pytest

import conformance.cases

pytest_plugins = ["pytester"]


def _import_once(names: list[str]) -> None:
    """Import what every in-process run of the suite needs, once per test process: pytester removes the
    modules a run imported when it ends, and importing moto and the case modules again is most of a small
    run's time."""
    for name in names:
        importlib.import_module(name)


_import_once(["boto3", "moto.moto_server.threaded_moto_server", "moto.moto_server.werkzeug_app", "moto.s3.models",
              "moto.s3.responses", "moto.sts.models", "moto.sts.responses",
              *(f"conformance.cases.{m.name}" for m in pkgutil.iter_modules(conformance.cases.__path__))])

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run the conformance suite in this process (pytester), as a user's command line would; returns
    (result, results.json or None). A test of something only a separate process shows (signals, killed
    workers, the installed package, exit of a separate server) uses a subprocess instead (tests/suiterun.py)."""
    for name in list(os.environ):
        if name.startswith("S3CORS_"):
            monkeypatch.delenv(name)
    reports = pytester.path / "reports"

    def run(*args: str):
        environ = dict(os.environ)
        try:
            result = pytester.runpytest_inprocess("--pyargs", "conformance", f"--reports-dir={reports}",
                                                  "-p", "no:cacheprovider", *args)
        finally:  # what a run sets in the environment (moto's switches) stays in that run
            os.environ.clear()
            os.environ.update(environ)
        path = reports / "results.json"
        return result, (json.loads(path.read_text()) if path.is_file() else None)

    run.reports = reports
    return run


@pytest.fixture
def suite_run(pytester: pytest.Pytester):
    """suiterun.run_suite's signature and result, run in this process (pytester): ENV (default clean_env()) is
    the run's whole environment, restored afterwards."""
    from suiterun import Run, clean_env

    def run(reports: Path, *args: str, env: dict | None = None) -> Run:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env or clean_env())
        try:
            result = pytester.runpytest_inprocess("--pyargs", "conformance", f"--reports-dir={reports}",
                                                  "-p", "no:cacheprovider", "--fuzz-examples=0", *args)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        path = reports / "results.json"
        results = json.loads(path.read_text()) if path.is_file() else None
        return Run(int(result.ret), result.stdout.str() + "\n" + result.stderr.str(), results, reports)

    return run
