"""A loopback TCP proxy that holds every HTTP request a fixed time before forwarding it (bench/latency.py).

It stands for a far-away endpoint: each request head that arrives on the client->server stream is held
``delay_ms`` milliseconds, then forwarded; the body follows as it comes, and the server's answer is relayed
back untouched. The delay is per request, not per connection, so a keep-alive connection carrying several
requests pays it once for each of them, as a client pays one round trip per request to a remote server.

It listens on 127.0.0.1 only, one thread per direction of each connection. Usage::

    with LatencyProxy("127.0.0.1", 5000, delay_ms=25) as proxy:
        ... proxy.url ...            # http://127.0.0.1:PORT, forwarding to 127.0.0.1:5000
        proxy.requests               # how many request heads it has forwarded
"""

from __future__ import annotations

import socket
import threading

_MAX_HEAD = 1 << 20   # a request head larger than this is not HTTP we understand: relay the rest raw


class _Closed(Exception):
    """The peer closed the connection (or the proxy is stopping)."""


class _Reader:
    """Buffered reads from a socket, returning raw bytes so nothing is changed on the way."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise _Closed()
        self.buf += data

    def until(self, marker: bytes, limit: int) -> bytes:
        """Bytes up to and including marker (at most limit bytes before it is found)."""
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("no end of head")
            self._fill()
        end = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def some(self, at_most: int) -> bytes:
        """What is buffered or next arrives, at most at_most bytes (never empty)."""
        if not self.buf:
            self._fill()
        out, self.buf = self.buf[:at_most], self.buf[at_most:]
        return out


def _body_kind(head: bytes) -> tuple[str, int]:
    """How the request's body is framed: ('length', n), ('chunked', 0) or ('raw', 0) for what we cannot frame."""
    lines = head.split(b"\r\n")
    length, chunked, upgrade = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.endswith(b"chunked")
        elif name == b"upgrade":
            upgrade = True
    if upgrade or b"CONNECT" == lines[0].split(b" ", 1)[0]:
        return "raw", 0   # the connection stops being HTTP requests; no further heads to hold
    if chunked:
        return "chunked", 0
    return "length", length


class LatencyProxy:
    """Forward 127.0.0.1:port to a target host:port, holding each HTTP request head delay_ms before forwarding."""

    def __init__(self, target_host: str, target_port: int, delay_ms: float) -> None:
        self.target = (target_host, target_port)
        self.delay_s = delay_ms / 1000.0
        self.requests = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))   # loopback only, a free port
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "LatencyProxy":
        """Start accepting connections in a background thread."""
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Close the listener and every open connection, and wait for the threads (bounded)."""
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)   # close() alone does not wake a thread blocked in accept()
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> "LatencyProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals

    def _spawn(self, fn, *args) -> None:
        thread = threading.Thread(target=fn, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self._stopping.is_set():   # stop() may have run between accept and here
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)   # wakes a thread blocked in recv on it
        except OSError:
            pass
        sock.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return   # listener closed: stopping
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()   # the client sees the connection drop, as it would see the server refuse it
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._track(sock)
            self._spawn(self._requests, client, server)
            self._spawn(self._pipe, server, client)

    def _requests(self, client: socket.socket, server: socket.socket) -> None:
        """Client->server: hold each request head, then forward it and its body verbatim."""
        reader = _Reader(client)
        try:
            while True:
                try:
                    head = reader.until(b"\r\n\r\n", _MAX_HEAD)
                except ValueError:
                    kind = "raw"
                    server.sendall(reader.buf)
                    reader.buf = b""
                else:
                    kind, length = _body_kind(head)
                    if self.delay_s and self._stopping.wait(self.delay_s):
                        return
                    with self._lock:
                        self.requests += 1
                    server.sendall(head)   # the head first: a client waiting for 100-continue sends no body yet
                if kind == "raw":
                    while True:
                        server.sendall(reader.some(65536))
                elif kind == "chunked":
                    self._forward_chunked(reader, server)
                else:
                    while length:
                        data = reader.some(length)
                        server.sendall(data)
                        length -= len(data)
        except _Closed:
            # The client is done sending; the server may still be answering, so only pass the end on.
            try:
                server.shutdown(socket.SHUT_WR)
            except OSError:
                self._close(client)
                self._close(server)
        except (OSError, ValueError):
            self._close(client)
            self._close(server)

    @staticmethod
    def _forward_chunked(reader: _Reader, server: socket.socket) -> None:
        """Forward a chunked body (chunks, the last chunk and its trailers) verbatim."""
        while True:
            size_line = reader.until(b"\r\n", 4096)
            server.sendall(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:   # trailer fields, up to the empty line
                    line = reader.until(b"\r\n", _MAX_HEAD)
                    server.sendall(line)
                    if line == b"\r\n":
                        return
            remaining = size + 2   # the chunk and its CRLF
            while remaining:
                data = reader.some(remaining)
                server.sendall(data)
                remaining -= len(data)

    def _pipe(self, source: socket.socket, dest: socket.socket) -> None:
        """Server->client: relay the answers untouched."""
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                dest.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(dest)


def main() -> int:
    """Run a proxy from the command line until Ctrl-C: latency_proxy.py TARGET_PORT DELAY_MS."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("target_port", type=int, help="port on 127.0.0.1 to forward to")
    parser.add_argument("delay_ms", type=float, help="milliseconds to hold each request")
    args = parser.parse_args()
    with LatencyProxy("127.0.0.1", args.target_port, args.delay_ms) as proxy:
        print(f"{proxy.url} -> 127.0.0.1:{args.target_port}, {args.delay_ms:g} ms per request; Ctrl-C stops it",
              flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
