"""Independent requests sent through one function, so that they can run concurrently (at most the run's
concurrency in flight). This version sends them one after another."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def gather(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent calls, at most the run's concurrency in flight; results in call order; if any raised, the
    first exception in call order is raised after all ended."""
    results: list[T] = []
    first: BaseException | None = None
    for call in calls:
        try:
            results.append(call())
        except BaseException as exc:  # noqa: BLE001 - every call ends before the first problem is raised
            if first is None:
                first = exc
            results.append(None)  # type: ignore[arg-type]
    if first is not None:
        raise first
    return results
