"""The engine of the generated cases (GEN, conformance/cases/test_generated.py): runs one property's examples
against the target, compares every answer with the model through the property's body, shrinks the worst
failure and records verdict, counts, evidence and a reproducer on the case's Check.

It belongs to the run (it sends requests and shapes a case's verdict, as the plugin does for table cases); the
examples themselves are pure and live in conformance/behaviour/generate.py.

Requests cost the most, so answers are kept: an Answers store holds a bucket, the configuration in effect on it
and every answer it gave, with the case that asked. The preflight properties of one worker share one store (the
same configuration and the same request get the same answer from a server, so a property checks what another
one already asked, and says so in its observations); the other properties have a store of their own."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable, Sequence

from hypothesis import assume
from hypothesis.errors import Unsatisfiable

from conformance.behaviour import corpus, generate as gen
from conformance.behaviour import reproducers as rep
from conformance.behaviour.checks import Check, CheckResult
from conformance.behaviour.cors import DECISIVE_QUESTIONS
from conformance.errors import InfraError, ServerError, Unsupported
from conformance.target.http import S3, ApiResult, Response
from conformance.target.inflight import gather
from conformance.target.profiles import strip_userinfo
from conformance.cases.steps import as_multisets, get_rules, put_rules

KEPT_EXCHANGES = 40  # exchanges of the first examples kept as evidence of a passing property (plus every failure's)


class Mismatch(Exception):
    """The server disagreed with the model on one example; carries what a reproducer needs."""

    def __init__(self, level: str, failed: list[CheckResult], detail: dict[str, Any]) -> None:
        super().__init__("; ".join(r.line() for r in failed))
        self.level = level
        self.failed = failed
        self.detail = detail
        self.exchanges: list[dict] = []


def _raise_stop(problem: BaseException) -> None:
    """Re-raise a problem that ends the property from one place, so hypothesis sees one failure and ends quickly:
    no answer or unsupported, or a 5xx answer (a verdict: the case fails with it)."""
    if isinstance(problem, Unsupported):
        raise Unsupported(str(problem))
    if isinstance(problem, ServerError):
        raise ServerError(problem.request, problem.status, problem.code, problem.message, problem.attempts)
    raise InfraError(str(problem))


def config_key(config: Sequence[dict]) -> str:
    """A configuration as a dictionary key."""
    return json.dumps(list(config), sort_keys=True)


class Answers:
    """A bucket and what it answered: the configuration in effect, the configurations it refused, and every
    answer to a generated request with the case that asked for it (the server is asked once per configuration
    and request, whichever property wants the answer)."""

    def __init__(self, s3: S3, bucket: str, poll: Callable) -> None:
        self.s3, self.bucket, self.poll = s3, bucket, poll
        self.current: str | None = None      # the configuration in effect (config_key), None = unknown
        self.last_seen: Any = None           # what GetBucketCors showed for it
        self.last_get: ApiResult | None = None
        self.refused: dict[str, ApiResult] = {}
        self.answers: dict[tuple[str, gen.GenRequest], tuple[Response, str]] = {}

    def apply(self, config: list[dict], stats: Counter) -> ApiResult | None:
        """Put the configuration (unless it is in effect) and poll until GetBucketCors shows it, or shows
        anything other than the previous one (a server that alters values must not cost a timeout per
        example). Returns the server's refusal when it refuses the configuration, else None. Requests sent are
        counted in stats."""
        key = config_key(config)
        if key in self.refused:
            return self.refused[key]
        if key == self.current:
            return None
        self.current = None
        put = put_rules(self.s3, self.bucket, config)
        stats["PutBucketCors"] += 1
        if not put.ok:  # what the bucket holds now is unknown; polling the next one still ends on a change
            self.refused[key] = put
            return put
        previous = self.last_seen

        def done(result: ApiResult) -> bool:
            if not result.ok:
                return False
            rules = result.data.get("CORSRules", [])
            return as_multisets(rules) == as_multisets(config) or (previous is not None and rules != previous)

        got = self.poll(lambda: get_rules(self.s3, self.bucket), done)
        stats["GetBucketCors"] += 1
        self.last_get = got
        self.last_seen = got.data.get("CORSRules", []) if got.ok else None
        self.current = key
        return None

    def forget(self, config: list[dict]) -> None:
        """Put the configuration again next time (a replay, or a put whose effect is unknown)."""
        self.current = None
        self.refused.pop(config_key(config), None)

    def send(self, request: gen.GenRequest, note: str, stats: Counter) -> Response:
        """Send one request to the bucket as it is configured now (no store)."""
        if request.kind == "preflight":
            resp = self.s3.preflight(self.bucket, request.key, request.origin, request.request_method,
                                     request.request_headers, note=note)
        else:
            resp = self.s3.request(request.method, self.bucket, request.key, headers=request.headers(),
                                   body=request.body(), sign=request.signed, note=note)
        stats["requests"] += 1
        return resp


def shared_store(shared: dict, name: str, s3: S3, buckets, poll: Callable) -> Answers:
    """The worker's store `name` in `shared` (a session fixture's dict); the first case that asks creates its
    bucket, and that case's evidence notes the creation as shared set-up."""
    if name not in shared:
        start = s3.recorder.mark()
        try:
            shared[name] = Answers(s3, buckets.create(), poll)
        finally:
            s3.recorder.annotate(start, f"shared setup (the bucket of the {name} properties in this worker)")
    return shared[name]


class Property:
    """One property run: the case, its Answers store, cached configuration-API answers, counters, evidence.

    A run has two passes with the same seed. Explore: the whole budget, recording the worst level that failed
    (so the verdict does not depend on when hypothesis would stop after a first failure). Shrink (only when
    something failed): the same examples again, answered from the store, raising at the first failure of that
    level, which hypothesis shrinks to its smallest example."""

    def __init__(self, case, check: Check, s3: S3, store: Answers, state) -> None:
        self.case, self.check, self.s3, self.store, self.state = case, check, s3, store, state
        self.recorder = s3.recorder
        self.cache: dict[tuple, Any] = {}
        self.stats: Counter = Counter()       # requests this case sent (explore and shrink)
        self.reused: Counter = Counter()      # answers another case asked for, by that case
        self.excluded: Counter = Counter()
        self.held: dict[tuple[str, str], list[int]] = {}  # (level, check) -> [examples it held in, examples]
        self.stop: BaseException | None = None
        self.mode = "explore"                # or the level being shrunk: "MUST", "SHOULD"
        self.first: dict[str, Mismatch] = {}  # explore: the first failure of each level
        # Known counterexamples (fixtures/corpus/generated.toml), replayed before any generated example.
        self.config_only = case.send.get("property") in corpus.CONFIG_ONLY
        self.known = [c.value(self.config_only) for c in corpus.shipped().get(case.id, [])]

    @property
    def bucket(self) -> str:
        """The bucket the property's examples are configured on."""
        return self.store.bucket

    # ---- server side -------------------------------------------------------------------------------------
    def apply(self, config: list[dict]) -> ApiResult | None:
        """Put the configuration on the store's bucket unless it is in effect; the refusal, if refused."""
        return self.store.apply(config, self.stats)

    def answers(self, config: list[dict], requests: Sequence[gen.GenRequest]) -> list[Response] | None:
        """The server's answers to the requests with the configuration in effect (from the store when someone
        asked already; the others sent together, as independent requests); None when the server refuses the
        configuration."""
        store, key = self.store, config_key(config)
        missing = list(dict.fromkeys(r for r in requests if (key, r) not in store.answers))
        if missing:
            if self.apply(config) is not None:
                return None
            note = f"{self.case.id} example"
            got = gather([lambda r=r: store.send(r, note, self.stats) for r in missing])
            for request, resp in zip(missing, got):
                store.answers[(key, request)] = (resp, self.case.id)
        out = []
        for request in requests:
            resp, asker = store.answers[(key, request)]
            if asker != self.case.id and self.mode == "explore":
                self.reused[asker] += 1
            out.append(resp)
        return out

    def answers_or_reject(self, config: list[dict], requests: Sequence[gen.GenRequest]) -> list[Response]:
        """answers(), rejecting the example when the server refuses its configuration (GEN-CFG-001 judges that)."""
        got = self.answers(config, requests)
        if got is None:
            self.exclude("configuration refused by the server (GEN-CFG-001's concern)")
            assume(False)
        return got

    def replay(self, config: list[dict], request: gen.GenRequest | None) -> Response | ApiResult | None:
        """Send a reported example once more, uncached, as the evidence of the case (the shrink pass answered
        it from the store): the configuration is put again, then the request is sent."""
        self.store.forget(config)
        refused = self.apply(config)
        if refused is not None or request is None:
            return refused
        return self.store.send(request, f"{self.case.id} reported example, replayed", self.stats)

    def decidable(self, config: list[dict], requests) -> list[tuple[gen.GenRequest, Any]]:
        """The example's requests whose model answer rests on no decisive open question, with that answer
        (the others are counted as excluded); an example with none is rejected."""
        wanted = []
        for request in requests:
            expected = request.expected(config)
            decisive = set(expected.open_questions) & DECISIVE_QUESTIONS
            if decisive:
                self.exclude("open question " + ", ".join(sorted(decisive)))
                continue
            wanted.append((request, expected))
        assume(wanted)
        return wanted

    def exclude(self, why: str) -> None:
        """Count an excluded example or request (counted in the explore pass only)."""
        if self.mode == "explore":
            self.excluded[why] += 1

    def remember(self, key: tuple, fetch: Callable[[], Any]) -> Any:
        """A configuration-API answer, cached like request answers (the shrink pass re-asks little)."""
        if key not in self.cache:
            self.cache[key] = fetch()
        return self.cache[key]

    # ---- one example -------------------------------------------------------------------------------------
    def example(self, body: Callable[[], None]) -> None:
        """Run one example's body; keep evidence of the first examples only; stop fast after infra trouble."""
        if self.stop is not None:
            _raise_stop(self.stop)
        start = self.recorder.mark()
        try:
            body()
        except (InfraError, ServerError, Unsupported) as exc:
            self.stop = exc
            _raise_stop(exc)
        except Mismatch as exc:
            exc.exchanges = self.recorder.since(start)
            raise
        finally:
            self.recorder.trim(start, KEPT_EXCHANGES)

    def judge(self, scratch: Check, detail: Callable[[], dict[str, Any]], *, exact: bool) -> None:
        """The verdict on one compared answer. SHOULD checks count only when exact (no open question).
        Explore: count what held, remember the first failure of each level. Shrink: raise a Mismatch at a
        failure of the level being shrunk (only SHOULD checks are looked at when shrinking a SHOULD failure)."""
        if self.mode == "explore":
            self.stats["checked"] += 1
        must = [r for r in scratch.results if not r.ok and r.level == "MUST"]
        should = [r for r in scratch.results if not r.ok and r.level == "SHOULD"]
        if not exact and should:
            if self.mode == "explore":
                self.exclude("exact form left open (SHOULD checks not counted)")
            should = []
        if self.mode == "explore":
            for r in scratch.results:
                if r.level == "SHOULD" and not exact:
                    continue
                tally = self.held.setdefault((r.level, r.what), [0, 0])
                tally[0] += r.ok
                tally[1] += 1
            for level, failed in (("MUST", must + should), ("SHOULD", should)):
                if failed and (level == "SHOULD" or must) and level not in self.first:
                    self.first[level] = Mismatch(level, failed, detail())
            return
        if self.mode == "MUST" and must:
            raise Mismatch("MUST", must + should, detail())
        if self.mode == "SHOULD" and should:
            raise Mismatch("SHOULD", should, detail())

    def reproducer(self, config: list[dict] | None, request: gen.GenRequest | None,
                   expected: Any, got: Any) -> dict[str, Any]:
        """The configuration, the request, expected vs got, and shell lines that replay it (no credential)."""
        endpoint = strip_userinfo(self.s3.endpoint)
        url = self.s3.url(rep.BUCKET_VAR, request.key) if request is not None else None
        token = bool(self.s3.credentials.session_token)
        lines = rep.script(config, request, endpoint=endpoint, url=url, region=self.s3.target.region,
                           session_token=token)
        out = {"property": self.case.id, "seed": self.state.fuzz_seed, "configuration": config,
               "request": request.public() if request is not None else None, "expected": expected, "got": got,
               "commands": lines}
        if config is not None:
            out["put_bucket_cors"] = rep.put_cors_command(config, endpoint, self.s3.target.region)
        if request is not None:
            out["curl"] = lines[-1]
        return out

    def detail(self, config: list[dict], request: gen.GenRequest, expected, resp: Response) -> Callable:
        """What a failure of this request reports (built only when it fails)."""
        return lambda: {"summary": summary(config, request), "replay": lambda: self.replay(config, request),
                        "example": (config, [request]),
                        "reproducer": self.reproducer(config, request, rep.answer_view(expected),
                                                      response_view(resp))}

    # ---- the whole run -----------------------------------------------------------------------------------
    def _hypothesis(self, strategy, body: Callable[[Any], None], shrink: bool) -> list[BaseException]:
        """One pass; the exceptions it ended with (leaves of a group), [] when every example held."""
        state = self.state

        @gen.seeded(strategy, state.fuzz_seed, state.fuzz_examples, shrink=shrink, explicit=self.known)
        def prop(example):
            self.example(lambda: body(example))

        try:
            prop()
        except Unsatisfiable:
            self._observe_counts()
            self.check.precondition(False, "no generated example could be checked (every one was excluded: "
                                           f"{dict(self.excluded) or 'no answer to compare'})")
        except BaseException as exc:  # noqa: BLE001 - hypothesis raises one failure or a group of them
            found = _collect(exc)
            stops = [e for e in found if isinstance(e, (InfraError, ServerError, Unsupported))]
            if stops:
                self._observe_counts()
                raise stops[0] from None
            if not any(isinstance(e, Mismatch) for e in found):
                raise
            return found
        return []

    def run(self, strategy, body: Callable[[Any], None]) -> None:
        """Explore the budget, shrink the worst failure, record verdict, seed, counts and reproducer."""
        state, check = self.state, self.check
        check.observe("seed", state.fuzz_seed)
        check.observe("examples", state.fuzz_examples)
        check.observe("known_counterexamples", len(self.known))
        check.observe("bucket", self.bucket)  # also when every answer came from another case's exchanges
        check.observe("reproduce", f"pytest --case {self.case.id} --fuzz-seed {state.fuzz_seed} "
                                   f"--fuzz-examples {state.fuzz_examples} --target {self.s3.target.name}")
        try:
            self._hypothesis(strategy, body, shrink=False)
            self._record_held()
            level = "MUST" if "MUST" in self.first else "SHOULD" if "SHOULD" in self.first else None
            if level is None:
                return
            self.mode = level
            found = [e for e in self._hypothesis(strategy, body, shrink=True) if isinstance(e, Mismatch)]
            if found:
                failure, shrunk = found[0], True
            else:  # the server answered otherwise the second time: report the example as found, unshrunk
                failure, shrunk = self.first[level], False
                check.observe("not_shrunk", "the failure was not seen again while shrinking (is the server "
                                            "answering inconsistently?); the first failing example is reported")
            self._record(failure, shrunk)
        finally:
            self._observe_counts()

    def _record_held(self) -> None:
        """What was checked: each check that held in every example it was made in, with the number of examples
        (a check that failed somewhere is recorded with the failing example instead)."""
        seed, budget = self.state.fuzz_seed, self.state.fuzz_examples
        for (level, what), (held, made) in self.held.items():
            if held == made:
                self.check.that(level, True, f"{what}: held in all {made} generated examples it was checked in "
                                             f"(seed {seed}, budget {budget})")

    def _observe_counts(self) -> None:
        self.check.observe("examples_checked", self.stats["checked"])
        self.check.observe("http", {k: v for k, v in self.stats.items() if k != "checked"})
        if self.reused:
            self.check.observe("answers_reused", {
                "note": "answers to the same configuration and request that another case asked for in this "
                        "worker (their exchanges are in that case's evidence)",
                "from": dict(self.reused)})
        if self.excluded:
            self.check.observe("excluded", dict(self.excluded))

    def _record(self, failure: Mismatch, shrunk: bool) -> None:
        check, recorder = self.check, self.recorder
        rules, requests = failure.detail["example"]
        new = not corpus.known(self.case.id, rules, requests)
        label = ("minimal example" if shrunk else "example") + (
            ", new: not in the corpus" if new else ", a known counterexample")
        summary_text = failure.detail["summary"]
        if new:  # the lines that keep it: replayed by every later run, whatever its budget and seed
            check.observe("corpus_entry", corpus.entry(self.case.id, rules, requests, self.s3.target.name))
        for r in failure.failed:
            check.that(r.level, False, f"{r.what} [{label}: {summary_text}]", r.expected, r.actual)
        check.observe("reproducer", failure.detail["reproducer"])
        if recorder.current is None:
            return
        if not failure.exchanges:  # answered from the store while shrinking: ask once more, for the evidence
            start = recorder.mark()
            try:
                failure.detail["replay"]()
            except (InfraError, ServerError, Unsupported) as exc:
                check.observe("replay", f"the reported example could not be sent again: {exc}")
            failure.exchanges = recorder.since(start)
            recorder.trim(start, 0)
        recorder.restore(failure.exchanges, f"{label} ({failure.level})")


def _collect(exc: BaseException) -> list[BaseException]:
    """The leaf exceptions of an exception (group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _collect(e)]
    return [exc]


def fuzz_enabled(state) -> None:
    """Raise Unsupported when the budget is 0 (the properties are not run)."""
    if state.fuzz_examples <= 0:
        raise Unsupported("generated properties not run (--fuzz-examples 0)")


def response_view(resp: Response) -> dict[str, Any]:
    """A server's answer for a reproducer."""
    view: dict[str, Any] = {"status": resp.status, "headers": resp.cors_headers()}
    if resp.code:
        view["error_code"] = resp.code
    return view


def summary(config: list[dict], request: gen.GenRequest | None = None) -> str:
    """An example on one line."""
    text = f"rules={rep.describe_config(config)}"
    return text + (f"; {request.describe()}" if request is not None else "")
