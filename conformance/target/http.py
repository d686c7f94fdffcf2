"""The HTTP layer: boto3 for the configuration API, raw (optionally SigV4-signed) requests for everything
boto3 would refuse or alter, and a recorder that keeps every exchange of a case as redacted evidence."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import boto3
import botocore.exceptions
import requests
from requests.adapters import HTTPAdapter
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from conformance.errors import InfraError, ServerError, Unsupported, is_silence
from conformance.target import inflight
from conformance.target.polling import pause
from conformance.target.redact import Redactor
from conformance.target.profiles import Credentials, Target

BODY_EXCERPT = 2000
RAW_ATTEMPTS = 3
API_ATTEMPTS = 3

# What the TLS layer says (OpenSSL via ssl/urllib3), what it means and the option that fixes it. The first
# fragment found in the error text wins; anything else TLS-related gets the generic last line.
_TLS_PROBLEMS = [
    (("certificate has expired",), "its TLS certificate has expired (renew it on the server, or skip "
                                   "verification with --no-verify-tls)"),
    (("doesn't match", "Hostname mismatch", "not valid for", "IP address mismatch"),
     "its TLS certificate is for another host name (put a host name the certificate names in --endpoint-url, "
     "or skip verification with --no-verify-tls)"),
    (("self-signed certificate", "self signed certificate", "unable to get local issuer certificate",
      "unable to get issuer certificate", "unable to verify the first certificate", "CERTIFICATE_VERIFY_FAILED"),
     "its TLS certificate is not trusted: self-signed or from a CA that is not in the CA bundle (give that CA's "
     "certificate with --ca-bundle=PATH, or skip verification with --no-verify-tls)"),
    (("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure", "packet length too long",
      "http request", "unknown protocol"),
     "it answers plain HTTP on this port, not HTTPS (use an http:// URL in --endpoint-url)"),
]


class TLSProblem(InfraError):
    """The TLS handshake failed: `meaning` names the problem and the option that fixes it."""

    def __init__(self, where: str, meaning: str) -> None:
        super().__init__(f"{where}: {meaning}")
        self.meaning = meaning


def speaks_tls(url: str, timeout: float = 5.0) -> bool:
    """True when the host and port of an http:// URL complete a TLS handshake (so the URL should be https://)."""
    parts = urlsplit(url)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # any certificate: only the protocol counts
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=parts.hostname):
                return True
    except (OSError, ValueError):
        return False


def tls_problem(error_text: str) -> str | None:
    """What a TLS/SSL error text means for the user, with the fixing option; None if it is not a TLS error."""
    for fragments, meaning in _TLS_PROBLEMS:
        if any(f in error_text for f in fragments):
            return meaning
    if "SSL" in error_text or "TLS" in error_text:
        return ("the TLS handshake failed (check the https:// URL; --ca-bundle=PATH or --no-verify-tls if the "
                "certificate is the trouble)")
    return None


def _excerpt(body: bytes | str | None) -> str | None:
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if len(text) > BODY_EXCERPT:
        return f"{text[:BODY_EXCERPT]}... [{len(text)} characters in all]"
    return text


class Recorder:
    """Keeps the exchanges of the case that is running, redacted, and counts every request made."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._current: list[dict] | None = None
        self.case_requests = 0  # requests of the case that runs (or ran last), trimmed evidence included
        self.on_exchange: Callable[[dict], None] | None = None  # e.g. an Allure step per exchange of a case
        self.total = 0
        self._count_lock = threading.Lock()  # requests are counted from every thread of a gather
        self._pending = threading.local()

    @property
    def current(self) -> list[dict] | None:
        """The exchange list of the case that is running (None between cases)."""
        return self._current

    @current.setter
    def current(self, exchanges: list[dict] | None) -> None:
        if exchanges is not None and exchanges is not self._current:
            self.case_requests = 0
        self._current = exchanges

    def add(self, method: str, url: str, request_headers, request_body, *, status: int | None = None,
            response_headers=None, response_body=None, error: str | None = None, note: str = "",
            started: float | None = None) -> dict:
        """Record one exchange (one HTTP attempt); inside a gathered call it joins the case's evidence when the
        gather ends, in call order (see inflight.in_order)."""
        with self._count_lock:
            self.total += 1
        r = self.redactor
        exchange = {
            "method": method,
            "url": r.url(url),
            "request_headers": r.headers(request_headers or []),
            "request_body": r.text(_excerpt(request_body) or "") or None,
            "status": status,
            "response_headers": r.headers(response_headers or []),
            "response_body": r.text(_excerpt(response_body) or "") or None,
            "error": r.text(error) if error else None,
            "note": note,
            "ms": round((time.monotonic() - started) * 1000, 1) if started else None,
        }
        inflight.in_order(lambda: self._keep(exchange))
        return exchange

    def _keep(self, exchange: dict) -> None:
        """Append an exchange to the running case's evidence, numbered in the order kept."""
        if self.current is not None:
            self.case_requests += 1
            exchange["seq"] = len(self.current) + 1
            self.current.append(exchange)
            if self.on_exchange is not None:
                self.on_exchange(exchange)

    # botocore event handlers: one before-send and one response-received per attempt.
    def _before_send(self, request, **_):
        self._pending.request = (request, time.monotonic())

    def _response_received(self, response_dict, exception, context, event_name: str = "", **_):
        request, started = getattr(self._pending, "request", (None, None))
        self._pending.request = None
        if request is None:
            return
        op = (context.get("operation_name") if context else None) or event_name.rsplit(".", 1)[-1] or None
        body = request.body if isinstance(request.body, (bytes, str)) else None
        # botocore numbers the attempts of one call (its standard retries): a retry shows in the evidence.
        attempt = ((context or {}).get("retries") or {}).get("attempt") or 1
        self._pending.attempt = attempt
        note = f"boto3 {op or ''}".strip() + (f" (attempt {attempt})" if attempt > 1 else "")
        if response_dict is None:
            self.add(request.method, request.url, request.headers.items(), body,
                     error=f"{type(exception).__name__}: {exception}", note=note, started=started)
            return
        resp_body = response_dict.get("body")
        self.add(request.method, request.url, request.headers.items(), body,
                 status=response_dict.get("status_code"), response_headers=list(response_dict["headers"].items()),
                 response_body=resp_body if isinstance(resp_body, (bytes, str)) else None,
                 note=note, started=started)

    # Evidence of the running case: positions in its exchange list, so that an engine running many examples
    # (conformance/run/properties.py) can keep some of them without holding the list itself.
    def mark(self) -> int:
        """The position the next exchange of the running case will take (0 when no case is running)."""
        return len(self.current) if self.current is not None else 0

    def since(self, mark: int) -> list[dict]:
        """Copies of the running case's exchanges from mark on."""
        return [dict(x) for x in (self.current or [])[mark:]]

    def trim(self, since: int, keep: int) -> None:
        """Drop the running case's exchanges from position max(since, keep) on (the first `keep` stay)."""
        if self.current is not None and len(self.current) > max(since, keep):
            del self.current[max(since, keep):]

    def annotate(self, since: int, note: str) -> None:
        """Prefix the note of the running case's exchanges from since on with `note`."""
        for exchange in (self.current or [])[since:]:
            exchange["note"] = f"{note}: {exchange['note']}" if exchange.get("note") else note

    def restore(self, exchanges: list[dict], note: str) -> None:
        """Append exchanges kept earlier (see since) to the running case's evidence, noted, renumbered."""
        if self.current is None:
            return
        self.current.extend({**x, "note": f"{note}: {x.get('note', '')}"} for x in exchanges)
        for seq, exchange in enumerate(self.current, 1):
            exchange["seq"] = seq

    def last_attempts(self) -> int:
        """How many attempts the last boto3 call of this thread made (its retries included)."""
        return getattr(self._pending, "attempt", None) or 1


@dataclass
class Response:
    """A raw HTTP answer, with every header line kept (duplicates included) and the S3 error parsed."""

    status: int
    header_lines: list[tuple[str, str]]
    body: bytes
    url: str = ""

    def header(self, name: str) -> str | None:
        """The value of a header, joined with ', ' if it appears more than once; None if absent."""
        values = self.headers_named(name)
        return ", ".join(values) if values else None

    def headers_named(self, name: str) -> list[str]:
        """Every line of this header, in order."""
        low = name.lower()
        return [v for k, v in self.header_lines if k.lower() == low]

    def cors_headers(self) -> dict[str, str]:
        """All Access-Control-* headers and Vary, by lower-case name."""
        out: dict[str, str] = {}
        for k, _ in self.header_lines:
            low = k.lower()
            if low.startswith("access-control-") or low == "vary":
                out[low] = self.header(low)
        return out

    @property
    def error(self) -> dict[str, str]:
        """Child elements of an S3 <Error> body (Code, Message, Method, ResourceType...), {} if none."""
        return parse_error(self.body)

    @property
    def code(self) -> str | None:
        """The S3 error code, if the body is an S3 error."""
        return self.error.get("Code")

    @property
    def message(self) -> str | None:
        """The S3 error message, if the body is an S3 error."""
        return self.error.get("Message")


def parse_error(body: bytes | str | None) -> dict[str, str]:
    """Parse an S3 <Error> document into {element: text}; {} if the body is not one."""
    if not body:
        return {}
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    if root.tag.rsplit("}", 1)[-1] != "Error":
        return {}
    return {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in root}


@dataclass
class ApiResult:
    """The outcome of one boto3 call: status and data on success, status/code/message on an S3 error."""

    operation: str
    status: int
    data: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    message: str | None = None
    error: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


class S3:
    """One endpoint, with a boto3 client and a raw request path, both recorded by the same Recorder."""

    def __init__(self, target: Target, credentials: Credentials, recorder: Recorder, *,
                 request_timeout: float = 30.0) -> None:
        self.target = target
        self.credentials = credentials
        self.recorder = recorder
        self.timeout = request_timeout
        assert target.endpoint_url, "the target must be started before S3 is built"
        self.endpoint = target.endpoint_url
        session = boto3.session.Session(
            aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.session_token, region_name=target.region)
        self.client = session.client(
            "s3", endpoint_url=self.endpoint, verify=target.verify,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": target.addressing},
                retries={"mode": "standard", "total_max_attempts": API_ATTEMPTS},  # (max_attempts: retries)
                connect_timeout=min(10.0, request_timeout), read_timeout=request_timeout,
                # Only when the operation requires it, so that the servers' own checksum handling is tested.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                max_pool_connections=inflight.limit(),  # no more connections than requests in flight
            ))
        events = self.client.meta.events
        events.register("before-send.s3", recorder._before_send)
        events.register("response-received.s3", recorder._response_received)
        self.http = requests.Session()
        pool = HTTPAdapter(pool_maxsize=inflight.limit(), pool_block=True)
        for scheme in ("http://", "https://"):
            self.http.mount(scheme, pool)
        self._signer_credentials = BotoCredentials(credentials.access_key, credentials.secret_key,
                                                   credentials.session_token)

    # ---- boto3 -------------------------------------------------------------------------------------------
    def api(self, operation: str, **params: Any) -> ApiResult:
        """Call a boto3 S3 operation; S3 errors come back as data, infrastructure trouble raises InfraError."""
        method: Callable = getattr(self.client, operation)
        self.recorder._pending.attempt = None
        try:
            data = method(**params)
        except botocore.exceptions.ClientError as exc:
            resp = exc.response
            status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            err = resp.get("Error", {})
            code = err.get("Code")
            if code == "NotImplemented" or status == 501:
                raise Unsupported(f"{operation}: the target answered {status} {code}") from None
            if status >= 500:
                shown = "" if code in (None, str(status)) else f" {code}"
                attempts = self.recorder.last_attempts()
                if is_silence(status):
                    raise InfraError(f"{operation}: the server answered {status}{shown} after {attempts} attempts")
                raise ServerError(operation, status, None if code == str(status) else code,
                                  self.recorder.redactor.text(err.get("Message") or ""), attempts) from None
            return ApiResult(operation, status, code=code, message=err.get("Message"), error=dict(err))
        except botocore.exceptions.SSLError as exc:  # not retried by botocore: one attempt says it all
            raise TLSProblem(operation, tls_problem(str(exc)) or str(exc)) from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError,
                botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError) as exc:
            raise InfraError(f"{operation}: {self.recorder.redactor.text(str(exc))} "
                             f"after {self.recorder.last_attempts()} attempts") from None
        status = data.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
        data = {k: v for k, v in data.items() if k != "ResponseMetadata"}
        return ApiResult(operation, status, data=data)

    # ---- raw requests ------------------------------------------------------------------------------------
    def url(self, bucket: str | None = None, key: str | None = None, query: str | None = None) -> str:
        """The URL of a bucket or object, path-style or virtual-host style as the target says."""
        parts = urlsplit(self.endpoint)
        path_key = "/" + quote(key, safe="/~") if key is not None else ""
        if bucket and self.target.addressing == "virtual":
            netloc = f"{bucket}.{parts.netloc}"
            path = path_key or "/"
        else:
            netloc = parts.netloc
            base = parts.path.rstrip("/")
            path = f"{base}/{bucket}{path_key}" if bucket else (base or "/")
        url = f"{parts.scheme}://{netloc}{path}"
        return f"{url}?{query}" if query is not None else url

    def request(self, method: str, bucket: str | None = None, key: str | None = None, *,
                query: str | None = None, headers: dict[str, str] | None = None, body: bytes | None = None,
                sign: bool = True, content_md5: bool = False, note: str = "", url: str | None = None,
                wrong_secret: bool = False) -> Response:
        """Send one raw request (retried on connection trouble and 5xx); every attempt is recorded.

        After the retries, a 5xx from the server itself raises ServerError (a verdict), no answer or throttling
        InfraError (see errors.is_silence).

        wrong_secret signs with a secret key that is not the account's, so the server must refuse it (403)."""
        url = url or self.url(bucket, key, query)
        headers = dict(headers or {})
        if content_md5 and body is not None:
            headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
        last_problem, last_answer = "", None
        for attempt in range(1, RAW_ATTEMPTS + 1):
            send_headers = self._signed(method, url, headers, body, wrong_secret) if sign else headers
            started = time.monotonic()
            label = note + (f" (attempt {attempt})" if attempt > 1 else "")
            try:
                resp = self.http.request(method, url, headers=send_headers, data=body, timeout=self.timeout,
                                         verify=self.target.verify, allow_redirects=False, stream=False)
            except requests.RequestException as exc:
                last_problem, last_answer = f"{type(exc).__name__}: {exc}", None
                self.recorder.add(method, url, send_headers.items(), body, error=last_problem, note=label,
                                  started=started)
                if isinstance(exc, requests.exceptions.SSLError):  # a retry would meet the same certificate
                    raise TLSProblem(f"{method} {self.recorder.redactor.url(url)}",
                                     tls_problem(str(exc)) or last_problem) from None
            else:
                lines = [(k, v) for k, v in resp.raw.headers.iteritems()]
                self.recorder.add(method, url, send_headers.items(), body, status=resp.status_code,
                                  response_headers=lines, response_body=resp.content, note=label, started=started)
                if resp.status_code < 500 or resp.status_code == 501:  # 501: NotImplemented, not retried
                    return Response(resp.status_code, lines, resp.content, url=url)
                last_answer = Response(resp.status_code, lines, resp.content, url=url)
                last_problem = f"the server answered {resp.status_code} {last_answer.code or ''}".rstrip()
            if attempt < RAW_ATTEMPTS:
                pause(0.2 * 2 ** (attempt - 1))
        redact = self.recorder.redactor
        if last_answer is not None and not is_silence(last_answer.status):
            # The server itself answered 5xx every time: its answer to this request, a verdict on the case.
            raise ServerError(f"{method} {redact.url(url)}", last_answer.status, last_answer.code,
                              redact.text(last_answer.message or ""), RAW_ATTEMPTS)
        raise InfraError(f"{method} {self.recorder.redactor.url(url)}: {self.recorder.redactor.text(last_problem)} "
                         f"after {RAW_ATTEMPTS} attempts")

    def _signed(self, method: str, url: str, headers: dict[str, str], body: bytes | None,
                wrong_secret: bool = False) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        credentials = self._signer_credentials
        if wrong_secret:
            credentials = BotoCredentials(credentials.access_key, "s3cors-not-the-secret-key",
                                          credentials.token)
        S3SigV4Auth(credentials, "s3", self.target.region).add_auth(request)
        return dict(request.headers.items())

    def presigned(self, http: str, bucket: str, key: str, headers: dict[str, str] | None = None) -> str:
        """A presigned URL for a GET, HEAD, PUT or DELETE of an object, as a browser page uses one (the
        x-amz-meta-* headers a PUT will send are part of the signature)."""
        params: dict = {"Bucket": bucket, "Key": key}
        meta = {k[len("x-amz-meta-"):]: v for k, v in (headers or {}).items() if k.lower().startswith("x-amz-meta-")}
        if http == "PUT" and meta:
            params["Metadata"] = meta
        operation = {"GET": "get_object", "HEAD": "head_object", "PUT": "put_object", "DELETE": "delete_object"}[http]
        return self.client.generate_presigned_url(operation, Params=params, ExpiresIn=900)

    def preflight(self, bucket: str | None, key: str | None, origin: str | None, method: str | None,
                  request_headers: str | None = None, extra: dict[str, str] | None = None,
                  note: str = "preflight") -> Response:
        """An unsigned OPTIONS request as a browser sends it."""
        headers: dict[str, str] = {}
        if origin is not None:
            headers["Origin"] = origin
        if method is not None:
            headers["Access-Control-Request-Method"] = method
        if request_headers is not None:
            headers["Access-Control-Request-Headers"] = request_headers
        headers.update(extra or {})
        return self.request("OPTIONS", bucket, key, headers=headers, sign=False, note=note)
