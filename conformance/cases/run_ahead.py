"""Cases that run ahead: cases that touch only a bucket of their own (cases(..., alone=True)) run in the background,
together, while pytest goes on with the cases before them; the cases that share the scratch bucket (rejected
configurations) run one after another, beside them.

Such a case's requests depend on each other (put, then poll, then check), so sending them ahead one by one is
not possible; but nothing another case does can change its answers, and nothing it does can change another's.
In a run without xdist workers, once the first case has set up what the session's cases share, every such case
of the session starts: each in its own line (a thread of the run's pool), creating its own bucket, with its own
checks, every request counted against --concurrency (inflight.slot). When pytest reaches the case, it waits for
it; its checks, its outcome (whatever the test raised) and its exchanges, noted 'created ahead' and 'run ahead',
become the case's, as if it had run then: the same test code ran, against the same server, once.

Under xdist a worker does not know its cases ahead, so each runs in its turn."""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from conformance.behaviour.checks import Check
from conformance.target import inflight
from conformance.target.buckets import Buckets
from conformance.target.http import S3

RUN_AHEAD = pytest.StashKey["RunAhead"]()  # the session's RunAhead, on the config (for pytest_pyfunc_call)

# The fixtures a case that runs ahead may use: its own (a bucket, a name no bucket has, its checks) and the
# session's stateless helpers, or the scratch bucket, which only such cases use, one after another.
OWN_FIXTURES = frozenset({"case", "check", "bucket", "missing_bucket"})
SHARED_FIXTURES = frozenset({"s3", "target", "poll", "scratch_bucket"})
ALONE_FIXTURES = OWN_FIXTURES | SHARED_FIXTURES


def runs_alone(item: pytest.Item) -> bool:
    """Whether the item may run ahead: marked run_ahead, and using no fixture beyond ALONE_FIXTURES."""
    if item.get_closest_marker("run_ahead") is None or not hasattr(item, "function"):
        return False
    return _fixtures(item) <= ALONE_FIXTURES


@dataclass
class Ran:
    """One case run ahead: its bucket (None: not created) and that bucket's creation, its checks, what it raised,
    its exchanges; done once it has ended (or will not run)."""

    check: Check
    wants_bucket: bool
    missing: str | None = None
    bucket: str | None = None
    created: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    exchanges: list[dict] = field(default_factory=list)
    ran: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class RunAhead:
    """The session's cases that run ahead, and what each did (case ID -> Ran) until pytest reaches it."""

    def __init__(self, items: list[pytest.Item]) -> None:
        self.items = [item for item in items if runs_alone(item)]
        self.ran: dict[str, Ran] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def needs(self) -> set[str]:
        """The shared fixtures the cases that will run ahead use."""
        return {name for item in self.items for name in _fixtures(item)} & SHARED_FIXTURES

    def start(self, s3: S3, buckets: Buckets, fixtures: dict[str, Any]) -> None:
        """Start every case of the session that may run ahead, in the background (the shared fixtures, needs(),
        from fixtures); the cases that use the scratch bucket one after another, in their order."""
        items, self.items = self.items, []
        lines: dict[str, list[Callable[[], None]]] = {}
        for item in items:
            case = item.callspec.params["case"]
            names = _fixtures(item)
            ran = Ran(Check(case), "bucket" in names, buckets.next_name() if "missing_bucket" in names else None)
            args = {**fixtures, "case": case, "check": ran.check, "missing_bucket": ran.missing}
            line = "scratch_bucket" if "scratch_bucket" in names else case.id
            lines.setdefault(line, []).append(self._body(s3, buckets, item.function, names, args, ran))
            self.ran[case.id] = ran
        if not lines:
            return
        order = sorted(lines.values(), key=len, reverse=True)  # the longest line first: it ends last

        def run() -> None:
            try:
                with s3.recorder.detached():  # each case's exchanges are its own, shown in its turn
                    inflight.gather([lambda line=line: [body() for body in line] for line in order])
            finally:  # a case that never started runs in its turn
                for ran in self.ran.values():
                    ran.done.set()

        self._thread = threading.Thread(target=run, name="s3cors-run-ahead", daemon=True)
        self._thread.start()

    def _body(self, s3: S3, buckets: Buckets, function: Callable, names: set[str], args: dict[str, Any],
              ran: Ran) -> Callable[[], None]:
        """The case's line: its bucket created, then the test called with its fixtures; what it raises is kept
        for its turn."""
        def call() -> None:
            try:
                if self._stopping.is_set():
                    return
                if ran.wants_bucket:
                    name = buckets.next_name()
                    with s3.recorder.capture() as ran.created:
                        if not buckets.try_create(name).ok:
                            return  # the case creates its bucket in its turn, and meets the refusal there
                    ran.bucket = name
                with s3.recorder.capture() as ran.exchanges:
                    ran.ran = True
                    try:
                        function(**{name: {**args, "bucket": ran.bucket}[name] for name in names})
                    except BaseException as exc:  # noqa: BLE001 - pytest's outcomes too (skip, fail): raised in
                        ran.error = exc           # its turn (a background thread gets no Ctrl-C)
            except BaseException:  # noqa: BLE001 - CreateBucket had no answer: the case meets that in its turn
                pass
            finally:
                ran.done.set()
        return call

    def ran_for(self, case) -> Ran | None:
        """What the case did ahead, once it has ended, if it was started ahead (Ran.ran: whether it ran; a case
        whose bucket could not be created runs in its turn, after the exchanges of that try)."""
        ran = self.ran.get(case.id) if case is not None else None
        if ran is not None:
            ran.done.wait()
        return ran

    def finish(self, item: pytest.Item) -> Ran | None:
        """What the case did ahead, taken (the test is not called again), or None: it runs now (and so will not
        run ahead)."""
        if item in self.items:
            self.items.remove(item)
        case = item.callspec.params.get("case") if hasattr(item, "callspec") else None
        ran = self.ran_for(case)
        if ran is None or not ran.ran:
            return None
        return self.ran.pop(case.id)

    def stop(self) -> None:
        """Start no further case, and wait for those running (before the run removes its buckets)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


def _fixtures(item: pytest.Item) -> set[str]:
    return set(inspect.signature(item.function).parameters)
