"""Fixtures of the conformance cases: the target, an S3 client, buckets, the case's checks, polling."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from conformance.cases.run_ahead import RUN_AHEAD, RunAhead, runs_alone
from conformance.cases.setups import Refused, SharedConfigs
from conformance.run import draws
from conformance.target.buckets import Buckets, worker_id
from conformance.behaviour.checks import Check
from conformance.target.http import S3
from conformance.run.state import State, state_of
from conformance.run.verdicts import CHECK, case_of
from conformance.target.polling import poll as _poll
from conformance.target.profiles import Target


@pytest.fixture(scope="session")
def s3cors(pytestconfig: pytest.Config) -> State:
    """The run state (target, options, expectations)."""
    state = state_of(pytestconfig)
    if not state.active:
        pytest.fail("the conformance plugin is not active for this run (run pytest on the conformance package)",
                    pytrace=False)
    return state


@pytest.fixture(scope="session")
def target(s3cors: State) -> Target:
    """The target under test (endpoint, owner mode, capabilities)."""
    return s3cors.target


@pytest.fixture(scope="session")
def s3(s3cors: State) -> S3:
    """The client for the target: boto3 (.api) and raw requests (.request, .preflight)."""
    return s3cors.s3()


@pytest.fixture(scope="session")
def buckets(s3: S3, s3cors: State) -> Iterator[Buckets]:
    """The registry of this worker's buckets; everything in it is removed at the end of the session."""
    registry = Buckets(s3, s3cors.run_id, worker_id(), keep=s3cors.keep_buckets, journal=s3cors.journal())
    yield registry
    s3.forget_ahead()  # nothing sent ahead still runs against a bucket being removed
    left = registry.cleanup()
    if left:
        import warnings

        warnings.warn(f"could not remove buckets: {', '.join(left)}", stacklevel=1)


@pytest.fixture
def bucket(request: pytest.FixtureRequest, buckets: Buckets, _ahead: dict, s3: S3) -> Iterator[str]:
    """A new, empty bucket for one configuration under test; removed when the case ends. Without xdist
    workers, the first such case creates the session's new buckets together (each keeps its creation's
    evidence); a case that ran ahead (conformance/cases/run_ahead.py) made its own."""
    _start_alone(request, _ahead)
    ran = _ahead["alone"].ran_for(case_of(request.node))
    if ran is not None and ran.created.exchanges:
        s3.recorder.restore(ran.created.exchanges, "created ahead", counted=True)
    if ran is not None and ran.ran:
        name = ran.bucket
    else:
        if _ahead["buckets"] > 1:
            buckets.reserve(_ahead["buckets"])
            _ahead["buckets"] = 0
        name = buckets.take()
    yield name
    buckets.discard(name)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    """A case that ran ahead is not called again: what it did then becomes its outcome, checks and evidence."""
    alone = pyfuncitem.config.stash.get(RUN_AHEAD, None)
    ran = alone.finish(pyfuncitem) if alone is not None else None
    if ran is None:
        return None
    recorder = state_of(pyfuncitem.config).recorder
    if recorder is not None:  # what it kept (a generated case keeps part of its exchanges), and all it sent
        recorder.restore(ran.recorded.exchanges, "run ahead", shown=True)
        recorder.case_requests += ran.recorded.requests
    pyfuncitem.stash[CHECK] = ran.check
    if ran.error is not None:
        raise ran.error
    return True


@pytest.fixture(scope="session")
def scratch_bucket(s3: S3, buckets: Buckets) -> str:
    """One bucket per worker for cases whose bucket state does not matter (rejected configurations)."""
    return _shared_setup(s3, buckets.create)


def _shared_setup(s3: S3, make: Callable):
    """Set up something several cases share (per worker). Its exchanges stay in the evidence of the case that
    happens to run first in this worker, noted 'shared setup: ...' (which case that is depends on -n)."""
    current = s3.recorder.current
    start = len(current) if current is not None else 0
    try:
        return make()
    finally:
        for exchange in (current or [])[start:]:
            exchange["note"] = f"shared setup: {exchange['note']}" if exchange["note"] else "shared setup"


@pytest.fixture
def missing_bucket(request: pytest.FixtureRequest, buckets: Buckets, _ahead: dict) -> str:
    """A name of this run that no bucket has (never created)."""
    _start_alone(request, _ahead)
    ran = _ahead["alone"].ran_for(case_of(request.node))
    return ran.missing if ran is not None and ran.ran and ran.missing is not None else buckets.next_name()


@pytest.fixture
def check(request: pytest.FixtureRequest) -> Check:
    """The checks of the running case; the plugin turns them into its outcome."""
    case = request.node.callspec.params["case"]
    result = Check(case)
    request.node.stash[CHECK] = result
    return result


@pytest.fixture
def poll(s3cors: State) -> Callable:
    """poll(fetch, done): repeat fetch until done(result) or the propagation timeout; the last result."""
    return lambda fetch, done: _poll(fetch, done, s3cors.propagation_timeout)


@pytest.fixture(scope="session")
def shared_answers() -> dict:
    """What the generated properties of this worker that need no objects share: their buckets and every answer
    those gave (conformance/run/properties.py Answers), created by the first of them."""
    return {}


@pytest.fixture(scope="session")
def _ahead(request: pytest.FixtureRequest, s3cors: State, buckets: Buckets) -> Iterator[dict]:
    """What the session's cases will need, when this process runs them all (no xdist worker): the named
    configurations (set up together at the first that needs one), the preflights cases plan to send to them
    (sent together once they are set up), how many new buckets the others need (created together) and the
    cases that run ahead (started once the first case has its set-up); the generated cases' examples start
    being drawn, in a process of their own. At the end, cases still running ahead end before the buckets are
    removed."""
    if worker_id() != "main":
        yield {"configs": [], "preflights": [], "buckets": 0, "alone": RunAhead([])}
        return
    configs, preflights, new = {}, [], 0
    for item in request.session.items:
        names = getattr(item, "fixturenames", ())
        case = case_of(item)
        if "configured_bucket" in names and case is not None and case.setup.get("bucket") != "missing":
            key = (case.table, case.setup["config"])
            configs.setdefault(key, case.setup)
            marker = item.get_closest_marker("sent_ahead")
            if marker is not None:
                preflights.append((key, case, marker.args[0]))
        new += "bucket" in names and not runs_alone(item)  # a case that runs ahead creates its own
    alone = request.config.stash[RUN_AHEAD] = RunAhead(request.session.items)
    properties = [case.send["property"] for case in map(case_of, request.session.items)
                  if case is not None and case.area == "GEN"]
    draws.draw_ahead(properties, s3cors.fuzz_seed, s3cors.fuzz_examples)
    try:
        yield {"configs": list(configs.items()), "preflights": preflights, "buckets": new, "alone": alone}
    finally:
        alone.stop()
        draws.stop_drawing()


def _start_alone(request: pytest.FixtureRequest, ahead: dict) -> None:
    """Start the cases that run ahead, unless they started (their shared fixtures come from this request)."""
    alone: RunAhead = ahead["alone"]
    if alone.items:
        alone.start(request.getfixturevalue("s3"), request.getfixturevalue("buckets"),
                    {name: request.getfixturevalue(name) for name in alone.needs()})


@pytest.fixture(scope="session")
def _shared_configs(s3: S3, buckets: Buckets, s3cors: State, _ahead: dict) -> SharedConfigs:
    """Buckets holding the tables' named configurations, set up once per session (and worker)."""
    return SharedConfigs(s3, buckets, lambda fetch, done: _poll(fetch, done, s3cors.propagation_timeout),
                         _ahead["configs"], _ahead["preflights"])


@pytest.fixture
def configured_bucket(request: pytest.FixtureRequest, case, check: Check, _shared_configs: SharedConfigs,
                      buckets: Buckets, _ahead: dict) -> str:
    """The bucket holding the case's named configuration (setup.config), shared by every case that uses it:
    one bucket per configuration under test, not per assertion."""
    if case.setup.get("bucket") == "missing":
        return buckets.next_name()
    bucket, problem = _shared_configs.get((case.table, case.setup["config"]), case.setup)
    _start_alone(request, _ahead)  # once the shared configurations are set up and their requests sent
    if isinstance(problem, Refused):
        # The server answered: it refuses a configuration that is valid (the model accepts it, §2.1), so the
        # requirement, which needs that configuration, is not met. A verdict, not a missing precondition.
        check.require(False, f"the target accepts the configuration {case.setup['config']!r} the requirement needs "
                             "(valid per §2.1)", "2xx", str(problem))
    check.precondition(problem is None, f"configuration {case.setup['config']!r}: {problem}")
    return bucket
