"""Independent requests in flight together: at most the run's concurrency at once, evidence kept in call order.

The bound is per process (the plugin gives each xdist worker its share of --concurrency), and every request holds
a place (slot) while it is in flight, whichever thread sends it. Calls of a gather run on a shared pool of that
many threads; a gather inside a gathered call runs its calls one after another
in that call's thread, so the bound holds without nested pools. Whatever a gathered call wants to happen in
order (the recorder keeping an exchange as evidence) it passes to in_order(): that runs when the gather ends,
call by call, in the thread that called gather, as if the calls had run one after another. The case pytest runs
goes first for a place: the work done ahead of it fills the places it leaves."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")

DEFAULT_CONCURRENCY = 8  # few enough to be polite to any endpoint, enough to hide most of a far one's latency
MAX_CONCURRENCY = 64

class _Slots:
    """The places in flight. The case pytest runs (its thread, and the calls it gathers) goes first: work done
    ahead of it (cases running ahead, requests sent ahead) takes a place only when that case waits for none, as
    the case pytest runs is what the run waits for."""

    def __init__(self, n: int) -> None:
        self.free = n
        self.changed = threading.Condition()
        self.first_waiting = 0  # threads of the running case waiting for a place
        self.waiting = 0  # all threads waiting for a place

    def acquire(self, first: bool) -> None:
        """Take a place, once one is free (and, for work ahead, once the running case waits for none)."""
        with self.changed:
            self.waiting += 1
            self.first_waiting += first
            try:
                self.changed.wait_for(lambda: self.free > 0 and (first or not self.first_waiting))
            finally:
                self.waiting -= 1
                self.first_waiting -= first
            self.free -= 1

    def release(self) -> None:
        """Give a place back."""
        with self.changed:
            self.free += 1
            self.changed.notify_all()


_limit = DEFAULT_CONCURRENCY
_slots = _Slots(_limit)  # requests in flight: taken by every request of the process
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()  # .actions: the in_order() actions of the gathered call this thread runs, or None;
# .first: whether the gathered call this thread runs is the running case's (see _Slots)

# Ctrl-C and interpreter exit end the whole run at once; anything else a call raises is its result.
_UNWIND = (KeyboardInterrupt, SystemExit, GeneratorExit)


def set_limit(n: int) -> None:
    """Set how many calls may be in flight at once in this process (1: strictly one after another)."""
    global _limit, _pool, _slots
    if not 1 <= n <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {n}")
    with _pool_lock:
        _limit = n
        _slots = _Slots(n)
        old, _pool = _pool, None
    if old is not None:
        old.shutdown(wait=False)


def limit() -> int:
    """How many calls may be in flight at once in this process (also the size of the HTTP connection pools)."""
    return _limit


@contextmanager
def slot() -> Iterator[None]:
    """Hold one of the run's in-flight places for one request (its answer included): however many threads
    send (gathers, cases running ahead), never more than the limit at once."""
    slots = _slots
    slots.acquire(_goes_first())
    try:
        yield
    finally:
        slots.release()


def _goes_first() -> bool:
    """Whether this thread works for the case pytest runs: pytest's own thread, or a call that case gathered."""
    first = getattr(_local, "first", None)
    return threading.current_thread() is threading.main_thread() if first is None else first


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_limit, thread_name_prefix="s3cors-inflight")
        return _pool


def in_order(action: Callable[[], Any]) -> None:
    """Run action now, or, inside a gathered call, when the gather ends, after those of the calls before it."""
    actions = getattr(_local, "actions", None)
    if actions is None:
        action()
    else:
        actions.append(action)


def submit(call: Callable[[], T]) -> Future:
    """Start call on the run's pool and return its future at once; with concurrency 1, or inside a gathered
    call, it runs here, now (one after another, and no pool inside the pool)."""
    if _limit > 1 and getattr(_local, "actions", None) is None:
        return _executor().submit(call)
    future: Future = Future()
    future.set_running_or_notify_cancel()
    try:
        future.set_result(call())
    except _UNWIND:
        raise
    except BaseException as exc:  # noqa: BLE001 - the future's result, raised where it is asked for
        future.set_exception(exc)
    return future


def settle(futures: Sequence[Future]) -> None:
    """Wait until none of these futures is still running (cancelled ones included)."""
    wait(list(futures))


def _run_one(call: Callable[[], T], first: bool) -> tuple[T | None, BaseException | None, list[Callable[[], Any]]]:
    """Run a call on a pool thread, collecting its in_order() actions, first in line for a place if the thread
    that gathered it is; never raises."""
    actions: list[Callable[[], Any]] = []
    _local.actions, _local.first = actions, first
    try:
        return call(), None, actions
    except BaseException as exc:  # noqa: BLE001 - handed to the gathering thread, which raises it
        return None, exc, actions
    finally:
        _local.actions = _local.first = None


def gather(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent calls, at most the run's concurrency in flight; results in call order; if any raised, the
    first exception in call order is raised after all ended."""
    calls = list(calls)
    if _limit <= 1 or len(calls) <= 1 or getattr(_local, "actions", None) is not None:
        return _one_after_another(calls)
    first = _goes_first()
    futures: list[Future] = [_executor().submit(_run_one, call, first) for call in calls]
    try:
        wait(futures)
    except BaseException:  # Ctrl-C while waiting: start nothing more, let what is in flight end
        for future in futures:
            future.cancel()
        wait([f for f in futures if not f.cancelled()])
        for future in futures:
            if not future.cancelled():
                for action in future.result()[2]:
                    action()
        raise
    results: list[T] = []
    first: BaseException | None = None
    for future in futures:
        value, error, actions = future.result()
        for action in actions:
            action()
        if error is not None and first is None:
            first = error
        results.append(value)  # type: ignore[arg-type]
    if first is not None:
        raise first
    return results


def _one_after_another(calls: list[Callable[[], T]]) -> list[T]:
    """gather's contract with one call in flight at a time (concurrency 1, or inside a gathered call)."""
    results: list[T] = []
    first: BaseException | None = None
    for call in calls:
        try:
            results.append(call())
        except _UNWIND:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised once every call has ended
            results.append(None)  # type: ignore[arg-type]
            first = first or exc
    if first is not None:
        raise first
    return results
