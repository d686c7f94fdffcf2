"""Cases that run ahead: cases that touch only a bucket of their own (cases(..., alone=True)) run in the background,
together, while pytest goes on with the cases before them; cases that share state only such cases use (the scratch
bucket of the rejected configurations, the generated properties' shared answers) run one after another, beside
them.

Such a case's requests depend on each other (put, then poll, then check), so sending them ahead one by one is
not possible; but nothing another case does can change its answers, and nothing it does can change another's.
In a run without xdist workers, once the first case has set up what the session's cases share, every such case
of the session starts: each line in a thread of its own, a case creating its own bucket, with its own checks,
recorded as a case of its own (Recorder.line), every request counted against --concurrency (inflight.slot).
When pytest reaches the case, it waits for it; its checks, its outcome (whatever the test raised), its request
count and its exchanges, noted 'created ahead' and 'run ahead', become the case's, as if it had run then: the
same test code ran, against the same server, once.

Under xdist a worker does not know its cases ahead, so each runs in its turn."""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from conformance.behaviour.checks import Check
from conformance.target.buckets import Buckets
from conformance.target.http import S3
from conformance.run.verdicts import case_of
from conformance.target.recorder import Line

RUN_AHEAD = pytest.StashKey["RunAhead"]()  # the session's RunAhead, on the config (for pytest_pyfunc_call)

# The fixtures a case that runs ahead may use: its own (a bucket, a name no bucket has, its checks), the session's
# stateless helpers, and state that only such cases use, which puts them in one line, one after another: the
# scratch bucket (rejected configurations), the generated properties' shared answers.
OWN_FIXTURES = frozenset({"case", "check", "bucket", "missing_bucket"})
LINE_FIXTURES = ("scratch_bucket", "shared_answers")
SHARED_FIXTURES = frozenset({"s3", "target", "poll", "buckets", "s3cors", *LINE_FIXTURES})
ALONE_FIXTURES = OWN_FIXTURES | SHARED_FIXTURES


def runs_alone(item: pytest.Item) -> bool:
    """Whether the item may run ahead: marked run_ahead, and using no fixture beyond ALONE_FIXTURES."""
    if item.get_closest_marker("run_ahead") is None or not hasattr(item, "function"):
        return False
    return _fixtures(item) <= ALONE_FIXTURES


@dataclass
class Ran:
    """One case run ahead: its bucket (None: not created) and that bucket's creation, its checks, what it raised,
    what it recorded; done once it has ended (or will not run)."""

    check: Check
    wants_bucket: bool
    missing: str | None = None
    bucket: str | None = None
    created: Line = field(default_factory=Line)
    error: BaseException | None = None
    recorded: Line = field(default_factory=Line)
    ran: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class RunAhead:
    """The session's cases that run ahead, and what each did (case ID -> Ran) until pytest reaches it."""

    def __init__(self, items: list[pytest.Item]) -> None:
        self.items = [item for item in items if runs_alone(item)]
        self.ran: dict[str, Ran] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def needs(self) -> set[str]:
        """The shared fixtures the cases that will run ahead use."""
        return {name for item in self.items for name in _fixtures(item)} & SHARED_FIXTURES

    def start(self, s3: S3, buckets: Buckets, fixtures: dict[str, Any]) -> None:
        """Start every case of the session that may run ahead, each line in a thread of its own (the shared
        fixtures, needs(), from fixtures): a case alone on its bucket is a line, and the cases that share a line
        fixture run one after another, in their order."""
        items, self.items = self.items, []
        lines: dict[str, list[Callable[[], None]]] = {}
        for item in items:
            case = case_of(item)
            names = _fixtures(item)
            ran = Ran(Check(case), "bucket" in names, buckets.next_name() if "missing_bucket" in names else None)
            args = {**fixtures, "case": case, "check": ran.check, "missing_bucket": ran.missing}
            line = next((name for name in LINE_FIXTURES if name in names), case.id)
            lines.setdefault(line, []).append(self._body(s3, buckets, item.function, names, args, ran))
            self.ran[case.id] = ran
        for number, line in enumerate(lines.values()):
            thread = threading.Thread(target=self._run_line, args=(line,), name=f"s3cors-ahead-{number}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run_line(self, line: list[Callable[[], None]]) -> None:
        for body in line:
            body()

    def _body(self, s3: S3, buckets: Buckets, function: Callable, names: set[str], args: dict[str, Any],
              ran: Ran) -> Callable[[], None]:
        """The case: its bucket created, then the test called with its fixtures, each recorded as a case of its
        own (Recorder.line); what the test raises is kept for its turn."""
        def call() -> None:
            try:
                if self._stopping.is_set():
                    return
                if ran.wants_bucket:
                    name = buckets.next_name()
                    with s3.recorder.line() as ran.created:
                        if not buckets.try_create(name).ok:
                            return  # the case creates its bucket in its turn, and meets the refusal there
                    ran.bucket = name
                with s3.recorder.line() as ran.recorded:
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
        case = case_of(item)
        ran = self.ran_for(case)
        if ran is None or not ran.ran:
            return None
        return self.ran.pop(case.id)

    def stop(self) -> None:
        """Start no further case, and wait for those running (before the run removes its buckets)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join()
        for ran in self.ran.values():  # a case that never started runs in its turn
            ran.done.set()


def _fixtures(item: pytest.Item) -> set[str]:
    return set(inspect.signature(item.function).parameters)
