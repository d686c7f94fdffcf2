"""The installed package is the product: the wheel, installed outside the clone, runs the same cases with the
same settings from any directory, and leaves nothing there but reports/.

The wheel is built once per test session (about 20 s). Its fresh virtual environment borrows this environment's
dependencies through a .pth file, so nothing is downloaded; .ci/run installs the wheel with its dependencies into
an empty venv and runs the whole suite from an empty directory."""

from __future__ import annotations

import importlib.util
import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from suiterun import clean_env

REPO = Path(__file__).resolve().parent.parent
SETTINGS_PROBE = '''
def pytest_collection_finish(session):
    c = session.config
    print("SETTINGS", c.getini("xfail_strict"), c.pluginmanager.has_plugin("cacheprovider"),
          "error::pytest.PytestUnknownMarkWarning" in c.getini("filterwarnings"), len(session.items))
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], check=True,
                   capture_output=True, timeout=600)
    check = subprocess.run([sys.executable, str(REPO / ".ci" / "check_dist.py"), str(dist)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return next(dist.glob("*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (by pip) and this venv's dependencies visible; its python."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, timeout=300, env={**os.environ, "PIP_CONSTRAINT": ""})
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # Dependencies from here; a .pth line is only a path, so this venv's editable install of the suite is not seen.
    (target / "zz-borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def _run(python: Path, cwd: Path, *args: str, timeout: float = 600, probe: Path | None = None):
    env = clean_env(**({"PYTHONPATH": str(probe)} if probe else {}))
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _collected(python: Path, cwd: Path, probe: Path) -> tuple[str, int]:
    """The settings line of a --collect-only run (what the ini settings are, and how many items)."""
    probe.mkdir(exist_ok=True)
    (probe / "s3cors_settings_probe.py").write_text(SETTINGS_PROBE)
    done = _run(python, cwd, "-m", "pytest", "-p", "s3cors_settings_probe", "--pyargs", "conformance",
                "--collect-only", "-q", probe=probe)
    line = next((x for x in done.stdout.splitlines() if x.startswith("SETTINGS")), "")
    return line, done.returncode


def test_the_wheel_carries_the_suite_and_runs_from_an_empty_directory(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run(installed, empty, "-c", "import conformance; print(conformance.__file__)").stdout
    assert str(installed.parent.parent) in where, f"conformance imported from {where}, not the wheel"

    # Same cases and same settings as the clone (which reads pytest.ini).
    clone_line, _ = _collected(Path(sys.executable), REPO, tmp_path / "probe")
    installed_line, code = _collected(installed, empty, tmp_path / "probe")
    assert code == 0 and installed_line == clone_line, (installed_line, clone_line)
    assert installed_line.startswith("SETTINGS True False True "), installed_line

    done = _run(installed, empty, "-m", "pytest", "--pyargs", "conformance", "--case=CFG-GET-*", "--case=PRE-*",
                "--fuzz-examples=0", "-q")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((empty / "reports" / "results.json").read_text())
    assert results["cases"] and not results["interrupted"]
    assert sorted(p.name for p in empty.iterdir()) == ["reports"], "cache directories were left"

    # python -m conformance works the same installed
    cli = _run(installed, empty, "-m", "conformance", "diff", "reports/results.json", "reports/results.json")
    assert cli.returncode == 0, cli.stderr


def test_reports_dir_anywhere_in_both_forms(installed, tmp_path):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    for form in (["--reports-dir", str(elsewhere / "a")], [f"--reports-dir={elsewhere / 'b'}"]):
        (elsewhere / form[-1].rsplit("/", 1)[-1]).mkdir(exist_ok=True)  # an existing directory: the hard case
        done = _run(installed, work, "-m", "pytest", "--pyargs", "conformance", *form, "--case=CFG-GET-001",
                    "--fuzz-examples=0", "-q")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (elsewhere / "a" / "results.json").is_file() and (elsewhere / "b" / "results.json").is_file()
    assert not list(work.iterdir())


def test_the_wheel_declares_hypothesis(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = next(z.read(n).decode() for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    assert any(line.startswith("Requires-Dist: hypothesis") for line in meta.splitlines())


def test_the_metadata_check_finds_what_is_missing():
    spec = importlib.util.spec_from_file_location("check_dist", REPO / ".ci" / "check_dist.py")
    check_dist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_dist)
    meta = ("Metadata-Version: 2.4\nName: s3-cors-conformance\nVersion: 0.1.0\n"
            "Description-Content-Type: text/markdown\nRequires-Dist: pytest<10,>=9.0\n\n# readme\n")
    problems = check_dist.metadata_problems(meta, "x.whl")
    assert any("hypothesis is not a runtime dependency" in p for p in problems), problems
    assert check_dist.metadata_problems("Metadata-Version: 2.4\nName: s3-cors-conformance\n", "y.whl")  # no Version
