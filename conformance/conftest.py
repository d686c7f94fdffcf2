"""Fixtures of the conformance cases: the target, an S3 client, buckets, the case's checks, polling."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from .buckets import Buckets, worker_id
from .checks import Check
from .http import S3
from .plugin import CHECK, State, state_of
from .polling import poll as _poll
from .targets import Target


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
def scratch_bucket(buckets: Buckets) -> str:
    """One bucket per worker for cases whose bucket state does not matter (rejected configurations)."""
    return buckets.create()


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
