"""inflight.gather: results in call order, the first exception in call order after every call ended, never more
calls in flight than the limit, and what calls keep in order (the recorder's evidence) kept in call order."""

from __future__ import annotations

import threading

import pytest

from conformance.target import inflight
from conformance.target.polling import poll
from conformance.target.recorder import Recorder
from conformance.target.redact import Redactor


@pytest.fixture(params=[1, 3], ids=["concurrency-1", "concurrency-3"])
def limit(request):
    before = inflight.limit()
    inflight.set_limit(request.param)
    yield request.param
    inflight.set_limit(before)


def _released_in_reverse(n: int):
    """n calls where call i waits until call i+1 ended (when they overlap), so completion order is reversed."""
    done = [threading.Event() for _ in range(n)]

    def call(i: int):
        def run():
            if i + 1 < n and inflight.limit() >= n:
                assert done[i + 1].wait(10), "the calls did not run together"
            done[i].set()
            return i
        return run
    return [call(i) for i in range(n)]


def test_results_in_call_order(limit):
    assert inflight.gather(_released_in_reverse(3)) == [0, 1, 2]
    assert inflight.gather([]) == []


def test_first_exception_in_call_order_after_all_ended(limit):
    ended = []

    def call(i: int):
        def run():
            ended.append(i)
            if i in (1, 3):
                raise ValueError(f"call {i}")
            return i
        return run
    with pytest.raises(ValueError, match="call 1"):
        inflight.gather([call(i) for i in range(5)])
    assert sorted(ended) == [0, 1, 2, 3, 4]


class _Overlap:
    """Counts calls in flight, the most at once; each call holds its place until `limit` are in flight together
    (or 10 s pass), so the calls overlap as much as the limit allows."""

    def __init__(self, limit: int) -> None:
        self.limit, self.active, self.most = limit, 0, 0
        self.lock, self.full = threading.Lock(), threading.Event()

    def hold(self) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            if self.active == self.limit:
                self.full.set()
        self.full.wait(10)
        with self.lock:
            self.active -= 1


def test_never_more_in_flight_than_the_limit(limit):
    overlap = _Overlap(limit)
    inflight.gather([overlap.hold] * (limit * 4))
    assert overlap.most == limit


def test_a_gather_inside_a_gathered_call_stays_within_the_limit(limit):
    lock = threading.Lock()
    active, most = 0, 0

    def leaf():
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        with lock:
            active -= 1
        return threading.current_thread().name

    names = inflight.gather([lambda: inflight.gather([leaf, leaf]) for _ in range(limit * 2)])
    assert all(a == b for a, b in names), "an inner gather runs in its call's thread"
    assert most <= limit


def test_requests_of_every_thread_share_the_limit(limit):
    """Cases running ahead send from the pool while the running case sends from the main thread: each request
    holds a slot, so together they never exceed the limit."""
    overlap = _Overlap(limit)

    def request():
        with inflight.slot():
            overlap.hold()

    background = threading.Thread(target=lambda: inflight.gather([request] * (limit * 4)))
    background.start()
    for _ in range(limit * 4):
        request()
    background.join()
    assert overlap.most == limit


def test_evidence_in_call_order(limit):
    recorder = Recorder(Redactor())
    recorder.current = []

    def request(i: int):
        def run():
            for attempt in (1, 2):
                recorder.add("GET", f"http://h/{i}", [], None, status=200, note=f"{i}.{attempt}")
            return i
        return run
    calls = _released_in_reverse(3)
    inflight.gather([lambda c=c, r=request(i): (c(), r())[1] for i, c in enumerate(calls)])
    assert [x["note"] for x in recorder.current] == ["0.1", "0.2", "1.1", "1.2", "2.1", "2.2"]
    assert [x["seq"] for x in recorder.current] == [1, 2, 3, 4, 5, 6]
    assert recorder.total == 6


def test_bad_limits_are_refused():
    for bad in (0, -1, inflight.MAX_CONCURRENCY + 1):
        with pytest.raises(ValueError):
            inflight.set_limit(bad)


def test_buckets_done_with_are_removed_together_and_the_rest_at_the_end(limit):
    """discard() removes buckets in batches of the concurrency (at once with 1), each with its objects, and
    cleanup() everything still there; exchanges outside a case are counted, not kept, and so are the removals a
    case's discard() sets off (the buckets of several cases: which case's turn it is depends on timing when cases
    run ahead)."""
    from conformance.target.buckets import Buckets
    from conformance.target.http import S3
    from conformance.target.profiles import Credentials, Settings, resolve_target
    from suiterun import MotoServer

    with MotoServer() as moto:
        target, _ = resolve_target(Settings(endpoint_url=moto.url))
        s3 = S3(target, Credentials("k", "s"), Recorder(Redactor()))
        registry = Buckets(s3, "000000000000-abcdef", "main")
        names = inflight.gather([registry.create for _ in range(limit + 1)])
        for name in names:
            moto.client.put_object(Bucket=name, Key="a", Body=b"x")
            moto.client.put_object(Bucket=name, Key="b/c", Body=b"x")
        s3.recorder.current = evidence = []
        for i, name in enumerate(names[:limit], 1):
            registry.discard(name)
            assert evidence == [] and s3.recorder.case_requests == 0, i
            assert (set(names[:limit]) & moto.names()) == (set() if i == limit else set(names[:limit])), i
        s3.recorder.current = None
        assert moto.names() >= {names[limit]}
        assert registry.cleanup() == [] and not (set(names) & moto.names())
        assert registry.created == [] and s3.recorder.total > 0


def test_the_running_case_goes_first_for_a_place():
    """Work done ahead (any thread but pytest's) waits while the case pytest runs waits for a place: the run waits
    for that case, not for the work ahead of it."""
    inflight.set_limit(2)
    try:
        order: list[str] = []
        held = [threading.Event(), threading.Event()]
        holding = [threading.Event(), threading.Event()]

        def hold(i: int) -> None:
            with inflight.slot():
                holding[i].set()
                held[i].wait(30)

        def ahead() -> None:
            with inflight.slot():
                order.append("ahead")

        holders = [threading.Thread(target=hold, args=(i,)) for i in (0, 1)]
        for thread in holders:
            thread.start()
        for event in holding:
            assert event.wait(30)
        background = threading.Thread(target=ahead)
        background.start()
        assert poll(lambda: inflight._slots.waiting, bool, 30, 0.005)  # the work ahead waits for a place
        releaser = threading.Thread(target=lambda: (poll(lambda: inflight._slots.first_waiting, bool, 30, 0.005),
                                                    held[0].set()))
        releaser.start()
        with inflight.slot():  # pytest's thread: first, although the work ahead waited longer
            order.append("running case")
        held[1].set()
        for thread in (*holders, background, releaser):
            thread.join(30)
        assert order == ["running case", "ahead"]
    finally:
        inflight.set_limit(inflight.DEFAULT_CONCURRENCY)
