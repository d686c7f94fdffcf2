"""GEN: generated differential properties (fixtures/cases/generated.toml). Each case is one property: hypothesis
generates CORS configurations and requests aimed at them (conformance/behaviour/generate.py), the server's answers are
compared with conformance/behaviour/model.py, and a disagreement is shrunk to its smallest example and reported with a
ready-to-run reproducer. The engine that runs a property is conformance/run/properties.py; this module holds what
each property checks.

Buckets: the properties of a worker that need no objects share its buckets and every answer they gave (the same
configuration and request are asked once); GEN-ACT-001 has buckets of its own (it needs objects and writes
some). Each property plans its examples and sends them ahead, spread over up to eight buckets at once.

Budget and seed: --fuzz-examples N (0: the properties are not run and are reported unsupported) and
--fuzz-seed; the same seed generates the same examples, and the seed is in every case's observations."""

from __future__ import annotations

from conformance.behaviour import generate as gen
from conformance.behaviour.tables import cases
from conformance.behaviour.checks import Check
from conformance.behaviour.cors import (ACAC, ACAH, ACAM, ACAO, ACEH, ACMA, check_actual, check_allowed_headers,
                                        check_preflight)
from conformance.run import draws
from conformance.run.properties import Answers, Property, config_key, fuzz_enabled, shared_store, summary
from conformance.target.http import ApiResult, Response
from conformance.cases.steps import LIST_MEMBERS, as_multisets, put_rules

# Which aspect of the preflight answer a header property compares (conformance.behaviour.cors.check_allowed_headers).
HEADER_FOCUS = {"acao": ("origin", ACAO), "acam": ("methods", ACAM), "acah": ("headers", ACAH),
                "aceh": ("expose", ACEH), "acma": ("max_age", ACMA), "acac": ("credentials", ACAC),
                "vary": ("vary", "Vary")}
OWN_BUCKET = {"actual"}  # properties that need objects in their buckets, or change them


# ---- preflight properties ------------------------------------------------------------------------------------


def _marker(resp: Response) -> list[str]:
    names = [n.strip().lower() for n in (resp.header(ACEH) or "").split(",")]
    return sorted(n for n in names if n.startswith("x-rule-"))


def _preflight_checks(prop: str, case, expected, resp: Response, request: gen.GenRequest) -> tuple[Check, bool]:
    """The checks of one preflight for a property, on a scratch Check; (checks, whether to count the example)."""
    scratch = Check(case)
    if prop == "status":
        check_preflight(scratch, expected, resp, {"status"})
        return scratch, True
    if expected.status != 200 or not 200 <= resp.status < 300:
        return scratch, False  # GEN-PRE-STATUS-001's concern
    if prop == "rule":
        want = [f"x-rule-{expected.matched_rule + 1}"]
        scratch.must(_marker(resp) == want, "the rule that answered (x-rule-N marker in Expose-Headers)",
                     want[0], resp.header(ACEH))
        return scratch, True
    focus, _ = HEADER_FOCUS[prop]
    check_allowed_headers(scratch, dict(expected.headers), resp, {focus}, "SHOULD",
                          requested_method=request.request_method)
    return scratch, True


def _run_preflight_property(p: Property, prop: str) -> None:
    every = draws.judges_refusals(prop)

    def body(example) -> None:
        config, _ = example
        wanted = draws.every_preflight(example, p.exclude) if every else draws.wanted(example, True, p.exclude)
        for (request, expected), resp in zip(wanted, p.answers_or_exclude(config, [r for r, _ in wanted])):
            scratch, counts = _preflight_checks(prop, p.case, expected, resp, request)
            if not counts:
                p.exclude("the server refused a preflight the model allows (GEN-PRE-STATUS-001's concern)",
                          by_server=True)
                continue
            p.judge(scratch, p.detail(config, request, expected, resp), exact=not expected.open_questions)

    draw = draws.draw_of(prop)
    p.run(draw.strategy, body, ahead=lambda: p.ahead_answers(draw))


# ---- actual requests -----------------------------------------------------------------------------------------


def _put_probe(s3, bucket: str) -> ApiResult:
    """The object the actual requests of GEN-ACT-001 ask for."""
    return s3.api("put_object", Bucket=bucket, Key=gen.PROBE_KEY, Body=gen.BODY, ContentType="text/plain")


def _run_actual_property(p: Property) -> None:
    probe = _put_probe(p.s3, p.bucket)
    p.check.precondition(probe.ok, f"PutObject {gen.PROBE_KEY} answered {probe.status} {probe.code}")
    p.store.prepare = lambda bucket: _put_probe(p.s3, bucket).ok  # every bucket the examples use holds it

    def body(example) -> None:
        config, _ = example
        wanted = draws.wanted(example, False, p.exclude)
        for (request, expected), resp in zip(wanted, p.answers_or_exclude(config, [r for r, _ in wanted])):
            scratch = Check(p.case)
            check_actual(scratch, expected, resp, set(), request.request_method or request.method)
            p.judge(scratch, p.detail(config, request, expected, resp), exact=not expected.open_questions)

    draw = draws.draw_of("actual")
    p.run(draw.strategy, body, ahead=lambda: p.ahead_answers(draw))


# ---- configuration API ---------------------------------------------------------------------------------------


def _run_accept_property(p: Property) -> None:
    """GEN-CFG-001: accepted exactly when the model accepts; a refusal is 400 with the model's code."""

    def body(config) -> None:
        verdict = gen.model.validate_rules(config)

        result = p.remember(("put", config_key(config)), lambda: _put(p, config, p.store.lanes[0], p.stats))
        scratch = Check(p.case)
        got = f"{result.status} {result.code or ''}".strip()
        if verdict.accepted:
            scratch.must(result.ok, "a configuration the model accepts is accepted", "2xx", got)
        else:
            scratch.must(not result.ok, f"a configuration the model rejects is rejected ({verdict.reason})",
                         f"{verdict.status} {verdict.code}", got)
            if not result.ok:
                scratch.should(result.status == verdict.status, "refusal status", verdict.status, result.status)
                scratch.should(result.code == verdict.code, "refusal error code", verdict.code, result.code)
                if verdict.message:
                    scratch.should(result.message == verdict.message, "refusal message", verdict.message,
                                   result.message)
        expected = {"accepted": verdict.accepted, "status": verdict.status, "code": verdict.code,
                    "message": verdict.message, "reason": verdict.reason,
                    "open_questions": list(verdict.open_questions)}
        p.judge(scratch, lambda: {"summary": summary(config), "replay": lambda: p.replay(config, None),
                                  "example": (config, []),
                                  "reproducer": p.reproducer(config, None, expected, {
                                      "status": result.status, "code": result.code, "message": result.message})},
                exact=not verdict.open_questions)

    def work(lane, configs: list, stats) -> None:
        p.cache[("put", config_key(configs[0]))] = _put(p, configs[0], lane, stats)

    draw = draws.draw_of("accept")
    p.run(draw.strategy, body, ahead=lambda: p.ahead(draw, work))


def _put(p: Property, config: list[dict], lane, stats) -> ApiResult:
    """PutBucketCors of one example on a lane of the property's store (its exchange kept for a report)."""
    lane.current = None  # a refused put may also have changed what the bucket holds
    stats["PutBucketCors"] += 1
    with p.s3.recorder.capture() as sent:
        result = put_rules(p.s3, lane.bucket, config)
    p.evidence[config_key(config)] = sent
    return result


def _run_roundtrip_property(p: Property) -> None:
    """GEN-CFG-002: GetBucketCors returns an accepted configuration unchanged."""

    def body(config) -> None:
        _, got = p.remember(("roundtrip", config_key(config)), lambda: _put_and_get(p, config, p.store.lanes[0],
                                                                                    p.stats))
        if got is None:
            p.exclude("configuration refused by the server (GEN-CFG-001's concern)", by_server=True)
            return
        rules = got.data.get("CORSRules", []) if got.ok else None
        scratch = Check(p.case)
        scratch.must(got.ok, "GetBucketCors answers", 200, f"{got.status} {got.code or ''}".strip())
        if got.ok:
            scratch.must(as_multisets(rules) == as_multisets(config),
                         "every rule, in order, with every member and value (lists compared as multisets)",
                         config, rules)
            ordered = len(rules) == len(config) and all(
                a.get(m) == b.get(m) for a, b in zip(config, rules) for m in LIST_MEMBERS)
            scratch.should(ordered, "list members in the order sent", config, rules)
        p.judge(scratch, lambda: {"summary": summary(config), "replay": lambda: p.replay(config, None),
                                  "example": (config, []),
                                  "reproducer": p.reproducer(config, None, {"CORSRules": config},
                                                             {"status": got.status, "CORSRules": rules})},
                exact=True)

    def work(lane, configs: list, stats) -> None:
        p.cache[("roundtrip", config_key(configs[0]))] = _put_and_get(p, configs[0], lane, stats)

    draw = draws.draw_of("roundtrip")
    p.run(draw.strategy, body, ahead=lambda: p.ahead(draw, work))


def _put_and_get(p: Property, config: list[dict], lane, stats) -> tuple[ApiResult | None, ApiResult | None]:
    """(refusal, None), or (None, GetBucketCors's answer) once it shows the configuration or anything new (a
    server that alters a value must not cost a propagation timeout per example, and shrinking tries many)."""
    refused = p.store.apply(config, stats, lane)
    p.evidence[config_key(config)] = lane.setups.get(config_key(config), [])
    return (refused, None) if refused is not None else (None, lane.last_get)


# ---- the cases -----------------------------------------------------------------------------------------------

RUNS = {"accept": _run_accept_property, "roundtrip": _run_roundtrip_property, "actual": _run_actual_property}


@cases("GEN-*", alone=True)
def test_generated_property(case, check, s3, buckets, poll, s3cors, shared_answers):
    fuzz_enabled(s3cors)
    prop = case.send["property"]
    if prop in OWN_BUCKET:
        store = Answers(s3, buckets.create(), poll, new_bucket=buckets.create)
        try:
            RUNS[prop](Property(case, check, s3, store, s3cors))
        finally:
            for name in store.buckets():
                buckets.discard(name)
        return
    store = shared_store(shared_answers, "configuration", s3, buckets, poll)
    run = RUNS.get(prop)
    if run is not None:
        run(Property(case, check, s3, store, s3cors))
    else:
        _run_preflight_property(Property(case, check, s3, store, s3cors), prop)
