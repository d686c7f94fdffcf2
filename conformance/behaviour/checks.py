"""Soft checks inside a case, and the rules that turn them (and exceptions) into an outcome."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from conformance.behaviour.tables import Case
from conformance.errors import Inconclusive, InfraError, ServerError, Unsupported
from conformance.target.expectations import Expectation
from conformance.behaviour.outcomes import OUTCOMES  # noqa: F401  (re-exported: the outcome names)

_RANK = {"MUST": 0, "SHOULD": 1, "INFO": 2}


class RequirementFailed(AssertionError):
    """A MUST check failed in a way that makes the rest of the case meaningless."""


@dataclass
class CheckResult:
    """One recorded comparison."""

    level: str
    what: str
    ok: bool
    expected: Any = None
    actual: Any = None

    def public(self) -> dict:
        """As written into results.json."""
        return {"level": self.level, "what": self.what, "ok": self.ok,
                "expected": _jsonable(self.expected), "actual": _jsonable(self.actual)}

    def line(self) -> str:
        """One line for the terminal."""
        return f"[{self.level}] {self.what}: expected {self.expected!r}, got {self.actual!r}"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class Check:
    """The checks of one case. Checks do not stop the case (except require), so every miss is recorded."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.results: list[CheckResult] = []
        self.observations: dict[str, Any] = {}

    def _level(self, level: str) -> str:
        # A check is never stronger than its case: in an INFO case everything is observed, nothing fails.
        return level if _RANK[level] >= _RANK[self.case.level] else self.case.level

    def that(self, level: str, ok: bool, what: str, expected: Any = None, actual: Any = None) -> bool:
        """Record a check of the given level; return whether it held."""
        self.results.append(CheckResult(self._level(level), what, bool(ok), expected, actual))
        return bool(ok)

    def must(self, ok: bool, what: str, expected: Any = None, actual: Any = None) -> bool:
        """Record a MUST check."""
        return self.that("MUST", ok, what, expected, actual)

    def should(self, ok: bool, what: str, expected: Any = None, actual: Any = None) -> bool:
        """Record a SHOULD check."""
        return self.that("SHOULD", ok, what, expected, actual)

    def info(self, ok: bool, what: str, expected: Any = None, actual: Any = None) -> bool:
        """Record an INFO check (reported, never failing)."""
        return self.that("INFO", ok, what, expected, actual)

    def equal(self, level: str, what: str, expected: Any, actual: Any) -> bool:
        """Record expected == actual at the given level."""
        return self.that(level, expected == actual, what, expected, actual)

    def require(self, ok: bool, what: str, expected: Any = None, actual: Any = None) -> None:
        """A MUST check that stops the case when it fails (later steps would be meaningless)."""
        if not self.that("MUST", ok, what, expected, actual):
            raise RequirementFailed(f"{what}: expected {expected!r}, got {actual!r}")

    def precondition(self, ok: bool, what: str) -> None:
        """Stop the case without a conformance verdict when a precondition, checked by another case, fails."""
        if not ok:
            raise Inconclusive(what)

    def observe(self, name: str, value: Any) -> None:
        """Keep an observation (no verdict) for the report."""
        self.observations[name] = value


@contextmanager
def establishing(what: str) -> Iterator[None]:
    """Around a step that establishes a precondition (setup, not the request under test): a 5xx answer there
    means the suite could not establish it (Inconclusive: error), not a verdict on the case."""
    try:
        yield
    except ServerError as exc:
        raise Inconclusive(f"{what}: {exc}") from None


@dataclass
class Verdict:
    """The outcome of a case and why."""

    outcome: str
    reason: str
    verdict: str  # the outcome before the expectation file was applied
    server_error: dict | None = None  # {"status", "code"} of the 5xx answer the verdict rests on, if any


def server_error_of(exc: BaseException | None) -> dict | None:
    """The status and code of the 5xx answer that ended a case, as an expectation entry names them."""
    return {"status": exc.status, "code": exc.code} if isinstance(exc, ServerError) else None


# What a case raises to end with a verdict (not a harness bug): its record's reason says all, without a traceback.
VERDICT_EXCEPTIONS = (ServerError, Unsupported, InfraError, Inconclusive, RequirementFailed)


def needs_traceback(exc: BaseException) -> bool:
    """Whether the exception that ended a case is a harness bug (judge() says so), whose report shows its
    traceback."""
    return not isinstance(exc, VERDICT_EXCEPTIONS)


def judge(case: Case, check: Check | None, exc: BaseException | None) -> tuple[str, str]:
    """The raw outcome of a case from its checks and the exception that ended it, if any.

    A 5xx answer (ServerError) is a failed check of the level that expected a 2xx or 4xx answer (MUST, capped
    by the case level), recorded among the case's checks; only silence and unestablished preconditions are
    errors."""
    if isinstance(exc, ServerError):
        check = check or Check(case)
        check.must(False, f"{exc.request}: a 2xx or 4xx answer (not a server error)", "2xx or 4xx",
                   exc.answer + (f" ({exc.message})" if exc.message else ""))
        exc = None
    if isinstance(exc, Unsupported):
        return "unsupported", str(exc)
    if isinstance(exc, InfraError):
        return "error", f"infrastructure: {exc}"
    if isinstance(exc, Inconclusive):
        return "error", f"inconclusive: {exc}"
    if exc is not None and needs_traceback(exc):
        return "error", f"harness error: {type(exc).__name__}: {exc}"
    results = check.results if check else []
    failed_must = [r for r in results if not r.ok and r.level == "MUST"]
    failed_should = [r for r in results if not r.ok and r.level == "SHOULD"]
    if failed_must:
        return "fail", "; ".join(r.line() for r in failed_must + failed_should)
    if failed_should:
        return "non-strict", "; ".join(r.line() for r in failed_should)
    if isinstance(exc, RequirementFailed):
        return ("info", str(exc)) if case.level == "INFO" else ("non-strict", str(exc))
    if not results:
        # A case that checked nothing cannot fail, so it must not pass either.
        return "error", "harness error: the case made no check"
    if case.level == "INFO":
        misses = [r for r in results if not r.ok]
        return "info", "; ".join(r.line() for r in misses) or "observed as documented"
    return "pass", ""


def apply_expectation(outcome: str, reason: str, expectation: Expectation | None,
                      server_error: dict | None = None) -> Verdict:
    """Compare the raw outcome with the target's recorded deviation, if any.

    Nothing but a verdict can match: error and unsupported stay what they are. An entry naming a status (and
    code) matches only a verdict resting on that 5xx answer; an entry naming none matches only a verdict that
    rests on no server error."""
    if expectation is None or outcome in ("unsupported", "error"):
        return Verdict(outcome, reason, outcome, server_error)
    seen = _answer(server_error)
    wanted = _answer({"status": expectation.status, "code": expectation.code}) if expectation.status else None
    if outcome == expectation.outcome and seen == wanted:
        return Verdict("expected-fail", f"{expectation.reason} [{reason}]", outcome, server_error)
    if outcome in ("pass", "info") or (expectation.outcome == "fail" and outcome == "non-strict" and not seen):
        return Verdict("unexpected-pass",
                       f"stale expectation: recorded as {expectation.describe()} ({expectation.reason}), "
                       f"now {outcome}{': ' + reason if reason else ''}", outcome, server_error)
    hint = (f"; if this answer is the known deviation, the entry says status = {server_error['status']}"
            + (f", code = \"{server_error['code']}\"" if server_error.get("code") else "")) if seen else ""
    return Verdict(outcome, f"{reason} (expectation file says {expectation.describe()}: {expectation.reason}{hint})",
                   outcome, server_error)


def _answer(server_error: dict | None) -> str | None:
    if not server_error:
        return None
    return f"{server_error['status']} {server_error['code']}" if server_error.get("code") else str(server_error["status"])
