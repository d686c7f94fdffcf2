"""Progress of a run: on a terminal one status line redrawn in place; elsewhere (CI logs, pipes) plain lines
only, never a carriage return or an escape sequence."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from types import SimpleNamespace

from conformance.run.progress import HEARTBEAT_S, Progress, duration

from suiterun import clean_env


class FakeWriter:
    """The part of pytest's TerminalWriter the progress reads."""

    fullwidth = 100
    width_of_current_line = 0

    def __init__(self, stream) -> None:
        self._file = stream


class FakeReporter:
    def __init__(self, stream) -> None:
        self._tw = FakeWriter(stream)
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self._tw._file.write(text)

    def write_line(self, line: str) -> None:
        self.lines.append(line)
        self._tw._file.write(line + "\n")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress(stream, *, verbose=0, capture="fd", requests=lambda: 7):
    reporter = FakeReporter(stream)
    config = SimpleNamespace(option=SimpleNamespace(verbose=verbose),
                             pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter),
                             getoption=lambda name, default=None: capture, getini=lambda name: False)
    now = [100.0]
    progress = Progress(config, {"PRE": 2, "CFG": 2}, requests, clock=lambda: now[0])
    return progress, reporter, now


def _record(area: str, outcome: str = "pass") -> dict:
    return {"area": area, "outcome": outcome}


def test_duration_reads_like_a_clock():
    assert [duration(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]


def test_status_line_on_a_terminal_is_redrawn_in_place(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    stream = Tty()
    progress, reporter, now = _progress(stream)
    assert progress.live
    now[0] += 10
    progress.add(_record("PRE"))
    progress.draw()
    drawn = stream.getvalue()
    assert "\n\x1b[2K[s3cors] 1/4 cases, 7 requests, 10s elapsed, about 30s left\x1b[1A\r" in drawn
    progress.erase()
    assert stream.getvalue()[len(drawn):] == "\x1b7\x1b[1B\x1b[2K\x1b8"  # the line below cleared, cursor kept
    progress.erase()  # nothing drawn: nothing to erase
    assert stream.getvalue()[len(drawn):] == "\x1b7\x1b[1B\x1b[2K\x1b8"
    progress.stop()
    progress.draw()  # after the run's loop: never again
    assert not progress.drawn


def test_status_line_goes_back_to_pytests_column(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    stream = Tty()
    progress, reporter, _ = _progress(stream)
    reporter._tw.width_of_current_line = 42  # pytest's progress dots leave the line open
    progress.draw()
    assert stream.getvalue().endswith("\x1b[1A\r\x1b[42C")
    reporter._tw.width_of_current_line = 99  # at the edge the cursor's place is not known: no line
    before = stream.getvalue()
    progress.draw()
    assert stream.getvalue() == before


def test_no_status_line_without_a_terminal_or_with_output_that_interleaves(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    assert not _progress(io.StringIO())[0].live
    assert not _progress(Tty(), capture="no")[0].live       # -s: a case's own output would interleave
    assert not _progress(Tty(), verbose=-2)[0].live        # -qq
    monkeypatch.setenv("TERM", "dumb")
    assert not _progress(Tty())[0].live


def test_plain_lines_without_a_terminal():
    stream = io.StringIO()
    progress, reporter, now = _progress(stream)
    now[0] += 5
    progress.add(_record("PRE"))
    progress.draw()
    assert stream.getvalue() == ""  # nothing until an area is complete or the heartbeat is due
    progress.add(_record("PRE", "fail"))
    assert reporter.lines == ["[s3cors] PRE done: 2 cases (1 pass, 1 fail); 2/4 cases, 7 requests, 5s elapsed, "
                              "about 5s left"]
    now[0] += HEARTBEAT_S
    progress.add(_record("CFG"))
    assert reporter.lines[-1] == "[s3cors] 3/4 cases, 7 requests, 35s elapsed, about 12s left"
    progress.add(_record("CFG"))
    assert reporter.lines[-1].endswith("; 4/4 cases, 7 requests, 35s elapsed")
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_quiet_run_has_no_progress_lines():
    progress, reporter, _ = _progress(io.StringIO(), verbose=-1)
    for record in (_record("PRE"), _record("PRE")):
        progress.add(record)
    assert reporter.lines == []


def test_worker_requests_count_until_the_worker_is_down():
    progress, _, _ = _progress(io.StringIO(), requests=lambda: 3)
    progress.add(_record("PRE"), ["gw0", 10])
    progress.add(_record("PRE"), ["gw1", 4])
    progress.add(_record("CFG"), ["gw0", 12])
    assert progress.requests() == 3 + 12 + 4
    progress.worker_down("gw0")  # its final count is in the run's total from now on
    assert progress.requests() == 3 + 4


def _run(tmp_path, *args, tty: bool) -> str:
    cmd = [sys.executable, "-m", "pytest", "--pyargs", "conformance", f"--reports-dir={tmp_path / 'r'}",
           "-p", "no:cacheprovider", "--case=PRE-METH-00[12]", "--case=CFG-GET-001", *args]
    env = clean_env(COLUMNS="120")
    env.pop("TERM", None)
    if not tty:
        return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240).stdout
    main, child = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=child, stderr=child)
    os.close(child)
    out = b""
    while True:  # read while it runs: a full pty would block the run
        ready, _, _ = select.select([main], [], [], 1)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the run ended and closed its side
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=240)
    os.close(main)
    return out.decode("utf-8", "replace")


def test_a_run_in_a_pipe_has_plain_lines_only(tmp_path):
    out = _run(tmp_path, tty=False)
    assert "[s3cors] PRE done: 2 cases" in out and "[s3cors] CFG done: 1 cases" in out
    assert "\r" not in out and "\x1b" not in out
    assert "2 passed" in out or "passed" in out.splitlines()[-1]


def test_a_run_on_a_terminal_draws_and_erases_its_status_line(tmp_path):
    for args in ((), ("-q",), ("-n", "2")):
        out = _run(tmp_path, *args, tty=True)
        assert "\x1b[2K[s3cors] " in out, (args, out)
        assert "cases, " in out and " requests, " in out and " elapsed" in out
        assert out.count("\x1b7\x1b[1B\x1b[2K\x1b8") >= 1  # erased again
        assert "S3 CORS conformance: moto" in out, (args, out)
