"""Remote HTTPS endpoints: a real TLS front on 127.0.0.1 over moto, with certificates made at test time. Each TLS
failure ends in one line naming the problem and the option that fixes it, exit 6, no traceback and nothing left
in the journal; the right --ca-bundle makes the run work."""

from __future__ import annotations

import re

import pytest

from suiterun import MotoServer
from tlsfront import Certificates, TLSFront

EXIT_TARGET_UNUSABLE = 6


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


def _one_line_unusable(run, *fragments: str) -> None:
    out = run.output
    assert run.returncode == EXIT_TARGET_UNUSABLE, out[-3000:]
    assert "Traceback" not in out and "INTERNALERROR" not in out, out[-3000:]
    assert run.results is None, "no case ran: no results.json"
    # pytest shows the message of its exit twice (stdout and stderr), never more
    lines = {re.sub(r"^(_pytest\.outcomes\.)?Exit: ", "", line.strip("! "))
             for line in out.splitlines() if "unusable" in line and "S3 CORS conformance" not in line}
    assert len(lines) == 1, out[-3000:]
    lines = sorted(lines)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    journal = run.reports / ".journal"
    assert not (journal.is_dir() and list(journal.glob("*.log"))), "a stale journal was left"


@pytest.mark.parametrize("which, says, fix", [
    ("self_signed", "not trusted", "--ca-bundle=PATH"),
    ("wrong_host", "another host name", "--no-verify-tls"),
    ("expired", "has expired", "--no-verify-tls"),
])
def test_a_certificate_the_bundle_does_not_accept(suite_run, tmp_path, certs, moto, which, says, fix):
    with TLSFront(getattr(certs, which), moto.url) as front:
        run = suite_run(tmp_path / "r", f"--endpoint-url={front.url}", f"--ca-bundle={certs.bundle}",
                        "--request-timeout=5")
    _one_line_unusable(run, says, fix, front.url)


def test_a_ca_signed_certificate_without_its_bundle_is_untrusted(suite_run, tmp_path, certs, moto):
    with TLSFront(certs.signed, moto.url) as front:
        run = suite_run(tmp_path / "r", f"--endpoint-url={front.url}", "--request-timeout=5")
    _one_line_unusable(run, "not trusted", "--ca-bundle=PATH", "--no-verify-tls")


def test_https_url_on_a_plain_http_port(suite_run, tmp_path, moto):
    url = moto.url.replace("http://", "https://")
    run = suite_run(tmp_path / "r", f"--endpoint-url={url}", "--request-timeout=5")
    _one_line_unusable(run, "plain HTTP", "http://")


def test_http_url_on_a_tls_port(suite_run, tmp_path, certs, moto):
    with TLSFront(certs.signed, moto.url) as front:
        url = front.url.replace("https://", "http://")
        run = suite_run(tmp_path / "r", f"--endpoint-url={url}", "--request-timeout=5")
    _one_line_unusable(run, "answers HTTPS", "https://")


def test_the_right_ca_bundle_makes_the_run_work(suite_run, tmp_path, certs, moto):
    with TLSFront(certs.signed, moto.url) as front:
        # the space form on purpose: a file outside the project given after a space works too
        run = suite_run(tmp_path / "r", "--endpoint-url", front.url, "--ca-bundle", str(certs.bundle),
                        "--expectations=moto", "--case=CFG-*", "--case=PRE-*")
    assert run.returncode == 0, run.output[-3000:]
    outcomes = {c["outcome"] for c in run.cases.values()}
    assert run.cases and outcomes <= {"pass", "info", "expected-fail", "non-strict"}, outcomes
    assert run.results["target"]["verify_tls"] == f"ca_bundle={certs.bundle}"


def test_no_verify_tls_accepts_a_self_signed_certificate(suite_run, tmp_path, certs, moto):
    with TLSFront(certs.self_signed, moto.url) as front:
        run = suite_run(tmp_path / "r", f"--endpoint-url={front.url}", "--no-verify-tls", "--expectations=moto",
                        "--case=CFG-GET-*")
    assert run.returncode == 0, run.output[-3000:]
    assert run.cases
