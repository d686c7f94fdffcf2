"""Where a case's requirement comes from: the source keys of s3-cors-behaviour.md §1 as links."""

from __future__ import annotations

import re

_GH = "https://github.com"
# Pinned commits, as the behaviour file cites them.
SOURCE_URLS = {
    "LS-SNAP": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "tests/aws/services/s3/test_s3_cors.snapshot.json",
    "LS-TEST": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "tests/aws/services/s3/test_s3_cors.py",
    "LS-S3SNAP": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
                 "tests/aws/services/s3/test_s3.snapshot.json",
    "LS-IMPL": f"{_GH}/localstack/localstack/blob/8b9a79f05846835cf4dff63ab7eefdde9df83783/"
               "localstack-core/localstack/services/s3/cors.py",
    "MOTO": f"{_GH}/getmoto/moto/blob/0af643a5dbfc98797f08ee64f5be3ef8002d56ff/moto/s3/responses.py",
    "S3T": f"{_GH}/ceph/s3-tests/blob/8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3/s3tests/functional/test_s3.py",
    "SCAL-T": f"{_GH}/scality/cloudserver/tree/ec2e3046a1c8289100223b881d59ae5271ba8a08/"
              "tests/functional/aws-node-sdk/test",
    "VGW-T": f"{_GH}/versity/versitygw/blob/5d9d54802d890a3f46a6adc9ee55e15a5a59ab86/tests/test_rest_cors.sh",
    "AWS-PUT": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html",
    "AWS-GET": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html",
    "AWS-RULE": "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html",
    "AWS-OPT": "https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html",
    "AWS-CRH": "https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html",
    "AWS-UG": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html",
    "AWS-ERR": "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
}
_KEY = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SOURCE_URLS), key=len, reverse=True)) + r")\b")


def source_links(source: str) -> list[tuple[str, str]]:
    """The (key, url) pairs a case's source text cites, in order, without repeats."""
    seen: dict[str, str] = {}
    for key in _KEY.findall(source or ""):
        seen.setdefault(key, SOURCE_URLS[key])
    return list(seen.items())
