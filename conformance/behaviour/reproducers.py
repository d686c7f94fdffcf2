"""Reproducers of generated examples: a ready-to-run shell script (aws s3api and curl) that puts an example's
configuration and sends its request, and the model's answer as a plain view, for a failing GEN case's report."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Mapping, Sequence

from conformance.behaviour import model
from conformance.behaviour.cors import PROBE_KEY
from conformance.behaviour.generate import GenRequest

BUCKET_VAR = "${BUCKET}"
_SIGNING_HEADERS = {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "host",
                    "content-length"}


def _double_quoted(text: str) -> str:
    """text inside double quotes for sh, with ${BUCKET} left to expand and nothing else expanding."""
    parts = text.split(BUCKET_VAR)
    escaped = [re.sub(r'([\\"$`])', r"\\\1", p) for p in parts]
    return '"' + BUCKET_VAR.join(escaped) + '"'


def curl_command(request: GenRequest, url: str, region: str, *, session_token: bool = False) -> str:
    """A ready-to-run curl for the request. url may contain ${BUCKET}. Credentials stay shell variables
    ("$AWS_ACCESS_KEY_ID"...): a signed request is signed by curl itself (--aws-sigv4)."""
    parts = ["curl", "-sS", "-i"]
    if request.method == "HEAD":
        parts.append("--head")
    elif request.method != "GET":
        parts += ["-X", request.method]
    parts.append(_double_quoted(url))
    for name, value in request.headers().items():
        if name.lower() in _SIGNING_HEADERS:
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body() is not None:
        parts += ["--data-binary", shlex.quote(request.body().decode())]
    if request.signed:
        parts += ["--aws-sigv4", shlex.quote(f"aws:amz:{region}:s3"),
                  "--user", '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"',
                  "-H", shlex.quote("x-amz-content-sha256: UNSIGNED-PAYLOAD")]
        if session_token:
            parts += ["-H", '"x-amz-security-token: $AWS_SESSION_TOKEN"']
    return " ".join(parts)


def aws_command(endpoint: str, region: str, *args: str) -> str:
    """An `aws s3api` command against the endpoint (credentials from the usual AWS_* variables)."""
    return " ".join(["aws", "s3api", *args, "--endpoint-url", shlex.quote(endpoint), "--region",
                     shlex.quote(region)])


def put_cors_command(config: Sequence[Mapping], endpoint: str, region: str) -> str:
    """The PutBucketCors step as an aws CLI command."""
    document = json.dumps({"CORSRules": list(config)}, separators=(",", ":"), ensure_ascii=False)
    return aws_command(endpoint, region, "put-bucket-cors", "--bucket", '"$BUCKET"', "--cors-configuration",
                       shlex.quote(document))


def script(config: Sequence[Mapping] | None, request: GenRequest | None, *, endpoint: str, url: str | None,
           region: str, session_token: bool = False) -> list[str]:
    """Shell lines that rebuild the example on a fresh bucket: create it, put the object a GET/HEAD needs,
    put the configuration, send the request (when there is one)."""
    lines = ['export BUCKET="s3cors-repro-$(date +%s)"',
             aws_command(endpoint, region, "create-bucket", "--bucket", '"$BUCKET"')]
    if request is not None and request.kind == "actual" and request.key == PROBE_KEY:
        lines.append(aws_command(endpoint, region, "put-object", "--bucket", '"$BUCKET"', "--key", PROBE_KEY,
                                 "--body", "/dev/null"))
    if config is not None:
        lines.append(put_cors_command(config, endpoint, region))
    if request is not None and url is not None:
        lines.append(curl_command(request, url, region, session_token=session_token))
    return lines


def answer_view(answer: model.Answer) -> dict[str, Any]:
    """The model's answer for a reproducer."""
    view: dict[str, Any] = {"status": answer.status, "headers": dict(answer.headers),
                            "rule": None if answer.matched_rule is None else answer.matched_rule + 1}
    if answer.error_code:
        view["error_code"] = answer.error_code
    if answer.open_questions:
        view["open_questions"] = list(answer.open_questions)
    return view


def describe_config(config: Sequence[Mapping]) -> str:
    """A configuration on one line (compact JSON)."""
    return json.dumps(list(config), separators=(",", ":"), ensure_ascii=False)
