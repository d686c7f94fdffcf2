"""PRE: which rule answers a preflight, and how origins, methods and headers match; no origin is privileged
(fixtures/cases/preflight.toml; expectations from conformance/behaviour/model.py)."""

from __future__ import annotations

from conformance.behaviour.tables import cases
from conformance.behaviour.cors import check_preflight, expected_preflight, plan_preflight, send_preflight
from conformance.behaviour.privileged import check_not_granted, privileged_origins
from conformance.target.http import preflight_args
from conformance.target.inflight import gather

PRIVILEGED_METHODS = ("GET", "PUT", "DELETE")


@cases("PRE-*", where=lambda c: "privileged" not in c.send, ahead=plan_preflight)
def test_preflight_matching(case, check, s3, configured_bucket):
    expected = expected_preflight(case)
    resp = send_preflight(s3, case, configured_bucket)
    # Which rule answered is visible through its Expose-Headers marker where the configuration has them.
    marked = any("ExposeHeaders" in r for r in case.setup["rules"])
    check_preflight(check, expected, resp, {"origin", "rule"} if marked else {"origin"}, case.send.get("method"))
    if "status_level" in case.expect:
        # The row states how firmly the source settles the exact status where the model leaves only its form open.
        check.that(case.expect["status_level"], resp.status == expected.status, "status (exact)", expected.status,
                   resp.status)


def plan_privileged(case, bucket: str, s3) -> list[dict]:
    """Every privileged origin with every method a page would use: S3.request's keyword arguments."""
    return [preflight_args(bucket, "cors-probe.txt", origin, method, note=f"preflight {origin} {method} ({case.id})")
            for origin in privileged_origins(s3.target) for method in PRIVILEGED_METHODS]


@cases("PRE-*", where=lambda c: "privileged" in c.send, ahead=plan_privileged)
def test_privileged_origins_refused(case, check, s3, configured_bucket):
    """Every privileged origin, with every method a page would use, is refused like any unlisted origin."""
    calls = plan_privileged(case, configured_bucket, s3)
    answers = gather([lambda call=call: s3.request(**call) for call in calls])
    for call, resp in zip(calls, answers):
        origin, method = call["headers"]["Origin"], call["headers"]["Access-Control-Request-Method"]
        check_not_granted(check, resp, f"preflight from {origin}, {method}")
