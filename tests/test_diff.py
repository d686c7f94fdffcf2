"""The regression diff command: grouping, exit status, Markdown and HTML output, bad input."""

from __future__ import annotations

import json

import pytest

from conformance.__main__ import main as cli
from conformance.reports.diff import compare, main


def _case(case_id, verdict, outcome=None, reason=""):
    return {"id": case_id, "area": case_id.split("-")[0], "level": "MUST", "title": f"title of {case_id} <b>",
            "verdict": verdict, "outcome": outcome or verdict, "reason": reason}


def _write(tmp_path, name, cases):
    data = {"schema": "s3cors-results/1", "started": "2026-11-27T10:00:00Z",
            "target": {"name": name, "description": f"{name} 1.0"}, "cases": cases}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


OLD = [_case("PRE-A-001", "pass"), _case("PRE-A-002", "fail"), _case("PRE-A-003", "non-strict"),
       _case("PRE-A-004", "pass"), _case("PRE-A-005", "info"), _case("PRE-A-006", "pass")]
NEW = [_case("PRE-A-001", "fail", "expected-fail", reason="[MUST] ACAO: expected '*', got None"),
       _case("PRE-A-002", "pass"), _case("PRE-A-003", "non-strict"), _case("PRE-A-004", "error"),
       _case("PRE-A-005", "info"), _case("PRE-A-007", "pass")]


def test_groups():
    groups = compare({"cases": OLD}, {"cases": NEW})
    assert [c.case_id for c in groups["worse"]] == ["PRE-A-001", "PRE-A-004"]  # pass -> fail, pass -> error
    assert [c.case_id for c in groups["better"]] == ["PRE-A-002"]
    # a removed case and an added case are changes, neither better nor worse
    assert [(c.case_id, c.old, c.new) for c in groups["changed"]] == [
        ("PRE-A-006", "pass", "-"), ("PRE-A-007", "-", "pass")]


@pytest.mark.parametrize(("old", "new"), [
    ("pass", "non-strict"), ("pass", "fail"), ("pass", "error"), ("pass", "unsupported"), ("info", "error"),
    ("non-strict", "fail"), ("non-strict", "unsupported"), ("unsupported", "fail"), ("unsupported", "error"),
    ("fail", "error"), ("non-strict", "error")])
def test_any_move_away_from_pass_is_worse_and_back_is_better(old, new):
    moved = compare({"cases": [_case("PRE-A-001", old)]}, {"cases": [_case("PRE-A-001", new)]})
    assert [c.case_id for c in moved["worse"]] == ["PRE-A-001"] and not moved["better"] and not moved["changed"]
    back = compare({"cases": [_case("PRE-A-001", new)]}, {"cases": [_case("PRE-A-001", old)]})
    assert [c.case_id for c in back["better"]] == ["PRE-A-001"] and not back["worse"] and not back["changed"]


def test_a_gate_on_diff_fails_for_every_move_away_from_pass(tmp_path):
    for new in ("non-strict", "fail", "error", "unsupported"):
        old_run = _write(tmp_path, "old", [_case("PRE-A-001", "pass")])
        assert main([old_run, _write(tmp_path, "new", [_case("PRE-A-001", new)])]) == 1, new


def test_verdicts_not_outcomes_are_compared():
    """A deviation recorded in one run's expectation file is still a deviation."""
    old = [_case("PRE-A-001", "fail", "expected-fail")]
    new = [_case("PRE-A-001", "fail", "fail")]
    assert not any(compare({"cases": old}, {"cases": new}).values())


def test_exit_status_and_files(tmp_path, capsys):
    old, new = _write(tmp_path, "old", OLD), _write(tmp_path, "new", NEW)
    md, page = tmp_path / "out" / "diff.md", tmp_path / "out" / "diff.html"
    assert cli(["diff", old, new, "-o", str(md), "--html", str(page)]) == 1
    text = md.read_text()
    assert "**2 worse, 1 better, 2 changed otherwise**" in text
    assert "| PRE-A-001 | MUST | title of PRE-A-001 <b> | pass | fail | [MUST] ACAO: expected '*', got None |" in text
    body = page.read_text()
    assert "title of PRE-A-001 &lt;b&gt;" in body and "<script" not in body
    assert "PRE-A-001: pass -> fail" in capsys.readouterr().out
    # Only better: exit 0, so CI gates on regressions only.
    assert main([new, _write(tmp_path, "newer", [dict(c, verdict="pass") for c in NEW])]) == 0


@pytest.mark.parametrize("args, says", [
    ([], "required"), (["one.json"], "required"), (["a.json", "b.json", "-o"], "expected one argument"),
    (["a.json", "b.json", "--bogus"], "unrecognized arguments: --bogus"), (["a.json", "b.json"], "a.json: cannot read it")])
def test_bad_input_is_one_line_and_exit_2(args, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m conformance diff: ") and says in err and len(err.splitlines()) == 1, err


def test_not_results(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main([str(bad), str(bad)]) == 2
    assert "not a results.json" in capsys.readouterr().err


def test_unwritable_report_is_bad_input_not_worse(tmp_path, capsys):
    old = _write(tmp_path, "old", OLD)
    (tmp_path / "file").write_text("")
    assert main([old, old, "-o", str(tmp_path / "file" / "diff.md")]) == 2
    assert "cannot write" in capsys.readouterr().err
