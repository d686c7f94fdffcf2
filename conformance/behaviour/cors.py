"""Bridge between case tables, the behaviour model and real answers: what a case expects, how it is sent,
and how a server's preflight or actual-request answer is checked against the model."""

from __future__ import annotations

from typing import Any

from conformance.behaviour import model
from conformance.browser import fetch
from conformance.behaviour.tables import Case
from conformance.behaviour.checks import Check
from conformance.target.http import S3, Response, preflight_args

PROBE_KEY = "cors-probe.txt"  # the object key requests name: preflights need no object (§4.3), GET/HEAD do
ACAO, ACAC = "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"
ACAM, ACAH = "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"
ACEH, ACMA = "Access-Control-Expose-Headers", "Access-Control-Max-Age"
# Open questions that decide a MUST-level fact (the status class or the ACAO value): cases resting on
# them must be INFO. The others (Q1 exact error, Q4 Max-Age <= 0, Q16) only leave the exact form open.
DECISIVE_QUESTIONS = {"Q2", "Q3", "Q8", "Q13"}


def case_rules(case: Case) -> list[model.Rule] | None:
    """The case's configuration as model rules; None when the bucket has no CORS configuration."""
    rules = case.setup.get("rules", [])
    return [model.Rule.from_boto(r) for r in rules] if rules else None


def model_request(case: Case, http_method: str = "OPTIONS") -> model.Request:
    """The case's request as the model sees it."""
    send = case.send
    return model.Request(
        method=send.get("http", http_method), origin=send.get("origin"), request_method=send.get("method"),
        request_headers=send.get("headers"), resource=send.get("resource", "object"),
        bucket_exists=case.setup.get("bucket") != "missing",
        signed=http_method != "OPTIONS" and send.get("signed", True) and send.get("signature") != "wrong")


def expected_preflight(case: Case) -> model.Answer:
    """What a conforming server answers to the case's preflight."""
    return model.evaluate_preflight(case_rules(case), model_request(case))


def expected_actual(case: Case) -> model.Answer:
    """The CORS headers a conforming server adds to the case's actual request."""
    return model.evaluate_actual(case_rules(case), model_request(case, case.send.get("http", "GET")))


def preflight_call(case: Case, bucket: str) -> dict:
    """The keyword arguments of S3.preflight for the case's OPTIONS request."""
    send = case.send
    key = None if send.get("resource") == "bucket" else send.get("key", PROBE_KEY)
    return {"bucket": bucket, "key": key, "origin": send.get("origin"), "method": send.get("method"),
            "request_headers": send.get("headers"), "extra": send.get("extra_headers"),
            "note": f"preflight ({case.id})"}


def send_preflight(s3: S3, case: Case, bucket: str) -> Response:
    """Send the case's OPTIONS request (unsigned, as a browser does)."""
    return s3.preflight(**preflight_call(case, bucket))


def plan_preflight(case: Case, bucket: str, s3: S3) -> list[dict]:
    """What send_preflight will send (S3.request's keyword arguments), to be sent ahead (cases(ahead=...))."""
    return [preflight_args(**preflight_call(case, bucket))]


def _status(resp: Response) -> str:
    code = resp.code
    return f"{resp.status} {code}" if code else str(resp.status)


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def check_preflight(check: Check, expected: model.Answer, resp: Response, focus: set[str],
                    requested_method: str | None = None) -> None:
    """Compare a preflight answer with the model's, for the aspects in focus.

    Aspects: origin (ACAO single line and value), credentials (ACAC), rule (which rule answered, by its Expose-Headers
    marker), status (exact status), methods, headers, expose, max_age, vary, body, error (code, message,
    Method, ResourceType), no_cors (no Access-Control-* / Vary on a refusal)."""
    exact = "INFO" if expected.open_questions else "SHOULD"
    want = expected.headers
    if expected.status == 200:
        check.must(200 <= resp.status < 300, "preflight allowed (2xx)", 200, _status(resp))
        if "status" in focus:
            check.that(exact, resp.status == 200, "status 200", 200, resp.status)
        if not 200 <= resp.status < 300:
            return
        check_allowed_headers(check, want, resp, focus, exact, requested_method=requested_method)
        if "body" in focus:
            check.should(resp.body == b"", "empty body", "", resp.body[:200].decode("utf-8", "replace"))
            length = resp.header("Content-Length")
            check.should(length in (None, "0"), "Content-Length: 0", "0", length)
        return
    check.must(400 <= resp.status < 500, f"preflight refused (4xx, {expected.status} in AWS)", expected.status,
               _status(resp))
    if "status" in focus:
        check.that(exact, resp.status == expected.status, "status", expected.status, resp.status)
    if "error" in focus:
        error = resp.error
        check.that(exact, error.get("Code") == expected.error_code, "error Code", expected.error_code,
                   error.get("Code"))
        check.that(exact, error.get("Message") == expected.error_message, "error Message",
                   expected.error_message, error.get("Message"))
        check.that(exact, error.get("Method") == expected.error_method, "error <Method>", expected.error_method,
                   error.get("Method"))
        check.that(exact, error.get("ResourceType") == expected.error_resource_type, "error <ResourceType>",
                   expected.error_resource_type, error.get("ResourceType"))
    if "no_cors" in focus:
        check.should(resp.cors_headers() == {}, "no Access-Control-* and no Vary on a refusal", {},
                     resp.cors_headers())


def check_allowed_headers(check: Check, want: dict[str, str], resp: Response, focus: set[str], exact: str,
                          requested_method: str | None) -> None:
    """The CORS headers of an allowed request (preflight or actual), aspect by aspect."""
    must = "INFO" if exact == "INFO" else "MUST"
    if "origin" in focus:
        lines = resp.headers_named(ACAO)
        check.that(must, len(lines) == 1, "exactly one Access-Control-Allow-Origin line", 1, lines)
        check.that(must, lines[:1] == [want.get(ACAO)], "Access-Control-Allow-Origin", want.get(ACAO),
                   ", ".join(lines) or None)
    if "credentials" in focus:
        check.that(must, resp.header(ACAC) == want.get(ACAC), "Access-Control-Allow-Credentials",
                   want.get(ACAC), resp.header(ACAC))
    if "rule" in focus:
        check.that(must, _names(resp.header(ACEH)) == _names(want.get(ACEH)),
                   "the rule that answered (its Expose-Headers marker)", want.get(ACEH), resp.header(ACEH))
    if "methods" in focus:
        got, expected = _names(resp.header(ACAM)), _names(want.get(ACAM))
        needed = [m for m in expected if m == requested_method] if requested_method else expected[:1]
        if want.get(ACAM):
            check.that(must, all(m in got for m in needed), "Access-Control-Allow-Methods includes the method",
                       needed, resp.header(ACAM))
        check.that(exact, resp.header(ACAM) == want.get(ACAM), "Access-Control-Allow-Methods (rule's list)",
                   want.get(ACAM), resp.header(ACAM))
    if "headers" in focus:
        needed = _names(want.get(ACAH))
        # As a browser reads it (Fetch): '*' allows nothing for a request with credentials, which the
        # conforming answer permits wherever it carries Access-Control-Allow-Credentials: true.
        for credentials in _credential_modes(want):
            refused = [h for h in needed if not fetch.header_allowed(h, resp.header(ACAH), credentials)]
            check.that(must, not refused, "Access-Control-Allow-Headers allows every requested name, as a browser "
                       f"reads it ({'with' if credentials else 'without'} credentials)", needed, resp.header(ACAH))
        check.that(exact, resp.header(ACAH) == want.get(ACAH), "Access-Control-Allow-Headers (lower-cased echo)",
                   want.get(ACAH), resp.header(ACAH))
    if "expose" in focus:
        check.that(must, sorted(_names(resp.header(ACEH))) == sorted(_names(want.get(ACEH))),
                   "Access-Control-Expose-Headers names", want.get(ACEH), resp.header(ACEH))
        check.that(exact, resp.header(ACEH) == want.get(ACEH), "Access-Control-Expose-Headers (in order)",
                   want.get(ACEH), resp.header(ACEH))
    if "max_age" in focus:
        check.that(exact, resp.header(ACMA) == want.get(ACMA), "Access-Control-Max-Age", want.get(ACMA),
                   resp.header(ACMA))
    if "vary" in focus:
        check.that(exact, resp.header("Vary") == want.get("Vary"), "Vary", want.get("Vary"), resp.header("Vary"))


def _credential_modes(want: dict[str, str]) -> tuple[bool, ...]:
    """The credentials modes of a browser request that a conforming answer serves: without credentials always,
    with credentials where it carries Access-Control-Allow-Credentials: true."""
    return (False, True) if want.get(ACAC) == "true" else (False,)


def check_actual(check: Check, expected: model.Answer, resp: Response, focus: set[str], method: str) -> None:
    """Compare the CORS headers of an actual request's answer with the model's."""
    exact = "INFO" if expected.open_questions else "SHOULD"
    must = "INFO" if set(expected.open_questions) & DECISIVE_QUESTIONS else "MUST"
    if not expected.headers:
        present = resp.cors_headers()
        check.that(must, not any(k.startswith("access-control-") for k in present),
                   "no Access-Control-* headers", {}, present)
        if "vary" in focus:
            check.that(exact, "vary" not in present, "no Vary", None, present.get("vary"))
        return
    check.that(must, resp.header(ACAO) is not None, "Access-Control-Allow-Origin present",
               expected.headers.get(ACAO), None)
    if resp.header(ACAO) is None:
        return
    check_allowed_headers(check, dict(expected.headers), resp, focus, exact, requested_method=method)
    if "no_acah" in focus and ACAH not in expected.headers:
        check.that(exact, resp.header(ACAH) is None, "no Access-Control-Allow-Headers (no request headers named)",
                   None, resp.header(ACAH))


def key_expectations(case: Case, answer: model.Answer) -> dict[str, tuple[Any, Any]]:
    """The table's explicit expectations next to the model's answer: {field: (table, model)}."""
    e, h = case.expect, answer.headers
    model_view = {
        "status": answer.status, "rule": (answer.matched_rule + 1) if answer.matched_rule is not None else 0,
        "acao": h.get(ACAO, ""), "acac": h.get(ACAC, ""), "acam": h.get(ACAM, ""), "acah": h.get(ACAH, ""),
        "aceh": h.get(ACEH, ""), "acma": h.get(ACMA, ""), "vary": h.get("Vary", ""), "code": answer.error_code,
        "message": answer.error_message, "method_element": answer.error_method,
        "resource_type": answer.error_resource_type, "cors": bool(h),
    }
    return {k: (e[k], model_view[k]) for k in model_view if k in e}
