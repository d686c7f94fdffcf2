"""The pytest plugin (entry point pytest11): options, target start-up, verdicts, results.json and the summary.

The plugin is loaded in every pytest run where the package is installed, but it only acts when the run
collects the conformance package itself (``pytest`` in the checkout, ``pytest --pyargs conformance``)."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import secrets
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.target.buckets import PREFIX, Journal, new_run_id, worker_id
from conformance.behaviour.tables import Case, Registry, registry
from conformance.behaviour.checks import Check, apply_expectation, judge, server_error_of
from conformance.target.embedded import LAUNCHERS
from conformance.errors import EXIT_TARGET_UNUSABLE, InfraError, ServerError, SuiteUsageError, Unsupported
from conformance.target.expectations import Expectation, expectations_path, load_expectations
from conformance.target.http import S3, Recorder, TLSProblem, speaks_tls
from conformance.paths import PACKAGE_DIR
from conformance.target.redact import Redactor
from conformance.reports import allure_report as allure_support, certify
from conformance.target import capabilities, options
from conformance.reports.html_report import write_html
from conformance.reports.junit import write_junit
from conformance.behaviour.outcomes import OUTCOMES, outcome as outcome_row
from conformance.reports.results import build_record, now_iso, run_meta, summary_lines, write_results
from conformance.target.options import TARGET_OPTIONS
from conformance.target.profiles import Credentials, Target, read_server_credentials, resolve_credentials, resolve_target, strip_userinfo

DEFAULT_FUZZ_EXAMPLES = 50    # per property: enough to catch the common deviations in CI, cheap on every server
DEFAULT_FUZZ_SEED = 20261127  # fixed, so CI verdicts are reproducible; --fuzz-seed random explores

# (option, environment twin, help). Every option can be given either way; the command line wins.
_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    *TARGET_OPTIONS,
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
]


@dataclass
class State:
    """Per-process state of a conformance run."""

    active: bool = False
    is_worker: bool = False
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
    server_header: str | None = None
    product: dict = field(default_factory=dict)
    bundle: Path | None = None
    bundle_info: dict = field(default_factory=dict)
    launcher: Any = None
    records: dict[str, dict] = field(default_factory=dict)
    worker_requests: int = 0
    started: str = ""
    started_monotonic: float = 0.0
    interrupted: bool = False
    unusable: str | None = None
    collection_failed: bool = False
    unsupported: str | None = None  # why bucket CORS as a whole is unsupported on the target, if it is
    old_sigterm: Any = None
    options: dict[str, Any] = field(default_factory=dict)

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


STATE = pytest.StashKey[State]()
# Records reach the process that writes results.json through pytest_runtest_logreport (under xdist the
# workers' reports, with their s3cors attribute, are replayed on the controller).
_RECORDS: list[dict] = []
CHECK = pytest.StashKey[Check]()
EXCHANGES = pytest.StashKey[list]()


def state_of(config: pytest.Config) -> State:
    """The run state kept on the pytest config."""
    return config.stash[STATE]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("s3cors", "S3 CORS conformance (each option has an S3CORS_* environment twin)")
    for flag, env, kwargs in _OPTIONS:
        kwargs = dict(kwargs)
        kwargs["help"] = f"{kwargs['help']} [env {env}]"
        group.addoption(flag, dest=options.dest(flag), **kwargs)


def _fuzz_and_browser_options(config: pytest.Config, state: State) -> None:
    """--fuzz-examples, --fuzz-seed (workers get the controller's seed), --browser, --chromium."""
    examples = _option(config, "--fuzz-examples")
    if examples is not None:
        if not 0 <= examples <= 100_000:
            raise SuiteUsageError(f"--fuzz-examples: must be between 0 and 100000, not {examples}")
        state.fuzz_examples = examples
    if state.is_worker:
        state.fuzz_seed = config.workerinput["s3cors_fuzz_seed"]
    else:
        seed = _option(config, "--fuzz-seed")
        if seed == "random":
            state.fuzz_seed = secrets.randbelow(2**32)
        elif seed is not None:
            try:
                state.fuzz_seed = int(seed)
            except ValueError:
                raise SuiteUsageError(f"--fuzz-seed: must be a whole number or 'random', not {seed!r}") from None
    state.browser = bool(_option(config, "--browser")) or state.certify  # a certification runs every case
    state.chromium = _option(config, "--chromium")
    if state.browser:  # one clear error at start, not a failure per browser case
        from conformance.browser.driver import BrowserUnavailable, find_browser

        try:
            find_browser(state.chromium)
        except BrowserUnavailable as exc:
            raise SuiteUsageError(str(exc)) from None


def _option(config: pytest.Config, flag: str) -> Any:
    """The value of an option: command line first, then its environment twin (converted and validated)."""
    return options.resolve(_OPTIONS, flag, config.getoption(options.dest(flag)))


# Options whose value may name an existing file or directory. pytest decides its root directory and ini file
# before any plugin's options are known, so in '--reports-dir /tmp/x' it takes /tmp/x for a test path.
_PATH_OPTIONS = ("--target", "--expectations", "--ca-bundle", "--reports-dir", "--bundle-dir", "--chromium",
                 "--alluredir")

# What pytest.ini gives a run in the checkout; the plugin gives the same to every run that collects the
# conformance package (an installed suite run from any directory has no pytest.ini).
SUITE_INI = {"xfail_strict": "true"}
SUITE_FILTERWARNINGS = ["error::pytest.PytestUnknownMarkWarning"]


def _join_path_values(args: list[str]) -> list[str]:
    """'--reports-dir /tmp/x' becomes '--reports-dir=/tmp/x' (up to a '--'), so no value is a test path."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg in _PATH_OPTIONS and i + 1 < len(args):
            out.append(f"{arg}={args[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _redo_setup(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Decide the root directory and ini file again, now that option values are no longer test paths.

    This is what pytest did in Config.parse with the wrong paths; it uses pytest internals (pytest is pinned)."""
    from _pytest.config.findpaths import determine_setup

    ns = parser.parse_known_args(args)
    rootpath, inipath, inicfg, _ignored = determine_setup(
        inifile=ns.inifilename, override_ini=ns.override_ini, args=ns.file_or_dir,
        rootdir_cmd_arg=ns.rootdir or None, invocation_dir=config.invocation_params.dir)
    if (rootpath, inipath) != (config.rootpath, config.inipath):
        config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
        config._inicache.clear()
        parser.extra_info["rootdir"], parser.extra_info["inifile"] = str(rootpath), str(inipath)
        addopts = list(config.getini("addopts")) if inipath else []
        if addopts:  # the ini's addopts, which pytest would have put first (-p no:cacheprovider among them)
            args[:] = addopts + args
            config.pluginmanager.consider_preparse(addopts, exclude_only=False)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir is None:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)


def _collects_package(paths: list[str], pyargs: bool, invocation_dir: Path) -> bool:
    """True when one of the test paths (or --pyargs names) is the conformance package or contains it."""
    for arg in paths:
        base = str(arg).split("::", 1)[0]
        path: Path | None = None
        if pyargs:
            try:
                spec = importlib.util.find_spec(base)
            except (ImportError, ValueError):
                spec = None
            if spec is not None and spec.origin:
                path = Path(spec.origin)
        if path is None:
            path = Path(invocation_dir, base)
        path = path.resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents or (path.is_dir() and path in PACKAGE_DIR.parents):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Before conftests and collection: give option values back to their options, and give a run of the suite
    the suite's settings, whether or not a pytest.ini was found (an installed suite has none)."""
    joined = _join_path_values(args)
    if joined != args:
        args[:] = joined
        _redo_setup(early_config, parser, args)
    ns = early_config.known_args_namespace
    paths = list(ns.file_or_dir or []) or list(early_config.getini("testpaths") or [])
    if not _collects_package(paths, ns.pyargs, early_config.invocation_params.dir):
        return
    from _pytest.config.findpaths import parse_override_ini

    # No .pytest_cache in the working directory (pytest.ini says -p no:cacheprovider).
    for name in ("cacheprovider", "pytest_cacheprovider", "stepwise", "pytest_stepwise"):  # as -p no:cacheprovider
        early_config.pluginmanager.set_blocked(name)
    overrides = set(parse_override_ini(ns.override_ini))
    early_config._inicfg.update({k: v for k, v in parse_override_ini(
        [f"{k}={v}" for k, v in SUITE_INI.items()]).items() if k not in overrides})
    early_config._inicache.clear()


def _suite_warning_filters(config: pytest.Config) -> None:
    """pytest.ini's filterwarnings, for a run that did not read it."""
    have = config.getini("filterwarnings")
    for line in SUITE_FILTERWARNINGS:
        if line not in have:
            config.addinivalue_line("filterwarnings", line)


def _refuse_lost_ini(config: pytest.Config) -> None:
    """Stop a run whose pytest.ini was skipped because pytest mistook an option's value for a test path.

    pytest picks its root directory before plugins' options are known. The plugin gives option values back
    (pytest_load_initial_conftests), so this only happens where the plugin could not: a value given to an
    option of another plugin, or an unusual spelling (an abbreviated option name)."""
    ini = Path(config.invocation_params.dir, "pytest.ini")
    if config.inipath is None and ini.is_file() and "conformance" in ini.read_text(encoding="utf-8", errors="replace"):
        paths = [a for a in config.invocation_params.args if not str(a).startswith("-") and Path(a).exists()]
        taken = f"'{paths[0]}'" if paths else "an option value"
        raise pytest.UsageError(
            f"pytest took {taken} for a test path (it reads its command line before the suite's options are known), "
            f"chose {config.rootpath} as its root directory and did not read {ini}. Write that option with '=' "
            f"and no space, for a file as for a directory: --OPTION={paths[0] if paths else 'VALUE'}")


def runs_suite(config: pytest.Config) -> bool:
    """True when the run collects the conformance package (so a target is needed)."""
    return _collects_package(config.args, config.option.pyargs, config.invocation_params.dir)


@pytest.hookimpl(tryfirst=True)  # before allure-pytest's own pytest_configure reads --clean-alluredir
def pytest_configure(config: pytest.Config) -> None:
    allure_support.prepare(config, is_worker=hasattr(config, "workerinput"))
    _refuse_lost_ini(config)
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    state = State()
    config.stash[STATE] = state
    _RECORDS.clear()
    _PROGRESS.clear()
    if not runs_suite(config):
        return
    state.active = True
    _suite_warning_filters(config)
    state.is_worker = hasattr(config, "workerinput")
    try:
        _configure(config, state)
    except SuiteUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not state.is_worker:
        expected: dict[str, int] = {}
        for case in state.cases_to_run():
            expected[case.area] = expected.get(case.area, 0) + 1
        _PROGRESS.append(AreaProgress(config, expected))


def _configure(config: pytest.Config, state: State) -> None:
    settings = options.target_settings(
        lambda flag: _option(config, flag), expectations=_option(config, "--expectations"),
        expected_bucket_owner=_option(config, "--expected-bucket-owner"), account_id=_option(config, "--account-id"))
    state.certify = bool(_option(config, "--certify"))
    if state.certify:  # checked before anything starts; the profile's expectation file is not used
        certify.refuse_filters(config, expectations_option=settings.expectations,
                               case_patterns=_option(config, "--case") or [])
        state.product = certify.product_metadata({key: _option(config, flag) for flag, key in certify.PRODUCT_FIELDS})
        settings = dataclasses.replace(settings, expectations="none")
    state.target, state.profile = resolve_target(settings)
    state.credentials = resolve_credentials(state.target, state.profile)
    state.redactor = Redactor(state.credentials.secrets())
    state.recorder = Recorder(state.redactor)
    if allure_support.allure_dir(config):
        state.recorder.on_exchange = allure_support.step_for
        config.pluginmanager.register(allure_support.AllureBridge(case_of, lambda r: getattr(r, "s3cors", None)),
                                      "s3cors-allure")
    state.registry = registry()
    if state.target.expectations:
        state.expectations = load_expectations(expectations_path(state.target.expectations),
                                               set(state.registry.cases))
    state.case_patterns = _option(config, "--case") or []
    for pattern in state.case_patterns:
        if not state.registry.select([pattern]):
            raise SuiteUsageError(f"--case {pattern}: no case has this ID (IDs look like CFG-GET-001; "
                                  f"areas: {', '.join(sorted({c.area for c in state.registry.cases.values()}))})")
    reports = _option(config, "--reports-dir") or "reports"
    state.reports_dir = Path(config.invocation_params.dir, reports).resolve()
    try:
        state.reports_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuiteUsageError(f"--reports-dir {reports}: cannot create it ({exc.strerror})") from None
    # hypothesis keeps caches (and, without database=None, examples) in ./.hypothesis: under the reports instead
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(state.reports_dir / ".hypothesis")
    state.keep_buckets = bool(_option(config, "--keep-buckets"))
    state.propagation_timeout = state.target.propagation_timeout
    for flag, attr in (("--propagation-timeout", "propagation_timeout"), ("--request-timeout", "request_timeout")):
        value = _option(config, flag)
        if value is not None:
            if not 0 < value < 3600:  # also refuses nan and inf, with which polling would never end
                raise SuiteUsageError(f"{flag}: must be a number of seconds above 0 and below 3600, not {value}")
            setattr(state, attr, value)
    _fuzz_and_browser_options(config, state)
    state.options = {"cases": state.case_patterns, "keep_buckets": state.keep_buckets,
                     "fuzz_examples": state.fuzz_examples, "fuzz_seed": state.fuzz_seed, "browser": state.browser,
                     "propagation_timeout": state.propagation_timeout, "request_timeout": state.request_timeout,
                     "expectations": state.target.expectations, "xdist_workers": _numprocesses(config)}
    if state.is_worker:
        state.run_id = config.workerinput["s3cors_run_id"]
        state.unsupported = config.workerinput.get("s3cors_unsupported")
        if "s3cors_credentials" in config.workerinput:
            state.credentials = Credentials(**config.workerinput["s3cors_credentials"])
            state.redactor.add(state.credentials.secrets())
        state.target = dataclasses.replace(state.target, endpoint_url=config.workerinput["s3cors_endpoint"],
                                           capabilities=capabilities.from_wire(config.workerinput["s3cors_capabilities"]))
    else:
        state.run_id = new_run_id()
    # SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so the run still removes its buckets.
    try:
        state.old_sigterm = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread
        pass
    if not state.is_worker and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(state), "s3cors-xdist")


def _numprocesses(config: pytest.Config) -> Any:
    return getattr(config.option, "numprocesses", None)


def _sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


class _XdistHooks:
    """Hooks that exist only with pytest-xdist: hand the started target to the workers."""

    def __init__(self, state: State) -> None:
        self.state = state

    def pytest_configure_node(self, node) -> None:
        node.workerinput["s3cors_run_id"] = self.state.run_id
        node.workerinput["s3cors_fuzz_seed"] = self.state.fuzz_seed
        node.workerinput["s3cors_endpoint"] = self.state.target.endpoint_url
        node.workerinput["s3cors_unsupported"] = self.state.unsupported
        node.workerinput["s3cors_capabilities"] = capabilities.to_wire(self.state.target.capabilities)
        if self.state.launcher is not None and self.state.launcher.wants_credentials:
            # Made by the server at start-up; passed in memory over xdist's channel, never written.
            node.workerinput["s3cors_credentials"] = dataclasses.asdict(self.state.credentials)

    def pytest_handlecrashitem(self, crashitem, report, sched) -> None:
        """A worker died while running a case (SIGKILL, out of memory): the case still gets its one record,
        an error (infrastructure), so results.json lists every case that ran."""
        case = self.state.registry.cases.get(crashitem.rsplit("[", 1)[-1].rstrip("]")) if self.state.registry else None
        if case is None:
            return
        expectation = self.state.expectations.get(case.id)
        verdict = apply_expectation("error", f"infrastructure: {report.longrepr}", expectation)
        report.s3cors = build_record(case, verdict, None, [], nodeid=crashitem, duration=0.0, expectation=expectation,
                                     worker=getattr(getattr(report.node, "gateway", None), "id", "?"))

    def pytest_testnodedown(self, node, error) -> None:
        # A worker that died at start-up has no workeroutput; its error is reported by xdist.
        self.state.worker_requests += int(getattr(node, "workeroutput", {}).get("s3cors_requests", 0))
        if error:
            self.state.interrupted = True


def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    if not state.active:
        return
    state.started = now_iso()
    state.started_monotonic = time.monotonic()
    if state.is_worker or session.config.option.collectonly:  # listing the cases needs no target
        return
    target = state.target
    if target.launch:
        state.launcher = make_launcher(target, state.reports_dir)
        state.launcher.wants_credentials = bool(state.profile.get("credentials", {}).get("from_server"))
        try:
            url = state.launcher.start()
        except Exception as exc:  # a launcher failing is one clear error, not a traceback per case
            state.unusable = f"could not start the {target.launch} target: {exc}"
            pytest.exit(state.unusable, returncode=EXIT_TARGET_UNUSABLE)
        state.target = dataclasses.replace(target, endpoint_url=url)
        if getattr(state.launcher, "wants_credentials", False):
            state.credentials = read_server_credentials(state.launcher.credentials_file)
            state.redactor.add(state.credentials.secrets())
    problem = probe(state)
    if problem:
        state.unusable = problem
        pytest.exit(problem, returncode=EXIT_TARGET_UNUSABLE)


def make_launcher(target: Target, reports_dir: Path):
    """The launcher a profile asks for: the in-process moto, or a local server's start script."""
    if target.launch == "server":
        from conformance.target.local_servers import ScriptServer

        cfg = target.server
        return ScriptServer(cfg["name"], reports_dir, ready_path=cfg.get("ready_path", "/"),
                            ready_contains=cfg.get("ready_contains"), ready_timeout=cfg.get("ready_timeout", 60))
    return LAUNCHERS[target.launch](target)


def probe(state: State) -> str | None:
    """Create and delete one bucket; on failure, say what is wrong and how to fix it."""
    from conformance.target.buckets import Buckets

    s3 = state.s3()
    target = state.target
    where = f"target {target.name} at {strip_userinfo(target.endpoint_url)}"
    buckets = Buckets(s3, state.run_id, "probe", journal=state.journal())
    try:
        name = buckets.next_name()
        buckets.journal.created(name)
        result = buckets.send_create(name)
    except (InfraError, ServerError, Unsupported) as exc:
        buckets.journal.removed(name)
        buckets.journal.discard()
        if isinstance(exc, Unsupported):
            return f"{where} does not support CreateBucket; the suite needs to create its own buckets"
        if isinstance(exc, TLSProblem):
            return f"{where} is unusable: {exc.meaning}"
        if urlsplit(target.endpoint_url).scheme == "http" and speaks_tls(target.endpoint_url):
            return (f"{where} is unusable: it answers HTTPS on this port, not plain HTTP (use an https:// URL in "
                    "--endpoint-url; add --ca-bundle=PATH or --no-verify-tls if its certificate is not trusted)")
        host = urlsplit(target.endpoint_url).hostname or ""
        try:  # after the failure only: a DNS failure gets its own message
            socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return f"{where} is unusable: the host name {host!r} does not resolve (DNS). Is the URL right?"
        return f"{where} is unusable: {exc}. Is the server running, and is the URL right?"
    if not result.ok:
        buckets.journal.removed(name)
        buckets.journal.discard()
        hint = {
            "InvalidAccessKeyId": "the access key is not known to the server: check the credentials",
            "SignatureDoesNotMatch": "the secret key is wrong: check the credentials",
            "AccessDenied": "the credentials may not create buckets",
            "AuthorizationHeaderMalformed": "the region is wrong: set --region",
            "IllegalLocationConstraintException": capabilities.location_hint(target),
            "InvalidLocationConstraint": capabilities.location_hint(target),
        }.get(result.code or "", "see the server's answer")
        return (f"{where} refused to create a bucket: {result.status} {result.code} "
                f"{result.message or ''} ({hint}; credentials from {state.credentials.origin})")
    buckets.created.append(name)
    try:  # the server's own name and version, where it says them (results.json target.server_header)
        state.server_header = s3.request("HEAD", name, note="probe: server identification").header("Server")
    except (InfraError, ServerError):
        state.server_header = None
    state.unsupported = probe_bucket_cors(state, s3, name)
    state.target = dataclasses.replace(target, capabilities=capabilities.establish(
        target.capabilities, s3, name, bucket_cors_problem=state.unsupported))
    left = buckets.cleanup()
    if not left:
        buckets.journal.discard()
    if left:
        return f"{where} created a bucket but could not delete it: {', '.join(left)}"
    return None


def probe_bucket_cors(state: State, s3: S3, bucket: str) -> str | None:
    """Once per run: does the target implement bucket CORS at all? The reason it does not, or None."""
    if state.target.capabilities["bucket_cors"].value is False:
        return f"the profile of {state.target.name} says bucket CORS is not implemented"
    try:
        result = s3.api("put_bucket_cors", Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["https://probe.example"], "AllowedMethods": ["GET"]}]})
    except Unsupported as exc:
        return f"the target answers NotImplemented to PutBucketCors ({exc})"
    except (InfraError, ServerError):
        return None  # the cases will meet the same trouble and report it
    if result.ok:
        s3.api("delete_bucket_cors", Bucket=bucket)
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = state_of(item.config)
    case = case_of(item)
    if state.active and state.unsupported and case is not None:
        raise Unsupported(state.unsupported)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = state_of(config)
    if not state.active:
        return
    # --case, and the browser cases without --browser (opt-in: deselected, never passed)
    wanted = {c.id for c in state.cases_to_run()}
    keep, drop = [], []
    for item in items:
        case = case_of(item)
        (keep if case is None or case.id in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def case_of(item: pytest.Item) -> Case | None:
    """The conformance case a test item runs, if it is one."""
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec else None
    return case if isinstance(case, Case) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    state = state_of(item.config)
    if state.active and state.recorder and case_of(item):
        exchanges: list[dict] = []
        item.stash[EXCHANGES] = exchanges
        state.recorder.current = exchanges
    try:
        return (yield)
    finally:
        if state.recorder:
            state.recorder.current = None


@pytest.hookimpl(wrapper=True, trylast=True)  # innermost: report plugins (allure, junit) see the shaped report
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = state_of(item.config)
    case = case_of(item)
    if not state.active or case is None or call.when == "teardown" or (call.when == "setup" and report.passed):
        return report
    exc = call.excinfo.value if call.excinfo else None  # a case is unsupported by raising errors.Unsupported
    check = item.stash.get(CHECK, None) or Check(case)  # a 5xx in a fixture is recorded as a check too
    outcome, reason = judge(case, check, exc)
    expectation = state.expectations.get(case.id)
    verdict = apply_expectation(outcome, reason, expectation, server_error_of(exc))
    if state.recorder:
        state.recorder.current = None  # teardown exchanges (cleanup) belong to no case
    report.s3cors = build_record(case, verdict, check, item.stash.get(EXCHANGES, []), nodeid=item.nodeid,
                                 duration=report.duration, expectation=expectation, worker=worker_id())
    _shape_report(report, item, case, verdict, state.redactor)
    return report


def _shape_report(report: pytest.TestReport, item: pytest.Item, case: Case, verdict, redactor: Redactor) -> None:
    """Map the suite's outcome onto pytest's passed/failed/skipped (the outcome table decides which)."""
    outcome = verdict.outcome
    status = outcome_row(outcome).pytest
    if status == "passed" and report.when == "setup":
        # The case ended in its set-up (an INFO case whose configuration the target refuses): the verdict is
        # final, and the test body must not run without what the set-up failed to give it.
        report.outcome, report.longrepr = "skipped", (str(item.path), (item.location[1] or 0) + 1,
                                                      f"{outcome}: {verdict.reason}")
    elif status == "passed":
        report.outcome, report.longrepr = "passed", None
    elif outcome == "expected-fail":
        report.outcome, report.longrepr = "skipped", None
        report.wasxfail = redactor.text(verdict.reason)
    elif status == "skipped":
        path, line, _ = item.location
        report.outcome, report.longrepr = "skipped", (str(item.path), (line or 0) + 1, f"{outcome}: {verdict.reason}")
    else:
        report.outcome = "failed"
        harness_bug = outcome == "error" and verdict.reason.startswith("harness error")
        if not harness_bug:  # a conformance verdict or an infrastructure error needs no traceback
            report.longrepr = redactor.text(f"{outcome.upper()} {case.id} [{case.level}] {case.title}\n  " +
                                            verdict.reason.replace("; ", "\n  "))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    record = getattr(report, "s3cors", None)
    if record is not None:
        _RECORDS.append(record)
        if _PROGRESS:
            _PROGRESS[0].add(record)


class AreaProgress:
    """One line per area when its last case is in (long runs, xdist included): counts so far and time."""

    def __init__(self, config: pytest.Config, expected: dict[str, int]) -> None:
        self.config, self.expected = config, expected
        self.seen: dict[str, list[str]] = {}
        self.started = time.monotonic()

    def add(self, record: dict) -> None:
        """Count one finished case; announce its area when complete."""
        outcomes = self.seen.setdefault(record["area"], [])
        outcomes.append(record["outcome"])
        if len(outcomes) != self.expected.get(record["area"]):
            return
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or self.config.option.verbose < 0:
            return
        counts = ", ".join(f"{outcomes.count(o)} {o}" for o in OUTCOMES if outcomes.count(o))
        done = sum(len(v) for v in self.seen.values())
        if getattr(tr._tw, "width_of_current_line", 0):  # xdist's progress dots leave the line open
            tr.write("\n")
        tr.write_line(f"[s3cors] {record['area']} done: {len(outcomes)} cases ({counts}); "
                      f"{done}/{sum(self.expected.values())} cases, {time.monotonic() - self.started:.0f} s")


_PROGRESS: list[AreaProgress] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = state_of(session.config)
    if not state.active:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        state.interrupted = True
    if state.is_worker:
        session.config.workeroutput["s3cors_requests"] = state.recorder.total if state.recorder else 0
        return
    if session.config.option.collectonly:
        return  # nothing ran: the reports of the last real run stay as they are
    if state.unusable:
        return
    if session.testsfailed and not _RECORDS:
        state.collection_failed = True
        # Nothing ran: a results.json (interrupted, 0 cases) would look like a run. Only the buckets go.
        if not state.keep_buckets and state.target.endpoint_url:
            session.config.stash[LEFTOVERS] = sweep_journal(state)
        return
    if not state.keep_buckets and state.target.endpoint_url:
        leftovers = sweep_journal(state)
        if leftovers:
            session.config.stash[LEFTOVERS] = leftovers
    records = {r["id"]: r for r in _RECORDS}  # one record per case, whatever the number of workers
    state.records = records
    from conformance.browser.report import link_related

    session.config.stash[BROWSER_DISAGREEMENTS] = link_related(records)  # BRW verdicts beside related cases
    requests = (state.recorder.total if state.recorder else 0) + state.worker_requests
    target = {**state.target.public(), "server_header": state.server_header,
              "bucket_cors_unsupported": state.unsupported}
    meta = run_meta(target=target, options=state.options, started=state.started,
                    finished=now_iso(), duration=time.monotonic() - state.started_monotonic, requests=requests,
                    run_id=state.run_id, interrupted=state.interrupted)
    document = write_results(state.reports_dir / "results.json", meta, list(records.values()), state.redactor)
    write_junit(document, state.reports_dir / "junit.xml")
    write_html(document, state.reports_dir / "report.html")
    _write_new_counterexamples(state.reports_dir / NEW_COUNTEREXAMPLES, records.values())
    allure_support.write_environment(session.config, meta, state.redactor.text)
    if state.certify:
        bundle = _option(session.config, "--bundle-dir")
        state.bundle = (Path(session.config.invocation_params.dir, bundle) if bundle else
                        state.reports_dir / "certification" / f"{state.target.name}-{state.run_id}")
        state.bundle_info = certify.write_bundle(state.bundle, state.reports_dir, document, state.product,
                                                 set(state.registry.cases))
    state.options["_requests"] = requests


LEFTOVERS = pytest.StashKey[list]()
NEW_COUNTEREXAMPLES = "new-counterexamples.toml"


def _new_counterexamples(records) -> list[str]:
    """The corpus entries of generated failures whose example is not in the corpus yet."""
    return [r["observations"]["corpus_entry"] for r in records if r.get("observations", {}).get("corpus_entry")]


def _write_new_counterexamples(path: Path, records) -> None:
    """reports/new-counterexamples.toml: the [[example]] lines to append to fixtures/corpus/generated.toml."""
    entries = _new_counterexamples(records)
    if entries:
        path.write_text("# New counterexamples of this run: append to fixtures/corpus/generated.toml so every "
                        "later run replays them\n\n" + "\n".join(entries), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
BROWSER_DISAGREEMENTS = pytest.StashKey[list]()


def _browser_lines(state: State, config: pytest.Config) -> list[str]:
    """Terminal lines about the browser cases: not run without --browser, or where they disagree."""
    from conformance.browser.report import summary_lines

    if not state.browser:
        skipped = [c for c in state.chosen_cases() if c.area == "BRW"]
        return [f"browser cases (BRW): {len(skipped)} not run (opt in with --browser)"] if skipped else []
    unlinked = sum(1 for r in state.records.values()
                   if r["area"] == "BRW" and r.get("observations", {}).get("related_case", {}).get("outcome")
                   == "not run in this session")
    return summary_lines(config.stash.get(BROWSER_DISAGREEMENTS, []), unlinked)


def sweep_journal(state: State) -> list[str]:
    """Remove buckets the journal says this run created and did not remove (a worker died, Ctrl-C...)."""
    from conformance.target.buckets import Buckets

    journal = state.journal()
    pending = journal.pending()
    if not pending:
        journal.discard()
        return []
    s3 = state.s3()
    buckets = Buckets(s3, state.run_id, "sweep", journal=journal)
    left = []
    for name in pending:
        if not name.startswith(f"{PREFIX}-{state.run_id}-"):
            continue  # never touch a name that is not this run's
        problem = buckets.remove(name)
        if problem:
            left.append(f"{name} ({problem})")
        else:
            journal.removed(name)
    if not left:
        journal.discard()
    return left


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = state_of(config)
    if not state.active or state.is_worker or config.option.collectonly:
        return
    tr = terminalreporter
    if state.unusable:
        tr.write_sep("=", "S3 CORS conformance: target unusable", red=True)
        tr.write_line(state.unusable)
        return
    if state.collection_failed:
        tr.write_sep("=", "S3 CORS conformance: no case ran", red=True)
        tr.write_line("collection failed (errors above): no results.json was written")
        return
    tr.write_sep("=", f"S3 CORS conformance: {state.target.name} ({state.target.endpoint_url})")
    records = list(state.records.values())
    for line in summary_lines(records, requests=state.options.get("_requests", 0),
                              wall=time.monotonic() - state.started_monotonic):
        tr.write_line(line)
    if state.unsupported:
        tr.write_line(f"every case unsupported: {state.unsupported}", yellow=True)
    new = _new_counterexamples(records)
    if new:
        tr.write_line(f"generated cases: {len(new)} new counterexample(s), not in the corpus: "
                      f"{state.reports_dir / NEW_COUNTEREXAMPLES} (append to fixtures/corpus/generated.toml)",
                      yellow=True)
    tr.write_line("capabilities (value, and where it came from):")
    for line in capabilities.summary_lines(state.target.capabilities):
        tr.write_line(line)
    for line in _browser_lines(state, config):
        tr.write_line(line, yellow=True)
    if state.expectations:
        tr.write_line(f"expectations: {state.target.expectations} ({len(state.expectations)} known deviations)")
    leftovers = config.stash.get(LEFTOVERS, [])
    if leftovers:
        tr.write_line(f"WARNING: buckets left behind: {', '.join(leftovers)}", red=True)
    if state.keep_buckets:
        tr.write_line(f"buckets kept (--keep-buckets): prefix {PREFIX}-{state.run_id}-")
    if state.bundle is not None:
        info = state.bundle_info
        status = "complete" if info.get("complete") else f"INCOMPLETE ({len(info.get('not_run', []))} cases not run)"
        tr.write_line(f"certification bundle ({status}): {state.bundle}; check it with: python -m conformance "
                      f"verify {state.bundle}", red=not info.get("complete"))
    tr.write_line(f"reports: {state.reports_dir / 'report.html'} (open in a browser), "
                  f"{state.reports_dir / 'results.json'}, {state.reports_dir / 'junit.xml'}")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.active:
        return
    if state.launcher is not None:
        state.launcher.stop()
    if state.old_sigterm is not None:
        try:
            signal.signal(signal.SIGTERM, state.old_sigterm)
        except ValueError:
            pass
    _RECORDS.clear()
