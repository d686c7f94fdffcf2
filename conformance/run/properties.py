"""The engine of the generated cases (GEN, conformance/cases/test_generated.py): runs one property's examples
against the target, compares every answer with the model through the property's body, shrinks the worst
failure and records verdict, counts, evidence and a reproducer on the case's Check.

It belongs to the run (it sends requests and shapes a case's verdict, as the plugin does for table cases); the
examples themselves are pure and live in conformance/behaviour/generate.py.

Requests cost the most, and a far endpoint's latency most of all, so:

- Answers are kept. An Answers store holds buckets (lanes), the configuration in effect on each and every
  answer they gave, with the case that asked. The properties of a worker that need no objects share one store
  (the same configuration and request get the same answer from a server, so a property checks what another one
  already asked, and says so in its observations); GEN-ACT-001 has a store of its own.
- Examples are planned. Which examples hypothesis draws depends on the model alone (an example is rejected only
  where the model decides; what the server leaves uncheckable is excluded, not rejected), so the same seed draws
  the same examples on every server, and a property can draw them first without a request, send them ahead
  over up to LANES buckets at once, and then explore with answers at hand. Examples the server left
  without a check are made up for in a further round, so the budget counts examples with a check, as before.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable, Sequence

from hypothesis.errors import Unsatisfiable, UnsatisfiedAssumption

from conformance.behaviour import corpus, generate as gen
from conformance.behaviour import reproducers as rep
from conformance.behaviour.checks import Check, CheckResult
from conformance.behaviour.cors import DECISIVE_QUESTIONS
from conformance.errors import InfraError, ServerError, Unsupported
from conformance.target.http import S3, ApiResult, Response
from conformance.target.inflight import gather
from conformance.target.profiles import strip_userinfo
from conformance.cases.steps import as_multisets, get_rules, put_rules

TOP_UP_ROUNDS = 3     # rounds after the first that make up for examples the server left without a check
KEPT_EXCHANGES = 40  # exchanges of the first examples kept as evidence of a passing property (plus every failure's)


class Mismatch(Exception):
    """The server disagreed with the model on one example; carries what a reproducer needs."""

    def __init__(self, level: str, failed: list[CheckResult], detail: dict[str, Any]) -> None:
        super().__init__("; ".join(r.line() for r in failed))
        self.level = level
        self.failed = failed
        self.detail = detail
        self.exchanges: list[dict] = []
        self.round: tuple = ()  # (seed, budget, explicit examples) of the explore round that found it


def _raise_stop(problem: BaseException) -> None:
    """Re-raise a problem that ends the property from one place, so hypothesis sees one failure and ends quickly:
    no answer or unsupported, or a 5xx answer (a verdict: the case fails with it)."""
    if isinstance(problem, Unsupported):
        raise Unsupported(str(problem))
    if isinstance(problem, ServerError):
        raise ServerError(problem.request, problem.status, problem.code, problem.message, problem.attempts)
    raise InfraError(str(problem))


def reject_unless(condition: Any) -> None:
    """Reject the example unless condition holds, as hypothesis.assume does, also when a property walks its
    planned examples outside hypothesis (which would warn about assume there)."""
    if not condition:
        raise UnsatisfiedAssumption()


def decidable(config: list[dict], requests, exclude: Callable[[str], None]) -> list[tuple[gen.GenRequest, Any]]:
    """The example's requests whose model answer rests on no decisive open question, with that answer (each other
    one passed to exclude, with why); an example with none is rejected."""
    wanted = []
    for request in requests:
        expected = request.expected(config)
        decisive = set(expected.open_questions) & DECISIVE_QUESTIONS
        if decisive:
            exclude("open question " + ", ".join(sorted(decisive)))
            continue
        wanted.append((request, expected))
    reject_unless(wanted)
    return wanted


def config_key(config: Sequence[dict]) -> str:
    """A configuration as a dictionary key."""
    return json.dumps(list(config), sort_keys=True)


def balance(groups: list[Any], costs: list[int], lanes: int) -> list[list[Any]]:
    """The groups shared out over the lanes so that each lane's total cost is about the same (the costliest
    first, each to the least loaded lane); each share keeps the groups' order."""
    loads, shares = [0] * lanes, [[] for _ in range(lanes)]
    for i in sorted(range(len(groups)), key=lambda i: -costs[i]):
        lane = loads.index(min(loads))
        loads[lane] += costs[i]
        shares[lane].append(i)
    return [[groups[i] for i in sorted(share)] for share in shares]


LANES = 8  # buckets a store spreads planned configurations over; fixed, so evidence does not depend on -n or
           # --concurrency (the requests in flight at once stay bounded by --concurrency)


class Lane:
    """One bucket of a store and what is known of it: the configuration in effect (config_key, None = unknown),
    what GetBucketCors last showed for it and that answer."""

    def __init__(self, bucket: str, number: int) -> None:
        self.bucket, self.number = bucket, number
        self.current: str | None = None
        self.last_seen: Any = None
        self.last_get: ApiResult | None = None
        self.setups: dict[str, list[dict]] = {}  # config_key -> the exchanges that put it in effect here


class Answers:
    """Buckets and what they answered: the configuration in effect on each, the configurations the server
    refused, and every answer to a generated request with the case that asked for it (the server is asked once
    per configuration and request, whichever property wants the answer).

    The first bucket (lane 0) answers what is asked as a property explores; the others (up to LANES, created
    when a property sends its planned examples ahead) let configurations be set up and asked at the same time."""

    def __init__(self, s3: S3, bucket: str, poll: Callable, new_bucket: Callable[[], str] | None = None,
                 prepare: Callable[[str], bool] | None = None) -> None:
        self.s3, self.poll = s3, poll
        self.new_bucket, self.prepare = new_bucket, prepare
        self.lanes = [Lane(bucket, 0)]
        self.refused: dict[str, ApiResult] = {}
        self.answers: dict[tuple[str, gen.GenRequest], tuple[Response, str]] = {}
        # (config_key, request) -> the exchanges behind the answer: its configuration's set-up, then the request
        self.evidence: dict[tuple[str, gen.GenRequest], list[dict]] = {}

    @property
    def bucket(self) -> str:
        """The bucket the property's own requests go to (lane 0)."""
        return self.lanes[0].bucket

    def buckets(self) -> list[str]:
        """Every bucket of the store."""
        return [lane.bucket for lane in self.lanes]

    def lanes_for(self, groups: int) -> list[Lane]:
        """As many lanes as there are groups of work (at most LANES), creating the missing buckets together; a
        bucket whose preparation fails is not used."""
        want = min(LANES, groups) - len(self.lanes)
        if want > 0 and self.new_bucket is not None:
            def make() -> str | None:
                bucket = self.new_bucket()
                return bucket if self.prepare is None or self.prepare(bucket) else None
            for bucket in gather([make] * want):
                if bucket is not None:
                    self.lanes.append(Lane(bucket, len(self.lanes)))
        return self.lanes[:max(1, min(LANES, groups))]

    def apply(self, config: list[dict], stats: Counter, lane: Lane | None = None) -> ApiResult | None:
        """Put the configuration on the lane (lane 0 by default) unless it is in effect, and poll until
        GetBucketCors shows it, or shows anything other than the previous one (a server that alters values must
        not cost a timeout per example). Returns the server's refusal when it refuses the configuration, else
        None. Requests sent are counted in stats; their exchanges are kept in lane.setups."""
        lane = lane or self.lanes[0]
        key = config_key(config)
        if key in self.refused:
            return self.refused[key]
        if key == lane.current:
            return None
        with self.s3.recorder.capture() as lane.setups[key]:
            return self._put_in_effect(config, key, lane, stats)

    def _put_in_effect(self, config: list[dict], key: str, lane: Lane, stats: Counter) -> ApiResult | None:
        """apply()'s requests: the put, then the poll."""
        lane.current = None
        put = put_rules(self.s3, lane.bucket, config)
        stats["PutBucketCors"] += 1
        if not put.ok:  # what the bucket holds now is unknown; polling the next one still ends on a change
            self.refused[key] = put
            return put
        previous = lane.last_seen

        def done(result: ApiResult) -> bool:
            if not result.ok:
                return False
            rules = result.data.get("CORSRules", [])
            return as_multisets(rules) == as_multisets(config) or (previous is not None and rules != previous)

        got = self.poll(lambda: get_rules(self.s3, lane.bucket), done)
        stats["GetBucketCors"] += 1
        lane.last_get = got
        lane.last_seen = got.data.get("CORSRules", []) if got.ok else None
        lane.current = key
        return None

    def forget(self, config: list[dict]) -> None:
        """Put the configuration again next time (a replay, or a put whose effect is unknown)."""
        for lane in self.lanes:
            lane.current = None
        self.refused.pop(config_key(config), None)

    def send(self, request: gen.GenRequest, note: str, stats: Counter, lane: Lane | None = None) -> Response:
        """Send one request to the lane's bucket (lane 0 by default) as it is configured now (no store)."""
        bucket = (lane or self.lanes[0]).bucket
        if request.kind == "preflight":
            resp = self.s3.preflight(bucket, request.key, request.origin, request.request_method,
                                     request.request_headers, note=note)
        else:
            resp = self.s3.request(request.method, bucket, request.key, headers=request.headers(),
                                   body=request.body(), sign=request.signed, note=note)
        stats["requests"] += 1
        return resp

    def fill(self, config: list[dict], requests: Sequence[gen.GenRequest], asker: str, note: str, stats: Counter,
             lane: Lane | None = None) -> bool:
        """Ask the lane the requests no one asked yet with this configuration in effect, storing the answers;
        False when the server refuses the configuration."""
        key = config_key(config)
        missing = list(dict.fromkeys(r for r in requests if (key, r) not in self.answers))
        if not missing:
            return key not in self.refused
        lane = lane or self.lanes[0]
        if self.apply(config, stats, lane) is not None:
            return False

        def ask(request: gen.GenRequest) -> tuple[Response, list[dict]]:
            with self.s3.recorder.capture() as sent:
                return self.send(request, note, stats, lane), sent

        got = gather([lambda r=r: ask(r) for r in missing])
        for request, (resp, sent) in zip(missing, got):
            self.answers[(key, request)] = (resp, asker)
            self.evidence[(key, request)] = lane.setups.get(key, []) + sent
        return True


def shared_store(shared: dict, name: str, s3: S3, buckets, poll: Callable) -> Answers:
    """The worker's store `name` in `shared` (a session fixture's dict); the first case that asks creates its
    bucket, and that case's evidence notes the creation as shared set-up."""
    if name not in shared:
        start = s3.recorder.mark()
        try:
            shared[name] = Answers(s3, buckets.create(), poll, new_bucket=buckets.create)
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
        self.evidence: dict[str, list[dict]] = {}  # config_key -> exchanges behind a configuration-API answer
        self.stats: Counter = Counter()       # requests this case sent (explore and shrink)
        self.reused: Counter = Counter()      # answers another case asked for, by that case
        self.excluded: Counter = Counter()
        self.held: dict[tuple[str, str], list[int]] = {}  # (level, check) -> [examples it held in, examples]
        self.stop: BaseException | None = None
        self.mode = "explore"                # or the level being shrunk: "MUST", "SHOULD"
        self.round: tuple[int, int, Sequence] = (state.fuzz_seed, state.fuzz_examples, ())  # seed, budget, explicit
        self.rounds: list[dict[str, int]] = []
        self.uncheckable = 0                 # exclusions the server's answers caused
        self.short = 0                       # examples of the round with no check, because of the server
        self.sent_ahead: Counter = Counter()
        self.planned: list[Any] = []         # the examples of the round, drawn once, in hypothesis's order
        self.first: dict[str, Mismatch] = {}  # explore: the first failure of each level
        # Known counterexamples (fixtures/corpus/generated.toml), replayed before any generated example.
        self.config_only = case.send.get("property") in corpus.CONFIG_ONLY
        self.known = [c.value(self.config_only) for c in corpus.shipped().get(case.id, [])]

    @property
    def bucket(self) -> str:
        """The bucket the property's own examples are configured on (the store's lane 0)."""
        return self.store.bucket

    # ---- server side -------------------------------------------------------------------------------------
    def apply(self, config: list[dict]) -> ApiResult | None:
        """Put the configuration on the store's bucket unless it is in effect; the refusal, if refused."""
        return self.store.apply(config, self.stats)

    def answers(self, config: list[dict], requests: Sequence[gen.GenRequest]) -> list[Response] | None:
        """The server's answers to the requests with the configuration in effect (from the store when someone
        asked already, or when they were sent ahead; the others sent together, as independent requests); None
        when the server refuses the configuration."""
        store, key = self.store, config_key(config)
        if not store.fill(config, requests, self.case.id, f"{self.case.id} example", self.stats):
            return None
        out = []
        for request in requests:
            resp, asker = store.answers[(key, request)]
            if asker != self.case.id and self.mode == "explore":
                self.reused[asker] += 1
            out.append(resp)
        return out

    def ahead(self, draw: gen.Draw, work: Callable[[Lane, list[Any], Counter], None],
              cost: Callable[[list[Any]], int] = lambda items: 2 + len(items)) -> None:
        """Before exploring a round, send what its examples will ask, over the store's lanes, at once.

        draw.plan(example) says, without a request, what an example will ask: (group, item), rejecting it where
        the property would (conformance/run/draws.py); items of one group (one configuration) go to one lane,
        and work(lane, items, stats) asks them. Exploring then answers from what was kept. cost(items): about
        how many requests a group takes, to give every lane about as many (a lane sends its share one request
        after another)."""
        seed, budget, explicit = self.round
        planned = gen.planned(draw, seed, budget, explicit)
        self.planned = [example for example, _ in planned]
        groups: dict[str, list[Any]] = {}
        for _, (group, item) in planned:
            groups.setdefault(group, []).append(item)
        if not groups:
            return
        costs = [cost(items) for items in groups.values()]
        lanes = self.store.lanes_for(sum(c > 0 for c in costs))
        shares = balance(list(groups.values()), costs, len(lanes))

        def run(lane: Lane, share: list[list[Any]]) -> Counter:
            stats: Counter = Counter()  # one per lane: counters are not shared between threads
            for items in share:
                work(lane, items, stats)
            return stats

        start = self.recorder.mark()
        try:
            for stats in gather([lambda lane=lane, share=share: run(lane, share)
                                 for lane, share in zip(lanes, shares)]):
                self.stats.update(stats)
        finally:
            self.recorder.trim(start, KEPT_EXCHANGES)
        self.sent_ahead.update(examples=len(planned), configurations=len(groups))

    def ahead_answers(self, draw: gen.Draw) -> None:
        """ahead() for properties that ask requests under a configuration (answers kept in the store)."""
        note = f"{self.case.id} example, sent ahead"

        def work(lane: Lane, items: list, stats: Counter) -> None:
            config = items[0][0]
            self.store.fill(config, [r for _, requests in items for r in requests], self.case.id,
                            f"{note} (bucket {lane.number})", stats, lane)

        def cost(items: list) -> int:  # answers some property asked already cost nothing; a put and its poll do
            key = config_key(items[0][0])
            missing = {r for _, requests in items for r in requests if (key, r) not in self.store.answers}
            return 2 + len(missing) if missing and key not in self.store.refused else 0

        self.ahead(draw, work, cost)

    def answers_or_exclude(self, config: list[dict], requests: Sequence[gen.GenRequest]) -> list[Response]:
        """answers(), or none when the server refuses the configuration (GEN-CFG-001 judges that): the example
        is counted as excluded, not rejected, so which examples are drawn never depends on the server."""
        got = self.answers(config, requests)
        if got is None:
            self.exclude("configuration refused by the server (GEN-CFG-001's concern)", by_server=True)
            return []
        return got

    def replay(self, config: list[dict], request: gen.GenRequest | None) -> Response | ApiResult | None:
        """The evidence of a reported example the shrink pass answered from the store: the exchanges behind
        that answer when they were kept, else the example sent once more, uncached (the configuration put
        again, then the request)."""
        key = config_key(config)
        kept = self.store.evidence.get((key, request)) if request is not None else self.evidence.get(key)
        if kept:
            self.recorder.restore(kept, None)
            return None
        self.store.forget(config)
        refused = self.apply(config)
        if refused is not None or request is None:
            return refused
        return self.store.send(request, f"{self.case.id} reported example, replayed", self.stats)

    def decidable(self, config: list[dict], requests) -> list[tuple[gen.GenRequest, Any]]:
        """decidable(), the others counted as excluded."""
        return decidable(config, requests, self.exclude)

    def exclude(self, why: str, by_server: bool = False) -> None:
        """Count an excluded example or request (counted in the explore pass only); by_server: the server's
        answer left it without a check (the model alone would have checked it)."""
        if self.mode == "explore":
            self.excluded[why] += 1
            self.uncheckable += by_server

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
        checked, uncheckable = self.stats["checked"], self.uncheckable
        try:
            body()
            if self.mode == "explore" and self.stats["checked"] == checked and self.uncheckable > uncheckable:
                self.short += 1  # nothing checked, because of the server's answers: the next round makes up
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
                    self.first[level].round = self.round
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
        """One pass of the current round; the exceptions it ended with (leaves of a group), [] when every
        example held (or, after the first round, when the round had no example to draw)."""
        seed, budget, explicit = self.round

        @gen.seeded(strategy, seed, budget, shrink=shrink, explicit=explicit)
        def prop(example):
            self.example(lambda: body(example))

        try:
            prop()
        except Unsatisfiable:
            if self.round[0] != self.state.fuzz_seed:
                return []
            self._nothing_checked()
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

    def run(self, strategy, body: Callable[[Any], None], ahead: Callable[[], None]) -> None:
        """Explore the budget, each round's planned examples sent ahead (ahead: ahead() or ahead_answers() of
        this property), shrink the worst failure, record verdict, seed, counts and reproducer."""
        state, check = self.state, self.check
        check.observe("seed", state.fuzz_seed)
        check.observe("examples", state.fuzz_examples)
        check.observe("known_counterexamples", len(self.known))
        check.observe("bucket", self.bucket)  # also when every answer came from another case's exchanges
        check.observe("reproduce", f"pytest --case {self.case.id} --fuzz-seed {state.fuzz_seed} "
                                   f"--fuzz-examples {state.fuzz_examples} --target {self.s3.target.name}")
        try:
            self._explore(body, ahead)
            self._record_held()
            level = "MUST" if "MUST" in self.first else "SHOULD" if "SHOULD" in self.first else None
            if level is None:
                if not self.stats["checked"]:  # every round left without a check (every configuration refused)
                    self._nothing_checked()
                return
            self.mode = level
            self.round = self.first[level].round  # shrink where it was found: the same examples lead to it
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

    def _explore(self, body: Callable[[Any], None], ahead: Callable[[], None]) -> None:
        """Explore the budget in rounds. Which examples are drawn depends on the model alone, so each round's
        are drawn first and sent ahead. An example the server left without a check (it refused the
        configuration, or a preflight the model allows) is made up for by the next round, as many examples drawn
        with a seed derived from the run's, so the budget counts examples with a check, as when hypothesis drew
        replacements one by one."""
        seed, budget = self.state.fuzz_seed, self.state.fuzz_examples
        self.round = (seed, budget, self.known)
        for number in range(1, TOP_UP_ROUNDS + 2):
            self.short = 0
            self.planned = []
            ahead()
            self._walk(body)
            self.rounds.append({"seed": self.round[0], "examples": len(self.planned), "without_check": self.short})
            if not self.short:
                break
            self.round = (gen.round_seed(seed, number), self.short, ())  # the shrink pass draws a round's again

    def _walk(self, body: Callable[[Any], None]) -> None:
        """Explore the examples the round planned, in order: the ones hypothesis would draw (their validity
        rests on the model alone), without drawing them a second time."""
        if not self.planned and not self.rounds:
            self._nothing_checked()
        for example in self.planned:
            try:
                self.example(lambda: body(example))
            except UnsatisfiedAssumption:  # as hypothesis would: the example does not count
                continue

    def _record_held(self) -> None:
        """What was checked: each check that held in every example it was made in, with the number of examples
        (a check that failed somewhere is recorded with the failing example instead)."""
        seed, budget = self.state.fuzz_seed, self.state.fuzz_examples
        extra = sum(r["examples"] for r in self.rounds[1:])
        more = f", and {extra} making up for what the server left uncheckable" if extra else ""
        for (level, what), (held, made) in self.held.items():
            if held == made:
                self.check.that(level, True, f"{what}: held in all {made} generated examples it was checked in "
                                             f"(seed {seed}, budget {budget}{more})")

    def _nothing_checked(self) -> None:
        """Stop without a verdict, saying why: no example could be checked."""
        self._observe_counts()
        self.check.precondition(False, "no generated example could be checked (every one was excluded: "
                                       f"{dict(self.excluded) or 'no answer to compare'})")

    def _observe_counts(self) -> None:
        self.check.observe("examples_checked", self.stats["checked"])
        if len(self.store.lanes) > 1:  # the store's buckets: answers may come from any of them
            self.check.observe("buckets", self.store.buckets())
        if self.sent_ahead:
            self.check.observe("sent_ahead", {**self.sent_ahead, "buckets": len(self.store.lanes),
                                              "note": "planned examples asked before exploring, several buckets "
                                                      "at once; exploring answered from them"})
        if len(self.rounds) > 1:
            self.check.observe("rounds", self.rounds)
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
