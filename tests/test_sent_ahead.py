"""Work sent ahead: a gather whose exchanges are kept apart, requests answered from ones sent earlier, objects the
run wrote deleted without listing, and generated examples planned without a request."""

from __future__ import annotations

from types import SimpleNamespace

from conformance.behaviour import generate as gen
from conformance.target import inflight
from conformance.target.polling import poll
from conformance.target.recorder import Recorder
from conformance.target.redact import Redactor
from suiterun import LoopbackServer, QuietHandler


def _s3(moto):
    from conformance.target.http import S3
    from conformance.target.profiles import Credentials, Settings, resolve_target

    target, _ = resolve_target(Settings(endpoint_url=moto.url))
    return S3(target, Credentials("k", "s"), Recorder(Redactor()))


def test_gather_apart_takes_each_calls_exchanges_out_of_the_running_case():
    recorder = Recorder(Redactor())
    recorder.current = []
    recorder.add("GET", "http://h/own", [], None, status=200, note="own")

    def call(i):
        def run():
            for n in range(i + 1):
                recorder.add("GET", f"http://h/{i}/{n}", [], None, status=200, note=f"{i}.{n}")
            return i
        return run

    done = recorder.gather_apart([call(i) for i in range(3)])
    assert [result for result, _ in done] == [0, 1, 2]
    assert [[x["note"] for x in exchanges] for _, exchanges in done] == [["0.0"], ["1.0", "1.1"], ["2.0", "2.1", "2.2"]]
    assert [x["note"] for x in recorder.current] == ["own"] and recorder.case_requests == 1
    recorder.restore(done[1][1], "sent ahead", counted=True)
    assert [(x["seq"], x["note"]) for x in recorder.current] == [
        (1, "own"), (2, "sent ahead: 1.0"), (3, "sent ahead: 1.1")]
    assert recorder.case_requests == 3 and recorder.total == 7


def test_a_request_sent_ahead_answers_the_same_request_later_once():
    from suiterun import MotoServer

    with MotoServer() as moto:
        moto.client.create_bucket(Bucket="ahead")
        moto.client.put_bucket_cors(Bucket="ahead", CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET"]}]})
        s3 = _s3(moto)
        from conformance.target.http import preflight_args

        s3.recorder.current = []
        s3.send_ahead([preflight_args("ahead", "k", "https://a.example", "GET", note="mine")])
        assert poll(lambda: s3.recorder.total == 1, bool, 30, 0.005)
        assert s3.recorder.current == []  # kept apart for the case that asks
        s3.recorder.current = []
        first = s3.preflight("ahead", "k", "https://a.example", "GET", note="mine")
        assert first.status == 200 and s3.recorder.total == 1
        assert [x["note"] for x in s3.recorder.current] == ["sent ahead: mine"] and s3.recorder.case_requests == 1
        again = s3.preflight("ahead", "k", "https://a.example", "GET", note="mine")  # used once: sent now
        other = s3.preflight("ahead", "k", "https://b.example", "GET", note="mine")
        assert (again.status, other.status) == (200, 403) and s3.recorder.total == 3


class _HeldServer(LoopbackServer):
    """An HTTP server on 127.0.0.1 that holds every answer to a path starting /held until release(); others at
    once (200, the path in a header)."""

    def __init__(self) -> None:
        import threading

        self.gate, self.arrived = threading.Event(), []
        server = self

        class Handler(QuietHandler):
            def do_OPTIONS(self):  # noqa: N802 - the http.server hook
                server.arrived.append(self.path)
                if self.path.startswith("/held"):
                    server.gate.wait(30)
                self.send_response(200)
                self.send_header("X-Path", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler)

    def release(self) -> None:
        self.gate.set()

    def __exit__(self, *exc) -> None:
        self.gate.set()
        super().__exit__(*exc)


def _held_s3(server, limit: int):
    from conformance.target.http import S3
    from conformance.target.profiles import Credentials, Settings, resolve_target

    inflight.set_limit(limit)
    target, _ = resolve_target(Settings(endpoint_url=server.url))
    return S3(target, Credentials("k", "s"), Recorder(Redactor()))


def test_sending_ahead_does_not_wait_for_the_answers():
    """send_ahead returns while its requests are unanswered; a case that needs another answer goes on meanwhile,
    and the one that asks for a held answer waits for it and gets its exchange as evidence."""
    from conformance.target.http import preflight_args

    with _HeldServer() as server:
        try:
            s3 = _held_s3(server, 4)
            s3.recorder.current = []
            s3.send_ahead([preflight_args("held", "k", "https://a.example", "GET", note="slow"),
                           preflight_args("free", "k", "https://a.example", "GET", note="quick")])
            # Both in flight; the held one unanswered.
            assert poll(lambda: len(server.arrived) == 2, bool, 30, 0.005)
            quick = s3.preflight("free", "k", "https://a.example", "GET", note="quick")
            assert quick.header("X-Path") == "/free/k" and not server.gate.is_set()
            assert [x["note"] for x in s3.recorder.current] == ["sent ahead: quick"]
            server.release()
            slow = s3.preflight("held", "k", "https://a.example", "GET", note="slow")
            assert slow.header("X-Path") == "/held/k"
            assert [x["note"] for x in s3.recorder.current] == ["sent ahead: quick", "sent ahead: slow"]
            assert s3.recorder.total == 2 and s3.recorder.case_requests == 2
        finally:
            inflight.set_limit(inflight.DEFAULT_CONCURRENCY)


def test_a_request_not_yet_sent_ahead_is_sent_by_the_case_that_asks():
    """With the pool's threads busy, a request still queued is not waited for: the case sends it itself (nothing
    waits on the queue behind it), and it is not sent twice."""
    import threading
    from conformance.target.http import preflight_args

    with _HeldServer() as server:
        busy = threading.Event()
        try:
            s3 = _held_s3(server, 2)
            blockers = [inflight.submit(lambda: busy.wait(30)) for _ in range(2)]  # both threads, no request
            s3.recorder.current = []
            s3.send_ahead([preflight_args("free", "c", "https://a.example", "GET", note="c")])
            asked = s3.preflight("free", "c", "https://a.example", "GET", note="c")
            assert asked.status == 200 and not busy.is_set()
            assert [x["note"] for x in s3.recorder.current] == ["c"]  # sent now, by the case, not ahead
            busy.set()
            inflight.settle(blockers)
            s3.forget_ahead()
            assert server.arrived == ["/free/c"]  # once
        finally:
            busy.set()
            inflight.set_limit(inflight.DEFAULT_CONCURRENCY)


def test_forgetting_what_was_sent_ahead_cancels_the_queued_and_waits_for_the_rest():
    import threading
    from conformance.target.http import preflight_args

    with _HeldServer() as server:
        try:
            s3 = _held_s3(server, 2)
            s3.send_ahead([preflight_args("held", key, "https://a.example", "GET") for key in "abcd"])
            assert poll(lambda: len(server.arrived) == 2, bool, 30, 0.005)  # a, b held; c, d queued
            futures = [future for kept in s3._ahead.values() for future in kept]
            forgetting = threading.Thread(target=s3.forget_ahead)
            forgetting.start()
            assert poll(lambda: sum(future.cancelled() for future in futures) == 2, bool, 30, 0.005)
            assert forgetting.is_alive()  # waiting for a and b
            server.release()
            forgetting.join(30)
            assert not forgetting.is_alive() and all(future.done() for future in futures)
            assert s3.recorder.total == 2 and sorted(server.arrived) == ["/held/a", "/held/b"]  # c, d never left
        finally:
            inflight.set_limit(inflight.DEFAULT_CONCURRENCY)


def test_an_error_sent_ahead_is_raised_when_asked():
    from conformance.errors import InfraError
    from conformance.target.http import preflight_args
    from suiterun import MotoServer

    with MotoServer() as moto:
        s3 = _s3(moto)
    s3.timeout = 0.5  # the server is gone: no answer
    s3.send_ahead([preflight_args("gone", None, "https://a.example", "GET")])
    try:
        s3.preflight("gone", None, "https://a.example", "GET")
    except InfraError as exc:
        assert "after 3 attempts" in str(exc)
    else:
        raise AssertionError("no error raised")


def test_objects_the_run_wrote_are_deleted_without_listing():
    from conformance.target.buckets import Buckets
    from suiterun import MotoServer

    with MotoServer() as moto:
        s3 = _s3(moto)
        registry = Buckets(s3, "000000000002-abcdef", "main")
        name = registry.create()
        s3.api("put_object", Bucket=name, Key="a", Body=b"x")
        s3.request("PUT", name, "b/c", body=b"x")
        s3.request("PUT", name, "gone", body=b"x")
        s3.request("DELETE", name, "gone")
        s3.recorder.current = []
        assert registry.remove(name) is None and name not in moto.names()
        sent = [(x["method"], x["url"].rsplit(name, 1)[1]) for x in s3.recorder.current]
        assert sorted(sent) == [("DELETE", ""), ("DELETE", "/a"), ("DELETE", "/b/c")], sent


def test_reserved_buckets_come_with_the_evidence_of_their_creation():
    from conformance.target.buckets import Buckets
    from suiterun import MotoServer

    with MotoServer() as moto:
        s3 = _s3(moto)
        registry = Buckets(s3, "000000000001-abcdef", "main")
        ours = lambda: {n for n in moto.names() if n.startswith(registry.prefix)}  # noqa: E731
        s3.recorder.current = []
        registry.reserve(3)
        assert s3.recorder.current == [] and len(ours()) == 3
        s3.recorder.current = []
        name = registry.take()
        assert [x["note"] for x in s3.recorder.current] == ["created ahead: boto3 CreateBucket"]
        assert name in ours() and s3.recorder.case_requests == 1
        assert registry.cleanup() == [] and not ours()


def test_planned_examples_are_the_ones_hypothesis_explores():
    """Validity rests on the model alone, so drawing the examples first gives the explore pass's examples."""
    from hypothesis.errors import UnsatisfiedAssumption

    strategy = gen.scenarios("preflight", aim=True)

    def keep(example):
        config, requests = example
        if not any(r.expected(config).status == 200 for r in requests):
            raise UnsatisfiedAssumption()
        return example

    planned = gen.sample(strategy, 7, 30, keep=keep)
    explored: list = []

    @gen.seeded(strategy, 7, 30)
    def explore(example):
        explored.append(keep(example))

    explore()
    assert repr(planned) == repr(explored) and len(planned) >= 30


def test_properties_that_draw_alike_draw_once_and_keep_their_own_explicit_examples():
    """Drawing is most of a property's CPU; eight properties draw the same examples, so a process draws them once."""
    strategy = gen.scenarios("preflight", aim=True)
    kept: list = []

    def keep(example):
        kept.append(example)
        return example

    first = gen.sample(strategy, 11, 20, keep=keep, memo=("test", "alike"))
    drawn = len(kept)
    known = first[3]
    again = gen.sample(gen.scenarios("preflight", aim=True), 11, 20, explicit=[known], keep=keep,
                       memo=("test", "alike"))
    assert len(kept) == drawn + 1  # only the explicit example was kept anew, nothing drawn
    assert again == [known] + first
    # what hypothesis explores with the explicit example first, drawing afresh
    assert repr(gen.sample(gen.scenarios("preflight", aim=True), 11, 20, explicit=[known])) == repr(again)


def test_planned_work_is_shared_out_so_every_lane_has_about_as_much():
    from conformance.run.properties import balance

    groups = list("abcdefg")
    costs = [9, 1, 1, 1, 5, 4, 0]
    shares = balance(groups, costs, 3)
    loads = [sum(costs[groups.index(g)] for g in share) for share in shares]
    assert sorted(g for share in shares for g in share) == groups  # every group once
    assert max(loads) == 9 and sorted(loads) == [6, 6, 9]
    assert all(share == sorted(share) for share in shares)  # in the order drawn
    assert balance(["a"], [3], 1) == [["a"]]


class _LaneS3:
    """Just enough of S3 for an Answers store with lanes: per-bucket rules, every configuration accepted."""

    def __init__(self):
        self.recorder = Recorder(Redactor())
        self.rules: dict = {}
        self.sent: list = []

    def api(self, operation, **params):
        from conformance.target.http import ApiResult

        self.sent.append((operation, params["Bucket"]))
        self.recorder.add("PUT" if operation == "put_bucket_cors" else "GET", f"http://h/{params['Bucket']}?cors",
                          [], None, status=200, note=operation)
        if operation == "put_bucket_cors":
            self.rules[params["Bucket"]] = params["CORSConfiguration"]["CORSRules"]
            return ApiResult(operation, 200)
        return ApiResult(operation, 200, data={"CORSRules": self.rules.get(params["Bucket"], [])})

    def preflight(self, bucket, key, origin, method, request_headers=None, note=""):
        from conformance.target.http import Response

        self.sent.append(("OPTIONS", bucket))
        self.recorder.add("OPTIONS", f"http://h/{bucket}/{key}", [], None, status=200, note=note)
        rules = self.rules.get(bucket, [])
        allowed = any(origin in r["AllowedOrigins"] for r in rules)
        return Response(200 if allowed else 403, [("Access-Control-Allow-Origin", origin)] if allowed else [], b"")


def test_a_property_sends_its_planned_examples_ahead_over_lanes_and_explores_from_them():
    from conformance.behaviour.checks import Check
    from conformance.behaviour.tables import registry
    from conformance.run.properties import LANES, Answers, Property

    s3 = _LaneS3()
    made = iter(f"lane{i}" for i in range(1, 99))
    store = Answers(s3, "lane0", lambda fetch, done: fetch(), new_bucket=lambda: next(made))
    case = registry().cases["GEN-PRE-RULE-001"]
    p = Property(case, Check(case), s3, store, SimpleNamespace(fuzz_seed=3, fuzz_examples=20))
    configs = [[{"AllowedOrigins": [f"https://{i}.example"], "AllowedMethods": ["GET"]}] for i in range(12)]
    requests = [gen.GenRequest("preflight", "OPTIONS", f"https://{i}.example", "GET") for i in range(12)]
    strategy = gen.st.sampled_from(list(zip(configs, [[r] for r in requests])))
    p.round = (3, 20, ())
    try:
        inflight.set_limit(4)
        p.ahead(gen.Draw(strategy, lambda e: (gen_key(e[0]), e), None), lambda lane, items, stats: store.fill(
            items[0][0], [r for _, rs in items for r in rs], case.id, "ahead", stats, lane))
    finally:
        inflight.set_limit(inflight.DEFAULT_CONCURRENCY)
    used = {bucket for op, bucket in s3.sent if op == "put_bucket_cors"}
    assert len(store.lanes) == min(LANES, len({gen_key(c) for c, _ in p.planned})) and used == set(store.buckets())
    s3.sent.clear()
    for config, reqs in p.planned:  # exploring asks nothing more
        assert [r.status for r in p.answers(config, reqs)] == [200]
        # and what a report shows of an answer is the exchanges behind it: its configuration's, then its own
        kept = store.evidence[(gen_key(config), reqs[0])]
        assert [x["note"] for x in kept] == ["put_bucket_cors", "get_bucket_cors", "ahead"], kept
        assert len({x["url"].split("/")[2].split("?")[0] for x in kept}) == 1  # all on one lane
    assert s3.sent == []


def test_capture_sees_this_threads_exchanges_only():
    recorder = Recorder(Redactor())
    recorder.current = []
    with recorder.capture() as outer:
        recorder.add("GET", "http://h/1", [], None, status=200, note="1")

        def call(i):
            def run():
                with recorder.capture() as mine:
                    recorder.add("GET", f"http://h/t{i}", [], None, status=200, note=f"t{i}")
                return [x["note"] for x in mine]
            return run
        assert inflight.gather([call(i) for i in range(3)]) == [["t0"], ["t1"], ["t2"]]
    assert [x["note"] for x in outer] == ["1"]  # the pool threads' exchanges are not this thread's


def gen_key(config):
    from conformance.run.properties import config_key

    return config_key(config)


def test_cases_alone_on_their_bucket_run_ahead_and_keep_their_outcome_checks_and_evidence(suite, monkeypatch):
    """CFG cases touch only a bucket of their own: they run ahead, together, and each record is what running it in
    its turn gives (a 5xx the server gave, raised in its turn, included); VAL's rejected cases share a bucket, and
    the generated cases their answers, so they run ahead one after another."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # the run under test has no workers (an xdist
    # worker runs each case in its turn), also when this project test runs in one
    result, results = suite("--case", "CFG-REP-*", "--case", "CFG-NB-001", "--case", "CFG-RT-007",
                            "--case", "VAL-AGE-*", "--case", "GEN-CFG-00*", "--fuzz-examples", "5",
                            "--expectations", "none")
    records = {c["id"]: c for c in results["cases"]}
    for case_id in ("GEN-CFG-001", "GEN-CFG-002"):  # the generated cases, one after another in their own line
        generated = records[case_id]
        assert generated["observations"]["examples_checked"] >= 5
        notes = [x["note"] for x in generated["exchanges"]]
        assert notes and all(n.startswith(("run ahead: ", "shared setup: ")) for n in notes), notes
        assert generated["http_requests"] > 0  # all it sent (tests/test_parallel.py: as many as in its turn)
    for case_id in ("CFG-REP-001", "CFG-REP-002", "CFG-REP-003", "CFG-RT-007"):
        every = [x["note"] for x in records[case_id]["exchanges"]]
        notes = [n for n in every if not n.startswith("shared setup: ")]  # the scratch bucket's, in the first
        assert notes[0] == "created ahead: boto3 CreateBucket", notes
        assert notes[1:] and all(n.startswith("run ahead: ") for n in notes[1:]), notes
        assert records[case_id]["http_requests"] == len(every)
        assert records[case_id]["checks"], case_id
    assert records["CFG-REP-001"]["outcome"] == "pass"
    failed = records["CFG-RT-007"]  # moto answers 500 to one of its requests: a verdict, raised in its turn
    assert failed["outcome"] == "fail" and failed["server_error"]["status"] == 500
    assert [x["note"] for x in records["CFG-NB-001"]["exchanges"]] == ["run ahead: boto3 GetBucketCors"]
    assert [x["note"] for x in records["VAL-AGE-002"]["exchanges"]] == [
        "run ahead: PutBucketCors raw (Content-MD5: valid)"]
    accepted = [x["note"] for x in records["VAL-AGE-001"]["exchanges"]]
    assert accepted[0] == "created ahead: boto3 CreateBucket" and accepted[1].startswith("run ahead: ")


def test_nested_captures_each_end_with_their_own_block():
    recorder = Recorder(Redactor())
    with recorder.capture() as outer:
        with recorder.capture() as inner:
            recorder.add("GET", "http://h/a", [], None, status=200)
        assert inner == outer and len(inner) == 1  # equal lists, both still open until their own block ends
        recorder.add("GET", "http://h/b", [], None, status=200)
    assert [x["url"] for x in outer] == ["http://h/a", "http://h/b"] and len(inner) == 1
