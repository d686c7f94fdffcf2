"""URL: where a preflight goes: bucket and object URLs, key shapes, virtual hosts, presigned URLs
(fixtures/cases/url_shapes.toml)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from conformance.capabilities import require
from conformance.cases import cases
from conformance.cors import check_preflight, expected_preflight, send_preflight


def _virtual_host_url(s3, bucket: str, key: str) -> str:
    parts = urlsplit(s3.endpoint)
    return f"{parts.scheme}://{bucket}.{parts.netloc}/{quote(key, safe='/~')}"


@cases("URL-*")
def test_preflight_url_shape(case, check, s3, target, configured_bucket):
    send = case.send
    if "presign" in send:
        require(target, "presigned_urls")
        url = s3.client.generate_presigned_url(send["presign"], Params={"Bucket": configured_bucket,
                                                                         "Key": send["key"]}, ExpiresIn=600)
    elif send.get("addressing") == "virtual":
        require(target, "virtual_host")
        url = _virtual_host_url(s3, configured_bucket, send["key"])
    else:
        url = None
    if url is None:
        resp = send_preflight(s3, case, configured_bucket)
    else:
        headers = {k: v for k, v in (("Origin", send.get("origin")),
                                     ("Access-Control-Request-Method", send.get("method"))) if v is not None}
        resp = s3.request("OPTIONS", headers=headers, sign=False, url=url, note=f"preflight ({case.id})")
    check_preflight(check, expected_preflight(case), resp, {"origin"}, case.send.get("method"))
