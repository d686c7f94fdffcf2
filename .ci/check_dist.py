"""Check the built distributions (sdist and wheel) before anyone installs them: python .ci/check_dist.py DIST_DIR.

What `twine check` checks, without twine's dependencies: the core metadata of both files parses and is valid
(packaging.metadata, the validation PyPI itself uses) and the long description is there with its content type.
Beyond that, what this suite needs in a distribution: every runtime dependency declared (hypothesis too: the
generated cases are part of the suite), the pytest11 entry point, and the data a run reads (case tables,
profiles, expectation files, browser pages). Exit 0 when both are fine, 1 with one line per problem."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

from packaging.metadata import InvalidMetadata, Metadata
from packaging.requirements import Requirement

NAME = "s3-cors-conformance"
RUNTIME = {"pytest", "boto3", "botocore", "requests", "urllib3", "pytest-xdist", "allure-pytest", "hypothesis", "moto"}
WHEEL_FILES = ["conformance/run/plugin.py", "conformance/cases/test_generated.py", "conformance/fixtures/targets/moto.toml",
               "conformance/fixtures/expectations/moto.toml", "conformance/fixtures/cases/generated.toml",
               "conformance/browser/pages/index.html"]
SDIST_FILES = ["pyproject.toml", "README.md", "conformance/run/plugin.py", "fixtures/targets/moto.toml"]


def metadata_problems(text: str, where: str) -> list[str]:
    """Problems of one METADATA / PKG-INFO document."""
    try:
        meta = Metadata.from_email(text, validate=True)
    except InvalidMetadata as exc:
        return [f"{where}: invalid metadata: {exc}"]
    except ExceptionGroup as group:  # every invalid field at once
        return [f"{where}: invalid metadata: {exc}" for exc in group.exceptions]
    problems = []
    if meta.name != NAME:
        problems.append(f"{where}: name {meta.name!r}, expected {NAME!r}")
    if not (meta.description or "").strip():
        problems.append(f"{where}: no long description (README.md)")
    if meta.description_content_type != "text/markdown":
        problems.append(f"{where}: description content type {meta.description_content_type!r}, not text/markdown")
    declared = {Requirement(str(r)).name.lower() for r in meta.requires_dist or [] if not r.marker}
    for name in sorted(RUNTIME - declared):
        problems.append(f"{where}: {name} is not a runtime dependency (Requires-Dist)")
    return problems


def check_wheel(path: Path) -> list[str]:
    """Problems of the wheel."""
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        info = next((n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), None)
        if info is None:
            return [f"{path.name}: no .dist-info/METADATA"]
        problems = metadata_problems(wheel.read(f"{info}/METADATA").decode(), path.name)
        entry_points = wheel.read(f"{info}/entry_points.txt").decode() if f"{info}/entry_points.txt" in names else ""
    if "[pytest11]" not in entry_points or "conformance.run.plugin" not in entry_points:
        problems.append(f"{path.name}: no pytest11 entry point for conformance.run.plugin")
    problems += [f"{path.name}: {name} missing" for name in WHEEL_FILES if name not in names]
    return problems


def check_sdist(path: Path) -> list[str]:
    """Problems of the sdist."""
    with tarfile.open(path) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
        top = sdist.getmembers()[0].name.split("/")[0]
        if "PKG-INFO" not in members:
            return [f"{path.name}: no PKG-INFO"]
        problems = metadata_problems(sdist.extractfile(f"{top}/PKG-INFO").read().decode(), path.name)
    return problems + [f"{path.name}: {name} missing" for name in SDIST_FILES if name not in members]


def main(argv: list[str]) -> int:
    """Check the one wheel and the one sdist in the directory given."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python .ci/check_dist.py DIST_DIR", file=sys.stderr)
        return 2
    dist = Path(argv[0])
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"{dist}: expected one wheel and one sdist, found {[p.name for p in wheels + sdists]}", file=sys.stderr)
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{wheels[0].name}, {sdists[0].name}: metadata valid, dependencies, entry point and data present")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
