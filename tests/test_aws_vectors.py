"""The behaviour model agrees with every bucket-CORS exchange recorded against real Amazon S3
(fixtures/aws-vectors/*.toml, from LocalStack's AWS-validated snapshots); the loader is strict; a model change
that contradicts a recording fails; `python -m conformance vectors` prints the recordings behind a case."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.behaviour import model
from conformance.behaviour import vector_backing as VB, vectors as V
from conformance.commands import vectors as VC
from conformance.behaviour.tables import registry
from conformance.errors import SuiteUsageError

ALL = V.vectors()
BY_ID = {v.id: v for v in ALL}
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.id)
def test_model_agrees_with_recording(vector):
    assert not VB.problems(vector), f"{vector.id} ({vector.source.describe()}): " + "; ".join(VB.problems(vector))


def test_every_recorded_exchange_is_a_vector():
    """Counts per source file; the loader already refuses a listed snapshot key without a vector."""
    per_file = {}
    for v in ALL:
        per_file.setdefault(v.file, []).append(v)
    assert {f: len(vs) for f, vs in per_file.items()} == {"localstack-test_s3_cors.toml": 60,
                                                          "localstack-test_s3.toml": 4}
    snapshot = [v for v in ALL if v.source.snapshot_key]
    # test_s3_cors.snapshot.json has 47 recorded entries, test_s3.snapshot.json 3 about CORS.
    assert len(snapshot) == 50
    assert {v.kind for v in ALL} == set(V.KINDS)


def test_readme_states_the_counts():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**{len(ALL)} AWS test vectors**" in text
    assert f"**{len(VB.distinct_facts())} distinct spec facts**" in text


def test_vectors_cover_each_answer_kind_of_the_model():
    """Refusals, successes, untouched actual requests, accepted/rejected configurations, Get/Delete."""
    statuses = {(v.kind, v.answer.status) for v in ALL}
    assert {("preflight", 200), ("preflight", 400), ("preflight", 403), ("actual", 200), ("put", 400),
            ("get", 200), ("get", 404), ("delete", 204)} <= statuses


# --- a model that contradicts a recording fails --------------------------------------------------------


def _failing() -> dict[str, list[str]]:
    return {v.id: VB.problems(v) for v in ALL if VB.problems(v)}


MUTATIONS = {
    # Allow-Methods as AWS-OPT documents it (only the requested method) instead of the rule's list (§4.2, §11).
    "acam-requested-method-only": (
        "cors_headers",
        lambda original: lambda rule, origin, names, *, preflight: {
            **original(rule, origin, names, preflight=preflight),
            "Access-Control-Allow-Methods": rule.allowed_methods[-1]},
        "AWSV-CORS-013"),
    # Matching the HTTP verb of an actual request instead of its Access-Control-Request-Method (§5 Method).
    "actual-ignores-acrm": (
        "evaluate_actual",
        lambda original: lambda rules, request: original(rules, dataclasses.replace(request, request_method=None)),
        "AWSV-CORS-022"),
    # The troubleshooting page's wording "CORS Response:" instead of the wire's "CORSResponse:" (§11).
    "doc-wording": ("NOT_ENABLED_MESSAGE", lambda original: "CORS Response: CORS is not enabled for this bucket.",
                    "AWSV-CORS-002"),
    # An unsupported method accepted by PutBucketCors (§2.1 #8).
    "accept-any-method": ("METHODS", lambda original: original | {"MYMETHOD"}, "AWSV-CORS-046"),
    # GetBucketCors returning empty lists for members that were not set (§3).
    "get-empty-members": (
        "get_configuration",
        lambda original: lambda rules, exists=True: dataclasses.replace(
            original(rules, exists),
            rules=tuple({"AllowedHeaders": [], **r} for r in original(rules, exists).rules or ())),
        "AWSV-CORS-040"),
    # No Vary on a successful evaluation (§7).
    "no-vary": ("VARY_VALUE", lambda original: None, "AWSV-CORS-014"),
    # <ResourceType>OBJECT</ResourceType> on an object URL for "not enabled" (§4.1 step 3, §11).
    "step3-object": (
        "evaluate_preflight",
        lambda original: lambda rules, request: (
            dataclasses.replace(original(rules, request), error_resource_type="OBJECT")
            if rules is None and request.bucket_exists and request.origin else original(rules, request)),
        "AWSV-CORS-003"),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_model_mutation_contradicting_a_recording_fails(monkeypatch, name):
    attribute, mutate, vector_id = MUTATIONS[name]
    assert not VB.problems(BY_ID[vector_id])
    monkeypatch.setattr(model, attribute, mutate(getattr(model, attribute)))
    failing = _failing()
    assert vector_id in failing, f"mutation {name} went unnoticed by {vector_id}"
    with pytest.raises(AssertionError, match=vector_id):
        test_model_agrees_with_recording(BY_ID[vector_id])


def test_model_flagging_a_recorded_answer_as_open_fails(monkeypatch):
    """A recorded answer is definite: a model that downgrades it to an open question (INFO) contradicts it."""
    original = model.evaluate_preflight
    monkeypatch.setattr(model, "evaluate_preflight", lambda rules, request: dataclasses.replace(
        original(rules, request), open_questions=("Q2",)))
    assert any("treats this recorded answer as open" in p for p in VB.problems(BY_ID["AWSV-CORS-015"]))


# --- vectors marked with an open question ---------------------------------------------------------

OPEN_VECTOR = """
[[vector]]
id = "AWSV-TEST-001"
test = "TestX::test_x"
snapshot_key = "opt"
kind = "preflight"
config = "star-and-listed"
facts = ["§4.2", "Q3"]
note = "a rule listing '*' and the origin: the spec leaves ACAO '*' vs the echo open (Q3)"
open_question = "Q3"
open_fields = ["header Access-Control-Allow-Origin", "header Access-Control-Allow-Credentials"]
[vector.request]
method = "OPTIONS"
resource = "object"
bucket_exists = true
signed = false
origin = "https://a.example"
request_method = "GET"
[vector.answer]
status = STATUS
headers_recorded = "all"
absent = ["Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"]
body = ""
[vector.answer.headers]
Access-Control-Allow-Origin = "https://a.example"
Access-Control-Allow-Credentials = "true"
Access-Control-Allow-Methods = "GET"
Vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
"""
HEADER = """
repository = "https://github.com/example/example"
commit = "0123456789abcdef0123456789abcdef01234567"
snapshot_file = "x.snapshot.json"
test_file = "x.py"
license = "Apache-2.0"

[configs.star-and-listed]
rules = [{ AllowedOrigins = ["*", "https://a.example"], AllowedMethods = ["GET"] }]

[tests."TestX::test_x"]
recorded = "2024-01-01T00:00:00+00:00"
snapshot_keys = ["opt"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_open_question_vector_checks_only_its_definite_fields(tmp_path):
    """The recording shows the echo where the model answers '*' (Q3): tolerated, since the model flags Q3; the
    definite fields (status, methods, Vary) are still compared."""
    vector, = V.load_file(_write(tmp_path, HEADER + OPEN_VECTOR.replace("STATUS", "200")))
    assert set(VB.disagreements(vector)) == {"header Access-Control-Allow-Origin",
                                            "header Access-Control-Allow-Credentials"}
    assert VB.problems(vector) == []
    wrong, = V.load_file(_write(tmp_path, HEADER + OPEN_VECTOR.replace("STATUS", "403")))
    assert VB.problems(wrong) and "status" in VB.problems(wrong)[0]


def test_open_question_vector_fails_when_the_model_stops_flagging_it(tmp_path, monkeypatch):
    vector, = V.load_file(_write(tmp_path, HEADER + OPEN_VECTOR.replace("STATUS", "200")))
    monkeypatch.setattr(model, "_header_questions", lambda rule, origin: ())
    assert any("no longer flags Q3" in p for p in VB.problems(vector))


# --- the loader is strict ---------------------------------------------------------------------------

GOOD = OPEN_VECTOR.replace("STATUS", "200")
BAD_VECTORS = [
    pytest.param(GOOD.replace('kind = "preflight"', 'kind = "preflight"\ncolour = "red"'),
                 r"vector #1 \(AWSV-TEST-001\): unknown key 'colour'", id="unknown-key"),
    pytest.param(GOOD.replace("status = 200", 'status = "200"'), r"AWSV-TEST-001\) answer: 'status'", id="status-type"),
    pytest.param(GOOD.replace("bucket_exists = true", 'bucket_exists = "yes"'), r"request: 'bucket_exists'",
                 id="bool-type"),
    pytest.param(GOOD.replace('facts = ["§4.2", "Q3"]', 'facts = ["4.2"]'), r"fact '4.2' must look like", id="fact"),
    # (written with an escape: a reference to a row that does not exist is what this test needs, and what
    # tests/test_spec_refs.py refuses anywhere else in the repository)
    pytest.param(GOOD.replace('facts = ["§4.2", "Q3"]', 'facts = ["\u00a75 Origin colour"]'), "\u00a75 has no row topic",
                 id="topic"),
    pytest.param(GOOD.replace('snapshot_key = "opt"', 'snapshot_key = "other"'), r"snapshot key 'other' is not listed",
                 id="unlisted-key"),
    pytest.param(GOOD.replace('absent = ["Access-Control-Allow-Headers", ', 'absent = ['),
                 r"is either in 'headers' or in 'absent'", id="header-unaccounted"),
    pytest.param(GOOD.replace('config = "star-and-listed"', 'config = "nope"'), r"config 'nope' is not in \[configs\]",
                 id="unknown-config"),
    pytest.param(GOOD.replace('open_fields = [', 'open_fields = ["header X-Colour", '), r"open field 'header X-Colour'",
                 id="open-field"),
    pytest.param(GOOD.replace('method = "OPTIONS"', 'method = "GET"'), r"a preflight vector sends OPTIONS",
                 id="preflight-method"),
    pytest.param(GOOD.replace('id = "AWSV-TEST-001"', 'id = "CORS-1"'), r"must look like AWSV-AREA-NNN", id="id"),
]


@pytest.mark.parametrize(("text", "message"), BAD_VECTORS)
def test_loader_names_file_vector_and_problem(tmp_path, text, message):
    path = _write(tmp_path, HEADER + text)
    with pytest.raises(SuiteUsageError, match=message) as excinfo:
        V.load_file(path)
    assert str(path) in str(excinfo.value)


def test_loader_refuses_a_snapshot_key_without_vector(tmp_path):
    text = HEADER.replace('snapshot_keys = ["opt"]', 'snapshot_keys = ["opt", "forgotten"]') + GOOD
    with pytest.raises(SuiteUsageError, match=r"snapshot key 'forgotten' has no vector"):
        V.load_file(_write(tmp_path, text))


def test_loader_refuses_invalid_toml_and_duplicate_ids(tmp_path):
    with pytest.raises(SuiteUsageError, match=r"x.toml: not valid TOML"):
        V.load_file(_write(tmp_path, "[[vector]\n"))
    _write(tmp_path, HEADER + GOOD)
    (tmp_path / "y.toml").write_text(HEADER + GOOD, encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=r"vector ID AWSV-TEST-001 is also defined in x.toml"):
        V.load_vectors(tmp_path)


# --- citations and backing --------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ('A: LS-SNAP "opt-wrong-origin" (§5 Scheme / host / port)', "recorded"),  # named and row-backed
    ("S: S3T (§5 Scheme / host / port)", "recorded"),  # the row is recorded, whatever this source's grade
    ("D: AWS-RULE (valid values) (§2.1 #9)", "documented"),
    ("S: S3T (start*end matches startend) (§5 * may match the empty string)", "secondary"),
    ("S: SCAL-T corsHeaders (§6)", "secondary"),  # a whole-section citation is not backed by a row's recording
    ("A (generic): LS-S3SNAP NoSuchBucket (§2.1 #28)", "recorded"),  # grade A without a vector
    ("I: inference (§12)", "secondary"),
])
def test_backing(source, expected):
    assert VB.backing(source) == expected


def test_citations_parse_steps_rows_ranges_topics_and_questions():
    assert VB.citations("A/S: §2.1 rows 8-10 (x); §4.1 step 5, §5 Method (exact); Q2 (§6)") == {
        ("2.1", "#8"), ("2.1", "#9"), ("2.1", "#10"), ("4.1", "step 5"), ("5", "method"), ("Q2", None), ("6", None)}


def test_named_recordings_back_a_case():
    found = [v.id for v in VB.backing_vectors('A: LS-SNAP test_put_cors_default_values "opt-get-headers"')]
    assert found == ["AWSV-CORS-045"]  # "opt-get-headers" of that test only


def test_every_case_resting_on_a_named_snapshot_is_backed():
    """A case whose source names an LS-SNAP key must find that recording among the vectors."""
    for case in registry().cases.values():
        for key in re.findall(r'LS-SNAP[^;(]*?"([a-z0-9_-]+)"', case.source):
            assert any(v.source.snapshot_key == key for v in VB.backing_vectors(case.source)), (case.id, key)


# --- python -m conformance vectors ----------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", "vectors", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_prints_the_recordings_behind_a_case():
    run = _cli("PRE-ORIG-011")
    assert run.returncode == 0, run.stderr
    assert "AWSV-CORS-015" in run.stdout and "> Origin: http://localhost:4200" in run.stdout
    assert "< error ResourceType: OBJECT" in run.stdout and "backing: recorded" in run.stdout


def test_cli_unknown_case_is_one_line_exit_2():
    run = _cli("PRE-NOPE-999")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["unknown case ID 'PRE-NOPE-999' (case IDs are in fixtures/cases/*.toml)"]


def test_cli_list():
    run = _cli("--list")
    assert run.returncode == 0
    assert run.stdout.count("AWSV-") == len(ALL)
    assert f"{len(ALL)} vectors backing {len(VB.distinct_facts())} distinct spec facts" in run.stdout


# --- fuzzing: any value anywhere either loads or gives one clear error ----------------------------------

def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else "nan"
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


_ANY = st.recursive(st.one_of(st.text(max_size=8), st.integers(-5, 600), st.booleans(), st.floats(allow_nan=False)),
                    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=6), inner, max_size=2),
                    max_leaves=4)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_loader_fuzz_one_value_replaced(data):
    document = tomllib.loads(HEADER + GOOD)
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    replacement = data.draw(st.one_of(_ANY, st.sampled_from(["§4.2", "Q3", "OPTIONS", "bucket", "all", "none"])))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = replacement
    text = "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in document.items())
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "fuzz.toml"
        file.write_text(text, encoding="utf-8")
        try:
            loaded = V.load_file(file)
        except SuiteUsageError as exc:
            assert str(file) in str(exc)
            return
        for vector in loaded:  # a document that loads can be compared and printed
            VB.problems(vector)
            VC.exchange(vector)


def test_spec_appendix_says_what_backs_each_fact():
    """docs/spec.md's generated appendix is current: every fact row with its backing and the recordings' IDs."""
    from conformance.paths import spec_path

    text = spec_path().read_text(encoding="utf-8")
    assert VC.current_spec(text) == text, "the appendix of docs/spec.md is stale: python -m conformance vectors --spec-appendix"
    facts = VC.spec_facts(text)
    assert len(facts) > 90 and any(a == "s4.1-step-5" for a, _, _ in facts)
    assert "| [§4.1 step 5](#s4.1-step-5) | a recorded AWS exchange | AWSV-CORS-" in text
    assert "| [§4.1 step 4](#s4.1-step-4) | secondary sources only | — |" in text


def test_a_case_record_says_what_backs_it():
    """results.json and the HTML report carry each case's backing and the AWS recordings behind it."""
    from conformance.reports.results import evidence_of

    assert evidence_of('A: LS-SNAP "opt-put" (§4.1 step 5, §5 Method)')["backing"] == "recorded"
    assert evidence_of('A: LS-SNAP "opt-put" (§4.1 step 5, §5 Method)')["recordings"]
    assert evidence_of("S: VGW-T \"empty CORS rule\" (§2.1 #3)") == {"backing": "secondary", "recordings": []}
    assert evidence_of("D: AWS-RULE (§2.1 #9)")["backing"] == "documented"
