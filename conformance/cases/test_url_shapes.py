"""URL: where a preflight goes: bucket and object URLs, key shapes, virtual hosts, presigned URLs (SigV4 and
SigV2) (fixtures/cases/url_shapes.toml)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from conformance.target.capabilities import require
from conformance.behaviour.tables import cases
from conformance.behaviour.cors import check_preflight, expected_preflight, preflight_call
from conformance.target.http import preflight_args


def _virtual_host_url(s3, bucket: str, key: str) -> str:
    parts = urlsplit(s3.endpoint)
    return f"{parts.scheme}://{bucket}.{parts.netloc}/{quote(key, safe='/~')}"


def _presigned_url(s3, case, bucket: str) -> str:
    """The case's presigned URL: SigV4 (the client's), or SigV2 query authentication (presign_signature = "sigv2")."""
    send = case.send
    client = s3.sigv2_client if send.get("presign_signature") == "sigv2" else s3.client
    url = client.generate_presigned_url(send["presign"], Params={"Bucket": bucket, "Key": send["key"]},
                                        ExpiresIn=600)
    if send.get("presign_signature") == "sigv2":  # the URL really is SigV2: no mistake can pass as one
        assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(parse_qs(urlsplit(url).query)), "not a SigV2 URL"
    return url


def _needs(case) -> str | None:
    """The capability the case's URL needs (None: a path-style URL any target serves)."""
    if "presign" in case.send:
        return "presigned_urls"
    return "virtual_host" if case.send.get("addressing") == "virtual" else None


_PRESIGNED: dict[tuple[str, str], str] = {}  # (case, bucket) -> URL: the one sent ahead is the one the case sends


def preflight_url_call(case, bucket: str, s3) -> dict:
    """The case's OPTIONS request (S3.request's keyword arguments), its URL shaped as the case says."""
    send = case.send
    if "presign" in send:
        if (case.id, bucket) not in _PRESIGNED:
            _PRESIGNED[(case.id, bucket)] = _presigned_url(s3, case, bucket)
        url = _PRESIGNED[(case.id, bucket)]
    elif send.get("addressing") == "virtual":
        url = _virtual_host_url(s3, bucket, send["key"])
    else:
        return preflight_args(**preflight_call(case, bucket))
    headers = {k: v for k, v in (("Origin", send.get("origin")),
                                 ("Access-Control-Request-Method", send.get("method"))) if v is not None}
    return {"method": "OPTIONS", "headers": headers, "sign": False, "url": url, "note": f"preflight ({case.id})"}


def plan_url_shape(case, bucket: str, s3) -> list[dict]:
    """What the case sends, to be sent ahead; nothing when the target may lack what its URL needs."""
    needs = _needs(case)
    if needs is not None and s3.target.capabilities[needs].value is not True:
        return []
    return [preflight_url_call(case, bucket, s3)]


@cases("URL-*", ahead=plan_url_shape)
def test_preflight_url_shape(case, check, s3, target, configured_bucket):
    needs = _needs(case)
    if needs is not None:
        require(target, needs)
    resp = s3.request(**preflight_url_call(case, configured_bucket, s3))
    check_preflight(check, expected_preflight(case), resp, {"origin"} | set(case.focus),
                    case.send.get("method"))
