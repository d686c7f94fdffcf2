"""Redaction of credentials and signatures: headers, URLs and free text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conformance.target.redact import REDACTED, Redactor

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDH+token/with=chars"
SIG = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
SIGV4 = (f"AWS4-HMAC-SHA256 Credential={AK}/20240101/us-east-1/s3/aws4_request, "
         f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={SIG}")


def test_sigv4_authorization_keeps_its_shape():
    out = Redactor().header("Authorization", SIGV4)
    assert out == (f"AWS4-HMAC-SHA256 Credential={REDACTED}/20240101/us-east-1/s3/aws4_request, "
                   f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={REDACTED}")
    assert AK not in out and SIG not in out


def test_sigv2_authorization():
    out = Redactor().header("authorization", f"AWS {AK}:frJIUN8DYpKDtOLCwo//yllqDzg=")
    assert out == f"AWS {REDACTED}:{REDACTED}"


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in
                                  ("X-Amz-Security-Token", "x-amz-security-token", "Cookie", "Proxy-Authorization")])
def test_secret_headers_are_replaced_whole(name):
    assert Redactor().header(name, TOKEN) == REDACTED


def test_other_headers_lose_only_known_secrets():
    r = Redactor([AK])
    assert r.header("Origin", "https://a.example") == "https://a.example"
    assert r.header("X-Debug", f"key={AK};") == f"key={REDACTED};"


def test_header_lists_keep_duplicates_and_order():
    items = [("Vary", "Origin"), ("Authorization", SIGV4), ("Vary", "Access-Control-Request-Method"),
             ("X-Amz-Security-Token", TOKEN), ("Content-Length", 0)]
    out = Redactor().headers(items)
    assert [k for k, _ in out] == ["Vary", "Authorization", "Vary", "X-Amz-Security-Token", "Content-Length"]
    assert out[0] == ["Vary", "Origin"] and out[2] == ["Vary", "Access-Control-Request-Method"]
    assert out[3] == ["X-Amz-Security-Token", REDACTED] and out[4] == ["Content-Length", "0"]
    assert Redactor().headers({"B": "1", "A": "2"}) == [["B", "1"], ["A", "2"]]


PRESIGNED_V4 = ("https://s3.example.com/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                f"&X-Amz-Credential={AK}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z"
                f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=abc%2Bdef&X-Amz-Signature={SIG}")


def test_presigned_v4_url():
    out = Redactor().url(PRESIGNED_V4)
    assert out == ("https://s3.example.com/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   f"&X-Amz-Credential={REDACTED}&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600"
                   f"&X-Amz-SignedHeaders=host&X-Amz-Security-Token={REDACTED}&X-Amz-Signature={REDACTED}")


def test_presigned_v2_url():
    out = Redactor().url(f"http://h:9000/b/k?AWSAccessKeyId={AK}&Expires=1700000000&Signature=abc%2Bdef%3D")
    assert out == f"http://h:9000/b/k?AWSAccessKeyId={REDACTED}&Expires=1700000000&Signature={REDACTED}"


def test_query_parameter_names_are_matched_without_case():
    assert Redactor().url(f"http://h/b?x-amz-signature={SIG}") == f"http://h/b?x-amz-signature={REDACTED}"


@pytest.mark.parametrize("url", [
    pytest.param("http://h:9000/bucket?cors", id="cors"),
    pytest.param("http://h:9000/bucket?cors&versionId=a%2Bb", id="cors-and-param"),
    pytest.param("https://h/b/k?response-content-type=text%2Fplain&prefix=a+b", id="encoded-values"),
    pytest.param("http://h/", id="no-query"),
])
def test_urls_without_secrets_stay_as_they_were(url):
    assert Redactor().url(url) == url


def test_presigned_url_keeps_a_bare_cors_parameter():
    out = Redactor().url(f"http://h:9000/bucket?cors&X-Amz-Signature={SIG}")
    assert out == f"http://h:9000/bucket?cors&X-Amz-Signature={REDACTED}"


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("http://user:pass@h:9000/b", "http://h:9000/b", id="user-and-password"),
    pytest.param("https://user@h/b?cors", "https://h/b?cors", id="user-only"),
])
def test_userinfo_is_removed(url, expected):
    assert Redactor().url(url) == expected


def test_userinfo_is_removed_from_an_ipv6_url():
    assert Redactor().url("http://u:p@[::1]:9000/b") == "http://[::1]:9000/b"


def test_text_removes_known_secrets_longest_first():
    r = Redactor([AK, "AKIA", None, "", "abc"])
    assert r.text(f"key {AK} and AKIA-prefix") == f"key {REDACTED} and {REDACTED}-prefix"
    assert r.text("abc stays: too short to be a secret") == "abc stays: too short to be a secret"
    assert Redactor([SK, TOKEN]).text(f"<{SK}>{TOKEN}") == f"<{REDACTED}>{REDACTED}"


def test_known_secrets_are_removed_from_headers_and_urls():
    r = Redactor([SK])
    assert SK not in r.header("Authorization", f"Custom {SK}")
    assert SK not in r.url(f"http://h/b/{SK}")


@pytest.mark.xfail(reason="BUG (minor): a secret that is a substring of the marker '<redacted>' (e.g. 'acte') is "
                          "'replaced' by text that still contains it", strict=True)
def test_secret_inside_the_marker():
    assert "acte" not in Redactor(["acte"]).text("x acte y")


_SECRET = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
                  min_size=4, max_size=12).filter(lambda s: s not in REDACTED)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SECRET, min_size=1, max_size=4), st.lists(st.text(max_size=8), min_size=1, max_size=6),
       st.data())
def test_text_never_contains_a_secret(secrets, fillers, data):
    pieces = []
    for filler in fillers:
        pieces += [filler, data.draw(st.sampled_from(secrets))]
    out = Redactor(secrets).text("".join(pieces))
    assert not any(s in out for s in secrets)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_text_without_secrets_is_unchanged(text):
    assume("AKIA" not in text)
    assert Redactor(["AKIA"]).text(text) == text


def test_a_servers_log_keeps_no_signature_or_key(tmp_path):
    """A started server logs the presigned URLs and Authorization values it was sent; its log is kept under
    reports/ only redacted (local_servers.redact_log, when the server stops)."""
    from conformance.target.local_servers import redact_log

    log = tmp_path / "server.log"
    log.write_text(
        '127.0.0.1 - - "GET /b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE/20261130/us-east-1/s3/'
        'aws4_request&X-Amz-Date=20261130T013054Z&X-Amz-SignedHeaders=host&X-Amz-Signature=3904e82c0742147836cba2'
        '26daa83da155610c7f33d15475b83fe574889cbad4 HTTP/1.1" 200 -\n'
        "info: /b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=Q8r%2Bacb7PKkTJ4rklB&Expires=1795996280 200\n"
        "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    redact_log(log)
    text = log.read_text(encoding="utf-8")
    assert "AKIDEXAMPLE" not in text and "3904e82c" not in text and "Q8r%2B" not in text and "0123456789abcdef" not in text
    assert "X-Amz-Date=20261130T013054Z" in text and "Expires=1795996280" in text  # what is no secret stays
    assert text.count("<redacted>") == 6  # two on each line
    redact_log(tmp_path / "missing.log")  # no log: nothing to do
