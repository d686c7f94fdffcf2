"""Progress of a run a person can follow (the controller's view; under xdist reports arrive as workers finish).

On a terminal, one status line under pytest's own output, redrawn in place after every case: cases done of
total, HTTP requests so far, time elapsed and an estimate of what remains; it is erased before pytest writes
and at the end, so nothing of it stays. Everywhere (also in CI logs and pipes, where nothing is redrawn): one
plain line when an area's last case is in, and without a terminal one plain line at least every
HEARTBEAT_S seconds while cases finish."""

from __future__ import annotations

import os
import time
from typing import Callable, TextIO

import pytest

from conformance.behaviour.outcomes import OUTCOMES

HEARTBEAT_S = 30.0
_ERASE = "\0337\033[1B\033[2K\0338"  # the line below: save cursor, down one, clear the line, restore cursor


def duration(seconds: float) -> str:
    """'42s', '3m05s' or '1h02m'."""
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def case_id_of(nodeid: str) -> str:
    """The case ID of a test node ID (test_x.py::test_y[PRE-METH-002] -> PRE-METH-002)."""
    return nodeid.rsplit("[", 1)[-1].rstrip("]") if nodeid.endswith("]") else ""


class Progress:
    """Counts finished cases and writes the progress lines (registered as a plugin on the controller)."""

    def __init__(self, config: pytest.Config, expected: dict[str, int], requests: Callable[[], int], *,
                 stream: TextIO | None = None, live: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.config, self.expected, self._local_requests, self.clock = config, dict(expected), requests, clock
        self._stream, self._live = stream, live
        self.seen: dict[str, list[str]] = {}
        self.worker_requests: dict[str, int] = {}  # xdist: each running worker's requests, as its last report said
        self.started = clock()
        self.last_plain = self.started
        self.drawn = False
        self.finished = False

    @property
    def tr(self):
        """pytest's terminal reporter (registered after this plugin), or None (-p no:terminal)."""
        return self.config.pluginmanager.get_plugin("terminalreporter")

    @property
    def stream(self) -> TextIO | None:
        """Where the terminal reporter writes."""
        if self._stream is None:
            self._stream = getattr(getattr(self.tr, "_tw", None), "_file", None)
        return self._stream

    @property
    def live(self) -> bool:
        """Whether the status line is drawn (decided once, when first needed)."""
        if self._live is None:
            self._live = self._wants_live()
        return self._live

    def _wants_live(self) -> bool:
        """A status line only on a real terminal, and not where other output may interleave (-s, live logs)."""
        if self.tr is None or self.stream is None or self.config.option.verbose < -1:
            return False
        isatty = getattr(self.stream, "isatty", None)
        if not (isatty and isatty()) or os.environ.get("TERM") == "dumb":
            return False
        return self.config.getoption("capture", "fd") != "no" and not self.config.getini("log_cli")

    # counting

    @property
    def done(self) -> int:
        """Cases finished so far."""
        return sum(len(v) for v in self.seen.values())

    @property
    def total(self) -> int:
        """Cases this run will run."""
        return sum(self.expected.values())

    def expect(self, case_ids: list[str], areas: dict[str, str]) -> None:
        """The cases actually selected (after -k, -m and --deselect), once collection is done."""
        expected: dict[str, int] = {}
        for case_id in case_ids:
            if case_id in areas:
                expected[areas[case_id]] = expected.get(areas[case_id], 0) + 1
        if expected:
            self.expected = expected

    def requests(self) -> int:
        """HTTP requests so far: this process's, and what the running workers last reported."""
        return self._local_requests() + sum(self.worker_requests.values())

    def worker_down(self, worker: str) -> None:
        """A worker ended: its requests are in the run's total now (State.worker_requests)."""
        self.worker_requests.pop(worker, None)

    def add(self, record: dict, requests: tuple[str, int] | list | None = None) -> None:
        """Count one finished case; write an area's line when its last case is in, or a heartbeat line."""
        if requests is not None and requests[0] != "main":
            self.worker_requests[requests[0]] = int(requests[1])
        outcomes = self.seen.setdefault(record["area"], [])
        outcomes.append(record["outcome"])
        if len(outcomes) == self.expected.get(record["area"]):
            counts = ", ".join(f"{outcomes.count(o)} {o}" for o in OUTCOMES if outcomes.count(o))
            self._plain(f"[s3cors] {record['area']} done: {len(outcomes)} cases ({counts}); {self.status_text()}")
        elif not self.live and self.clock() - self.last_plain >= HEARTBEAT_S:
            self._plain(f"[s3cors] {self.status_text()}")

    def status_text(self) -> str:
        """'45/186 cases, 812 requests, 12s elapsed, about 30s left'."""
        done, total, elapsed = self.done, self.total, self.clock() - self.started
        text = f"{done}/{total} cases, {self.requests()} requests, {duration(elapsed)} elapsed"
        if 0 < done < total:
            text += f", about {duration(elapsed / done * (total - done))} left"
        return text

    # writing

    def _plain(self, line: str) -> None:
        self.last_plain = self.clock()
        if self.tr is None or self.config.option.verbose < 0:
            return
        if getattr(self.tr._tw, "width_of_current_line", 0):  # pytest's progress dots leave the line open
            self.tr.write("\n")
        self.tr.write_line(line)

    def draw(self) -> None:
        """Write the status line below the cursor and put the cursor back where pytest left it."""
        if not self.live or self.finished:
            return
        width = self.tr._tw.fullwidth
        column = self.tr._tw.width_of_current_line
        if column >= width - 1:  # pytest's line is wrapping: the cursor's place is not known
            return
        text = f"[s3cors] {self.status_text()}"[:width - 1]
        back = f"\033[{column}C" if column else ""
        self.stream.write(f"\n\033[2K{text}\033[1A\r{back}")  # relative moves: right even if the screen scrolled
        self.stream.flush()
        self.drawn = True

    def erase(self) -> None:
        """Clear the status line (before pytest writes, and at the end)."""
        if self.drawn:
            self.stream.write(_ERASE)
            self.stream.flush()
            self.drawn = False

    # hooks (outermost wrappers: the line is away while pytest writes, and back after)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(self, nodeid, location):
        self.erase()
        try:
            return (yield)
        finally:
            self.draw()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport):
        self.erase()
        try:
            return (yield)
        finally:
            record = getattr(report, "s3cors", None)
            if record is not None:
                self.add(record, getattr(report, "s3cors_requests", None))
            self.draw()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(self, nodeid, location):
        self.erase()
        try:
            return (yield)
        finally:
            self.draw()

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost: before the terminal writes its last percentage
    def pytest_runtestloop(self, session):
        try:
            return (yield)
        finally:
            self.stop()

    def stop(self) -> None:
        """No more status line (the run's last cases are in, or it ends early)."""
        self.erase()
        self.finished = True
