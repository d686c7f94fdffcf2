"""The HTTP layer: boto3 for the configuration API, raw (optionally SigV4-signed) requests for everything
boto3 would refuse or alter; every exchange goes to the recorder (recorder.py) as redacted evidence."""

from __future__ import annotations

import base64
import functools
import hashlib
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import boto3
import botocore.exceptions
import botocore.utils
import requests
from requests.adapters import HTTPAdapter
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from conformance.errors import InfraError, ServerError, Unsupported, is_silence
from conformance.target import inflight
from conformance.target.environment import HttpEnvironment
from conformance.target.polling import pause
from conformance.target.profiles import Credentials, Target
from conformance.target.recorder import Recorder

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


_SESSION: boto3.session.Session | None = None
_SESSION_LOCK = threading.Lock()


def boto3_client(service: str, credentials, region: str, **kwargs: Any):
    """A boto3 client with these credentials. Every client of a process comes from one session: a new session
    lists and loads botocore's service data again, about half a second of CPU each."""
    global _SESSION
    with _SESSION_LOCK:  # a session is not safe to share between threads making clients at once
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client(service, aws_access_key_id=credentials.access_key,
                               aws_secret_access_key=credentials.secret_key,
                               aws_session_token=credentials.session_token, region_name=region, **kwargs)


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
        # Read here, in the thread that builds the client: requests sent ahead must not read the environment.
        self.environment = HttpEnvironment.read()
        # botocore reads the environment's proxies whenever it makes a client (sigv2_client is made later, maybe
        # in another thread): its own choice for this endpoint, made here once.
        self._api_proxies = botocore.utils.get_environ_proxies(self.endpoint)
        self.client = boto3_client(
            "s3", credentials, target.region, endpoint_url=self.endpoint, verify=target.verify,
            config=Config(
                proxies=self._api_proxies,
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
        self.http.trust_env = False  # proxies and CA bundle come from self.environment (also: no ~/.netrc auth)
        self.http.verify = self.environment.verify(target.verify)
        pool = HTTPAdapter(pool_maxsize=inflight.limit(), pool_block=True)
        for scheme in ("http://", "https://"):
            self.http.mount(scheme, pool)
        self._signer_credentials = BotoCredentials(credentials.access_key, credentials.secret_key,
                                                   credentials.session_token)
        # Objects this client wrote, per bucket: removing a bucket deletes them without listing it first.
        self.written: dict[str, set[str]] = {}
        # Requests sent ahead (send_ahead): their arguments -> futures of (answer or exception, exchanges), first
        # first.
        self._ahead: dict[tuple, list[Future]] = {}

    @functools.cached_property
    def sigv2_client(self):
        """A boto3 client that presigns with SigV2 query authentication (made once: making one costs CPU)."""
        return boto3_client("s3", self.credentials, self.target.region, endpoint_url=self.endpoint,
                            verify=self.target.verify,
                            config=Config(signature_version="s3", s3={"addressing_style": "path"},
                                          proxies=self._api_proxies))

    def _wrote(self, bucket: str | None, key: str | None, deleted: bool = False) -> None:
        """Note an object this client wrote (or deleted) with a 2xx answer."""
        if bucket and key is not None:
            keys = self.written.setdefault(bucket, set())
            (keys.discard if deleted else keys.add)(key)

    # ---- boto3 -------------------------------------------------------------------------------------------
    def api(self, operation: str, **params: Any) -> ApiResult:
        """Call a boto3 S3 operation; S3 errors come back as data, infrastructure trouble raises InfraError."""
        method: Callable = getattr(self.client, operation)
        self.recorder._pending.attempt = None
        try:
            with inflight.slot():  # botocore's own retries included
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
        if operation in ("put_object", "delete_object"):
            self._wrote(params.get("Bucket"), params.get("Key"), deleted=operation == "delete_object")
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

        wrong_secret signs with a secret key that is not the account's, so the server must refuse it (403).
        A request sent ahead with the same arguments (send_ahead) answers instead."""
        call = {"method": method, "bucket": bucket, "key": key, "query": query, "headers": headers, "body": body,
                "sign": sign, "content_md5": content_md5, "note": note, "url": url, "wrong_secret": wrong_secret}
        kept = self._ahead.get(_request_key(**call)) if self._ahead else None
        if kept:
            future = kept.pop(0)
            if future.cancel():  # still waiting for a place in flight: it goes out now, as any request does
                return self._request_now(**call)
            answer, exchanges = future.result()
            inflight.in_order(lambda: self.recorder.restore(exchanges, "sent ahead", counted=True))
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return self._request_now(**call)

    def _request_now(self, method: str, bucket: str | None = None, key: str | None = None, *,
                     query: str | None = None, headers: dict[str, str] | None = None, body: bytes | None = None,
                     sign: bool = True, content_md5: bool = False, note: str = "", url: str | None = None,
                     wrong_secret: bool = False) -> Response:
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
                with inflight.slot():
                    resp = self.http.request(method, url, headers=send_headers, data=body, timeout=self.timeout,
                                             proxies=self.environment.proxies_for(url),
                                             allow_redirects=False, stream=False)
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
                    if method in ("PUT", "DELETE") and query is None and 200 <= resp.status_code < 300:
                        self._wrote(bucket, key, deleted=method == "DELETE")
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
        return self.request(**preflight_args(bucket, key, origin, method, request_headers, extra, note))

    def send_ahead(self, calls: list[dict]) -> None:
        """Start these requests (request()'s keyword arguments) now, together, and return at once; a later
        request() with the same arguments waits for one of them, its exchanges joining the evidence of the case
        that asks. An answer that is an error (a 5xx, no answer) is kept too, and raised then, as it would have
        been. Only for requests that change nothing, to resources nothing changes in between.

        Not waiting matters: a server that answers some of them 5xx is asked again after a pause, and the cases
        that need none of those answers go on meanwhile."""
        recorder = self.recorder

        def one(call: dict) -> tuple[Response | BaseException, list[dict]]:
            with recorder.unrecorded(), recorder.capture() as exchanges:  # evidence of the case that asks
                try:
                    answer: Response | BaseException = self._request_now(**call)
                except (InfraError, ServerError, Unsupported) as exc:
                    answer = exc
            return answer, exchanges

        for call in calls:
            self._ahead.setdefault(_request_key(**call), []).append(inflight.submit(lambda c=call: one(c)))

    def forget_ahead(self) -> None:
        """Cancel the requests sent ahead that no case asked for, and wait for those in flight: before the run
        removes their buckets."""
        futures = [future for kept in self._ahead.values() for future in kept]
        self._ahead.clear()
        for future in futures:
            future.cancel()
        inflight.settle(futures)


def preflight_args(bucket: str | None, key: str | None, origin: str | None, method: str | None,
                   request_headers: str | None = None, extra: dict[str, str] | None = None,
                   note: str = "preflight") -> dict:
    """S3.request()'s keyword arguments for an unsigned OPTIONS request as a browser sends it."""
    headers: dict[str, str] = {}
    if origin is not None:
        headers["Origin"] = origin
    if method is not None:
        headers["Access-Control-Request-Method"] = method
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    headers.update(extra or {})
    return {"method": "OPTIONS", "bucket": bucket, "key": key, "headers": headers, "sign": False, "note": note}


def _request_key(method: str, bucket: str | None = None, key: str | None = None, *, query: str | None = None,
                 headers: dict[str, str] | None = None, body: bytes | None = None, sign: bool = True,
                 content_md5: bool = False, note: str = "", url: str | None = None,
                 wrong_secret: bool = False) -> tuple:
    """What makes two request() calls the same request (the note too: it names the case)."""
    return (method, bucket, key, query, tuple(sorted((headers or {}).items())), body, sign, content_md5, note, url,
            wrong_secret)
