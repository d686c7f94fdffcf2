"""Every case table's stated expectation agrees with the behaviour model (conformance/behaviour/model.py), so an
authoring slip in a table or a bug in the model is caught before any server is asked."""

from __future__ import annotations

import pytest

from conformance.behaviour import model
from conformance.behaviour.tables import registry
from conformance.behaviour.cors import DECISIVE_QUESTIONS, expected_actual, expected_preflight, key_expectations
from conformance.behaviour.xmlbody import cors_xml, document_of_size, rules_of_count

REQUEST_AREAS = {"PRE": expected_preflight, "HDR": expected_preflight, "ERR": expected_preflight,
                 "URL": expected_preflight, "ACT": expected_actual}
ALL = registry().cases.values()
REQUEST_CASES = [c for c in ALL if c.area in REQUEST_AREAS and c.expect]
VAL_CASES = [c for c in ALL if c.area == "VAL" and "content_md5" not in c.send and "bucket" not in c.setup]


def _answer(case):
    return REQUEST_AREAS[case.area](case)


@pytest.mark.parametrize("case", REQUEST_CASES, ids=str)
def test_table_agrees_with_model(case):
    disagreements = {k: v for k, v in key_expectations(case, _answer(case)).items() if v[0] != v[1]}
    assert not disagreements, f"{case.id}: table vs model: {disagreements}"


@pytest.mark.parametrize("case", REQUEST_CASES, ids=str)
def test_level_matches_open_questions(case):
    """A case whose verdict rests on an open question of the spec is INFO, never MUST/SHOULD."""
    decisive = set(_answer(case).open_questions) & DECISIVE_QUESTIONS
    if decisive:
        assert case.level == "INFO", f"{case.id} rests on {sorted(decisive)} and must be INFO"


def _validation(case) -> model.Validation:
    send, generate = case.send, case.send.get("generate", {})
    if "rules" in generate:
        return model.validate_rules(rules_of_count(generate["rules"]))
    if "id_length" in generate:
        return model.validate_rules([{"ID": "i" * generate["id_length"], "AllowedOrigins": ["https://a.example"],
                                      "AllowedMethods": ["GET"]}])
    if "bytes" in generate:
        return model.validate_document(document_of_size(generate["bytes"])[0].encode())
    if "raw_rules" in send:
        return model.validate_document(cors_xml(send["raw_rules"]).encode())
    if "xml" in send:
        return model.validate_document(send["xml"].encode())
    return model.validate_rules(send["rules"])


@pytest.mark.parametrize("case", VAL_CASES, ids=str)
def test_validation_table_agrees_with_model(case):
    verdict = _validation(case)
    expect = case.expect
    if case.level == "INFO":
        assert verdict.open_questions, f"{case.id} is INFO but the model sees no open question"
        return
    assert verdict.accepted == expect["accepted"], (case.id, verdict)
    if not expect["accepted"] and "code" in expect and expect.get("code_level") != "INFO" and verdict.code:
        assert verdict.code == expect["code"], (case.id, verdict)
    if "message" in expect and expect.get("message_level", "SHOULD") != "INFO" and verdict.message:
        assert verdict.message == expect["message"], (case.id, verdict)


def test_a_wrong_table_row_is_caught():
    """The self-test can fail: a row claiming that the first origin-matching rule answers disagrees."""
    case = registry().get("PRE-SEL-001")
    wrong = type(case)(**{**case.__dict__, "expect": {**case.expect, "rule": 1}})
    assert key_expectations(wrong, expected_preflight(wrong))["rule"] == (1, 2)


CONSISTENCY_CASES = [c for c in ALL if c.area == "ACT" and "pairs" in c.send]


@pytest.mark.parametrize("case", CONSISTENCY_CASES, ids=str)
def test_consistency_table_agrees_with_model(case):
    """ACT-CONS rows: `allowed` per pair is the model's preflight verdict and its actual-request verdict."""
    rules = [model.Rule.from_boto(r) for r in case.setup["rules"]]
    assert len(case.expect["allowed"]) == len(case.send["pairs"]), case.id
    for (origin, method), allowed in zip(case.send["pairs"], case.expect["allowed"]):
        pre = model.evaluate_preflight(rules, model.Request("OPTIONS", origin, method))
        act = model.evaluate_actual(rules, model.Request(method, origin))
        assert (pre.status == 200) == allowed == ("Access-Control-Allow-Origin" in act.headers), (case.id, origin, method)


def test_every_request_area_has_a_model():
    """A new area with request cases must be added to REQUEST_AREAS, or its tables go unchecked."""
    # CFG/VAL/EBO are checked above or need no model; GEN and BRW have their own self-tests.
    areas = {c.area for c in ALL if c.area not in ("CFG", "VAL", "EBO", "GEN", "BRW")}
    assert areas <= set(REQUEST_AREAS), areas - set(REQUEST_AREAS)


MATCHING_CASES = [c for c in ALL if c.area in ("PRE", "ACT") and "pairs" not in c.send]


@pytest.mark.parametrize("case", [c for c in MATCHING_CASES if len(c.setup.get("rules", [])) > 1], ids=str)
def test_multi_rule_cases_assert_the_answering_rule(case):
    """On a configuration of several rules, the row names the rule that answers and every rule carries its
    x-rule-N Expose-Headers marker, so an answer from the wrong rule cannot pass (conformance/behaviour/cors.py 'rule')."""
    assert "rule" in case.expect, f"{case.id}: several rules, but no expected rule"
    markers = [r.get("ExposeHeaders", [None])[0] for r in case.setup["rules"]]
    assert markers == [f"x-rule-{n}" for n in range(1, len(markers) + 1)], (case.id, markers)


PRE_REFUSALS = [c for c in ALL if c.area == "PRE" and c.expect.get("status") != 200 and c.send.get("origin")]


@pytest.mark.parametrize("case", PRE_REFUSALS, ids=str)
def test_preflight_refusals_rest_on_one_rule(case):
    """A refused preflight is tested on at most one rule (with several, another rule's bug could refuse it for the
    wrong reason), and that rule also allows some case of the table (so a server refusing everything fails)."""
    rules = case.setup.get("rules", [])
    assert len(rules) <= 1, f"{case.id}: a refusal on a configuration of {len(rules)} rules"
    if rules:
        allowed = [c.id for c in ALL if c.table == case.table and c.setup.get("config") == case.setup["config"]
                   and c.expect.get("status") == 200]
        assert allowed, f"{case.id}: no case shows that configuration {case.setup['config']!r} allows anything"
