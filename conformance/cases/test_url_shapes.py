"""URL: where a preflight goes: bucket and object URLs, key shapes, virtual hosts, presigned URLs (SigV4 and
SigV2) (fixtures/cases/url_shapes.toml)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import boto3
from botocore.config import Config

from conformance.target.capabilities import require
from conformance.behaviour.tables import cases
from conformance.behaviour.cors import check_preflight, expected_preflight, send_preflight


def _virtual_host_url(s3, bucket: str, key: str) -> str:
    parts = urlsplit(s3.endpoint)
    return f"{parts.scheme}://{bucket}.{parts.netloc}/{quote(key, safe='/~')}"


def _presigned_url(s3, case, bucket: str) -> str:
    """The case's presigned URL: SigV4 (the client's), or SigV2 query authentication (presign_signature = "sigv2")."""
    send = case.send
    client = s3.client
    if send.get("presign_signature") == "sigv2":
        creds = s3.credentials
        client = boto3.session.Session(
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.session_token, region_name=s3.target.region,
        ).client("s3", endpoint_url=s3.endpoint, verify=s3.target.verify,
                 config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    url = client.generate_presigned_url(send["presign"], Params={"Bucket": bucket, "Key": send["key"]},
                                        ExpiresIn=600)
    if send.get("presign_signature") == "sigv2":  # the URL really is SigV2: no mistake can pass as one
        assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(parse_qs(urlsplit(url).query)), "not a SigV2 URL"
    return url


@cases("URL-*")
def test_preflight_url_shape(case, check, s3, target, configured_bucket):
    send = case.send
    if "presign" in send:
        require(target, "presigned_urls")
        url = _presigned_url(s3, case, configured_bucket)
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
    check_preflight(check, expected_preflight(case), resp, {"origin"} | set(case.focus),
                    case.send.get("method"))
