"""Cases that run ahead: cases that touch only a bucket of their own (cases(..., alone=True)), run together; the
cases that share the scratch bucket (rejected configurations) run one after another, beside them.

Such a case's requests depend on each other (put, then poll, then check), so sending them ahead one by one is
not possible; but nothing another case does can change its answers, and nothing it does can change another's.
In a run without xdist workers, the first case that needs a new bucket runs every such case of the session at
once, each in its own thread (at most --concurrency in flight), with its own bucket and its own checks. When
pytest reaches the case, its checks, its outcome (whatever the test raised) and its exchanges, noted 'run
ahead', become the case's, as if it had run then: the same test code ran, against the same server, once.

Under xdist a worker does not know its cases ahead, so each runs in its turn."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

from conformance.behaviour.checks import Check
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
    """One case run ahead: its bucket (and that bucket's creation), its checks, what it raised, its exchanges."""

    bucket: str | None
    created: list[dict]
    check: Check
    missing: str | None = None
    error: BaseException | None = None
    exchanges: list[dict] = field(default_factory=list)


class RunAhead:
    """The session's cases that run ahead, and what each did (case ID -> Ran) until pytest reaches it."""

    def __init__(self, items: list[pytest.Item]) -> None:
        self.items = [item for item in items if runs_alone(item)]
        self.ran: dict[str, Ran] = {}

    def needs(self) -> set[str]:
        """The shared fixtures the cases that will run ahead use."""
        return {name for item in self.items for name in _fixtures(item)} & SHARED_FIXTURES

    def run(self, s3: S3, buckets: Buckets, fixtures: dict[str, Any]) -> None:
        """Run every case of the session that may run ahead, together; their buckets come from those reserved,
        the shared fixtures (needs()) from fixtures. The cases that use the scratch bucket run one after another,
        in their order, beside the others."""
        items, self.items = self.items, []
        lines: dict[str, list[Callable[[], None]]] = {}
        for item in items:
            case = item.callspec.params["case"]
            names = _fixtures(item)
            bucket, created = None, []
            if "bucket" in names:
                taken = buckets.take_reserved()
                if taken is None:  # its bucket could not be created ahead: it runs in its turn
                    continue
                bucket, created = taken
            ran = Ran(bucket, created, Check(case), buckets.next_name() if "missing_bucket" in names else None)
            args = {**fixtures, "case": case, "check": ran.check, "bucket": ran.bucket, "missing_bucket": ran.missing}
            line = "scratch_bucket" if "scratch_bucket" in names else case.id
            lines.setdefault(line, []).append(_body(s3, item.function, {name: args[name] for name in names}, ran))
            self.ran[case.id] = ran
        order = sorted(lines.values(), key=len, reverse=True)  # the longest line first: it ends last
        s3.recorder.gather_apart([lambda line=line: [body() for body in line] for line in order])

    def ran_by(self, case) -> Ran | None:
        """What the case did ahead, if it ran ahead (its bucket fixtures come from it)."""
        return self.ran.get(case.id) if case is not None else None

    def finish(self, item: pytest.Item) -> Ran | None:
        """What the case did ahead, taken (the test is not called again), or None: it runs now (and so will not
        run ahead)."""
        if item in self.items:
            self.items.remove(item)
        case = item.callspec.params.get("case") if hasattr(item, "callspec") else None
        return self.ran.pop(case.id, None) if case is not None else None


def _fixtures(item: pytest.Item) -> set[str]:
    return set(inspect.signature(item.function).parameters)


def _body(s3: S3, function: Callable, kwargs: dict[str, Any], ran: Ran) -> Callable[[], None]:
    """The test called with its fixtures, its exchanges kept apart; what it raises is kept for its turn (Ctrl-C
    ends the run at once)."""
    def call() -> None:
        with s3.recorder.capture() as ran.exchanges:
            try:
                function(**kwargs)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - pytest's outcomes too (skip, fail): raised in its turn
                ran.error = exc
    return call
