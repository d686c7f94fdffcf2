"""Tests for conformance.behaviour.model against docs/spec.md (section/row cited per case)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.behaviour.model import (
    METHODS,
    VARY_VALUE,
    Answer,
    Request,
    Rule,
    Validation,
    cors_headers,
    evaluate_actual,
    evaluate_preflight,
    header_matches,
    origin_matches,
    origin_questions,
    parse_request_headers,
    select_rule,
    validate_document,
    validate_rules,
)

# Verbatim AWS texts, copied from the spec independently of the model's constants.
NO_ORIGIN = "Insufficient information. Origin request header needed."  # §4.1 step 1
BUCKET_NOT_FOUND = "CORSResponse: Bucket not found"  # §4.1 step 2, no final period (§11)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."  # §4.1 step 3
NOT_ALLOWED = (  # §4.1 step 5, with AWS's typo "evalution" (§11)
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"  # §2.1 #2

ACAO, ACAC, ACAM = "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods"
ACAH, ACEH, ACMA = "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"

OPTIONS = functools.partial(Request, "OPTIONS")
LOCAL = "https://localhost:4200"

# §4.2 example "opt-right-origin".
RIGHT = [Rule((LOCAL,), ("GET", "PUT"), ("*",), max_age_seconds=3000)]
# Three rules that the three candidate selection strategies tell apart (§5 "Rule selection").
THREE = [
    Rule(("https://app.example",), ("GET",)),                     # 0: first origin match
    Rule(("https://app.example",), ("PUT",), ("content-type",)),  # 1: first FULL match
    Rule(("*",), ("PUT",), ("*",)),                               # 2: last full match
]
NO_HEADERS = [Rule(("*",), ("GET",))]  # §5: no AllowedHeaders
WILD = [Rule(("*",), ("GET",))]
EXPOSE = [Rule(("*",), ("GET",), expose_headers=("x-amz-id-2", "x-amz-request-id", "x-amz-request-payer"))]
PARTIAL = [Rule(("http://*.origin.com",), ("GET",))]
AMZ = [Rule(("*",), ("GET",), ("x-amz-*",))]


def echo(origin: str, methods: str, **extra: str) -> dict[str, str]:
    """Expected headers of a rule that echoes the origin (§4.2)."""
    return {ACAO: origin, ACAC: "true", ACAM: methods, **extra, "Vary": VARY_VALUE}


def star(methods: str, **extra: str) -> dict[str, str]:
    """Expected headers of a rule containing '*' (§4.2)."""
    return {ACAO: "*", ACAM: methods, **extra, "Vary": VARY_VALUE}


def forbidden(message: str, method: str, resource_type: str, questions: tuple[str, ...] = ()) -> Answer:
    """An expected 403 AccessForbidden preflight answer (§4.1)."""
    return Answer(403, "AccessForbidden", message, method, resource_type, {}, None, questions)


def bad_acrm(value: str) -> Answer:
    """An expected step-4 answer (§4.1, S-graded: Q1)."""
    return Answer(400, "BadRequest", f"Invalid Access-Control-Request-Method: {value}", open_questions=("Q1",))


def assert_answer(actual: Answer, expected: Answer) -> None:
    """Compare every field, so a case table pins status, error body, headers, rule and questions."""
    assert actual == expected


# --- §5 origin matching ---------------------------------------------------------------------------

ORIGIN_CASES = [
    pytest.param("*", "whatever", True, id="star-non-url"),  # §5 Origin * (A)
    pytest.param("*", "localhost:4566", True, id="star-host-port"),  # §5 (A, test_cors_expose_headers)
    pytest.param("*", "", True, id="star-empty-origin"),  # §5: * matches anything
    pytest.param(LOCAL, LOCAL, True, id="exact"),  # §4.2 opt-right-origin
    pytest.param(LOCAL, "http://localhost:4200", False, id="scheme-literal"),  # §5 opt-wrong-origin (A)
    pytest.param("http://test.com:80", "http://test.com", False, id="default-port-literal"),  # §5 ports (I)
    pytest.param("http://test.com:80", "http://test.com:80", True, id="port-kept"),  # §2.2 not normalised
    pytest.param("http://*.origin.com", "http://test.origin.com", True, id="middle"),  # §5 partial (A)
    pytest.param("http://*.origin.com", "http://test.origin.com/", False, id="anchored-trailing-slash"),  # §5 (A)
    # §5 * may match the empty string (S):
    pytest.param("http://*.origin.com", "http://.origin.com", True, id="middle-empty"),
    pytest.param("*suffix", "foo.suffix", True, id="leading"),  # §5 S3T
    pytest.param("*suffix", "foo.suffix.get", False, id="leading-anchored"),  # §5 S3T
    pytest.param("start*end", "start12end", True, id="start-end"),  # §5 S3T
    pytest.param("start*end", "startend", True, id="start-end-empty"),  # §5 * may match the empty string (S3T)
    pytest.param("start*end", "0start12end", False, id="start-end-anchored"),  # §5 S3T
    pytest.param("prefix*", "prefix", True, id="trailing-empty"),  # §5 * may match the empty string (S3T)
    pytest.param("prefix*", "prefix.suffix", True, id="trailing-spans-dot"),  # §5 * spans . (S3T)
    pytest.param("prefix*", "bla.prefix", False, id="trailing-anchored"),  # §5 S3T
    pytest.param("http://Example.com", "http://example.com", False, id="case-sensitive"),  # §5 model choice (Q2)
    pytest.param("*example*.com", "http://www.example.com", False, id="two-wildcards-never-stored"),  # §2.1 #11
    pytest.param("", "", True, id="empty-pattern-empty-origin"),  # §2.1 #6: empty origin stored, literal
]


@pytest.mark.parametrize(("pattern", "origin", "expected"), ORIGIN_CASES)
def test_origin_matches(pattern: str, origin: str, expected: bool) -> None:
    assert origin_matches(pattern, origin) is expected


ORIGIN_QUESTION_CASES = [
    pytest.param("http://*.origin.com", "http://test.origin.com", (), id="span-plain"),  # §5 (A)
    pytest.param("*", "localhost:4566", (), id="lone-star-certain"),  # §5 Origin * (A)
    pytest.param("*.example.com", "https://a.example.com", ("Q2",), id="span-slash-colon"),  # §5 unverified
    pytest.param("http://localhost*", "http://localhost:3000", ("Q2",), id="span-colon"),  # §5 unverified
    pytest.param("http://Example.com", "http://example.com", ("Q2",), id="case-only"),  # §5 Origin case (Q2)
    pytest.param(LOCAL, "http://localhost:4200", (), id="plain-mismatch"),  # §5 scheme literal (A)
]


@pytest.mark.parametrize(("pattern", "origin", "expected"), ORIGIN_QUESTION_CASES)
def test_origin_questions(pattern: str, origin: str, expected: tuple[str, ...]) -> None:
    assert origin_questions(pattern, origin) == expected


# --- §5 header matching and §4.2 parsing ----------------------------------------------------------

HEADER_CASES = [
    pytest.param("*", "x-anything", True, id="star"),  # §5 AllowedHeader * (A)
    pytest.param("x-AMZ-server-SIDE-encryption", "x-amz-server-side-encryption", True, id="config-case"),  # §5 (A)
    pytest.param("x-amz-expected-bucket-owner", "x-AMZ-expected-BUCKET-owner", True, id="request-case"),  # §5 (A)
    pytest.param("x-amz-*", "x-amz-date", True, id="partial"),  # §5 partial wildcard (D)
    pytest.param("x-amz-*", "X-Amz-Meta-Foo", True, id="partial-case"),  # §5 (D + case-insensitive A)
    pytest.param("x-amz-*", "content-type", False, id="partial-miss"),  # §5 (D)
    pytest.param("x-amz-*", "y-x-amz-date", False, id="partial-anchored"),  # §5 anchored like origins (I)
    pytest.param("content-type", "content-type-x", False, id="literal-anchored"),  # §5 literal
    pytest.param("*-amz-*", "x-amz-date", False, id="two-wildcards-never-stored"),  # §2.1 #12
]


@pytest.mark.parametrize(("pattern", "name", "expected"), HEADER_CASES)
def test_header_matches(pattern: str, name: str, expected: bool) -> None:
    assert header_matches(pattern, name) is expected


PARSE_CASES = [
    pytest.param(None, (), id="absent"),
    pytest.param("", (), id="empty"),
    pytest.param("a,b", ("a", "b"), id="no-space"),  # §4.2 opt-get-allowed-no-space (A)
    pytest.param("a, b", ("a", "b"), id="space"),  # §4.2 opt-get-two (A)
    pytest.param(" A ,  B ", ("a", "b"), id="trim-lower"),  # §4.2 trimmed, lower-cased (A)
    pytest.param("content-type,,expires", ("content-type", "expires"), id="empty-item"),  # §4.2 (S)
    pytest.param(" , ,", (), id="only-empty-items"),  # §4.2 empty items dropped
    pytest.param("x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption",
                 ("x-amz-expected-bucket-owner", "x-amz-server-side-encryption"), id="casing"),  # §4.2 (A)
]


@pytest.mark.parametrize(("value", "expected"), PARSE_CASES)
def test_parse_request_headers(value: str | None, expected: tuple[str, ...]) -> None:
    assert parse_request_headers(value) == expected


# --- §5 rule selection ----------------------------------------------------------------------------

SELECT_CASES = [
    pytest.param(THREE, "https://app.example", "PUT", ["content-type"], 1, id="first-full-not-first-origin"),  # §5
    pytest.param(THREE, "https://app.example", "GET", [], 0, id="first-rule"),  # §5
    pytest.param(THREE, "https://app.example", "GET", ["content-type"], None, id="no-allowed-headers"),  # §5
    pytest.param(THREE, "https://app.example", "PUT", ["x-other"], 2, id="header-falls-through"),  # §5
    pytest.param(THREE, "https://other.example", "PUT", [], 2, id="origin-falls-through"),  # §5
    pytest.param(THREE, "https://app.example", "DELETE", [], None, id="method-nowhere"),  # §5
    pytest.param(THREE, "https://app.example", "put", [], None, id="method-case-sensitive"),  # §5 Method
    pytest.param(NO_HEADERS, "x", "GET", [], 0, id="no-headers-rule-no-request"),  # §5 (A)
    pytest.param(NO_HEADERS, "x", "GET", ["x-amz-date"], None, id="no-headers-rule-refuses"),  # §5 (A)
    pytest.param(AMZ, "x", "GET", ["x-amz-date", "X-AMZ-ACL"], 0, id="partial-header-all"),  # §5 (D)
    pytest.param(AMZ, "x", "GET", ["x-amz-date", "content-type"], None, id="partial-header-one-miss"),  # §5
    pytest.param([], "x", "GET", [], None, id="empty-rule-list"),
]


@pytest.mark.parametrize(("rules", "origin", "method", "names", "expected"), SELECT_CASES)
def test_select_rule(rules, origin, method, names, expected) -> None:
    assert select_rule(rules, origin, method, names) == expected


def test_three_strategies_differ() -> None:
    """The THREE fixture really separates first-origin, first-full and last-full selection (§5)."""
    origin, method, names = "https://app.example", "PUT", ["content-type"]
    first_origin = next(i for i, r in enumerate(THREE) if any(origin_matches(p, origin) for p in r.allowed_origins))
    full = [i for i, r in enumerate(THREE) if select_rule([r], origin, method, names) == 0]
    assert (first_origin, full[0], full[-1]) == (0, 1, 2)
    assert select_rule(THREE, origin, method, names) == 1


# --- §4 preflight -----------------------------------------------------------------------------------

PREFLIGHT_CASES = [
    # Step 1: no Origin, whatever the bucket (§4.1, A).
    pytest.param(RIGHT, OPTIONS(request_method="GET"), Answer(400, "BadRequest", NO_ORIGIN), id="s1-configured"),
    pytest.param(None, OPTIONS(), Answer(400, "BadRequest", NO_ORIGIN), id="s1-no-config"),
    pytest.param(None, OPTIONS(bucket_exists=False), Answer(400, "BadRequest", NO_ORIGIN), id="s1-no-bucket"),
    # Step 2: bucket missing (§4.1, A); Method is ACRM or OPTIONS.
    pytest.param(None, OPTIONS(origin="x", bucket_exists=False),
                 forbidden(BUCKET_NOT_FOUND, "OPTIONS", "BUCKET"), id="s2-no-acrm"),
    pytest.param(None, OPTIONS(origin="x", request_method="PUT", bucket_exists=False),
                 forbidden(BUCKET_NOT_FOUND, "PUT", "BUCKET"), id="s2-acrm"),
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="GET", bucket_exists=False),
                 forbidden(BUCKET_NOT_FOUND, "GET", "BUCKET"), id="s2-before-rules"),
    # Step 3: no configuration; BUCKET even for an object URL (§4.1, §11, A).
    pytest.param(None, OPTIONS(origin="whatever", request_method="PUT"),
                 forbidden(NOT_ENABLED, "PUT", "BUCKET"), id="s3-acrm-object-url"),
    pytest.param(None, OPTIONS(origin="whatever"), forbidden(NOT_ENABLED, "OPTIONS", "BUCKET"), id="s3-no-acrm"),
    pytest.param(None, OPTIONS(origin="whatever", request_method="PATCH"),
                 forbidden(NOT_ENABLED, "PATCH", "BUCKET"), id="s3-before-acrm-check"),
    # Step 4: configured, ACRM missing/invalid (§4.1, S: Q1).
    pytest.param(RIGHT, OPTIONS(origin=LOCAL), bad_acrm("null"), id="s4-missing"),
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="PATCH"), bad_acrm("PATCH"), id="s4-patch"),
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="get"), bad_acrm("get"), id="s4-lowercase"),
    pytest.param(RIGHT, OPTIONS(origin="nomatch", request_method="OPTIONS"), bad_acrm("OPTIONS"), id="s4-before-s5"),
    # Step 5: no full match (§4.1, A): OBJECT vs BUCKET, Method = requested method.
    pytest.param(RIGHT, OPTIONS(origin="http://localhost:4200", request_method="GET"),
                 forbidden(NOT_ALLOWED, "GET", "OBJECT"), id="s5-wrong-scheme"),
    pytest.param(RIGHT, OPTIONS(origin="http://localhost:4200", request_method="GET", resource="bucket"),
                 forbidden(NOT_ALLOWED, "GET", "BUCKET"), id="s5-bucket-url"),
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="DELETE"),
                 forbidden(NOT_ALLOWED, "DELETE", "OBJECT"), id="s5-method"),
    pytest.param(NO_HEADERS, OPTIONS(origin="x", request_method="GET", request_headers="x-amz-date"),
                 forbidden(NOT_ALLOWED, "GET", "OBJECT"), id="s5-no-allowed-headers"),  # opt-get-headers
    pytest.param(PARTIAL, OPTIONS(origin="http://test.origin.com/", request_method="GET", resource="bucket"),
                 forbidden(NOT_ALLOWED, "GET", "BUCKET"), id="s5-partial-anchored"),  # options_fails_partial
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="HEAD"),
                 forbidden(NOT_ALLOWED, "HEAD", "OBJECT"), id="s5-head-needs-head"),  # §5 Method
    pytest.param([Rule(("https://Localhost:4200",), ("GET",))], OPTIONS(origin=LOCAL, request_method="GET"),
                 forbidden(NOT_ALLOWED, "GET", "OBJECT", ("Q2",)), id="s5-case-only-q2"),  # §5 Origin case
    # Step 6 and §4.2 headers.
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="PUT"),
                 Answer(200, headers=echo(LOCAL, "GET, PUT", **{ACMA: "3000"}), matched_rule=0),
                 id="s6-opt-right-origin"),  # §4.2 example (A)
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="GET",
                                request_headers="x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption"),
                 Answer(200, headers=echo(LOCAL, "GET, PUT", **{
                     ACAH: "x-amz-expected-bucket-owner, x-amz-server-side-encryption", ACMA: "3000"}),
                     matched_rule=0), id="s6-acrh-lowercased-never-star"),  # §4.2 (A)
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="GET", request_headers="a,b"),
                 Answer(200, headers=echo(LOCAL, "GET, PUT", **{ACAH: "a, b", ACMA: "3000"}), matched_rule=0),
                 id="s6-acrh-no-space"),  # §4.2 (A)
    pytest.param(RIGHT, OPTIONS(origin=LOCAL, request_method="GET", request_headers="content-type,,expires"),
                 Answer(200, headers=echo(LOCAL, "GET, PUT", **{ACAH: "content-type, expires", ACMA: "3000"}),
                        matched_rule=0), id="s6-acrh-empty-item"),  # §4.2 (S)
    pytest.param(NO_HEADERS, OPTIONS(origin="x", request_method="GET", request_headers=" , "),
                 Answer(200, headers=star("GET"), matched_rule=0), id="s6-acrh-only-empty-items"),  # §4.2
    pytest.param(WILD, OPTIONS(origin="any", request_method="GET"),
                 Answer(200, headers=star("GET"), matched_rule=0), id="s6-star-no-credentials"),  # §4.2 (A)
    pytest.param(EXPOSE, OPTIONS(origin="localhost:4566", request_method="GET"),
                 Answer(200, headers=star("GET", **{ACEH: "x-amz-id-2, x-amz-request-id, x-amz-request-payer"}),
                        matched_rule=0), id="s6-expose"),  # §4.2 (A)
    pytest.param(PARTIAL, OPTIONS(origin="http://test.origin.com", request_method="GET"),
                 Answer(200, headers=echo("http://test.origin.com", "GET"), matched_rule=0),
                 id="s6-partial-echo"),  # §4.2 options_match_partial_origin (A)
    pytest.param(THREE, OPTIONS(origin="https://app.example", request_method="PUT", request_headers="Content-Type"),
                 Answer(200, headers=echo("https://app.example", "PUT", **{ACAH: "content-type"}), matched_rule=1),
                 id="s6-first-full-match"),  # §5 rule selection
    pytest.param(THREE, OPTIONS(origin="https://else.example", request_method="PUT"),
                 Answer(200, headers=star("PUT"), matched_rule=2), id="s6-falls-to-star"),  # §5 (S: SCAL-T)
    pytest.param(AMZ, OPTIONS(origin="o", request_method="GET", request_headers="X-Amz-Date, x-amz-acl"),
                 Answer(200, headers=star("GET", **{ACAH: "x-amz-date, x-amz-acl"}), matched_rule=0),
                 id="s6-partial-header"),  # §5 (D)
    pytest.param([Rule(("*",), ("HEAD",))], OPTIONS(origin="o", request_method="HEAD"),
                 Answer(200, headers=star("HEAD"), matched_rule=0), id="s6-head"),  # §5 Method
    # Open questions on a 200.
    pytest.param([Rule(("*", LOCAL), ("GET",))], OPTIONS(origin=LOCAL, request_method="GET"),
                 Answer(200, headers=star("GET"), matched_rule=0, open_questions=("Q3",)), id="q3-star-and-exact"),
    pytest.param([Rule(("*",), ("GET",), max_age_seconds=0)], OPTIONS(origin="o", request_method="GET"),
                 Answer(200, headers=star("GET", **{ACMA: "0"}), matched_rule=0, open_questions=("Q4",)),
                 id="q4-max-age-zero"),
    pytest.param([Rule(("*",), ("GET",), max_age_seconds=-200)], OPTIONS(origin="o", request_method="GET"),
                 Answer(200, headers=star("GET", **{ACMA: "-200"}), matched_rule=0, open_questions=("Q4",)),
                 id="q4-max-age-negative"),
    pytest.param([Rule(("*.example.com",), ("GET",))], OPTIONS(origin="https://a.example.com", request_method="GET"),
                 Answer(200, headers=echo("https://a.example.com", "GET"), matched_rule=0, open_questions=("Q2",)),
                 id="q2-star-spans-scheme"),
    pytest.param([Rule(("https://A.example",), ("GET",)), Rule(("*",), ("GET",))],
                 OPTIONS(origin="https://a.example", request_method="GET"),
                 Answer(200, headers=star("GET"), matched_rule=1, open_questions=("Q2",)),
                 id="q2-earlier-rule-case"),
    pytest.param([Rule(("https://A.example",), ("PUT",)), Rule(("*",), ("GET",))],
                 OPTIONS(origin="https://a.example", request_method="GET"),
                 Answer(200, headers=star("GET"), matched_rule=1), id="q2-irrelevant-when-method-misses"),
]


@pytest.mark.parametrize(("rules", "request_", "expected"), PREFLIGHT_CASES)
def test_evaluate_preflight(rules, request_: Request, expected: Answer) -> None:
    assert_answer(evaluate_preflight(rules, request_), expected)


# --- §6 actual requests -----------------------------------------------------------------------------

GET_RULE = [Rule((LOCAL,), ("GET",), max_age_seconds=3000)]
NONE = Answer(None)

ACTUAL_CASES = [
    pytest.param(GET_RULE, Request("GET"), NONE, id="no-origin"),  # §6 get-no-origin (A)
    pytest.param(None, Request("GET", origin="whatever"), NONE, id="no-config"),  # §6 (A)
    pytest.param(GET_RULE, Request("GET", origin=LOCAL, bucket_exists=False), NONE, id="no-bucket"),  # §6 (S)
    pytest.param(GET_RULE, Request("GET", origin=LOCAL),
                 Answer(None, headers=echo(LOCAL, "GET", **{ACMA: "3000"}), matched_rule=0),
                 id="get-right-origin"),  # §6 (A): no Allow-Headers
    pytest.param(WILD, Request("GET", origin="random"),
                 Answer(None, headers=star("GET"), matched_rule=0), id="star-rule"),  # §6 (A)
    pytest.param(EXPOSE, Request("GET", origin="localhost:4566"),
                 Answer(None, headers=star("GET", **{ACEH: "x-amz-id-2, x-amz-request-id, x-amz-request-payer"}),
                        matched_rule=0), id="expose"),  # §6 (A)
    pytest.param(GET_RULE, Request("GET", origin="http://localhost:4200"), NONE, id="wrong-origin"),  # §6 (A)
    pytest.param(GET_RULE, Request("PUT", origin=LOCAL), NONE, id="put-op-not-allowed"),  # §6 put-op (A)
    pytest.param(GET_RULE, Request("GET", origin=LOCAL, request_method="PUT"), NONE, id="acrm-wins"),  # §5 (A)
    pytest.param(GET_RULE, Request("PUT", origin=LOCAL, request_method="GET"),
                 Answer(None, headers=echo(LOCAL, "GET", **{ACMA: "3000"}), matched_rule=0),
                 id="acrm-rescues-put"),  # §5 (S: S3T)
    pytest.param(GET_RULE, Request("HEAD", origin=LOCAL), NONE, id="head-needs-head"),  # §5 Method
    pytest.param([Rule(("*",), ("HEAD",))], Request("HEAD", origin="o"),
                 Answer(None, headers=star("HEAD"), matched_rule=0), id="head-rule"),  # §5/§6
    pytest.param(GET_RULE, Request("GET", origin=LOCAL, request_headers="x-amz-acl"),
                 NONE, id="acrh-not-allowed"),  # §5/§6 get-non-allowed-with-acl (A)
    pytest.param([Rule(("*",), ("GET",), ("x-amz-*",))], Request("GET", origin="o", request_headers="X-Amz-Acl"),
                 Answer(None, headers=star("GET", **{ACAH: "x-amz-acl"}), matched_rule=0, open_questions=("Q8",)),
                 id="acrh-allowed-q8"),  # §6 (S: Q8)
    # Headers actually sent are not part of Request: a rule without AllowedHeaders still matches (§5, A).
    pytest.param(NO_HEADERS, Request("GET", origin="o"),
                 Answer(None, headers=star("GET"), matched_rule=0), id="sent-headers-not-checked"),
    pytest.param(THREE, Request("PUT", origin="https://app.example", request_headers="content-type"),
                 Answer(None, headers=echo("https://app.example", "PUT", **{ACAH: "content-type"}), matched_rule=1,
                        open_questions=("Q8",)), id="first-full-match"),  # §5
    pytest.param([Rule(("*", "o"), ("GET",), max_age_seconds=0)], Request("GET", origin="o"),
                 Answer(None, headers=star("GET", **{ACMA: "0"}), matched_rule=0, open_questions=("Q3", "Q4")),
                 id="q3-q4"),
    pytest.param(RIGHT, Request("GET", origin="http://Localhost:4200"), NONE, id="scheme-mismatch-no-q2"),
    pytest.param([Rule(("HTTPS://localhost:4200",), ("GET",))], Request("GET", origin=LOCAL),
                 Answer(None, open_questions=("Q2",)), id="case-only-q2"),  # §5 Origin case
]


@pytest.mark.parametrize(("rules", "request_", "expected"), ACTUAL_CASES)
def test_evaluate_actual(rules, request_: Request, expected: Answer) -> None:
    assert_answer(evaluate_actual(rules, request_), expected)


def test_cors_headers_same_for_both_kinds() -> None:
    """§4.2 and §6 list the same headers; Allow-Headers only when names were requested."""
    rule = Rule((LOCAL,), ("GET", "PUT"), ("*",), ("ETag",), 10)
    both = [cors_headers(rule, LOCAL, ["X-A"], preflight=p) for p in (True, False)]  # lower-cased (§4.2)
    assert both[0] == both[1] == echo(LOCAL, "GET, PUT", **{ACAH: "x-a", ACEH: "ETag", ACMA: "10"})
    assert ACAH not in cors_headers(rule, LOCAL, [], preflight=True)


# --- §2.1 PutBucketCors validation ------------------------------------------------------------------


def rule(**members) -> dict:
    """A valid boto3 CORSRule dict with some members replaced (None deletes)."""
    d = {"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"], **members}
    return {k: v for k, v in d.items() if v is not None}


def ok(questions: tuple[str, ...] = ()) -> Validation:
    """An expected acceptance."""
    return Validation(True, 200, None, None, questions)


def malformed() -> Validation:
    """An expected MalformedXML refusal (§2.1 #2)."""
    return Validation(False, 400, "MalformedXML", MALFORMED)


def invalid(message: str, questions: tuple[str, ...] = ()) -> Validation:
    """An expected InvalidRequest refusal."""
    return Validation(False, 400, "InvalidRequest", message, questions)


UNSUPPORTED = "Found unsupported HTTP method in CORS config. Unsupported method is "  # §2.1 #7/#8

RULES_CASES = [
    pytest.param([rule()], ok(), id="r1-valid"),
    pytest.param([], malformed(), id="r2-no-rule"),
    pytest.param([{}], malformed(), id="r3-empty-rule"),
    pytest.param([rule(AllowedOrigins=None)], malformed(), id="r4-no-origin"),
    pytest.param([rule(AllowedOrigins=[])], malformed(), id="r4-empty-origin-list"),
    pytest.param([{"AllowedOrigins": ["*"], "MaxAgeSeconds": 3000}], malformed(), id="r5-no-method"),
    pytest.param([rule(AllowedOrigins=[""])], ok(), id="r6-empty-origin-accepted"),
    pytest.param([rule(AllowedMethods=[""])], invalid(UNSUPPORTED), id="r7-empty-method"),
    pytest.param([rule(AllowedOrigins=["*", "https://test.com"], AllowedMethods=["GET", "MYMETHOD"])],
                 invalid(UNSUPPORTED + "MYMETHOD"), id="r8-mymethod"),
    pytest.param([rule(AllowedMethods=["OPTIONS"])], invalid(UNSUPPORTED + "OPTIONS"), id="r9-options"),
    pytest.param([rule(AllowedMethods=["PATCH"])], invalid(UNSUPPORTED + "PATCH"), id="r9-patch"),
    pytest.param([rule(AllowedMethods=["GET", "PUT", "HEAD", "POST", "DELETE"])], ok(), id="r9-all-five"),
    pytest.param([rule(AllowedMethods=["get"])], invalid(UNSUPPORTED + "get"), id="r10-lowercase"),
    pytest.param([rule(AllowedOrigins=["*example*.com"])],
                 invalid('AllowedOrigin "*example*.com" can not have more than one wildcard.'), id="r11-origin-2x"),
    pytest.param([rule(AllowedOrigins=["http://*.example.com"])], ok(), id="r11-one-wildcard-ok"),
    pytest.param([rule(AllowedHeaders=["*-amz-*"])],
                 invalid('AllowedHeader "*-amz-*" can not have more than one wildcard.', ("Q5",)), id="r12-header-2x"),
    pytest.param([rule(AllowedHeaders=["*", "x-amz-*", "x-AMZ-server-SIDE-encryption"])], ok(), id="r12-ok"),
    pytest.param([rule(ExposeHeaders=["*"])],
                 invalid('ExposeHeader "*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
                         ("Q5",)), id="r13-expose-star"),
    pytest.param([rule(ExposeHeaders=["x-amz-*"])],
                 invalid('ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for '
                         "ExposeHeader.", ("Q5",)), id="r13-expose-partial"),
    pytest.param([rule(ExposeHeaders=["test header"])],
                 invalid("AllowedHeader test header contains invalid character.", ("Q5",)), id="r14-expose-char"),
    pytest.param([rule(AllowedHeaders=["bad header"])],
                 invalid("AllowedHeader bad header contains invalid character.", ("Q5",)), id="r14-allowed-char"),
    pytest.param([rule()] * 101,
                 invalid("The number of CORS rules should not exceed allowed limit of 100 rules.", ("Q5",)),
                 id="r15-101-rules"),
    pytest.param([rule()] * 100, ok(), id="r15-100-rules"),
    pytest.param([rule(ID="i" * 256)], ok(("Q5",)), id="r16-id-256"),
    pytest.param([rule(ID="i" * 255)], ok(), id="r16-id-255"),
    pytest.param([rule(MaxAgeSeconds=-200)], ok(), id="r17-negative-max-age"),
    pytest.param([rule(MaxAgeSeconds="a")], malformed(), id="r18-max-age-a"),
    pytest.param([rule(MaxAgeSeconds=True)], malformed(), id="r18-max-age-bool"),
    pytest.param([rule(MaxAgeSeconds=1.5)], malformed(), id="r18-max-age-float"),
    pytest.param([rule(MaxAgeSeconds=None, ID="x", ExposeHeaders=["ETag"])], ok(), id="r25-max-age-optional"),
    pytest.param([rule(Unknown=["x"])], malformed(), id="extra-member"),
    pytest.param([rule(AllowedOrigins="*")], malformed(), id="origins-not-a-list"),
    pytest.param([rule(ID=5)], malformed(), id="id-not-a-string"),
    pytest.param(["not a mapping"], malformed(), id="rule-not-a-mapping"),
]


@pytest.mark.parametrize(("rules", "expected"), RULES_CASES)
def test_validate_rules(rules, expected: Validation) -> None:
    got = validate_rules(rules)
    assert (got.accepted, got.status, got.code, got.message, got.open_questions) == (
        expected.accepted, expected.status, expected.code, expected.message, expected.open_questions)
    assert got.reason


def test_validate_rules_q6_when_violations_differ() -> None:
    """§2.1 note / Q6: with two different violations, the first is reported and Q6 flagged."""
    got = validate_rules([rule(AllowedMethods=["PATCH"]), rule(AllowedOrigins=["*a*"])])
    assert (got.code, got.message, got.open_questions) == ("InvalidRequest", UNSUPPORTED + "PATCH", ("Q6",))
    same = validate_rules([rule(AllowedMethods=["PATCH"]), rule(AllowedMethods=["PATCH"])])
    assert same.open_questions == ()


def doc(*rules: str, xmlns: bool = True) -> bytes:
    """A PutBucketCors body with the given <CORSRule> inner texts."""
    ns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' if xmlns else ""
    inner = "".join(f"<CORSRule>{r}</CORSRule>" for r in rules)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration{ns}>{inner}</CORSConfiguration>'.encode()


GOOD = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"


def padded(size: int) -> bytes:
    """A valid document padded with trailing whitespace to exactly `size` bytes."""
    body = doc(GOOD)
    return body + b" " * (size - len(body))


DOCUMENT_CASES = [
    pytest.param(doc(GOOD), ok(), id="with-xmlns"),  # §2.1 #1
    pytest.param(doc(GOOD, xmlns=False), ok(), id="without-xmlns"),
    pytest.param(doc("<MaxAgeSeconds>10</MaxAgeSeconds><ExposeHeader>ETag</ExposeHeader><AllowedMethod>PUT"
                     "</AllowedMethod><ID>r</ID><AllowedHeader>*</AllowedHeader><AllowedOrigin>o</AllowedOrigin>"),
                 ok(), id="r25-any-order"),
    pytest.param(doc(GOOD, GOOD), ok(), id="two-rules"),
    pytest.param(b"<CORSConfiguration><CORSRule>", malformed(), id="r24-not-well-formed"),
    pytest.param(b"", malformed(), id="r24-empty-body"),
    pytest.param(doc(), malformed(), id="r2-no-rule"),
    pytest.param(doc(""), malformed(), id="r3-empty-rule"),
    pytest.param(doc("<AllowedMethod>GET</AllowedMethod>"), malformed(), id="r4-no-origin"),
    pytest.param(doc("<AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>3000</MaxAgeSeconds>"), malformed(),
                 id="r5-no-method"),
    pytest.param(doc("<AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), ok(), id="r6-empty-origin"),
    pytest.param(doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod>"), invalid(UNSUPPORTED),
                 id="r7-empty-method"),
    pytest.param(doc("<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
                 invalid('AllowedOrigin "*example*.com" can not have more than one wildcard.'), id="r11-origin-2x"),
    pytest.param(doc(GOOD + "<MaxAgeSeconds>-200</MaxAgeSeconds>"), ok(), id="r17-negative"),
    pytest.param(doc(GOOD + "<MaxAgeSeconds>a</MaxAgeSeconds>"), malformed(), id="r18-max-age-a"),
    pytest.param(doc(GOOD + "<Foo>1</Foo>"), malformed(), id="unknown-element"),
    pytest.param(doc(GOOD + "<ID>a</ID><ID>b</ID>"), malformed(), id="repeated-id"),
    pytest.param(doc(GOOD + "<AllowedHeader><x/></AllowedHeader>"), malformed(), id="nested-element"),
    pytest.param(doc(GOOD).replace(b"2006-03-01", b"1999-01-01"), malformed(), id="foreign-namespace"),
    pytest.param(doc(GOOD).replace(b"CORSConfiguration", b"Configuration"), malformed(), id="wrong-root"),
    pytest.param(padded(65536), ok(), id="r19-exactly-64k"),
    pytest.param(padded(65537), Validation(False, None, None, None, ("Q5",)), id="r19-over-64k"),
]


@pytest.mark.parametrize(("body", "expected"), DOCUMENT_CASES)
def test_validate_document(body: bytes, expected: Validation) -> None:
    got = validate_document(body)
    assert (got.accepted, got.status, got.code, got.message, got.open_questions) == (
        expected.accepted, expected.status, expected.code, expected.message, expected.open_questions)


# --- Rule conversion ----------------------------------------------------------------------------------


def test_to_boto_omits_absent_members() -> None:
    """§3 'Get, configured': only members that were set appear; no empty lists, no None."""
    assert Rule(("*",), ("GET",)).to_boto() == {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}


def test_from_boto_full() -> None:
    """§3 LS-CFN 'cors-info-optional' shape."""
    d = {"ID": "test-cors-id", "AllowedHeaders": ["*", "x-amz-*"], "AllowedMethods": ["GET"],
         "AllowedOrigins": ["*"], "ExposeHeaders": ["Date"], "MaxAgeSeconds": 3600}
    assert Rule.from_boto(d) == Rule(("*",), ("GET",), ("*", "x-amz-*"), ("Date",), 3600, "test-cors-id")
    assert Rule.from_boto(d).to_boto() == d


# --- negative tests: wrong expectations are caught -------------------------------------------------


def test_wrong_expectation_second_wildcard_is_detected() -> None:
    """A table row claiming AWS accepts two origin wildcards (moto/LS behaviour, §9/§10) must fail."""
    wrong = ok()
    got = validate_rules([rule(AllowedOrigins=["*example*.com"])])
    with pytest.raises(AssertionError):
        assert got.accepted == wrong.accepted


def test_wrong_expectation_answer_is_detected() -> None:
    """assert_answer catches emulator-style expectations: moto's echoed ACAO and missing Vary (§9)."""
    actual = evaluate_preflight(WILD, OPTIONS(origin="any", request_method="GET"))
    moto_like = Answer(200, headers={ACAO: "any", ACAM: "GET"}, matched_rule=0)
    with pytest.raises(AssertionError):
        assert_answer(actual, moto_like)
    localstack_like = Answer(200, headers=star("GET"), matched_rule=0)  # ...but the right one passes
    assert_answer(actual, localstack_like)


def test_wrong_expectation_typo_is_detected() -> None:
    """The corrected spelling 'evaluation' (Huawei OBS docs, §11) is not AWS's message."""
    got = evaluate_preflight(RIGHT, OPTIONS(origin="nope", request_method="GET"))
    with pytest.raises(AssertionError):
        assert got.error_message == NOT_ALLOWED.replace("evalution", "evaluation")


# --- properties ---------------------------------------------------------------------------------------

ORIGIN_ALPHABET = "ab.:/*"
origins = st.text(alphabet="ab.:/", max_size=8)
patterns = st.text(alphabet=ORIGIN_ALPHABET, max_size=8)
small_rules = st.builds(
    Rule,
    allowed_origins=st.lists(st.sampled_from(["*", "a", "b", "a*", "*b", "A"]), min_size=1, max_size=3).map(tuple),
    allowed_methods=st.lists(st.sampled_from(sorted(METHODS)), min_size=1, max_size=3, unique=True).map(tuple),
    allowed_headers=st.lists(st.sampled_from(["*", "x-a", "X-B", "x-*"]), max_size=2).map(tuple),
    max_age_seconds=st.none() | st.integers(-5, 5),
)
requests = st.builds(
    Request,
    method=st.sampled_from(["OPTIONS", "GET", "HEAD", "PUT"]),
    origin=st.none() | st.sampled_from(["a", "b", "ab", "A", ""]),
    request_method=st.none() | st.sampled_from(["GET", "PUT", "HEAD", "get", "PATCH"]),
    request_headers=st.none() | st.sampled_from(["", "x-a", "X-A, x-b", "x-c", "x-a,,x-b"]),
    resource=st.sampled_from(["object", "bucket"]),
    bucket_exists=st.booleans(),
)
rule_lists = st.none() | st.lists(small_rules, max_size=4)


@given(st.text().filter(lambda p: "*" not in p), st.text())
def test_prop_literal_origin_is_equality(pattern: str, origin: str) -> None:
    """§5: without '*' an AllowedOrigin is compared literally."""
    assert origin_matches(pattern, origin) == (pattern == origin)


@given(st.text(alphabet="ab.:/", max_size=4), st.text(alphabet="ab.:/", max_size=4), origins)
def test_prop_single_star_matches_any_middle(prefix: str, suffix: str, middle: str) -> None:
    """§5: one '*' matches any run, including the empty one, anchored at both ends."""
    pattern = prefix + "*" + suffix
    assert origin_matches(pattern, prefix + middle + suffix)
    if suffix:  # anchored at the end: a trailing extra character breaks the match
        assert not origin_matches(pattern, prefix + middle + suffix + "!")


@given(patterns.filter(lambda p: p.count("*") > 1), origins)
def test_prop_second_wildcard_never_matches(pattern: str, origin: str) -> None:
    """§2.1 #11: a pattern with two wildcards is never stored, so it matches nothing."""
    assert not origin_matches(pattern, origin)


@given(rule_lists, requests)
@settings(max_examples=300)
def test_prop_preflight_shape(rules, request_: Request) -> None:
    """§4.1/§4.2/§7: a 200 always has Vary and ACAM; errors carry no headers; echo == request origin."""
    answer = evaluate_preflight(rules, request_)
    assert answer.status in (200, 400, 403)
    if answer.status == 200:
        assert answer.headers["Vary"] == VARY_VALUE
        assert answer.error_code is None and answer.matched_rule is not None
        assert answer.headers[ACAM] == ", ".join(rules[answer.matched_rule].allowed_methods)
        assert ACAH not in answer.headers or answer.headers[ACAH] != "*"
    else:
        assert answer.headers == {} and answer.matched_rule is None and answer.error_code
    if answer.headers.get(ACAO, "*") != "*":
        assert answer.headers[ACAO] == request_.origin and answer.headers[ACAC] == "true"
    else:
        assert ACAC not in answer.headers


@given(rule_lists, requests)
@settings(max_examples=300)
def test_prop_actual_never_changes_status(rules, request_: Request) -> None:
    """§6: status is untouched; headers either absent entirely or carry Vary; echo == request origin."""
    answer = evaluate_actual(rules, request_)
    assert answer.status is None and answer.error_code is None
    assert (answer.headers == {}) == (answer.matched_rule is None)
    if answer.headers:
        assert answer.headers["Vary"] == VARY_VALUE
        assert answer.headers[ACAO] in ("*", request_.origin)


@given(st.lists(small_rules, max_size=5), st.sampled_from(["a", "b", "ab", "A"]),
       st.sampled_from(sorted(METHODS)), st.lists(st.sampled_from(["x-a", "x-b", "X-A"]), max_size=2))
def test_prop_select_rule_is_first_full_match(rules, origin, method, names) -> None:
    """§5: the selected rule matches fully and no earlier rule does."""
    index = select_rule(rules, origin, method, names)
    singles = [select_rule([r], origin, method, names) == 0 for r in rules]
    assert index == (singles.index(True) if any(singles) else None)


@given(st.builds(
    Rule,
    allowed_origins=st.lists(st.text(), min_size=1, max_size=3).map(tuple),
    allowed_methods=st.lists(st.sampled_from(sorted(METHODS)), min_size=1, max_size=5).map(tuple),
    allowed_headers=st.lists(st.text(), max_size=3).map(tuple),
    expose_headers=st.lists(st.text(), max_size=3).map(tuple),
    max_age_seconds=st.none() | st.integers(-(2**31), 2**31 - 1),
    id=st.none() | st.text(max_size=10),
))
def test_prop_boto_round_trip(rule_: Rule) -> None:
    """§3: GetBucketCors returns what was put; to_boto/from_boto are inverse."""
    assert Rule.from_boto(rule_.to_boto()) == rule_


@given(st.text(alphabet="aB ,-", max_size=20))
def test_prop_parse_request_headers_idempotent(value: str) -> None:
    """§4.2: parsed names are trimmed, lower-case, non-empty; re-parsing the joined list is stable."""
    names = parse_request_headers(value)
    assert all(n and n == n.strip().lower() for n in names)
    assert parse_request_headers(", ".join(names)) == names
