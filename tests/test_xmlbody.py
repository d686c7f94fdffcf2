"""Hand-written PutBucketCors bodies: exact document sizes, escaping, rule counts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.behaviour.xmlbody import S3_XMLNS, cors_xml, document_of_size, rule_xml, rules_of_count

NS = {"s3": S3_XMLNS}
SMALLEST = len(cors_xml([{"AllowedOrigins": ["https://o00000.example.com"], "AllowedMethods": ["GET"]}]).encode())


def parsed_rules(body: str) -> list[dict[str, list[str]]]:
    """Each <CORSRule> as {element name: [texts]}."""
    root = ET.fromstring(body.encode())
    assert root.tag == f"{{{S3_XMLNS}}}CORSConfiguration"
    rules = []
    for rule in root.findall("s3:CORSRule", NS):
        members: dict[str, list[str]] = {}
        for child in rule:
            members.setdefault(child.tag.removeprefix(f"{{{S3_XMLNS}}}"), []).append(child.text or "")
        rules.append(members)
    return rules


def assert_exact_document(size: int) -> None:
    body, rules = document_of_size(size)
    assert len(body.encode("utf-8")) == size
    assert body == cors_xml(rules)
    assert 1 <= len(rules) < 100
    parsed = parsed_rules(body)
    assert len(parsed) == len(rules)
    origins = [o for r in parsed for o in r["AllowedOrigin"]]
    assert all(len(r["AllowedOrigin"]) <= 20 and r["AllowedMethod"] == ["GET"] for r in parsed)
    assert all(o.startswith("https://") and o.endswith(".example.com") for o in origins)
    assert len(set(origins)) == len(origins)


@pytest.mark.parametrize("size", [
    pytest.param(SMALLEST, id="smallest"), pytest.param(1000, id="1000"), pytest.param(63000, id="63000-VAL-LIM-003"),
    pytest.param(64 * 1024, id="65536"), pytest.param(66560, id="66560-VAL-LIM-004"), pytest.param(100000, id="100000"),
])
def test_document_of_size_is_exact(size):
    assert_exact_document(size)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=SMALLEST, max_value=20000))
def test_document_of_size_is_exact_for_any_size(size):
    assert_exact_document(size)


def test_cors_xml_escapes_markup():
    body = cors_xml([{"ID": "a&b<c>", "AllowedOrigins": ["https://x.example/?a=1&b=<2>"], "AllowedMethods": ["GET"],
                      "AllowedHeaders": ["x-\"q\"'"]}])
    assert "a&amp;b&lt;c&gt;" in body and "&b=<2>" not in body
    rule = parsed_rules(body)[0]
    assert rule["ID"] == ["a&b<c>"] and rule["AllowedOrigin"] == ["https://x.example/?a=1&b=<2>"]
    assert rule["AllowedHeader"] == ["x-\"q\"'"]


def test_rule_xml_order_lists_and_missing_members():
    rule = {"MaxAgeSeconds": 3000, "AllowedOrigins": ["https://a", "https://b"], "AllowedMethods": "PUT",
            "ExposeHeaders": [], "ID": "r1"}
    assert rule_xml(rule) == ("<CORSRule><ID>r1</ID><AllowedMethod>PUT</AllowedMethod>"
                              "<AllowedOrigin>https://a</AllowedOrigin><AllowedOrigin>https://b</AllowedOrigin>"
                              "<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>")
    assert rule_xml({}) == "<CORSRule></CORSRule>"


def test_cors_xml_namespace_switch():
    assert f'<CORSConfiguration xmlns="{S3_XMLNS}">' in cors_xml([])
    bare = cors_xml([], xmlns=False)
    assert bare.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<CORSConfiguration>" in bare
    assert ET.fromstring(bare.encode()).tag == "CORSConfiguration"


@pytest.mark.parametrize("count", [pytest.param(n, id=str(n)) for n in (0, 1, 100, 101)])
def test_rules_of_count(count):
    rules = rules_of_count(count)
    assert len(rules) == count
    assert len({r["AllowedOrigins"][0] for r in rules}) == count
    assert all(r["AllowedMethods"] == ["GET"] and len(r["AllowedOrigins"]) == 1 for r in rules)
    assert len(parsed_rules(cors_xml(rules))) == count
