"""python -m conformance: one argparse interface. --help on each command exits 0, an unknown command is named
with the usage (exit 2), and bad input is one line and exit 2 for every command, distinct from each command's
own "worse" status (1)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conformance.__main__ import COMMANDS, main


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_of_each_command(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m conformance {name}"), out
    assert "Exit status" in out, f"{name} --help does not say its exit statuses"


def test_top_level_help_lists_every_command():
    done = _cli("--help")
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert name in done.stdout


def test_unknown_command():
    done = _cli("nope")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "python -m conformance: unknown command 'nope'"
    assert "usage: python -m conformance" in done.stderr


def test_no_command_is_usage():
    done = _cli()
    assert done.returncode == 2 and "usage: python -m conformance" in done.stderr


@pytest.mark.parametrize("args", [
    ["matrix", "missing.json"], ["diff", "missing.json", "missing.json"], ["verify", "missing-dir"],
    ["matrix"], ["diff", "one.json"], ["verify"], ["cleanup", "--older-than", "x"],
])
def test_bad_input_is_one_line_and_exit_2(args, tmp_path):
    done = _cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"python -m conformance {args[0]}: "), done.stderr
    assert "Traceback" not in done.stderr


def test_a_directory_without_manifest_is_bad_input_not_a_broken_bundle(tmp_path, capsys):
    assert main(["verify", str(tmp_path)]) == 2
    assert "not a certification bundle" in capsys.readouterr().err
