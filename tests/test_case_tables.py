"""Case tables: the shipped ones are well-formed; a bad table names the file and the field."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from conformance.behaviour.tables import AREAS, LEVELS, cases, load_registry, registry
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir

TABLES = sorted((fixtures_dir() / "cases").glob("*.toml"))
ID = re.compile(r"(?P<area>[A-Z]{3})-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{3}")
# A source cites a section of the behaviour file ("§") or one of its source keys (AWS-PUT, LS-SNAP, VGW-T...).
SOURCE_KEY = re.compile(r"\b[A-Z][A-Z0-9]*-[A-Z0-9]+\b")


def _rows():
    return [(path, row) for path in TABLES for row in tomllib.loads(path.read_text(encoding="utf-8"))["case"]]


def test_shipped_tables_load():
    reg = registry()
    assert TABLES and reg.cases
    assert {c.table for c in reg.cases.values()} == {p.name for p in TABLES}
    assert set(reg.cases) | reg.retired == {row["id"] for _, row in _rows()}


def test_shipped_ids_are_unique_across_tables_including_retired():
    counts = Counter(row["id"] for _, row in _rows())
    assert [case_id for case_id, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in registry().cases.values()])
def test_shipped_case_is_well_formed(case):
    match = ID.fullmatch(case.id)
    assert match and match.group("area") == case.area and case.area in AREAS
    assert case.level in LEVELS
    assert case.title and case.title == case.title.strip()
    assert case.source.strip()
    assert "§" in case.source or SOURCE_KEY.search(case.source), case.source
    assert case.public() == {"id": case.id, "area": case.area, "level": case.level, "title": case.title,
                             "source": case.source}


def test_registry_get_and_select():
    reg = registry()
    assert reg.get("CFG-GET-001").id == "CFG-GET-001"
    with pytest.raises(SuiteUsageError, match=r"unknown case ID 'CFG-GET-999'"):
        reg.get("CFG-GET-999")
    selected = reg.select(["CFG-RT-*"])
    assert selected and all(c.id.startswith("CFG-RT-") for c in selected)
    assert [c.id for c in selected] == [c for c in reg.cases if c.startswith("CFG-RT-")]  # table order
    with pytest.raises(SuiteUsageError, match=r"no case matches NOPE-\*"):
        cases("NOPE-*")


# ---- bad tables -------------------------------------------------------------------------------------------

CASE = '[[case]]\nid = "CFG-X-001"\nlevel = "MUST"\ntitle = "t"\nsource = "D: AWS-PUT (§2)"\n'
HEAD = 'area = "CFG"\ntitle = "Configuration API"\n'


def without(key: str) -> str:
    return "\n".join(line for line in CASE.splitlines() if not line.startswith(key + " ")) + "\n"


BAD_TABLES = [
    pytest.param('area = "CFG\n', r"not valid TOML", id="malformed-toml"),
    pytest.param(HEAD + 'areas = "CFG"\n' + CASE, r"unknown key 'areas'", id="unknown-table-key"),
    pytest.param(HEAD + CASE + 'lvl = "MUST"\n', r"case #1 \(CFG-X-001\): unknown key 'lvl'", id="unknown-case-key"),
    pytest.param(HEAD + without("id"), r"case #1 \(no id\): required field 'id' is missing", id="missing-id"),
    pytest.param(HEAD + without("level"), r"case #1 \(CFG-X-001\): required field 'level'", id="missing-level"),
    pytest.param(HEAD + without("title"), r"case #1 \(CFG-X-001\): required field 'title'", id="missing-title"),
    pytest.param(HEAD + without("source"), r"case #1 \(CFG-X-001\): required field 'source'", id="missing-source"),
    pytest.param(HEAD + without("source") + 'source = "  "\n', r"case #1 \(CFG-X-001\): required field 'source' is missing or empty",
                 id="blank-source"),
    pytest.param(HEAD + without("level") + 'level = "MAY"\n',
                 r"case #1 \(CFG-X-001\): level must be MUST, SHOULD or INFO, not 'MAY'", id="bad-level"),
    pytest.param(HEAD + without("level") + 'level = "must"\n', r"case #1 \(CFG-X-001\): level must be .*not 'must'", id="lowercase-level"),
    pytest.param(HEAD + CASE.replace("CFG-X-001", "VAL-X-001"),
                 r"case #1 \(VAL-X-001\): ID 'VAL-X-001' must look like CFG-TOPIC-NNN", id="id-of-another-area"),
    pytest.param(HEAD + CASE.replace("CFG-X-001", "CFG-X-1"), r"case #1 \(CFG-X-1\): ID 'CFG-X-1' must look like", id="id-short-number"),
    pytest.param(HEAD + CASE.replace("CFG-X-001", "cfg-x-001"), r"case #1 \(cfg-x-001\): ID 'cfg-x-001' must look like", id="id-lowercase"),
    pytest.param(HEAD + CASE + CASE.replace("CFG-X-001", "CFG-Y-001") + 'send = "rules"\n',
                 r"case #2 \(CFG-Y-001\): 'send' must be a table", id="send-not-table"),
    pytest.param('area = "XYZ"\n' + CASE, r"'area' must be one of CFG, .*not 'XYZ'", id="bad-area"),
    pytest.param(CASE, r"'area' must be one of .*not None", id="missing-area"),
    pytest.param(HEAD, r"no \[\[case\]\] entries", id="no-cases"),
]


@pytest.mark.parametrize(("text", "field"), BAD_TABLES)
def test_bad_table_names_file_and_field(tmp_path, text, field):
    path = tmp_path / "table.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: {field}"):
        load_registry(tmp_path)


def test_duplicate_id_across_two_files(tmp_path):
    (tmp_path / "a.toml").write_text(HEAD + CASE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(HEAD + CASE, encoding="utf-8")
    second = re.escape(str(tmp_path / "b.toml"))
    with pytest.raises(SuiteUsageError, match=f"^{second}: case ID CFG-X-001 is also defined in a.toml"):
        load_registry(tmp_path)


def test_duplicate_id_in_one_file(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(HEAD + CASE + CASE, encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: case ID CFG-X-001 is also defined"):
        load_registry(tmp_path)


def test_directory_without_tables(tmp_path):
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(tmp_path))}: no case tables"):
        load_registry(tmp_path)


def test_retired_case_is_reserved_not_run(tmp_path):
    retired = CASE.replace("CFG-X-001", "CFG-X-002") + "retired = true\n"
    (tmp_path / "a.toml").write_text(HEAD + CASE + retired, encoding="utf-8")
    reg = load_registry(tmp_path)
    assert list(reg.cases) == ["CFG-X-001"] and reg.retired == {"CFG-X-002"}


def test_retired_id_cannot_be_reused(tmp_path):
    (tmp_path / "a.toml").write_text(HEAD + CASE + "retired = true\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text(HEAD + CASE, encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=re.escape(str(tmp_path / "b.toml")) + ".*CFG-X-001"):
        load_registry(tmp_path)


def test_id_with_trailing_newline_is_refused(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(HEAD + CASE.replace('"CFG-X-001"', '"CFG-X-001\\n"'), encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=f"(?s)^{re.escape(str(path))}: .*ID 'CFG-X-001\\\\n' must look like"):
        load_registry(tmp_path)


def test_case_entries_that_are_not_tables(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text(HEAD + "case = [1]\n", encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: .*case"):
        load_registry(tmp_path)


# ---- the schema of setup, send, expect and focus (conformance/behaviour/schema.py) ------------------------------

PRE_HEAD = 'area = "PRE"\ntitle = "Preflight"\n[configs.c]\nrules = [{ AllowedOrigins = ["*"], AllowedMethods = ["GET"] }]\n'
PRE_CASE = ('[[case]]\nid = "PRE-X-001"\nlevel = "MUST"\ntitle = "t"\nsource = "D: AWS-PUT (§2)"\n'
            'setup.config = "c"\n')
HDR_HEAD = PRE_HEAD.replace('"PRE"', '"HDR"')
HDR_CASE = PRE_CASE.replace("PRE-X-001", "HDR-X-001")

SCHEMA_ERRORS = [
    pytest.param(PRE_HEAD + PRE_CASE + 'expect = { stauts = 403 }\n',
                 r"case #1 \(PRE-X-001\): expect\.stauts: unknown key for area PRE \(allowed: .*status", id="expect-typo"),
    pytest.param(PRE_HEAD + PRE_CASE + 'send = { origin = "https://a.example", methd = "GET" }\n',
                 r"case #1 \(PRE-X-001\): send\.methd: unknown key for area PRE", id="send-typo"),
    pytest.param(PRE_HEAD + PRE_CASE + 'setup.bucket = "absent"\n',
                 r"case #1 \(PRE-X-001\): setup\.bucket: must be one of 'missing', not 'absent'", id="setup-value"),
    pytest.param(PRE_HEAD + PRE_CASE + 'expect = { status = "403" }\n',
                 r"case #1 \(PRE-X-001\): expect\.status: must be a whole number, not '403'", id="wrong-type"),
    pytest.param(PRE_HEAD + PRE_CASE + 'expect = { status = true }\n',
                 r"case #1 \(PRE-X-001\): expect\.status: must be a whole number, not True", id="bool-is-no-number"),
    pytest.param(PRE_HEAD + PRE_CASE + 'send = { extra_headers = { Referer = 5 } }\n',
                 r"case #1 \(PRE-X-001\): send\.extra_headers\.Referer: must be text, not 5", id="nested-type"),
    pytest.param(PRE_HEAD + PRE_CASE + 'focus = ["origin"]\n',
                 r"case #1 \(PRE-X-001\): focus: area PRE reads no focus", id="focus-where-none-is-read"),
    pytest.param(HDR_HEAD + HDR_CASE + 'focus = ["vray"]\n',
                 r"case #1 \(HDR-X-001\): focus: unknown aspect 'vray' for area HDR \(known: .*vary", id="focus-typo"),
    pytest.param(HDR_HEAD + HDR_CASE + 'focus = ["no_acah"]\n',
                 r"case #1 \(HDR-X-001\): focus: unknown aspect 'no_acah' for area HDR", id="aspect-of-another-area"),
    pytest.param(HDR_HEAD + HDR_CASE + 'focus = "vary"\n',
                 r"case #1 \(HDR-X-001\): focus: must be a non-empty list of aspects", id="focus-not-a-list"),
    pytest.param(HDR_HEAD + HDR_CASE + 'send = { focus = ["vary"] }\n',
                 r"case #1 \(HDR-X-001\): send\.focus: unknown key for area HDR \(focus is a case key", id="focus-in-send"),
    pytest.param(HDR_HEAD + HDR_CASE, r"case #1 \(HDR-X-001\): focus: required in area HDR", id="focus-required"),
    pytest.param('area = "VAL"\ntitle = "v"\n' + CASE.replace("CFG-X-001", "VAL-X-001") +
                 'send.generate = { rules = 101, bites = 70000 }\nexpect = { accepted = false }\n',
                 r"case #1 \(VAL-X-001\): send\.generate\.bites: unknown key \(allowed: bytes, id_length, rules\)",
                 id="nested-table-typo"),
    pytest.param('area = "VAL"\ntitle = "v"\n' + CASE.replace("CFG-X-001", "VAL-X-001") + 'send.xml = "<x/>"\n',
                 r"case #1 \(VAL-X-001\): expect\.accepted: required in area VAL", id="required-key"),
    pytest.param(HEAD + CASE + 'expect = { origin = "https://a.example" }\n',
                 r"case #1 \(CFG-X-001\): expect\.origin: unknown key for area CFG", id="a-request-parameter-is-no-expectation"),
]


@pytest.mark.parametrize(("text", "field"), SCHEMA_ERRORS)
def test_schema_names_table_case_and_key(tmp_path, text, field):
    path = tmp_path / "table.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteUsageError, match=f"^{re.escape(str(path))}: {field}"):
        load_registry(tmp_path)


def test_every_shipped_focus_is_an_aspect_cors_checks():
    """The schema's aspects are the ones conformance/behaviour/cors.py compares (its docstrings name each)."""
    import inspect

    from conformance.behaviour import cors
    from conformance.behaviour.schema import FOCUS_ASPECTS, SCHEMAS

    source = inspect.getsource(cors)
    for aspect in FOCUS_ASPECTS:
        assert f'"{aspect}" in focus' in source, aspect
    for case in registry().cases.values():
        assert set(case.focus) <= set(SCHEMAS[case.area].focus), case.id


def _suite_copy(tmp_path: Path) -> Path:
    """The package with its fixtures in the installed layout (conformance/fixtures), in tmp_path/pkg."""
    import shutil

    import conformance

    pkg = tmp_path / "pkg" / "conformance"
    shutil.copytree(Path(conformance.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__", "fixtures"))
    shutil.copytree(fixtures_dir(), pkg / "fixtures")
    return pkg.parent


@pytest.mark.parametrize(("table", "case_id", "old", "new", "says"), [
    pytest.param("preflight.toml", "PRE-METH-002", 'expect = { status = 403, rule = 0, acao = "", code = "AccessForbidden" }',
                 'expect = { stauts = 403, rule = 0, acao = "", code = "AccessForbidden" }', "expect.stauts: unknown key",
                 id="stauts"),
    pytest.param("preflight_headers.toml", "HDR-VARY-001", 'focus = ["vary"]\nexpect = { status = 200, vary = "Origin, ',
                 'focus = ["vray"]\nexpect = { status = 200, vary = "Origin, ', "focus: unknown aspect 'vray'", id="vray"),
])
def test_the_typos_of_issue_12_stop_the_run_with_exit_4(tmp_path, table, case_id, old, new, says):
    """Both typos used to pass every table test (and 'vray' made HDR-VARY-001 pass, checking only 2xx)."""
    import os
    import subprocess
    import sys

    root = _suite_copy(tmp_path)
    path = root / "conformance" / "fixtures" / "cases" / table
    text = path.read_text(encoding="utf-8")
    start = text.index(f'id = "{case_id}"')
    assert text.index(old, start) < text.find("[[case]]", start)  # the edit lands in that case
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    env["PYTHONPATH"] = str(root)
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "conformance", "-p", "no:cacheprovider",
                           f"--reports-dir={tmp_path / 'r'}", f"--case={case_id}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 4, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, out[-3000:]
    assert str(path) in errors[0] and f"({case_id})" in errors[0] and says in errors[0], errors[0]
    assert "Traceback" not in out
