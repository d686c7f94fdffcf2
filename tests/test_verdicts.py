"""Soft checks and the outcome rules: Check, judge and apply_expectation."""

from __future__ import annotations

import pytest

from conformance.cases import Case
from conformance.checks import OUTCOMES, Check, CheckResult, Inconclusive, RequirementFailed, apply_expectation, judge
from conformance.errors import InfraError, Unsupported
from conformance.expectations import Expectation


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
EXPECT = [
    pytest.param("fail", "r", None, "fail", "r", id="no-expectation"),
    pytest.param("fail", "r", WHY, "expected-fail", "known bug [r]", id="expected-fail"),
    pytest.param("non-strict", "r", Expectation("X", "non-strict", "w"), "expected-fail", "w [r]",
                 id="expected-non-strict"),
    pytest.param("error", "r", Expectation("X", "error", "w"), "expected-fail", "w [r]", id="expected-error"),
    pytest.param("pass", "", WHY, "unexpected-pass", "stale expectation: recorded as fail (known bug), now pass",
                 id="unexpected-pass"),
    pytest.param("info", "seen", WHY, "unexpected-pass",
                 "stale expectation: recorded as fail (known bug), now info: seen", id="unexpected-pass-info"),
    pytest.param("non-strict", "r", WHY, "unexpected-pass",
                 "stale expectation: recorded as fail (known bug), now non-strict: r", id="fail-improved-to-non-strict"),
    pytest.param("pass", "", Expectation("X", "error", "w"), "unexpected-pass",
                 "stale expectation: recorded as error (w), now pass", id="error-fixed"),
    pytest.param("unsupported", "r", WHY, "unsupported", "r", id="unsupported-kept"),
    pytest.param("error", "r", WHY, "error", "r", id="error-kept"),
    pytest.param("fail", "r", Expectation("X", "non-strict", "w"), "fail",
                 "r (expectation file says non-strict: w)", id="changed-non-strict-to-fail"),
    pytest.param("fail", "r", Expectation("X", "error", "w"), "fail", "r (expectation file says error: w)",
                 id="changed-error-to-fail"),
    pytest.param("non-strict", "r", Expectation("X", "error", "w"), "non-strict",
                 "r (expectation file says error: w)", id="changed-error-to-non-strict"),
]


@pytest.mark.parametrize(("raw", "reason", "expectation", "outcome", "why"), EXPECT)
def test_apply_expectation(raw, reason, expectation, outcome, why):
    verdict = apply_expectation(raw, reason, expectation)
    assert (verdict.outcome, verdict.reason, verdict.verdict) == (outcome, why, raw)


def test_every_outcome_is_covered():
    judged = {p.values[3] for p in JUDGE}
    applied = {p.values[3] for p in EXPECT}
    assert judged | applied == set(OUTCOMES)
