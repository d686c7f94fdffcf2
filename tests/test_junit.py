"""JUnit XML from results.json: case IDs as names, outcomes mapped without hiding a deviation as a pass."""

from __future__ import annotations

import json

from conformance.reports.junit import write_junit


def test_outcomes_map_to_junit(tmp_path):
    cases = [{"id": f"PRE-X-00{n}", "area": "PRE", "level": "MUST", "title": "t", "source": "s", "outcome": o,
              "verdict": o, "reason": f"why {o}", "duration_s": 0.5}
             for n, o in enumerate(["pass", "fail", "expected-fail", "unsupported", "error", "unexpected-pass",
                                    "non-strict"], 1)]
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"target": {"name": "t"}, "cases": cases}))
    write_junit(json.loads(results.read_text()), tmp_path / "junit.xml")
    import xml.etree.ElementTree as ET

    root = ET.parse(tmp_path / "junit.xml").getroot()
    # non-strict fails JUnit as it fails pytest and Allure (conformance/behaviour/outcomes.py)
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("7", "3", "1", "2")
    by_name = {c.get("name"): c for c in root.iter("testcase")}
    assert by_name["PRE-X-002"].find("failure").get("message") == "fail: why fail"
    assert by_name["PRE-X-003"].find("skipped").get("message") == "known deviation: why expected-fail"
    assert by_name["PRE-X-005"].find("error") is not None
    assert by_name["PRE-X-001"].find("failure") is None and by_name["PRE-X-001"].find("skipped") is None
    assert by_name["PRE-X-007"].find("failure").get("message") == "non-strict: why non-strict"
