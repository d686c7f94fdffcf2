"""Property-based tests of the three input loaders (target profiles, expectation files, case tables): random
bytes and random TOML documents, shaped like the real files or not, either load or raise SuiteUsageError
with a message naming the file. No other exception (no traceback) ever reaches the user."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.behaviour.tables import load_registry
from conformance.errors import SuiteUsageError
from conformance.target.expectations import load_expectations
from conformance.target.profiles import load_profile

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
KNOWN_IDS = {"CFG-GET-001", "VAL-LIM-001", "PRE-METH-002"}


# ---- a TOML writer for arbitrary data (inline tables and arrays, so any nesting is one line) -------------

def _string(s: str) -> str:
    return json.dumps(s).replace("\x7f", "\\u007f")  # ASCII-escaped JSON strings are TOML basic strings


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def toml_document(data: dict) -> str:
    return "".join(f"{_string(k)} = {toml_value(v)}\n" for k, v in data.items())


_text = st.text(max_size=16)
_scalar = st.one_of(_text, st.integers(-(2 ** 63), 2 ** 63 - 1), st.booleans(), st.floats(), st.none())


def _values(extra: st.SearchStrategy) -> st.SearchStrategy:
    """Any TOML value (None stands for 'leave the key out'), with extra likely values mixed in."""
    base = st.one_of(_scalar, extra)
    return st.recursive(base, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                        max_leaves=8)


def _shaped(keys: list[str], values: st.SearchStrategy) -> st.SearchStrategy:
    """Dictionaries with mostly the real keys (and a stray one now and then)."""
    return st.dictionaries(st.sampled_from(keys) | _text, values, max_size=len(keys) + 1).map(
        lambda d: {k: v for k, v in d.items() if v is not None})


def _strip_none(v):
    if isinstance(v, dict):
        return {k: _strip_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip_none(x) for x in v if x is not None]
    return v


# Profiles
_PROFILE_LIKELY = st.sampled_from(["x", "http://127.0.0.1:9000", "127.0.0.1:9000", "http://[::1", "embedded-moto",
                                   "server", "path", "virtual", "enforced", "ignored", "123456789012", "moto", "/",
                                   "/nonexistent/ca.pem", "a" * 300, "\u0000", 1e308, -1, 3600, 0.5])
_PROFILE_SUB = _shaped(["access_key_env", "secret_key_env", "session_token_env", "any", "from_server",
                        "expected_bucket_owner", "account_id", "name", "ready_path", "ready_timeout",
                        "bucket_cors", "presigned_urls", "secret_key"], _values(_PROFILE_LIKELY))
PROFILES = _shaped(["description", "endpoint_url", "launch", "region", "location_constraint", "addressing",
                    "verify_tls", "ca_bundle", "expectations", "propagation_timeout", "console_origins", "credentials",
                    "owner", "server", "capabilities"],
                   _values(_PROFILE_LIKELY) | _PROFILE_SUB)

# Expectation files
_EXP_LIKELY = st.sampled_from(["fail", "non-strict", "error", "pass", "why", "https://bug.example/1", "ftp://x", "",
                               500, 404, "InternalError"])
EXPECTATIONS = _shaped(sorted(KNOWN_IDS) + ["CFG-NOPE-001"],
                       _shaped(["outcome", "reason", "bug", "status", "code"], _values(_EXP_LIKELY))
                       | _values(_EXP_LIKELY))

# Case tables
_CASE_LIKELY = st.sampled_from(["PRE", "CFG", "XYZ", "PRE-METH-002", "PRE-A-001", "CFG-GET-001", "MUST", "SHOULD",
                                "INFO", "t", "cfg", "missing", "PRE-METH-002\n", "vary", 403, True])
_CONFIG = _shaped(["rules", "objects", "note"], _values(_CASE_LIKELY) | st.lists(st.dictionaries(_text, _scalar)))
_ROW = _shaped(["id", "level", "title", "source", "send", "expect", "setup", "focus", "note", "retired"],
               _values(_CASE_LIKELY) | _shaped(["config", "bucket", "origin", "status", "focus", "generate"],
                                                _values(_CASE_LIKELY)))
TABLES = _shaped(["area", "title", "case", "configs"],
                 _values(_CASE_LIKELY) | st.lists(_ROW, max_size=3) | st.dictionaries(st.sampled_from(["cfg", "x"])
                                                                                       | _text, _CONFIG, max_size=2))

RAW = st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))


# ---- the loaders, each in a fresh directory ----------------------------------------------------------------

def _load(kind: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "input.toml")
        path.write_bytes(content)
        try:
            if kind == "profile":
                load_profile(path)
            elif kind == "expectations":
                load_expectations(path, KNOWN_IDS)
            else:
                load_registry(Path(tmp))
        except SuiteUsageError as exc:
            message = str(exc)
            assert str(path) in message, message
            assert "\n" not in message.split(str(path), 1)[0], message  # the file comes first, on the first line


@pytest.mark.parametrize("kind", ["profile", "expectations", "case table"])
@SETTINGS
@given(content=RAW)
def test_random_bytes(kind, content):
    _load(kind, content)


@SETTINGS
@given(data=PROFILES)
def test_random_profiles(data):
    _load("profile", toml_document(_strip_none(data)).encode())


@SETTINGS
@given(data=EXPECTATIONS)
def test_random_expectation_files(data):
    _load("expectations", toml_document(_strip_none(data)).encode())


@SETTINGS
@given(data=TABLES)
def test_random_case_tables(data):
    _load("case table", toml_document(_strip_none(data)).encode())


def test_the_writer_makes_toml_that_reads_back():
    import tomllib

    data = {"a": [1, 2.5, "x\x7f\u00e9"], "b": {"c d": {"e": True}}, "f": float("inf")}
    assert tomllib.loads(toml_document(data)) == data


# ---- what the properties found (each raised a TypeError or OSError before) -----------------------------------

@pytest.mark.parametrize("text", [
    'area = []\ncase = [{id = "PRE-A-001", level = "MUST", title = "t", source = "s"}]\n',
    'area = "PRE"\n[configs.c]\nrules = []\n[[case]]\nid = "PRE-A-001"\nlevel = "MUST"\ntitle = "t"\nsource = "s"\n'
    'setup.config = ["c"]\n',
])
def test_unhashable_values_in_a_case_table(tmp_path, text):
    (tmp_path / "t.toml").write_text(text)
    with pytest.raises(SuiteUsageError, match=str(tmp_path / "t.toml")):
        load_registry(tmp_path)


def test_a_ca_bundle_name_too_long_is_a_usage_error(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(f'description = "x"\nendpoint_url = "http://h"\nca_bundle = "{"a" * 300}"\n')
    with pytest.raises(SuiteUsageError, match="'ca_bundle'.*no such file"):
        load_profile(path)


def test_an_unreadable_file_is_a_usage_error(tmp_path):
    path = tmp_path / "dir.toml"
    path.mkdir()  # is_file() is False: "no such"; a file we cannot read says so
    with pytest.raises(SuiteUsageError, match="no such"):
        load_expectations(path, KNOWN_IDS)
    long = tmp_path / ("e" * 300 + ".toml")
    with pytest.raises(SuiteUsageError, match="no such expectation file"):
        load_expectations(long, KNOWN_IDS)
