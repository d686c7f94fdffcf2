"""Origins a server might be tempted to trust for itself (its own host, loopback pages, sandboxed pages, its
vendor's web console): on a bucket whose configuration does not list them, none of them may be allowed."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.behaviour.checks import Check
from conformance.target.http import Response
from conformance.target.profiles import Target

# Ports a local development page typically runs on, besides the endpoint's own.
DEV_PORTS = (3000, 8080)


def endpoint_origin(endpoint_url: str) -> str:
    """scheme://host[:port] of the endpoint URL, as a browser would write a page's origin on that host."""
    parts = urlsplit(endpoint_url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def privileged_origins(target: Target) -> list[str]:
    """Every origin the privileged-origin cases try against the target, without duplicates, in a stable order."""
    assert target.endpoint_url, "the target must be started first"
    parts = urlsplit(target.endpoint_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = [endpoint_origin(target.endpoint_url), "null"]
    for host in ("localhost", "127.0.0.1"):
        found += [f"http://{host}:{p}" for p in (port, *DEV_PORTS)] + [f"http://{host}"]
    found += [origin.replace("{port}", str(port)) for origin in target.console_origins]
    return list(dict.fromkeys(found))


def check_not_granted(check: Check, resp: Response, what: str) -> None:
    """An answer to a privileged origin grants nothing: no Allow-Origin or Allow-Credentials (what a browser needs
    to let the page read it), and no Allow-Methods (SHOULD: it grants nothing alone, but advertises access)."""
    acao, acac = resp.header("Access-Control-Allow-Origin"), resp.header("Access-Control-Allow-Credentials")
    check.must(acao is None and acac is None, f"{what}: no Access-Control-Allow-Origin / -Credentials",
               "none", f"{resp.status}: Allow-Origin {acao!r}, Allow-Credentials {acac!r}")
    acam = resp.header("Access-Control-Allow-Methods")
    check.should(acam is None, f"{what}: no Access-Control-Allow-Methods", None, f"{resp.status}: {acam!r}")
