"""Reading the suite's TOML data files (case tables, profiles, expectation files, vectors, the fault catalogue,
the corpus), with one message style for bad input: every problem is one SuiteUsageError naming the file, the
place in it and the problem. A key the loader does not know, or a value of a shape it does not expect, is an
error, never silently dropped."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.errors import SuiteUsageError

_AT = re.compile(r"\s*\(at (line \d+, column \d+|end of document)\)$")


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed document; a file that cannot be read or parsed is one SuiteUsageError naming it (and the line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteUsageError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SuiteUsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        place = _AT.search(message)
        if place:  # tomllib puts the place last; say it first, where a reader looks for it
            message = f"at {place.group(1)}: {message[:place.start()]}"
        raise SuiteUsageError(f"{path}: not valid TOML {message}" if place else
                              f"{path}: not valid TOML: {message}") from None


def problem(where: str, text: str) -> SuiteUsageError:
    """The error for bad input at WHERE ('FILE' or 'FILE: [section]'): raise it."""
    return SuiteUsageError(f"{where}: {text}")


def reject_unknown_keys(where: str, table: dict, allowed: Iterable[str], *, what: str = "key") -> None:
    """Raise if TABLE has a key outside ALLOWED, naming the key(s) and what is allowed."""
    allowed = set(allowed)
    unknown = sorted(set(table) - allowed, key=str)
    if unknown:
        names = ", ".join(f"'{k}'" for k in unknown)
        raise problem(where, f"unknown {what}{'s' if len(unknown) > 1 else ''} {names} "
                             f"(allowed: {', '.join(sorted(allowed)) or 'none'})")


def wrong_type(where: str, key: str, expected: str, value: Any) -> SuiteUsageError:
    """The error for KEY holding VALUE where EXPECTED ('a table', 'a list of strings'...) belongs: raise it."""
    return problem(where, f"'{key}' must be {expected}, not {type(value).__name__} ({value!r})")
