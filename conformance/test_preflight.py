"""PRE: which rule answers a preflight, and how origins, methods and headers match
(fixtures/cases/preflight.toml; expectations from conformance/model.py)."""

from __future__ import annotations

from conformance.cases import cases
from conformance.cors import check_preflight, expected_preflight, send_preflight


@cases("PRE-*")
def test_preflight_matching(case, check, s3, configured_bucket):
    expected = expected_preflight(case)
    resp = send_preflight(s3, case, configured_bucket)
    # Which rule answered is visible through its Expose-Headers marker where the configuration has them.
    marked = any("ExposeHeaders" in r for r in case.setup["rules"])
    check_preflight(check, expected, resp, {"origin", "rule"} if marked else {"origin"}, case.send.get("method"))
