"""The evidence of a run: every HTTP exchange of the running case, redacted, in call order, and the request count
(boto3's attempts come in through botocore's event hooks, raw requests through add())."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence, TypeVar

from conformance.target import inflight
from conformance.target.redact import Redactor

BODY_EXCERPT = 2000
T = TypeVar("T")


def _excerpt(body: bytes | str | None) -> str | None:
    if body is None or body == b"" or body == "":
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if len(text) > BODY_EXCERPT:
        return f"{text[:BODY_EXCERPT]}... [{len(text)} characters in all]"
    return text


@dataclass
class Line:
    """What a case running ahead recorded (Recorder.line): its kept exchanges and its request count."""

    exchanges: list[dict] = field(default_factory=list)
    requests: int = 0


class Recorder:
    """Keeps the exchanges of the case that is running, redacted, and counts every request made."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._current: list[dict] | None = None
        self._case_requests = 0  # requests of the case that runs (or ran last), trimmed evidence included
        self._line = threading.local()  # .exchanges, .requests: a case running ahead in this thread (line())
        self.on_exchange: Callable[[dict], None] | None = None  # e.g. an Allure step per exchange of a case
        self.total = 0
        self._count_lock = threading.Lock()  # requests are counted from every thread of a gather
        self._pending = threading.local()
        self._captures = threading.local()  # .lists: the capture() lists open in this thread
        self._apart = False  # in gather_apart: exchanges kept for another case are shown (on_exchange) there
        self._unrecorded = threading.local()  # .depth: inside unrecorded() in this thread

    def _in_line(self) -> bool:
        return getattr(self._line, "exchanges", None) is not None

    @property
    def current(self) -> list[dict] | None:
        """The exchange list of the case that is running (None between cases); in a line(), that line's."""
        return self._line.exchanges if self._in_line() else self._current

    @current.setter
    def current(self, exchanges: list[dict] | None) -> None:
        if exchanges is not None and exchanges is not self._current:
            self._case_requests = 0
        self._current = exchanges

    @property
    def case_requests(self) -> int:
        """Requests of the case that runs (or ran last), trimmed evidence included; in a line(), that line's."""
        return self._line.requests if self._in_line() else self._case_requests

    @case_requests.setter
    def case_requests(self, value: int) -> None:
        if self._in_line():
            self._line.requests = value
        else:
            self._case_requests = value

    @contextmanager
    def line(self) -> Iterator["Line"]:
        """Inside the block, this thread records a case of its own (one running ahead of pytest): its exchanges
        and request count go to the Line yielded, not to the case pytest runs; so do those of the calls it
        gathers (kept, in_order, in this thread)."""
        kept = Line()
        self._line.exchanges, self._line.requests = kept.exchanges, 0
        try:
            yield kept
        finally:
            kept.requests = self._line.requests
            self._line.exchanges, self._line.requests = None, 0

    def add(self, method: str, url: str, request_headers, request_body, *, status: int | None = None,
            response_headers=None, response_body=None, error: str | None = None, note: str = "",
            started: float | None = None) -> dict:
        """Record one exchange (one HTTP attempt); inside a gathered call it joins the case's evidence when the
        gather ends, in call order (see inflight.in_order)."""
        with self._count_lock:
            self.total += 1
        r = self.redactor
        exchange = {
            "method": method,
            "url": r.url(url),
            "request_headers": r.headers(request_headers or []),
            "request_body": r.text(_excerpt(request_body) or "") or None,
            "status": status,
            "response_headers": r.headers(response_headers or []),
            "response_body": r.text(_excerpt(response_body) or "") or None,
            "error": r.text(error) if error else None,
            "note": note,
            "ms": round((time.monotonic() - started) * 1000, 1) if started else None,
        }
        for captured in getattr(self._captures, "lists", ()):
            captured.append(exchange)
        inflight.in_order(lambda: self._keep(exchange))
        return exchange

    @contextmanager
    def capture(self) -> Iterator[list[dict]]:
        """The exchanges this thread records inside the block (also those the evidence does not keep), so that
        an engine can show later exactly the exchanges behind an answer it kept."""
        lists = self._captures.__dict__.setdefault("lists", [])
        captured: list[dict] = []
        lists.append(captured)
        try:
            yield captured
        finally:  # by identity: nested captures of the same exchanges are equal lists
            del lists[next(i for i, open_list in enumerate(lists) if open_list is captured)]

    @contextmanager
    def unrecorded(self) -> Iterator[None]:
        """Inside the block, the exchanges this thread keeps (those of the calls it gathers too) join no case's
        evidence; the run's total still counts them. For work that belongs to no case: removing together the
        buckets several cases are done with, whichever case's turn it happens in (with cases running ahead in
        threads, that is a matter of timing)."""
        self._unrecorded.depth = getattr(self._unrecorded, "depth", 0) + 1
        try:
            yield
        finally:
            self._unrecorded.depth -= 1

    def _keep(self, exchange: dict) -> None:
        """Append an exchange to the running case's evidence, numbered in the order kept."""
        if getattr(self._unrecorded, "depth", 0):
            return
        if self.current is not None:
            self.case_requests += 1
            exchange["seq"] = len(self.current) + 1
            self.current.append(exchange)
            if self.on_exchange is not None and not self._apart and not self._in_line():
                self.on_exchange(exchange)

    # botocore event handlers: one before-send and one response-received per attempt.
    def _before_send(self, request, **_):
        self._pending.request = (request, time.monotonic())

    def _response_received(self, response_dict, exception, context, event_name: str = "", **_):
        request, started = getattr(self._pending, "request", (None, None))
        self._pending.request = None
        if request is None:
            return
        op = (context.get("operation_name") if context else None) or event_name.rsplit(".", 1)[-1] or None
        body = request.body if isinstance(request.body, (bytes, str)) else None
        # botocore numbers the attempts of one call (its standard retries): a retry shows in the evidence.
        attempt = ((context or {}).get("retries") or {}).get("attempt") or 1
        self._pending.attempt = attempt
        note = f"boto3 {op or ''}".strip() + (f" (attempt {attempt})" if attempt > 1 else "")
        if response_dict is None:
            self.add(request.method, request.url, request.headers.items(), body,
                     error=f"{type(exception).__name__}: {exception}", note=note, started=started)
            return
        resp_body = response_dict.get("body")
        self.add(request.method, request.url, request.headers.items(), body,
                 status=response_dict.get("status_code"), response_headers=list(response_dict["headers"].items()),
                 response_body=resp_body if isinstance(resp_body, (bytes, str)) else None,
                 note=note, started=started)

    # Evidence of the running case: positions in its exchange list, so that an engine running many examples
    # (conformance/run/properties.py) can keep some of them without holding the list itself.
    def mark(self) -> int:
        """The position the next exchange of the running case will take (0 when no case is running)."""
        return len(self.current) if self.current is not None else 0

    def since(self, mark: int) -> list[dict]:
        """Copies of the running case's exchanges from mark on."""
        return [dict(x) for x in (self.current or [])[mark:]]

    def trim(self, since: int, keep: int) -> None:
        """Drop the running case's exchanges from position max(since, keep) on (the first `keep` stay)."""
        if self.current is not None and len(self.current) > max(since, keep):
            del self.current[max(since, keep):]

    def annotate(self, since: int, note: str) -> None:
        """Prefix the note of the running case's exchanges from since on with `note`."""
        for exchange in (self.current or [])[since:]:
            exchange["note"] = f"{note}: {exchange['note']}" if exchange.get("note") else note

    def restore(self, exchanges: list[dict], note: str | None, counted: bool = False, shown: bool = False) -> None:
        """Append exchanges kept earlier (see since, gather_apart, capture) to the running case's evidence,
        noted (unless note is None), renumbered; counted: they join the case's request count too (they were
        taken out of another's); shown: reported (on_exchange) although not counted here."""
        if self.current is None:
            return
        start = len(self.current)
        self.current.extend(dict(x) if note is None else
                            {**x, "note": f"{note}: {x.get('note', '')}" if x.get("note") else note}
                            for x in exchanges)
        for seq, exchange in enumerate(self.current, 1):
            exchange["seq"] = seq
        if counted:
            self.case_requests += len(exchanges)
        if self.on_exchange is not None and (counted or shown):  # shown where they count, not where they were sent
            for exchange in self.current[start:]:
                self.on_exchange(exchange)

    def gather_apart(self, calls: Sequence[Callable[[], T]]) -> list[tuple[T, list[dict]]]:
        """inflight.gather(calls), with each call's exchanges taken out of the running case's evidence (and its
        request count) and returned beside its result: work done ahead for other cases, whose evidence it is.
        If a call raises, the exchanges stay where they are, as evidence of the case that asked."""
        def apart(call: Callable[[], T]) -> Callable[[], tuple[T, list[int]]]:
            def run() -> tuple[T, list[int]]:
                bounds: list[int] = []
                inflight.in_order(lambda: bounds.append(self.mark()))
                result = call()
                inflight.in_order(lambda: bounds.append(self.mark()))
                return result, bounds
            return run

        self._apart, outer = True, self._apart
        try:
            done = inflight.gather([apart(call) for call in calls])
        finally:
            self._apart = outer
        if self.current is None or not done or any(len(bounds) != 2 for _, bounds in done):
            return [(result, []) for result, _ in done]  # no case, or inside another gather: left in place
        first, last = done[0][1][0], done[-1][1][1]
        out = [(result, [dict(x) for x in self.current[start:end]]) for result, (start, end) in done]
        del self.current[first:last]
        self.case_requests -= last - first
        return out

    def last_attempts(self) -> int:
        """How many attempts the last boto3 call of this thread made (its retries included)."""
        return getattr(self._pending, "attempt", None) or 1
