"""HDR: the successful preflight answer, header by header (fixtures/cases/preflight_headers.toml)."""

from __future__ import annotations

from conformance.behaviour.tables import cases
from conformance.behaviour.cors import check_preflight, expected_preflight, plan_preflight, send_preflight


@cases("HDR-*", ahead=plan_preflight)
def test_preflight_answer_header(case, check, s3, configured_bucket):
    resp = send_preflight(s3, case, configured_bucket)
    check_preflight(check, expected_preflight(case), resp, set(case.focus), case.send.get("method"))
