"""What the target can do, and where each answer came from.

Every capability a case depends on has a value and a provenance: an option, the profile, a probe made once at
start-up (on the run's own probe bucket, never on anyone else's), or a documented default. A capability that
nobody established has the value None, and a case that needs it is unsupported with that reason, so no
verdict rests on an assumption the run did not state."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import InfraError, Unsupported

# The capabilities a profile may state in [capabilities], in the order they are reported ([owner] follows).
BOOLEAN = ("bucket_cors", "auth_enforced", "presigned_urls", "virtual_host", "post_object")

MEANING = {
    "bucket_cors": "the target implements the bucket CORS API (Put/Get/DeleteBucketCors)",
    "auth_enforced": "the target refuses a request signed with a wrong secret key",
    "presigned_urls": "the target accepts presigned (query-string signed) URLs",
    "virtual_host": "a bucket is reachable at a virtual-host URL (bucket name as the first label of the host)",
    "post_object": "browser form upload (POST object); no case reads it yet",
    "expected_bucket_owner": "the ExpectedBucketOwner behaviour the target documents (enforced as on AWS, or ignored)",
    "owner_account": "the owner account the target compares ExpectedBucketOwner with",
}
# An AWS-style canonical user ID: a long run of hex digits (64 on AWS; moto shows a 32-digit example ID). AWS and
# the emulators that follow it compare ExpectedBucketOwner with the 12-digit account ID, never with this.
CANONICAL_USER_ID = re.compile(r"[0-9a-f]{32,}")
DNS_TIMEOUT = 3.0   # a lookup of bucket.host that hangs must not hold up the start of the run


@dataclass(frozen=True)
class Capability:
    """One capability: its value (None: nobody established it), where it came from and how."""

    value: Any
    source: str   # option, profile, probe, default or unknown
    detail: str = ""

    def public(self) -> dict[str, Any]:
        """The capability as written into results.json."""
        return {"value": self.value, "source": self.source, "detail": self.detail}

    def line(self) -> str:
        """'value (source: detail)' for the terminal summary."""
        shown = "unknown" if self.value is None else str(self.value).lower() if isinstance(self.value, bool) \
            else self.value
        return f"{shown} ({self.source}{': ' + self.detail if self.detail else ''})"


def stated(profile: dict[str, Any], expected_bucket_owner: str | None = None,
           account_id: str | None = None) -> dict[str, Capability]:
    """The capabilities options and the profile state; the others are unknown until probed, or defaulted."""
    given = profile.get("capabilities", {})
    owner = profile.get("owner", {})
    caps: dict[str, Capability] = {}
    for name in BOOLEAN:
        if name in given:
            caps[name] = Capability(given[name], "profile", f"[capabilities] {name}")
        elif name == "post_object":
            caps[name] = Capability(False, "default", "not stated; no case reads it")
        else:
            caps[name] = Capability(None, "unknown", "not stated; probed at start-up")
    if expected_bucket_owner:
        caps["expected_bucket_owner"] = Capability(expected_bucket_owner, "option", "--expected-bucket-owner")
    elif "expected_bucket_owner" in owner:
        caps["expected_bucket_owner"] = Capability(owner["expected_bucket_owner"], "profile",
                                                   "[owner] expected_bucket_owner")
    else:  # the suite's oracle is AWS: a target that documents otherwise says so in its profile
        caps["expected_bucket_owner"] = Capability("enforced", "default", "not stated; AWS's documented behaviour")
    if account_id:
        caps["owner_account"] = Capability(account_id, "option", "--account-id")
    elif "account_id" in owner:
        caps["owner_account"] = Capability(owner["account_id"], "profile", "[owner] account_id")
    else:
        caps["owner_account"] = Capability(None, "unknown", "not stated; discovered at start-up")
    return caps


def require(target, name: str) -> Any:
    """The value of a capability a case needs; Unsupported when it is false or nobody established it."""
    cap = target.capabilities[name]
    if cap.value is None:
        raise Unsupported(f"nobody established whether {MEANING[name]} ({cap.detail}); state it in the profile "
                          f"([capabilities] {name} = true or false)")
    if cap.value is False:
        raise Unsupported(f"the target lacks a capability: {MEANING[name]} is false ({cap.source}: {cap.detail})")
    return cap.value


def require_owner_account(target) -> str:
    """The owner account ID an EBO case sends as its own; Unsupported when no one could find it."""
    cap = target.capabilities["owner_account"]
    if cap.value is None:
        raise Unsupported(f"the owner account is unknown ({cap.detail}); give --account-id or [owner] account_id")
    return cap.value


def capability_lines(capabilities: dict[str, Capability]) -> list[str]:
    """One terminal line per capability: its value and where it came from."""
    return [f"  {name} = {cap.line()}" for name, cap in capabilities.items()]


def to_wire(caps: dict[str, Capability]) -> dict[str, list]:
    """The capabilities as plain data, for the xdist workers."""
    return {name: [cap.value, cap.source, cap.detail] for name, cap in caps.items()}


def from_wire(data: dict[str, list]) -> dict[str, Capability]:
    """The capabilities the controller established (to_wire's inverse)."""
    return {name: Capability(*fields) for name, fields in data.items()}


def location_hint(target) -> str:
    """What to change when the target refuses the bucket location the run sent."""
    sent = repr(target.location_constraint) if target.location_constraint else "none"
    return (f"the target refuses the bucket location {sent} ({target.location_source}): set 'location_constraint' "
            f"in the profile or --location-constraint to what the endpoint accepts (AWS: its region, none in "
            f"us-east-1; IBM COS: a provisioning code such as us-south-standard, or none), or fix --region")


# ---- start-up probes ---------------------------------------------------------------------------------------

def establish(caps: dict[str, Capability], s3, bucket: str, *,
              bucket_cors_problem: str | None) -> dict[str, Capability]:
    """The capabilities after the start-up probe: bucket_cors from the PutBucketCors probe, the rest probed."""
    out = dict(caps)
    if out["bucket_cors"].source == "unknown":
        out["bucket_cors"] = (Capability(False, "probe", bucket_cors_problem) if bucket_cors_problem else
                              Capability(True, "probe", "PutBucketCors on the probe bucket was not answered "
                                                        "NotImplemented"))
    return probe_unstated(out, s3, bucket)


def probe_unstated(caps: dict[str, Capability], s3, bucket: str) -> dict[str, Capability]:
    """Probe every capability nobody stated, once, using only the run's probe bucket; return the new set."""
    out = dict(caps)
    probes = {"auth_enforced": _probe_auth, "presigned_urls": _probe_presigned, "virtual_host": _probe_virtual_host,
              "owner_account": _probe_owner}
    for name, probe in probes.items():
        if out[name].source != "unknown":
            continue
        try:
            value, detail = probe(s3, bucket)
        except (InfraError, Unsupported) as exc:
            value, detail = None, f"the probe got no usable answer ({exc})"
        out[name] = Capability(value, "probe" if value is not None else "unknown", detail)
    return out


def _answer(resp) -> str:
    return f"{resp.status} {resp.code or ''}".strip()


def _probe_auth(s3, bucket: str) -> tuple[bool | None, str]:
    """A listing of the probe bucket signed with a wrong secret key: 403 means authentication is enforced."""
    resp = s3.request("GET", bucket, query="list-type=2&max-keys=0", wrong_secret=True,
                      note="probe: a request signed with a wrong secret key")
    if resp.status == 403:
        return True, f"a request signed with a wrong secret key was refused ({_answer(resp)})"
    if 200 <= resp.status < 300:
        return False, f"a request signed with a wrong secret key was answered {resp.status}"
    return None, f"a request signed with a wrong secret key got {_answer(resp)}, neither 403 nor 2xx"


def _probe_presigned(s3, bucket: str) -> tuple[bool | None, str]:
    """A presigned listing of the probe bucket, sent without any other signature."""
    url = s3.client.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "MaxKeys": 0}, ExpiresIn=300)
    resp = s3.request("GET", sign=False, url=url, note="probe: a presigned URL")
    if 200 <= resp.status < 300:
        return True, f"a presigned listing of the probe bucket was answered {resp.status}"
    return False, f"a presigned listing of the probe bucket got {_answer(resp)}"


def _resolves(host: str, timeout: float = DNS_TIMEOUT) -> bool | None:
    """Whether a host name resolves; None when the lookup does not finish in time."""
    found: list[bool] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None)
            found.append(True)
        except (OSError, UnicodeError):
            found.append(False)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout)
    return found[0] if found else None


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return True
    except OSError:
        return False


def _probe_virtual_host(s3, bucket: str) -> tuple[bool | None, str]:
    """Is the probe bucket reachable as bucket.host? Decided without DNS for an IP address."""
    if s3.target.addressing == "virtual":
        return True, "the run addresses buckets virtual-host style, and the probe bucket was created that way"
    parts = urlsplit(s3.endpoint)
    host = parts.hostname or ""
    if _is_ip(host):
        # bucket.127.0.0.1 is not a host name: a virtual-host URL needs a DNS name for the endpoint.
        return False, f"the endpoint host {host} is an IP address, so bucket.{host} is not a host name"
    name = f"{bucket}.{host}"
    resolved = _resolves(name)
    if resolved is None:
        return None, f"looking up {name} took longer than {DNS_TIMEOUT:.0f} s"
    if not resolved:
        return False, f"{name} does not resolve (no wildcard DNS for the endpoint)"
    url = f"{parts.scheme}://{bucket}.{parts.netloc}/?list-type=2&max-keys=0"
    resp = s3.request("GET", url=url, note="probe: the probe bucket at a virtual-host URL")
    if resp.status == 200 and f"<Name>{bucket}</Name>".encode() in resp.body:
        return True, f"{name} answered a listing of the probe bucket"
    return False, f"{name} resolves, but a listing there got {_answer(resp)}, not the probe bucket"


def _probe_owner(s3, bucket: str) -> tuple[str | None, str]:
    """The account the target compares ExpectedBucketOwner with, where it reveals it.

    STS GetCallerIdentity gives the account ID that AWS and its emulators compare. Otherwise the owner ID of
    ListBuckets is the account notion of servers that have their own (a user ID on Ceph RGW, a fixed account
    on s3rver); an AWS canonical user ID is never compared, so it does not count."""
    account, why = _sts_account(s3)
    if account:
        return account, "STS GetCallerIdentity at the endpoint (Account)"
    listing = s3.api("list_buckets")
    owner = (listing.data.get("Owner") or {}).get("ID") if listing.ok else None
    if not owner:
        got = "no Owner.ID" if listing.ok else f"{listing.status} {listing.code or ''}".strip()
        return None, f"STS: {why}; ListBuckets gave {got}"
    if CANONICAL_USER_ID.fullmatch(owner):
        return None, (f"STS: {why}; ListBuckets gives only an AWS canonical user ID, which ExpectedBucketOwner "
                      "is not compared with")
    return owner, f"ListBuckets Owner.ID (STS: {why})"


def _sts_account(s3) -> tuple[str | None, str]:
    """GetCallerIdentity where the endpoint offers STS: on AWS its regional STS endpoint, else the endpoint."""
    import botocore.exceptions
    from botocore.config import Config

    from conformance.target.http import boto3_client

    host = urlsplit(s3.endpoint).hostname or ""
    on_aws = host.endswith(".amazonaws.com")
    creds = s3.credentials
    client = boto3_client(
        "sts", creds, s3.target.region, endpoint_url=None if on_aws else s3.endpoint, verify=s3.target.verify,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=min(10.0, s3.timeout),
                      read_timeout=min(10.0, s3.timeout)))
    client.meta.events.register("before-send.sts", s3.recorder._before_send)  # counted like every request
    client.meta.events.register("response-received.sts", s3.recorder._response_received)
    try:
        answer = client.get_caller_identity()
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return None, f"GetCallerIdentity answered {status} {err.get('Code') or ''}".strip()
    except Exception as exc:  # noqa: BLE001  any other answer (an S3 server's "Not Found" page...) means no STS
        return None, f"GetCallerIdentity got no STS answer ({type(exc).__name__})"
    account = answer.get("Account")
    if not account:
        return None, "GetCallerIdentity gave no Account"
    return str(account), ""
