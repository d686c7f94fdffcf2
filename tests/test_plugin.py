"""The plugin as a user meets it: options, environment twins, bad input and a small run (pytester)."""

from __future__ import annotations

import pytest

EXIT_USAGE = 4
EXIT_TARGET_UNUSABLE = 6


def _one_error(result, *fragments: str) -> None:
    """Bad input stops the run with one clear line, no traceback and no case run."""
    err = result.stderr.str()
    assert result.ret == EXIT_USAGE, (result.ret, err, result.stdout.str())
    assert "Traceback" not in err and "Traceback" not in result.stdout.str()
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def test_unknown_target_lists_shipped_profiles(suite):
    result, _ = suite("--target", "no-such-server")
    _one_error(result, "no-such-server.toml", "no such target profile", "moto")


def test_profile_with_unknown_key(suite, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\nendpoint_url = "http://127.0.0.1:9"\nendpoint_ur = "typo"\n')
    result, _ = suite("--target", str(bad))
    _one_error(result, str(bad), "unknown key 'endpoint_ur'")


def test_profile_that_is_not_toml(suite, tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('description = "unterminated\n')
    result, _ = suite("--target", str(bad))
    _one_error(result, str(bad), "not valid TOML")


def test_profile_missing_required_field(suite, tmp_path):
    bad = tmp_path / "nodesc.toml"
    bad.write_text('endpoint_url = "http://127.0.0.1:9"\n')
    result, _ = suite("--target", str(bad))
    _one_error(result, str(bad), "required field 'description'")


def test_profile_refuses_secrets(suite, tmp_path):
    bad = tmp_path / "secret.toml"
    bad.write_text('description = "x"\nendpoint_url = "http://127.0.0.1:9"\n[credentials]\nsecret_key = "s"\n')
    result, _ = suite("--target", str(bad))
    _one_error(result, str(bad), "credentials.secret_key", "environment variable")


def test_endpoint_url_without_scheme(suite):
    result, _ = suite("--endpoint-url", "127.0.0.1:9000")
    _one_error(result, "--endpoint-url", "127.0.0.1:9000", "http://")


def test_environment_twin_is_validated(suite, monkeypatch):
    monkeypatch.setenv("S3CORS_ADDRESSING", "sideways")
    result, _ = suite()
    _one_error(result, "S3CORS_ADDRESSING", "sideways")


def test_unknown_case_id(suite):
    result, _ = suite("--case", "CFG-NOPE-999")
    _one_error(result, "--case CFG-NOPE-999", "no case has this ID")


def test_expectation_with_unknown_case_id(suite, tmp_path):
    bad = tmp_path / "exp.toml"
    bad.write_text('[CFG-NOPE-001]\noutcome = "fail"\nreason = "x"\n')
    result, _ = suite("--expectations", str(bad))
    _one_error(result, str(bad), "unknown case ID 'CFG-NOPE-001'")


def test_expectation_without_reason(suite, tmp_path):
    bad = tmp_path / "exp.toml"
    bad.write_text('[CFG-GET-001]\noutcome = "fail"\n')
    result, _ = suite("--expectations", str(bad))
    _one_error(result, str(bad), "'reason' is required")


def test_no_credentials_for_a_plain_endpoint(suite, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    result, _ = suite("--endpoint-url", "http://127.0.0.1:9")
    _one_error(result, "no credentials", "AWS_ACCESS_KEY_ID")


def test_unreachable_endpoint_is_one_error_not_failures(suite, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unreachable-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unreachable-test-secret")
    # Port 9 (discard) on loopback: nothing listens there.
    result, results = suite("--endpoint-url", "http://127.0.0.1:9", "--request-timeout", "2")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == EXIT_TARGET_UNUSABLE, out
    assert "unusable" in out and "Is the server running" in out
    assert "FAILED" not in out and "passed" not in out
    assert results is None


def test_selected_case_runs_and_is_recorded(suite):
    result, results = suite("--case", "CFG-GET-001", "--case", "CFG-NB-*")
    assert result.ret == 0, result.stdout.str()
    assert [c["id"] for c in results["cases"]] == ["CFG-GET-001", "CFG-NB-001", "CFG-NB-002"]
    assert {c["outcome"] for c in results["cases"]} == {"pass"}
    case = results["cases"][0]
    assert case["level"] == "MUST" and case["source"] and case["exchanges"]
    assert results["target"]["name"] == "moto" and results["target"]["launch"] == "embedded-moto"
    assert "S3 CORS conformance: moto" in result.stdout.str()


def test_expected_failure_that_passes_fails_the_run(suite, tmp_path):
    stale = tmp_path / "stale.toml"
    stale.write_text('[CFG-GET-001]\noutcome = "fail"\nreason = "recorded long ago"\n')
    result, results = suite("--case", "CFG-GET-001", "--expectations", str(stale))
    assert result.ret == 1
    (case,) = results["cases"]
    assert case["outcome"] == "unexpected-pass" and case["verdict"] == "pass"
    assert "stale expectation" in case["reason"]


def test_deviation_without_expectation_is_a_failure(suite):
    result, results = suite("--case", "VAL-WILD-002", "--expectations", "none")
    assert result.ret == 1
    (case,) = results["cases"]
    assert case["outcome"] == "fail" and case["expectation"] is None
    assert "FAIL VAL-WILD-002 [MUST]" in result.stdout.str()


def test_recorded_deviation_is_an_expected_failure(suite):
    result, results = suite("--case", "VAL-WILD-002")
    assert result.ret == 0
    (case,) = results["cases"]
    assert case["outcome"] == "expected-fail" and case["verdict"] == "fail"
    assert case["expectation"]["reason"]


def test_owner_mode_comes_from_option(suite):
    result, results = suite("--case", "EBO-*", "--expected-bucket-owner", "ignored", "--expectations", "none")
    assert result.ret == 0, result.stdout.str()
    assert {c["outcome"] for c in results["cases"]} == {"pass"}
    assert results["target"]["expected_bucket_owner"] == "ignored"


def test_owner_account_is_discovered_where_the_server_reveals_it(suite, tmp_path):
    profile = tmp_path / "noaccount.toml"
    profile.write_text('description = "moto without account"\nlaunch = "embedded-moto"\n[credentials]\nany = true\n')
    result, results = suite("--target", str(profile), "--case", "EBO-GET-002", "--expectations", "none")
    (case,) = results["cases"]
    assert case["outcome"] == "pass", case
    assert results["target"]["capabilities"]["owner_account"] == {
        "value": "123456789012", "source": "probe", "detail": "STS GetCallerIdentity at the endpoint (Account)"}
    assert result.ret == 0


def test_bare_endpoint_states_every_capability_it_used(suite, monkeypatch):
    from suiterun import MotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")  # moto accepts any credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with MotoServer() as moto:
        result, results = suite(f"--endpoint-url={moto.url}", "--case", "ACT-ERR-003", "--case", "URL-*")
    caps = results["target"]["capabilities"]
    assert {name: (c["value"], c["source"]) for name, c in caps.items()} == {
        "bucket_cors": (True, "probe"), "auth_enforced": (False, "probe"), "presigned_urls": (True, "probe"),
        "virtual_host": (False, "probe"), "post_object": (False, "default"),
        "expected_bucket_owner": ("enforced", "default"), "owner_account": ("123456789012", "probe")}
    assert "bucket.127.0.0.1 is not a host name" in caps["virtual_host"]["detail"]
    by_id = {c["id"]: c for c in results["cases"]}
    # moto accepts a wrong signature: the case that needs a refusal is unsupported, saying why and how it was found
    assert by_id["ACT-ERR-003"]["outcome"] == "unsupported"
    assert "wrong secret key was answered 200" in by_id["ACT-ERR-003"]["reason"]
    vhost = [c for c in results["cases"] if c["outcome"] == "unsupported" and c["id"].startswith("URL-")]
    assert vhost and all("virtual-host URL" in c["reason"] for c in vhost)
    out = result.stdout.str()
    assert "capabilities (value, and where it came from):" in out
    assert "  auth_enforced = false (probe: a request signed with a wrong secret key was answered 200)" in out


@pytest.mark.parametrize("workers", ["2"])
def test_xdist_gives_one_record_per_case(suite, workers):
    serial, r0 = suite("--case", "CFG-*", "--case", "EBO-GET-*")
    parallel, r2 = suite("--case", "CFG-*", "--case", "EBO-GET-*", "-n", workers)
    assert serial.ret == parallel.ret == 0, parallel.stdout.str()
    assert [c["id"] for c in r0["cases"]] == [c["id"] for c in r2["cases"]]
    assert [c["outcome"] for c in r0["cases"]] == [c["outcome"] for c in r2["cases"]]
    assert {c["worker"] for c in r2["cases"]} <= {"gw0", "gw1"}
    assert r2["http_requests"] >= sum(len(c["exchanges"]) for c in r2["cases"])
