"""The reference endpoint's parts: the fault catalogue loader (strict), every fault has a switch, the SigV4
check, and the faithful behaviour equal to the model. The suite runs against the reference in CI (.ci/run)."""

from __future__ import annotations

import boto3
import pytest
import requests
from botocore.config import Config

from conformance.errors import SuiteUsageError
from conformance.reference.behaviour import FAULT_SWITCHES, make_behaviour
from conformance.reference.catalogue import AREAS, load_catalogue
from conformance.reference.server import ReferenceServer

ENTRY = '[[fault]]\nid = "FLT-SEL-001"\narea = "SEL"\ndescription = "d"\nseen = "plausible"\nreasoning = "r"\n'


def test_catalogue_loads_with_a_switch_per_fault():
    faults = load_catalogue()
    assert len(faults) >= 40 and set(faults) == set(FAULT_SWITCHES)
    assert {f.area for f in faults.values()} == set(AREAS)


@pytest.mark.parametrize("text, problem", [
    (ENTRY + 'severity = "high"\n', "unknown key 'severity'"),
    (ENTRY.replace('seen = "plausible"\nreasoning = "r"\n', 'seen = "moto"\n'), "needs 'link'"),
    (ENTRY.replace('reasoning = "r"\n', ''), "needs 'reasoning'"),
    (ENTRY.replace('area = "SEL"', 'area = "MAT"'), "id must be FLT-AREA-NNN"),
    (ENTRY.replace("FLT-SEL-001", "FLT-SEL-999"), "no switch"),
    (ENTRY + ENTRY, "duplicate id"),
    ("[fault]\n", "faults are \\[\\[fault\\]\\] tables"),
    ("[[fault\n", "not valid TOML"),
    ("title = 1\n", "unknown top-level key"),
])
def test_catalogue_problems_are_one_clear_error(tmp_path, text, problem):
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(SuiteUsageError, match=problem) as err:
        load_catalogue(tmp_path)
    assert "x.toml" in str(err.value) or "switches without" in str(err.value)


def test_unknown_fault_is_refused():
    with pytest.raises(SuiteUsageError, match="no such fault"):
        ReferenceServer(fault="FLT-NOPE-001")


def test_faithful_behaviour_is_the_model():
    b = make_behaviour("enforced", "123456789012", None)
    assert b.fault is None and not b._reselects()


@pytest.fixture(scope="module")
def reference():
    server = ReferenceServer()
    url = server.start()
    yield server, url
    server.stop()


def _client(url, access, secret):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=access,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, signature_version="s3v4"))


def test_signatures_are_checked_and_cors_answered(reference):
    server, url = reference
    good = _client(url, server.access_key, server.secret_key)
    good.create_bucket(Bucket="ref-sig")
    good.put_bucket_cors(Bucket="ref-sig", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"]}]})
    assert good.get_bucket_cors(Bucket="ref-sig")["CORSRules"][0]["AllowedMethods"] == ["GET"]
    bad = _client(url, server.access_key, "wrong-secret")
    with pytest.raises(Exception, match="SignatureDoesNotMatch"):
        bad.get_bucket_cors(Bucket="ref-sig")
    presigned = good.generate_presigned_url("get_object", Params={"Bucket": "ref-sig", "Key": "none"})
    assert requests.get(presigned, timeout=10).status_code == 404   # authenticated; the key does not exist
    pre = requests.options(f"{url}/ref-sig/k", headers={"Origin": "https://a.example",
                                                         "Access-Control-Request-Method": "GET"}, timeout=10)
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "https://a.example"
    good.delete_bucket(Bucket="ref-sig")


def test_a_property_the_server_leaves_without_any_check_says_why(tmp_path):
    """Against a server that refuses every configuration (FLT-VAL-009), a generated case has nothing to judge: no
    verdict, with the reason, not a case that made no check."""
    from suiterun import clean_env, run_suite

    run = run_suite(tmp_path / "reports", "--target=reference", "--case=GEN-PRE-RULE-001", "--fuzz-examples=5",
                    env=clean_env(S3CORS_REFERENCE_FAULT="FLT-VAL-009"))
    record = run.cases["GEN-PRE-RULE-001"]
    assert record["outcome"] == "error", run.output[-2000:]
    assert "no generated example could be checked" in record["reason"]
    assert "configuration refused by the server" in record["reason"]
