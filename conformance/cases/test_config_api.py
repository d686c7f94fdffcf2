"""CFG: GetBucketCors, PutBucketCors round trip and replacement, DeleteBucketCors (fixtures/cases/config_api.toml)."""

from __future__ import annotations

from conformance.behaviour.cors import PROBE_KEY
from conformance.behaviour.tables import cases
from conformance.target.inflight import gather
from conformance.cases.steps import (LIST_MEMBERS, MEMBERS, as_multisets, check_error, configure, delete_config,
                               get_rules, put_rules)


@cases("CFG-GET-001", alone=True)
def test_get_never_configured(case, check, s3, bucket):
    check_error(check, get_rules(s3, bucket), case.expect, what="GetBucketCors without configuration")


@cases("CFG-RT-001", alone=True)
def test_round_trip_every_member(case, check, s3, bucket, poll):
    sent = case.send["rules"]
    put = put_rules(s3, bucket, sent)
    check.require(put.ok, "PutBucketCors accepted", "2xx", put.status)
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    check.require(got.ok, "GetBucketCors answered", 200, got.status)
    rules = got.data.get("CORSRules", [])
    check.require(len(rules) == len(sent), "number of rules", len(sent), len(rules))
    for member in MEMBERS:
        want, have = sent[0].get(member), rules[0].get(member)
        if member in LIST_MEMBERS:
            check.must(sorted(want) == sorted(have or []), f"{member} (as a set)", want, have)
            check.should(want == have, f"{member} (in order)", want, have)
        else:
            check.must(want == have, member, want, have)


@cases("CFG-RT-002", alone=True)
def test_round_trip_value_order(case, check, s3, bucket, poll):
    sent = case.send["rules"]
    check.require(put_rules(s3, bucket, sent).ok, "PutBucketCors accepted")
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    rules = got.data.get("CORSRules", [])
    check.require(len(rules) == 1, "one rule returned", 1, len(rules))
    for member in LIST_MEMBERS:
        check.should(sent[0][member] == rules[0].get(member), f"{member} in the order sent",
                     sent[0][member], rules[0].get(member))


@cases("CFG-RT-003", alone=True)
def test_round_trip_rule_order(case, check, s3, bucket, poll):
    sent = case.send["rules"]
    check.require(put_rules(s3, bucket, sent).ok, "PutBucketCors accepted")
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    want = [r["ID"] for r in sent]
    have = [r.get("ID") for r in got.data.get("CORSRules", [])]
    check.must(want == have, "rule IDs in the order sent", want, have)
    check.must(as_multisets(sent) == as_multisets(got.data.get("CORSRules", [])), "rules in the order sent",
               sent, got.data.get("CORSRules"))


@cases("CFG-RT-004", "CFG-RT-005", "CFG-RT-007", "CFG-RT-008", alone=True)
def test_round_trip_values_kept(case, check, s3, bucket, poll):
    sent = case.send["rules"]
    put = put_rules(s3, bucket, sent)
    check.require(put.ok, "PutBucketCors accepted", "2xx", f"{put.status} {put.code}")
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    check.require(got.ok, "GetBucketCors answered", 200, got.status)
    rules = got.data.get("CORSRules", [])
    for member in LIST_MEMBERS:
        if member in sent[0]:
            have = rules[0].get(member) if rules else None
            check.must(sorted(sent[0][member]) == sorted(have or []), f"{member} byte for byte",
                       sent[0][member], have)


@cases("CFG-RT-006", alone=True)
def test_round_trip_absent_members(case, check, s3, bucket, poll):
    sent = case.send["rules"]
    check.require(put_rules(s3, bucket, sent).ok, "PutBucketCors accepted")
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.ok)
    rules = got.data.get("CORSRules", [])
    check.require(len(rules) == 1, "one rule returned", 1, len(rules))
    for member in ("ID", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds"):
        check.should(member not in rules[0], f"{member} absent", "absent", rules[0].get(member))


@cases("CFG-REP-001", alone=True)
def test_second_put_replaces(case, check, s3, bucket, poll):
    configure(s3, check, bucket, case.setup["rules"])
    new = case.send["rules"]
    check.require(put_rules(s3, bucket, new).ok, "second PutBucketCors accepted")
    got = poll(lambda: get_rules(s3, bucket),
               lambda r: as_multisets(r.data.get("CORSRules", [])) == as_multisets(new))
    check.must(as_multisets(got.data.get("CORSRules", [])) == as_multisets(new), "only the new rules",
               new, got.data.get("CORSRules"))


@cases("CFG-REP-002", alone=True)
def test_replacement_changes_preflight(case, check, s3, bucket, poll):
    e = case.send
    configure(s3, check, bucket, case.setup["rules"])
    before = poll(lambda: s3.preflight(bucket, PROBE_KEY, e["old_origin"], e["method"]), lambda r: r.status == 200)
    check.precondition(before.status == 200, f"a preflight the first configuration allows was not answered 200 "
                                             f"(got {before.status}); preflight cases cover that")
    check.require(put_rules(s3, bucket, case.send["rules"]).ok, "second PutBucketCors accepted")
    old, new = gather([  # both wait for the same change to take effect
        lambda: poll(lambda: s3.preflight(bucket, PROBE_KEY, e["old_origin"], e["method"]), lambda r: r.status == 403),
        lambda: poll(lambda: s3.preflight(bucket, PROBE_KEY, e["new_origin"], e["method"]), lambda r: r.status == 200)])
    check.must(old.status == 403, "preflight only the old rule allowed is refused", 403, old.status)
    check.must(new.status == 200, "preflight the new rule allows succeeds", 200, new.status)


@cases("CFG-REP-003", alone=True)
def test_rejected_put_keeps_configuration(case, check, s3, bucket, poll):
    kept = case.setup["rules"]
    configure(s3, check, bucket, kept, poll=poll)
    bad = put_rules(s3, bucket, case.send["rules"])
    check.precondition(not bad.ok, f"the invalid configuration was accepted ({bad.status}); VAL cases cover that")
    got = get_rules(s3, bucket)
    check.must(got.ok, "GetBucketCors still finds a configuration", 200, f"{got.status} {got.code or ''}".strip())
    check.must(as_multisets(got.data.get("CORSRules", [])) == as_multisets(kept), "the previous rules are intact",
               kept, got.data.get("CORSRules"))


@cases("CFG-DEL-001", alone=True)
def test_delete_configured(case, check, s3, bucket):
    configure(s3, check, bucket, case.setup["rules"])
    result = delete_config(s3, bucket)
    check.must(result.ok, "DeleteBucketCors succeeds", "2xx", f"{result.status} {result.code or ''}".strip())
    check.should(result.status == 204, "status 204 No Content", 204, result.status)


@cases("CFG-DEL-002", alone=True)
def test_get_after_delete(case, check, s3, bucket, poll):
    configure(s3, check, bucket, case.setup["rules"])
    check.require(delete_config(s3, bucket).ok, "DeleteBucketCors succeeds")
    got = poll(lambda: get_rules(s3, bucket), lambda r: r.status == 404)
    check_error(check, got, case.expect, what="GetBucketCors after delete")


@cases("CFG-DEL-003", alone=True)
def test_preflight_after_delete(case, check, s3, bucket, poll):
    send = case.send
    configure(s3, check, bucket, case.setup["rules"])
    before = poll(lambda: s3.preflight(bucket, PROBE_KEY, send["origin"], send["method"]), lambda r: r.status == 200)
    check.precondition(before.status == 200, f"a preflight the configuration allows was not answered 200 "
                                             f"(got {before.status}); preflight cases cover that")
    check.require(delete_config(s3, bucket).ok, "DeleteBucketCors succeeds")
    after = poll(lambda: s3.preflight(bucket, PROBE_KEY, send["origin"], send["method"]), lambda r: r.status == 403)
    check_error(check, after, case.expect, what="preflight after delete")
    check.should(after.cors_headers() == {}, "no Access-Control-* or Vary on the refusal (§4.1)", {},
                 after.cors_headers())


@cases("CFG-DEL-004", alone=True)
def test_delete_never_configured(case, check, s3, bucket):
    result = delete_config(s3, bucket)
    check.must(result.ok, "DeleteBucketCors without configuration succeeds", "2xx",
               f"{result.status} {result.code or ''}".strip())
    check.should(result.status == 204, "status 204 No Content", 204, result.status)


@cases("CFG-DEL-005", alone=True)
def test_delete_twice(case, check, s3, bucket):
    configure(s3, check, bucket, case.setup["rules"])
    first, second = delete_config(s3, bucket), delete_config(s3, bucket)
    check.must(first.ok, "first DeleteBucketCors succeeds", "2xx", first.status)
    check.must(second.ok, "second DeleteBucketCors succeeds", "2xx", f"{second.status} {second.code or ''}".strip())
    check.should(second.status == 204, "second status 204", 204, second.status)


@cases("CFG-NB-001", alone=True)
def test_get_missing_bucket(case, check, s3, missing_bucket):
    check_error(check, get_rules(s3, missing_bucket), case.expect, what="GetBucketCors on a missing bucket")


@cases("CFG-NB-002", alone=True)
def test_delete_missing_bucket(case, check, s3, missing_bucket):
    check_error(check, delete_config(s3, missing_bucket), case.expect, what="DeleteBucketCors on a missing bucket")
