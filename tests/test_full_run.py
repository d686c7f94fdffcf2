"""A full run against the embedded default: verdicts equal fixtures/expectations/moto.toml exactly, every
case is recorded with evidence, and no credential appears anywhere the run wrote."""

from __future__ import annotations

import tomllib

from conformance.behaviour.tables import registry
from conformance.paths import fixtures_dir

# Marker credentials: moto accepts any, so these travel in every signed request of the run.
MARKERS = {
    "AWS_ACCESS_KEY_ID": "AKIAMARKERACCESSKEY7",
    "AWS_SECRET_ACCESS_KEY": "markerSecretKey/0123456789abcdefghijKLMN",
    "AWS_SESSION_TOKEN": "markerSessionToken+zyxwvutsrqponm0987654321",
}


def test_full_run_matches_moto_expectations(suite, monkeypatch):
    for name, value in MARKERS.items():
        monkeypatch.setenv(name, value)
    # Every report format is on, so the secrets scan below covers them all.
    result, results = suite(f"--alluredir={suite.reports / 'allure'}")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, out

    expected = tomllib.loads((fixtures_dir() / "expectations" / "moto.toml").read_text())
    cases = {c["id"]: c for c in results["cases"]}
    # Browser cases are opt-in (--browser) and deselected here.
    assert set(cases) == {i for i, c in registry().cases.items() if c.area != "BRW"}, "every case ran exactly once"
    for case_id, record in cases.items():
        if case_id in expected:
            assert record["outcome"] == "expected-fail", record
            assert record["verdict"] == expected[case_id]["outcome"], record
            # an entry naming a 5xx matched that answer; one naming none, a verdict resting on no server error
            status = expected[case_id].get("status")
            assert record["server_error"] == ({"status": status, "code": expected[case_id].get("code")}
                                              if status else None), record
        elif record["outcome"] == "unsupported":  # only what the moto profile says it lacks
            assert "(profile: [capabilities]" in record["reason"], record
        else:
            assert record["outcome"] in ("pass", "info"), record
        assert record["exchanges"] or record["outcome"] == "unsupported", f"{case_id} has no evidence"
        assert record["checks"] or record["verdict"] in ("error", "unsupported"), f"{case_id} made no check"

    summary = results["summary"]
    assert summary["cases"] == len(cases)
    assert summary["by_outcome"]["expected-fail"] == len([k for k in expected if not k.startswith("BRW-")])
    assert results["http_requests"] >= sum(len(c["exchanges"]) for c in cases.values())
    assert "HTTP requests" in out and "reports:" in out and "report.html" in out

    # Evidence is redacted but keeps its shape.
    signed = [h for c in cases.values() for x in c["exchanges"] for h in x["request_headers"]
              if h[0].lower() == "authorization" and h[1].startswith("AWS4-HMAC-SHA256")]
    assert signed and all("Signature=<redacted>" in v and "Credential=<redacted>/" in v for _, v in signed)

    # No marker anywhere under reports/ or in the terminal output.
    written = [p for p in suite.reports.rglob("*") if p.is_file()]
    assert written
    for path in written:
        text = path.read_text(errors="replace")
        for value in MARKERS.values():
            assert value not in text, f"{value} leaked into {path}"
    for value in MARKERS.values():
        assert value not in out
    # The run removed every bucket it created: nothing is pending in a journal.
    assert not list((suite.reports / ".journal").glob("*.log")) if (suite.reports / ".journal").exists() else True
