"""What a browser does with CORS headers (WHATWG Fetch, "CORS check", "CORS-preflight fetch", "CORS-safelisted"),
as a pure function of the answers, and the browser verdict that a conforming server's answers lead to.

No I/O: the BRW self-test (tests/test_browser_model.py) derives every browser.toml row from
model.evaluate_preflight / model.evaluate_actual through `expected_verdict`, and the BRW cases apply the same
rules to the headers Chromium actually received (`verdict_from_exchanges`) to show why it decided as it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from conformance.behaviour import model

SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
# Fetch: CORS-safelisted response-header names, always readable by JavaScript.
SAFELISTED_RESPONSE_HEADERS = frozenset({"cache-control", "content-language", "content-length", "content-type",
                                         "expires", "last-modified", "pragma"})
_SAFELISTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


def _lines(headers: Headers, name: str) -> list[str]:
    """Every value of a header (case-insensitive name), one per line."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    low = name.lower()
    return [v for k, v in pairs if k.lower() == low]


def _value(headers: Headers, name: str) -> str | None:
    """A header's combined value (lines joined with ', ' as Fetch does), None when absent."""
    lines = _lines(headers, name)
    return ", ".join(lines) if lines else None


def _names(value: str | None) -> list[str]:
    """A comma-separated header list, trimmed, empty items dropped."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def is_safelisted_request_header(name: str, value: str) -> bool:
    """Fetch's CORS-safelisted request headers (the ones a page sets without causing a preflight)."""
    low = name.lower()
    if low in ("accept", "accept-language", "content-language"):
        return True
    if low == "content-type":
        return value.split(";", 1)[0].strip().lower() in _SAFELISTED_CONTENT_TYPES
    return False


def unsafe_request_headers(headers: Mapping[str, str]) -> list[str]:
    """The names a preflight lists in Access-Control-Request-Headers: lower-cased, sorted (Fetch)."""
    return sorted({k.lower() for k, v in headers.items() if not is_safelisted_request_header(k, v)})


def needs_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """Fetch: a preflight is sent for a non-safelisted method or any non-safelisted request header."""
    return method.upper() not in SAFELISTED_METHODS or bool(unsafe_request_headers(headers))


def cors_check(headers: Headers, origin: str, include_credentials: bool) -> str | None:
    """Fetch's CORS check on a response: None when it passes, else why it fails (Chromium's words, roughly)."""
    acao = _lines(headers, "Access-Control-Allow-Origin")
    if not acao:
        return "no Access-Control-Allow-Origin"
    if len(acao) > 1 or "," in acao[0]:
        return f"several Access-Control-Allow-Origin values ({', '.join(acao)})"
    value = acao[0]
    if value == "*" and not include_credentials:
        return None
    if value == "*":
        return "Access-Control-Allow-Origin '*' with credentials mode 'include'"
    if value != origin:
        return f"Access-Control-Allow-Origin {value!r} is not the page's origin {origin!r}"
    if include_credentials and _value(headers, "Access-Control-Allow-Credentials") != "true":
        return "credentials mode 'include' without Access-Control-Allow-Credentials: true"
    return None


def preflight_check(status: int, headers: Headers, origin: str, method: str, request_headers: Sequence[str],
                    include_credentials: bool) -> str | None:
    """Fetch's CORS-preflight fetch: None when the preflight lets the request go, else why not."""
    problem = cors_check(headers, origin, include_credentials)
    if problem:
        return f"preflight: {problem}"
    if not 200 <= status < 300:
        return f"preflight: status {status} is not an ok status"
    methods = _value(headers, "Access-Control-Allow-Methods")
    if not method_allowed(method, methods, include_credentials):
        return f"preflight: method {method} is not in Access-Control-Allow-Methods {_names(methods)}"
    allowed = _value(headers, "Access-Control-Allow-Headers")
    for name in request_headers:
        if not header_allowed(name, allowed, include_credentials):
            return f"preflight: request header {name} is not in Access-Control-Allow-Headers"
    return None


def method_allowed(method: str, allow_methods: str | None, include_credentials: bool) -> bool:
    """Fetch: a preflight's Access-Control-Allow-Methods lets the method through (safelisted methods always;
    '*' only without credentials)."""
    methods = _names(allow_methods)
    return (method in methods or method.upper() in SAFELISTED_METHODS
            or ("*" in methods and not include_credentials))


def header_allowed(name: str, allow_headers: str | None, include_credentials: bool) -> bool:
    """Fetch: a preflight's Access-Control-Allow-Headers lets the request header through ('*' only without
    credentials, and never for Authorization)."""
    allowed = {h.lower() for h in _names(allow_headers)}
    low = name.lower()
    return low in allowed or ("*" in allowed and not include_credentials and low != "authorization")


def readable_headers(headers: Headers, include_credentials: bool, asked: Iterable[str]) -> list[str]:
    """Which of the asked response-header names JavaScript can read: safelisted or exposed (lower-cased, sorted)."""
    exposed = {h.lower() for h in _names(_value(headers, "Access-Control-Expose-Headers"))}
    out = []
    for name in asked:
        low = name.lower()
        if low in SAFELISTED_RESPONSE_HEADERS or low in exposed or ("*" in exposed and not include_credentials):
            out.append(low)
    return sorted(out)


@dataclass(frozen=True)
class BrowserRequest:
    """One request the page makes, as far as CORS cares."""

    method: str
    origin: str
    headers: Mapping[str, str] = field(default_factory=dict)  # request headers the page sets
    include_credentials: bool = False
    read: tuple[str, ...] = ()                                # response headers the page tries to read
    resource: str = "object"


@dataclass(frozen=True)
class BrowserVerdict:
    """What the browser does: allowed or blocked, where, why, and which asked headers JavaScript reads."""

    browser: str                     # "allowed" | "blocked"
    preflight: bool                  # whether a preflight is sent
    stage: str | None = None         # "preflight" | "response" when blocked
    reason: str = ""
    readable: tuple[str, ...] = ()   # of the asked names, those JavaScript can read (allowed only)
    open_questions: tuple[str, ...] = ()

    def public(self) -> dict:
        """As shown in observations and compared with a table row."""
        return {"browser": self.browser, "preflight": self.preflight, "stage": self.stage,
                "readable": list(self.readable), "reason": self.reason}


def _final(request: BrowserRequest, preflighted: bool, headers: Headers, questions: Sequence[str]) -> BrowserVerdict:
    """The verdict on the actual response's headers."""
    problem = cors_check(headers, request.origin, request.include_credentials)
    if problem:
        return BrowserVerdict("blocked", preflighted, "response", problem, (), tuple(questions))
    return BrowserVerdict("allowed", preflighted, None, "",
                          tuple(readable_headers(headers, request.include_credentials, request.read)),
                          tuple(questions))


def expected_verdict(rules: Sequence[model.Rule] | None, request: BrowserRequest) -> BrowserVerdict:
    """The browser verdict a conforming server leads to: the model's answers put through Fetch's rules."""
    preflighted = needs_preflight(request.method, request.headers)
    questions: list[str] = []
    if preflighted:
        names = unsafe_request_headers(request.headers)
        pre = model.evaluate_preflight(rules, model.Request(
            "OPTIONS", request.origin, request.method, ",".join(names) if names else None, request.resource))
        questions += pre.open_questions
        problem = preflight_check(pre.status or 0, pre.headers, request.origin, request.method, names,
                                  request.include_credentials)
        if problem:
            return BrowserVerdict("blocked", True, "preflight", problem, (), tuple(questions))
    actual = model.evaluate_actual(rules, model.Request(request.method, request.origin, resource=request.resource))
    questions += [q for q in actual.open_questions if q not in questions]
    return _final(request, preflighted, actual.headers, questions)


def verdict_from_exchanges(request: BrowserRequest, preflight: tuple[int, Headers] | None,
                           actual: Headers | None) -> BrowserVerdict:
    """The verdict Fetch's rules give on headers a browser actually received (None: that step never happened)."""
    preflighted = needs_preflight(request.method, request.headers)
    if preflighted:
        if preflight is None:
            return BrowserVerdict("blocked", True, "preflight", "no preflight answer was received")
        problem = preflight_check(preflight[0], preflight[1], request.origin, request.method,
                                  unsafe_request_headers(request.headers), request.include_credentials)
        if problem:
            return BrowserVerdict("blocked", True, "preflight", problem)
    if actual is None:
        return BrowserVerdict("blocked", preflighted, "response", "no response was received")
    return _final(request, preflighted, actual, ())
