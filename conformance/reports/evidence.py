"""Evidence as plain text: one exchange's redacted request and response, and one case's whole record.

Shared by every report that shows evidence (the HTML report, Allure steps, the certification bundle)."""

from __future__ import annotations

import json
from typing import Any


def exchange_text(exchange: dict[str, Any]) -> tuple[str, str]:
    """The redacted request and response of one exchange as plain text."""
    request = [f"{exchange['method']} {exchange['url']}"]
    request += [f"{k}: {v}" for k, v in exchange.get("request_headers") or []]
    if exchange.get("request_body"):
        request += ["", exchange["request_body"]]
    if exchange.get("error"):
        response = [f"(no response: {exchange['error']})"]
    else:
        response = [f"HTTP {exchange.get('status')}"]
        response += [f"{k}: {v}" for k, v in exchange.get("response_headers") or []]
        if exchange.get("response_body"):
            response += ["", exchange["response_body"]]
    return "\n".join(request), "\n".join(response)


def case_text(record: dict[str, Any]) -> str:
    """One case's record of results.json as text: requirement, outcome, checks, observations, exchanges."""
    lines = [f"{record['id']} [{record['level']}] {record.get('title', '')}", f"source: {record.get('source', '')}",
             f"outcome: {record['outcome']}", f"reason: {record.get('reason') or '-'}", "", "checks:"]
    lines += [f"  {'ok  ' if c.get('ok') else 'MISS'} [{c.get('level')}] {c.get('what')}: expected "
              f"{json.dumps(c.get('expected'), ensure_ascii=False)}, got {json.dumps(c.get('actual'), ensure_ascii=False)}"
              for c in record.get("checks") or []] or ["  (none)"]
    if record.get("observations"):
        lines += ["", "observations:", json.dumps(record["observations"], indent=1, ensure_ascii=False)]
    for n, exchange in enumerate(record.get("exchanges") or [], 1):
        request, response = exchange_text(exchange)
        lines += ["", f"--- exchange {n} {exchange.get('note') or ''}".rstrip(), request, "", response]
    return "\n".join(lines) + "\n"
