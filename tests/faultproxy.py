"""A small HTTP fault-injection proxy on 127.0.0.1, for the suite's own fault tests.

It sits in front of a real S3 server (moto, s3rver...) and, for each HTTP request it receives, draws from a
seeded random.Random whether to

* ``reset``: drop the connection with a TCP RST (SO_LINGER 0) without forwarding the request,
* ``http503``: answer ``503 SlowDown`` itself (an S3 error document) without forwarding the request,
* ``http500``: answer ``500 InternalError`` itself (a server that crashes on the request: a verdict, not silence),
* ``stall``: forward nothing and answer nothing until the client gives up (its timeout),
* ``delay``: wait ``delay_s`` seconds, then forward the request normally,
* or forward the request untouched.

Faults that stop a request are always injected *before* the server sees it, so a retry is never a second
delivery: a correct client that retries gets exactly the answer a clean run gets. Everything else (request
and response bytes, header order and duplicates, keep-alive) passes through verbatim.

``counts`` says what was injected; ``requests`` how many requests came in. Usage::

    with FaultProxy("http://127.0.0.1:5000", seed=7, reset=0.05, http503=0.05, delay=0.05) as proxy:
        ... proxy.url ...
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from typing import Callable
from urllib.parse import urlsplit

FAULTS = ("reset", "http503", "http500", "stall", "delay")
_SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
             b"<Message>Please reduce your request rate. (injected by faultproxy)</Message></Error>")
_INTERNAL = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
             b"<Message>We encountered an internal error. (injected by faultproxy)</Message></Error>")
_CANNED = {"http503": (b"503 Slow Down", _SLOWDOWN), "http500": (b"500 Internal Server Error", _INTERNAL)}


class _Closed(Exception):
    """The peer closed the connection."""


class _Reader:
    """Buffered reads from a socket: lines and exact byte counts, keeping the raw bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise _Closed()
        self.buf += data

    def line(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise _Closed()
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def rest(self) -> bytes:
        """Everything until the peer closes."""
        try:
            while True:
                self._fill()
        except (_Closed, OSError):
            pass
        data, self.buf = self.buf, b""
        return data


def _read_head(reader: _Reader) -> tuple[bytes, list[tuple[str, str]]]:
    """A start line and header block; (raw bytes, [(name, value)])."""
    first = reader.line()
    while first in (b"\r\n", b"\n"):  # tolerate stray blank lines between messages
        first = reader.line()
    raw = [first]
    headers = []
    while True:
        line = reader.line()
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return b"".join(raw), headers


def _read_body(reader: _Reader, headers: list[tuple[str, str]], *, until_close: bool) -> bytes:
    """The body bytes, raw (chunked framing kept)."""
    names = dict(headers)
    if "chunked" in names.get("transfer-encoding", "").lower():
        out = []
        while True:
            size_line = reader.line()
            out.append(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = reader.line()
                    out.append(trailer)
                    if trailer in (b"\r\n", b"\n"):
                        return b"".join(out)
            out.append(reader.exact(size + 2))
    if "content-length" in names:
        return reader.exact(int(names["content-length"]))
    return reader.rest() if until_close else b""


class FaultProxy:
    """A threaded HTTP/1.1 proxy to one upstream, injecting faults at fixed rates with a fixed seed."""

    def __init__(self, upstream: str, *, seed: int = 0, reset: float = 0.0, http503: float = 0.0,
                 http500: float = 0.0, stall: float = 0.0, delay: float = 0.0, delay_s: float = 0.2, skip_first: int = 0,
                 only: Callable[[bytes], bool] | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rates = {"reset": reset, "http503": http503, "http500": http500, "stall": stall, "delay": delay}
        assert sum(self.rates.values()) <= 1.0
        self.delay_s = delay_s
        self.skip_first = skip_first  # requests forwarded untouched before faults start
        self.only = only  # if given, only requests whose start line and headers it accepts get faults
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.enabled = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._socks: set[socket.socket] = set()

    # ---- life cycle --------------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        t = threading.Thread(target=self._accept, name="faultproxy-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- decisions ---------------------------------------------------------------------------------------
    def _decide(self, head: bytes) -> str | None:
        with self._lock:
            self.requests += 1
            if not self.enabled or self.requests <= self.skip_first or (self.only and not self.only(head)):
                return None
            x = self.rng.random()
            for fault in FAULTS:
                rate = self.rates[fault]
                if x < rate:
                    self.counts[fault] += 1
                    return fault
                x -= rate
            return None

    # ---- connections -------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), name="faultproxy-conn", daemon=True)
            t.start()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._socks.add if add else self._socks.discard)(sock)

    def _serve(self, client: socket.socket) -> None:
        self._track(client, True)
        upstream: socket.socket | None = None
        up_reader: _Reader | None = None
        reader = _Reader(client)
        try:
            while not self._stop.is_set():
                head, headers = _read_head(reader)
                method = head.split(b" ", 1)[0].upper()
                fault = self._decide(head)
                if fault == "reset":
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                # Expect: 100-continue (boto3's PutObject): the proxy says Continue itself and forwards the
                # request without the expectation, so no interim answer has to be relayed.
                expect = "100-continue" in dict(headers).get("expect", "").lower()
                if fault in _CANNED:
                    status, body = _CANNED[fault]
                    client.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\n"
                                   + (b"Connection: close\r\n" if expect else b"")
                                   + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                    if expect:  # the body may or may not follow: end the connection
                        return
                    _read_body(reader, headers, until_close=False)
                    continue
                if expect:
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    head = b"".join(line + b"\n" for line in head.split(b"\n")[:-1]
                                    if not line.lower().startswith(b"expect:"))
                body = _read_body(reader, headers, until_close=False)
                if fault == "stall":  # until the client times out and closes
                    client.settimeout(60)
                    reader.rest()
                    return
                if fault == "delay":
                    time.sleep(self.delay_s)
                if upstream is None:
                    upstream = socket.create_connection(self.upstream, timeout=120)
                    self._track(upstream, True)
                    up_reader = _Reader(upstream)
                upstream.sendall(head + body)
                resp_head, resp_headers = _read_head(up_reader)
                status = int(resp_head.split(b" ", 2)[1])
                while 100 <= status < 200:  # interim answers: not relayed (see Expect above)
                    resp_head, resp_headers = _read_head(up_reader)
                    status = int(resp_head.split(b" ", 2)[1])
                no_body = method == b"HEAD" or status in (204, 304) or 100 <= status < 200
                resp_body = b"" if no_body else _read_body(up_reader, resp_headers, until_close=True)
                client.sendall(resp_head + resp_body)
                closing = dict(resp_headers).get("connection", "").lower() == "close" or (
                    not no_body and "content-length" not in dict(resp_headers)
                    and "chunked" not in dict(resp_headers).get("transfer-encoding", "").lower())
                if closing:
                    return
        except (_Closed, OSError, ValueError, IndexError):
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    self._track(s, False)
                    try:
                        s.close()
                    except OSError:
                        pass

    def summary(self) -> str:
        injected = ", ".join(f"{self.counts[f]} {f}" for f in FAULTS if self.counts[f]) or "none"
        return f"{self.requests} requests, injected: {injected}"
