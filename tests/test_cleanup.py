"""python -m conformance cleanup: lists only old buckets named exactly as the suite names them, removes them only
with --delete, never touches anything else, and fails with one clear line on bad input or an unusable target."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from conformance.target import buckets as buckets_module
from conformance.commands.cleanup import classify, main, suite_bucket_time
from test_interrupt import moto_server  # noqa: F401  (the fixture: moto's server in-process on 127.0.0.1)
from suiterun import LoopbackServer, QuietHandler

SECRET = "dummy-secret-never-printed-9f3c"
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    """Dummy credentials; no S3CORS_* variable of the caller's shell changes what is tested."""
    import os

    for name in list(os.environ):
        if name.startswith("S3CORS_") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dummy-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


def _client(url: str):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                        aws_secret_access_key="s")


def _stamp(when: datetime) -> str:
    return when.strftime("%y%m%d%H%M%S")


def _names(s3) -> set[str]:
    return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert SECRET not in out + err
    return code, out, err


@pytest.fixture
def leftovers(moto_server):  # noqa: F811
    """Two old suite leftovers (one with an object and an open multipart upload), a recent suite bucket, a
    near-miss name and a foreign bucket with an object. Returns (url, s3, names, expected leftovers)."""
    s3 = _client(moto_server)
    now = datetime.now(timezone.utc)
    token = secrets.token_hex(3)
    old = _stamp(now - 2 * HOUR)
    names = {
        "old_empty": f"s3cors-{old}-{token}-main-0001",
        "old_full": f"s3cors-{old}-{token}-gw1-0002",
        "recent": f"s3cors-{_stamp(now)}-{token}-main-0001",
        "near": f"s3cors-foo-bar-{token}",
        "foreign": f"my-data-{token}",
    }
    # moto's state is per process: other tests of this worker may have left buckets. Any of them that is an
    # old suite leftover is one too (none, normally).
    before = _names(s3)
    earlier = {n for n in before if classify(n, now, HOUR).leftover}
    for name in names.values():
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=names["old_full"], Key="k/obj.txt", Body=b"x")
    s3.create_multipart_upload(Bucket=names["old_full"], Key="open-upload")
    s3.put_object(Bucket=names["foreign"], Key="keep.txt", Body=b"mine")
    yield moto_server, s3, names, {names["old_empty"], names["old_full"]} | earlier
    for name in set(names.values()) & _names(s3):
        for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)


def _listed(out: str, word: str) -> set[str]:
    return set(re.findall(rf"^{word}\s+(\S+?):?\s", out, re.M))


# ---- the name rule ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "s3cors-260101120000-abcdef-main-0001",
    "s3cors-260101120000-0a1b2c-gw0-0012",
    "s3cors-260101120000-0a1b2c-gw13-12345",
    "s3cors-260101120000-0a1b2c-probe-0001",
])
def test_names_the_suite_makes(name):
    assert suite_bucket_time(name) == datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_a_name_from_buckets_next_name_matches():
    run_id = buckets_module.new_run_id()
    made = buckets_module.Buckets(None, run_id, "gw3").next_name()
    assert suite_bucket_time(made) is not None
    assert classify(made, datetime.now(timezone.utc), HOUR).leftover is False  # just made: too recent


@pytest.mark.parametrize("name", [
    "s3cors-foo-bar",
    "s3cors-2601011200-abcdef-main-0001",      # short timestamp
    "s3cors-260101120000-abcde-main-0001",     # 5 hex
    "s3cors-260101120000-ABCDEF-main-0001",    # upper case
    "s3cors-260101120000-abcdeg-main-0001",    # not hex
    "s3cors-260101120000-abcdef-main-001",     # 3 digits
    "s3cors-260101120000-abcdef-worker-0001",  # not a worker name
    "s3cors-260101120000-abcdef-main-0001-x",
    "s3cors-260101120000-abcdef-main",
    "xs3cors-260101120000-abcdef-main-0001",
    "s3corsx-260101120000-abcdef-main-0001",
    "s3cors-261301120000-abcdef-main-0001",    # month 13
    "s3cors-260101126000-abcdef-main-0001",    # minute 60
])
def test_near_misses_are_not_the_suites(name):
    assert suite_bucket_time(name) is None
    verdict = classify(name, datetime(2027, 1, 1, tzinfo=timezone.utc), HOUR)
    assert not verdict.leftover and verdict.reason


def test_age_decides():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    name = "s3cors-260101100000-abcdef-main-0001"  # started 2 h before now
    assert classify(name, now, HOUR).leftover
    assert not classify(name, now, 2 * HOUR).leftover  # exactly 120 min is not "older than 120"
    assert "may still be running" in classify(name, now, 3 * HOUR).reason
    assert "future" in classify("s3cors-991231235959-abcdef-main-0001", now, HOUR).reason
    assert "region eu-west-1" in classify(name, now, HOUR, "us-east-1", "eu-west-1").reason


# ---- against moto -----------------------------------------------------------------------------------------

def test_dry_run_lists_only_old_leftovers_and_deletes_nothing(leftovers, capsys):
    url, s3, names, expected = leftovers
    before = _names(s3)
    code, out, err = _run(capsys, "--endpoint-url", url)
    assert code == 0, out + err
    assert _listed(out, "leftover") == expected, out
    assert re.search(rf"^leftover\s+{names['old_full']}\s+age 2h \d\dm$", out, re.M), out
    last = out.rstrip().splitlines()[-1]
    assert last == f"{len(expected)} leftover bucket(s); run again with --delete to remove them"
    skipped = _listed(out, "skipped")
    assert {names["recent"], names["near"]} <= skipped, out
    assert names["foreign"] not in out  # not the suite's: not even named
    assert re.search(rf"^skipped\s+{names['recent']}: .*may still be running", out, re.M), out
    assert re.search(rf"^skipped\s+{names['near']}: not a bucket name the suite makes", out, re.M), out
    assert _names(s3) == before
    assert s3.list_objects_v2(Bucket=names["old_full"])["KeyCount"] == 1
    assert len(s3.list_multipart_uploads(Bucket=names["old_full"]).get("Uploads", [])) == 1


def test_older_than_raises_the_bar(leftovers, capsys):
    url, s3, names, expected = leftovers
    code, out, _ = _run(capsys, "--endpoint-url", url, "--older-than", "180")
    assert code == 0
    assert not ({names["old_empty"], names["old_full"]} & _listed(out, "leftover")), out
    assert {names["old_empty"], names["old_full"]} <= _listed(out, "skipped"), out


def test_delete_removes_exactly_the_old_leftovers(leftovers, capsys):
    url, s3, names, expected = leftovers
    before = _names(s3)
    code, out, err = _run(capsys, "--endpoint-url", url, "--delete")
    assert code == 0, out + err
    assert _listed(out, "removed") == expected, out
    assert out.rstrip().splitlines()[-1] == f"{len(expected)} of {len(expected)} leftover bucket(s) removed"
    assert _names(s3) == before - expected
    for keep in ("recent", "near", "foreign"):
        assert names[keep] in _names(s3)
    assert s3.get_object(Bucket=names["foreign"], Key="keep.txt")["Body"].read() == b"mine"
    # Nothing left: a second run finds nothing of ours.
    code, out, _ = _run(capsys, "--endpoint-url", url)
    assert code == 0 and not ({names["old_empty"], names["old_full"]} & _listed(out, "leftover"))


def test_a_failed_removal_is_reported_and_exits_1(leftovers, capsys, monkeypatch):
    url, s3, names, expected = leftovers
    original = buckets_module.Buckets.remove

    def remove(self, name):
        return "409 BucketNotEmpty" if name == names["old_empty"] else original(self, name)

    monkeypatch.setattr(buckets_module.Buckets, "remove", remove)
    code, out, err = _run(capsys, "--endpoint-url", url, "--delete")
    assert code == 1, out + err
    assert re.search(rf"^FAILED\s+{names['old_empty']}: 409 BucketNotEmpty$", out, re.M), out
    assert names["old_empty"] in _names(s3) and names["old_full"] not in _names(s3)
    assert "could not be removed" in out.rstrip().splitlines()[-1]


def test_profile_credentials_are_used(leftovers, capsys, monkeypatch, tmp_path):
    url, s3, names, expected = leftovers
    profile = tmp_path / "mine.toml"
    profile.write_text(f'description = "a server of mine"\nendpoint_url = "{url}"\n'
                       f'[credentials]\naccess_key_env = "MY_KEY"\nsecret_key_env = "MY_SECRET"\n')
    code, _, err = _run(capsys, "--target", str(profile))
    assert code == 2 and "MY_KEY" in err and "not set" in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setenv("MY_KEY", "k2")
    monkeypatch.setenv("MY_SECRET", SECRET)
    code, out, err = _run(capsys, "--target", str(profile))
    assert code == 0, err
    assert _listed(out, "leftover") == expected
    assert out.startswith(f"target mine at {url}")


# ---- refusals ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, says", [
    (["--target", "no-such-target"], "no such target profile"),
    (["--endpoint-url", "127.0.0.1:9000"], "must be an absolute http:// or https:// URL"),
    (["--endpoint-url", "http://127.0.0.1:9000", "--older-than", "soon"], "'soon' is not a number of minutes"),
    (["--endpoint-url", "http://127.0.0.1:9000", "--older-than", "-1"], "0 or more"),
    (["--endpoint-url", "http://127.0.0.1:9000", "--older-than", "nan"], "0 or more"),
    (["--endpoint-url", "http://127.0.0.1:9000", "--addressing", "sideways"], "invalid choice"),
    (["--endpoint-url", "http://127.0.0.1:9000", "--bogus"], "unrecognized arguments: --bogus"),
    (["--target", "ceph"], 'launch = "server"'),
    (["--target", "moto-server"], 'launch = "server"'),
    (["--target", "moto"], "embedded default"),
    ([], "embedded default"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, says):
    code, out, err = _run(capsys, *argv)
    assert code == 2, out + err
    assert says in err and len(err.strip().splitlines()) == 1 and err.startswith("python -m conformance cleanup: "), err
    assert out == ""


def test_server_profiles_say_nothing_persists(capsys):
    _, _, err = _run(capsys, "--target", "localstack")
    assert "cannot be cleaned" in err and "nothing persists" in err and "--endpoint-url" in err


def test_unreachable_endpoint_exits_6(capsys):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    code, out, err = _run(capsys, "--endpoint-url", f"http://127.0.0.1:{port}", "--delete")
    assert code == 6, out + err
    assert len(err.strip().splitlines()) == 1 and "unusable" in err and f"127.0.0.1:{port}" in err, err
    assert out == ""
    assert time.monotonic() - started < 30


class _Refuses(QuietHandler):
    """An endpoint that knows no access key."""

    def do_GET(self):
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>'
                b"<Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>")
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_refused_credentials_exit_6(capsys):
    with LoopbackServer(_Refuses) as server:
        code, out, err = _run(capsys, "--endpoint-url", server.url)
    assert code == 6, out + err
    assert len(err.strip().splitlines()) == 1, err
    assert "403 InvalidAccessKeyId" in err and "check the credentials" in err and "AWS_* environment" in err, err
    assert "dummy-access-key" not in err


def test_command_line_dispatch():
    done = subprocess.run([sys.executable, "-m", "conformance", "cleanup", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--older-than MINUTES" in done.stdout and "--delete" in done.stdout


def test_environment_twins_as_for_a_run(leftovers, capsys, monkeypatch):
    url, s3, names, expected = leftovers
    monkeypatch.setenv("S3CORS_ENDPOINT_URL", url)
    code, out, _ = _run(capsys)
    assert code == 0 and _listed(out, "leftover") == expected
    monkeypatch.setenv("S3CORS_VERIFY_TLS", "maybe")
    code, _, err = _run(capsys)
    assert code == 2 and "S3CORS_VERIFY_TLS" in err
