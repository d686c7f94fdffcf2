"""Allure results under pytest-xdist: one result per case with the suite's labels, verdict text, a step per
HTTP exchange with the request and response attached, environment.properties and categories.json."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

from conformance.behaviour.sources import spec_index, spec_uri


def test_allure_results_under_xdist(suite):
    allure_dir = suite.reports / "allure"
    allure_dir.mkdir(parents=True)
    (allure_dir / "stale-result.json").write_text("{}")  # from an earlier run: --clean-alluredir removes it
    result, results = suite("--case=CFG-GET-*", "--case=ACT-GET-*", "--case=ACT-ERR-003", "-n", "2",
                            f"--alluredir={allure_dir}", "--clean-alluredir")
    assert result.ret == 0, result.stdout.str()
    assert not (allure_dir / "stale-result.json").exists()
    found = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    by_id = {}
    for r in found:
        labels = {}
        for label in r["labels"]:
            labels.setdefault(label["name"], []).append(label["value"])
        by_id[labels["as_id"][0]] = (r, labels)
    assert sorted(by_id) == sorted(c["id"] for c in results["cases"]), "one Allure result per case"

    r, labels = by_id["ACT-GET-001"]  # a deviation recorded in moto.toml
    assert r["name"].startswith("ACT-GET-001: ")
    assert labels["severity"] == ["critical"] and labels["epic"] == ["S3 CORS conformance"]
    assert labels["feature"] == ["ACT: Actual cross-origin requests"]
    assert r["status"] == "skipped" and r["statusDetails"]["message"].startswith("expected-fail: ")
    assert any(link["name"] == "LS-SNAP" and link["url"].startswith("https://github.com/") for link in r["links"])
    spec = [link for link in r["links"] if link["name"].startswith("spec \u00a7")]
    assert spec and all(link["url"].startswith(spec_uri() + "#") for link in spec), r["links"]
    anchors = {link["url"].split("#", 1)[1] for link in spec}
    assert anchors <= spec_index().anchors and Path(unquote(urlparse(spec_uri()).path)).is_file()
    steps = [s for s in r["steps"] if "ACT-GET-001" in s["name"]]
    assert steps and {a["name"] for a in steps[0]["attachments"]} == {"request", "response"}
    request_text = (allure_dir / steps[0]["attachments"][0]["source"]).read_text()
    assert request_text.startswith("GET http://127.0.0.1:") and "Origin: https://app.example" in request_text
    assert "Signature=<redacted>" in request_text

    assert by_id["ACT-ERR-003"][0]["statusDetails"]["message"].startswith("unsupported: ")
    assert by_id["CFG-GET-001"][0]["status"] == "passed"
    assert "target=moto" in (allure_dir / "environment.properties").read_text()
    categories = json.loads((allure_dir / "categories.json").read_text())
    assert {c["name"] for c in categories} >= {"Known deviation (expectation file)", "Unsupported by the target",
                                                "Stale expectation (recorded deviation no longer happens)",
                                                "Infrastructure (not a conformance verdict)"}
