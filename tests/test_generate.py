"""The generated properties' own machinery (conformance/behaviour/generate.py): strategies make what the model accepts,
the same seed makes the same examples (also in another process), reproducers are ready to run and never
carry a credential, and the GEN module reports --fuzz-examples 0 as unsupported. The engine
(conformance/run/properties.py): the preflight properties share a bucket and its answers, evidence is kept through
the recorder, independent requests go through target/inflight.gather."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
from hypothesis.errors import UnsatisfiedAssumption

from conformance.behaviour import generate as gen
from conformance.behaviour import reproducers as rep
from conformance.behaviour import model
from conformance.behaviour.cors import DECISIVE_QUESTIONS
from conformance.target.redact import Redactor

SEED = 20261127
N = 60
AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEBYaDH+token/with=chars"


@pytest.fixture(scope="module")
def preflight_examples():
    return gen.sample(gen.scenarios("preflight"), SEED, N)


def test_configurations_are_valid_per_the_model():
    for config in gen.sample(gen.configurations(1, 6, marker=False, ids=True), SEED, N):
        verdict = model.validate_rules(config)
        assert verdict.accepted and not verdict.open_questions, (config, verdict)
        assert 1 <= len(config) <= 6


def test_scenario_configurations_are_valid_and_marked(preflight_examples):
    for config, requests in preflight_examples:
        assert gen.is_valid(config), config
        for n, rule in enumerate(config, 1):
            assert rule["ExposeHeaders"][0] == f"x-rule-{n}"  # the answering rule is visible
            assert all(o.count("*") <= 1 for o in rule["AllowedOrigins"])
        assert 1 <= len(requests) <= 3


def test_strategies_cover_what_the_issue_asks_for(preflight_examples):
    """Origins exact, '*', one wildcard leading/trailing/inside; headers with wildcards and odd case; answers
    that are allowed, refused, and both near misses and unrelated origins."""
    origins = [o for c, _ in preflight_examples for r in c for o in r["AllowedOrigins"]]
    assert "*" in origins
    assert any("*" not in o for o in origins)
    assert any(o.startswith("*") and o != "*" for o in origins)
    assert any(o.endswith("*") and o != "*" for o in origins)
    assert any("*" in o[1:-1] for o in origins)
    headers = [h for c, _ in preflight_examples for r in c for h in r.get("AllowedHeaders", [])]
    assert any("*" in h for h in headers) and any("*" not in h for h in headers)
    assert any(h != h.lower() for h in headers)
    assert any("MaxAgeSeconds" in r for c, _ in preflight_examples for r in c)
    answers = [(r.expected(c), r) for c, reqs in preflight_examples for r in reqs]
    assert {a.status for a, _ in answers} >= {200, 403}
    assert {r.resource for _, r in answers} == {"object", "bucket"}
    assert any(r.request_headers for _, r in answers) and any(r.request_headers is None for _, r in answers)
    actual = [r for _, reqs in gen.sample(gen.scenarios("actual"), SEED, N) for r in reqs]
    assert {r.signed for r in actual} == {True, False}
    assert {r.method for r in actual} == {"GET", "HEAD", "PUT", "DELETE"}


def test_aimed_preflights_are_mostly_allowed():
    answers = [r.expected(c) for c, reqs in gen.sample(gen.scenarios("preflight", aim=True), SEED, N)
               for r in reqs]
    allowed = [a for a in answers if a.status == 200]
    assert len(allowed) > len(answers) // 2


def test_a_near_miss_is_one_step_from_its_aimed_preflight_and_mostly_refused():
    """gen.near_miss changes the origin, the method or the header list of an aimed preflight (which one follows
    from the request), and the model refuses most near misses (what GEN-PRE-STATUS-001 needs besides the allowed
    preflights)."""
    pairs = [(c, r, gen.near_miss(c, r)) for c, reqs in gen.sample(gen.scenarios("preflight", aim=True), SEED, N)
             for r in reqs]
    assert all(m is not None for _, _, m in pairs)
    for config, request, miss in pairs:
        changed = [f for f in ("origin", "request_method", "request_headers") if getattr(miss, f) != getattr(request, f)]
        assert len(changed) == 1 and (miss.method, miss.resource) == (request.method, request.resource), miss
        assert gen.near_miss(config, request) == miss  # the same example always gives the same near miss
    kinds = {f for _, r, m in pairs for f in ("origin", "request_method", "request_headers")
             if getattr(m, f) != getattr(r, f)}
    assert kinds == {"origin", "request_method", "request_headers"}
    origins = [(r.origin, m.origin) for _, r, m in pairs if m.origin != r.origin]
    steps = {"slash": lambda a, b: b == a + "/", "longer host": lambda a, b: b == a + ".x",
             "shorter": lambda a, b: b == a[:-1], "port": lambda a, b: b == a + ":8443",
             "prefix": lambda a, b: b == "x" + a, "scheme": lambda a, b: b.split("://")[-1] == a.split("://")[-1]}
    assert {name for name, made in steps.items() for a, b in origins if made(a, b)} == set(steps)
    refused = [m for c, _, m in pairs if m.expected(c).status != 200]
    assert len(refused) > len(pairs) // 2


def test_the_nine_preflight_properties_draw_and_plan_alike():
    """One draw for every preflight property: the aimed ones' examples are those they drew alone, and the plan
    asks the near misses the status property judges, so it needs no configuration of its own. Only a status
    property's known counterexample is kept without an allowed preflight."""
    from conformance.run import draws

    props = ("status", "rule", "acao", "acam", "acah", "aceh", "acma", "acac", "vary")
    assert len({draws.draw_of(p).memo for p in props}) == 1
    aimed_alone = gen.sample(gen.scenarios("preflight", aim=True), SEED, 20,
                             keep=lambda e: (e, draws.wanted(e, True)))
    shared = gen.planned(draws.draw_of("rule"), SEED, 20)
    assert [e for e, _ in shared] == [e for e, _ in aimed_alone]
    for (config, requests), (_, (_, asked)) in shared:
        assert {r for r, _ in draws.wanted((config, requests), True)} <= set(asked)
        assert {r for r, _ in draws.every_preflight((config, requests))} == set(asked)
    refused_only = ([{"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"]}],
                    [gen.GenRequest("preflight", "OPTIONS", "https://b.example", "GET")])
    status, rule = draws.draw_of("status"), draws.draw_of("rule")
    assert status.keep_explicit(refused_only)[0] == refused_only
    with pytest.raises(UnsatisfiedAssumption):
        rule.keep_explicit(refused_only)


def test_some_examples_rest_on_decisive_open_questions():
    """Exclusion is needed: the strategies do produce answers resting on Q2/Q3 (which the module skips)."""
    examples = gen.sample(gen.scenarios("preflight", aim=True), SEED, 200)
    questions = {q for c, reqs in examples for r in reqs for q in r.expected(c).open_questions}
    assert questions & DECISIVE_QUESTIONS


def test_any_configurations_mix_valid_and_invalid():
    verdicts = [model.validate_rules(c) for c in gen.sample(gen.any_configurations(), SEED, N)]
    assert any(v.accepted for v in verdicts) and any(not v.accepted for v in verdicts)
    assert {v.code for v in verdicts if not v.accepted} <= {"InvalidRequest", "MalformedXML"}


def test_same_seed_same_examples():
    first = gen.sample(gen.scenarios("preflight"), SEED, 30)
    assert gen.sample(gen.scenarios("preflight"), SEED, 30) == first
    assert gen.sample(gen.scenarios("preflight"), SEED + 1, 30) != first


_DUMP = ("import json; from conformance.behaviour import generate as gen; "
         "print(json.dumps([[c, [r.public() for r in reqs]] for c, reqs in "
         "gen.sample(gen.scenarios('actual'), {seed}, 25)]))")


def test_same_seed_same_examples_in_another_process():
    """Nothing depends on hash randomization or on process state: two interpreters agree."""
    outs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        done = subprocess.run([sys.executable, "-c", _DUMP.format(seed=SEED)], capture_output=True, text=True,
                              env=env, timeout=120, check=True)
        outs.append(json.loads(done.stdout))
    assert outs[0] == outs[1] and outs[0]


# ---- reproducers ---------------------------------------------------------------------------------------------

CONFIG = [{"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-rule-1"]}]


def test_curl_for_a_preflight():
    req = gen.GenRequest("preflight", "OPTIONS", "https://a.example", "PUT", "x-amz-date, Content-Type")
    cmd = rep.curl_command(req, "http://127.0.0.1:9000/${BUCKET}/cors-probe.txt", "us-east-1")
    assert cmd == ("curl -sS -i -X OPTIONS \"http://127.0.0.1:9000/${BUCKET}/cors-probe.txt\" "
                   "-H 'Origin: https://a.example' -H 'Access-Control-Request-Method: PUT' "
                   "-H 'Access-Control-Request-Headers: x-amz-date, Content-Type'")
    assert "--aws-sigv4" not in cmd and "AWS_" not in cmd  # a preflight is never signed


def test_curl_for_signed_and_anonymous_requests():
    signed = gen.GenRequest("actual", "PUT", "https://a.example", resource="object", signed=True)
    cmd = rep.curl_command(signed, "http://h:1/${BUCKET}/gen/put.txt", "eu-west-3")
    words = shlex.split(cmd)  # the line is valid shell
    assert words[:6] == ["curl", "-sS", "-i", "-X", "PUT", "http://h:1/${BUCKET}/gen/put.txt"]
    assert '--aws-sigv4 aws:amz:eu-west-3:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"' in cmd
    assert "--data-binary" in words and "Content-Type: text/plain" in words
    head = rep.curl_command(gen.GenRequest("actual", "HEAD", "o", resource="bucket"), "http://h/${BUCKET}", "r")
    assert "--head" in shlex.split(head) and "--aws-sigv4" not in head
    token = rep.curl_command(signed, "http://h/${BUCKET}/k", "r", session_token=True)
    assert '-H "x-amz-security-token: $AWS_SESSION_TOKEN"' in token


def test_curl_quotes_hostile_values():
    req = gen.GenRequest("preflight", "OPTIONS", "https://x.example'; rm -rf / #", "GET", "a,$(id)")
    cmd = rep.curl_command(req, 'http://h/${BUCKET}/k"$(id)', "r")
    words = shlex.split(cmd)
    assert "Origin: https://x.example'; rm -rf / #" in words
    assert "Access-Control-Request-Headers: a,$(id)" in words
    assert '"http://h/${BUCKET}/k\\"\\$(id)"' in cmd  # only ${BUCKET} expands


def test_put_cors_command_and_script():
    cmd = rep.put_cors_command(CONFIG, "http://127.0.0.1:9000", "us-east-1")
    words = shlex.split(cmd)
    assert words[:5] == ["aws", "s3api", "put-bucket-cors", "--bucket", "$BUCKET"]
    document = json.loads(words[words.index("--cors-configuration") + 1])
    assert document == {"CORSRules": CONFIG}
    assert words[-4:] == ["--endpoint-url", "http://127.0.0.1:9000", "--region", "us-east-1"]
    get = gen.GenRequest("actual", "GET", "https://a.example", signed=True)
    lines = rep.script(CONFIG, get, endpoint="http://e", url="http://e/${BUCKET}/cors-probe.txt", region="r")
    assert lines[0].startswith("export BUCKET=") and "create-bucket" in lines[1]
    assert "put-object" in lines[2] and "put-bucket-cors" in lines[3] and lines[4].startswith("curl ")
    assert not any("put-object" in line for line in rep.script(CONFIG, None, endpoint="e", url=None, region="r"))


def test_reproducer_never_carries_credentials():
    """Commands name the credential variables; a redactor that knows the secrets finds nothing to remove."""
    redactor = Redactor([AK, SK, TOKEN])
    req = gen.GenRequest("actual", "GET", "https://a.example", "GET", None, "object", True)
    lines = rep.script(CONFIG, req, endpoint="http://127.0.0.1:9000", url="http://127.0.0.1:9000/${BUCKET}/k",
                       region="us-east-1", session_token=True)
    text = "\n".join(lines)
    assert redactor.text(text) == text
    for secret in (AK, SK, TOKEN):
        assert secret not in text
    assert "$AWS_ACCESS_KEY_ID" in text and "$AWS_SECRET_ACCESS_KEY" in text and "$AWS_SESSION_TOKEN" in text


def test_signing_headers_never_reach_curl():
    class Leaky(gen.GenRequest):
        def headers(self):
            return {**super().headers(), "Authorization": f"AWS4-HMAC-SHA256 Credential={AK}/x",
                    "X-Amz-Security-Token": TOKEN, "x-amz-date": "20260101T000000Z"}

    cmd = rep.curl_command(Leaky("actual", "GET", "https://a.example", signed=True), "http://h/${BUCKET}/k", "r")
    assert AK not in cmd and TOKEN not in cmd and "x-amz-date" not in cmd.lower().replace("$aws", "")


def test_answer_view_and_describe():
    req = gen.GenRequest("preflight", "OPTIONS", "https://a.example", "GET")
    view = rep.answer_view(req.expected(CONFIG))
    assert view["status"] == 200 and view["rule"] == 1
    assert view["headers"]["Access-Control-Expose-Headers"] == "x-rule-1"
    assert rep.answer_view(gen.GenRequest("preflight", "OPTIONS", "https://b.example", "GET").expected(CONFIG)) == {
        "status": 403, "headers": {}, "rule": None, "error_code": "AccessForbidden"}
    assert req.describe() == "OPTIONS object Origin='https://a.example' ACRM='GET'"


# ---- the module through pytest -------------------------------------------------------------------------------


def test_zero_examples_reports_unsupported(suite):
    result, results = suite("--case", "GEN-PRE-STATUS-001", "--case", "GEN-CFG-001", "--fuzz-examples", "0",
                            "--expectations", "none")
    assert result.ret == 0, result.stdout.str()
    records = {c["id"]: c for c in results["cases"]}
    assert set(records) == {"GEN-PRE-STATUS-001", "GEN-CFG-001"}
    for record in records.values():
        assert record["outcome"] == "unsupported" and "--fuzz-examples 0" in record["reason"]


def test_seed_and_budget_are_recorded(suite):
    result, results = suite("--case", "GEN-CFG-002", "--fuzz-examples", "5", "--fuzz-seed", "7",
                            "--expectations", "none")
    record = results["cases"][0]
    assert record["outcome"] == "pass", record["reason"]
    assert record["observations"]["seed"] == 7 and record["observations"]["examples"] == 5
    assert record["observations"]["examples_checked"] >= 1
    assert "--fuzz-seed 7" in record["observations"]["reproduce"]
    assert results["options"]["fuzz_seed"] == 7 and record["exchanges"]
    # What the passing property checked: each check that held, with the number of examples it held in.
    assert record["checks"] and all(c["ok"] for c in record["checks"])
    assert any(f"held in all {record['observations']['examples_checked']} generated examples" in c["what"]
               for c in record["checks"])


def test_a_failing_property_reports_its_minimal_example(suite):
    """Against moto (which echoes the Origin under a '*' rule) the ACAO property fails, shrunk to one rule."""
    result, results = suite("--case", "GEN-PRE-HDR-001", "--fuzz-examples", "20", "--expectations", "none")
    record = results["cases"][0]
    assert record["verdict"] == "fail"
    assert "minimal example" in record["reason"]
    repro = record["observations"]["reproducer"]
    assert repro["configuration"] == [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"],
                                       "ExposeHeaders": ["x-rule-1"]}]
    assert repro["expected"]["headers"]["Access-Control-Allow-Origin"] == "*"
    assert repro["got"]["headers"]["access-control-allow-origin"] == repro["request"]["headers"]["Origin"]
    assert repro["curl"].startswith("curl ") and "put-bucket-cors" in repro["put_bucket_cors"]
    assert any("minimal" in x["note"] for x in record["exchanges"])


def test_the_preflight_properties_share_one_bucket_and_its_answers(suite):
    """The second preflight property checks the answers the first one asked for (and says whose they are), so
    it sends far fewer requests for the same number of checked examples; what held is recorded as checks."""
    result, results = suite("--case", "GEN-PRE-RULE-001", "--case", "GEN-PRE-HDR-004", "--fuzz-examples", "10",
                            "--expectations", "none", "-p", "no:randomly")
    records = {c["id"]: c for c in results["cases"]}
    first, second = records["GEN-PRE-RULE-001"], records["GEN-PRE-HDR-004"]
    assert second["observations"]["answers_reused"]["from"]["GEN-PRE-RULE-001"] >= 10
    assert second["observations"]["examples_checked"] >= 10
    assert second["http_requests"] < first["http_requests"] / 2
    assert any(x["note"].startswith("shared setup") for x in first["exchanges"])
    for record in records.values():
        held = [c for c in record["checks"] if c["ok"]]
        assert all("generated examples it was checked in" in c["what"] for c in held)


# ---- the engine's pieces: independent requests, evidence through the recorder, a shared store -----------------


def test_gather_runs_every_call_in_order_and_raises_the_first_problem_after_all():
    from conformance.target.inflight import gather

    ran = []

    def call(n, fail=False):
        def run():
            ran.append(n)
            if fail:
                raise ValueError(n)
            return n * 10
        return run

    assert gather([call(1), call(2), call(3)]) == [10, 20, 30]
    ran.clear()
    with pytest.raises(ValueError, match="2"):
        gather([call(1), call(2, True), call(3, True), call(4)])
    assert ran == [1, 2, 3, 4]
    assert gather([]) == []


def test_recorder_keeps_part_of_a_cases_evidence():
    from conformance.target.recorder import Recorder

    recorder = Recorder(Redactor())
    assert recorder.mark() == 0 and recorder.since(0) == []
    recorder.trim(0, 0)  # no case running: nothing to do
    exchanges: list[dict] = []
    recorder.current = exchanges
    for n in range(5):
        recorder.add("OPTIONS", f"http://h/b/{n}", [], None, status=200, note=f"n{n}")
    assert recorder.case_requests == 5 and recorder.mark() == 5
    kept = recorder.since(3)
    assert [x["note"] for x in kept] == ["n3", "n4"]
    recorder.trim(3, 2)  # never drops before `since`
    assert len(exchanges) == 3
    recorder.annotate(1, "shared setup")
    assert [x["note"] for x in exchanges] == ["n0", "shared setup: n1", "shared setup: n2"]
    recorder.trim(0, 1)
    recorder.restore(kept, "minimal example (MUST)")
    assert [(x["seq"], x["note"]) for x in exchanges] == [
        (1, "n0"), (2, "minimal example (MUST): n3"), (3, "minimal example (MUST): n4")]
    assert recorder.case_requests == 5  # requests made, whatever the evidence keeps
    recorder.current = None
    assert recorder.case_requests == 5  # still readable once the case ended
    recorder.current = []
    assert recorder.case_requests == 0


class _FakeS3:
    """Just enough of conformance.target.http.S3 for an Answers store: every configuration accepted."""

    def __init__(self):
        from conformance.target.recorder import Recorder

        self.recorder = Recorder(Redactor())
        self.rules: list = []
        self.sent: list = []

    def api(self, operation, **params):
        from conformance.target.http import ApiResult

        self.sent.append(operation)
        if operation == "put_bucket_cors":
            self.rules = params["CORSConfiguration"]["CORSRules"]
            return ApiResult(operation, 200)
        return ApiResult(operation, 200, data={"CORSRules": self.rules})

    def preflight(self, bucket, key, origin, method, request_headers=None, note=""):
        from conformance.target.http import Response

        self.sent.append(("OPTIONS", origin, method))
        return Response(200, [("Access-Control-Allow-Origin", origin or "")], b"")


def test_a_shared_store_asks_the_server_once_per_configuration_and_request():
    from types import SimpleNamespace

    from conformance.behaviour.checks import Check
    from conformance.behaviour.tables import registry
    from conformance.run.properties import Answers, Property

    s3 = _FakeS3()
    store = Answers(s3, "b", lambda fetch, done: fetch())
    state = SimpleNamespace(fuzz_seed=1, fuzz_examples=1)
    cases = registry().cases
    first, second = (Property(cases[i], Check(cases[i]), s3, store, state)
                     for i in ("GEN-PRE-RULE-001", "GEN-PRE-HDR-001"))
    config = [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
    one = gen.GenRequest("preflight", "OPTIONS", "https://a.example", "GET")
    two = gen.GenRequest("preflight", "OPTIONS", "https://b.example", "GET")
    assert [r.status for r in first.answers(config, [one, two])] == [200, 200]
    assert s3.sent == ["put_bucket_cors", "get_bucket_cors", ("OPTIONS", "https://a.example", "GET"),
                       ("OPTIONS", "https://b.example", "GET")]
    s3.sent.clear()
    got = second.answers(config, [two, one])
    assert s3.sent == [] and [r.header("Access-Control-Allow-Origin") for r in got] == [two.origin, one.origin]
    assert second.reused == {"GEN-PRE-RULE-001": 2} and not second.stats
    assert first.stats == {"PutBucketCors": 1, "GetBucketCors": 1, "requests": 2}
    three = gen.GenRequest("preflight", "OPTIONS", "null", "PUT")
    second.answers(config, [one, three])  # the configuration is in effect: only the new request is sent
    assert s3.sent == [("OPTIONS", "null", "PUT")] and second.stats == {"requests": 1}


def test_power_counts_the_bucket_a_generated_case_names():
    """A preflight property that checked only answers other cases asked for has no exchange on the shared
    bucket; power still runs it against the faults that bucket saw (observation 'bucket')."""
    from conformance.commands.power import affected_by

    run = {"cases": [
        {"id": "GEN-PRE-HDR-006", "exchanges": [], "observations": {"bucket": "shared"}},
        {"id": "PRE-METH-001", "exchanges": [{"url": "http://h/own/k"}], "observations": {}},
    ]}
    trace = {"shared": ["FLT-PRE-004"], "own": ["FLT-SEL-001"], "": ["FLT-ACT-005"]}
    assert affected_by(run, trace) == {"GEN-PRE-HDR-006": {"FLT-PRE-004"}, "PRE-METH-001": {"FLT-SEL-001"}}


def test_examples_depend_on_the_seed_alone_not_on_loaded_local_modules(tmp_path, monkeypatch):
    """Hypothesis would mix literals of local modules into examples: pinned, a new local module changes nothing."""
    assert gen.LOCAL_CONSTANTS_PINNED, "hypothesis's local-constants pool moved: re-pin it in generate.py"
    strategy = gen.configurations(1, 6, marker=False, ids=True)  # rule IDs: free text a literal could fill
    before = gen.sample(strategy, 20261127, 60)
    literals = [f"q{i:02d}.z" for i in range(100)]  # fit both ID_ALPHABET and FILL, short enough for either
    (tmp_path / "s3cors_local_literals.py").write_text(f"WORDS = {literals!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import s3cors_local_literals  # noqa: F401  (a local module now loaded, full of literals)
    after = gen.sample(strategy, 20261127, 60)
    assert repr(after) == repr(before)
    from hypothesis.internal.conjecture import providers  # the pool itself: private, hence this test
    pool = providers._get_local_constants()
    assert not any(word in pool.strings for word in literals), "local literals reach hypothesis's draws"


def test_the_draw_child_draws_what_the_run_would_draw():
    """A run draws its first round in a child process (run/draw_child.py): the same examples and plans as drawing
    here, each distinct draw once, one pickle per draw, in the order asked."""
    import io
    import pickle
    from conformance.run import draws
    props = ["status", "accept", "origin", "actual"]
    done = subprocess.run([sys.executable, "-m", "conformance.run.draw_child", str(SEED), "8", *props],
                          capture_output=True, timeout=120, check=True)
    stream, got = io.BytesIO(done.stdout), []
    while stream.tell() < len(done.stdout):
        got.append(pickle.load(stream))
    assert [memo for memo, _ in got] == [("preflight",), ("accept",), ("actual",)]
    for prop in props:
        draw = draws.draw_of(prop)
        assert repr(dict(got)[draw.memo]) == repr(gen.planned(draw, SEED, 8)), prop


@pytest.mark.parametrize("child", ["works", "fails"])
def test_draw_ahead_takes_the_childs_draws_or_leaves_them_to_the_properties(child, monkeypatch, tmp_path):
    """What draw_ahead takes from its child is what the properties would draw (the child finds this package from
    any working directory); from a failed child it takes nothing, and each property draws its own."""
    from conformance.run import draws
    monkeypatch.setattr(gen, "_DRAWN", {})
    monkeypatch.chdir(tmp_path)
    if child == "fails":
        monkeypatch.setattr(draws.subprocess, "Popen", _failing_popen)
    draws.draw_ahead(["roundtrip", "status", "origin"], SEED, 6)
    gen._wait_for_draws()
    taken = {key: repr(value) for key, value in gen._DRAWN.items()}
    monkeypatch.setattr(gen, "_DRAWN", {})
    drawn_here = {(draws.draw_of(p).memo, SEED, 6): repr(gen.planned(draws.draw_of(p), SEED, 6))
                  for p in ("roundtrip", "status")}
    assert taken == (drawn_here if child == "works" else {})


def test_a_property_goes_on_as_soon_as_its_draw_has_come():
    """The draw most properties share comes first, and they need not wait for the others; a draw that never
    comes is drawn by the property that asks, once the child is done."""
    import threading
    from hypothesis import strategies as st

    gate = threading.Event()

    def fetch():
        yield ("first",), ["one"]
        gate.wait(30)
        yield ("second",), ["two"]

    try:
        gen.draw_ahead(fetch, SEED, 3)
        assert gen.sample(st.nothing(), SEED, 3, memo=("first",)) == ["one"]
        assert gen._drawing is not None and not gen._drawing.finished  # the second draw has not come
        gate.set()
        assert gen.sample(st.nothing(), SEED, 3, memo=("second",)) == ["two"]
        never = gen.sample(st.just(7), SEED, 3, memo=("never",))  # drawn here, hypothesis's way
        assert never and set(never) == {7}
        assert gen._drawing is None
    finally:
        gate.set()
        for key in [k for k in gen._DRAWN if k[0] in (("first",), ("second",), ("never",))]:
            del gen._DRAWN[key]


def _failing_popen(args, **kwargs):
    """A child that exits 1 at once without a word (as one whose interpreter cannot start would)."""
    return _POPEN([sys.executable, "-c", "raise SystemExit(1)"], **kwargs)


_POPEN = subprocess.Popen  # the real one, for the stand-ins above and below


def test_stop_drawing_kills_a_child_still_drawing(monkeypatch):
    """The run's end stops a child no property waited for."""
    from conformance.run import draws
    monkeypatch.setattr(draws.subprocess, "Popen", lambda args, **kwargs: _POPEN(
        [sys.executable, "-c", "import time; time.sleep(60)"], **kwargs))
    child = draws._Child(["status"], SEED, 6)
    draws.stop_drawing()
    assert child.proc.wait(timeout=10) != 0
    assert list(child.results()) == [] and not draws._Child.running
