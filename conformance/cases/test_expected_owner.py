"""EBO: ExpectedBucketOwner on the configuration API, in the dialect the target documents
(fixtures/cases/expected_bucket_owner.toml)."""

from __future__ import annotations

from conformance.target.capabilities import require_owner_account
from conformance.behaviour.tables import cases
from conformance.cases.steps import as_multisets, configure, delete_config, get_rules, put_rules

RULES_A = [{"ID": "before", "AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"]}]
RULES_B = [{"ID": "after", "AllowedOrigins": ["https://b.example"], "AllowedMethods": ["PUT"]}]
MALFORMED = "not-an-account-id"


def owner_value(kind: str, target) -> str:
    """The ExpectedBucketOwner value a case sends."""
    if kind == "malformed":
        return MALFORMED
    if kind == "own":
        return require_owner_account(target)
    return "444455556666" if target.account_id == "111122223333" else "111122223333"


def refused(case, target) -> bool:
    """Whether the documented behaviour is a refusal for this case."""
    return target.owner_mode == "enforced" and case.send["owner"] != "own"


def check_refusal(check, case, result) -> None:
    """The refusal an enforcing target documents: the status class at MUST, exact status and code at SHOULD."""
    e = case.expect
    if case.send["owner"] == "foreign":
        check.must(result.status == 403, "refused with 403", 403, f"{result.status} {result.code or ''}".strip())
    else:
        check.must(400 <= result.status < 500, "refused with a 4xx status", "4xx",
                   f"{result.status} {result.code or ''}".strip())
        check.should(result.status == e["status"], "status", e["status"], result.status)
    check.should(result.code == e["code"], "error code", e["code"], result.code)
    if "message" in e:
        check.should(result.message == e["message"], "error message", e["message"], result.message)


@cases("EBO-PUT-*", alone=True)
def test_put_with_expected_owner(case, check, s3, target, bucket, poll):
    owner = owner_value(case.send["owner"], target)
    configure(s3, check, bucket, RULES_A, poll=poll)
    result = put_rules(s3, bucket, RULES_B, ExpectedBucketOwner=owner)
    check.observe("expected_bucket_owner", {"mode": target.owner_mode, "sent": owner})
    if refused(case, target):
        check_refusal(check, case, result)
        got = get_rules(s3, bucket)
        check.must(as_multisets(got.data.get("CORSRules", [])) == as_multisets(RULES_A),
                   "the configuration is unchanged", RULES_A, got.data.get("CORSRules"))
    else:
        check.must(result.ok, "PutBucketCors succeeds", "2xx", f"{result.status} {result.code or ''}".strip())
        got = poll(lambda: get_rules(s3, bucket), lambda r: as_multisets(r.data.get("CORSRules", [])) ==
                   as_multisets(RULES_B))
        check.must(as_multisets(got.data.get("CORSRules", [])) == as_multisets(RULES_B),
                   "the new configuration is applied", RULES_B, got.data.get("CORSRules"))


@cases("EBO-GET-*", alone=True)
def test_get_with_expected_owner(case, check, s3, target, bucket, poll):
    owner = owner_value(case.send["owner"], target)
    configure(s3, check, bucket, RULES_A, poll=poll)
    result = get_rules(s3, bucket, ExpectedBucketOwner=owner)
    check.observe("expected_bucket_owner", {"mode": target.owner_mode, "sent": owner})
    if refused(case, target):
        check_refusal(check, case, result)
    else:
        check.must(result.ok, "GetBucketCors succeeds", 200, f"{result.status} {result.code or ''}".strip())
        check.must(as_multisets(result.data.get("CORSRules", [])) == as_multisets(RULES_A),
                   "the configuration is returned", RULES_A, result.data.get("CORSRules"))


@cases("EBO-DEL-*", alone=True)
def test_delete_with_expected_owner(case, check, s3, target, bucket, poll):
    owner = owner_value(case.send["owner"], target)
    configure(s3, check, bucket, RULES_A, poll=poll)
    result = delete_config(s3, bucket, ExpectedBucketOwner=owner)
    check.observe("expected_bucket_owner", {"mode": target.owner_mode, "sent": owner})
    if refused(case, target):
        check_refusal(check, case, result)
        got = get_rules(s3, bucket)
        check.must(got.ok and as_multisets(got.data.get("CORSRules", [])) == as_multisets(RULES_A),
                   "the configuration is still there", RULES_A, got.data.get("CORSRules") or got.status)
    else:
        check.must(result.ok, "DeleteBucketCors succeeds", "2xx", f"{result.status} {result.code or ''}".strip())
        got = poll(lambda: get_rules(s3, bucket), lambda r: r.status == 404)
        check.must(got.status == 404, "the configuration is gone", 404, got.status)
