"""GEN: generated differential properties (fixtures/cases/generated.toml). Each case is one property: hypothesis
generates CORS configurations and requests aimed at them (conformance/behaviour/generate.py), the server's answers are
compared with conformance/behaviour/model.py, and a disagreement is shrunk to its smallest example and reported with a
ready-to-run reproducer. One bucket per property; each example puts its configuration on it.

Budget and seed: --fuzz-examples N (0: the properties are not run and are reported unsupported) and
--fuzz-seed; the same seed generates the same examples, and the seed is in every case's observations."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Callable

import pytest
from hypothesis import assume
from hypothesis.errors import Unsatisfiable

from conformance.behaviour import corpus, generate as gen
from conformance.behaviour.tables import cases
from conformance.behaviour.checks import Check, CheckResult
from conformance.behaviour.cors import (ACAC, ACAH, ACAM, ACAO, ACEH, ACMA, DECISIVE_QUESTIONS, check_actual,
                              check_allowed_headers, check_preflight)
from conformance.errors import InfraError, ServerError, Unsupported
from conformance.target.http import S3, ApiResult, Response
from conformance.cases.steps import LIST_MEMBERS, as_multisets, get_rules, put_rules
from conformance.target.profiles import strip_userinfo

KEPT_EXCHANGES = 40  # exchanges of the first examples kept as evidence of a passing property (plus every failure's)

# Which aspect of the preflight answer a header property compares (conformance.behaviour.cors.check_allowed_headers).
HEADER_FOCUS = {"acao": ("origin", ACAO), "acam": ("methods", ACAM), "acah": ("headers", ACAH),
                "aceh": ("expose", ACEH), "acma": ("max_age", ACMA), "acac": ("credentials", ACAC),
                "vary": ("vary", "Vary")}


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


class Property:
    """One property run: the case's bucket, the configuration on it, cached answers, counters, evidence.

    A run has two passes with the same seed. Explore: the whole budget, recording the worst level that failed
    (so the verdict does not depend on when hypothesis would stop after a first failure). Shrink (only when
    something failed): the same examples again, answered from the cache, raising at the first failure of that
    level, which hypothesis shrinks to its smallest example."""

    def __init__(self, case, check: Check, s3: S3, bucket: str, poll: Callable, state) -> None:
        self.case, self.check, self.s3, self.bucket, self.poll, self.state = case, check, s3, bucket, poll, state
        self.current: str | None = None      # the configuration in effect (JSON), None = unknown
        self.last_seen: Any = None           # what GetBucketCors showed for it
        self.last_get: ApiResult | None = None
        self.refused: dict[str, ApiResult] = {}
        self.cache: dict[tuple, Response] = {}
        self.stats: Counter = Counter()
        self.excluded: Counter = Counter()
        self.stop: BaseException | None = None
        self.exchanges: list[dict] | None = s3.recorder.current
        self.mode = "explore"                # or the level being shrunk: "MUST", "SHOULD"
        self.first: dict[str, Mismatch] = {}  # explore: the first failure of each level
        # Known counterexamples (fixtures/corpus/generated.toml), replayed before any generated example.
        self.config_only = case.send.get("property") in corpus.CONFIG_ONLY
        self.known = [c.value(self.config_only) for c in corpus.shipped().get(case.id, [])]

    # ---- server side -------------------------------------------------------------------------------------
    def apply(self, config: list[dict]) -> ApiResult | None:
        """Put the configuration (unless it is in effect) and poll until GetBucketCors shows it, or shows
        anything other than the previous one (a server that alters values must not cost a timeout per
        example). Returns the server's refusal when it refuses the configuration, else None."""
        key = json.dumps(config, sort_keys=True)
        if key in self.refused:
            return self.refused[key]
        if key == self.current:
            return None
        self.current = None
        put = put_rules(self.s3, self.bucket, config)
        self.stats["PutBucketCors"] += 1
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
        self.stats["GetBucketCors"] += 1
        self.last_get = got
        self.last_seen = got.data.get("CORSRules", []) if got.ok else None
        self.current = key
        return None

    def answer(self, config: list[dict], request: gen.GenRequest) -> Response | None:
        """The server's answer to the request with the configuration in effect; None when the server refuses
        the configuration. Answers are cached, so the shrink pass re-asks only for examples it has not seen."""
        key = (json.dumps(config, sort_keys=True), request)
        if key in self.cache:
            return self.cache[key]
        if self.apply(config) is not None:
            return None
        resp = self.send(request, f"{self.case.id} example")
        self.cache[key] = resp
        return resp

    def send(self, request: gen.GenRequest, note: str) -> Response:
        """Send one request to the bucket as it is configured now (no cache)."""
        if request.kind == "preflight":
            resp = self.s3.preflight(self.bucket, request.key, request.origin, request.request_method,
                                     request.request_headers, note=note)
        else:
            resp = self.s3.request(request.method, self.bucket, request.key, headers=request.headers(),
                                   body=request.body(), sign=request.signed, note=note)
        self.stats["requests"] += 1
        return resp

    def replay(self, config: list[dict], request: gen.GenRequest | None) -> Response | ApiResult | None:
        """Send a reported example once more, uncached, as the evidence of the case (the shrink pass answered
        it from the cache): the configuration is put again, then the request is sent."""
        self.current = None
        self.refused.pop(json.dumps(config, sort_keys=True), None)
        refused = self.apply(config)
        if refused is not None or request is None:
            return refused
        return self.send(request, f"{self.case.id} reported example, replayed")

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

    def answer_or_reject(self, config: list[dict], request: gen.GenRequest) -> Response:
        """answer(), rejecting the example when the server refuses its configuration (GEN-CFG-001 judges that)."""
        resp = self.answer(config, request)
        if resp is None:
            self.exclude("configuration refused by the server (GEN-CFG-001's concern)")
            assume(False)
        return resp

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
        start = len(self.exchanges) if self.exchanges is not None else 0
        try:
            body()
        except (InfraError, ServerError, Unsupported) as exc:
            self.stop = exc
            _raise_stop(exc)
        except Mismatch as exc:
            if self.exchanges is not None:
                exc.exchanges = [dict(x) for x in self.exchanges[start:]]
            raise
        finally:
            if self.exchanges is not None and len(self.exchanges) > KEPT_EXCHANGES:
                del self.exchanges[max(start, KEPT_EXCHANGES):]

    def judge(self, scratch: Check, detail: Callable[[], dict[str, Any]], *, exact: bool) -> None:
        """The verdict on one compared answer. SHOULD checks count only when exact (no open question).
        Explore: remember the first failure of each level. Shrink: raise a Mismatch at a failure of the level
        being shrunk (only SHOULD checks are looked at when shrinking a SHOULD failure)."""
        if self.mode == "explore":
            self.stats["checked"] += 1
        must = [r for r in scratch.results if not r.ok and r.level == "MUST"]
        should = [r for r in scratch.results if not r.ok and r.level == "SHOULD"]
        if not exact and should:
            if self.mode == "explore":
                self.exclude("exact form left open (SHOULD checks not counted)")
            should = []
        if self.mode == "explore":
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
        url = self.s3.url(gen.BUCKET_VAR, request.key) if request is not None else None
        token = bool(self.s3.credentials.session_token)
        lines = gen.script(config, request, endpoint=endpoint, url=url, region=self.s3.target.region,
                           session_token=token)
        out = {"property": self.case.id, "seed": self.state.fuzz_seed, "configuration": config,
               "request": request.public() if request is not None else None, "expected": expected, "got": got,
               "commands": lines}
        if config is not None:
            out["put_bucket_cors"] = gen.put_cors_command(config, endpoint, self.s3.target.region)
        if request is not None:
            out["curl"] = lines[-1]
        return out

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
        check.observe("reproduce", f"pytest --case {self.case.id} --fuzz-seed {state.fuzz_seed} "
                                   f"--fuzz-examples {state.fuzz_examples} --target {self.s3.target.name}")
        self._hypothesis(strategy, body, shrink=False)
        self._observe_counts()
        level = "MUST" if "MUST" in self.first else "SHOULD" if "SHOULD" in self.first else None
        if level is None:
            check.must(True, f"{self.stats['checked']} generated examples agree with the model "
                             f"(seed {state.fuzz_seed}, budget {state.fuzz_examples})")
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

    def _observe_counts(self) -> None:
        self.check.observe("examples_checked", self.stats["checked"])
        self.check.observe("http", {k: v for k, v in self.stats.items() if k != "checked"})
        if self.excluded:
            self.check.observe("excluded", dict(self.excluded))

    def _record(self, failure: Mismatch, shrunk: bool) -> None:
        check = self.check
        rules, requests = failure.detail["example"]
        new = not corpus.known(self.case.id, rules, requests)
        label = ("minimal example" if shrunk else "example") + (
            ", new: not in the corpus" if new else ", a known counterexample")
        summary = failure.detail["summary"]
        if new:  # the lines that keep it: replayed by every later run, whatever its budget and seed
            check.observe("corpus_entry", corpus.entry(self.case.id, rules, requests, self.s3.target.name))
        for r in failure.failed:
            check.that(r.level, False, f"{r.what} [{label}: {summary}]", r.expected, r.actual)
        check.observe("reproducer", failure.detail["reproducer"])
        if self.exchanges is None:
            return
        if not failure.exchanges:  # answered from the cache while shrinking: ask once more, for the evidence
            start = len(self.exchanges)
            try:
                failure.detail["replay"]()
            except (InfraError, ServerError, Unsupported) as exc:
                check.observe("replay", f"the reported example could not be sent again: {exc}")
            failure.exchanges = self.exchanges[start:]
            del self.exchanges[start:]
        for x in failure.exchanges:
            self.exchanges.append({**x, "note": f"{label} ({failure.level}): {x.get('note', '')}"})
        for seq, x in enumerate(self.exchanges, 1):
            x["seq"] = seq


def _collect(exc: BaseException) -> list[BaseException]:
    """The leaf exceptions of an exception (group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _collect(e)]
    return [exc]


def _fuzz_enabled(state) -> None:
    if state.fuzz_examples <= 0:
        raise Unsupported("generated properties not run (--fuzz-examples 0)")


def _response_view(resp: Response) -> dict[str, Any]:
    view: dict[str, Any] = {"status": resp.status, "headers": resp.cors_headers()}
    if resp.code:
        view["error_code"] = resp.code
    return view


def _detail(p: Property, config: list[dict], request: gen.GenRequest, expected, resp: Response) -> Callable:
    """What a failure of this request reports (built only when it fails)."""
    return lambda: {"summary": _summary(config, request), "replay": lambda: p.replay(config, request),
                    "example": (config, [request]),
                    "reproducer": p.reproducer(config, request, gen.answer_view(expected), _response_view(resp))}


def _summary(config: list[dict], request: gen.GenRequest | None = None) -> str:
    text = f"rules={gen.describe_config(config)}"
    return text + (f"; {request.describe()}" if request is not None else "")


# ---- preflight properties ------------------------------------------------------------------------------------


def _marker(resp: Response) -> list[str]:
    names = [n.strip().lower() for n in (resp.header(ACEH) or "").split(",")]
    return sorted(n for n in names if n.startswith("x-rule-"))


def _preflight_checks(prop: str, case, expected, resp: Response, request: gen.GenRequest) -> tuple[Check, bool]:
    """The checks of one preflight for a property, on a scratch Check; (checks, whether to count the example)."""
    scratch = Check(case)
    if prop == "status":
        check_preflight(scratch, expected, resp, {"status"})
        return scratch, True
    if expected.status != 200 or not 200 <= resp.status < 300:
        return scratch, False  # GEN-PRE-STATUS-001's concern
    if prop == "rule":
        want = [f"x-rule-{expected.matched_rule + 1}"]
        scratch.must(_marker(resp) == want, "the rule that answered (x-rule-N marker in Expose-Headers)",
                     want[0], resp.header(ACEH))
        return scratch, True
    focus, _ = HEADER_FOCUS[prop]
    check_allowed_headers(scratch, dict(expected.headers), resp, {focus}, "SHOULD",
                          requested_method=request.request_method)
    return scratch, True


def _run_preflight_property(p: Property, prop: str) -> None:
    def body(example) -> None:
        config, requests = example
        counted = 0
        for request, expected in p.decidable(config, requests):
            resp = p.answer_or_reject(config, request)
            scratch, counts = _preflight_checks(prop, p.case, expected, resp, request)
            if not counts:
                p.exclude("model or server refused the preflight (GEN-PRE-STATUS-001's concern)")
                continue
            counted += 1
            p.judge(scratch, _detail(p, config, request, expected, resp), exact=not expected.open_questions)
        assume(counted)

    # The status property needs refusals and allowed answers; the others compare allowed answers, so their
    # requests are aimed at a rule.
    p.run(gen.scenarios("preflight", aim=None if prop == "status" else True), body)


# ---- actual requests -----------------------------------------------------------------------------------------


def _run_actual_property(p: Property) -> None:
    probe = p.s3.api("put_object", Bucket=p.bucket, Key=gen.PROBE_KEY, Body=gen.BODY, ContentType="text/plain")
    p.check.precondition(probe.ok, f"PutObject {gen.PROBE_KEY} answered {probe.status} {probe.code}")

    def body(example) -> None:
        config, requests = example
        for request, expected in p.decidable(config, requests):
            resp = p.answer_or_reject(config, request)
            scratch = Check(p.case)
            check_actual(scratch, expected, resp, set(), request.request_method or request.method)
            p.judge(scratch, _detail(p, config, request, expected, resp), exact=not expected.open_questions)

    p.run(gen.scenarios("actual"), body)


# ---- configuration API ---------------------------------------------------------------------------------------


def _run_accept_property(p: Property) -> None:
    """GEN-CFG-001: accepted exactly when the model accepts; a refusal is 400 with the model's code."""

    def body(config) -> None:
        verdict = gen.model.validate_rules(config)

        def put() -> ApiResult:
            p.current = None  # a refused put may also have changed what the bucket holds
            p.stats["PutBucketCors"] += 1
            return put_rules(p.s3, p.bucket, config)

        result = p.remember(("put", json.dumps(config, sort_keys=True)), put)
        scratch = Check(p.case)
        got = f"{result.status} {result.code or ''}".strip()
        if verdict.accepted:
            scratch.must(result.ok, "a configuration the model accepts is accepted", "2xx", got)
        else:
            scratch.must(not result.ok, f"a configuration the model rejects is rejected ({verdict.reason})",
                         f"{verdict.status} {verdict.code}", got)
            if not result.ok:
                scratch.should(result.status == verdict.status, "refusal status", verdict.status, result.status)
                scratch.should(result.code == verdict.code, "refusal error code", verdict.code, result.code)
                if verdict.message:
                    scratch.should(result.message == verdict.message, "refusal message", verdict.message,
                                   result.message)
        expected = {"accepted": verdict.accepted, "status": verdict.status, "code": verdict.code,
                    "message": verdict.message, "reason": verdict.reason,
                    "open_questions": list(verdict.open_questions)}
        p.judge(scratch, lambda: {"summary": _summary(config), "replay": lambda: p.replay(config, None),
                                  "example": (config, []),
                                  "reproducer": p.reproducer(config, None, expected, {
                                      "status": result.status, "code": result.code, "message": result.message})},
                exact=not verdict.open_questions)

    p.run(gen.any_configurations(), body)


def _run_roundtrip_property(p: Property) -> None:
    """GEN-CFG-002: GetBucketCors returns an accepted configuration unchanged."""

    def body(config) -> None:
        def put_and_get() -> tuple[ApiResult | None, ApiResult | None]:
            # Polled until GetBucketCors shows the configuration or anything new (a server that alters a value
            # must not cost a propagation timeout per example, and shrinking tries many such examples).
            refused = p.apply(config)
            return (refused, None) if refused is not None else (None, p.last_get)

        _, got = p.remember(("roundtrip", json.dumps(config, sort_keys=True)), put_and_get)
        if got is None:
            p.exclude("configuration refused by the server (GEN-CFG-001's concern)")
            assume(False)
        rules = got.data.get("CORSRules", []) if got.ok else None
        scratch = Check(p.case)
        scratch.must(got.ok, "GetBucketCors answers", 200, f"{got.status} {got.code or ''}".strip())
        if got.ok:
            scratch.must(as_multisets(rules) == as_multisets(config),
                         "every rule, in order, with every member and value (lists compared as multisets)",
                         config, rules)
            ordered = len(rules) == len(config) and all(
                a.get(m) == b.get(m) for a, b in zip(config, rules) for m in LIST_MEMBERS)
            scratch.should(ordered, "list members in the order sent", config, rules)
        p.judge(scratch, lambda: {"summary": _summary(config), "replay": lambda: p.replay(config, None),
                                  "example": (config, []),
                                  "reproducer": p.reproducer(config, None, {"CORSRules": config},
                                                             {"status": got.status, "CORSRules": rules})},
                exact=True)

    p.run(gen.configurations(1, 6, marker=False, ids=True), body)


# ---- the cases -----------------------------------------------------------------------------------------------


@cases("GEN-*")
def test_generated_property(case, check, s3, bucket, poll, s3cors):
    _fuzz_enabled(s3cors)
    p = Property(case, check, s3, bucket, poll, s3cors)
    prop = case.send["property"]
    if prop == "accept":
        _run_accept_property(p)
    elif prop == "roundtrip":
        _run_roundtrip_property(p)
    elif prop == "actual":
        _run_actual_property(p)
    else:
        _run_preflight_property(p, prop)
