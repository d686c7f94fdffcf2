#!/usr/bin/env python3
"""Latency benchmark: the suite against a local moto server at 0, 25 and 100 ms per request, in one invocation.

It starts one moto server (fixtures/servers/moto/start.sh, on 127.0.0.1), and for each latency puts a loopback
proxy in front of it that holds every HTTP request that many milliseconds (bench/latency_proxy.py; 0 ms also
goes through the proxy, so every row pays the same proxy overhead and the ratios measure latency alone). The
suite is driven only through its command line:

    python -m pytest --target moto-server --endpoint-url http://127.0.0.1:PROXY --reports-dir DIR ...

so the profile's expectation file applies and nothing else is started. Each run's wall time is measured
around the pytest process; requests are counted by the proxy (everything on the wire: start-up probe, bucket
set-up, cases, clean-up), beside the count the run records in results.json (`http_requests`).

The floor is the same number of plain requests as the 0 ms run sent: CORS preflights (unsigned OPTIONS on an
object of a bucket with a CORS configuration), sequential, on one keep-alive connection, through the 0 ms
proxy (and, for reference, directly), measured right after that 0 ms run.

`--repeat N` measures everything N times, round after round (each round: every latency, every variant, each
0 ms run followed by its floor), so that a machine whose speed drifts weighs on every row alike. The table then
shows medians: of the wall times, and of the ratios each round gave (a run against its own round's 0 ms run
and floor); the notes list every round.

Arguments after `--` go to every pytest run unchanged (e.g. `-- -n 2`); `--variant LABEL=ARGS` adds a set of
pytest arguments to compare (each variant runs at every latency), e.g.

    bench/latency.py --case 'PRE-*' --variant 'c1=--concurrency 1' --variant 'c8=--concurrency 8'

Exit status: 0 every run measured and every run's verdicts matched the expectation file; 1 every run
measured but some run's verdicts differed (its pytest exit status 1, shown in the table); 2 usage; 3 a run
could not be measured (the server or a suite run did not start, or wrote no results.json).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from statistics import median

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))   # run as a script: its sibling module
from latency_proxy import LatencyProxy  # noqa: E402

from conformance.target.local_servers import redact_log  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
START_SCRIPT = REPO / "fixtures" / "servers" / "moto" / "start.sh"
INSTALL_SCRIPT = REPO / "fixtures" / "servers" / "moto" / "install.sh"
READY_TIMEOUT = 60.0     # moto is ready in ~0.5 s; a loaded machine may take much longer
INTERRUPT_GRACE = 120.0  # a suite run interrupted gets this long to remove its buckets before it is killed
EXIT_MEANING = {0: "ok", 1: "verdicts differ", 2: "interrupted", 3: "internal error", 4: "bad input",
                5: "no case selected", 6: "target unusable"}


class BenchError(Exception):
    """A run could not be measured: one clear message, exit 3."""


@dataclass
class Run:
    """One suite run: its configuration and what was measured."""

    variant: str
    latency_ms: int
    args: list[str]
    reports: Path
    exit_status: int | None = None
    wall_s: float = 0.0
    wire_requests: int = 0
    results: dict = field(default_factory=dict)
    round: int = 1

    @property
    def cases(self) -> int:
        """Cases the run recorded."""
        return len(self.results.get("cases", []))

    @property
    def suite_requests(self) -> int:
        """HTTP requests as the run itself counted them (results.json)."""
        return int(self.results.get("http_requests") or 0)


@dataclass
class Floor:
    """The same number of plain preflights as a 0 ms run, sequential on one connection."""

    requests: int
    via_proxy_s: float
    direct_s: float


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The benchmark's own options; everything after `--` is kept for pytest."""
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(
        prog="bench/latency.py", description=__doc__.split("\n\n", 1)[0],
        epilog="Arguments after -- are passed to every pytest run, e.g.: bench/latency.py --case 'PRE-*' -- -n 2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latencies", default="0,25,100",
                        help="milliseconds held per request, comma-separated; 0 is always run (default 0,25,100)")
    parser.add_argument("--case", action="append", default=[], metavar="GLOB",
                        help="only these cases (the suite's --case, repeatable; default all default cases)")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=ARGS",
                        help="a configuration to compare: pytest arguments (shell-quoted) under a label; "
                             "repeatable, each runs at every latency (default: one variant with no arguments)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="measure everything N times, round after round; the table shows medians (default 1)")
    parser.add_argument("--reports-dir", type=Path, default=REPO / "reports" / "bench",
                        help="where each run's reports, its pytest output and bench.json go (default reports/bench)")
    args = parser.parse_args(argv)
    try:
        latencies = sorted({int(x) for x in args.latencies.split(",") if x.strip()} | {0})
    except ValueError:
        parser.error(f"--latencies: not a comma-separated list of whole milliseconds: {args.latencies!r}")
    if any(ms < 0 for ms in latencies):
        parser.error("--latencies: a latency cannot be negative")
    if args.repeat < 1:
        parser.error(f"--repeat: at least 1, got {args.repeat}")
    variants: list[tuple[str, list[str]]] = []
    for spec in args.variant:
        label, sep, rest = spec.partition("=")
        if not sep or not label.strip():
            parser.error(f"--variant: expected LABEL=ARGS, got {spec!r}")
        variants.append((label.strip(), shlex.split(rest)))
    if len({label for label, _ in variants}) != len(variants):
        parser.error("--variant: two variants have the same label")
    args.latencies = latencies
    args.variants = variants or [("default", [])]
    args.extra = extra
    return args


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float, *, leader_only: bool = False) -> None:
    """SIGTERM a process group (or only its leader), wait up to grace seconds, then SIGKILL the group."""
    if proc.poll() is None:
        try:
            if leader_only:
                os.kill(proc.pid, signal.SIGTERM)
            else:
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            pass
    try:   # whatever of the group outlived its leader
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class MotoServer:
    """The one moto server of the benchmark, started with the repository's own recipe."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.datadir = tempfile.mkdtemp(prefix="s3cors-bench-moto-")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and poll (bounded) until it answers HTTP; BenchError with the log's end otherwise."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            # Its own session: a Ctrl-C at the terminal must not kill it while a suite run removes its buckets.
            self.proc = subprocess.Popen(["bash", str(START_SCRIPT), str(self.port), self.datadir], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.proc.wait(timeout=0.2)   # the pause between polls, cut short if it exits
            except subprocess.TimeoutExpired:
                pass
            else:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
                raise BenchError(f"moto server exited with status {self.proc.returncode} before it answered: "
                                 f"{tail[0]} (install it with: bash {INSTALL_SCRIPT.relative_to(REPO)})")
            try:
                requests.get(self.url + "/", timeout=2)
                return
            except requests.RequestException:
                continue
        raise BenchError(f"moto server did not answer on {self.url} within {READY_TIMEOUT:.0f} s (log: {self.log})")

    def stop(self) -> None:
        """Stop it and remove its data directory."""
        if self.proc is not None:
            stop_group(self.proc, 30)
            self.proc = None
            redact_log(self.log)  # it is kept under reports/
        shutil.rmtree(self.datadir, ignore_errors=True)


def run_suite(run: Run, server_port: int, cases: list[str], extra: list[str]) -> None:
    """One pytest run through a proxy holding each request run.latency_ms; fills run's measurements."""
    run.reports.mkdir(parents=True, exist_ok=True)
    results = run.reports / "results.json"
    results.unlink(missing_ok=True)   # never read an earlier run's record
    log = run.reports / "pytest.log"
    with LatencyProxy("127.0.0.1", server_port, run.latency_ms) as proxy:
        cmd = [sys.executable, "-m", "pytest", "--target", "moto-server", f"--endpoint-url={proxy.url}",
               f"--reports-dir={run.reports}", "-p", "no:cacheprovider", "-q"]
        cmd += [f"--case={c}" for c in cases] + run.args + extra
        env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}   # only what the command says
        with log.open("wb") as out:
            out.write(("$ " + shlex.join(cmd) + "\n").encode())
            out.flush()
            started = time.monotonic()
            # Its own session, so an interrupt reaches it once, from us, and its clean-up is not cut short.
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                run.exit_status = proc.wait()
            except BaseException:
                # SIGTERM unwinds the suite like Ctrl-C (its buckets are removed) and, unlike SIGINT, is not
                # ignored by a child of a background job; to the controller only, which stops its own workers.
                stop_group(proc, INTERRUPT_GRACE, leader_only=True)
                raise
            run.wall_s = time.monotonic() - started
        run.wire_requests = proxy.requests
    if run.exit_status not in (0, 1) or not results.is_file():
        last = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-1:] or [""]
        raise BenchError(f"the suite run '{run.variant}' at {run.latency_ms} ms exited {run.exit_status} "
                         f"({EXIT_MEANING.get(run.exit_status, 'unknown')}) without a complete record: "
                         f"{last[0].strip()} (output: {log})")
    run.results = json.loads(results.read_text())


def measure_floor(server_url: str, server_port: int, count: int) -> Floor:
    """count unsigned preflights on one connection, through a 0 ms proxy and directly; seconds each."""
    bucket = f"s3cors-bench-floor-{uuid.uuid4().hex[:8]}"   # on the benchmark's own throwaway server
    cors = (b"<CORSConfiguration><CORSRule><AllowedOrigin>https://bench.example</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>")
    md5 = base64.b64encode(hashlib.md5(cors).digest()).decode()
    headers = {"Origin": "https://bench.example", "Access-Control-Request-Method": "GET"}
    with requests.Session() as setup:
        setup.put(f"{server_url}/{bucket}", timeout=30).raise_for_status()
        setup.put(f"{server_url}/{bucket}?cors", data=cors, headers={"Content-MD5": md5},
                  timeout=30).raise_for_status()
        probe = setup.options(f"{server_url}/{bucket}/key", headers=headers, timeout=30)
        if probe.status_code != 200:   # the floor must be the answer the suite mostly gets, not an error
            raise BenchError(f"the floor's preflight was answered {probe.status_code}, not 200")

    def timed(base: str) -> float:
        with requests.Session() as session:   # one keep-alive connection, requests one after another
            started = time.monotonic()
            for _ in range(count):
                session.options(f"{base}/{bucket}/key", headers=headers, timeout=30).raise_for_status()
            return max(time.monotonic() - started, 1e-6)   # the ratios divide by it

    try:
        with LatencyProxy("127.0.0.1", server_port, 0) as proxy:
            via_proxy = timed(proxy.url)
        direct = timed(server_url)
    finally:
        with requests.Session() as cleanup:
            cleanup.delete(f"{server_url}/{bucket}", timeout=30)
    return Floor(count, via_proxy, direct)


Floors = dict[tuple[str, int], Floor]   # (variant, round) -> the floor measured after that round's 0 ms run


def _ratios(runs: list[Run], floors: Floors, variant: str, ms: int) -> tuple[list[float], list[float]]:
    """Each round's ratio of the (variant, ms) run to its round's 0 ms run, and (0 ms only) to its round's floor."""
    zero = {r.round: r for r in runs if r.variant == variant and r.latency_ms == 0}
    to_zero, to_floor = [], []
    for r in runs:
        if r.variant != variant or r.latency_ms != ms:
            continue
        if r.round in zero and zero[r.round].wall_s:
            to_zero.append(r.wall_s / zero[r.round].wall_s)
        if ms == 0 and (variant, r.round) in floors:
            to_floor.append(r.wall_s / floors[(variant, r.round)].via_proxy_s)
    return to_zero, to_floor


def _rows(runs: list[Run]) -> list[tuple[str, int]]:
    """(variant, latency) in the order first measured."""
    return list(dict.fromkeys((r.variant, r.latency_ms) for r in runs))


def table(runs: list[Run], floors: Floors) -> list[str]:
    """The result as a Markdown table (readable as plain text too); with several rounds, medians."""
    lines = ["| variant | latency | pytest exit | cases | wall s | run s | requests | requests/case | × 0 ms | × floor |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for variant, ms in _rows(runs):
        mine = [r for r in runs if r.variant == variant and r.latency_ms == ms]
        to_zero, to_floor = _ratios(runs, floors, variant, ms)
        exits = sorted({r.exit_status for r in mine}, key=str)
        cases = median([r.cases for r in mine])
        requests_ = median([r.wire_requests for r in mine])
        durations = [r.results.get("duration_s") for r in mine if r.results.get("duration_s") is not None]
        per_case = f"{requests_ / cases:.1f}" if cases else "-"
        lines.append(f"| {variant} | {ms} ms | {','.join(map(str, exits))} | {cases:g} | "
                     f"{median([r.wall_s for r in mine]):.1f} | "
                     f"{f'{median(durations):.1f}' if durations else None} | {requests_:g} | {per_case} | "
                     f"{f'{median(to_zero):.2f}' if to_zero else '-'} | {f'{median(to_floor):.2f}' if to_floor else ''} |")
    for variant in dict.fromkeys(v for v, _ in floors):
        mine = [f for (v, _), f in floors.items() if v == variant]
        lines.append(f"| {variant}: floor | 0 ms | | | {median([f.via_proxy_s for f in mine]):.1f} | | "
                     f"{median([f.requests for f in mine]):g} | 1.0 | | 1.00 |")
    return lines


def notes(runs: list[Run], floors: Floors) -> list[str]:
    """What the columns mean and what the runs reported beyond the table."""
    rounds = max((r.round for r in runs), default=1)
    out = ["wall s: the pytest process from start to exit (the ratios use it); run s: the run's own duration "
           "(results.json duration_s, without interpreter start and collection);",
           "requests: HTTP requests through the proxy (start-up probe, set-up, cases, clean-up); 0 ms goes through "
           "the proxy too;",
           "floor: as many unsigned preflights as that variant's 0 ms run sent, sequential on one keep-alive "
           "connection through a 0 ms proxy, right after that run."]
    if rounds > 1:
        out.append(f"{rounds} rounds: each figure is the median of the rounds' (the ratios: of each round's ratio); "
                   "every round below.")
    for r in runs:
        line = (f"{r.variant} at {r.latency_ms} ms" + (f", round {r.round}" if rounds > 1 else "") +
                f": pytest exit {r.exit_status} ({EXIT_MEANING.get(r.exit_status)}), wall {r.wall_s:.1f} s, "
                f"results.json duration {r.results.get('duration_s')} s, http_requests {r.suite_requests}")
        if r.variant != "default" or r.args:
            line += f", arguments {shlex.join(r.args)!r}"
        out.append(line)
    for (variant, number), f in floors.items():
        out.append(f"{variant} floor" + (f", round {number}" if rounds > 1 else "") +
                   f": {f.requests} preflights {f.via_proxy_s:.1f} s through the proxy "
                   f"({f.requests / f.via_proxy_s:.0f}/s), {f.direct_s:.1f} s direct ({f.requests / f.direct_s:.0f}/s)")
    if rounds > 1:
        for variant, ms in _rows(runs):
            to_zero, to_floor = _ratios(runs, floors, variant, ms)
            shown = to_floor if ms == 0 else to_zero
            if shown:
                out.append(f"{variant} at {ms} ms, × {'floor' if ms == 0 else '0 ms'} by round: "
                           + ", ".join(f"{x:.2f}" for x in shown))
    return out


def write_record(path: Path, args: argparse.Namespace, runs: list[Run], floors: Floors) -> None:
    """bench.json: the measurements, for comparing invocations."""
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "cases": args.case, "extra_args": args.extra, "rounds": args.repeat,
        "runs": [{"variant": r.variant, "args": r.args, "latency_ms": r.latency_ms, "exit_status": r.exit_status,
                  "cases": r.cases, "wall_s": round(r.wall_s, 3), "wire_requests": r.wire_requests,
                  "suite_requests": r.suite_requests, "duration_s": r.results.get("duration_s"), "round": r.round,
                  "reports": str(r.reports)} for r in runs],
        "floors": [{"variant": v, "round": number, "requests": f.requests, "via_proxy_s": round(f.via_proxy_s, 3),
                    "direct_s": round(f.direct_s, 3)} for (v, number), f in floors.items()],
    }
    path.write_text(json.dumps(record, indent=2) + "\n")


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt   # SIGTERM takes the same path as Ctrl-C: everything started is stopped


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; exit status as in the module docstring."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not START_SCRIPT.is_file():
        print(f"bench: no start script {START_SCRIPT}", file=sys.stderr)
        return 3
    signal.signal(signal.SIGTERM, _terminate)
    reports = args.reports_dir.resolve()
    reports.mkdir(parents=True, exist_ok=True)
    server = MotoServer(reports / "moto-server.log")
    runs: list[Run] = []
    floors: Floors = {}
    print(f"bench: {os.cpu_count()} CPUs, latencies {args.latencies} ms, variants "
          f"{[label for label, _ in args.variants]}, cases {args.case or 'all default'}, "
          f"pytest arguments {args.extra or 'none'}" + (f", {args.repeat} rounds" if args.repeat > 1 else ""),
          flush=True)
    try:
        server.start()
        print(f"bench: moto server on {server.url} (log {server.log})", flush=True)
        # Rounds outermost, then latency, variants inside: variants compared at one latency run close together
        # in time, and every round measures every row, which matters on a shared machine whose load drifts.
        for number in range(1, args.repeat + 1):
            suffix, said = (f"-r{number}", f" (round {number})") if args.repeat > 1 else ("", "")
            for ms in args.latencies:
                for label, variant_args in args.variants:
                    run = Run(label, ms, variant_args, reports / f"{label}-{ms}ms{suffix}", round=number)
                    print(f"bench: {label} at {ms} ms{said} ...", end=" ", flush=True)
                    run_suite(run, server.port, args.case, args.extra)
                    runs.append(run)
                    print(f"{run.wall_s:.1f} s, {run.wire_requests} requests, pytest exit {run.exit_status}",
                          flush=True)
                    if ms == 0:
                        print(f"bench: {label} floor{said}: {run.wire_requests} preflights ...", end=" ", flush=True)
                        floor = floors[(label, number)] = measure_floor(server.url, server.port, run.wire_requests)
                        print(f"{floor.via_proxy_s:.1f} s", flush=True)
    except BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 3
    except requests.RequestException as exc:
        print(f"\nbench: the floor's requests to the moto server failed: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping the suite run, the proxy and the moto server", file=sys.stderr)
        return 130
    finally:
        server.stop()
    print()
    print("\n".join(table(runs, floors)))
    print()
    print("\n".join(notes(runs, floors)))
    write_record(reports / "bench.json", args, runs, floors)
    print(f"record: {reports / 'bench.json'}; reports and pytest output of each run: {reports}/VARIANT-MSms"
          f"{'-rROUND' if args.repeat > 1 else ''}/")
    return 1 if any(r.exit_status == 1 for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
