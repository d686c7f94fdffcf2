"""Start-up of the target (controller only): start what the profile launches, then probe it once: create and
delete one bucket, read the server's name, and find out whether bucket CORS and the optional features exist."""

from __future__ import annotations

import dataclasses
import socket
from urllib.parse import urlsplit

from conformance.errors import InfraError, ServerError, Unsupported
from conformance.run.state import State
from conformance.target import capabilities
from conformance.target.buckets import Buckets
from conformance.target.http import S3, TLSProblem, speaks_tls
from conformance.target.launchers import make_launcher
from conformance.target.profiles import read_server_credentials, strip_userinfo


def start(state: State) -> str | None:
    """Start the target if the profile launches one, and probe it; why it is unusable, or None."""
    target = state.target
    if target.launch:
        state.launcher = make_launcher(target, state.reports_dir)
        state.launcher.wants_credentials = bool(state.profile.get("credentials", {}).get("from_server"))
        try:
            url = state.launcher.start()
        except Exception as exc:  # a launcher failing is one clear error, not a traceback per case
            return f"could not start the {target.launch} target: {exc}"
        state.target = dataclasses.replace(target, endpoint_url=url)
        if getattr(state.launcher, "wants_credentials", False):
            state.credentials = read_server_credentials(state.launcher.credentials_file)
            state.redactor.add(state.credentials.secrets())
    return probe(state)


def probe(state: State) -> str | None:
    """Create and delete one bucket; on failure, say what is wrong and how to fix it."""
    s3 = state.s3()
    target = state.target
    where = f"target {target.name} at {strip_userinfo(target.endpoint_url)}"
    buckets = Buckets(s3, state.run_id, "probe", journal=state.journal())
    name = buckets.next_name()
    try:
        result = buckets.try_create(name)
    except (InfraError, ServerError, Unsupported) as exc:
        buckets.journal.removed(name)
        buckets.journal.discard()
        return _no_answer(where, target, exc)
    if not result.ok:
        buckets.journal.removed(name)
        buckets.journal.discard()
        hint = {
            "InvalidAccessKeyId": "the access key is not known to the server: check the credentials",
            "SignatureDoesNotMatch": "the secret key is wrong: check the credentials",
            "AccessDenied": "the credentials may not create buckets",
            "AuthorizationHeaderMalformed": "the region is wrong: set --region",
            "IllegalLocationConstraintException": capabilities.location_hint(target),
            "InvalidLocationConstraint": capabilities.location_hint(target),
        }.get(result.code or "", "see the server's answer")
        return (f"{where} refused to create a bucket: {result.status} {result.code} "
                f"{result.message or ''} ({hint}; credentials from {state.credentials.origin})")
    try:  # the server's own name and version, where it says them (results.json target.server_header)
        state.server_header = s3.request("HEAD", name, note="probe: server identification").header("Server")
    except (InfraError, ServerError):
        state.server_header = None
    state.unsupported = probe_bucket_cors(state, s3, name)
    state.target = dataclasses.replace(target, capabilities=capabilities.establish(
        target.capabilities, s3, name, bucket_cors_problem=state.unsupported))
    left = buckets.cleanup()
    if not left:
        buckets.journal.discard()
    if left:
        return f"{where} created a bucket but could not delete it: {', '.join(left)}"
    return None


def _no_answer(where: str, target, exc: Exception) -> str:
    """What is wrong when CreateBucket got no usable answer: no support, TLS, the wrong scheme, DNS, or silence."""
    if isinstance(exc, Unsupported):
        return f"{where} does not support CreateBucket; the suite needs to create its own buckets"
    if isinstance(exc, TLSProblem):
        return f"{where} is unusable: {exc.meaning}"
    if urlsplit(target.endpoint_url).scheme == "http" and speaks_tls(target.endpoint_url):
        return (f"{where} is unusable: it answers HTTPS on this port, not plain HTTP (use an https:// URL in "
                "--endpoint-url; add --ca-bundle=PATH or --no-verify-tls if its certificate is not trusted)")
    host = urlsplit(target.endpoint_url).hostname or ""
    try:  # after the failure only: a DNS failure gets its own message
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return f"{where} is unusable: the host name {host!r} does not resolve (DNS). Is the URL right?"
    return f"{where} is unusable: {exc}. Is the server running, and is the URL right?"


def probe_bucket_cors(state: State, s3: S3, bucket: str) -> str | None:
    """Once per run: does the target implement bucket CORS at all? The reason it does not, or None."""
    if state.target.capabilities["bucket_cors"].value is False:
        return f"the profile of {state.target.name} says bucket CORS is not implemented"
    try:
        result = s3.api("put_bucket_cors", Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["https://probe.example"], "AllowedMethods": ["GET"]}]})
    except Unsupported as exc:
        return f"the target answers NotImplemented to PutBucketCors ({exc})"
    except (InfraError, ServerError):
        return None  # the cases will meet the same trouble and report it
    if result.ok:
        s3.api("delete_bucket_cors", Bucket=bucket)
    return None
