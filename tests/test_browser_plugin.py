"""--browser as a user meets it: BRW cases deselected (and said so) without it, one clear error when no
Chromium is there, and a small real run whose records put the browser verdict beside the related case."""

from __future__ import annotations

import os

import pytest

from conformance.browser.driver import BrowserUnavailable, find_browser

EXIT_USAGE = 4


def _chromium_or_skip() -> None:
    try:
        find_browser()
    except BrowserUnavailable as exc:
        if os.environ.get("S3CORS_REQUIRE_CHROMIUM") == "1":  # CI installs it: a skip would hide a broken install
            pytest.fail(f"S3CORS_REQUIRE_CHROMIUM=1 but: {exc}")
        pytest.skip(f"no browser here: {exc}")


def test_without_browser_the_cases_are_deselected_and_the_terminal_says_so(suite):
    result, results = suite("--case", "BRW-GET-00*", "--case", "CFG-GET-001")
    out = result.stdout.str()
    assert result.ret == 0, out
    assert "browser cases (BRW): 3 not run (opt in with --browser)" in out
    assert [c["id"] for c in results["cases"]] == ["CFG-GET-001"]  # not reported as passed, nor at all


def test_only_browser_cases_without_browser_run_nothing(suite):
    result, _ = suite("--case", "BRW-*")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "not run (opt in with --browser)" in result.stdout.str()


def test_no_chromium_is_one_error_at_start(suite, tmp_path):
    result, results = suite("--browser", "--chromium", str(tmp_path / "no-chromium"), "--case", "BRW-*")
    err = result.stderr.str()
    assert result.ret == EXIT_USAGE, (result.ret, err)
    assert "Traceback" not in err + result.stdout.str()
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and "--chromium" in errors[0] and "no such executable" in errors[0], err
    assert results is None


def test_no_chromium_on_path_names_the_install_script(suite, monkeypatch, tmp_path):
    pytest.importorskip("selenium")  # without it the error names the Python package instead
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no chromium, whatever the machine has
    result, _ = suite("--browser", "--case", "BRW-*")
    err = result.stderr.str()
    assert result.ret == EXIT_USAGE, (result.ret, err)
    assert "no Chromium found" in err and "fixtures/browser/install.sh" in err, err


def test_a_browser_run_shows_both_verdicts(suite):
    _chromium_or_skip()
    result, results = suite("--browser", "--expectations", "none", "--case", "BRW-GET-002", "--case", "ACT-FETCH-001",
                            "--case", "BRW-CRED-003")
    out = result.stdout.str()
    records = {c["id"]: c for c in results["cases"]}
    assert set(records) == {"BRW-GET-002", "ACT-FETCH-001", "BRW-CRED-003"}, out
    brw = records["BRW-GET-002"]
    assert brw["verdict"] == "pass", brw["reason"]
    obs = brw["observations"]
    assert obs["browser"]["verdict"] == "allowed" and obs["browser"]["readable"] == ["content-type", "etag",
                                                                                     "x-amz-meta-note"]
    assert obs["related_case"]["id"] == "ACT-FETCH-001"
    assert obs["related_case"]["verdict"] == records["ACT-FETCH-001"]["verdict"]
    assert obs["side_by_side"]["related_verdict"] == records["ACT-FETCH-001"]["verdict"]
    assert any(e["note"].startswith("Chromium request") for e in brw["exchanges"])
    assert records["BRW-CRED-003"]["observations"]["related_case"]["outcome"] == "not run in this session"
    assert "X-Amz-Signature=<redacted>" in str(brw["exchanges"]) and "Signature=0" not in str(brw["exchanges"])
