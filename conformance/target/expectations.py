"""Expectation files: a target's known deviations from the spec, keyed by case ID."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from conformance.datafile import load_toml, reject_unknown_keys
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir
from conformance.target.profiles import is_file

# What a deviation can be recorded as: a MUST miss or a SHOULD miss (a 5xx answer is one of them, named by
# its status and code). Nothing about infrastructure (error) can be expected: no answer is never a deviation.
EXPECTABLE = ("fail", "non-strict")
_KEYS = {"outcome", "reason", "bug", "status", "code"}


@dataclass(frozen=True)
class Expectation:
    """One recorded deviation."""

    case_id: str
    outcome: str
    reason: str
    bug: str | None = None
    status: int | None = None  # a verdict resting on a 5xx answer: its status
    code: str | None = None    # and its S3 error code (None: the body named none)

    def public(self) -> dict:
        """As written into results.json."""
        out = {"outcome": self.outcome, "reason": self.reason, "bug": self.bug}
        if self.status is not None:
            out.update(status=self.status, code=self.code)
        return out

    def describe(self) -> str:
        """'fail', or 'fail with 500 InternalError'."""
        if self.status is None:
            return self.outcome
        return f"{self.outcome} with {self.status}" + (f" {self.code}" if self.code else "")


def expectations_path(name: str) -> Path:
    """Map a name (fixtures/expectations/NAME.toml) or a path to the file."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return Path(name)
    return fixtures_dir() / "expectations" / f"{name}.toml"


def load_expectations(path: Path, known_ids: set[str]) -> dict[str, Expectation]:
    """Read and validate an expectation file; unknown case IDs and keys are errors naming the file."""
    if not is_file(path):
        raise SuiteUsageError(f"{path}: no such expectation file")
    data = load_toml(path)
    result = {}
    for case_id, entry in data.items():
        where = f"{path}: [{case_id}]"
        if case_id not in known_ids:
            raise SuiteUsageError(f"{where}: unknown case ID {case_id!r}")
        if not isinstance(entry, dict):
            raise SuiteUsageError(f"{where}: must be a table with outcome, reason and optionally bug")
        reject_unknown_keys(where, entry, _KEYS)
        if entry.get("outcome") == "error":
            raise SuiteUsageError(
                f"{where}: outcome = \"error\" can no longer be expected: an error is no answer (refused, reset, "
                "timeout, TLS, throttling), which is never a known deviation. If the server answers this case "
                "with a 5xx, that answer is a verdict: write outcome = \"fail\" with the status and code it "
                "answers, e.g. status = 500 and code = \"InternalError\" (outcome = \"non-strict\" in a SHOULD "
                "case); if it does not answer, fix the target or leave the case out with --case")
        if entry.get("outcome") not in EXPECTABLE:
            raise SuiteUsageError(f"{where}: 'outcome' must be one of {', '.join(EXPECTABLE)}, "
                                  f"not {entry.get('outcome')!r}")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise SuiteUsageError(f"{where}: 'reason' is required: say why the target deviates")
        bug = entry.get("bug")
        if bug is not None and (not isinstance(bug, str) or not re.match(r"https?://", bug)):
            raise SuiteUsageError(f"{where}: 'bug' must be an http(s) link")
        status, code = entry.get("status"), entry.get("code")
        if status is not None and (type(status) is not int or not 500 <= status <= 599):
            raise SuiteUsageError(f"{where}: 'status' is the 5xx status a verdict rests on (500-599), not {status!r}")
        if code is not None and (status is None or not isinstance(code, str) or not code.strip()):
            raise SuiteUsageError(f"{where}: 'code' is the S3 error code of the 5xx answer named by 'status'"
                                  + ("" if status is not None else " (status is missing)"))
        result[case_id] = Expectation(case_id, entry["outcome"], entry["reason"].strip(), bug, status,
                                      code.strip() if code else None)
    return result
