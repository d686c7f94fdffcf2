"""Expectation files: the shipped ones load against the registry; every bad entry names the file and the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.behaviour.tables import registry
from conformance.errors import SuiteUsageError
from conformance.target.expectations import EXPECTABLE, Expectation, expectations_path, load_expectations
from conformance.paths import fixtures_dir

KNOWN = {"CFG-GET-001", "VAL-LIM-001"}
SHIPPED = sorted(p.stem for p in (fixtures_dir() / "expectations").glob("*.toml"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in SHIPPED])
def test_shipped_file_loads_and_fits_the_case_levels(name):
    reg = registry()
    loaded = load_expectations(expectations_path(name), set(reg.cases))
    assert loaded
    for case_id, exp in loaded.items():
        level = reg.get(case_id).level
        assert exp.case_id == case_id and exp.outcome in EXPECTABLE and exp.reason
        # A SHOULD or INFO case never gives "fail", an INFO case never "non-strict": such an entry never matches.
        assert not (exp.outcome == "fail" and level != "MUST"), case_id
        assert not (exp.outcome == "non-strict" and level == "INFO"), case_id


def test_expectations_path_forms(tmp_path):
    assert expectations_path("moto") == fixtures_dir() / "expectations" / "moto.toml"
    assert expectations_path("mine.toml") == Path("mine.toml")
    assert expectations_path(str(tmp_path / "x")) == tmp_path / "x"


def test_a_valid_file(tmp_path):
    path = write(tmp_path, '[CFG-GET-001]\noutcome = "fail"\nreason = "  answers 200  "\n'
                           'bug = "https://example.com/issues/1"\n'
                           '[VAL-LIM-001]\noutcome = "non-strict"\nreason = "r"\n')
    loaded = load_expectations(path, KNOWN)
    assert loaded["CFG-GET-001"] == Expectation("CFG-GET-001", "fail", "answers 200", "https://example.com/issues/1")
    assert loaded["VAL-LIM-001"].public() == {"outcome": "non-strict", "reason": "r", "bug": None}
    crash = load_expectations(write(tmp_path, '[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nstatus = 500\n'
                                              'code = "InternalError"\n'), KNOWN)["CFG-GET-001"]
    assert (crash.status, crash.code, crash.describe()) == (500, "InternalError", "fail with 500 InternalError")
    assert crash.public() == {"outcome": "fail", "reason": "r", "bug": None, "status": 500, "code": "InternalError"}
    assert load_expectations(write(tmp_path, "# nothing recorded\n"), KNOWN) == {}


ERRORS = [
    pytest.param('[CFG-GET-999]\noutcome = "fail"\nreason = "r"\n', r"\[CFG-GET-999\]: unknown case ID 'CFG-GET-999'",
                 id="unknown-case-id"),
    pytest.param('CFG-GET-001 = "fail"\n', r"\[CFG-GET-001\]: must be a table", id="not-a-table"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nreasn = "typo"\n',
                 r"\[CFG-GET-001\]: unknown key 'reasn'", id="unknown-key"),
    pytest.param('[CFG-GET-001]\noutcome = "pass"\nreason = "r"\n',
                 r"\[CFG-GET-001\]: 'outcome' must be one of fail, non-strict, not 'pass'", id="outcome-pass"),
    pytest.param('[CFG-GET-001]\noutcome = "error"\nreason = "r"\n',
                 r'\[CFG-GET-001\]: outcome = "error" can no longer be expected: an error is no answer .* write '
                 r'outcome = "fail" with the status and code it answers, e.g. status = 500 and code = "InternalError"',
                 id="outcome-error-is-refused-with-what-to-write"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nstatus = 404\n',
                 r"\[CFG-GET-001\]: 'status' is the 5xx status a verdict rests on \(500-599\), not 404", id="status-4xx"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nstatus = "500"\n',
                 r"\[CFG-GET-001\]: 'status' is the 5xx status", id="status-string"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\ncode = "InternalError"\n',
                 r"\[CFG-GET-001\]: 'code' is the S3 error code .* \(status is missing\)", id="code-without-status"),
    pytest.param('[CFG-GET-001]\noutcome = "unsupported"\nreason = "r"\n',
                 r"\[CFG-GET-001\]: 'outcome' must be one of .*'unsupported'", id="outcome-unsupported"),
    pytest.param('[CFG-GET-001]\nreason = "r"\n', r"\[CFG-GET-001\]: 'outcome' must be one of .*None",
                 id="outcome-missing"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\n', r"\[CFG-GET-001\]: 'reason' is required", id="reason-missing"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "   "\n', r"\[CFG-GET-001\]: 'reason' is required",
                 id="reason-blank"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = 5\n', r"\[CFG-GET-001\]: 'reason' is required",
                 id="reason-int"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nbug = "#12"\n',
                 r"\[CFG-GET-001\]: 'bug' must be an http\(s\) link", id="bug-not-a-link"),
    pytest.param('[CFG-GET-001]\noutcome = "fail"\nreason = "r"\nbug = 12\n',
                 r"\[CFG-GET-001\]: 'bug' must be an http\(s\) link", id="bug-int"),
    pytest.param('[CFG-GET-001\noutcome = "fail"\n', r"not valid TOML", id="malformed-toml"),
]


@pytest.mark.parametrize(("text", "field"), ERRORS)
def test_errors_name_file_and_field(tmp_path, text, field):
    path = write(tmp_path, text)
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: {field}"):
        load_expectations(path, KNOWN)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: no such expectation file"):
        load_expectations(path, KNOWN)
