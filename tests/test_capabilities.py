"""Capabilities: what is stated, what the start-up probes conclude from each kind of answer, and that a case
needing a capability nobody established is unsupported (conformance/target/capabilities.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from conformance.target import capabilities as caps
from conformance.target.capabilities import Capability
from conformance.errors import Unsupported
from conformance.target.http import ApiResult, Response


@dataclass
class FakeS3:
    """Answers the probes' requests from a table; records what was asked."""

    endpoint: str = "http://127.0.0.1:9000"
    addressing: str = "path"
    status: int = 200
    code: str | None = None
    owner: str | None = None
    asked: list = field(default_factory=list)

    @property
    def target(self):
        return SimpleNamespace(addressing=self.addressing)

    def request(self, method, bucket=None, key=None, **kw):
        self.asked.append((method, bucket, kw.get("url"), kw.get("wrong_secret", False)))
        body = f"<Error><Code>{self.code}</Code></Error>".encode() if self.code else b""
        return Response(self.status, [], body)

    def api(self, operation, **params):
        self.asked.append((operation,))
        return ApiResult(operation, 200, data={"Owner": {"ID": self.owner}} if self.owner else {})


@pytest.mark.parametrize("status, code, expected", [
    (403, "SignatureDoesNotMatch", True), (200, None, False), (400, "InvalidRequest", None)])
def test_auth_probe(status, code, expected):
    s3 = FakeS3(status=status, code=code)
    value, detail = caps._probe_auth(s3, "s3cors-x-main-0001")
    assert value is expected and detail
    assert s3.asked == [("GET", "s3cors-x-main-0001", None, True)]  # the probe bucket only, a wrong secret


@pytest.mark.parametrize("owner, expected", [
    pytest.param("testid", "testid", id="ceph-user"),
    pytest.param("tenant$user", "tenant$user", id="ceph-tenant-user"),
    pytest.param("123456789000", "123456789000", id="s3rver-account"),
    pytest.param("75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", None, id="aws-canonical"),
    pytest.param("bcaf1ffd86f41161ca5fb16fd081034f", None, id="moto-example-canonical"),
    pytest.param(None, None, id="no-owner"),
])
def test_owner_from_listbuckets_when_there_is_no_sts(monkeypatch, owner, expected):
    monkeypatch.setattr(caps, "_sts_account", lambda s3: (None, "GetCallerIdentity answered 405"))
    value, detail = caps._probe_owner(FakeS3(owner=owner), "b")
    assert value == expected
    assert "405" in detail


def test_sts_account_wins_over_the_listing(monkeypatch):
    monkeypatch.setattr(caps, "_sts_account", lambda s3: ("123456789012", ""))
    s3 = FakeS3(owner="testid")
    assert caps._probe_owner(s3, "b")[0] == "123456789012" and s3.asked == []


def test_virtual_host_on_an_ip_needs_no_dns(monkeypatch):
    monkeypatch.setattr(caps, "_resolves", lambda host, timeout=0: pytest.fail("no lookup for an IP address"))
    value, detail = caps._probe_virtual_host(FakeS3(endpoint="http://[::1]:9000"), "b")
    assert value is False and "IP address" in detail


@pytest.mark.parametrize("resolved, expected", [(None, None), (False, False)])
def test_virtual_host_by_dns(monkeypatch, resolved, expected):
    monkeypatch.setattr(caps, "_resolves", lambda host, timeout=0: resolved)
    s3 = FakeS3(endpoint="https://s3.example.test")
    assert caps._probe_virtual_host(s3, "b")[0] is expected and s3.asked == []


def test_virtual_host_answer_must_be_the_bucket(monkeypatch):
    monkeypatch.setattr(caps, "_resolves", lambda host, timeout=0: True)
    s3 = FakeS3(endpoint="http://localhost:9000")
    value, _ = caps._probe_virtual_host(s3, "b")  # 200 with an empty body: not a listing of the bucket
    assert value is False and s3.asked[0][2] == "http://b.localhost:9000/?list-type=2&max-keys=0"


def test_stated_capabilities_are_not_probed():
    stated = caps.stated({"capabilities": {"auth_enforced": True, "presigned_urls": False, "virtual_host": False},
                          "owner": {"account_id": "111122223333"}})
    s3 = FakeS3()
    out = caps.establish(stated, s3, "b", bucket_cors_problem=None)
    assert s3.asked == []
    assert out["bucket_cors"] == Capability(True, "probe", out["bucket_cors"].detail)
    assert out["auth_enforced"].source == "profile" and out["owner_account"].value == "111122223333"


def test_a_probe_without_answer_leaves_the_capability_unknown(monkeypatch):
    from conformance.errors import InfraError

    def broken(s3, bucket):
        raise InfraError("connection reset")

    for probe in ("_probe_auth", "_probe_presigned", "_probe_virtual_host", "_probe_owner"):
        monkeypatch.setattr(caps, probe, broken)
    out = caps.probe_unstated(caps.stated({}), FakeS3(), "b")
    assert {out[n].source for n in ("auth_enforced", "presigned_urls", "virtual_host", "owner_account")} == {"unknown"}
    assert out["auth_enforced"].value is None and "connection reset" in out["auth_enforced"].detail


def test_require():
    target = SimpleNamespace(capabilities=caps.stated({"capabilities": {"virtual_host": False}}))
    with pytest.raises(Unsupported, match=r"nobody established whether the target refuses a request signed"):
        caps.require(target, "auth_enforced")
    with pytest.raises(Unsupported, match=r"virtual-host URL .* is false \(profile: \[capabilities\] virtual_host\)"):
        caps.require(target, "virtual_host")
    with pytest.raises(Unsupported, match=r"owner account is unknown"):
        caps.require_owner_account(target)
    target.capabilities["auth_enforced"] = Capability(True, "probe", "refused")
    assert caps.require(target, "auth_enforced") is True


def test_wire_round_trip():
    stated = caps.stated({"owner": {"expected_bucket_owner": "ignored"}})
    assert caps.from_wire(caps.to_wire(stated)) == stated
