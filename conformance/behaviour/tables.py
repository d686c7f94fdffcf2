"""The case registry: case tables in fixtures/cases/*.toml, each case with a stable ID, a level and a source."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pytest

from conformance.behaviour.schema import LEVEL_NAMES, validate_case
from conformance.datafile import load_toml, reject_unknown_keys, wrong_type
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir

LEVELS = LEVEL_NAMES
# Area prefixes of case IDs: a case ID is AREA-TOPIC-NNN.
AREAS = {
    "CFG": "Configuration API (Get, Put, Delete, round trip, replacement)",
    "VAL": "PutBucketCors validation",
    "EBO": "ExpectedBucketOwner handling",
    "PRE": "Preflight requests",
    "ACT": "Actual cross-origin requests",
    "ERR": "Error answers",
    "URL": "URL shapes and presigned URLs",
    "HDR": "Header format",
    "GEN": "Generated differential properties",
    "BRW": "Browser verdicts (headless Chromium)",
}
_ID = re.compile(r"(?P<area>[A-Z]{3})-[A-Z0-9]+(-[A-Z0-9]+)*-\d{3}")
_CASE_KEYS = {"id", "level", "title", "source", "send", "expect", "setup", "focus", "note", "retired"}
_TABLE_KEYS = {"area", "title", "case", "configs"}
_CONFIG_KEYS = {"rules", "objects", "note"}


@dataclass(frozen=True)
class Case:
    """One conformance case: a requirement with an ID, a level and the source it comes from."""

    id: str
    area: str
    level: str
    title: str
    source: str
    send: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    expect: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    setup: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    focus: tuple[str, ...] = ()  # aspects of the answer compared (conformance/behaviour/cors.py); () = the area's own
    note: str = ""
    table: str = ""

    def __str__(self) -> str:
        return self.id

    def public(self) -> dict[str, Any]:
        """Metadata for reports."""
        return {"id": self.id, "area": self.area, "level": self.level, "title": self.title, "source": self.source}


def _load_configs(path: Path, configs: Any) -> dict[str, dict]:
    """Named configurations ([configs.NAME] rules = [...], objects = [...]); rules = [] means none is set."""
    if not isinstance(configs, dict):
        raise SuiteUsageError(f"{path}: 'configs' must be a table of named configurations")
    for name, config in configs.items():
        if not isinstance(config, dict) or not isinstance(config.get("rules"), list):
            raise SuiteUsageError(f"{path}: [configs.{name}] needs 'rules' (a list of rules, [] for none)")
        reject_unknown_keys(f"{path}: [configs.{name}]", config, _CONFIG_KEYS)
    return configs


def _load_table(path: Path) -> tuple[list[Case], list[str]]:
    """The cases of one table and the IDs it retires."""
    data = load_toml(path)
    reject_unknown_keys(str(path), data, _TABLE_KEYS)
    area = data.get("area")
    if not isinstance(area, str) or area not in AREAS:  # (a list or table is unhashable: no TypeError)
        raise SuiteUsageError(f"{path}: 'area' must be one of {', '.join(AREAS)}, not {area!r}")
    configs = _load_configs(path, data.get("configs", {}))
    rows = data.get("case")
    if not isinstance(rows, list) or not rows:
        raise SuiteUsageError(f"{path}: no [[case]] entries")
    cases, retired = [], []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise SuiteUsageError(f"{path}: case #{n} must be a table ([[case]])")
        where = f"{path}: case #{n} ({row.get('id', 'no id')})"
        reject_unknown_keys(where, row, _CASE_KEYS)
        for key in ("id", "level", "title", "source"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise SuiteUsageError(f"{where}: required field '{key}' is missing or empty")
        match = _ID.fullmatch(row["id"])
        if not match or match.group("area") != area:
            raise SuiteUsageError(f"{where}: ID {row['id']!r} must look like {area}-TOPIC-NNN")
        if row["level"] not in LEVELS:
            raise SuiteUsageError(f"{where}: level must be MUST, SHOULD or INFO, not {row['level']!r}")
        for key in ("send", "expect", "setup"):
            if key in row and not isinstance(row[key], dict):
                raise wrong_type(where, key, "a table", row[key])
        if row.get("retired"):
            retired.append(row["id"])
            continue  # a retired case keeps its ID reserved but is not run
        validate_case(area, row, where)  # every key of setup, send, expect and focus (conformance/behaviour/schema.py)
        setup = dict(row.get("setup", {}))
        if "config" in setup:  # a named configuration of the table: cases sharing it share a bucket
            if not isinstance(setup["config"], str) or setup["config"] not in configs:
                raise SuiteUsageError(f"{where}: setup.config {setup['config']!r} is not in [configs] "
                                      f"(defined: {', '.join(sorted(configs)) or 'none'})")
            setup = {**configs[setup["config"]], **setup}
            row = {**row, "setup": setup}
        cases.append(Case(id=row["id"], area=area, level=row["level"], title=row["title"].strip(),
                          source=row["source"].strip(), send=row.get("send", {}), expect=row.get("expect", {}),
                          setup=row.get("setup", {}), focus=tuple(row.get("focus", ())), note=row.get("note", ""),
                          table=path.name))
    return cases, retired


@dataclass(frozen=True)
class Registry:
    """All cases of all tables, by ID."""

    cases: dict[str, Case]
    retired: frozenset[str] = frozenset()

    def get(self, case_id: str) -> Case:
        """The case with this ID, or a clear error."""
        try:
            return self.cases[case_id]
        except KeyError:
            raise SuiteUsageError(f"unknown case ID {case_id!r}") from None

    def select(self, patterns: list[str]) -> list[Case]:
        """Cases whose ID matches any of the glob patterns, in table order."""
        return [c for c in self.cases.values() if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def load_registry(directory: Path | None = None) -> Registry:
    """Read every case table; IDs must be unique across tables."""
    directory = directory or fixtures_dir() / "cases"
    cases: dict[str, Case] = {}
    retired: set[str] = set()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise SuiteUsageError(f"{directory}: no case tables (*.toml)")
    for path in files:
        table_cases, table_retired = _load_table(path)
        for case_id in table_retired:
            if case_id in retired or case_id in cases:
                raise SuiteUsageError(f"{path}: retired case ID {case_id} is defined twice")
            retired.add(case_id)
        for case in table_cases:
            if case.id in cases:
                raise SuiteUsageError(f"{path}: case ID {case.id} is also defined in {cases[case.id].table}")
            if case.id in retired:
                raise SuiteUsageError(f"{path}: case ID {case.id} is retired; a retired ID is never reused")
            cases[case.id] = case
    return Registry(cases, frozenset(retired))


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry of the shipped tables, loaded once per process."""
    return load_registry()


def cases(*patterns: str, where: Callable[[Case], bool] | None = None,
          ahead: Callable | None = None, alone: bool = False) -> pytest.MarkDecorator:
    """Parametrize a test function with the cases whose IDs match the patterns (argument name: case); ahead:
    plan(case, bucket, s3) -> S3.request's keyword arguments for requests the case sends to its configured
    bucket that change nothing, which the run may send ahead with the other cases' (conformance/cases/setups.py);
    alone: each case touches only a bucket of its own (or the scratch bucket, which such cases share one after
    another), so the run may run it ahead, beside the others (conformance/cases/run_ahead.py)."""
    selected = [c for c in registry().select(list(patterns)) if where is None or where(c)]
    if not selected:
        raise SuiteUsageError(f"no case matches {', '.join(patterns)}")
    extra = [pytest.mark.sent_ahead.with_args(ahead)] if ahead is not None else []
    extra += [pytest.mark.run_ahead] if alone else []
    params = [pytest.param(c, id=c.id, marks=[getattr(pytest.mark, c.level.lower()), pytest.mark.area(c.area),
                                              *extra])
              for c in selected]
    return pytest.mark.parametrize("case", params)
