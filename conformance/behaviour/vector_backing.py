"""AWS test vectors against the model and the spec: each vector's model view and recorded view, their
disagreements, and which spec facts the vectors back (recorded, documented or secondary).
tests/test_aws_vectors.py runs every vector through conformance/behaviour/model.py."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from conformance.behaviour import model
from conformance.behaviour.vectors import _CITATION, _FACT, _GRADE, HEADERS_RECORDED, Vector, vectors

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


@functools.lru_cache(maxsize=None)  # every source's backing asks it of every vector fact
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


@functools.lru_cache(maxsize=None)
def _references(source: str) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """The recordings a source names: (test file stem, snapshot keys, test names) for each mention."""
    out = []
    for m in _NAMED.finditer(source or ""):
        out.append((_NAMED_FILES[m["key"]], tuple(re.findall(r'"([A-Za-z0-9_.-]+)"', m["rest"])),
                    tuple(re.findall(r"\b(test_\w+)", m["rest"]))))
    return tuple(out)


@functools.lru_cache(maxsize=None)  # asked for every vector of every source that names a recording
def _stem(path: str) -> str:
    return Path(path).stem


def _named(vector: Vector, source: str) -> bool:
    """Whether the source names this vector's recording (its test and/or snapshot key) explicitly."""
    references = _references(source)
    if not references:
        return False
    stem = _stem(vector.source.test_file)
    for file_stem, keys, tests in references:
        if file_stem != stem:
            continue
        test_ok = not tests or vector.source.test.rsplit("::", 1)[-1] in tests
        if keys and vector.source.snapshot_key in keys and test_ok:
            return True
        if tests and not keys and test_ok:
            return True
    return False


def backing_vectors(source: str, pool: tuple[Vector, ...] | None = None) -> list[Vector]:
    """The vectors behind a case source: those it names (LS-SNAP "key", LS-TEST test_x) and those whose facts
    back a spec row it cites."""
    if pool is None:
        return list(_backing_all(source))
    cited = citations(source)
    return [v for v in pool if _named(v, source) or any(backs(f, cited) for f in v.facts)]


@functools.lru_cache(maxsize=None)
def _backing_all(source: str) -> tuple[Vector, ...]:
    """backing_vectors against every shipped vector, once per source (each record asks twice)."""
    return tuple(backing_vectors(source, vectors()))


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
