"""PutBucketCors request bodies written by hand, so that the server (not boto3) judges what is valid."""

from __future__ import annotations

from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
# boto3 member name -> XML element name (lists are flattened: one element per value).
_ELEMENTS = (("ID", "ID"), ("AllowedHeaders", "AllowedHeader"), ("AllowedMethods", "AllowedMethod"),
             ("AllowedOrigins", "AllowedOrigin"), ("ExposeHeaders", "ExposeHeader"),
             ("MaxAgeSeconds", "MaxAgeSeconds"))


def rule_xml(rule: Mapping[str, Any]) -> str:
    """One <CORSRule>; members may be missing or hold any value (nothing is validated here)."""
    parts = []
    for member, element in _ELEMENTS:
        if member not in rule:
            continue
        values = rule[member] if isinstance(rule[member], (list, tuple)) else [rule[member]]
        parts.extend(f"<{element}>{escape(str(v))}</{element}>" for v in values)
    return "<CORSRule>" + "".join(parts) + "</CORSRule>"


def cors_xml(rules: Sequence[Mapping[str, Any]], *, xmlns: bool = True) -> str:
    """A whole <CORSConfiguration> document."""
    ns = f' xmlns="{S3_XMLNS}"' if xmlns else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><CORSConfiguration{ns}>' + \
        "".join(rule_xml(r) for r in rules) + "</CORSConfiguration>"


def rules_of_count(count: int) -> list[dict[str, Any]]:
    """count distinct, valid rules."""
    return [{"AllowedOrigins": [f"https://o{i:03d}.example.com"], "AllowedMethods": ["GET"]} for i in range(count)]


def document_of_size(size: int) -> tuple[str, list[dict[str, Any]]]:
    """A valid document of exactly size bytes (UTF-8) and its rules: short origins, 20 per rule, so that
    size is the only limit it can hit (it stays far below 100 rules)."""
    rules: list[dict[str, Any]] = []
    n = 0
    length = len(cors_xml([]).encode())  # kept as the document grows (ASCII only), not serialised each time
    while True:
        if not rules or len(rules[-1]["AllowedOrigins"]) == 20:
            rules.append({"AllowedOrigins": [], "AllowedMethods": ["GET"]})
            length += len(rule_xml({"AllowedMethods": ["GET"]}))
        origin = f"https://o{n:05d}.example.com"
        rules[-1]["AllowedOrigins"].append(origin)
        length += len(f"<AllowedOrigin>{origin}</AllowedOrigin>")
        n += 1
        if length > size - 150:
            break
    missing = size - len(cors_xml(rules).encode())
    last = rules[-1]["AllowedOrigins"]
    last[-1] = "https://" + "p" * missing + last[-1][len("https://"):]
    body = cors_xml(rules)
    assert len(body.encode()) == size and len(rules) < 100
    return body, rules
