"""AWS Signature Version 4 checks of the reference endpoint: header and query (presigned) forms.

The canonical request is rebuilt from the request as received (raw path, query, the signed headers) and
signed with the one secret the endpoint knows; a mismatch is SignatureDoesNotMatch, as S3 answers."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, unquote

UNSIGNED = "UNSIGNED-PAYLOAD"


@dataclass(frozen=True)
class AuthCheck:
    """The outcome of an authentication check: None code = authenticated; anonymous = no credentials sent."""

    code: str | None
    anonymous: bool = False
    message: str = ""


OK = AuthCheck(None)
ANONYMOUS = AuthCheck(None, anonymous=True)


def _parse_authorization(value: str) -> dict[str, str] | None:
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    fields = {}
    for part in value[len("AWS4-HMAC-SHA256 "):].split(","):
        key, _, val = part.strip().partition("=")
        fields[key] = val
    return fields if {"Credential", "SignedHeaders", "Signature"} <= fields.keys() else None


def _canonical_query(pairs: list[tuple[str, str]], drop: str | None) -> str:
    encoded = sorted((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
                     for k, v in pairs if k != drop)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _split_query(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for item in raw.split("&") if raw else []:
        key, _, value = item.partition("=")
        pairs.append((key.replace("+", "%20"), value.replace("+", "%20")))
    return pairs


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(method: str, raw_path: str, raw_query: str, headers, access_key: str, secret_key: str) -> AuthCheck:
    """Check a request's SigV4 signature (headers: a case-insensitive mapping of the received headers)."""
    pairs = _split_query(raw_query)
    query = {unquote(k): unquote(v) for k, v in pairs}
    authorization = headers.get("Authorization")
    if authorization is not None:
        fields = _parse_authorization(authorization)
        if fields is None:
            return AuthCheck("InvalidArgument", message="Unsupported Authorization Type")
        credential, signed, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
        amz_date = headers.get("x-amz-date", "")
        payload = headers.get("x-amz-content-sha256", UNSIGNED)
        drop = None
    elif "X-Amz-Signature" in query:
        credential, signed = query.get("X-Amz-Credential", ""), query.get("X-Amz-SignedHeaders", "")
        signature, amz_date, payload = query["X-Amz-Signature"], query.get("X-Amz-Date", ""), UNSIGNED
        drop = "X-Amz-Signature"
    else:
        return ANONYMOUS
    scope = credential.split("/")
    if len(scope) != 5 or scope[0] != access_key:
        return AuthCheck("InvalidAccessKeyId", message="The AWS Access Key Id you provided does not exist in our records.")
    names = signed.split(";")
    canonical_headers = "".join(f"{n}:{' '.join((headers.get(n) or '').split())}\n" for n in names)
    canonical = "\n".join([method, raw_path or "/", _canonical_query(pairs, drop), canonical_headers, signed, payload])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, "/".join(scope[1:]),
                         hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(_signing_key(secret_key, *scope[1:4]), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return AuthCheck("SignatureDoesNotMatch", message="The request signature we calculated does not match the "
                       "signature you provided. Check your key and signing method.")
    return OK
