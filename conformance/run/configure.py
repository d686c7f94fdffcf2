"""The run's options (each with its S3CORS_* environment twin) and the State they decide at configure time."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path
from typing import Any

import pytest

from conformance.behaviour.tables import registry
from conformance.errors import SuiteUsageError
from conformance.reports import certify
from conformance.run.state import DEFAULT_FUZZ_EXAMPLES, DEFAULT_FUZZ_SEED, State
from conformance.target import inflight, options
from conformance.target.buckets import new_run_id
from conformance.target.expectations import expectations_path, load_expectations
from conformance.target.recorder import Recorder
from conformance.target.options import TARGET_OPTIONS
from conformance.target.profiles import resolve_credentials, resolve_target
from conformance.target.redact import Redactor

# (option, environment twin, help). Every option can be given either way; the command line wins.
RUN_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    *TARGET_OPTIONS, options.CONCURRENCY_OPTION,
    ("--expectations", "S3CORS_EXPECTATIONS", {"metavar": "NAME|PATH|none",
     "help": "known deviations: fixtures/expectations/NAME.toml, a path, or none (default: from the profile)"}),
    ("--expected-bucket-owner", "S3CORS_EXPECTED_BUCKET_OWNER", {"choices": ["enforced", "ignored"],
     "help": "ExpectedBucketOwner behaviour the target documents (default: profile, else enforced as on AWS)"}),
    ("--account-id", "S3CORS_ACCOUNT_ID", {"metavar": "ID", "help": "12-digit account ID owning the run's buckets"}),
    ("--keep-buckets", "S3CORS_KEEP_BUCKETS", {"action": "store_true", "default": None,
     "help": "leave the buckets the run created (for debugging)"}),
    ("--reports-dir", "S3CORS_REPORTS_DIR", {"metavar": "DIR", "help": "where results.json goes (default: reports)"}),
    ("--case", "S3CORS_CASES", {"action": "append", "metavar": "ID",
     "help": "run only cases whose ID matches (glob, repeatable; env: comma-separated)"}),
    ("--propagation-timeout", "S3CORS_PROPAGATION_TIMEOUT", {"type": float, "metavar": "SECONDS",
     "help": "how long to poll for a new configuration to take effect (default: the profile's, else 10)"}),
    ("--request-timeout", "S3CORS_REQUEST_TIMEOUT", {"type": float, "metavar": "SECONDS",
     "help": "timeout of one HTTP request (default: 30)"}),
    ("--fuzz-examples", "S3CORS_FUZZ_EXAMPLES", {"type": int, "metavar": "N",
     "help": f"examples per generated property (GEN cases; default {DEFAULT_FUZZ_EXAMPLES}, 0 skips them)"}),
    ("--fuzz-seed", "S3CORS_FUZZ_SEED", {"metavar": "N|random",
     "help": f"seed of the generated examples (default {DEFAULT_FUZZ_SEED}: every run draws the same ones)"}),
    ("--certify", "S3CORS_CERTIFY", {"action": "store_true", "default": None,
     "help": "certification run: every case, no expectation file, no deselection; writes a bundle"}),
    ("--bundle-dir", "S3CORS_BUNDLE_DIR", {"metavar": "DIR",
     "help": "where --certify writes its bundle (default: REPORTS/certification/TARGET-RUNID)"}),
    ("--vendor", "S3CORS_VENDOR", {"metavar": "NAME", "help": "vendor of the certified product (--certify)"}),
    ("--product", "S3CORS_PRODUCT", {"metavar": "NAME", "help": "certified product (--certify)"}),
    ("--product-version", "S3CORS_PRODUCT_VERSION", {"metavar": "VERSION",
     "help": "version of the certified product (--certify)"}),
    ("--browser", "S3CORS_BROWSER", {"action": "store_true", "default": None,
     "help": "also run the browser cases (BRW) in a headless Chromium"}),
    ("--chromium", "S3CORS_CHROMIUM", {"metavar": "PATH",
     "help": "the Chromium executable for --browser (default: chromium on PATH)"}),
]

MARKERS = [
    "must: a MUST case (what browsers and clients rely on)",
    "should: a SHOULD case (AWS's exact wire form)",
    "info: an INFO case (observed, never failing)",
    "area(name): the conformance area of a case",
    "sent_ahead(plan): plan(case, bucket, s3) gives requests the case sends that may be sent ahead",
    "run_ahead: the case touches only a bucket of its own, so it may run ahead, beside other cases",
]


def add_options(parser: pytest.Parser) -> None:
    """Declare the run's options, each help text naming its environment twin."""
    group = parser.getgroup("s3cors", "S3 CORS conformance (each option has an S3CORS_* environment twin)")
    for flag, env, kwargs in RUN_OPTIONS:
        kwargs = dict(kwargs)
        kwargs["help"] = f"{kwargs['help']} [env {env}]"
        group.addoption(flag, dest=options.dest(flag), **kwargs)


def option(config: pytest.Config, flag: str) -> Any:
    """The value of an option: command line first, then its environment twin (converted and validated)."""
    return options.resolve(RUN_OPTIONS, flag, config.getoption(options.dest(flag)))


def configure(config: pytest.Config, state: State) -> None:
    """Fill the state from the options and the target profile; bad input raises SuiteUsageError."""
    settings = options.target_settings(
        lambda flag: option(config, flag), expectations=option(config, "--expectations"),
        expected_bucket_owner=option(config, "--expected-bucket-owner"), account_id=option(config, "--account-id"))
    state.certify = bool(option(config, "--certify"))
    if state.certify:  # checked before anything starts; the profile's expectation file is not used
        certify.refuse_filters(config, expectations_option=settings.expectations,
                               case_patterns=option(config, "--case") or [])
        state.product = certify.product_metadata({key: option(config, flag) for flag, key in certify.PRODUCT_FIELDS})
        settings = dataclasses.replace(settings, expectations="none")
    state.target, state.profile = resolve_target(settings)
    state.credentials = resolve_credentials(state.target, state.profile)
    state.redactor = Redactor(state.credentials.secrets())
    state.recorder = Recorder(state.redactor)
    state.registry = registry()
    if state.target.expectations:
        state.expectations = load_expectations(expectations_path(state.target.expectations),
                                               set(state.registry.cases))
    state.case_patterns = option(config, "--case") or []
    for pattern in state.case_patterns:
        if not state.registry.select([pattern]):
            raise SuiteUsageError(f"--case {pattern}: no case has this ID (IDs look like CFG-GET-001; "
                                  f"areas: {', '.join(sorted({c.area for c in state.registry.cases.values()}))})")
    _reports_dir(config, state)
    state.keep_buckets = bool(option(config, "--keep-buckets"))
    state.propagation_timeout = state.target.propagation_timeout
    for flag, attr in (("--propagation-timeout", "propagation_timeout"), ("--request-timeout", "request_timeout")):
        value = option(config, flag)
        if value is not None:
            if not 0 < value < 3600:  # also refuses nan and inf, with which polling would never end
                raise SuiteUsageError(f"{flag}: must be a number of seconds above 0 and below 3600, not {value}")
            setattr(state, attr, value)
    _fuzz_and_browser_options(config, state)
    concurrency = options.concurrency(option(config, "--concurrency"))  # the run's, shared by its workers
    inflight.set_limit(options.per_worker(concurrency, config.workerinput["workercount"]) if state.is_worker
                       else concurrency)
    state.options = {"concurrency": concurrency, "cases": state.case_patterns, "keep_buckets": state.keep_buckets,
                     "fuzz_examples": state.fuzz_examples, "fuzz_seed": state.fuzz_seed, "browser": state.browser,
                     "propagation_timeout": state.propagation_timeout, "request_timeout": state.request_timeout,
                     "expectations": state.target.expectations,
                     "xdist_workers": getattr(config.option, "numprocesses", None)}
    if not state.is_worker:
        state.run_id = new_run_id()


def _reports_dir(config: pytest.Config, state: State) -> None:
    """--reports-dir (created now), and hypothesis's directory under it."""
    reports = option(config, "--reports-dir") or "reports"
    state.reports_dir = Path(config.invocation_params.dir, reports).resolve()
    try:
        state.reports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuiteUsageError(f"--reports-dir {reports}: cannot create it ({exc.strerror})") from None
    # hypothesis keeps caches (and, without database=None, examples) in ./.hypothesis: under the reports instead
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(state.reports_dir / ".hypothesis")


def _fuzz_and_browser_options(config: pytest.Config, state: State) -> None:
    """--fuzz-examples, --fuzz-seed (workers get the controller's seed), --browser, --chromium."""
    examples = option(config, "--fuzz-examples")
    if examples is not None:
        if not 0 <= examples <= 100_000:
            raise SuiteUsageError(f"--fuzz-examples: must be between 0 and 100000, not {examples}")
        state.fuzz_examples = examples
    if state.is_worker:
        state.fuzz_seed = config.workerinput["s3cors_fuzz_seed"]
    else:
        seed = option(config, "--fuzz-seed")
        if seed == "random":
            state.fuzz_seed = secrets.randbelow(2**32)
        elif seed is not None:
            try:
                state.fuzz_seed = int(seed)
            except ValueError:
                raise SuiteUsageError(f"--fuzz-seed: must be a whole number or 'random', not {seed!r}") from None
    state.browser = bool(option(config, "--browser")) or state.certify  # a certification runs every case
    state.chromium = option(config, "--chromium")
    if state.browser:  # one clear error at start, not a failure per browser case
        from conformance.browser.driver import BrowserUnavailable, find_browser

        try:
            find_browser(state.chromium)
        except BrowserUnavailable as exc:
            raise SuiteUsageError(str(exc)) from None
