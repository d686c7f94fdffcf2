"""Bounded polling: how the suite waits for a new configuration to take effect, never with a fixed sleep."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def pause(seconds: float) -> None:
    """The one place the suite waits: between poll attempts and retries, never as a fixed settle time."""
    time.sleep(seconds)


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float, first_interval: float = 0.05) -> T:
    """Call fetch until done(result) or timeout seconds passed; return the last result either way."""
    deadline = time.monotonic() + timeout
    interval = first_interval
    while True:
        result = fetch()
        if done(result) or time.monotonic() + interval > deadline:
            return result
        pause(interval)
        interval = min(interval * 2, 1.0)
