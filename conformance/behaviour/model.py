"""What a conforming S3 server answers for bucket CORS: a pure model of docs/spec.md.

Section numbers (§4.1, §5, ...) and question numbers (Q1..Q16) are anchors of that document. Every answer
lists the open questions it depends on; a case built on such an answer should report INFO, not FAIL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence

METHODS: frozenset[str] = frozenset({"GET", "PUT", "HEAD", "POST", "DELETE"})
VARY_VALUE = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

# Verbatim AWS texts (§4.1, §2.1, §11).
NO_ORIGIN_MESSAGE = "Insufficient information. Origin request header needed."
BUCKET_NOT_FOUND_MESSAGE = "CORSResponse: Bucket not found"
NOT_ENABLED_MESSAGE = "CORSResponse: CORS is not enabled for this bucket."
INVALID_ACRM_MESSAGE = "Invalid Access-Control-Request-Method: {}"
NOT_ALLOWED_MESSAGE = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
    "by the resource's CORS spec."
)
MALFORMED_XML_MESSAGE = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)
UNSUPPORTED_METHOD_MESSAGE = "Found unsupported HTTP method in CORS config. Unsupported method is {}"
ORIGIN_WILDCARDS_MESSAGE = 'AllowedOrigin "{}" can not have more than one wildcard.'
HEADER_WILDCARDS_MESSAGE = 'AllowedHeader "{}" can not have more than one wildcard.'
EXPOSE_WILDCARD_MESSAGE = 'ExposeHeader "{}" contains wildcard. We currently do not support wildcard for ExposeHeader.'
INVALID_HEADER_CHAR_MESSAGE = "AllowedHeader {} contains invalid character."
TOO_MANY_RULES_MESSAGE = "The number of CORS rules should not exceed allowed limit of 100 rules."
NO_SUCH_CORS_MESSAGE = "The CORS configuration does not exist"
NO_SUCH_BUCKET_MESSAGE = "The specified bucket does not exist"

MAX_RULES = 100
MAX_ID_LENGTH = 255
MAX_DOCUMENT_BYTES = 64 * 1024
S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

_RULE_KEYS = frozenset({"AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds", "ID"})
# RFC 9110 token characters; §2.1 row 14 rejects anything else in a header name.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]*")
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _questions(*groups: Sequence[str]) -> tuple[str, ...]:
    """Merge question lists into one sorted, duplicate-free tuple (Q2 before Q10)."""
    return tuple(sorted({q for group in groups for q in group}, key=lambda q: int(q[1:])))


@dataclass(frozen=True)
class Rule:
    """One stored CORSRule; list members keep configuration order and case (§2.2)."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    @classmethod
    def from_boto(cls, d: Mapping) -> Rule:
        """Build from a boto3 CORSRule dict (as sent to PutBucketCors or returned by GetBucketCors)."""
        max_age = d.get("MaxAgeSeconds")
        return cls(
            allowed_origins=tuple(d.get("AllowedOrigins", ())),
            allowed_methods=tuple(d.get("AllowedMethods", ())),
            allowed_headers=tuple(d.get("AllowedHeaders", ())),
            expose_headers=tuple(d.get("ExposeHeaders", ())),
            max_age_seconds=None if max_age is None else int(max_age),
            id=d.get("ID"),
        )

    def to_boto(self) -> dict:
        """The boto3 CORSRule dict; absent optional members are omitted, as GetBucketCors does (§3)."""
        d: dict = {"AllowedOrigins": list(self.allowed_origins), "AllowedMethods": list(self.allowed_methods)}
        if self.allowed_headers:
            d["AllowedHeaders"] = list(self.allowed_headers)
        if self.expose_headers:
            d["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age_seconds is not None:
            d["MaxAgeSeconds"] = self.max_age_seconds
        if self.id is not None:
            d["ID"] = self.id
        return d


@dataclass(frozen=True)
class Request:
    """One HTTP request aimed at a bucket, as far as CORS evaluation cares."""

    method: str                         # HTTP verb, "OPTIONS" for a preflight
    origin: str | None = None           # Origin header (None = absent)
    request_method: str | None = None   # Access-Control-Request-Method (None = absent)
    request_headers: str | None = None  # raw Access-Control-Request-Headers value (None = absent)
    resource: str = "object"            # "object" (URL names a key), "bucket" (bucket URL) or "service" (GET /)
    bucket_exists: bool = True
    signed: bool = False                # an actual request with credentials (a preflight never has them)


@dataclass(frozen=True)
class Answer:
    """What a conforming server answers, as far as CORS is concerned."""

    status: int | None                      # preflight: 200/400/403; actual requests: None (status untouched)
    error_code: str | None = None
    error_message: str | None = None
    error_method: str | None = None         # <Method> of the error body, None when absent
    error_resource_type: str | None = None  # <ResourceType> of the error body, None when absent
    headers: Mapping[str, str] = field(default_factory=dict)  # exact Access-Control-* and Vary; others absent
    matched_rule: int | None = None         # index of the first fully matching rule
    open_questions: tuple[str, ...] = ()    # spec questions this answer depends on (INFO, not FAIL)


# --- matching (§5) ---------------------------------------------------------------------------------


def _wildcard_match(pattern: str, text: str) -> bool:
    """Anchored match of a pattern with at most one '*' (any run of characters, possibly empty)."""
    stars = pattern.count("*")
    if stars == 0:
        return pattern == text
    if stars > 1:
        # §2.1 rows 11/12: AWS refuses to store such a pattern, so a conforming server never matches one.
        return False
    prefix, suffix = pattern.split("*")
    return len(text) >= len(prefix) + len(suffix) and text.startswith(prefix) and text.endswith(suffix)


def origin_matches(pattern: str, origin: str) -> bool:
    """Whether an AllowedOrigin pattern matches an Origin value: literal, case-sensitive, one anchored '*' (§5)."""
    return _wildcard_match(pattern, origin)


def origin_questions(pattern: str, origin: str) -> tuple[str, ...]:
    """Open questions behind origin_matches(pattern, origin): Q2 when case or a '*' spanning '/' or ':' decides."""
    if origin_matches(pattern, origin):
        if pattern != "*" and "*" in pattern:  # a lone '*' matching anything is graded A (§5)
            prefix, suffix = pattern.split("*")
            span = origin[len(prefix):len(origin) - len(suffix)]
            if "/" in span or ":" in span:
                return ("Q2",)
        return ()
    return ("Q2",) if origin_matches(pattern.lower(), origin.lower()) else ()


def header_matches(pattern: str, name: str) -> bool:
    """Whether an AllowedHeader pattern matches a requested header name: case-insensitive, '*' wildcard (§5)."""
    return _wildcard_match(pattern.lower(), name.lower())


def parse_request_headers(value: str | None) -> tuple[str, ...]:
    """Split an Access-Control-Request-Headers value: trimmed, lower-cased, empty items dropped (§4.2)."""
    if value is None:
        return ()
    return tuple(item.strip().lower() for item in value.split(",") if item.strip())


def _rest_matches(rule: Rule, method: str, request_headers: Sequence[str]) -> bool:
    """Method (case-sensitive) and every requested header allowed; no AllowedHeaders allows none (§5)."""
    return method in rule.allowed_methods and all(
        any(header_matches(p, h) for p in rule.allowed_headers) for h in request_headers
    )


def _origin_allowed(rule: Rule, origin: str) -> bool:
    """Whether any AllowedOrigin of the rule matches."""
    return any(origin_matches(p, origin) for p in rule.allowed_origins)


def select_rule(rules: Sequence[Rule], origin: str, method: str, request_headers: Sequence[str]) -> int | None:
    """Index of the first rule matching origin AND method AND every requested header, else None (§5)."""
    for index, rule in enumerate(rules):
        if _origin_allowed(rule, origin) and _rest_matches(rule, method, request_headers):
            return index
    return None


def _selection_questions(
    rules: Sequence[Rule], origin: str, method: str, request_headers: Sequence[str], chosen: int | None
) -> tuple[str, ...]:
    """Q2 when a rule up to the chosen one would flip its origin verdict under the other reading of Q2."""
    considered = rules if chosen is None else rules[: chosen + 1]
    for rule in considered:
        if not _rest_matches(rule, method, request_headers):
            continue  # its origin verdict cannot change the answer
        certain = any(origin_matches(p, origin) and not origin_questions(p, origin) for p in rule.allowed_origins)
        if not certain and any(origin_questions(p, origin) for p in rule.allowed_origins):
            return ("Q2",)
    return ()


# --- response headers (§4.2, §6, §7) ----------------------------------------------------------------


def cors_headers(rule: Rule, origin: str, requested_headers: Sequence[str], *, preflight: bool) -> dict[str, str]:
    """The Access-Control-* and Vary headers sent when `rule` answered a request from `origin` (§4.2, §6).

    `requested_headers` are the parsed Access-Control-Request-Headers names (empty when the header is
    absent). Preflight and actual requests get the same set (§4.2 vs §6); for an actual request the
    Access-Control-Allow-Headers line rests on Q8, which the evaluate_* functions flag.
    """
    del preflight  # same header set for both kinds; kept so callers state which one they model
    headers: dict[str, str] = {}
    if "*" in rule.allowed_origins:
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
    # §4.2: the rule's whole method list, not the requested method (A wins over AWS-OPT, §11).
    headers["Access-Control-Allow-Methods"] = ", ".join(rule.allowed_methods)
    if requested_headers:
        # §4.2: echo of the request, lower-cased, never the configured "*".
        headers["Access-Control-Allow-Headers"] = ", ".join(h.lower() for h in requested_headers)
    if rule.expose_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    headers["Vary"] = VARY_VALUE  # §7: on every successful evaluation
    return headers


def _header_questions(rule: Rule, origin: str) -> tuple[str, ...]:
    """Q3 (a '*' rule also listing a matching specific origin) and Q4 (MaxAgeSeconds <= 0)."""
    found = []
    if "*" in rule.allowed_origins and any(p != "*" and origin_matches(p, origin) for p in rule.allowed_origins):
        found.append("Q3")
    if rule.max_age_seconds is not None and rule.max_age_seconds <= 0:
        found.append("Q4")
    return tuple(found)


# --- evaluation (§4, §6) ----------------------------------------------------------------------------


def _forbidden(message: str, method: str, resource_type: str, questions: Sequence[str] = ()) -> Answer:
    """A 403 AccessForbidden preflight answer; error answers carry no CORS headers and no Vary (§4.1)."""
    return Answer(403, "AccessForbidden", message, method, resource_type, {}, None, _questions(questions))


def evaluate_preflight(rules: Sequence[Rule] | None, request: Request) -> Answer:
    """The answer to an OPTIONS preflight (request.method is not consulted); `rules` None = no configuration (§4.1)."""
    if request.origin is None:  # step 1: checked before the bucket is even looked up
        return Answer(400, "BadRequest", NO_ORIGIN_MESSAGE)
    acrm = request.request_method
    shown_method = "OPTIONS" if acrm is None else acrm  # §11: <Method>OPTIONS</Method> when no ACRM was sent
    if not request.bucket_exists:  # step 2
        return _forbidden(BUCKET_NOT_FOUND_MESSAGE, shown_method, "BUCKET")
    if rules is None:  # step 3: BUCKET even for an object URL
        return _forbidden(NOT_ENABLED_MESSAGE, shown_method, "BUCKET")
    if acrm not in METHODS:  # step 4: only S-graded; <Method>/<ResourceType> unknown
        shown = "null" if acrm is None else acrm
        return Answer(400, "BadRequest", INVALID_ACRM_MESSAGE.format(shown), open_questions=("Q1",))
    names = parse_request_headers(request.request_headers)
    index = select_rule(rules, request.origin, acrm, names)
    asked = _selection_questions(rules, request.origin, acrm, names, index)
    if index is None:  # step 5
        resource_type = "BUCKET" if request.resource == "bucket" else "OBJECT"
        return _forbidden(NOT_ALLOWED_MESSAGE, acrm, resource_type, asked)
    rule = rules[index]
    headers = cors_headers(rule, request.origin, names, preflight=True)
    return Answer(200, headers=headers, matched_rule=index,
                  open_questions=_questions(asked, _header_questions(rule, request.origin)))


def evaluate_actual(rules: Sequence[Rule] | None, request: Request) -> Answer:
    """The CORS headers on a non-OPTIONS request; CORS never changes its status, so status is None (§6)."""
    if request.origin is None or rules is None or not request.bucket_exists or request.resource == "service":
        return Answer(None)  # §6: ListBuckets (the service) never gets CORS headers
    # §5: an Access-Control-Request-Method header, when present, is matched instead of the verb.
    method = request.method if request.request_method is None else request.request_method
    names = parse_request_headers(request.request_headers)
    index = select_rule(rules, request.origin, method, names)
    asked = _selection_questions(rules, request.origin, method, names, index)
    if index is None:
        return Answer(None, open_questions=_questions(asked))
    rule = rules[index]
    headers = cors_headers(rule, request.origin, names, preflight=False)
    q8 = ("Q8",) if names else ()  # §6: Allow-Headers on an actual request is S-graded only
    # §6 records '*' under a '*' rule for anonymous requests only; what a signed one gets is Q13.
    q13 = ("Q13",) if request.signed and "*" in rule.allowed_origins else ()
    return Answer(None, headers=headers, matched_rule=index,
                  open_questions=_questions(asked, _header_questions(rule, request.origin), q8, q13))


# --- PutBucketCors validation (§2.1) ----------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    """Whether PutBucketCors accepts a configuration, and the error it answers otherwise (§2.1)."""

    accepted: bool
    status: int | None = None               # 200 when accepted, else the error status (None when unknown)
    code: str | None = None
    message: str | None = None              # verbatim AWS text when the spec gives one
    open_questions: tuple[str, ...] = ()
    reason: str = ""                        # short human-readable why


def _malformed(reason: str) -> Validation:
    """A 400 MalformedXML refusal (§2.1 rows 2-5, 18, 24)."""
    return Validation(False, 400, "MalformedXML", MALFORMED_XML_MESSAGE, (), reason)


def _invalid(message: str, reason: str, questions: tuple[str, ...] = ()) -> Validation:
    """A 400 InvalidRequest refusal."""
    return Validation(False, 400, "InvalidRequest", message, questions, reason)


def _is_str_list(value: object) -> bool:
    """A list of strings, as boto3 list members are."""
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _is_integer(value: object) -> bool:
    """An xsd:int-like value: an int (not bool) or its decimal text."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and _INTEGER.fullmatch(value) is not None)


def _schema_violation(n: int, rule: object) -> Validation | None:
    """MalformedXML when a rule does not fit the published schema (§2.1 rows 3-5, 18, unknown members)."""
    if not isinstance(rule, Mapping):
        return _malformed(f"rule {n}: not a CORSRule")
    unknown = sorted(str(k) for k in rule if k not in _RULE_KEYS)
    if unknown:
        return _malformed(f"rule {n}: unknown member(s) {', '.join(unknown)}")
    for key in ("AllowedOrigins", "AllowedMethods"):  # rows 3-5: required, at least one element
        if not rule.get(key) or not _is_str_list(rule[key]):
            return _malformed(f"rule {n}: {key} missing or not a list of strings")
    for key in ("AllowedHeaders", "ExposeHeaders"):
        if key in rule and not _is_str_list(rule[key]):
            return _malformed(f"rule {n}: {key} is not a list of strings")
    if "MaxAgeSeconds" in rule and not _is_integer(rule["MaxAgeSeconds"]):  # row 18
        return _malformed(f"rule {n}: MaxAgeSeconds {rule['MaxAgeSeconds']!r} is not an integer")
    if "ID" in rule and not isinstance(rule["ID"], str):
        return _malformed(f"rule {n}: ID is not a string")
    return None


def _value_violations(n: int, rule: Mapping) -> list[Validation]:
    """InvalidRequest refusals for values of a schema-valid rule (§2.1 rows 7-14)."""
    found = []
    for method in rule["AllowedMethods"]:  # rows 7-10: exact, case-sensitive set
        if method not in METHODS:
            found.append(_invalid(UNSUPPORTED_METHOD_MESSAGE.format(method), f"rule {n}: method {method!r}"))
    for origin in rule["AllowedOrigins"]:  # row 11 (A); an empty origin is fine (row 6)
        if origin.count("*") > 1:
            found.append(_invalid(ORIGIN_WILDCARDS_MESSAGE.format(origin), f"rule {n}: origin {origin!r}"))
    for header in rule.get("AllowedHeaders", ()):
        if header.count("*") > 1:  # row 12: code S, text only probable
            found.append(_invalid(HEADER_WILDCARDS_MESSAGE.format(header), f"rule {n}: header {header!r}", ("Q5",)))
        elif not _TOKEN.fullmatch(header):  # I from row 14's wording; Q5 lists it as unknown
            found.append(_invalid(INVALID_HEADER_CHAR_MESSAGE.format(header),
                                  f"rule {n}: header {header!r} has a non-token character", ("Q5",)))
    for header in rule.get("ExposeHeaders", ()):
        if "*" in header:  # row 13: probable text
            found.append(_invalid(EXPOSE_WILDCARD_MESSAGE.format(header), f"rule {n}: expose {header!r}", ("Q5",)))
        elif not _TOKEN.fullmatch(header):  # row 14: AWS says "AllowedHeader" even here; quoting uncertain
            found.append(_invalid(INVALID_HEADER_CHAR_MESSAGE.format(header),
                                  f"rule {n}: expose {header!r} has a non-token character", ("Q5",)))
    return found


def validate_rules(rules: Sequence[Mapping]) -> Validation:
    """PutBucketCors' verdict on a list of boto3-style CORSRule dicts, possibly malformed (§2.1)."""
    if not rules:  # row 2
        return _malformed("no CORSRule")
    violations: list[Validation] = []
    if len(rules) > MAX_RULES:  # row 15: D for the limit, code/text from Scality
        violations.append(_invalid(TOO_MANY_RULES_MESSAGE, f"{len(rules)} rules > {MAX_RULES}", ("Q5",)))
    extra: set[str] = set()
    for n, rule in enumerate(rules):
        schema = _schema_violation(n, rule)
        if schema is not None:
            violations.append(schema)
            continue
        violations.extend(_value_violations(n, rule))
        if len(rule.get("ID", "")) > MAX_ID_LENGTH:  # row 16: docs say limit, Scality says unchecked
            extra.add("Q5")
    if not violations:
        return Validation(True, 200, open_questions=_questions(extra), reason="valid configuration")
    first = violations[0]
    distinct = {(v.code, v.message) for v in violations}
    # Q6: which of several different violations AWS reports first is not established.
    q6 = ("Q6",) if len(distinct) > 1 else ()
    return Validation(False, first.status, first.code, first.message,
                      _questions(first.open_questions, extra, q6), first.reason)


_LIST_ELEMENTS = {"AllowedOrigin": "AllowedOrigins", "AllowedMethod": "AllowedMethods",
                  "AllowedHeader": "AllowedHeaders", "ExposeHeader": "ExposeHeaders"}
_SINGLE_ELEMENTS = ("MaxAgeSeconds", "ID")


def _local_name(tag: str) -> str | None:
    """Element name without the S3 namespace; None for any other namespace."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return name if namespace == S3_XMLNS else None
    return tag


def _rule_dict(element: ET.Element) -> dict | None:
    """One <CORSRule> as a boto3-style dict (children in any order, §2.1 row 25); None if not schema-shaped."""
    rule: dict = {}
    for child in element:
        name = _local_name(child.tag)
        if len(child):  # leaves only
            return None
        text = child.text or ""
        if name in _LIST_ELEMENTS:
            rule.setdefault(_LIST_ELEMENTS[name], []).append(text)
        elif name in _SINGLE_ELEMENTS and name not in rule:
            rule[name] = text  # MaxAgeSeconds stays text; validate_rules checks it is an integer
        else:
            return None  # unknown or repeated element
    return rule


def validate_document(body: bytes) -> Validation:
    """PutBucketCors' verdict on a raw XML body, with or without the S3 xmlns (§2.1 rows 19, 24, 25)."""
    if len(body) > MAX_DOCUMENT_BYTES:  # row 19: limit documented, error never observed
        return Validation(False, None, None, None, ("Q5",), f"body of {len(body)} bytes > 64 KB")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:  # row 24
        return _malformed(f"not well-formed: {exc}")
    if _local_name(root.tag) != "CORSConfiguration":
        return _malformed(f"root element {root.tag!r} is not CORSConfiguration")
    rules = []
    for child in root:
        rule = _rule_dict(child) if _local_name(child.tag) == "CORSRule" else None
        if rule is None:
            return _malformed(f"element {child.tag!r} does not fit the CORSConfiguration schema")
        rules.append(rule)
    return validate_rules(rules)


# --- GetBucketCors / DeleteBucketCors (§3) ----------------------------------------------------------


@dataclass(frozen=True)
class ConfigAnswer:
    """What GetBucketCors or DeleteBucketCors answers (§3)."""

    status: int
    code: str | None = None
    message: str | None = None
    rules: tuple[dict, ...] | None = None  # GetBucketCors 200: the CORSRules as boto3 dicts (absent members omitted)
    bucket_name: bool = False               # the error body carries <BucketName>


def _no_such_bucket() -> ConfigAnswer:
    """404 NoSuchBucket (§3 Get/Delete on missing bucket; generic A)."""
    return ConfigAnswer(404, "NoSuchBucket", NO_SUCH_BUCKET_MESSAGE, bucket_name=True)


def get_configuration(rules: Sequence[Rule] | None, bucket_exists: bool = True) -> ConfigAnswer:
    """GetBucketCors: the stored rules as sent (order, case, only the members set), else 404 (§3)."""
    if not bucket_exists:
        return _no_such_bucket()
    if rules is None:
        return ConfigAnswer(404, "NoSuchCORSConfiguration", NO_SUCH_CORS_MESSAGE, bucket_name=True)
    return ConfigAnswer(200, rules=tuple(rule.to_boto() for rule in rules))


def delete_configuration(rules: Sequence[Rule] | None, bucket_exists: bool = True) -> ConfigAnswer:
    """DeleteBucketCors: 204 whether or not a configuration exists (idempotent, §3)."""
    del rules  # a missing configuration is no error
    return ConfigAnswer(204) if bucket_exists else _no_such_bucket()
