"""Fixtures of the conformance cases: the target, an S3 client, buckets, the case's checks, polling."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from conformance.target.buckets import Buckets, worker_id
from conformance.behaviour import model
from conformance.behaviour.checks import Check
from conformance.errors import ServerError
from conformance.target.http import S3
from conformance.run.state import State, state_of
from conformance.run.verdicts import CHECK
from conformance.target.inflight import gather
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
    left = registry.cleanup()
    if left:
        import warnings

        warnings.warn(f"could not remove buckets: {', '.join(left)}", stacklevel=1)


@pytest.fixture
def bucket(buckets: Buckets) -> Iterator[str]:
    """A new, empty bucket for one configuration under test; removed when the case ends."""
    name = buckets.create()
    yield name
    buckets.discard(name)


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
def missing_bucket(buckets: Buckets) -> str:
    """A name of this run that no bucket has (never created)."""
    return buckets.next_name()


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
    """What the generated preflight properties of this worker share: one bucket and every answer it gave
    (conformance/run/properties.py Answers), created by the first of them."""
    return {}


@pytest.fixture(scope="session")
def _shared_configs() -> dict:
    """Buckets holding the tables' named configurations, created once per session (and worker)."""
    return {}


@pytest.fixture
def configured_bucket(case, check: Check, s3: S3, buckets: Buckets, poll: Callable, _shared_configs: dict) -> str:
    """The bucket holding the case's named configuration (setup.config), shared by every case that uses it:
    one bucket per configuration under test, not per assertion."""
    if case.setup.get("bucket") == "missing":
        return buckets.next_name()
    key = (case.table, case.setup["config"])
    if key not in _shared_configs:
        _shared_configs[key] = _shared_setup(s3, lambda: _set_up_config(s3, buckets, poll, case.setup))
    bucket, problem = _shared_configs[key]  # (a 5xx while setting it up is a problem too: no verdict)
    if isinstance(problem, Refused):
        # The server answered: it refuses a configuration that is valid (the model accepts it, §2.1), so the
        # requirement, which needs that configuration, is not met. A verdict, not a missing precondition.
        check.require(False, f"the target accepts the configuration {case.setup['config']!r} the requirement needs "
                             "(valid per §2.1)", "2xx", str(problem))
    check.precondition(problem is None, f"configuration {case.setup['config']!r}: {problem}")
    return bucket


class Refused(str):
    """PutBucketCors refused a configuration the behaviour model accepts (the server's answer, as text)."""


def _set_up_config(s3: S3, buckets: Buckets, poll: Callable, setup: dict) -> tuple[str, str | None]:
    """Create a bucket with the configuration's objects and rules; (bucket, problem or None)."""
    bucket = buckets.create()
    try:
        return bucket, _configure_bucket(s3, bucket, poll, setup)
    except ServerError as exc:  # the configuration is a precondition of the cases sharing it
        return bucket, str(exc)


def _configure_bucket(s3: S3, bucket: str, poll: Callable, setup: dict) -> str | None:
    """Put the setup's objects and rules on the bucket; the problem, or None."""
    from conformance.cases.steps import as_multisets, get_rules, put_rules

    keys = setup.get("objects", [])
    puts = gather([lambda key=key: s3.api("put_object", Bucket=bucket, Key=key, Body=b"conformance object\n",
                                          ContentType="text/plain") for key in keys])
    for key, result in zip(keys, puts):
        if not result.ok:
            return f"PutObject {key} answered {result.status} {result.code}"
    rules = setup["rules"]
    if not rules:
        return None  # a bucket without CORS configuration
    put = put_rules(s3, bucket, rules)
    if not put.ok:
        problem = f"PutBucketCors answered {put.status} {put.code}: {put.message}"
        valid = model.validate_rules(rules)
        refused = 400 <= put.status < 500 and valid.accepted and not valid.open_questions
        return Refused(problem) if refused else problem
    poll(lambda: get_rules(s3, bucket), lambda r: r.ok and as_multisets(r.data.get("CORSRules", [])) ==
         as_multisets(rules))
    return None
