"""The one TOML loading helper: every problem reading a data file is one SuiteUsageError naming the file
(and the line, for a syntax error)."""

from __future__ import annotations

import pytest

from conformance.datafile import load_toml, reject_unknown_keys, wrong_type
from conformance.errors import SuiteUsageError


def test_a_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text('a = 1\nb = \n')
    with pytest.raises(SuiteUsageError) as raised:
        load_toml(path)
    assert str(raised.value) == f"{path}: not valid TOML at line 2, column 5: Invalid value"


def test_not_utf8_and_unreadable(tmp_path):
    path = tmp_path / "d.toml"
    path.write_bytes(b'a = "\xff"\n')
    with pytest.raises(SuiteUsageError, match=rf"^{path}: not valid TOML: not UTF-8 text \(byte 5\)$"):
        load_toml(path)
    with pytest.raises(SuiteUsageError, match=rf"^{tmp_path}: cannot read it \("):
        load_toml(tmp_path)  # a directory


def test_unknown_keys_named_with_what_is_allowed():
    with pytest.raises(SuiteUsageError, match=r"^f.toml: \[x\]: unknown key 'c' \(allowed: a, b\)$"):
        reject_unknown_keys("f.toml: [x]", {"a": 1, "c": 2}, {"a", "b"})
    with pytest.raises(SuiteUsageError, match=r"^f.toml: unknown keys 'c', 'd' \(allowed: a\)$"):
        reject_unknown_keys("f.toml", {"c": 1, "d": 2}, {"a"})
    reject_unknown_keys("f.toml", {"a": 1}, {"a", "b"})  # known keys: no error


def test_wrong_type_names_key_expected_shape_and_value():
    assert str(wrong_type("f.toml", "rules", "a list", "x")) == "f.toml: 'rules' must be a list, not str ('x')"
