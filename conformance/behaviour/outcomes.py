"""The one table of outcomes: what each means and how every report shows it (pytest status and so the exit
code, JUnit, Allure, the compatibility matrix, the regression diff, the certification counts).

Every report reads this table; none keeps a mapping of its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One outcome and its form in each report."""

    name: str
    meaning: str
    pytest: str          # the pytest report status: passed, failed or skipped (failed fails the run: exit 1)
    junit: str | None    # the JUnit child element: failure, error, skipped, or None (a passing testcase)
    allure: str          # the Allure status: passed, failed, broken or skipped
    symbol: str          # the compatibility matrix cell ({verdict}: the verdict behind a known deviation)
    distance: int | None  # diff: how far a verdict is from pass (0 = pass); None: not a verdict (see below)

    @property
    def fails_run(self) -> bool:
        """Whether a case with this outcome makes the run fail (pytest exit status 1)."""
        return self.pytest == "failed"

    @property
    def is_verdict(self) -> bool:
        """Whether this is a verdict (what the server did); expected-fail and unexpected-pass only say how a
        verdict compares with the expectation file."""
        return self.distance is not None


TABLE = (
    Outcome("pass", "every check held", "passed", None, "passed", "pass", 0),
    Outcome("fail", "a MUST check failed, or the server answered 5xx where a MUST check wanted a 2xx or 4xx "
            "answer", "failed", "failure", "failed", "**FAIL**", 3),
    Outcome("non-strict", "the MUST checks held, a SHOULD check (AWS's exact form) failed", "failed", "failure",
            "failed", "non-strict", 1),
    Outcome("info", "an INFO case: observed and reported, never failing", "passed", None, "passed", "info", 0),
    Outcome("unsupported", "the target does not implement the feature, or its profile says so", "skipped",
            "skipped", "skipped", "unsupported", 2),
    Outcome("expected-fail", "the verdict (fail or non-strict) is the one the expectation file records",
            "skipped", "skipped", "skipped", "known: {verdict}", None),
    Outcome("unexpected-pass", "the expectation file records a deviation that did not happen: a stale entry",
            "failed", "failure", "failed", "**stale**", None),
    Outcome("error", "no verdict: no answer (refused, reset, timeout, TLS), throttling that never ended, a "
            "precondition the suite could not establish, or a bug of the suite", "failed", "error", "broken",
            "**error**", 4),
)

BY_NAME = {o.name: o for o in TABLE}
OUTCOMES = tuple(o.name for o in TABLE)
VERDICTS = tuple(o.name for o in TABLE if o.is_verdict)   # what a server can be found doing
JUDGED = ("pass", "non-strict", "fail")                   # verdicts that say something about conformance


def outcome(name: str) -> Outcome:
    """The table row of an outcome; an unknown name is a bug of whoever wrote it."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown outcome {name!r} (known: {', '.join(OUTCOMES)})") from None


def fails_run(name: str) -> bool:
    """Whether a case with this outcome fails the run."""
    return outcome(name).fails_run


def diff_direction(old: str, new: str) -> str:
    """'worse' (farther from pass), 'better' (closer to pass) or 'changed' (same distance, or not verdicts)."""
    a, b = BY_NAME.get(old), BY_NAME.get(new)
    if a is None or b is None or not a.is_verdict or not b.is_verdict or a.distance == b.distance:
        return "changed"
    return "worse" if b.distance > a.distance else "better"
