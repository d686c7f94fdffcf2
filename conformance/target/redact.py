"""Removal of credentials and signatures from anything the suite records or writes."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "<redacted>"

# Headers whose whole value is a credential.
_SECRET_HEADERS = {"x-amz-security-token", "cookie", "proxy-authorization"}
# Query parameters of presigned URLs (SigV4 and SigV2) that carry keys or signatures.
_SECRET_QUERY = {"x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "awsaccesskeyid"}

_SIGV4_CREDENTIAL = re.compile(r"(Credential=)([^/,\s]+)")
_SIGV4_SIGNATURE = re.compile(r"(Signature=)([0-9a-fA-F]+|[^,\s]+)")
_SIGV2 = re.compile(r"^(AWS\s+)([^:\s]+):(\S+)$")
# In free text (a server's log): a presigned URL's secret parameters, and an Authorization value's key and signature.
_QUERY_IN_TEXT = re.compile(r"(?i)(?<![\w-])(" + "|".join(sorted(_SECRET_QUERY)) + r")=([^&\s\"'<>]+)")
_AUTH_IN_TEXT = re.compile(r"(?<![\w-])(Credential=)([^/,\s<]+)|(?<![\w-])(Signature=)([0-9a-fA-F]{16,})")


def _text(value) -> str:
    # botocore keeps some header values (Authorization) as bytes.
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class Redactor:
    """Knows the run's secret values and removes them, and every signature, from text and exchanges."""

    def __init__(self, secrets: list[str | None] | None = None) -> None:
        # Longest first so that a secret containing another is removed whole.
        self._secrets = sorted({s for s in (secrets or []) if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secrets: list[str | None]) -> None:
        """Learn more secret values (e.g. credentials a started server made)."""
        known = set(self._secrets) | {s for s in secrets if s and len(s) >= 4}
        self._secrets = sorted(known, key=len, reverse=True)

    def text(self, value: str) -> str:
        """Return value with every known secret replaced."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def authorization(self, value: str) -> str:
        """Keep the shape of an Authorization header (scope, signed headers) but not key or signature."""
        value = _SIGV4_CREDENTIAL.sub(lambda m: m.group(1) + REDACTED, value)
        value = _SIGV4_SIGNATURE.sub(lambda m: m.group(1) + REDACTED, value)
        value = _SIGV2.sub(lambda m: f"{m.group(1)}{REDACTED}:{REDACTED}", value)
        return self.text(value)

    def log(self, value: str) -> str:
        """Redact free text another program wrote (a started server's log): the secret parameters of every
        presigned URL in it, the key and signature of every Authorization value, and every known secret."""
        value = _QUERY_IN_TEXT.sub(lambda m: f"{m.group(1)}={REDACTED}", value)
        value = _AUTH_IN_TEXT.sub(lambda m: (m.group(1) or m.group(3)) + REDACTED, value)
        return self.text(value)

    def header(self, name: str, value: str) -> str:
        """Redact one header value."""
        lname = name.lower()
        if lname == "authorization":
            return self.authorization(value)
        if lname in _SECRET_HEADERS:
            return REDACTED
        return self.text(value)

    def headers(self, items) -> list[list[str]]:
        """Redact a header list or mapping, keeping duplicates and order."""
        pairs = items.items() if hasattr(items, "items") else items
        return [[_text(k), self.header(_text(k), _text(v))] for k, v in pairs]

    def url(self, url: str) -> str:
        """Remove signatures and credentials from a URL's query string and user info; all else stays as is."""
        parts = urlsplit(url)
        if parts.query:
            items = []
            for item in parts.query.split("&"):
                name, eq, _ = item.partition("=")
                items.append(f"{name}={REDACTED}" if eq and unquote(name).lower() in _SECRET_QUERY else item)
            parts = parts._replace(query="&".join(items))
        if "@" in parts.netloc:
            parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
        return self.text(urlunsplit(parts))
