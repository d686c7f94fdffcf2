"""Option values in both forms (--opt VALUE and --opt=VALUE), naming files and directories anywhere, also run
from the checkout (where pytest would otherwise take an existing path after a space for a test path and skip
pytest.ini); and a run that fails at collection writes no results.json."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from suiterun import clean_env

REPO = Path(__file__).resolve().parent.parent


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "--fuzz-examples=0", *args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("spaced", [True, False], ids=["space", "equals"])
def test_files_and_directories_outside_the_checkout(tmp_path, spaced):
    outside = tmp_path / "outside"
    outside.mkdir()
    profile = shutil.copy(REPO / "fixtures" / "targets" / "moto.toml", outside / "mine.toml")
    expectations = shutil.copy(REPO / "fixtures" / "expectations" / "moto.toml", outside / "known.toml")
    reports, allure = outside / "reports", outside / "allure"
    reports.mkdir()
    allure.mkdir()  # existing directories: the case pytest gets wrong without the plugin's help
    values = {"--target": profile, "--expectations": expectations, "--reports-dir": reports, "--alluredir": allure}
    args = [x for flag, v in values.items() for x in ((flag, str(v)) if spaced else (f"{flag}={v}",))]
    done = _pytest(REPO, *args, "--case", "CFG-GET-001")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"configfile: pytest.ini" in done.stdout, "pytest.ini of the checkout was read"
    results = json.loads((reports / "results.json").read_text())
    assert [c["id"] for c in results["cases"]] == ["CFG-GET-001"], "only the suite ran (not tests/)"
    assert results["target"]["name"] == "mine" and str(expectations) in str(results["options"]["expectations"])
    assert list(allure.glob("*-result.json")), "allure wrote its results where asked"


def test_a_run_that_fails_at_collection_writes_no_results(tmp_path):
    (tmp_path / "test_broken.py").write_text("import no_such_module_s3cors\n")
    reports = tmp_path / "reports"
    done = _pytest(tmp_path, "--pyargs", "conformance", "test_broken.py", f"--reports-dir={reports}",
                   "--case=CFG-GET-001")
    assert done.returncode == 2, done.stdout[-3000:]
    assert not (reports / "results.json").exists(), "a results.json of a run that never ran"
    assert "no results.json was written" in done.stdout
    assert not list((reports / ".journal").glob("*.log")) if (reports / ".journal").is_dir() else True
    assert not (tmp_path / ".pytest_cache").exists() and not (tmp_path / ".hypothesis").exists()


def test_listing_the_cases_starts_nothing_and_leaves_the_reports_alone(tmp_path):
    """pytest --collect-only lists the cases: no target is started and no report of an earlier run is replaced."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "results.json").write_text("{}")
    done = _pytest(tmp_path, "--pyargs", "conformance", "--collect-only", "-q", f"--reports-dir={reports}",
                   "--case=CFG-GET-001")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "CFG-GET-001" in done.stdout and "S3 CORS conformance" not in done.stdout
    assert (reports / "results.json").read_text() == "{}", "a listing overwrote the last run's results.json"
