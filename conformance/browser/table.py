"""Rows of fixtures/cases/browser.toml as requests and rules: origin placeholders, the Fetch request, and the
browser verdict the model leads to (what tests/test_browser_model.py compares with every row)."""

from __future__ import annotations

from typing import Any

from conformance.behaviour import model
from conformance.behaviour.tables import Case
from conformance.browser.fetch import BrowserRequest, BrowserVerdict, expected_verdict

PAGE_ORIGIN, OTHER_ORIGIN = "{page_origin}", "{other_origin}"
EXPECT_KEYS = ("browser", "preflight", "stage", "readable")


def substitute(rules: list[dict], page_origin: str, other_origin: str) -> list[dict]:
    """The table's rules with the page origins filled in."""
    def origin(value: str) -> str:
        return value.replace(PAGE_ORIGIN, page_origin).replace(OTHER_ORIGIN, other_origin)

    return [{**r, "AllowedOrigins": [origin(o) for o in r["AllowedOrigins"]]} for r in rules]


def page_rules(case: Case, page_origin: str, other_origin: str) -> list[model.Rule] | None:
    """The case's configuration as model rules (None: no configuration)."""
    rules = substitute(case.setup.get("rules", []), page_origin, other_origin)
    return [model.Rule.from_boto(r) for r in rules] if rules else None


def browser_request(case: Case, page_origin: str, other_origin: str) -> BrowserRequest:
    """The request the page makes, from the origin the row names."""
    send = case.send
    return BrowserRequest(
        method=send["http"], origin=other_origin if send.get("from") == "other" else page_origin,
        headers=dict(send.get("headers", {})), include_credentials=send.get("credentials") == "include",
        read=tuple(send.get("read", ())))


def expected(case: Case, page_origin: str = "http://127.0.0.1:41001",
             other_origin: str = "http://127.0.0.1:41002") -> BrowserVerdict:
    """The browser verdict a conforming server leads to for this row."""
    return expected_verdict(page_rules(case, page_origin, other_origin),
                            browser_request(case, page_origin, other_origin))


def table_view(case: Case) -> dict[str, Any]:
    """The row's stated verdict in the shape of BrowserVerdict.public() (stage None when absent)."""
    e = case.expect
    return {"browser": e.get("browser"), "preflight": e.get("preflight"), "stage": e.get("stage"),
            "readable": list(e.get("readable", []))}


def model_view(verdict: BrowserVerdict) -> dict[str, Any]:
    """The derived verdict, in the same shape as table_view."""
    public = verdict.public()
    return {k: public[k] for k in EXPECT_KEYS}


def twin_request(case: Case) -> BrowserRequest:
    """The browser request an ACT browser-twin row (send.browser) makes at header level, from its fixed origin."""
    send, page = case.send, case.send["browser"]
    return BrowserRequest(method=send["http"], origin=send["origin"], headers=dict(page.get("headers", {})),
                          include_credentials=bool(page.get("credentials", False)), read=tuple(page.get("read", ())))


def twin_expected(case: Case) -> BrowserVerdict:
    """The browser verdict a conforming server leads to for an ACT browser-twin row."""
    rules = case.setup.get("rules", [])
    return expected_verdict([model.Rule.from_boto(r) for r in rules] if rules else None, twin_request(case))
