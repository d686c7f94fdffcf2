"""Known counterexamples of the generated properties (fixtures/corpus/generated.toml).

A counterexample that once showed a server deviating is kept here, named by the GEN case it belongs to, and
every run replays it before any generated example (hypothesis' explicit examples). So a known deviation is
found again whatever the budget (--fuzz-examples 1) and the seed, and a verdict recorded in an expectation file
does not depend on how far exploration happens to get. The corpus is part of the suite, not of a target: every
target (certification runs included) meets every known counterexample.

A failure whose example is not in the corpus is new: the run reports the entry to add (observations
``corpus_entry`` and reports/new-counterexamples.toml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from conformance.datafile import load_toml
from conformance.errors import SuiteUsageError
from conformance.behaviour.generate import GenRequest
from conformance.paths import fixtures_dir

_ENTRY_KEYS = {"case", "seen_on", "note", "rules", "requests"}
_REQUEST_FIELDS = {"kind": str, "method": str, "origin": str, "request_method": str, "request_headers": str,
                   "resource": str, "signed": bool}
_RULE_KEYS = {"ID", "AllowedOrigins", "AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds"}
# Properties whose examples are a configuration alone (the others: a configuration and requests aimed at it).
CONFIG_ONLY = {"accept", "roundtrip"}


@dataclass(frozen=True)
class Counterexample:
    """One kept example: the configuration, the requests (none for configuration properties), where it was seen."""

    case: str
    rules: list[dict]
    requests: tuple[GenRequest, ...]
    seen_on: str
    note: str = ""

    def value(self, config_only: bool) -> Any:
        """The example in the form the property's strategy draws (what hypothesis passes to the test)."""
        return self.rules if config_only else (self.rules, list(self.requests))


def corpus_path() -> Path:
    """The shipped corpus file."""
    return fixtures_dir() / "corpus" / "generated.toml"


def _request(where: str, raw: Any) -> GenRequest:
    if not isinstance(raw, dict):
        raise SuiteUsageError(f"{where}: each request must be a table")
    unknown = set(raw) - set(_REQUEST_FIELDS)
    if unknown:
        raise SuiteUsageError(f"{where}: unknown request key(s) {', '.join(sorted(unknown))} "
                              f"(allowed: {', '.join(sorted(_REQUEST_FIELDS))})")
    for key, kind in _REQUEST_FIELDS.items():
        if key in raw and not isinstance(raw[key], kind):
            raise SuiteUsageError(f"{where}: request key '{key}' must be a {kind.__name__}")
    if raw.get("kind") not in ("preflight", "actual") or "method" not in raw:
        raise SuiteUsageError(f"{where}: a request needs kind (preflight or actual) and method")
    if raw.get("resource", "object") not in ("object", "bucket"):
        raise SuiteUsageError(f"{where}: request resource must be object or bucket")
    return GenRequest(**raw)


def _rules(where: str, raw: Any) -> list[dict]:
    if not isinstance(raw, list) or not raw or not all(isinstance(r, dict) for r in raw):
        raise SuiteUsageError(f"{where}: 'rules' must be a non-empty list of rules (tables)")
    for rule in raw:
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            raise SuiteUsageError(f"{where}: unknown rule key(s) {', '.join(sorted(unknown))} "
                                  f"(allowed: {', '.join(sorted(_RULE_KEYS))})")
    return raw


def load_corpus(path: Path, known_cases: Mapping[str, str]) -> dict[str, list[Counterexample]]:
    """Read and validate a corpus; known_cases maps each GEN case ID to its property. By case ID."""
    if not path.exists():
        return {}
    data = load_toml(path)
    if set(data) - {"example"} or not isinstance(data.get("example", []), list):
        raise SuiteUsageError(f"{path}: only [[example]] entries are allowed")
    out: dict[str, list[Counterexample]] = {}
    for n, raw in enumerate(data.get("example", []), 1):
        where = f"{path}: example #{n} ({raw.get('case', 'no case') if isinstance(raw, dict) else '?'})"
        if not isinstance(raw, dict):
            raise SuiteUsageError(f"{where}: must be a table ([[example]])")
        unknown = set(raw) - _ENTRY_KEYS
        if unknown:
            raise SuiteUsageError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                                  f"(allowed: {', '.join(sorted(_ENTRY_KEYS))})")
        case = raw.get("case")
        if case not in known_cases:
            raise SuiteUsageError(f"{where}: 'case' must name a generated case (GEN-...), not {case!r}")
        if not isinstance(raw.get("seen_on"), str) or not raw["seen_on"].strip():
            raise SuiteUsageError(f"{where}: 'seen_on' is required: the target the example was found on")
        if not isinstance(raw.get("note", ""), str):
            raise SuiteUsageError(f"{where}: 'note' must be a string")
        config_only = known_cases[case] in CONFIG_ONLY
        requests = raw.get("requests", [])
        if config_only and requests:
            raise SuiteUsageError(f"{where}: {case} checks configurations only: no 'requests'")
        if not config_only and (not isinstance(requests, list) or not requests):
            raise SuiteUsageError(f"{where}: {case} needs 'requests' (a non-empty list)")
        out.setdefault(case, []).append(Counterexample(
            case, _rules(where, raw.get("rules")), tuple(_request(where, r) for r in requests),
            raw["seen_on"].strip(), raw.get("note", "")))
    return out


@lru_cache(maxsize=1)
def shipped() -> dict[str, list[Counterexample]]:
    """The shipped corpus, validated against the shipped GEN cases (loaded once per process)."""
    from conformance.behaviour.tables import registry

    known = {c.id: c.send.get("property", "") for c in registry().cases.values() if c.area == "GEN"}
    return load_corpus(corpus_path(), known)


def _toml(value: Any) -> str:
    """A TOML value for the corpus' shapes (strings, numbers, booleans, lists, tables), on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def request_fields(request: GenRequest) -> dict[str, Any]:
    """A request as a corpus entry writes it (fields at their default left out)."""
    defaults = GenRequest("preflight", "OPTIONS", None)
    return {k: getattr(request, k) for k in _REQUEST_FIELDS
            if k in ("kind", "method") or getattr(request, k) != getattr(defaults, k)}


def entry(case: str, rules: Sequence[Mapping], requests: Sequence[GenRequest], seen_on: str, note: str = "") -> str:
    """The [[example]] lines to add to the corpus for a new counterexample."""
    lines = ["[[example]]", f"case = {_toml(case)}", f"seen_on = {_toml(seen_on)}"]
    if note:
        lines.append(f"note = {_toml(note)}")
    lines.append(f"rules = {_toml(list(rules))}")
    if requests:
        lines.append(f"requests = {_toml([request_fields(r) for r in requests])}")
    return "\n".join(lines) + "\n"


def known(case: str, rules: Sequence[Mapping], requests: Sequence[GenRequest]) -> bool:
    """Whether this example (configuration and requests) is in the shipped corpus for the case."""
    # Kept when an entry has the same configuration and at least these requests (the same ones included).
    config = json.dumps(list(rules), sort_keys=True)
    return any(json.dumps(c.rules, sort_keys=True) == config and set(requests) <= set(c.requests)
               for c in shipped().get(case, []))
