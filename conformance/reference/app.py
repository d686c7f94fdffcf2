"""The reference endpoint as a WSGI middleware: bucket CORS answered from conformance/behaviour/model.py (through a
Behaviour, which may carry one fault), everything else delegated to moto's S3 app in the same process."""

from __future__ import annotations

import dataclasses
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from conformance.behaviour import model
from conformance.reference import sigv4
from conformance.reference.behaviour import Behaviour, Refusal

CORS_NAMES = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
              "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age", "vary")
_ORDER = (("ID", "ID"), ("AllowedHeaders", "AllowedHeader"), ("AllowedMethods", "AllowedMethod"),
          ("AllowedOrigins", "AllowedOrigin"), ("ExposeHeaders", "ExposeHeader"), ("MaxAgeSeconds", "MaxAgeSeconds"))


def error_xml(code: str, message: str, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """An S3 error document."""
    parts = [f"<Code>{escape(code)}</Code>", f"<Message>{escape(message)}</Message>"]
    parts += [f"<{name}>{escape(value)}</{name}>" for name, value in extra]
    parts.append(f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>").encode()


def error_response(refusal: Refusal) -> Response:
    """The HTTP answer for a Refusal."""
    return Response(error_xml(refusal.code, refusal.message, refusal.extra), status=refusal.status,
                    content_type="application/xml")


def parse_rules(body: bytes) -> list[dict]:
    """The CORSRules of a document validate_document accepted, as boto3-style dicts with the texts as sent."""
    root = ET.fromstring(body)
    return [model._rule_dict(child) for child in root]  # the model's own reading of the schema


def rules_xml(rules: list[dict]) -> bytes:
    """A GetBucketCors answer."""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="{model.S3_XMLNS}">']
    for rule in rules:
        out.append("<CORSRule>")
        for key, element in _ORDER:
            values = rule.get(key)
            if values is None:
                continue
            if key == "MaxAgeSeconds":
                values = [str(int(values))]
            for value in values if isinstance(values, list) else [values]:
                out.append(f"<{element}>{escape(value)}</{element}>")
        out.append("</CORSRule>")
    out.append("</CORSConfiguration>")
    return "".join(out).encode()


_UNCHANGED = object()


def _fingerprint(response: Response) -> tuple:
    """What a client can observe of an answer (the random RequestId aside), to compare two behaviours."""
    body = re.sub(rb"<RequestId>[^<]*</RequestId>", b"", response.get_data())
    headers = sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in ("date", "server"))
    return response.status_code, headers, body


class ReferenceApp:
    """WSGI application: CORS from the model, the rest from moto.

    The decisions are pure functions of (behaviour, stored configuration, request), so that with `trace` on
    the faithful endpoint can also ask every fault's behaviour what it would have answered, and record on
    which buckets a fault's answer (or the configuration it would store) first differs (conformance/commands/power.py)."""

    def __init__(self, behaviour: Behaviour, access_key: str, secret_key: str, moto_app) -> None:
        self.behaviour = behaviour
        self.access_key = access_key
        self.secret_key = secret_key
        self.moto_app = moto_app
        self.configs: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self.shadows: dict[str, Behaviour] = {}          # fault ID -> behaviour, for the divergence trace
        self.trace: dict[str, set[str]] | None = None    # bucket ("" = none) -> faults whose answer differed

    @staticmethod
    def bucket_exists(bucket: str) -> bool:
        """Whether moto holds the bucket."""
        from moto.s3.models import s3_backends

        return bucket in s3_backends.bucket_accounts

    @staticmethod
    def stored_rules(stored: list[dict] | None) -> list[model.Rule] | None:
        """A stored configuration as model rules (None = no configuration)."""
        return [model.Rule.from_boto(r) for r in stored] if stored else None

    # --- WSGI ------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        try:
            response = self.handle(environ)
        except Exception as exc:  # an unexpected bug of the reference is a 500, as a server would answer
            response = error_response(Refusal(500, "InternalError", f"reference endpoint: {exc!r}"))
        return response(environ, start_response)

    def _diverged(self, bucket: str | None, faithful: Response, answer) -> None:
        """Record every shadow fault whose answer (from answer(behaviour)) differs from the faithful one."""
        if self.trace is None:
            return
        mine = _fingerprint(faithful)
        for fault, shadow in self.shadows.items():
            try:
                theirs = answer(shadow)
            except Exception:  # the fault makes the reference crash on it: a 500, surely different
                theirs = None
            if theirs is None or theirs != mine:
                with self.lock:
                    self.trace.setdefault(bucket or "", set()).add(fault)

    def handle(self, environ) -> Response:
        """Route one request."""
        request = Request(environ)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        raw_path, _, raw_query = raw.partition("?")
        path = unquote(raw_path)
        bucket, _, key = path[1:].partition("/") if path.startswith("/") else path.partition("/")
        bucket, key = bucket or None, (key or None) if bucket else None
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        exists = bucket is not None and self.bucket_exists(bucket)
        stored = self.configs.get(bucket) if exists else None
        if request.method == "OPTIONS":
            response = self.preflight(self.behaviour, stored, exists, request, bucket, key, query)
            self._diverged(bucket, response, lambda b: _fingerprint(
                self.preflight(b, stored, exists, request, bucket, key, query)))
            return response
        verdict = sigv4.verify(request.method, raw_path, raw_query, request.headers, self.access_key,
                               self.secret_key)
        config_call = verdict.code is None and not verdict.anonymous and bucket is not None and key is None \
            and "cors" in query
        if verdict.code:
            base = error_response(Refusal(400 if verdict.code == "InvalidArgument" else 403, verdict.code,
                                          verdict.message))
        elif verdict.anonymous and bucket:
            base = error_response(Refusal(403, "AccessDenied", "Access Denied"))
        elif config_call:
            body = request.get_data()
            with self.lock:  # one configuration call at a time: read, decide, store
                stored = self.configs.get(bucket) if exists else None
                base, new = self.cors_api(self.behaviour, stored, exists, request, bucket, body)
                if new is not _UNCHANGED:
                    self._set(bucket, new)
                after = self.configs.get(bucket)
                response = self.decorate(self.behaviour, base, after, exists, request, bucket, key, verdict)
            self._diverged(bucket, response, lambda b: self._shadow_config(b, stored, exists, request, bucket, key,
                                                                           body, verdict, after))
            return response
        else:
            base = Response.from_app(self.moto_app, environ)
            if request.method == "DELETE" and bucket and key is None and not query and base.status_code == 204:
                with self.lock:
                    self.configs.pop(bucket, None)
                exists, stored = False, None
        for name in CORS_NAMES:  # moto's own CORS headers never reach the client
            base.headers.remove(name)
        response = self.decorate(self.behaviour, _copy(base), stored, exists, request, bucket, key, verdict)
        self._diverged(bucket, response, lambda b: _fingerprint(
            self.decorate(b, _copy(base), stored, exists, request, bucket, key, verdict)))
        return response

    def _shadow_config(self, b: Behaviour, stored, exists, request, bucket, key, body, verdict, faithful_after):
        """What a shadow behaviour answers to a configuration call; None when it would store another configuration."""
        base, new = self.cors_api(b, stored, exists, request, bucket, body)
        after = stored if new is _UNCHANGED else (new or None)
        if after != faithful_after:
            return None
        return _fingerprint(self.decorate(b, base, after, exists, request, bucket, key, verdict))

    def decorate(self, b: Behaviour, response: Response, stored, exists: bool, request: Request,
                 bucket: str | None, key: str | None, verdict) -> Response:
        """Add the CORS headers of an actual request (§6) to its answer."""
        resource = "service" if bucket is None else ("bucket" if key is None else "object")
        req = model.Request(method=request.method, origin=request.headers.get("Origin"),
                            request_method=request.headers.get("Access-Control-Request-Method"),
                            request_headers=request.headers.get("Access-Control-Request-Headers"),
                            resource=resource, bucket_exists=exists,
                            signed=not verdict.code and not verdict.anonymous)
        rules = self.stored_rules(stored) if exists else None
        if b.gate(req.origin, rules is not None, f"http://{request.host}"):
            return Response(b"", 403, content_type="text/plain")
        answer = b.actual(rules, req)
        rule = rules[answer.matched_rule] if rules and answer.matched_rule is not None else None
        headers = b.actual_headers(dict(answer.headers), rule, req)
        if headers and (response.status_code < 400 or b.cors_on_error(response.status_code)):
            for name, value in headers.items():
                response.headers[name] = value
        return response

    # --- preflight -------------------------------------------------------------------------------------

    def preflight(self, b: Behaviour, stored, exists: bool, request: Request, bucket: str | None,
                  key: str | None, query: dict) -> Response:
        """An OPTIONS request: never authenticated, answered from the model (§4)."""
        origin = request.headers.get("Origin")
        if origin is None and b.crash("preflight-no-origin", b""):
            return error_response(Refusal(500, "InternalError", "We encountered an internal error. Please try again."))
        refusal = b.preflight_with_credentials("X-Amz-Signature" in query, "Authorization" in request.headers)
        if refusal is not None:
            return error_response(refusal)
        rules = self.stored_rules(stored)
        if rules is None and origin is not None and b.privileged(origin, f"http://{request.host}"):
            return Response(b"", 200, {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods":
                                       "HEAD, GET, PUT, POST, DELETE, OPTIONS, PATCH",
                                       "Access-Control-Allow-Headers": "*", "Vary": "Origin"})
        if key is not None and b.url_key(key) is None:
            return error_response(Refusal(400, "InvalidURI", "Couldn't parse the specified URI."))
        req = model.Request(method="OPTIONS", origin=origin,
                            request_method=request.headers.get("Access-Control-Request-Method"),
                            request_headers=request.headers.get("Access-Control-Request-Headers"),
                            resource="bucket" if key is None else "object", bucket_exists=exists)
        answer = b.preflight(rules, req)
        if answer.status == 200:
            headers = b.preflight_headers(dict(answer.headers), rules[answer.matched_rule], req)
            return Response(b"", 200, headers)
        status, extra_headers, body = b.refusal(answer)
        if body is None:
            extra = tuple((n, v) for n, v in (("Method", answer.error_method),
                                              ("ResourceType", answer.error_resource_type)) if v is not None)
            body = error_xml(answer.error_code, answer.error_message, extra)
        response = Response(body, status, extra_headers, content_type="application/xml")
        if not body:
            response.headers.remove("Content-Type")
        return response

    # --- PutBucketCors, GetBucketCors, DeleteBucketCors (§2, §3) ------------------------------------------

    def cors_api(self, b: Behaviour, old, exists: bool, request: Request, bucket: str, body: bytes):
        """The bucket CORS configuration API: (answer, new configuration or _UNCHANGED)."""
        operation = {"PUT": "put", "GET": "get", "DELETE": "delete"}.get(request.method)
        if operation is None:
            return error_response(Refusal(405, "MethodNotAllowed",
                                          "The specified method is not allowed against this resource.",
                                          (("Method", request.method), ("ResourceType", "CORSCONFIGURATION")))), \
                _UNCHANGED
        if not exists:
            return error_response(Refusal(404, "NoSuchBucket", "The specified bucket does not exist",
                                          (("BucketName", bucket),))), _UNCHANGED
        refusal = b.expected_owner(operation, request.headers.get("x-amz-expected-bucket-owner"))
        if refusal is not None:
            return error_response(refusal), _UNCHANGED
        if operation == "get":
            if old is None:
                missing = b.get_missing()
                if isinstance(missing, Refusal):
                    return error_response(dataclasses.replace(missing, extra=(("BucketName", bucket),))), _UNCHANGED
                return Response(rules_xml(missing), 200, content_type="application/xml"), _UNCHANGED
            return Response(rules_xml(b.returned_rules(old)), 200, content_type="application/xml"), _UNCHANGED
        if operation == "delete":
            return Response(b"", b.delete_status()), b.delete(old)
        if b.crash("put", body):
            return error_response(Refusal(500, "InternalError",
                                          "We encountered an internal error. Please try again.")), _UNCHANGED
        refusal = b.check_digest(request.headers, body)
        if refusal is not None:
            return error_response(refusal), _UNCHANGED
        verdict = b.validate(body)
        if not verdict.accepted:
            return error_response(Refusal(verdict.status or 400, verdict.code or "MalformedXML",
                                          verdict.message or model.MALFORMED_XML_MESSAGE)), b.after_rejected_put(old)
        return Response(b"", 200), b.store(old, parse_rules(body))

    def _set(self, bucket: str, rules: list[dict] | None) -> None:
        if rules:
            self.configs[bucket] = rules
        else:
            self.configs.pop(bucket, None)


def _copy(response: Response) -> Response:
    """A copy of an answer, so that each behaviour decorates its own."""
    return Response(response.get_data(), response.status_code, Headers(response.headers))
