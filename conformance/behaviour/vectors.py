"""AWS test vectors: bucket-CORS exchanges recorded against real Amazon S3 (fixtures/aws-vectors/*.toml).

Each vector holds the configuration in force, the request and the recorded answer, with its source (LocalStack
snapshot file, test, snapshot key, recording date, commit) and the spec facts it backs ("§4.1 step 5",
"§2.1 #8", "§6", "Q3"). The loader is strict: an unknown key or a wrong type stops with one message naming the
file and the vector. tests/test_aws_vectors.py runs every vector through conformance/behaviour/model.py.

Exit status: 0 printed; 2 bad input (no case ID, an unknown case ID); 4 a vector file that does not load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from conformance.behaviour import model
from conformance.datafile import load_toml, problem, reject_unknown_keys
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir

ACCESS_CONTROL = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
                  "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age")
CORS_HEADERS = ACCESS_CONTROL + ("Vary",)
# What a vector's answer records of the CORS headers: all seven names, the Access-Control-* ones only
# (an assertion "no access-control header"), or none (only the parsed body was snapshotted).
HEADERS_RECORDED = {"all": CORS_HEADERS, "access-control": ACCESS_CONTROL, "none": ()}
KINDS = ("preflight", "actual", "put", "get", "delete")
RESOURCES = ("object", "bucket", "service")
ERROR_ELEMENTS = ("Code", "Message", "Method", "ResourceType", "BucketName")
# Sections of the behaviour spec (docs/spec.md keeps the numbering of the fact sheet).
SECTIONS = frozenset({"0", "1", "2.1", "2.2", "3", "4.1", "4.2", "4.3", "5", "6", "7", "8", "9", "10", "11", "12"})
# Row topics a fact may name after its section ("§5 Method"), so that a vector backs that row, not the whole
# section: the first column of the spec's tables (backticks dropped), shortened where the row has none.
TOPICS = {
    "2.2": ("Replacement", "Propagation", "Stored values"),
    "3": ("Get, no configuration", "Get after Delete", "Get, configured", "Value fidelity", "Rule order",
          "Delete, configuration exists", "Delete, no configuration", "Get/Delete on missing bucket"),
    "4.1": ("decision order", "error-response shape", "other preflight targets"),
    "4.3": ("Bucket and object URLs", "Key existence", "Preflight authentication", "Presigned URLs",
            "ACL and Block Public Access"),
    "5": ("Rule selection", "Match condition", "Method", "Origin *", "Origin with one *",
          "* may match the empty string", "* spans .", "Scheme / host / port", "Origin case", "Header names",
          "AllowedHeader *", "Rule without AllowedHeader", "Actual request headers",
          "Access-Control-Request-Headers on a non-OPTIONS request"),
    "6": ("No Origin header", "Only Referer", "Origin, bucket without CORS", "Origin + method match a rule",
          "Same with a * rule", "Origin matching no rule", "Method not allowed",
          "Request-Method or -Headers not allowed", "Request-Headers allowed", "Signed vs anonymous",
          "Error responses", "Bucket does not exist", "ListBuckets", "HEAD bucket/object", "Website endpoint"),
}
NO_CONFIG = "none"
# The compared fields of an answer (names used by disagreements() and open_fields).
FIELDS = (("status", "accepted", "body", "rules") + tuple(f"error {e}" for e in ERROR_ELEMENTS)
          + tuple(f"header {h}" for h in CORS_HEADERS))

_ID = re.compile(r"AWSV-[A-Z0-9]+-\d{3}")
_FACT = re.compile(r"§(?P<section>\d+(?:\.\d+)?)(?: (?:(?P<step>step \d+)|(?P<row>#\d+)|(?P<topic>[^§]+)))?"
                   r"|(?P<question>Q\d+)")
# A citation inside a case's source text: "§4.1 step 5", "§2.1 #26", "§2.1 rows 8-14", "§5 Method", "Q2".
_CITATION = re.compile(r"§(?P<section>\d+(?:\.\d+)?)(?:\s+(?:(?P<step>step\s+\d+)|#(?P<row>\d+)"
                       r"|rows?\s+(?P<first>\d+)(?:\s*-\s*(?P<last>\d+))?|(?P<topic>[^();,:§]+)))?"
                       r"|\b(?P<question>Q\d+)\b")
_GRADE = re.compile(r"(?:^|[;(,]\s*|\s)(?P<grades>[ADSI](?:/[ADSI])*)(?:\s*\([^)]*\))?:")

_FILE_KEYS = {"repository", "commit", "snapshot_file", "test_file", "license", "configs", "tests", "vector"}
_TEST_KEYS = {"recorded", "snapshot_keys", "not_cors", "note"}
_CONFIG_KEYS = {"rules", "note"}
_VECTOR_KEYS = {"id", "test", "snapshot_key", "assertion", "kind", "config", "facts", "note", "open_question",
                "open_fields", "request", "answer"}
_REQUEST_KEYS = {"method", "resource", "bucket_exists", "signed", "origin", "request_method", "request_headers",
                 "other_headers"}
_ANSWER_KEYS = {"status", "accepted", "headers_recorded", "headers", "absent", "error", "body", "rules"}
_RULE_KEYS = {"AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds", "ID"}


@dataclass(frozen=True)
class Source:
    """Where a vector was recorded: repository, commit, files, test, snapshot key (or assertion), date."""

    repository: str
    commit: str
    snapshot_file: str
    test_file: str
    license: str
    test: str
    snapshot_key: str | None
    assertion: str | None
    recorded: str

    def describe(self) -> str:
        """One line: test, key, date and file at the commit."""
        what, where = ((f'"{self.snapshot_key}"', self.snapshot_file) if self.snapshot_key
                       else (f"(assertion: {self.assertion})", self.test_file))
        return (f"{self.test} {what}; recorded on AWS {self.recorded[:10]}; "
                f"{self.repository.removeprefix('https://github.com/')}@{self.commit[:10]} {where}")


@dataclass(frozen=True)
class VectorRequest:
    """The request of a vector (the configuration API is addressed with resource = "bucket")."""

    method: str
    resource: str
    bucket_exists: bool
    signed: bool
    origin: str | None = None
    request_method: str | None = None
    request_headers: str | None = None
    other_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recorded:
    """The recorded answer; a field that was not recorded is None (headers: see headers_recorded)."""

    status: int | None
    accepted: bool | None = None
    headers_recorded: str = "none"
    headers: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    error: tuple[tuple[str, str], ...] | None = None
    body: str | None = None
    rules: tuple[dict, ...] | None = None


@dataclass(frozen=True)
class Vector:
    """One recorded exchange with its configuration, request, answer, source and the facts it backs."""

    id: str
    kind: str
    config: str
    rules: tuple[dict, ...] | None = field(hash=False)  # boto3-shaped CORSRules; None = no configuration
    facts: tuple[str, ...]
    request: VectorRequest
    answer: Recorded
    source: Source
    file: str
    note: str = ""
    open_question: str | None = None
    open_fields: tuple[str, ...] = ()


# --- loading --------------------------------------------------------------------------------------


def _str(where: str, table: dict, key: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise problem(where, f"'{key}' must be a non-empty string, not {value!r}")
    return value


def _bool(where: str, table: dict, key: str) -> bool:
    value = table.get(key)
    if not isinstance(value, bool):
        raise problem(where, f"'{key}' must be true or false, not {value!r}")
    return value


def _str_list(where: str, table: dict, key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise problem(where, f"'{key}' must be a list of strings")
    return tuple(value)


def _str_table(where: str, table: dict, key: str) -> tuple[tuple[str, str], ...]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise problem(where, f"'{key}' must be a table of strings")
    return tuple(value.items())


def _rules(where: str, value: Any) -> tuple[dict, ...]:
    """CORSRules in boto3's shape; only the members boto3 knows, with their types."""
    if not isinstance(value, list):
        raise problem(where, "'rules' must be a list of CORSRule tables")
    for n, rule in enumerate(value, 1):
        at = f"{where} rule #{n}"
        if not isinstance(rule, dict):
            raise problem(at, "must be a table")
        reject_unknown_keys(at, rule, _RULE_KEYS)
        for key in ("AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders"):
            if key in rule:
                _str_list(at, rule, key)
        if "MaxAgeSeconds" in rule and (isinstance(rule["MaxAgeSeconds"], bool)
                                        or not isinstance(rule["MaxAgeSeconds"], int)):
            raise problem(at, "'MaxAgeSeconds' must be an integer")
        if "ID" in rule:
            _str(at, rule, "ID")
    return tuple(value)


def _fact(where: str, text: Any) -> str:
    match = _FACT.fullmatch(text) if isinstance(text, str) else None
    if not match or (match["section"] and match["section"] not in SECTIONS):
        raise problem(where, f"fact {text!r} must look like '§4.1 step 5', '§2.1 #8', '§6', '§5 Method' or 'Q3' "
                           f"(sections: {', '.join(sorted(SECTIONS, key=lambda s: [int(p) for p in s.split('.')]))})")
    if match["topic"] and match["topic"] not in TOPICS.get(match["section"], ()):
        raise problem(where, f"fact {text!r}: §{match['section']} has no row topic {match['topic']!r} "
                           f"(known: {'; '.join(TOPICS.get(match['section'], ())) or 'none'})")
    return text


def _request(where: str, kind: str, table: Any) -> VectorRequest:
    where = f"{where} request"
    if not isinstance(table, dict):
        raise problem(where, "must be a table ([vector.request])")
    reject_unknown_keys(where, table, _REQUEST_KEYS)
    method = _str(where, table, "method")
    resource = _str(where, table, "resource")
    if resource not in RESOURCES:
        raise problem(where, f"'resource' must be one of {', '.join(RESOURCES)}, not {resource!r}")
    if kind == "preflight" and method != "OPTIONS":
        raise problem(where, f"a preflight vector sends OPTIONS, not {method!r}")
    wanted = {"put": "PUT", "get": "GET", "delete": "DELETE"}.get(kind)
    if wanted and (method != wanted or resource != "bucket"):
        raise problem(where, f"a {kind} vector sends {wanted} to the bucket (?cors)")
    return VectorRequest(method=method, resource=resource, bucket_exists=_bool(where, table, "bucket_exists"),
                         signed=_bool(where, table, "signed"), origin=_str(where, table, "origin", required=False),
                         request_method=_str(where, table, "request_method", required=False),
                         request_headers=_str(where, table, "request_headers", required=False),
                         other_headers=_str_table(where, table, "other_headers"))


def _answer(where: str, kind: str, table: Any) -> Recorded:
    where = f"{where} answer"
    if not isinstance(table, dict):
        raise problem(where, "must be a table ([vector.answer])")
    reject_unknown_keys(where, table, _ANSWER_KEYS)
    status = table.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
        raise problem(where, f"'status' must be an HTTP status, not {status!r}")
    if status is None and kind != "put":
        raise problem(where, "'status' is required (only a put vector may record just 'accepted')")
    accepted = None
    if kind == "put":
        accepted = _bool(where, table, "accepted")
    elif "accepted" in table:
        raise problem(where, "'accepted' belongs to put vectors only")
    mode = table.get("headers_recorded", "none")
    if not isinstance(mode, str) or mode not in HEADERS_RECORDED:
        raise problem(where, f"'headers_recorded' must be one of {', '.join(HEADERS_RECORDED)}, not {mode!r}")
    if mode != "none" and kind not in ("preflight", "actual"):
        raise problem(where, "CORS headers are recorded for preflight and actual vectors only")
    headers = _str_table(where, table, "headers")
    absent = _str_list(where, table, "absent")
    named = [name for name, _ in headers] + list(absent)
    for name in named:
        if name not in HEADERS_RECORDED[mode]:
            raise problem(where, f"header {name!r} is not one of the headers recorded ({mode}): "
                               f"{', '.join(HEADERS_RECORDED[mode]) or 'none'}")
    missing = [n for n in HEADERS_RECORDED[mode] if n not in named]
    if missing or len(named) != len(set(named)):
        raise problem(where, f"with headers_recorded = {mode!r} every one of {', '.join(HEADERS_RECORDED[mode])} "
                           f"is either in 'headers' or in 'absent', exactly once (missing: {', '.join(missing)})")
    error = None
    if "error" in table:
        error = _str_table(where, table, "error")
        reject_unknown_keys(f"{where} error", dict(error), set(ERROR_ELEMENTS))
        if "Code" not in dict(error):
            raise problem(where, "'error' needs its Code")
    body = _str(where, table, "body", required=False)
    rules = None
    if "rules" in table:
        if kind != "get":
            raise problem(where, "'rules' (a GetBucketCors body) belongs to get vectors only")
        rules = _rules(where, table["rules"])
    return Recorded(status=status, accepted=accepted, headers_recorded=mode, headers=headers, absent=absent,
                    error=error, body=body, rules=rules)


def _vector(path: Path, n: int, row: Any, meta: dict, configs: dict, tests: dict) -> Vector:
    if not isinstance(row, dict):
        raise problem(f"{path}: vector #{n}", "must be a table ([[vector]])")
    where = f"{path}: vector #{n} ({row.get('id', 'no id')})"
    reject_unknown_keys(where, row, _VECTOR_KEYS)
    vector_id = _str(where, row, "id")
    if not _ID.fullmatch(vector_id):
        raise problem(where, f"ID {vector_id!r} must look like AWSV-AREA-NNN")
    kind = _str(where, row, "kind")
    if kind not in KINDS:
        raise problem(where, f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    test = _str(where, row, "test")
    if test not in tests:
        raise problem(where, f"test {test!r} has no [tests.\"{test}\"] table")
    key, assertion = _str(where, row, "snapshot_key", required=False), _str(where, row, "assertion", required=False)
    if (key is None) == (assertion is None):
        raise problem(where, "give exactly one of 'snapshot_key' (answer in the snapshot) or 'assertion'")
    if key is not None and key not in tests[test]["snapshot_keys"]:
        raise problem(where, f"snapshot key {key!r} is not listed for {test}")
    config = _str(where, row, "config")
    if config != NO_CONFIG and config not in configs:
        raise problem(where, f"config {config!r} is not in [configs] (defined: {', '.join(sorted(configs))}; "
                           f"or \"{NO_CONFIG}\")")
    rules = None if config == NO_CONFIG else configs[config]
    if kind == "put" and rules is None:
        raise problem(where, "a put vector names the configuration it sends")
    if kind != "put" and rules == ():
        raise problem(where, f"config {config!r} has no rules; use \"{NO_CONFIG}\" for a bucket without configuration")
    facts = row.get("facts")
    if not isinstance(facts, list) or not facts:
        raise problem(where, "'facts' must be a non-empty list of spec sections")
    facts = tuple(_fact(where, f) for f in facts)
    note = _str(where, row, "note", required=False) or ""
    question = _str(where, row, "open_question", required=False)
    open_fields = _str_list(where, row, "open_fields")
    if question is not None:
        if not re.fullmatch(r"Q\d+", question) or not note or not open_fields:
            raise problem(where, "an open_question ('Qn') needs a note explaining it and the open_fields it leaves open")
    elif open_fields:
        raise problem(where, "'open_fields' needs an open_question")
    for name in open_fields:
        if name not in FIELDS:
            raise problem(where, f"open field {name!r} is not one of: {', '.join(FIELDS)}")
    source = Source(repository=meta["repository"], commit=meta["commit"], snapshot_file=meta["snapshot_file"],
                    test_file=meta["test_file"], license=meta["license"], test=test, snapshot_key=key,
                    assertion=assertion, recorded=tests[test]["recorded"])
    return Vector(id=vector_id, kind=kind, config=config, rules=rules, facts=facts,
                  request=_request(where, kind, row.get("request")), answer=_answer(where, kind, row.get("answer")),
                  source=source, file=path.name, note=note, open_question=question, open_fields=open_fields)


def load_file(path: Path) -> list[Vector]:
    """The vectors of one file, checked against the schema."""
    data = load_toml(path)
    reject_unknown_keys(str(path), data, _FILE_KEYS)
    meta = {k: _str(str(path), data, k) for k in ("repository", "commit", "snapshot_file", "test_file", "license")}
    if not re.fullmatch(r"[0-9a-f]{40}", meta["commit"]):
        raise problem(str(path), "'commit' must be a full 40-digit commit hash")
    raw_configs = data.get("configs", {})
    if not isinstance(raw_configs, dict):
        raise problem(str(path), "'configs' must be a table of named configurations")
    configs = {}
    for name, config in raw_configs.items():
        where = f"{path}: [configs.{name}]"
        if name == NO_CONFIG or not isinstance(config, dict):
            raise problem(where, f"must be a table with 'rules' (and the name \"{NO_CONFIG}\" is reserved)")
        reject_unknown_keys(where, config, _CONFIG_KEYS)
        configs[name] = _rules(where, config.get("rules"))
    raw_tests = data.get("tests")
    if not isinstance(raw_tests, dict) or not raw_tests:
        raise problem(str(path), "needs [tests.\"Class::test\"] tables")
    tests = {}
    for name, test in raw_tests.items():
        where = f"{path}: [tests.\"{name}\"]"
        if not isinstance(test, dict):
            raise problem(where, "must be a table")
        reject_unknown_keys(where, test, _TEST_KEYS)
        recorded = _str(where, test, "recorded")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", recorded):
            raise problem(where, f"'recorded' must be an ISO date in UTC like 2023-07-31T10:31:46+00:00, "
                               f"not {recorded!r}")
        tests[name] = {"recorded": recorded, "snapshot_keys": _str_list(where, test, "snapshot_keys")}
        _str_list(where, test, "not_cors")
    rows = data.get("vector")
    if not isinstance(rows, list) or not rows:
        raise problem(str(path), "no [[vector]] entries")
    vectors = [_vector(path, n, row, meta, configs, tests) for n, row in enumerate(rows, 1)]
    covered = {(v.source.test, v.source.snapshot_key) for v in vectors}
    for name, test in tests.items():
        for key in test["snapshot_keys"]:
            if (name, key) not in covered:
                raise problem(f"{path}: [tests.\"{name}\"]", f"snapshot key {key!r} has no vector")
    return vectors


def load_vectors(directory: Path | None = None) -> list[Vector]:
    """Every vector of every file in the directory; IDs unique across files."""
    directory = directory or fixtures_dir() / "aws-vectors"
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise SuiteUsageError(f"{directory}: no vector files (*.toml)")
    seen: dict[str, str] = {}
    vectors = []
    for path in files:
        for vector in load_file(path):
            if vector.id in seen:
                raise SuiteUsageError(f"{path}: vector ID {vector.id} is also defined in {seen[vector.id]}")
            seen[vector.id] = path.name
            vectors.append(vector)
    return vectors


@lru_cache(maxsize=1)
def vectors() -> tuple[Vector, ...]:
    """The shipped vectors, loaded once per process."""
    return tuple(load_vectors())


# --- the model's view and the recorded view ---------------------------------------------------------


def vector_rules(vector: Vector) -> list[model.Rule] | None:
    """The configuration in force as model rules; None when the bucket has none."""
    return None if vector.rules is None else [model.Rule.from_boto(r) for r in vector.rules]


def vector_request(vector: Vector) -> model.Request:
    """The vector's request as the model sees it."""
    r = vector.request
    return model.Request(method=r.method, origin=r.origin, request_method=r.request_method,
                         request_headers=r.request_headers, resource=r.resource, bucket_exists=r.bucket_exists,
                         signed=r.signed)


def _error_view(error: dict[str, Any]) -> dict[str, Any]:
    view = {f"error {name}": error.get(name) for name in ("Code", "Message", "Method", "ResourceType")}
    view["error BucketName"] = "BucketName" in error
    return view


def _cors_view(answer: model.Answer, names: tuple[str, ...]) -> dict[str, Any]:
    return {f"header {name}": answer.headers.get(name) for name in names}


def model_view(vector: Vector) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What the model answers, as the same fields the recording has, and the open questions it flags."""
    rules, request, rec = vector_rules(vector), vector_request(vector), vector.answer
    if vector.kind in ("preflight", "actual"):
        if vector.kind == "preflight":
            answer = model.evaluate_preflight(rules, request)
            status = answer.status
        else:
            answer = model.evaluate_actual(rules, request)
            # CORS never changes the status of an actual request (§6): the model leaves it to the operation.
            status = rec.status if answer.status is None else answer.status
        view: dict[str, Any] = {"status": status}
        if rec.error is not None or answer.error_code is not None:
            view.update(_error_view({k: v for k, v in {
                "Code": answer.error_code, "Message": answer.error_message, "Method": answer.error_method,
                "ResourceType": answer.error_resource_type}.items() if v is not None}))
        view.update(_cors_view(answer, HEADERS_RECORDED[rec.headers_recorded]))
        if rec.body is not None:
            view["body"] = "" if answer.status == 200 else "<error document>"
        return view, answer.open_questions
    if vector.kind == "put":
        verdict = model.validate_rules(list(vector.rules or ()))
        view = {"accepted": verdict.accepted}
        if rec.status is not None:
            view["status"] = verdict.status
        if rec.error is not None or not verdict.accepted:
            view.update({"error Code": verdict.code, "error Message": verdict.message})
        return view, verdict.open_questions
    operation = model.get_configuration if vector.kind == "get" else model.delete_configuration
    config = operation(rules, request.bucket_exists)
    view = {"status": config.status}
    if rec.error is not None or config.code is not None:
        view.update(_error_view({k: v for k, v in {"Code": config.code, "Message": config.message}.items() if v}
                                | ({"BucketName": "present"} if config.bucket_name else {})))
    if vector.kind == "get" and config.status == 200:
        view["rules"] = list(config.rules or ())
    return view, ()


def recorded_view(vector: Vector) -> dict[str, Any]:
    """The recording as comparable fields (only what was recorded)."""
    rec = vector.answer
    view: dict[str, Any] = {}
    if vector.kind == "put":
        view["accepted"] = rec.accepted
        if rec.status is not None:
            view["status"] = rec.status
        if rec.error is not None:
            error = dict(rec.error)
            view.update({"error Code": error.get("Code"), "error Message": error.get("Message")})
        return view
    view["status"] = rec.status
    if rec.error is not None:
        view.update(_error_view(dict(rec.error)))
    headers = dict(rec.headers)
    view.update({f"header {name}": headers.get(name) for name in HEADERS_RECORDED[rec.headers_recorded]})
    if rec.body is not None:
        view["body"] = rec.body if rec.error is None else "<error document>"
    if rec.rules is not None:
        view["rules"] = list(rec.rules)
    return view


def disagreements(vector: Vector) -> dict[str, tuple[Any, Any]]:
    """Every recorded field the model answers differently: {field: (recorded, model)}."""
    recorded, (modelled, _) = recorded_view(vector), model_view(vector)
    fields = list(recorded) + [k for k in modelled if k not in recorded]
    return {k: (recorded.get(k), modelled.get(k)) for k in fields if recorded.get(k) != modelled.get(k)}


def problems(vector: Vector) -> list[str]:
    """Why the model contradicts the recording (empty when it agrees).

    A definite vector must agree on every recorded field and the model must not treat the answer as open.
    A vector marked open_question must agree on every field but its open_fields, and the model must flag
    that question (so a case built on it reports INFO)."""
    found = [f"{name}: recorded {rec!r}, model {mod!r}" for name, (rec, mod) in disagreements(vector).items()
             if name not in vector.open_fields]
    _, questions = model_view(vector)
    if vector.open_question is None and questions:
        found.append(f"the model treats this recorded answer as open ({', '.join(questions)})")
    if vector.open_question is not None and vector.open_question not in questions:
        found.append(f"the model no longer flags {vector.open_question} for this answer")
    return found


# --- facts, citations, backing --------------------------------------------------------------------


def _norm(topic: str) -> str:
    return " ".join(re.sub(r"[`'\"]", "", topic).lower().split())


def citations(source: str) -> set[tuple[str, str | None]]:
    """The spec sections a case's source cites: ("4.1", "step 5"), ("2.1", "#8"), ("5", "method"), ("Q2", None)."""
    found: set[tuple[str, str | None]] = set()
    for m in _CITATION.finditer(source or ""):
        if m["question"]:
            found.add((m["question"], None))
        elif m["step"]:
            found.add((m["section"], "step " + m["step"].split()[-1]))
        elif m["row"]:
            found.add((m["section"], "#" + m["row"]))
        elif m["first"]:
            last = int(m["last"] or m["first"])
            found.update((m["section"], f"#{n}") for n in range(int(m["first"]), last + 1))
        else:
            found.add((m["section"], (_norm(m["topic"]) or None) if m["topic"] else None))
    return found


def _fact_key(fact: str) -> tuple[str, str | None]:
    m = _FACT.fullmatch(fact)
    if m["question"]:
        return m["question"], None
    detail = m["step"] or m["row"] or (_norm(m["topic"]) if m["topic"] else None)
    return m["section"], detail


def _same_detail(fact: str | None, cited: str | None) -> bool:
    """A section-level fact backs every row; a section-level citation is backed only by a section-level fact
    (so a case citing just "§5" is not backed by a recording of some other §5 row); steps and rows must be
    equal; topics may be abbreviated on either side."""
    if cited is None or fact is None:
        return fact is None
    if fact.startswith(("step ", "#")) or cited.startswith(("step ", "#")):
        return fact == cited
    return fact.startswith(cited) or cited.startswith(fact)


def backs(fact: str, cited: set[tuple[str, str | None]]) -> bool:
    """Whether a vector fact backs one of a case's citations (§4 covers §4.1; '§5' covers every §5 row)."""
    section, detail = _fact_key(fact)
    for s, d in cited:
        if s == section and _same_detail(detail, d):
            return True
        if d is None and detail is None and section.startswith(s + "."):  # "§4" cites all of §4.1-§4.3
            return True
    return False


# A source naming a recording: LS-SNAP / LS-S3SNAP / LS-TEST followed by test names and quoted snapshot keys.
_NAMED = re.compile(r"\b(?P<key>LS-SNAP|LS-S3SNAP|LS-TEST)\b(?P<rest>[^;(]*)")
_NAMED_FILES = {"LS-SNAP": "test_s3_cors", "LS-S3SNAP": "test_s3", "LS-TEST": "test_s3_cors"}


def _named(vector: Vector, source: str) -> bool:
    """Whether the source names this vector's recording (its test and/or snapshot key) explicitly."""
    stem = Path(vector.source.test_file).stem
    for m in _NAMED.finditer(source or ""):
        if _NAMED_FILES[m["key"]] != stem:
            continue
        keys = re.findall(r'"([A-Za-z0-9_.-]+)"', m["rest"])
        tests = re.findall(r"\b(test_\w+)", m["rest"])
        test_ok = not tests or vector.source.test.rsplit("::", 1)[-1] in tests
        if keys and vector.source.snapshot_key in keys and test_ok:
            return True
        if tests and not keys and test_ok:
            return True
    return False


def backing_vectors(source: str, pool: tuple[Vector, ...] | None = None) -> list[Vector]:
    """The vectors behind a case source: those it names (LS-SNAP "key", LS-TEST test_x) and those whose facts
    back a spec row it cites."""
    cited = citations(source)
    return [v for v in (vectors() if pool is None else pool)
            if _named(v, source) or any(backs(f, cited) for f in v.facts)]


def backing(source: str) -> str:
    """'recorded', 'documented' or 'secondary': what the best evidence behind a case source is."""
    if backing_vectors(source):
        return "recorded"
    grades = {g for m in _GRADE.finditer(source or "") for g in m["grades"].split("/")}
    if "A" in grades:
        return "recorded"  # a raw AWS capture outside the vector files (issue trackers, fact sheet grade A)
    if "D" in grades:
        return "documented"
    return "secondary"


def distinct_facts(pool: tuple[Vector, ...] | None = None) -> list[str]:
    """The distinct spec facts the vectors back, in spec order."""
    facts = {f for v in (vectors() if pool is None else pool) for f in v.facts}

    def order(fact: str) -> tuple:
        section, detail = _fact_key(fact)
        if section.startswith("Q"):
            return (1, [int(section[1:])], 0)
        number = re.fullmatch(r"(?:step |#)(\d+)", detail or "")
        return (0, [int(p) for p in section.split(".")], int(number[1]) if number else 0, detail or "")
    return sorted(facts, key=order)


# --- python -m conformance vectors ----------------------------------------------------------------


def _rule_text(rule: dict) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" if not isinstance(v, list) else f"{k}: [{', '.join(map(repr, v))}]"
                           for k, v in rule.items()) + "}"


def exchange(vector: Vector) -> str:
    """The recorded exchange in readable form: configuration, request lines (>) and answer lines (<)."""
    r, a = vector.request, vector.answer
    lines = [f"{vector.id}  [{vector.kind}]  facts: {', '.join(vector.facts)}",
             f"  source: {vector.source.describe()}"]
    if vector.open_question:
        lines.append(f"  open question {vector.open_question} (fields {', '.join(vector.open_fields)})")
    if vector.note:
        lines.append(f"  note: {vector.note}")
    if vector.rules is None:
        lines.append("  configuration: none")
    else:
        lines.append(f"  configuration ({vector.config}):" if vector.kind != "put"
                     else f"  configuration sent ({vector.config}):")
        lines.extend([f"    {_rule_text(rule)}" for rule in vector.rules] or ["    (no CORSRule)"])
    path = {"object": "/<bucket>/<key>", "bucket": "/<bucket>", "service": "/"}[r.resource]
    if vector.kind in ("put", "get", "delete"):
        path += "?cors"
    lines.append(f"  > {r.method} {path}  ({'signed' if r.signed else 'anonymous'}"
                 f"{'' if r.bucket_exists else ', bucket does not exist'})")
    for name, value in (("Origin", r.origin), ("Access-Control-Request-Method", r.request_method),
                        ("Access-Control-Request-Headers", r.request_headers), *r.other_headers):
        if value is not None:
            lines.append(f"  > {name}: {value}")
    if a.status is not None:
        verdict = "" if a.accepted is None else f" ({'accepted' if a.accepted else 'refused'})"
        lines.append(f"  < {a.status}{verdict}")
    elif a.accepted is not None:
        lines.append(f"  < {'accepted (2xx)' if a.accepted else 'refused'}")
    for name, value in a.error or ():
        lines.append(f"  < error {name}: {value}")
    for name, value in a.headers:
        lines.append(f"  < {name}: {value}")
    if a.absent:
        lines.append(f"  < (absent: {', '.join(a.absent)})")
    if a.headers_recorded != "all" and vector.kind in ("preflight", "actual"):
        lines.append("  < (Vary not recorded)" if a.headers_recorded == "access-control"
                     else "  < (response headers not recorded)")
    if a.body == "":
        lines.append("  < (empty body)")
    for rule in a.rules or ():
        lines.append(f"  < CORSRule {_rule_text(rule)}")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    """python -m conformance vectors CASE-ID... | --list: the AWS recordings behind a case."""
    parser.add_argument("case_ids", nargs="*", metavar="CASE-ID", help="a case ID such as PRE-ORIG-011")
    parser.add_argument("--list", action="store_true", help="list every vector (ID, kind, recording, facts)")
    parser.add_argument("--spec-appendix", action="store_true",
                        help="rewrite the generated appendix of docs/spec.md (what backs each fact)")


def run(args) -> int:
    """Print the vectors behind each case (those its source names and those backing a spec row it cites)."""
    import sys

    from conformance.behaviour.tables import registry

    if args.spec_appendix:
        from conformance.paths import spec_path

        path = spec_path()
        path.write_text(current_spec(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the appendix of {path}")
        return 0
    if not args.list and not args.case_ids:
        print("python -m conformance vectors: give a CASE-ID or --list (see --help)", file=sys.stderr)
        return 2
    try:
        pool = vectors()
        cases = registry().cases
    except SuiteUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    if args.list:
        for v in pool:
            key = v.source.snapshot_key or "(assertion)"
            print(f"{v.id:14} {v.kind:9} {v.source.test.rsplit('::', 1)[-1]} {key}  [{', '.join(v.facts)}]")
        print(f"{len(pool)} vectors backing {len(distinct_facts(pool))} distinct spec facts")
    unknown = [c for c in args.case_ids if c not in cases]
    if unknown:
        print(f"unknown case ID {unknown[0]!r} (case IDs are in fixtures/cases/*.toml)", file=sys.stderr)
        return 2
    for case_id in args.case_ids:
        case = cases[case_id]
        found = backing_vectors(case.source, pool)
        cited = ", ".join(sorted({f"§{s}" + (f" {d}" if d else "") if not s.startswith("Q") else s
                                  for s, d in citations(case.source)})) or "none"
        print(f"{case.id} ({case.level}): {case.title}\n  source: {case.source}\n  cites: {cited}\n"
              f"  backing: {backing(case.source)}; {len(found)} AWS recording(s)")
        for v in found:
            print("\n" + exchange(v))
        print()
    return 0

# ---- the spec's appendix: what backs each fact ---------------------------------------------------------------

APPENDIX_START = "<!-- generated: python -m conformance vectors --spec-appendix (tests/test_aws_vectors.py keeps it current) -->"
APPENDIX_END = "<!-- end of generated appendix -->"
_ROW = re.compile(r'^\| <a id="(?P<anchor>s(?P<section>\d+(?:\.\d+)?)-(?P<rest>[^"]+))"></a>(?P<title>[^|]*)\|(?P<cells>.*)\|\s*$')


def spec_facts(spec_text: str) -> list[tuple[str, str, str]]:
    """Every anchored fact row of the spec's tables: (anchor, citation such as "§4.1 step 5", grade-and-source cell)."""
    out = []
    for line in spec_text.splitlines():
        m = _ROW.match(line)
        if not m or m["section"] not in SECTIONS or m["section"] in ("0", "1", "9", "10", "12"):
            continue  # grades, source keys, emulator notes and open questions are not facts of AWS
        rest = m["rest"]
        if rest.isdigit():
            cite = f"§{m['section']} #{rest}"
        elif rest.startswith("step-"):
            cite = f"§{m['section']} step {rest[5:]}"
        else:
            cite = f"§{m['section']} {m['title'].replace('`', '').strip()}"
        out.append((m["anchor"], cite, m["cells"].rsplit("|", 1)[-1].strip()))
    return out


def fact_backing(citation: str, grades: str, pool: tuple[Vector, ...] | None = None) -> tuple[str, list[str]]:
    """('recorded' | 'documented' | 'secondary', the IDs of the AWS recordings behind it) for one spec fact."""
    found = [v.id for v in (vectors() if pool is None else pool)
             if any(backs(f, citations(citation)) for f in v.facts)]
    if found:
        return "recorded", found
    return backing(grades), []


def spec_appendix(spec_text: str, pool: tuple[Vector, ...] | None = None) -> str:
    """The generated appendix of docs/spec.md: for each fact, what backs it, with the AWS recordings' IDs."""
    pool = vectors() if pool is None else pool
    rows = ["| fact | backed by | AWS recordings (fixtures/aws-vectors) |", "| --- | --- | --- |"]
    counts = {"recorded": 0, "documented": 0, "secondary": 0}
    for anchor, cite, grades in spec_facts(spec_text):
        kind, ids = fact_backing(cite, grades, pool)
        counts[kind] += 1
        label = {"recorded": "a recorded AWS exchange" if ids else "an AWS answer recorded elsewhere (grade A)",
                 "documented": "AWS documentation only", "secondary": "secondary sources only"}[kind]
        rows.append(f"| [{cite}](#{anchor}) | {label} | {', '.join(ids) or '—'} |")
    head = (f"{len(rows) - 2} facts: {counts['recorded']} backed by an AWS recording "
            f"({sum(1 for r in rows[2:] if not r.endswith('| — |'))} of them by the vectors of fixtures/aws-vectors), "
            f"{counts['documented']} by AWS documentation only, {counts['secondary']} by secondary sources only.")
    return "\n".join([APPENDIX_START, "", head, "", *rows, "", APPENDIX_END])


def current_spec(spec_text: str, pool: tuple[Vector, ...] | None = None) -> str:
    """The spec with its generated appendix brought up to date."""
    start, end = spec_text.index(APPENDIX_START), spec_text.index(APPENDIX_END) + len(APPENDIX_END)
    return spec_text[:start] + spec_appendix(spec_text, pool) + spec_text[end:]

