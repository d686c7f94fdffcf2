"""What the reference endpoint answers, as one object: faithful by default (conformance/behaviour/model.py), with one
fault switched on by fixtures/faults (each fault's switch is a few lines at the end of this module).

Every hook the endpoint calls is a method here, so a fault replaces exactly the decision it corrupts and
everything else stays the model's answer."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

from conformance.behaviour import model
from conformance.behaviour.model import Answer, Request, Rule

ACAO, ACAC = "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"
ACAM, ACAH = "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"
ACEH, ACMA = "Access-Control-Expose-Headers", "Access-Control-Max-Age"
ACCOUNT_ID = re.compile(r"\d{12}")


@dataclasses.dataclass(frozen=True)
class Refusal:
    """An S3 error answer: status, code, message (and extra XML elements)."""

    status: int
    code: str
    message: str
    extra: tuple[tuple[str, str], ...] = ()


class Behaviour:
    """The faithful reference: every method is the model's (or AWS's documented) answer."""

    def __init__(self, owner_mode: str = "enforced", account_id: str = "123456789012") -> None:
        self.owner_mode = owner_mode
        self.account_id = account_id
        self.fault: str | None = None

    # --- matching and selection (§5) -----------------------------------------------------------------
    # Faithful: the model's functions. A matching fault sets `matcher` and selection goes through select_with.
    origin_match: Callable[[str, str], bool] | None = None
    header_match: Callable[[str, str], bool] | None = None
    method_match: Callable[[Rule, str], bool] | None = None
    parse_headers: Callable[[str | None], tuple[str, ...]] = staticmethod(model.parse_request_headers)

    def select(self, rules: Sequence[Rule], origin: str, method: str, names: Sequence[str]) -> int | None:
        """Index of the rule that answers (model.select_rule unless a fault changes matching)."""
        if self.origin_match is None and self.header_match is None and self.method_match is None:
            return model.select_rule(rules, origin, method, names)
        for index, rule in enumerate(rules):
            if self.rule_matches(rule, origin, method, names):
                return index
        return None

    def rule_matches(self, rule: Rule, origin: str, method: str, names: Sequence[str]) -> bool:
        """Whether one rule matches, with the (possibly faulty) matchers."""
        om = self.origin_match or model.origin_matches
        hm = self.header_match or model.header_matches
        mm = self.method_match or (lambda r, m: m in r.allowed_methods)
        return (any(om(p, origin) for p in rule.allowed_origins) and mm(rule, method)
                and all(any(hm(p, h) for p in rule.allowed_headers) for h in names))

    # --- preflight (§4) ------------------------------------------------------------------------------

    def preflight(self, rules: Sequence[Rule] | None, request: Request) -> Answer:
        """The answer to a preflight; the model's, re-selected only when a fault changes selection."""
        answer = model.evaluate_preflight(rules, request)
        if not self._reselects() or rules is None or request.origin is None or not request.bucket_exists \
                or request.request_method not in model.METHODS:
            return answer
        names = self.parse_headers(request.request_headers)
        index = self.select(rules, request.origin, request.request_method, names)
        if index is None:
            resource_type = "BUCKET" if request.resource == "bucket" else "OBJECT"
            return Answer(403, "AccessForbidden", model.NOT_ALLOWED_MESSAGE, request.request_method, resource_type)
        return Answer(200, headers=model.cors_headers(rules[index], request.origin, names, preflight=True),
                      matched_rule=index)

    def actual(self, rules: Sequence[Rule] | None, request: Request) -> Answer:
        """The CORS headers on an actual request (status untouched)."""
        answer = model.evaluate_actual(rules, request)
        if not self._reselects() or request.origin is None or rules is None or not request.bucket_exists \
                or request.resource == "service":
            return answer
        method = request.method if request.request_method is None else request.request_method
        names = self.parse_headers(request.request_headers)
        index = self.select(rules, request.origin, method, names)
        if index is None:
            return Answer(None)
        return Answer(None, headers=model.cors_headers(rules[index], request.origin, names, preflight=False),
                      matched_rule=index)

    def _reselects(self) -> bool:
        """Whether a fault changed matching or selection (else the model's answer stands as it is)."""
        return "select" in vars(self) or any((self.origin_match, self.header_match, self.method_match)) \
            or self.parse_headers is not model.parse_request_headers

    def preflight_headers(self, headers: dict[str, str], rule: Rule, request: Request) -> dict[str, str]:
        """The headers of a successful preflight (a fault may change them)."""
        return headers

    def actual_headers(self, headers: dict[str, str], rule: Rule | None, request: Request) -> dict[str, str]:
        """The CORS headers added to an actual request's answer (a fault may change them)."""
        return headers

    def refusal(self, answer: Answer) -> tuple[int, dict[str, str], bytes | None]:
        """Status, extra headers and body override (None = the standard error XML) of a refused preflight."""
        return answer.status, {}, None

    def no_origin_preflight(self) -> bool:
        """Whether a preflight without Origin is refused as the model says (a fault may evaluate it anyway)."""
        return True

    def cors_on_error(self, status: int) -> bool:
        """Whether an actual request answered with this error status still gets its CORS headers (§6: yes)."""
        return True

    def privileged(self, origin: str | None, endpoint_origin: str) -> bool:
        """Whether an origin is granted without any configuration (never, on S3)."""
        return False

    def gate(self, origin: str | None, has_cors_answer: bool, endpoint_origin: str) -> bool:
        """Whether an actual request is refused for its origin alone (never: CORS does not change a status, §6)."""
        return False

    # --- configuration API (§2, §3) ------------------------------------------------------------------

    def check_digest(self, headers: Mapping[str, str], body: bytes) -> Refusal | None:
        """Content-MD5 (or an x-amz-checksum-*) is required and must match the body (§2.1 #20-23)."""
        md5 = headers.get("Content-MD5")
        if md5 is None:
            if any(k.lower().startswith("x-amz-checksum-") and k.lower() != "x-amz-checksum-algorithm"
                   for k in headers.keys()):
                return None
            return Refusal(400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        try:
            digest = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 16:
            return Refusal(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
        if digest != hashlib.md5(body).digest():
            return Refusal(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        return None

    def validate(self, body: bytes) -> model.Validation:
        """PutBucketCors' verdict on the body (model.validate_document)."""
        return model.validate_document(body)

    def store(self, old: list[dict] | None, new: list[dict]) -> list[dict]:
        """The configuration after an accepted PutBucketCors: the new one replaces the old (§2.2)."""
        return new

    def after_rejected_put(self, old: list[dict] | None) -> list[dict] | None:
        """The configuration after a rejected PutBucketCors: unchanged."""
        return old

    def get_missing(self) -> Refusal | list[dict]:
        """GetBucketCors without configuration: 404 NoSuchCORSConfiguration (§3)."""
        return Refusal(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist")

    def returned_rules(self, rules: list[dict]) -> list[dict]:
        """The rules GetBucketCors returns: as stored, in order (§3)."""
        return rules

    def delete_status(self) -> int:
        """DeleteBucketCors answers 204 (§3)."""
        return 204

    def delete(self, old: list[dict] | None) -> list[dict] | None:
        """The configuration after DeleteBucketCors: none."""
        return None

    def expected_owner(self, operation: str, value: str | None) -> Refusal | None:
        """x-amz-expected-bucket-owner on the configuration API, in the dialect this endpoint documents."""
        if value is None or self.owner_mode == "ignored":
            return None
        if not ACCOUNT_ID.fullmatch(value):
            return Refusal(400, "InvalidBucketOwnerAWSAccountID",
                           f"The value of the expected bucket owner parameter must be an AWS Account ID... [{value}]")
        if value != self.account_id:
            return Refusal(403, "AccessDenied", "Access Denied")
        return None

    def crash(self, operation: str, body: bytes) -> bool:
        """Whether this request makes the server fail with 500 (never, faithfully)."""
        return False

    def preflight_with_credentials(self, has_query_auth: bool, has_authorization: bool) -> Refusal | None:
        """A preflight is never authenticated: query or header credentials are ignored (§4.3)."""
        return None

    def url_key(self, key: str | None) -> str | None:
        """The key a request names, as decoded from its path."""
        return key


# ======================================================================================================
# The faults. Each is one function that switches one realistic bug on; FAULT_SWITCHES maps its ID (the ID of
# its entry in fixtures/faults/*.toml) to it. Adding a fault = a data entry there plus a function here.
# ======================================================================================================

FAULT_SWITCHES: dict[str, Callable[[Behaviour], None]] = {}


def switch(fault_id: str):
    """Register the function that switches fault_id on."""
    def register(fn: Callable[[Behaviour], None]) -> Callable[[Behaviour], None]:
        FAULT_SWITCHES[fault_id] = fn
        return fn
    return register


def _bind(b: Behaviour, name: str, fn) -> None:
    """Replace one hook of this instance (fn gets the original bound method as `orig`)."""
    orig = getattr(b, name)
    setattr(b, name, lambda *a, **k: fn(orig, *a, **k))


def _wild(pattern: str, text: str, *, star: str, flags: int = 0, end: bool = True) -> bool:
    """A regex-based wildcard match, as several servers implement it."""
    regex = re.escape(pattern).replace(r"\*", star)
    return re.fullmatch(regex, text, flags) is not None if end else re.match(regex, text, flags) is not None


# --- rule selection ---------------------------------------------------------------------------------------

@switch("FLT-SEL-001")
def _last_match(b: Behaviour) -> None:
    def select(rules, origin, method, names):
        hits = [i for i, r in enumerate(rules) if b.rule_matches(r, origin, method, names)]
        return hits[-1] if hits else None
    b.select = select


@switch("FLT-SEL-002")
def _origin_only_selection(b: Behaviour) -> None:
    def select(rules, origin, method, names):
        for i, r in enumerate(rules):
            if any(model.origin_matches(p, origin) for p in r.allowed_origins):
                return i if b.rule_matches(r, origin, method, names) else None
        return None
    b.select = select


@switch("FLT-SEL-003")
def _method_only_selection(b: Behaviour) -> None:
    def select(rules, origin, method, names):
        for i, r in enumerate(rules):
            if method in r.allowed_methods:
                return i if b.rule_matches(r, origin, method, names) else None
        return None
    b.select = select


@switch("FLT-SEL-004")
def _any_origin_mismatch_refuses(b: Behaviour) -> None:
    def select(rules, origin, method, names):
        for i, r in enumerate(rules):
            if not any(model.origin_matches(p, origin) for p in r.allowed_origins):
                return None
            if b.rule_matches(r, origin, method, names):
                return i
        return None
    b.select = select


@switch("FLT-SEL-005")
def _headers_not_checked(b: Behaviour) -> None:
    b.header_match = lambda pattern, name: True


# --- origin, method and header matching -------------------------------------------------------------------

@switch("FLT-MAT-001")
def _origin_no_end_anchor(b: Behaviour) -> None:
    b.origin_match = lambda p, o: _wild(p, o, star=".*", end=False)


@switch("FLT-MAT-002")
def _star_needs_a_character(b: Behaviour) -> None:
    b.origin_match = lambda p, o: _wild(p, o, star=".+")


@switch("FLT-MAT-004")
def _wildcard_one_label(b: Behaviour) -> None:
    b.origin_match = lambda p, o: p == "*" or _wild(p, o, star=r"[^./:]*")


@switch("FLT-MAT-005")
def _partial_header_wildcard_literal(b: Behaviour) -> None:
    b.header_match = lambda p, h: p == "*" or p.lower() == h.lower()


@switch("FLT-MAT-006")
def _header_case_sensitive(b: Behaviour) -> None:
    b.parse_headers = lambda v: tuple(i.strip() for i in (v or "").split(",") if i.strip())
    b.header_match = lambda p, h: _wild(p, h, star=".*")


@switch("FLT-MAT-007")
def _header_list_not_split(b: Behaviour) -> None:
    b.parse_headers = lambda v: () if v is None or not v.strip() else (v.strip().lower(),)


@switch("FLT-MAT-008")
def _header_items_not_trimmed(b: Behaviour) -> None:
    b.parse_headers = lambda v: tuple(i.lower() for i in (v or "").split(",") if i.strip())


@switch("FLT-MAT-010")
def _origin_normalised(b: Behaviour) -> None:
    b.origin_match = lambda p, o: model.origin_matches(p, o.rstrip("/"))


# --- preflight headers ------------------------------------------------------------------------------------

def _pre(b: Behaviour, fn) -> None:
    _bind(b, "preflight_headers", lambda orig, h, rule, req: fn(orig(h, rule, req), rule, req))


def _act(b: Behaviour, fn) -> None:
    _bind(b, "actual_headers", lambda orig, h, rule, req: fn(orig(h, rule, req), rule, req) if h else h)


def _drop(name: str):
    return lambda h, rule, req: {k: v for k, v in h.items() if k != name}


@switch("FLT-PRE-001")
def _pre_no_acao(b):
    _pre(b, _drop(ACAO))


@switch("FLT-PRE-002")
def _pre_acao_star(b):
    _pre(b, lambda h, rule, req: {**h, ACAO: "*"})


@switch("FLT-PRE-003")
def _pre_acao_echo(b):
    _pre(b, lambda h, rule, req: {**h, ACAO: req.origin})


@switch("FLT-PRE-004")
def _pre_no_acac(b):
    _pre(b, _drop(ACAC))


@switch("FLT-PRE-005")
def _pre_acac_with_star(b):
    _pre(b, lambda h, rule, req: {**h, ACAC: "true"})


@switch("FLT-PRE-006")
def _pre_acam_requested_only(b):
    _pre(b, lambda h, rule, req: {**h, ACAM: req.request_method})


@switch("FLT-PRE-007")
def _pre_no_acam(b):
    _pre(b, _drop(ACAM))


@switch("FLT-PRE-008")
def _pre_acah_case_kept(b):
    def fn(h, rule, req):
        if ACAH in h:
            h = {**h, ACAH: ", ".join(i.strip() for i in req.request_headers.split(",") if i.strip())}
        return h
    _pre(b, fn)


@switch("FLT-PRE-009")
def _pre_acah_configured(b):
    def fn(h, rule, req):
        h = {k: v for k, v in h.items() if k != ACAH}
        if rule.allowed_headers:
            h[ACAH] = ", ".join(rule.allowed_headers)
        return h
    _pre(b, fn)


@switch("FLT-PRE-010")
def _pre_no_aceh(b):
    _pre(b, _drop(ACEH))


@switch("FLT-PRE-011")
def _pre_no_max_age(b):
    _pre(b, _drop(ACMA))


@switch("FLT-PRE-012")
def _pre_default_max_age(b):
    _pre(b, lambda h, rule, req: {ACMA: "3000", **h})


@switch("FLT-PRE-013")
def _pre_no_vary(b):
    _pre(b, _drop("Vary"))


@switch("FLT-PRE-014")
def _pre_acao_list(b):
    _pre(b, lambda h, rule, req: {**h, ACAO: ", ".join(rule.allowed_origins)} if h.get(ACAO) != "*" else h)


@switch("FLT-PRE-015")
def _pre_vary_origin_only(b):
    _pre(b, lambda h, rule, req: {**h, "Vary": "Origin"})


# --- actual-request headers -------------------------------------------------------------------------------

@switch("FLT-ACT-001")
def _act_none(b):
    _act(b, lambda h, rule, req: {})


@switch("FLT-ACT-002")
def _act_no_aceh(b):
    _act(b, _drop(ACEH))


@switch("FLT-ACT-003")
def _act_no_vary(b):
    _act(b, _drop("Vary"))


@switch("FLT-ACT-004")
def _act_method_not_checked(b):
    def actual(orig, rules, request):
        answer = orig(rules, request)
        if answer.headers or not rules or request.origin is None or not request.bucket_exists \
                or request.resource == "service":
            return answer
        for i, r in enumerate(rules):
            if any(model.origin_matches(p, request.origin) for p in r.allowed_origins):
                return Answer(None, headers=model.cors_headers(r, request.origin, (), preflight=False),
                              matched_rule=i)
        return answer
    _bind(b, "actual", actual)


@switch("FLT-ACT-005")
def _act_on_service(b):
    def actual(orig, rules, request):
        if request.resource == "service" and request.origin is not None:
            return Answer(None, headers={ACAO: "*", "Vary": model.VARY_VALUE})
        return orig(rules, request)
    _bind(b, "actual", actual)


@switch("FLT-ACT-006")
def _act_no_acam(b):
    _act(b, _drop(ACAM))


@switch("FLT-ACT-007")
def _act_no_acac(b):
    _act(b, _drop(ACAC))


@switch("FLT-ACT-008")
def _act_without_origin(b):
    def actual(orig, rules, request):
        if request.origin is None and rules and request.bucket_exists and request.resource != "service":
            for i, r in enumerate(rules):
                if "*" in r.allowed_origins and request.method in r.allowed_methods:
                    return Answer(None, headers=model.cors_headers(r, "*", (), preflight=False), matched_rule=i)
        return orig(rules, request)
    _bind(b, "actual", actual)


@switch("FLT-ACT-009")
def _act_no_max_age(b):
    _act(b, _drop(ACMA))


# --- refusal answers --------------------------------------------------------------------------------------

@switch("FLT-REF-001")
def _ref_400(b):
    _bind(b, "refusal", lambda orig, a: (400, *orig(a)[1:]) if a.status == 403 else orig(a))


@switch("FLT-REF-002")
def _ref_access_denied(b):
    def refusal(orig, a):
        status, headers, body = orig(a)
        if a.error_code == "AccessForbidden":
            body = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                    b"<Message>Access Denied</Message></Error>")
        return status, headers, body
    _bind(b, "refusal", refusal)


@switch("FLT-REF-003")
def _ref_cors_headers(b):
    def refusal(orig, a):
        status, headers, body = orig(a)
        return status, {**headers, ACAO: "*", ACAM: "GET, PUT, HEAD, POST, DELETE", "Vary": "Origin"}, body
    _bind(b, "refusal", refusal)


@switch("FLT-REF-004")
def _ref_empty_body(b):
    _bind(b, "refusal", lambda orig, a: (orig(a)[0], orig(a)[1], b""))


@switch("FLT-REF-005")
def _ref_no_config_200(b):
    def refusal(orig, a):
        if a.error_message == model.NOT_ENABLED_MESSAGE:
            return 200, {}, b""
        return orig(a)
    _bind(b, "refusal", refusal)


@switch("FLT-REF-006")
def _ref_no_origin_403(b):
    _bind(b, "refusal", lambda orig, a: (403, *orig(a)[1:]) if a.error_message == model.NO_ORIGIN_MESSAGE
          else orig(a))


@switch("FLT-REF-007")
def _ref_resource_type_object(b):
    def preflight(orig, rules, request):
        a = orig(rules, request)
        return dataclasses.replace(a, error_resource_type="OBJECT") if a.error_resource_type else a
    _bind(b, "preflight", preflight)


@switch("FLT-REF-008")
def _ref_acrm_ignored(b):
    # A missing or unknown Access-Control-Request-Method is treated as GET instead of 400.
    def preflight(orig, rules, request):
        if rules is not None and request.origin is not None and request.bucket_exists \
                and request.request_method not in model.METHODS:
            request = dataclasses.replace(request, request_method="GET")
        return orig(rules, request)
    _bind(b, "preflight", preflight)


# --- configuration API ------------------------------------------------------------------------------------

@switch("FLT-CFG-001")
def _cfg_merge(b):
    b.store = lambda old, new: (old or []) + new


@switch("FLT-CFG-002")
def _cfg_rejected_put_wipes(b):
    b.after_rejected_put = lambda old: None


@switch("FLT-CFG-003")
def _cfg_get_empty_200(b):
    b.get_missing = lambda: []


@switch("FLT-CFG-004")
def _cfg_delete_200(b):
    b.delete_status = lambda: 200


@switch("FLT-CFG-005")
def _cfg_sorted_values(b):
    b.returned_rules = lambda rules: [
        {k: (sorted(v) if isinstance(v, list) else v) for k, v in r.items()} for r in rules]


@switch("FLT-CFG-006")
def _cfg_drops_id(b):
    b.returned_rules = lambda rules: [{k: v for k, v in r.items() if k != "ID"} for r in rules]


@switch("FLT-CFG-007")
def _cfg_delete_keeps(b):
    b.delete = lambda old: old


@switch("FLT-CFG-008")
def _cfg_rules_reversed(b):
    b.returned_rules = lambda rules: list(reversed(rules))


# --- validation limits ------------------------------------------------------------------------------------

def _accept_if(b: Behaviour, reason_part: str) -> None:
    """Accept a configuration the model refuses for one reason (the check is missing)."""
    def validate(orig, body):
        v = orig(body)
        if not v.accepted and reason_part in (v.reason or "") + (v.message or ""):
            return model.Validation(True, 200, reason="accepted by the fault")
        return v
    _bind(b, "validate", validate)


@switch("FLT-VAL-001")
def _val_too_many(b):
    _accept_if(b, "rules > 100")


@switch("FLT-VAL-002")
def _val_two_wildcards(b):
    _accept_if(b, "can not have more than one wildcard")


@switch("FLT-VAL-003")
def _val_lowercase_method(b):
    def validate(orig, body):
        v = orig(body)
        if not v.accepted and v.message and v.message.startswith("Found unsupported HTTP method") and \
                v.message.rsplit(" ", 1)[-1].upper() in model.METHODS:
            return model.Validation(True, 200, reason="accepted by the fault")
        return v
    _bind(b, "validate", validate)


@switch("FLT-VAL-004")
def _val_negative_max_age(b):
    def validate(orig, body):
        v = orig(body)
        if v.accepted and re.search(rb"<MaxAgeSeconds>\s*-", body):
            return model.Validation(False, 400, "InvalidRequest", "MaxAgeSeconds must not be negative")
        return v
    _bind(b, "validate", validate)


@switch("FLT-VAL-005")
def _val_md5_not_required(b):
    _bind(b, "check_digest", lambda orig, h, body: None if h.get("Content-MD5") is None else orig(h, body))


@switch("FLT-VAL-006")
def _val_md5_not_checked(b):
    b.check_digest = lambda h, body: None


@switch("FLT-VAL-007")
def _val_expose_wildcard(b):
    _accept_if(b, "contains wildcard")


@switch("FLT-VAL-008")
def _val_no_size_limit(b):
    _accept_if(b, "> 64 KB")


@switch("FLT-VAL-009")
def _val_checksum_refused(b):
    def check(orig, h, body):
        if h.get("Content-MD5") is None:
            return Refusal(400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        return orig(h, body)
    _bind(b, "check_digest", check)


@switch("FLT-VAL-010")
def _val_non_integer_max_age(b):
    _accept_if(b, "is not an integer")


# --- ExpectedBucketOwner ----------------------------------------------------------------------------------

@switch("FLT-EBO-001")
def _ebo_ignored(b):
    b.expected_owner = lambda op, value: None


@switch("FLT-EBO-002")
def _ebo_enforced_where_ignored(b):
    b.owner_mode = "enforced"


@switch("FLT-EBO-003")
def _ebo_malformed_403(b):
    def check(orig, op, value):
        r = orig(op, value)
        return Refusal(403, "AccessDenied", "Access Denied") if r is not None and r.status == 400 else r
    _bind(b, "expected_owner", check)


@switch("FLT-EBO-004")
def _ebo_put_only(b):
    _bind(b, "expected_owner", lambda orig, op, value: orig(op, value) if op == "put" else None)


# --- URL shapes and presigned URLs ------------------------------------------------------------------------

@switch("FLT-URL-001")
def _url_presigned_preflight_refused(b):
    b.preflight_with_credentials = lambda query, header: (
        Refusal(403, "AccessDenied", "Query-string authentication is not allowed on OPTIONS") if query else None)


@switch("FLT-URL-002")
def _url_authorization_checked(b):
    b.preflight_with_credentials = lambda query, header: (
        Refusal(403, "AccessDenied", "Access Denied") if header else None)


@switch("FLT-URL-003")
def _url_key_not_decoded(b):
    b.url_key = lambda key: None if key is not None and any(c in key for c in " +&=%") else key


# --- CORS headers on error answers ------------------------------------------------------------------------

@switch("FLT-ERR-001")
def _err_none_on_404(b):
    b.cors_on_error = lambda status: status != 404


@switch("FLT-ERR-002")
def _err_none_on_403(b):
    b.cors_on_error = lambda status: status != 403


@switch("FLT-ERR-003")
def _err_none_on_any(b):
    b.cors_on_error = lambda status: status < 400


# --- privileged origins -----------------------------------------------------------------------------------

@switch("FLT-PRIV-001")
def _priv_generic_cors_layer(b):
    own = ("https://app.localstack.cloud", "http://localhost:4566", "http://127.0.0.1:4566")
    b.privileged = lambda origin, endpoint: origin in (endpoint, *own)
    b.gate = lambda origin, has_cors_answer, endpoint: (
        origin is not None and not has_cors_answer and origin not in (endpoint, *own))


# --- server errors on specific requests -------------------------------------------------------------------

@switch("FLT-5XX-001")
def _crash_malformed_xml(b):
    def crash(orig, op, body):
        if op == "put":
            try:
                import xml.etree.ElementTree as ET
                ET.fromstring(body)
            except Exception:
                return True
        return orig(op, body)
    _bind(b, "crash", crash)


@switch("FLT-5XX-002")
def _crash_empty_element(b):
    _bind(b, "crash", lambda orig, op, body: (op == "put" and re.search(
        rb"<(AllowedOrigin|AllowedMethod)>\s*</|<\1\s*/>|<CORSRule>\s*</CORSRule>|<CORSRule\s*/>", body) is not None)
        or orig(op, body))


@switch("FLT-5XX-003")
def _crash_no_origin_preflight(b):
    _bind(b, "crash", lambda orig, op, body: op == "preflight-no-origin" or orig(op, body))


def make_behaviour(owner_mode: str, account_id: str, fault: str | None) -> Behaviour:
    """The reference's behaviour with at most one fault switched on."""
    b = Behaviour(owner_mode, account_id)
    if fault is not None:
        if fault not in FAULT_SWITCHES:
            raise KeyError(fault)
        b.fault = fault
        FAULT_SWITCHES[fault](b)
    return b
