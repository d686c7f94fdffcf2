"""Steps the case modules share: configuration API calls and comparisons of rule lists."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from conformance.behaviour.checks import Check, establishing
from conformance.target.http import S3, ApiResult

MEMBERS = ("ID", "AllowedHeaders", "AllowedMethods", "AllowedOrigins", "ExposeHeaders", "MaxAgeSeconds")
LIST_MEMBERS = ("AllowedHeaders", "AllowedMethods", "AllowedOrigins", "ExposeHeaders")


def put_rules(s3: S3, bucket: str, rules: Sequence[dict], **extra: Any) -> ApiResult:
    """PutBucketCors through boto3."""
    return s3.api("put_bucket_cors", Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)}, **extra)


def get_rules(s3: S3, bucket: str, **extra: Any) -> ApiResult:
    """GetBucketCors through boto3."""
    return s3.api("get_bucket_cors", Bucket=bucket, **extra)


def delete_config(s3: S3, bucket: str, **extra: Any) -> ApiResult:
    """DeleteBucketCors through boto3."""
    return s3.api("delete_bucket_cors", Bucket=bucket, **extra)


def configure(s3: S3, check: Check, bucket: str, rules: Sequence[dict], poll=None) -> None:
    """Set up a configuration the case builds on; if the target refuses it, the case is inconclusive."""
    with establishing("setting up the configuration"):
        result = put_rules(s3, bucket, rules)
    check.precondition(result.ok, f"setting up the configuration failed: {result.status} {result.code}")
    if poll is not None:  # wait (bounded) until GetBucketCors shows it, for targets with slow propagation
        poll(lambda: get_rules(s3, bucket), lambda r: r.ok and as_multisets(r.data.get("CORSRules", [])) ==
             as_multisets(rules))


def as_multisets(rules: Sequence[dict]) -> list[dict]:
    """Rules with list members as multisets: equal when the same values were kept, in any order."""
    return [{k: (Counter(v) if k in LIST_MEMBERS else v) for k, v in r.items()} for r in rules]


def check_error(check: Check, result: ApiResult | Any, expect: dict, *, what: str,
                code_level: str = "SHOULD", message_level: str = "SHOULD") -> None:
    """Status at MUST level, code and message at the given levels (SHOULD unless the spec leaves them open)."""
    check.equal("MUST", f"{what}: status", expect["status"], result.status)
    if "code" in expect:
        check.equal(expect.get("code_level", code_level), f"{what}: error code", expect["code"], result.code)
    if "message" in expect:
        check.equal(expect.get("message_level", message_level), f"{what}: error message", expect["message"],
                    result.message)
