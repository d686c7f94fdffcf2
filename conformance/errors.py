"""Exceptions that carry a verdict other than pass/fail: bad input, infrastructure trouble, unsupported, and
a server error (a 5xx answer, which is a verdict: the case fails)."""

# Exit status of a run stopped because the target cannot be used at all (unreachable, bad credentials...).
# pytest itself uses 0-5; a distinct code lets CI tell "server broken" from "server non-conformant".
EXIT_TARGET_UNUSABLE = 6


class SuiteUsageError(Exception):
    """Bad input from the user: a profile, an expectation file, a case table or an option value."""


class InfraError(Exception):
    """No answer: connection refused or reset, timeout, TLS failure, or throttling that never ends (503 after the
    retries); also a gateway's 502/504 (the server behind it did not answer)."""


class Inconclusive(Exception):
    """A precondition the case needs did not hold (another case covers that failure): no verdict."""


class ServerError(Exception):
    """The server answered a request with a 5xx status, still there after the retries: a verdict, not silence.

    The case fails at the level of the check that expected a 2xx or 4xx answer (MUST, capped by the case level),
    with the status and error code in its reason; an expectation entry can name that status and code."""

    def __init__(self, request: str, status: int, code: str | None = None, message: str | None = None,
                 attempts: int = 1) -> None:
        self.request, self.status, self.code, self.message = request, status, code or None, message or None
        self.attempts = attempts
        super().__init__(f"{request} answered {self.answer}" + (f" ({self.message})" if self.message else "")
                         + (f" on each of {attempts} attempts" if attempts > 1 else ""))

    @property
    def answer(self) -> str:
        """'500 InternalError', or '500' when the body names no S3 error code."""
        return f"{self.status} {self.code}" if self.code else str(self.status)


class Unsupported(Exception):
    """The target does not implement the feature under test (NotImplemented, or its profile says so)."""


def is_silence(status: int) -> bool:
    """A 5xx that is no answer from the server itself: throttling or unavailability (503: SlowDown,
    ServiceUnavailable), or a gateway whose upstream did not answer (502, 504)."""
    return status in (502, 503, 504)
