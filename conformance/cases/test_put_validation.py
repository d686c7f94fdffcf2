"""VAL: what PutBucketCors accepts and rejects (fixtures/cases/put_validation.toml)."""

from __future__ import annotations

import base64
import hashlib

from conformance.behaviour.tables import cases
from conformance.cases.steps import as_multisets, get_rules, put_rules
from conformance.behaviour.xmlbody import cors_xml, document_of_size, rules_of_count


def _accepted(case) -> bool:
    return bool(case.expect.get("accepted"))


def send(s3, bucket: str, case) -> tuple[object, list[dict] | None]:
    """Send the case's configuration; return the answer and the rules a round trip should give back."""
    spec = case.send
    generate = spec.get("generate", {})
    if "rules" in spec or "rules" in generate or "id_length" in generate:
        rules = spec.get("rules")
        if "rules" in generate:
            rules = rules_of_count(generate["rules"])
        if "id_length" in generate:
            rules = [{"ID": "i" * generate["id_length"], "AllowedOrigins": ["https://a.example"],
                      "AllowedMethods": ["GET"]}]
        return put_rules(s3, bucket, rules), rules
    if "bytes" in generate:
        body, rules = document_of_size(generate["bytes"])
    elif "raw_rules" in spec:
        body, rules = cors_xml(spec["raw_rules"]), spec["raw_rules"]
    else:
        body, rules = spec["xml"], None
    return put_raw(s3, bucket, body.encode(), spec.get("content_md5", "valid")), rules


def put_raw(s3, bucket: str, body: bytes, content_md5: str):
    """PutBucketCors as a raw signed request, with a valid, missing, malformed or wrong Content-MD5."""
    headers = {"Content-Type": "application/xml"}
    if content_md5 == "malformed":
        headers["Content-MD5"] = "not-a-base64-md5!"
    elif content_md5 == "wrong":
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body + b" ").digest()).decode()
    return s3.request("PUT", bucket, query="cors", headers=headers, body=body, content_md5=content_md5 == "valid",
                      note=f"PutBucketCors raw (Content-MD5: {content_md5})")


@cases("VAL-*", where=_accepted, alone=True)
def test_put_accepted(case, check, s3, bucket, poll):
    with s3.recorder.capture() as exchanges:
        result, sent = send(s3, bucket, case)
    if case.send.get("checksum") == "crc32":
        request = request_headers(exchanges)
        check.precondition("x-amz-checksum-crc32" in request and "content-md5" not in request,
                           f"boto3 did not send x-amz-checksum-crc32 without Content-MD5 (sent {sorted(request)})")
    check.must(200 <= result.status < 300, "configuration accepted", "2xx",
               f"{result.status} {result.code or ''} {result.message or ''}".strip())
    if not case.expect.get("roundtrip") or not (200 <= result.status < 300):
        return
    want = case.expect.get("rules", sent)
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    have = got.data.get("CORSRules", [])
    check.must(as_multisets(have) == as_multisets(want), "GetBucketCors returns the rules sent",
               f"{len(want)} rules as sent", have if len(have) < 5 else f"{len(have)} rules (differing)")


def request_headers(exchanges: list[dict]) -> set[str]:
    """Lower-case names of the headers of the last request among the exchanges."""
    last = exchanges[-1] if exchanges else {"request_headers": []}
    return {k.lower() for k, _ in last["request_headers"]}


@cases("VAL-*", where=lambda c: not _accepted(c), alone=True)
def test_put_rejected(case, check, s3, scratch_bucket, missing_bucket):
    bucket = missing_bucket if case.setup.get("bucket") == "missing" else scratch_bucket
    result, _ = send(s3, bucket, case)
    e = case.expect
    check.must(400 <= result.status < 500, "configuration rejected with a 4xx status", "4xx",
               f"{result.status} {result.code or ''}".strip())
    check.equal(e.get("status_level", "SHOULD"), "status", e["status"], result.status)
    if "code" in e:
        check.equal(e.get("code_level", "SHOULD"), "error code", e["code"], result.code)
    if "message" in e:
        check.equal(e.get("message_level", "SHOULD"), "error message", e["message"], result.message)
