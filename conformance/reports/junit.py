"""JUnit XML made from results.json: one testcase per case, named by its case ID, for any CI system."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.behaviour.outcomes import outcome as outcome_row

# The element of each outcome comes from the outcome table (conformance/behaviour/outcomes.py): failure and error fail a
# CI job exactly when the pytest run fails; known deviations and unsupported cases are "skipped" with their
# reason (never a silent pass); pass and info are plain testcases (info with its observation).
_SKIP_LABEL = {"expected-fail": "known deviation"}


def junit_tree(document: dict) -> ET.ElementTree:
    """The JUnit document of one results.json."""
    target = document.get("target", {}).get("name", "target")
    root = ET.Element("testsuites", name=f"s3-cors-conformance {target}")
    by_area: dict[str, list[dict]] = {}
    for record in document.get("cases", []):
        by_area.setdefault(record["area"], []).append(record)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for area, records in by_area.items():
        suite = ET.SubElement(root, "testsuite", name=area)
        counts = {"tests": len(records), "failures": 0, "errors": 0, "skipped": 0}
        for r in records:
            case = ET.SubElement(suite, "testcase", name=r["id"], classname=f"conformance.{area}",
                                 time=f"{r.get('duration_s') or 0:.3f}")
            props = ET.SubElement(case, "properties")
            for key in ("level", "outcome", "verdict", "title", "source"):
                ET.SubElement(props, "property", name=key, value=str(r.get(key, "")))
            outcome, reason = r["outcome"], r.get("reason") or ""
            tag = outcome_row(outcome).junit
            if tag in ("failure", "error"):
                ET.SubElement(case, tag, message=f"{outcome}: {reason}"[:1000], type=outcome).text = reason
                counts["failures" if tag == "failure" else "errors"] += 1
            elif tag == "skipped":
                ET.SubElement(case, "skipped", message=f"{_SKIP_LABEL.get(outcome, outcome)}: {reason}"[:1000])
                counts["skipped"] += 1
            elif reason:
                ET.SubElement(case, "system-out").text = f"{outcome}: {reason}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(document: dict, out: Path) -> None:
    """Write the JUnit XML of a results.json document."""
    tmp = out.with_suffix(".xml.tmp")
    junit_tree(document).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(out)
