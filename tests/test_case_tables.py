"""Case tables: the shipped ones are well-formed; a bad table names the file and the field."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from conformance.cases import AREAS, LEVELS, cases, load_registry, registry
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
    pytest.param(HEAD + 'areas = "CFG"\n' + CASE, r"unknown key\(s\) areas", id="unknown-table-key"),
    pytest.param(HEAD + CASE + 'lvl = "MUST"\n', r"case #1 \(CFG-X-001\): unknown key\(s\) lvl", id="unknown-case-key"),
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
