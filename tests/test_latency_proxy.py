"""The benchmark's latency proxy (bench/latency_proxy.py) and the benchmark's command line (bench/latency.py).

Only lower bounds on time are asserted: a delay the proxy must add is a fact, how fast a loaded machine is not.
"""

from __future__ import annotations

import http.client
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suiterun import LoopbackServer, QuietHandler

REPO = Path(__file__).resolve().parent.parent

DELAY_MS = 50


def _load(name: str):
    """Import a bench/ script as a module (bench/ is not a package: its scripts run from a checkout)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # latency.py imports latency_proxy by name
    spec.loader.exec_module(module)
    return module


latency_proxy = _load("latency_proxy")


class _Echo(QuietHandler):
    """Answers every request with its method, path and body, keeping the connection open (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, int]] = []   # (path, client port): which connection each request came on

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _answer(self) -> None:
        body = self._body()
        type(self).seen.append((self.path, self.client_address[1]))
        out = f"{self.command} {self.path} ".encode() + body
        self.send_response(200)
        self.send_header("X-Echo", "yes")
        self.send_header("X-Echo", "twice")   # a duplicate header must arrive as two
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_PUT = do_POST = _answer


@pytest.fixture
def origin():
    """A tiny HTTP/1.1 server on 127.0.0.1, stopped after the test."""
    _Echo.seen = []
    with LoopbackServer(_Echo) as server:
        yield server.httpd


def test_requests_on_one_keep_alive_connection_are_each_delayed_and_forwarded_intact(origin):
    port = origin.server_address[1]
    with latency_proxy.LatencyProxy("127.0.0.1", port, DELAY_MS) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
        try:
            answers = []
            for method, path, body in (("GET", "/one", None), ("PUT", "/two", b"x" * 100_000),
                                       ("POST", "/three", iter([b"chunk-a", b"chunk-b"]))):
                started = time.monotonic()
                conn.request(method, path, body=body, encode_chunked=method == "POST")
                resp = conn.getresponse()
                answers.append((resp.status, resp.headers.get_all("X-Echo"), resp.read(),
                                time.monotonic() - started))
        finally:
            conn.close()
        forwarded = proxy.requests
    assert [a[:3] for a in answers] == [
        (200, ["yes", "twice"], b"GET /one "),
        (200, ["yes", "twice"], b"PUT /two " + b"x" * 100_000),
        (200, ["yes", "twice"], b"POST /three chunk-achunk-b"),
    ]
    # Each request, not only the connection's first, waited at least the delay.
    for *_, took in answers:
        assert took >= DELAY_MS / 1000
    # All three went to the server on one connection: the proxy kept it alive and split it into requests.
    assert [path for path, _ in _Echo.seen] == ["/one", "/two", "/three"]
    assert len({client_port for _, client_port in _Echo.seen}) == 1
    assert forwarded == 3


def test_zero_delay_forwards_and_stop_closes_open_connections(origin):
    proxy = latency_proxy.LatencyProxy("127.0.0.1", origin.server_address[1], 0).start()
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    conn.request("GET", "/open")
    assert conn.getresponse().read() == b"GET /open "
    proxy.stop()   # with the client's keep-alive connection still open
    with pytest.raises(OSError):
        conn.request("GET", "/after-stop")
        conn.getresponse()
    conn.close()
    with pytest.raises(OSError):
        http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5).request("GET", "/")


def test_benchmark_help_runs():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "latency.py"), "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--latencies" in result.stdout and "--variant" in result.stdout


def test_benchmark_passes_arguments_after_double_dash_to_pytest():
    latency = _load("latency")
    args = latency.parse_args(["--latencies", "100,25", "--variant", "c8=--concurrency 8", "--", "-n", "2"])
    assert args.latencies == [0, 25, 100]   # 0 is always measured: every ratio needs it
    assert args.variants == [("c8", ["--concurrency", "8"])]
    assert args.extra == ["-n", "2"]


def test_benchmark_rounds_show_medians_of_each_rounds_ratios():
    """With --repeat, a row is the median of its rounds, and a ratio the median of the ratios each round gave
    (a run against its own round's 0 ms run and floor), not a ratio of medians."""
    latency = _load("latency")
    assert latency.parse_args(["--repeat", "3"]).repeat == 3
    with pytest.raises(SystemExit):
        latency.parse_args(["--repeat", "0"])

    def run(ms, number, wall):
        return latency.Run("default", ms, [], Path("/nowhere"), exit_status=0, wall_s=wall, wire_requests=100,
                           results={"cases": [{}] * 10, "duration_s": wall - 1}, round=number)

    runs = [run(0, 1, 10.0), run(25, 1, 12.0), run(0, 2, 20.0), run(25, 2, 30.0), run(0, 3, 12.0), run(25, 3, 12.0)]
    floors = {("default", 1): latency.Floor(100, 5.0, 4.0), ("default", 2): latency.Floor(100, 10.0, 9.0),
              ("default", 3): latency.Floor(100, 12.0, 11.0)}
    rows = latency.table(runs, floors)[2:]
    # 0 ms: walls 10, 20, 12 -> 12; × floor by round 2.0, 2.0, 1.0 -> 2.00
    assert rows[0] == "| default | 0 ms | 0 | 10 | 12.0 | 11.0 | 100 | 10.0 | 1.00 | 2.00 |"
    # 25 ms: walls 12, 30, 12 -> 12; × 0 ms by round 1.2, 1.5, 1.0 -> 1.20
    assert rows[1] == "| default | 25 ms | 0 | 10 | 12.0 | 11.0 | 100 | 10.0 | 1.20 |  |"
    assert rows[2] == "| default: floor | 0 ms | | | 10.0 | | 100 | 1.0 | | 1.00 |"
    said = latency.notes(runs, floors)
    assert "default at 0 ms, × floor by round: 2.00, 2.00, 1.00" in said
    assert "default at 25 ms, × 0 ms by round: 1.20, 1.50, 1.00" in said
