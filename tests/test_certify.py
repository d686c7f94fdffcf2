"""Certification mode: it refuses expectation files and deselection, writes a bundle with a manifest, and
`verify` names the file that changed; a certification run writes no credential anywhere."""

from __future__ import annotations

import json
import os

import pytest

from conformance.reports.certify import main as verify_main
from conformance.reports.certify import verify, write_bundle

PRODUCT = ["--vendor=ACME", "--product=Object Store", "--product-version=1.2.3"]


@pytest.mark.parametrize("args, words", [
    (["--expectations=moto"], "--expectations moto"),
    (["--case=CFG-*"], "--case CFG-*"),
    (["-k", "GET"], "-k 'GET'"),
    (["-m", "must"], "-m 'must'"),
    (["-x"], "--maxfail"),
    (["--deselect", "conformance/cases/test_preflight.py::test_preflight_matching"], "--deselect"),
])
def test_certify_refuses_anything_that_leaves_a_case_out(suite, args, words):
    result, results = suite("--certify", *PRODUCT, *args)
    err = result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, err
    assert "--certify runs every case with no expectation file" in err and words in err
    assert results is None, "nothing ran"


def test_certify_needs_the_product(suite):
    result, _ = suite("--certify", "--vendor=ACME")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--certify needs --product, --product-version" in result.stderr.str()


def _reports(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    cases = [{"id": "CFG-GET-001", "area": "CFG", "level": "MUST", "title": "t", "source": "s", "outcome": "pass",
              "verdict": "pass", "reason": "", "checks": [{"level": "MUST", "what": "w", "ok": True,
                                                           "expected": 404, "actual": 404}],
              "exchanges": [{"method": "GET", "url": "http://127.0.0.1:1/b?cors", "request_headers": [],
                             "status": 404, "response_headers": [], "response_body": "<Error/>"}]}]
    (reports / "results.json").write_text(json.dumps({"cases": cases, "summary": {"by_outcome": {"pass": 1}},
                                                      "target": {"name": "t"}}))
    (reports / "junit.xml").write_text("<testsuites/>")
    (reports / "report.html").write_text("<html></html>")
    return reports


def test_bundle_and_verify(tmp_path, capsys):
    bundle = tmp_path / "bundle"
    reports = _reports(tmp_path)
    info = write_bundle(bundle, reports, json.loads((reports / "results.json").read_text()),
                        {"vendor": "A", "product": "B", "version": "1"},
                        {"CFG-GET-001", "CFG-GET-002"})
    assert info["complete"] is False and info["not_run"] == ["CFG-GET-002"]
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert names == {"MANIFEST.sha256", "product.json", "results.json", "junit.xml", "report.html",
                     "evidence/CFG-GET-001.txt"}
    assert "GET http://127.0.0.1:1/b?cors" in (bundle / "evidence" / "CFG-GET-001.txt").read_text()
    assert verify(bundle) == [] and verify_main([str(bundle)]) == 0
    (bundle / "junit.xml").write_text("<testsuites tests='1'/>")
    (bundle / "extra.txt").write_text("added")
    (bundle / "report.html").unlink()
    problems = verify(bundle)
    assert "junit.xml: changed (SHA-256 differs from the manifest)" in problems
    assert "report.html: missing" in problems
    assert "extra.txt: not in the manifest (added after the run)" in problems
    assert verify_main([str(bundle)]) == 1
    assert verify_main([str(tmp_path / "nope")]) == 2 and verify_main([]) == 2


MARKERS = {"AWS_ACCESS_KEY_ID": "AKIAMARKERCERTIFY0001", "AWS_SECRET_ACCESS_KEY": "markerCertifySecret/0123456789abcdefXYZ",
           "AWS_SESSION_TOKEN": "markerCertifyToken+0987654321zyxwvu"}


def test_certification_run_bundle_and_no_secret(suite, monkeypatch):
    """A whole certification run (every case, browser cases included) against the embedded default."""
    if os.environ.get("S3CORS_REQUIRE_CHROMIUM") != "1":
        from conformance.browser.driver import BrowserUnavailable, find_browser

        try:
            find_browser()
        except BrowserUnavailable as exc:
            pytest.skip(f"a certification runs the browser cases: {exc}")
    for name, value in MARKERS.items():
        monkeypatch.setenv(name, value)
    bundle = suite.reports / "bundle"
    result, results = suite("--certify", *PRODUCT, f"--bundle-dir={bundle}", f"--alluredir={suite.reports / 'allure'}",
                            "-n", "2")
    out = result.stdout.str() + result.stderr.str()
    assert results is not None, out
    info = json.loads((bundle / "product.json").read_text())
    assert info["complete"] and info["product"]["vendor"] == "ACME", info
    assert results["options"]["expectations"] in (None, "none")
    assert not any(r["outcome"] in ("expected-fail", "unexpected-pass") for r in results["cases"])
    assert verify(bundle) == []
    assert "certification bundle (complete)" in out
    for path in [p for p in suite.reports.rglob("*") if p.is_file()]:
        text = path.read_text(errors="replace")
        for value in MARKERS.values():
            assert value not in text, f"{value} leaked into {path}"
    for value in MARKERS.values():
        assert value not in out
