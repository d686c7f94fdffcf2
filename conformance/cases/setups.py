"""Set-up that cases share: the buckets holding the tables' named configurations (one bucket per configuration,
not per assertion), set up once per session and worker.

In a run without xdist workers every configuration the session's cases need is set up at once, at the first
case that needs one: a far endpoint's latency is paid once for all of them, not once per configuration. Each
configuration's exchanges are kept apart and join the evidence of the first case that uses it, noted 'shared
setup', as when it is set up on demand (which is what xdist workers do: which cases a worker runs is not known
ahead). Then the requests the cases plan to send (cases(ahead=...): preflights, and reads of objects nothing
writes) go out together: they change nothing, so each answer is the one the case would get in its turn; the
answer and its exchanges wait for the case."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from conformance.behaviour import model
from conformance.errors import ServerError
from conformance.target.buckets import Buckets
from conformance.target.http import S3
from conformance.target.inflight import gather


class Refused(str):
    """PutBucketCors refused a configuration the behaviour model accepts (the server's answer, as text)."""


class SharedConfigs:
    """The tables' named configurations of this worker: (table, config) -> (bucket, problem or None)."""

    def __init__(self, s3: S3, buckets: Buckets, poll: Callable, planned: Iterable[tuple[tuple, dict]] = (),
                 preflights: Iterable[tuple[tuple, Any, Callable]] = ()) -> None:
        self.s3, self.buckets, self.poll = s3, buckets, poll
        self.planned = dict(planned)  # configurations the session's cases will need (set up with the first)
        self.preflights = list(preflights)  # (configuration, case, plan): requests cases send, once it is ready
        self.ready: dict[tuple, tuple[str, str | None]] = {}
        self.evidence: dict[tuple, list[dict]] = {}  # set up ahead, not yet shown in a case's evidence

    def get(self, key: tuple, setup: dict) -> tuple[str, str | None]:
        """The bucket holding the configuration and the problem setting it up (None: ready)."""
        if key not in self.ready:
            todo = {key: setup, **{k: s for k, s in self.planned.items() if k not in self.ready and k != key}}
            keys, recorder = list(todo), self.s3.recorder
            start = recorder.mark()
            try:
                done = recorder.gather_apart(
                    [lambda s=todo[k]: set_up_config(self.s3, self.buckets, self.poll, s) for k in keys])
            except BaseException:  # no answer: the exchanges stay with this case, as its shared setup
                recorder.annotate(start, "shared setup")
                raise
            for k, (result, exchanges) in zip(keys, done):
                self.ready[k], self.evidence[k] = result, exchanges
            self._send_ahead()
        exchanges = self.evidence.pop(key, None)
        if exchanges:
            self.s3.recorder.restore(exchanges, "shared setup", counted=True)
        return self.ready[key]

    def _send_ahead(self) -> None:
        """Send the planned requests of every case whose configuration is ready, together (S3.send_ahead)."""
        calls, later = [], []
        for key, case, plan in self.preflights:
            if key not in self.ready:
                later.append((key, case, plan))
            elif self.ready[key][1] is None:  # a configuration with a problem: its cases send nothing
                calls.extend(plan(case, self.ready[key][0], self.s3))
        self.preflights = later
        if calls:
            self.s3.send_ahead(calls)


def set_up_config(s3: S3, buckets: Buckets, poll: Callable, setup: dict) -> tuple[str, str | None]:
    """Create a bucket with the configuration's objects and rules; (bucket, problem or None)."""
    bucket = buckets.create()
    try:
        return bucket, configure_bucket(s3, bucket, poll, setup)
    except ServerError as exc:  # the configuration is a precondition of the cases sharing it
        return bucket, str(exc)


def configure_bucket(s3: S3, bucket: str, poll: Callable, setup: dict) -> str | None:
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
