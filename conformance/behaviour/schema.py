"""The schema of the case tables: per area, every key a case may give in `setup`, `send` and `expect`, its
type, and the aspects its `focus` may name. A key that no reader of that area reads, a wrong type or an unknown
aspect is bad input (exit 4), never silently dropped.

Meaning of the parts, the same in every area:
- setup:  the state the case needs before its request (a named configuration, rules, a missing bucket);
- send:   what the case sends (request headers and parameters, the configuration it puts);
- expect: what the answer must be (status, error, headers, the browser's verdict), and at which level a
          detail is checked where the table says so (*_level);
- focus:  (a case key, not part of send) which aspects of the answer conformance/behaviour/cors.py compares.

When a case module starts reading a new key, add it here: the schema is the list of what each area reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.errors import SuiteUsageError

LEVEL_NAMES = ("MUST", "SHOULD", "INFO")


@dataclass(frozen=True)
class OneOf:
    """A value out of a fixed set."""

    values: tuple

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class ListOf:
    """A list whose items all have one type."""

    item: Any

    def describe(self) -> str:
        return f"a list of {_describe(self.item)}"


@dataclass(frozen=True)
class MapOf:
    """A table of string keys to values of one type (header name -> value)."""

    value: Any

    def describe(self) -> str:
        return f"a table of {_describe(self.value)}"


# Types: str, int, bool, dict (a table, e.g. a CORS rule), OneOf, ListOf, MapOf, or a dict (a nested table with
# exactly these keys).
RULES = ListOf(dict)
HTTP = OneOf(("GET", "HEAD", "PUT", "POST", "DELETE"))

# The answer of a CORS request as the behaviour model states it (conformance/behaviour/cors.py key_expectations, checked
# against the model by tests/test_tables_vs_model.py).
MODEL_EXPECT = {"status": int, "rule": int, "acao": str, "acac": str, "acam": str, "acah": str, "aceh": str,
                "acma": str, "vary": str, "code": str, "message": str, "method_element": str,
                "resource_type": str, "cors": bool}
PREFLIGHT_SETUP = {"config": str, "bucket": OneOf(("missing",))}
PREFLIGHT_SEND = {"origin": str, "method": str, "headers": str, "resource": OneOf(("object", "bucket")),
                  "key": str, "extra_headers": MapOf(str)}

# Aspects conformance/behaviour/cors.py compares (check_preflight, check_allowed_headers, check_actual), by the kind of
# answer: a refused preflight, an allowed preflight, an actual request.
REFUSAL_ASPECTS = ("status", "error", "no_cors")
ALLOWED_ASPECTS = ("origin", "credentials", "rule", "methods", "headers", "expose", "max_age", "vary")
FOCUS_ASPECTS = REFUSAL_ASPECTS + ALLOWED_ASPECTS + ("body", "no_acah")


@dataclass(frozen=True)
class AreaSchema:
    """What the cases of one area may say."""

    setup: dict
    send: dict
    expect: dict
    focus: tuple[str, ...] = ()          # aspects `focus` may name; () = the area reads no focus
    required: tuple[str, ...] = ()       # "part.key" (or "focus") every case of the area must give


SCHEMAS: dict[str, AreaSchema] = {
    "CFG": AreaSchema(
        setup={"rules": RULES},
        send={"rules": RULES, "origin": str, "old_origin": str, "new_origin": str, "method": str},
        expect={"status": int, "code": str, "message": str}),
    "VAL": AreaSchema(
        setup={"bucket": OneOf(("missing",))},
        send={"rules": RULES, "raw_rules": RULES, "xml": str,
              "generate": {"rules": int, "id_length": int, "bytes": int},
              "content_md5": OneOf(("valid", "none", "malformed", "wrong")), "checksum": OneOf(("crc32",))},
        expect={"accepted": bool, "roundtrip": bool, "rules": RULES, "status": int, "code": str, "message": str,
                "status_level": OneOf(LEVEL_NAMES), "code_level": OneOf(LEVEL_NAMES),
                "message_level": OneOf(LEVEL_NAMES)},
        required=("expect.accepted",)),
    "EBO": AreaSchema(
        setup={},
        send={"owner": OneOf(("own", "foreign", "malformed"))},
        expect={"status": int, "code": str, "message": str},
        required=("send.owner",)),
    "PRE": AreaSchema(setup=PREFLIGHT_SETUP,
                      # privileged: the case sends from every privileged origin (conformance/behaviour/privileged.py)
                      send={**PREFLIGHT_SEND, "privileged": bool},
                      # status_level: the level of the exact-status check where the model leaves it open (Q1)
                      expect={**MODEL_EXPECT, "status_level": OneOf(LEVEL_NAMES)}),
    "HDR": AreaSchema(setup=PREFLIGHT_SETUP, send=PREFLIGHT_SEND, expect=MODEL_EXPECT,
                      focus=("status", "body") + ALLOWED_ASPECTS, required=("focus",)),
    "ERR": AreaSchema(setup=PREFLIGHT_SETUP, send=PREFLIGHT_SEND, expect=MODEL_EXPECT, focus=REFUSAL_ASPECTS),
    "URL": AreaSchema(setup=PREFLIGHT_SETUP,
                      send={**PREFLIGHT_SEND, "addressing": OneOf(("path", "virtual")),
                            "presign": OneOf(("get_object", "put_object", "head_object")),
                            "presign_signature": OneOf(("sigv2", "sigv4"))},
                      expect=MODEL_EXPECT, focus=REFUSAL_ASPECTS),
    "ACT": AreaSchema(
        setup=PREFLIGHT_SETUP,
        send={**PREFLIGHT_SEND, "http": HTTP, "resource": OneOf(("object", "bucket", "service")), "query": str,
              "signed": bool, "signature": OneOf(("wrong",)), "pairs": ListOf(ListOf(str)), "privileged": bool,
              # a browser twin (ACT-FETCH): the request a page makes, sent raw and judged by the Fetch rules
              "browser": {"headers": MapOf(str), "credentials": bool, "read": ListOf(str)}},
        expect={**MODEL_EXPECT, "op_status": int, "op_code": str, "stored": bool, "removed": bool,
                "allowed": ListOf(bool), "browser": OneOf(("allowed", "blocked")), "preflight": bool,
                "readable": ListOf(str), "stage": OneOf(("preflight", "response"))},
        focus=ALLOWED_ASPECTS + ("no_acah",)),
    "GEN": AreaSchema(
        setup={},
        send={"property": OneOf(("accept", "roundtrip", "status", "rule", "acao", "acam", "acah", "aceh", "acma",
                                 "acac", "vary", "actual"))},
        expect={}, required=("send.property",)),
    "BRW": AreaSchema(
        setup={"config": str},
        send={"api": OneOf(("fetch", "xhr")), "http": HTTP, "headers": MapOf(str), "read": ListOf(str),
              "credentials": OneOf(("include", "same-origin", "omit")), "from": OneOf(("page", "other"))},
        # related: the header-level case whose verdict the browser's must agree with (an expectation about it)
        expect={"browser": OneOf(("allowed", "blocked")), "preflight": bool, "readable": ListOf(str),
                "stage": OneOf(("preflight", "response")), "related": str},
        required=("send.http", "expect.browser", "expect.preflight", "expect.related")),
}


def _describe(spec: Any) -> str:
    if isinstance(spec, (OneOf, ListOf, MapOf)):
        return spec.describe()
    if isinstance(spec, dict):
        return "a table with " + ", ".join(sorted(spec))
    return {str: "text", int: "a whole number", bool: "true or false", dict: "a table"}[spec]


def _problem(value: Any, spec: Any, key: str) -> str | None:
    """Why value does not fit spec (naming the key, with a path into lists and tables), or None."""
    if isinstance(spec, OneOf):
        return None if value in spec.values and type(value) is type(spec.values[0]) else \
            f"{key}: must be {spec.describe()}, not {value!r}"
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return f"{key}: must be {spec.describe()}, not {value!r}"
        return next((p for n, item in enumerate(value) if (p := _problem(item, spec.item, f"{key}[{n}]"))), None)
    if isinstance(spec, MapOf):
        if not isinstance(value, dict):
            return f"{key}: must be {spec.describe()}, not {value!r}"
        return next((p for k, v in value.items() if (p := _problem(v, spec.value, f"{key}.{k}"))), None)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{key}: must be {_describe(spec)}, not {value!r}"
        unknown = sorted(set(value) - set(spec))
        if unknown:
            return f"{key}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(spec))})"
        return next((p for k, v in value.items() if (p := _problem(v, spec[k], f"{key}.{k}"))), None)
    # bool is an int in Python: a number must not be true/false, and true/false must not be a number
    if type(value) is not spec:
        return f"{key}: must be {_describe(spec)}, not {value!r}"
    return None


def validate_case(area: str, row: dict, where: str) -> None:
    """Check a case row's setup, send, expect and focus against its area's schema; SuiteUsageError naming the
    table, the case and the key otherwise."""
    schema = SCHEMAS[area]
    for part in ("setup", "send", "expect"):
        if part not in row:
            continue
        allowed = getattr(schema, part)
        if not isinstance(row[part], dict):
            raise SuiteUsageError(f"{where}: '{part}' must be a table")
        for key, value in row[part].items():
            if key not in allowed:
                hint = " (focus is a case key: focus = [...], not part of send)" if key == "focus" else ""
                raise SuiteUsageError(f"{where}: {part}.{key}: unknown key for area {area}{hint} (allowed: "
                                      f"{', '.join(sorted(allowed)) or 'none'})")
            problem = _problem(value, allowed[key], f"{part}.{key}")
            if problem:
                raise SuiteUsageError(f"{where}: {problem}")
    if "focus" in row:
        if not schema.focus:
            raise SuiteUsageError(f"{where}: focus: area {area} reads no focus (its aspects are fixed)")
        focus = row["focus"]
        if not isinstance(focus, list) or not focus or not all(isinstance(a, str) for a in focus):
            raise SuiteUsageError(f"{where}: focus: must be a non-empty list of aspects, not {focus!r}")
        for aspect in focus:
            if aspect not in schema.focus:
                raise SuiteUsageError(f"{where}: focus: unknown aspect {aspect!r} for area {area} (known: "
                                      f"{', '.join(schema.focus)})")
    for path in schema.required:
        part, _, key = path.partition(".")
        present = part in row if not key else key in row.get(part, {})
        if not present:
            raise SuiteUsageError(f"{where}: {path}: required in area {area}")
