"""One meaning per outcome: pytest status (and so the exit code), JUnit, Allure, the matrix, the diff and the
certification counts all follow conformance/behaviour/outcomes.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from conformance.behaviour import outcomes
from conformance.behaviour.tables import Case
from conformance.behaviour.checks import OUTCOMES as CHECK_OUTCOMES, Verdict
from conformance.reports.html_report import OUTCOMES as HTML_OUTCOMES
from conformance.reports.junit import junit_tree
from conformance.reports.matrix import cell
from conformance.run.verdicts import shape_report as _shape_report
from conformance.target.redact import Redactor
from conformance.reports.results import summarize

TABLE = outcomes.TABLE
CASE = Case(id="PRE-X-001", area="PRE", level="MUST", title="t", source="§1")


def test_every_report_names_the_same_outcomes():
    assert CHECK_OUTCOMES == HTML_OUTCOMES == outcomes.OUTCOMES
    assert set(summarize([])["by_outcome"]) == set(outcomes.OUTCOMES)


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_an_outcome_fails_everywhere_or_nowhere(row):
    fails = row.fails_run
    assert (row.junit in ("failure", "error")) == fails, row
    assert (row.allure in ("failed", "broken")) == fails, row
    assert (row.pytest == "skipped") == (row.junit == "skipped") == (row.allure == "skipped"), row


def test_non_strict_fails_pytest_junit_and_allure():
    row = outcomes.outcome("non-strict")
    assert (row.pytest, row.junit, row.allure) == ("failed", "failure", "failed")


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_pytest_status_follows_the_table(row):
    report = SimpleNamespace(outcome="?", longrepr="x", when="call")
    item = SimpleNamespace(location=("conformance/x.py", 3, "t"), path="conformance/x.py")
    _shape_report(report, item, CASE, Verdict(row.name, "why", "fail"), Redactor([]))
    assert report.outcome == row.pytest


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_junit_follows_the_table(row):
    record = {"id": "PRE-X-001", "area": "PRE", "level": "MUST", "title": "t", "source": "s", "outcome": row.name,
              "verdict": "fail", "reason": "why"}
    case = junit_tree({"target": {"name": "t"}, "cases": [record]}).getroot().find("testsuite/testcase")
    children = {child.tag for child in case} - {"properties", "system-out"}
    assert children == ({row.junit} if row.junit else set()), ET.tostring(case)


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_matrix_cell_follows_the_table(row):
    assert cell({"outcome": row.name, "verdict": "fail"}) == row.symbol.format(verdict="fail")


def test_verdicts_are_what_certification_and_the_matrix_count():
    assert outcomes.VERDICTS == ("pass", "fail", "non-strict", "info", "unsupported", "error")


def test_diff_distance_orders_every_verdict_away_from_pass():
    order = sorted((r for r in TABLE if r.is_verdict), key=lambda r: r.distance)
    assert [r.name for r in order] == ["pass", "info", "non-strict", "unsupported", "fail", "error"]
    assert outcomes.diff_direction("pass", "info") == "changed"
    assert outcomes.diff_direction("fail", "expected-fail") == "changed"  # not a verdict: never ranked


def test_an_unknown_outcome_is_a_bug():
    with pytest.raises(ValueError, match="unknown outcome 'passed'"):
        outcomes.outcome("passed")


def test_a_verdict_given_in_set_up_stops_the_case_body():
    """A pass or info verdict reached in set-up (an INFO case whose configuration the target refuses) is final:
    the report is skipped so that pytest does not run the body without the set-up's result."""
    report = SimpleNamespace(outcome="?", longrepr="x", when="setup")
    item = SimpleNamespace(location=("conformance/x.py", 3, "t"), path="conformance/x.py")
    _shape_report(report, item, CASE, Verdict("info", "the target refuses the configuration", "info"), Redactor([]))
    assert report.outcome == "skipped" and "info: the target refuses" in report.longrepr[2]
