"""Fail fast: a target that cannot be used (unreachable, a host name that does not resolve, credentials or a
region it refuses, a server that only answers 5xx) is found once at the start. One message says what is wrong
and how to fix it, no case runs, no traceback, and the exit status is 6."""

from __future__ import annotations

import pytest

from suiterun import LoopbackServer, QuietHandler

EXIT_TARGET_UNUSABLE = 6


class _Stub(LoopbackServer):
    """An HTTP server on 127.0.0.1 answering every request with one S3 error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"</Error>").encode()
        self.requests = 0
        stub = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                stub.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _answer

        super().__init__(Handler)


def _unusable(run, *fragments: str) -> str:
    out = run.output
    assert run.returncode == EXIT_TARGET_UNUSABLE, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    assert run.results is None, "no results.json: no case ran"
    assert " passed" not in out and " failed" not in out and "FAILED" not in out, out[-3000:]
    # pytest shows the message of its exit twice (stdout and stderr): never more, never a traceback
    assert len([line for line in out.splitlines() if "unusable" in line or "refused" in line]) <= 2, out[-3000:]
    for fragment in fragments:
        assert fragment in out, (fragment, out[-3000:])
    return out


@pytest.mark.parametrize("status, code, message, hint", [
    (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
     "check the credentials"),
    (403, "SignatureDoesNotMatch", "The request signature we calculated does not match", "secret key is wrong"),
    (400, "AuthorizationHeaderMalformed", "the region 'us-east-1' is wrong; expecting 'eu-west-1'", "set --region"),
    (400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible",
     "location_constraint"),
    (403, "AccessDenied", "Access Denied", "may not create buckets"),
])
def test_refused_credentials_or_region(suite_run, tmp_path, status, code, message, hint):
    with _Stub(status, code, message) as stub:
        run = suite_run(tmp_path / "r", f"--endpoint-url={stub.url}", "--request-timeout=5")
    _unusable(run, code, hint, "credentials from AWS_* environment variables")
    assert stub.requests == 1, "a refusal is not retried"


def test_a_server_that_only_answers_503(suite_run, tmp_path):
    with _Stub(503, "SlowDown", "Please reduce your request rate.") as stub:
        run = suite_run(tmp_path / "r", f"--endpoint-url={stub.url}", "--request-timeout=5")
    _unusable(run, "503 SlowDown after 3 attempts", "Is the server running")
    assert stub.requests == 3, "bounded retries"


def test_a_host_name_that_does_not_resolve(suite_run, tmp_path):
    run = suite_run(tmp_path / "r", "--endpoint-url=http://s3cors-no-such-host.invalid:9000", "--request-timeout=5")
    _unusable(run, "s3cors-no-such-host.invalid", "does not resolve")


def test_nothing_listening(suite_run, tmp_path):
    run = suite_run(tmp_path / "r", "--endpoint-url=http://127.0.0.1:9", "--request-timeout=2")
    _unusable(run, "Is the server running", "127.0.0.1:9")


@pytest.mark.parametrize("args, says", [
    (["--endpoint-url=127.0.0.1:9000"], "--endpoint-url"),
    (["--endpoint-url=http://127.0.0.1:9000?x=1"], "must not have a query"),
    (["--request-timeout=0"], "--request-timeout"),
    (["--request-timeout=nan"], "--request-timeout"),
    (["--propagation-timeout=-1"], "--propagation-timeout"),
    (["--fuzz-examples=-3"], "--fuzz-examples"),
    (["--fuzz-seed=abc"], "--fuzz-seed"),
    (["--account-id=12"], "--account-id"),
    (["--case=NOPE-*"], "--case NOPE-*"),
    (["--expectations=/nonexistent/x.toml"], "/nonexistent/x.toml"),
    (["--ca-bundle=/nonexistent/ca.pem"], "--ca-bundle"),
])
def test_invalid_option_values_are_one_line(suite_run, tmp_path, args, says):
    run = suite_run(tmp_path / "r", *args)
    assert run.returncode == 4, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and says in errors[0], run.output[-3000:]
