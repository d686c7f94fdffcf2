"""Exceptions that carry a verdict other than pass/fail: bad input, infrastructure trouble, unsupported."""

# Exit status of a run stopped because the target cannot be used at all (unreachable, bad credentials...).
# pytest itself uses 0-5; a distinct code lets CI tell "server broken" from "server non-conformant".
EXIT_TARGET_UNUSABLE = 6


class SuiteUsageError(Exception):
    """Bad input from the user: a profile, an expectation file, a case table or an option value."""


class InfraError(Exception):
    """The exchange failed for infrastructure reasons (connection, timeout, 5xx after retries)."""


class Unsupported(Exception):
    """The target does not implement the feature under test (NotImplemented, or its profile says so)."""
