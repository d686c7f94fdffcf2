"""The IBM COS profile against a stand-in that follows COS's documented bucket-creation rules
(tests/cos_standin.py): buckets are created with a provisioning code, configured and removed; the AWS dialect
(the region as LocationConstraint) stops the run at start-up with one line naming the profile key to fix."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from cos_standin import CosStandIn
from suiterun import clean_env

from conformance.errors import EXIT_TARGET_UNUSABLE
from conformance.paths import fixtures_dir

COS_PROFILE = fixtures_dir() / "targets" / "ibm-cos.toml"
# HMAC keys as a COS user exports them (placeholders: the stand-in, like moto, checks no signature).
COS_ENV = clean_env(COS_HMAC_ACCESS_KEY_ID="cos-hmac-placeholder-id", COS_HMAC_SECRET_ACCESS_KEY="cos-hmac-placeholder")
# The stand-in listens on 127.0.0.1, where a bucket host name cannot resolve: path-style for these runs.
ARGS = ("--target=ibm-cos", "--addressing=path")


def _moto_cfg_expectations(tmp_path: Path) -> Path:
    """moto's recorded CFG deviations (the stand-in's S3 is moto), without its EBO entries: COS ignores the
    header, so the EBO cases are judged in the "ignored" dialect, where moto's behaviour is the documented one."""
    data = tomllib.loads((fixtures_dir() / "expectations" / "moto.toml").read_text(encoding="utf-8"))
    lines = []
    for case_id, entry in data.items():
        if case_id.startswith("CFG-"):
            lines += [f"[{case_id}]", *(f"{key} = {json.dumps(value)}" for key, value in entry.items()), ""]
    path = tmp_path / "moto-cfg.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def cos():
    with CosStandIn(location="us-south") as standin:
        yield standin


def _moto_buckets(standin: CosStandIn) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=standin.url, region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="s")
    return [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_cos_profile_creates_configures_and_removes_buckets_the_cos_way(suite_run, tmp_path, cos):
    run = suite_run(tmp_path / "reports", f"--endpoint-url={cos.url}", *ARGS, "--case=CFG-*", "--case=EBO-*",
                    f"--expectations={_moto_cfg_expectations(tmp_path)}", env=COS_ENV)
    assert run.returncode == 0, run.output[-3000:]
    target = run.results["target"]
    assert target["location_constraint"] == {"value": "us-south-standard", "source": "profile location_constraint"}
    assert target["capabilities"]["expected_bucket_owner"] == {
        "value": "ignored", "source": "profile", "detail": "[owner] expected_bucket_owner"}
    assert cos.created and not cos.refused  # every bucket was created with the provisioning code
    outcomes = {c["id"]: c["outcome"] for c in run.results["cases"]}
    assert {o for i, o in outcomes.items() if i.startswith("CFG-")} <= {"pass", "expected-fail"}
    assert list(outcomes.values()).count("pass") >= 15
    # ExpectedBucketOwner is ignored as COS documents; a foreign or malformed owner changes nothing.
    assert {outcomes[i] for i in ("EBO-PUT-001", "EBO-GET-001", "EBO-DEL-001", "EBO-PUT-003")} == {"pass"}
    # COS has no STS and the stand-in's ListBuckets gives a canonical user ID: no owner account to send.
    own = next(c for c in run.results["cases"] if c["id"] == "EBO-GET-002")
    assert own["outcome"] == "unsupported" and "owner account is unknown" in own["reason"]
    assert target["capabilities"]["owner_account"]["value"] is None
    assert "capabilities (value, and where it came from):" in run.output
    assert not [b for b in _moto_buckets(cos) if run.results["run_id"] in b]  # all removed
    assert not (tmp_path / "reports" / ".journal").exists()


def test_no_location_constraint_is_also_the_cos_way(suite_run, tmp_path, cos):
    run = suite_run(tmp_path / "reports", f"--endpoint-url={cos.url}", *ARGS, "--location-constraint=none",
                    "--expectations=none", "--case=CFG-GET-001", env=COS_ENV)
    assert run.returncode == 0, run.output[-3000:]
    assert run.results["target"]["location_constraint"] == {"value": None, "source": "option --location-constraint"}
    assert cos.created and not cos.refused


def test_the_aws_dialect_gets_one_line_naming_the_key(suite_run, tmp_path, cos):
    # The COS profile as it was before location_constraint existed: the region went out as LocationConstraint.
    text = COS_PROFILE.read_text(encoding="utf-8")
    aws_dialect = tmp_path / "cos-aws-dialect.toml"
    aws_dialect.write_text("\n".join(line for line in text.splitlines()
                                     if not line.startswith("location_constraint")) + "\n", encoding="utf-8")
    reports = tmp_path / "reports"
    run = suite_run(reports, f"--target={aws_dialect}", f"--endpoint-url={cos.url}", "--addressing=path",
                    "--expectations=none", "--case=CFG-GET-001", env=COS_ENV)
    assert run.returncode == EXIT_TARGET_UNUSABLE, run.output[-3000:]
    assert cos.refused == ["us-south"] and not cos.created
    lines = [line for line in run.output.splitlines() if "InvalidLocationConstraint" in line]
    assert lines, run.output[-3000:]
    assert "'location_constraint' in the profile" in lines[0] and "'us-south'" in lines[0]
    assert "us-south-standard" in lines[0]
    assert "Traceback" not in run.output
    assert not (reports / ".journal").exists() or not list(Path(reports, ".journal").iterdir())


def test_standin_follows_the_documented_rules(cos):
    assert cos.accepts(None) and cos.accepts("us-south-standard") and cos.accepts("us-south-smart")
    assert not cos.accepts("us-south") and not cos.accepts("eu-de-standard") and not cos.accepts("")
