"""The state of one conformance run in one pytest process, kept on the pytest config (config.stash)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.behaviour.tables import Case, Registry
from conformance.target.buckets import Journal
from conformance.target.expectations import Expectation
from conformance.target.http import S3
from conformance.target.recorder import Recorder
from conformance.target.profiles import Credentials, Target
from conformance.target.redact import Redactor

DEFAULT_FUZZ_EXAMPLES = 50    # per property: enough to catch the common deviations in CI, cheap on every server
DEFAULT_FUZZ_SEED = 20261127  # fixed, so CI verdicts are reproducible; --fuzz-seed random explores


@dataclass
class Ending:
    """What the end of a run produced (controller only): the summary's input."""

    records: dict[str, dict] = field(default_factory=dict)   # one record per case ID, in arrival order
    requests: int = 0                                        # HTTP requests of the whole run, as in results.json
    leftovers: list[str] = field(default_factory=list)       # buckets the journal sweep could not remove
    browser_disagreements: list[dict] = field(default_factory=list)
    bundle: Path | None = None                               # --certify: the bundle directory
    bundle_info: dict = field(default_factory=dict)          # --certify: its product.json
    nothing_ran: bool = False                                # collection failed: no results.json was written


@dataclass
class State:
    """Per-process state of a conformance run: what the options and the profile decided (set once at
    configure time), what start-up found out about the target, and how the run ended."""

    active: bool = False
    is_worker: bool = False
    # decided at configure time
    target: Target | None = None
    profile: dict = field(default_factory=dict)
    credentials: Credentials | None = None
    redactor: Redactor = field(default_factory=Redactor)
    recorder: Recorder | None = None
    registry: Registry | None = None
    expectations: dict[str, Expectation] = field(default_factory=dict)
    case_patterns: list[str] = field(default_factory=list)
    run_id: str = ""
    reports_dir: Path = Path("reports")
    keep_buckets: bool = False
    propagation_timeout: float = 10.0
    request_timeout: float = 30.0
    fuzz_examples: int = DEFAULT_FUZZ_EXAMPLES
    fuzz_seed: int = DEFAULT_FUZZ_SEED
    browser: bool = False
    chromium: str | None = None
    certify: bool = False
    product: dict = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # the options as results.json records them
    # found out at start-up (the controller's probe; workers get it from the controller)
    launcher: Any = None
    server_header: str | None = None
    unsupported: str | None = None  # why bucket CORS as a whole is unsupported on the target, if it is
    unusable: str | None = None     # why the target cannot be tested at all (the run stops)
    # while running and at the end
    started: str = ""
    started_monotonic: float = 0.0
    worker_requests: int = 0        # requests of finished xdist workers
    received: list[dict] = field(default_factory=list)  # case records as their reports arrive (controller)
    interrupted: bool = False
    ending: Ending | None = None

    def s3(self) -> S3:
        """A new S3 client bound to this run's recorder."""
        assert self.target and self.credentials and self.recorder
        return S3(self.target, self.credentials, self.recorder, request_timeout=self.request_timeout)

    def chosen_cases(self) -> list[Case]:
        """The cases --case selects (all without it), before the browser cases are set aside."""
        return list(self.registry.select(self.case_patterns) if self.case_patterns else self.registry.cases.values())

    def cases_to_run(self) -> list[Case]:
        """The cases this run runs: the chosen ones, browser cases only with --browser."""
        return [c for c in self.chosen_cases() if c.area != "BRW" or self.browser]

    def journal(self) -> Journal:
        """The file listing the buckets this run created."""
        return Journal(self.reports_dir / ".journal" / f"{self.run_id}.log")

    def requests(self) -> int:
        """HTTP requests so far: this process's, and those of the xdist workers that have finished."""
        return (self.recorder.total if self.recorder else 0) + self.worker_requests


STATE = pytest.StashKey[State]()


def state_of(config: pytest.Config) -> State:
    """The run state kept on the pytest config."""
    return config.stash[STATE]
