"""The pytest plugin (entry point pytest11): the hooks of a conformance run, each handing its work to a module
of conformance/run (rootdir, configure, startup, verdicts, progress, finish, summary, workers).

The plugin is loaded in every pytest run where the package is installed, but it only acts when the run
collects the conformance package itself (``pytest`` in the checkout, ``pytest --pyargs conformance``)."""

from __future__ import annotations

import signal
import time

import pytest

from conformance.behaviour import checks
from conformance.errors import EXIT_TARGET_UNUSABLE, SuiteUsageError, Unsupported
from conformance.reports import allure_report
from conformance.reports.results import now_iso
from conformance.run import configure, finish, rootdir, startup, summary, tracebacks, verdicts, workers
from conformance.run.progress import Progress, case_id_of
from conformance.run.state import STATE, State, state_of
from conformance.run.verdicts import EXCHANGES, case_of
from conformance.target.buckets import worker_id

PROGRESS = "s3cors-progress"


def pytest_addoption(parser: pytest.Parser) -> None:
    configure.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Before conftests and collection: give option values back to their options, and give a run of the suite
    the suite's settings, whether or not a pytest.ini was found (an installed suite has none)."""
    rootdir.settle(early_config, parser, args)


@pytest.hookimpl(tryfirst=True)  # before allure-pytest's own pytest_configure reads --clean-alluredir
def pytest_configure(config: pytest.Config) -> None:
    allure_report.prepare(config, is_worker=hasattr(config, "workerinput"))
    rootdir.refuse_lost_ini(config)
    for marker in configure.MARKERS:
        config.addinivalue_line("markers", marker)
    state = State()
    config.stash[STATE] = state
    if not rootdir.runs_suite(config):
        return
    state.active = True
    rootdir.suite_warning_filters(config)
    state.is_worker = hasattr(config, "workerinput")
    try:
        configure.configure(config, state)
    except SuiteUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    if allure_report.allure_dir(config):
        state.recorder.on_exchange = allure_report.step_for
        config.pluginmanager.register(allure_report.AllureBridge(case_of, lambda r: getattr(r, "s3cors", None)),
                                      "s3cors-allure")
    if state.is_worker:
        workers.receive(state, config.workerinput)
    _unwind_on_sigterm(config)
    if state.is_worker:
        return
    expected: dict[str, int] = {}
    for case in state.cases_to_run():
        expected[case.area] = expected.get(case.area, 0) + 1
    config.pluginmanager.register(_Records(state), "s3cors-records")
    progress = Progress(config, expected, lambda: state.recorder.total)
    config.pluginmanager.register(progress, PROGRESS)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(workers.XdistHooks(state, progress), "s3cors-xdist")


def _unwind_on_sigterm(config: pytest.Config) -> None:
    """SIGTERM (CI cancelling a job) unwinds like Ctrl-C, so the run still removes its buckets."""
    def unwind(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, unwind)
    except ValueError:  # not the main thread
        return

    def restore() -> None:
        try:
            signal.signal(signal.SIGTERM, previous)
        except ValueError:
            pass

    config.add_cleanup(restore)


def pytest_sessionstart(session: pytest.Session) -> None:
    state = state_of(session.config)
    if not state.active:
        return
    state.started = now_iso()
    state.started_monotonic = time.monotonic()
    if state.is_worker or session.config.option.collectonly:  # listing the cases needs no target
        return
    problem = startup.start(state)
    if problem:
        state.unusable = problem
        pytest.exit(problem, returncode=EXIT_TARGET_UNUSABLE)


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """The progress counts the cases that will run (after -k, -m and --deselect as well)."""
    progress = session.config.pluginmanager.get_plugin(PROGRESS)
    state = state_of(session.config)
    if progress is not None and state.registry is not None and session.items:
        progress.expect([case_id_of(item.nodeid) for item in session.items],
                        {c.id: c.area for c in state.registry.cases.values()})


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = state_of(item.config)
    if state.active and state.unsupported and case_of(item) is not None:
        raise Unsupported(state.unsupported)


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
    state = state_of(item.config)
    case = case_of(item)
    judged = state.active and case is not None and call.when != "teardown"
    excinfo = call.excinfo
    # pytest would format a traceback of a verdict's exception, which the verdict's own text replaces: a
    # quarter of a second of CPU in a run where a hundred cases fail as their expectation file says.
    quiet = judged and excinfo is not None and not checks.needs_traceback(excinfo.value)
    if quiet:
        call.excinfo = None
    try:
        report = yield
    finally:
        call.excinfo = excinfo
    if quiet:
        report.outcome, report.longrepr = "failed", str(excinfo.value)  # until the verdict shapes it below
    if not judged or (call.when == "setup" and report.passed):
        return report
    if state.recorder:
        state.recorder.current = None  # teardown exchanges (cleanup) belong to no case
    verdicts.record_case(state, item, case, call, report)
    report.s3cors_requests = (worker_id(), state.recorder.total if state.recorder else 0)  # for the progress
    return report


class _Records:
    """Collects the case records as their reports arrive (registered on the controller: pytest gives
    pytest_runtest_logreport no config, so the hook lives on an object holding the run's state). Under xdist
    these are the workers' reports, with their s3cors attribute, replayed on the controller."""

    def __init__(self, state: State) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "s3cors", None)
        if record is not None:
            self.state.received.append(record)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    config = session.config
    state = state_of(config)
    if not state.active:
        return
    progress = config.pluginmanager.get_plugin(PROGRESS)
    if progress is not None:
        progress.stop()
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        state.interrupted = True
    if state.is_worker:
        config.workeroutput["s3cors_requests"] = state.recorder.total if state.recorder else 0
        return
    if config.option.collectonly or state.unusable:
        return  # nothing ran: the reports of the last real run stay as they are
    state.ending = finish.finish(config, state, failed=bool(session.testsfailed),
                                 bundle_dir=configure.option(config, "--bundle-dir"))


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter formats the interrupt's traceback
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo) -> None:
    """Ctrl-C or SIGTERM: make the traceback one pytest can format, so the run ends "interrupted" (exit 2)."""
    tracebacks.drop_lineless_frames(excinfo.value)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = state_of(config)
    if state.active and not state.is_worker and not config.option.collectonly:
        summary.write_summary(terminalreporter, state)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.active and state.launcher is not None:
        state.launcher.stop()
