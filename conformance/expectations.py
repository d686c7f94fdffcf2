"""Expectation files: a target's known deviations from the spec, keyed by case ID."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import SuiteUsageError
from .paths import fixtures_dir
from .targets import is_file

# What a deviation can be recorded as: a MUST miss, a SHOULD miss, or a deterministic server error (5xx).
EXPECTABLE = ("fail", "non-strict", "error")
_KEYS = {"outcome", "reason", "bug"}


@dataclass(frozen=True)
class Expectation:
    """One recorded deviation."""

    case_id: str
    outcome: str
    reason: str
    bug: str | None = None

    def public(self) -> dict:
        """As written into results.json."""
        return {"outcome": self.outcome, "reason": self.reason, "bug": self.bug}


def expectations_path(name: str) -> Path:
    """Map a name (fixtures/expectations/NAME.toml) or a path to the file."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return Path(name)
    return fixtures_dir() / "expectations" / f"{name}.toml"


def load_expectations(path: Path, known_ids: set[str]) -> dict[str, Expectation]:
    """Read and validate an expectation file; unknown case IDs and keys are errors naming the file."""
    if not is_file(path):
        raise SuiteUsageError(f"{path}: no such expectation file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SuiteUsageError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SuiteUsageError(f"{path}: cannot read it ({exc.strerror})") from None
    result = {}
    for case_id, entry in data.items():
        where = f"{path}: [{case_id}]"
        if case_id not in known_ids:
            raise SuiteUsageError(f"{where}: unknown case ID {case_id!r}")
        if not isinstance(entry, dict):
            raise SuiteUsageError(f"{where}: must be a table with outcome, reason and optionally bug")
        unknown = set(entry) - _KEYS
        if unknown:
            raise SuiteUsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: outcome, reason, bug)")
        if entry.get("outcome") not in EXPECTABLE:
            raise SuiteUsageError(f"{where}: 'outcome' must be one of {', '.join(EXPECTABLE)}, "
                                  f"not {entry.get('outcome')!r}")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise SuiteUsageError(f"{where}: 'reason' is required: say why the target deviates")
        bug = entry.get("bug")
        if bug is not None and (not isinstance(bug, str) or not re.match(r"https?://", bug)):
            raise SuiteUsageError(f"{where}: 'bug' must be an http(s) link")
        result[case_id] = Expectation(case_id, entry["outcome"], entry["reason"].strip(), bug)
    return result
