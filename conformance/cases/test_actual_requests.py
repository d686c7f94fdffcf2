"""ACT: CORS headers on actual (non-preflight) cross-origin requests, that CORS never changes what the
request does, and that no origin is privileged (fixtures/cases/actual_requests.toml; expectations from
conformance/behaviour/model.py)."""

from __future__ import annotations

import re


from conformance.browser import fetch
from conformance.browser.table import twin_expected, twin_request
from conformance.target.capabilities import require
from conformance.behaviour.tables import cases
from conformance.behaviour.checks import establishing
from conformance.behaviour.cors import ACAO, PROBE_KEY, check_actual, expected_actual
from conformance.target.http import S3, Response, preflight_args
from conformance.target.inflight import gather
from conformance.behaviour.privileged import check_not_granted, privileged_origins

BODY = b"conformance object\n"
UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


def _key(case, http: str) -> str | None:
    """The object a case's request goes to; writes and deletes get a key of their own."""
    send = case.send
    if send.get("resource") in ("bucket", "service"):
        return None
    if "key" in send:
        return send["key"]
    return PROBE_KEY if http in ("GET", "HEAD") else f"act/{case.id.lower()}-{http.lower()}.txt"


def _send(s3: S3, case, bucket: str, http: str, key: str | None, origin: str | None, *, signed: bool = True,
          wrong_secret: bool = False, note: str = "") -> Response:
    """One actual request with the case's Origin and Access-Control-Request-* headers."""
    return s3.request(**_send_args(case, bucket, http, key, origin, signed=signed, wrong_secret=wrong_secret,
                                   note=note))


def _send_args(case, bucket: str, http: str, key: str | None, origin: str | None, *, signed: bool = True,
               wrong_secret: bool = False, note: str = "") -> dict:
    """S3.request's keyword arguments for _send."""
    send = case.send
    headers: dict[str, str] = {}
    if origin is not None:
        headers["Origin"] = origin
    if send.get("method") is not None:
        headers["Access-Control-Request-Method"] = send["method"]
    if send.get("headers") is not None:
        headers["Access-Control-Request-Headers"] = send["headers"]
    headers.update(send.get("extra_headers", {}))
    body = None
    if http == "PUT":
        body = BODY
        headers["Content-Type"] = "text/plain"
    target_bucket = None if send.get("resource") == "service" else bucket
    return {"method": http, "bucket": target_bucket, "key": key, "query": send.get("query") if http == "POST" else None,
            "headers": headers, "body": body, "sign": signed, "wrong_secret": wrong_secret,
            "note": note or f"{http} with Origin ({case.id})"}


# What may be sent ahead (cases(ahead=...)): requests to objects no request writes, and that change nothing
# themselves, so their answer is the same ahead as in their turn: reads of an object, and preflights for them.
# Writes and deletes go to keys of their own (_key), and a preflight for one of those is sent in its turn (a
# server may answer a preflight for an existing object otherwise); listings depend on what others wrote.
READS = ("GET", "HEAD")


def plan_actual(case, bucket: str, s3: S3) -> list[dict]:
    """test_actual_request's request, when it reads an object and runs whatever the target's capabilities."""
    send = case.send
    if send["http"] not in READS or send.get("signature") == "wrong" or send.get("resource") in ("bucket", "service"):
        return []
    return [_send_args(case, bucket, send["http"], _key(case, send["http"]), send.get("origin"),
                       signed=send.get("signed", True))]


def plan_pairs(case, bucket: str, s3: S3) -> list[dict]:
    """test_preflight_and_actual_agree's pairs that read: the preflight and the read."""
    out = []
    for origin, method in case.send["pairs"]:
        if method in READS:
            key = _key(case, method)
            out.append(preflight_args(bucket, key, origin, method, note=f"preflight {origin} {method} ({case.id})"))
            out.append(_send_args(case, bucket, method, key, origin, note=f"{method} {origin} ({case.id})"))
    return out


def plan_privileged(case, bucket: str, s3: S3) -> list[dict]:
    """test_privileged_origins_get_nothing's GETs (its PUTs write)."""
    return [_send_args(case, bucket, "GET", _key(case, "GET"), origin, note=f"GET from {origin} ({case.id})")
            for origin in privileged_origins(s3.target)]


def _prepare(check, s3: S3, bucket: str, http: str, key: str | None) -> None:
    """A DELETE needs an object to delete (put without Origin, signed)."""
    if http == "DELETE" and key is not None:
        with establishing(f"PutObject {key} for the DELETE"):
            put = s3.api("put_object", Bucket=bucket, Key=key, Body=BODY)
        check.precondition(put.ok, f"PutObject {key} for the DELETE answered {put.status} {put.code}")


def _tidy(s3: S3, bucket: str, key: str | None, resp: Response) -> None:
    """Abort a multipart upload the POST opened (the bucket removal also aborts leftovers)."""
    found = UPLOAD_ID.search(resp.body or b"")
    if found and key is not None:
        s3.api("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=found.group(1).decode())


def _object_status(s3: S3, bucket: str, key: str) -> int:
    return s3.api("head_object", Bucket=bucket, Key=key).status


@cases("ACT-*", where=lambda c: not {"pairs", "browser", "privileged"} & set(c.send), ahead=plan_actual)
def test_actual_request(case, check, s3, target, configured_bucket):
    send, expect = case.send, case.expect
    wrong_secret = send.get("signature") == "wrong"
    if wrong_secret:
        require(target, "auth_enforced")
    signed = send.get("signed", True)
    http = send["http"]
    key = _key(case, http)
    missing_bucket = case.setup.get("bucket") == "missing"
    if not missing_bucket:
        _prepare(check, s3, configured_bucket, http, key)
    resp = _send(s3, case, configured_bucket, http, key, send.get("origin"), signed=signed,
                 wrong_secret=wrong_secret)
    if http == "POST":
        _tidy(s3, configured_bucket, key, resp)
    check.observe("status", resp.status)
    if "op_status" in expect and (signed or wrong_secret):
        # CORS only adds or omits headers; the request itself must be answered as it would be without them.
        check.must(resp.status == expect["op_status"], "the request is answered as without CORS",
                   expect["op_status"], resp.status)
        if "op_code" in expect and http != "HEAD":
            check.should(resp.code == expect["op_code"], "error Code", expect["op_code"], resp.code)
    marked = any("ExposeHeaders" in r for r in case.setup.get("rules", []))
    focus = {"origin"} | ({"rule"} if marked else set()) | set(case.focus)
    check_actual(check, expected_actual(case), resp, focus, send.get("method") or http)
    if expect.get("stored"):
        status = _object_status(s3, configured_bucket, key)
        check.must(status == 200, "the PUT stored the object (HeadObject 200)", 200, status)
    if expect.get("removed"):
        status = _object_status(s3, configured_bucket, key)
        check.must(status == 404, "the DELETE removed the object (HeadObject 404)", 404, status)


@cases("ACT-*", where=lambda c: "pairs" in c.send, ahead=plan_pairs)
def test_preflight_and_actual_agree(case, check, s3, configured_bucket):
    """Per (origin, method): the actual request carries ACAO exactly when the preflight succeeds."""
    pairs = case.send["pairs"]

    def exchange(origin: str, method: str) -> tuple[Response, Response]:
        key = _key(case, method)
        pre = s3.preflight(configured_bucket, key, origin, method, note=f"preflight {origin} {method} ({case.id})")
        _prepare(check, s3, configured_bucket, method, key)
        return pre, _send(s3, case, configured_bucket, method, key, origin, note=f"{method} {origin} ({case.id})")

    # Pairs that write or delete the same object go one after another, in one lane; reads each in their own.
    lanes: dict[object, list[int]] = {}
    for i, (_, method) in enumerate(pairs):
        lanes.setdefault(_key(case, method) if method in ("PUT", "DELETE", "POST") else i, []).append(i)
    done = gather([lambda lane=lane: [(i, exchange(*pairs[i])) for i in lane] for lane in lanes.values()])
    answers = {i: answer for lane_answers in done for i, answer in lane_answers}
    for i, (origin, method) in enumerate(pairs):
        pre, resp = answers[i]
        allowed, has_acao = 200 <= pre.status < 300, resp.header(ACAO) is not None
        check.observe(f"{origin} {method}", {"preflight": pre.status, "actual ACAO": resp.header(ACAO)})
        check.must(allowed == has_acao, f"{origin} {method}: ACAO on the actual request exactly when the "
                   "preflight succeeds", f"preflight {pre.status} -> ACAO {'present' if allowed else 'absent'}",
                   resp.header(ACAO))


@cases("ACT-*", where=lambda c: "browser" in c.send)
def test_browser_twin(case, check, s3, configured_bucket):
    """A browser case's header-level twin: the raw preflight (when Fetch sends one) and the request to a presigned
    URL, judged by the Fetch rules a browser applies; the verdict must be the one a conforming server leads to."""
    request = twin_request(case)
    want = twin_expected(case)
    http, origin = request.method, request.origin
    key = _key(case, http)
    preflight = None
    if fetch.needs_preflight(http, request.headers):
        names = fetch.unsafe_request_headers(request.headers)
        pre = s3.preflight(configured_bucket, key, origin, http, ",".join(names) or None,
                           note=f"preflight as a browser sends it ({case.id})")
        preflight = (pre.status, pre.header_lines)
    actual = None
    if preflight is None or fetch.preflight_check(preflight[0], preflight[1], origin, http,
                                                  fetch.unsafe_request_headers(request.headers),
                                                  request.include_credentials) is None:
        _prepare(check, s3, configured_bucket, http, key)
        headers = {"Origin": origin, **request.headers}
        if http == "PUT":
            headers["Content-Type"] = "text/plain"
        resp = s3.request(http, url=s3.presigned(http, configured_bucket, key, request.headers), headers=headers,
                          body=BODY if http == "PUT" else None, sign=False,
                          note=f"{http} to a presigned URL as a browser sends it ({case.id})")
        actual = resp.header_lines
    got = fetch.verdict_from_exchanges(request, preflight, actual)
    check.observe("fetch", {"expected": want.public(), "got": got.public()})
    check.must(got.browser == want.browser, "what a browser makes of the answers (Fetch CORS checks"
               f"{', credentials: include' if request.include_credentials else ''})",
               want.browser, f"{got.browser}{': ' + got.reason if got.reason else ''}")
    if want.browser == "allowed" and got.browser == "allowed" and request.read:
        check.must(list(got.readable) == list(want.readable), "the response headers JavaScript can read",
                   list(want.readable), list(got.readable))


@cases("ACT-*", where=lambda c: "privileged" in c.send, ahead=plan_privileged)
def test_privileged_origins_get_nothing(case, check, s3, target, configured_bucket):
    """A signed GET and PUT from every privileged origin: no answer grants that origin anything."""
    sends = [(origin, http) for origin in privileged_origins(target) for http in ("GET", "PUT")]
    answers = gather([lambda origin=origin, http=http: _send(s3, case, configured_bucket, http, _key(case, http),
                                                             origin, note=f"{http} from {origin} ({case.id})")
                      for origin, http in sends])  # independent: each PUT stores the same object
    for (origin, http), resp in zip(sends, answers):
        check_not_granted(check, resp, f"{http} from {origin}")
