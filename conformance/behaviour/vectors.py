"""AWS test vectors: bucket-CORS exchanges recorded against real Amazon S3 (fixtures/aws-vectors/*.toml), loaded.

Each vector holds the configuration in force, the request and the recorded answer, with its source (LocalStack
snapshot file, test, snapshot key, recording date, commit) and the spec facts it backs ("§4.1 step 5",
"§2.1 #8", "§6", "Q3"). The loader is strict: an unknown key or a wrong type stops with one message naming the
file and the vector. What the model says of each vector, and which facts they back: vector_backing.py."""

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
