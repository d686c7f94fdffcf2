"""Shared helpers for the project's own tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """Run the conformance suite in a subprocess (as a user would); returns (result, results.json or None)."""
    for name in list(os.environ):
        if name.startswith("S3CORS_"):
            monkeypatch.delenv(name)
    reports = pytester.path / "reports"

    def run(*args: str, timeout: float = 300):
        result = pytester.runpytest_subprocess("--pyargs", "conformance", f"--reports-dir={reports}",
                                               "-p", "no:cacheprovider", *args, timeout=timeout)
        path = reports / "results.json"
        return result, (json.loads(path.read_text()) if path.is_file() else None)

    run.reports = reports
    return run
