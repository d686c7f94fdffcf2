"""A case's verdict: from its checks, what it raised and its expectation, to its record (results.json) and
the pytest report (passed, failed or skipped, as the outcome table says)."""

from __future__ import annotations

import pytest

from conformance.behaviour.checks import Check, apply_expectation, judge, server_error_of
from conformance.behaviour.outcomes import outcome as outcome_row
from conformance.behaviour.tables import Case
from conformance.reports.results import build_record
from conformance.run.state import State
from conformance.target.buckets import worker_id
from conformance.target.redact import Redactor

CHECK = pytest.StashKey[Check]()       # the case's checks (the `check` fixture puts them here)
EXCHANGES = pytest.StashKey[list]()    # the case's HTTP exchanges, as the recorder records them


def case_of(item: pytest.Item) -> Case | None:
    """The conformance case a test item runs, if it is one."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec else None
    return case if isinstance(case, Case) else None


def record_case(state: State, item: pytest.Item, case: Case, call: pytest.CallInfo,
                report: pytest.TestReport) -> None:
    """Judge the case and put its verdict on the report: the record (report.s3cors) and pytest's status."""
    exc = call.excinfo.value if call.excinfo else None  # a case is unsupported by raising errors.Unsupported
    check = item.stash.get(CHECK, None) or Check(case)  # a 5xx in a fixture is recorded as a check too
    outcome, reason = judge(case, check, exc)
    expectation = state.expectations.get(case.id)
    verdict = apply_expectation(outcome, reason, expectation, server_error_of(exc))
    report.s3cors = build_record(case, verdict, check, item.stash.get(EXCHANGES, []), nodeid=item.nodeid,
                                 duration=report.duration, expectation=expectation, worker=worker_id())
    report.s3cors["http_requests"] = state.recorder.case_requests if state.recorder else 0
    shape_report(report, item, case, verdict, state.redactor)


def shape_report(report: pytest.TestReport, item: pytest.Item, case: Case, verdict, redactor: Redactor) -> None:
    """Map the suite's outcome onto pytest's passed/failed/skipped (the outcome table decides which)."""
    outcome = verdict.outcome
    status = outcome_row(outcome).pytest
    if status == "passed" and report.when == "setup":
        # The case ended in its set-up (an INFO case whose configuration the target refuses): the verdict is
        # final, and the test body must not run without what the set-up failed to give it.
        report.outcome, report.longrepr = "skipped", (str(item.path), (item.location[1] or 0) + 1,
                                                      f"{outcome}: {verdict.reason}")
    elif status == "passed":
        report.outcome, report.longrepr = "passed", None
    elif outcome == "expected-fail":
        report.outcome, report.longrepr = "skipped", None
        report.wasxfail = redactor.text(verdict.reason)
    elif status == "skipped":
        path, line, _ = item.location
        report.outcome, report.longrepr = "skipped", (str(item.path), (line or 0) + 1, f"{outcome}: {verdict.reason}")
    else:
        report.outcome = "failed"
        harness_bug = outcome == "error" and verdict.reason.startswith("harness error")
        if not harness_bug:  # a conformance verdict or an infrastructure error needs no traceback
            report.longrepr = redactor.text(f"{outcome.upper()} {case.id} [{case.level}] {case.title}\n  " +
                                            verdict.reason.replace("; ", "\n  "))
