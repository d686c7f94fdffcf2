"""Local S3 servers started for a run: fixtures/servers/NAME/start.sh on 127.0.0.1 and a free port, ready
when it answers, stopped (its whole process group) at the end, its log kept under reports/servers/, redacted."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from conformance.paths import fixtures_dir
from conformance.target.polling import pause
from conformance.target.redact import Redactor

LOG_TAIL_LINES = 25


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def redact_log(path: Path) -> None:
    """Rewrite a stopped server's log without the signatures and keys of the requests it logged (it is kept
    under reports/)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    redacted = Redactor().log(text)
    if redacted != text:
        path.write_text(redacted, encoding="utf-8")


class ScriptServer:
    """A server run by fixtures/servers/NAME/start.sh PORT DATADIR in the foreground."""

    def __init__(self, name: str, reports_dir: Path, *, ready_path: str = "/", ready_contains: str | None = None,
                 ready_timeout: float = 60.0) -> None:
        self.name = name
        self.script = fixtures_dir() / "servers" / name / "start.sh"
        self.install = fixtures_dir() / "servers" / name / "install.sh"
        self.log = reports_dir / "servers" / f"{name}.log"
        self.ready_path = ready_path
        self.ready_contains = ready_contains
        self.ready_timeout = ready_timeout
        self.wants_credentials = False
        self.proc: subprocess.Popen | None = None
        self.datadir: str | None = None
        self.url: str | None = None

    def start(self) -> str:
        """Start the server and wait (bounded) until it answers; raise RuntimeError with the log tail."""
        if not self.script.is_file():
            raise RuntimeError(f"no start script {self.script}")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.datadir = tempfile.mkdtemp(prefix=f"s3cors-{self.name}-")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(["bash", str(self.script), str(port), self.datadir], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} before it was ready "
                                   f"(install it with {self.install}); last lines of {self.log}:\n"
                                   f"{log_tail(self.log)}")
            if self._ready() and (not self.wants_credentials or self.credentials_file.is_file()):
                return self.url
            pause(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.url}{self.ready_path} within "
                           f"{self.ready_timeout:.0f} s; last lines of {self.log}:\n{log_tail(self.log)}")

    @property
    def credentials_file(self) -> Path:
        """Where a start script that makes its own credentials writes them."""
        return Path(self.datadir or "/nonexistent", "credentials")

    def _ready(self) -> bool:
        try:
            resp = requests.get(self.url + self.ready_path, timeout=2)
        except requests.RequestException:
            return False
        return self.ready_contains is None or self.ready_contains in resp.text

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL after a bound; remove its data (idempotent)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            for sig, bound in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=bound)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            try:  # children that outlived the script (they share its process group)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if proc is not None:
            redact_log(self.log)
        if self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None
