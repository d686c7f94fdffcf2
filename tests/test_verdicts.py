"""Soft checks and the outcome rules: Check, judge and apply_expectation."""

from __future__ import annotations

import pytest

from conformance.behaviour.tables import Case
from conformance.behaviour.checks import (OUTCOMES, Check, CheckResult, Inconclusive, RequirementFailed, apply_expectation,
                                judge, needs_traceback, server_error_of)
from conformance.errors import InfraError, ServerError, Unsupported
from conformance.target.expectations import Expectation


def case(level: str = "MUST") -> Case:
    return Case(id="CFG-T-001", area="CFG", level=level, title="t", source="§1")


def checked(level: str, *checks: tuple[str, bool]) -> Check:
    check = Check(case(level))
    for n, (kind, ok) in enumerate(checks):
        getattr(check, kind)(ok, f"check{n}", "want", "got")
    return check


@pytest.mark.parametrize(("case_level", "check_level", "recorded"), [
    pytest.param(c, k, r, id=f"{c}-case-{k}-check") for c, k, r in [
        ("MUST", "MUST", "MUST"), ("MUST", "SHOULD", "SHOULD"), ("MUST", "INFO", "INFO"),
        ("SHOULD", "MUST", "SHOULD"), ("SHOULD", "SHOULD", "SHOULD"), ("SHOULD", "INFO", "INFO"),
        ("INFO", "MUST", "INFO"), ("INFO", "SHOULD", "INFO"), ("INFO", "INFO", "INFO")]
])
def test_check_levels_are_capped_by_the_case_level(case_level, check_level, recorded):
    check = Check(case(case_level))
    assert check.that(check_level, 0, "x") is False
    check.equal(check_level, "y", 1, 1)
    assert [(r.level, r.ok) for r in check.results] == [(recorded, False), (recorded, True)]


def test_check_records_every_miss_and_observations():
    check = Check(case())
    assert check.must(False, "status", 200, 403) is False
    assert check.should(True, "code") is True
    assert check.info(False, "message", "a", "b") is False
    check.observe("vary", ["Origin"])
    assert [(r.level, r.what, r.ok) for r in check.results] == [
        ("MUST", "status", False), ("SHOULD", "code", True), ("INFO", "message", False)]
    assert check.results[0].line() == "[MUST] status: expected 200, got 403"
    assert check.observations == {"vary": ["Origin"]}


def test_check_result_public_is_json_shaped():
    result = CheckResult("MUST", "w", False, expected=("a", {"k": {1, }}), actual=b"x")
    assert result.public() == {"level": "MUST", "what": "w", "ok": False,
                               "expected": ["a", {"k": "{1}"}], "actual": "b'x'"}


def test_require_stops_the_case():
    check = Check(case())
    check.require(True, "bucket created")
    reached = False
    with pytest.raises(RequirementFailed, match=r"^put accepted: expected 200, got 500$") as info:
        check.require(False, "put accepted", 200, 500)
        reached = True
    assert not reached
    assert [(r.level, r.ok) for r in check.results] == [("MUST", True), ("MUST", False)]
    assert judge(check.case, check, info.value)[0] == "fail"


@pytest.mark.parametrize(("level", "outcome"), [
    pytest.param("MUST", "fail", id="MUST"), pytest.param("SHOULD", "non-strict", id="SHOULD"),
    pytest.param("INFO", "info", id="INFO")])
def test_require_in_each_case_level(level, outcome):
    check = Check(case(level))
    with pytest.raises(RequirementFailed) as info:
        check.require(False, "precondition", 1, 2)
    got, reason = judge(check.case, check, info.value)
    assert got == outcome and "precondition" in reason and "expected 1, got 2" in reason


def test_precondition_is_inconclusive():
    check = Check(case())
    check.precondition(True, "fine")
    with pytest.raises(Inconclusive, match="^GetBucketCors failed$"):
        check.precondition(False, "GetBucketCors failed")


JUDGE = [
    pytest.param("MUST", [("must", True), ("should", True), ("info", False)], None, "pass", "", id="pass"),
    pytest.param("MUST", [("must", False), ("should", True)], None, "fail",
                 "[MUST] check0: expected 'want', got 'got'", id="fail"),
    pytest.param("MUST", [("should", False), ("must", False)], None, "fail",
                 "[MUST] check1: expected 'want', got 'got'; [SHOULD] check0", id="fail-lists-must-then-should"),
    pytest.param("MUST", [("must", True), ("should", False)], None, "non-strict", "[SHOULD] check1", id="non-strict"),
    pytest.param("SHOULD", [("must", False)], None, "non-strict", "[SHOULD] check0", id="should-case-caps-must"),
    pytest.param("INFO", [("must", False), ("should", True)], None, "info", "[INFO] check0", id="info-miss"),
    pytest.param("INFO", [("must", True)], None, "info", "observed as documented", id="info-as-documented"),
    pytest.param("MUST", [("must", False)], Unsupported("NotImplemented: PutBucketCors"), "unsupported",
                 "NotImplemented: PutBucketCors", id="unsupported"),
    pytest.param("MUST", [("must", False)], InfraError("connection refused"), "error",
                 "infrastructure: connection refused", id="error-infra"),
    pytest.param("MUST", [("must", True)], Inconclusive("bucket not created"), "error",
                 "inconclusive: bucket not created", id="error-inconclusive"),
    pytest.param("MUST", [("must", True)], KeyError("Rules"), "error", "harness error: KeyError: 'Rules'",
                 id="error-harness"),
    pytest.param("MUST", [("must", True)], AssertionError("plain assert"), "error",
                 "harness error: AssertionError: plain assert", id="error-plain-assert"),
    pytest.param("MUST", [], None, "error", "harness error: the case made no check", id="error-no-checks"),
    pytest.param("MUST", [("must", True)], ServerError("PUT /b?cors", 500, "InternalError", "boom", 3), "fail",
                 "[MUST] PUT /b?cors: a 2xx or 4xx answer (not a server error): expected '2xx or 4xx', "
                 "got '500 InternalError (boom)'", id="server-error-is-a-fail"),
    pytest.param("SHOULD", [("must", True)], ServerError("OPTIONS /b/k", 500), "non-strict",
                 "[SHOULD] OPTIONS /b/k: a 2xx or 4xx answer (not a server error): expected '2xx or 4xx', got '500'",
                 id="server-error-in-a-should-case"),
    pytest.param("INFO", [], ServerError("OPTIONS /b/k", 500, "InternalError"), "info", "[INFO] OPTIONS /b/k",
                 id="server-error-in-an-info-case"),
    pytest.param("MUST", [], InfraError("GET /b: the server answered 503 SlowDown after 3 attempts"), "error",
                 "infrastructure: GET /b: the server answered 503 SlowDown", id="throttling-is-an-error"),
    pytest.param("INFO", [], None, "error", "harness error: the case made no check", id="error-no-checks-info"),
]


@pytest.mark.parametrize(("level", "checks", "exc", "outcome", "reason"), JUDGE)
def test_judge(level, checks, exc, outcome, reason):
    check = checked(level, *checks)
    got, why = judge(check.case, check, exc)
    assert got == outcome
    assert why.startswith(reason) if reason else why == ""


def test_judge_without_a_check_object():
    assert judge(case(), None, None) == ("error", "harness error: the case made no check")


WHY = Expectation("CFG-T-001", "fail", "known bug")
CRASH = Expectation("CFG-T-001", "fail", "crashes", status=500, code="InternalError")
SEEN_500 = {"status": 500, "code": "InternalError"}
EXPECT = [
    pytest.param("fail", "r", None, "fail", "r", None, id="no-expectation"),
    pytest.param("fail", "r", WHY, "expected-fail", "known bug [r]", None, id="expected-fail"),
    pytest.param("non-strict", "r", Expectation("X", "non-strict", "w"), "expected-fail", "w [r]", None,
                 id="expected-non-strict"),
    pytest.param("fail", "r", CRASH, "expected-fail", "crashes [r]", SEEN_500, id="expected-server-error"),
    pytest.param("pass", "", WHY, "unexpected-pass", "stale expectation: recorded as fail (known bug), now pass", None,
                 id="unexpected-pass"),
    pytest.param("info", "seen", WHY, "unexpected-pass",
                 "stale expectation: recorded as fail (known bug), now info: seen", None, id="unexpected-pass-info"),
    pytest.param("non-strict", "r", WHY, "unexpected-pass",
                 "stale expectation: recorded as fail (known bug), now non-strict: r", None, id="fail-improved-to-non-strict"),
    pytest.param("pass", "", CRASH, "unexpected-pass",
                 "stale expectation: recorded as fail with 500 InternalError (crashes), now pass", None, id="crash-fixed"),
    pytest.param("unsupported", "r", WHY, "unsupported", "r", None, id="unsupported-kept"),
    pytest.param("error", "r", WHY, "error", "r", None, id="error-kept"),
    pytest.param("fail", "r", Expectation("X", "non-strict", "w"), "fail",
                 "r (expectation file says non-strict: w)", None, id="changed-non-strict-to-fail"),
    pytest.param("fail", "r", CRASH, "fail", "r (expectation file says fail with 500 InternalError: crashes)", None,
                 id="crash-now-a-plain-fail"),
    pytest.param("non-strict", "r", CRASH, "unexpected-pass",
                 "stale expectation: recorded as fail with 500 InternalError (crashes), now non-strict: r", None, id="crash-now-non-strict"),
    pytest.param("fail", "r", WHY, "fail", 'r (expectation file says fail: known bug; if this answer is the known '
                 'deviation, the entry says status = 500, code = "InternalError")', SEEN_500, id="unnamed-crash"),
    pytest.param("fail", "r", Expectation("X", "fail", "w", status=500, code="NotImplementedYet"), "fail",
                 'r (expectation file says fail with 500 NotImplementedYet: w; if this answer is the known deviation, '
                 'the entry says status = 500, code = "InternalError")', SEEN_500, id="other-crash-code"),
    pytest.param("error", "infrastructure: ConnectionError", CRASH, "error", "infrastructure: ConnectionError", None,
                 id="no-answer-never-matches-a-crash-entry"),
    pytest.param("error", "infrastructure: ConnectionError", WHY, "error", "infrastructure: ConnectionError", None,
                 id="no-answer-never-matches-a-fail-entry"),
]


@pytest.mark.parametrize(("raw", "reason", "expectation", "outcome", "why", "seen"), EXPECT)
def test_apply_expectation(raw, reason, expectation, outcome, why, seen):
    verdict = apply_expectation(raw, reason, expectation, seen)
    assert (verdict.outcome, verdict.reason, verdict.verdict) == (outcome, why, raw)


def test_a_server_error_carries_its_status_and_code():
    assert server_error_of(ServerError("GET /b", 500, "InternalError")) == SEEN_500
    assert server_error_of(ServerError("GET /b", 507)) == {"status": 507, "code": None}
    assert server_error_of(InfraError("refused")) is None and server_error_of(None) is None


def test_every_outcome_is_covered():
    judged = {p.values[3] for p in JUDGE}
    applied = {p.values[3] for p in EXPECT}
    assert judged | applied == set(OUTCOMES)


@pytest.mark.parametrize(("level", "checks", "exc", "outcome", "reason"), [p for p in JUDGE if p.values[2]])
def test_only_a_harness_error_needs_its_traceback(level, checks, exc, outcome, reason):
    """The plugin spares pytest formatting a traceback the verdict's text replaces, for exactly the exceptions that
    judge() does not call a harness error."""
    assert needs_traceback(exc) == reason.startswith("harness error")
