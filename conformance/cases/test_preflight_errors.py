"""ERR: refused preflights, their status, error body and the absence of CORS headers
(fixtures/cases/preflight_errors.toml)."""

from __future__ import annotations

from conformance.behaviour.tables import cases
from conformance.behaviour.cors import check_preflight, expected_preflight, plan_preflight, send_preflight


@cases("ERR-*", ahead=plan_preflight)
def test_refused_preflight(case, check, s3, configured_bucket):
    resp = send_preflight(s3, case, configured_bucket)
    check_preflight(check, expected_preflight(case), resp, set(case.focus or ("status", "error")))
