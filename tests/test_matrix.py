"""The compatibility page command: rendering, --check against a committed page, bad input."""

from __future__ import annotations

import json

import pytest

from conformance.reports.matrix import main


def _run(tmp_path, name, outcome="pass", verdict="pass", started="2026-11-27T10:00:00Z"):
    data = {"schema": "s3cors-results/1", "started": started,
            "target": {"name": name, "description": f"{name} 1.0"},
            "cases": [{"id": "PRE-SEL-001", "area": "PRE", "level": "MUST", "title": "first full match",
                       "outcome": outcome, "verdict": verdict},
                      {"id": "CFG-GET-001", "area": "CFG", "level": "SHOULD", "title": "a | b",
                       "outcome": "pass", "verdict": "pass"}]}
    path = tmp_path / f"{name}-{started[:13]}.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_render_and_check(tmp_path, capsys):
    a, b = _run(tmp_path, "alpha"), _run(tmp_path, "beta", "expected-fail", "fail")
    page = tmp_path / "compat.md"
    assert main([a, b, "-o", str(page)]) == 0
    text = page.read_text()
    assert "| PRE-SEL-001 | MUST | first full match | pass | known: fail |" in text
    assert "a / b" in text  # a '|' in a title does not break the table
    # A rerun at another time with the same verdicts keeps the page current.
    a2 = _run(tmp_path, "alpha", started="2026-11-28T10:00:00Z")
    assert main([a2, b, "--check", str(page)]) == 0


def test_check_fails_when_a_verdict_changed(tmp_path, capsys):
    a, b = _run(tmp_path, "alpha"), _run(tmp_path, "beta")
    page = tmp_path / "compat.md"
    main([a, b, "-o", str(page)])
    worse = _run(tmp_path, "beta", "fail", "fail", started="2026-11-29T10:00:00Z")
    assert main([a, worse, "--check", str(page)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "regenerate it with" in err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    for args, says in (([str(bad)], "not a results.json"), ([str(bad), "--check"], "expected one argument"),
                       ([str(tmp_path / "none.json")], "cannot read it"), ([], "required")):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("python -m conformance matrix: ") and says in err and len(err.splitlines()) == 1, err


def test_check_of_a_missing_page_is_bad_input(tmp_path, capsys):
    a = _run(tmp_path, "alpha", "pass", "pass")
    assert main([a, "--check", str(tmp_path / "no-page.md")]) == 2
    assert "cannot read it" in capsys.readouterr().err
