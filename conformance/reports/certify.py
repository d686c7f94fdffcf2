"""Certification runs (--certify): every case, no expectation file, no deselection, and a bundle directory
with the product's metadata, results.json, every report format (reports/writers.py), per-case evidence and a
SHA-256 manifest that `python -m conformance verify BUNDLE` checks.

Exit status of verify: 0 every file matches the manifest; 1 the bundle is not intact (a file changed, missing
or added); 2 bad input (no such directory, or no manifest in it)."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

from conformance.errors import SuiteUsageError
from conformance.behaviour.outcomes import VERDICTS
from conformance.paths import PACKAGE_DIR
from conformance.reports import writers
from conformance.reports.evidence import case_text

MANIFEST = "MANIFEST.sha256"
PRODUCT_FIELDS = (("--vendor", "vendor"), ("--product", "product"), ("--product-version", "version"))


def refuse_filters(config: pytest.Config, *, expectations_option: str | None, case_patterns: list[str]) -> None:
    """A certification runs every case against the spec: refuse anything that leaves a case out or excuses it."""
    problems = []
    if expectations_option not in (None, "none"):
        problems.append(f"--expectations {expectations_option} (a certification records deviations, it does not "
                        "excuse them)")
    if case_patterns:
        problems.append("--case " + " ".join(case_patterns))
    if config.option.keyword:
        problems.append(f"-k {config.option.keyword!r}")
    if config.option.markexpr:
        problems.append(f"-m {config.option.markexpr!r}")
    if config.getoption("deselect", None):
        problems.append("--deselect " + " ".join(config.getoption("deselect")))
    if (getattr(config.option, "maxfail", 0) or 0) > 0:  # -x sets maxfail to 1
        problems.append("-x / --maxfail (the run must not stop early)")
    if getattr(config.option, "lf", False) or getattr(config.option, "failedfirst", False):
        problems.append("--lf / --ff")
    for arg in config.args:
        if "::" in arg or not _is_whole_suite(config, arg):
            problems.append(f"the path or node id {arg!r} (run the whole package: no path, or --pyargs conformance)")
    if problems:
        raise SuiteUsageError("--certify runs every case with no expectation file; remove: " + "; ".join(problems))


def _is_whole_suite(config: pytest.Config, arg: str) -> bool:
    if config.option.pyargs and arg == "conformance":
        return True
    path = Path(config.invocation_params.dir, arg).resolve()
    return path == PACKAGE_DIR or (path.is_dir() and path in PACKAGE_DIR.parents)


def product_metadata(values: dict[str, str | None]) -> dict[str, str]:
    """The product named on the command line; all three fields are required with --certify."""
    missing = [flag for flag, key in PRODUCT_FIELDS if not (values.get(key) or "").strip()]
    if missing:
        raise SuiteUsageError(f"--certify needs {', '.join(missing)} (the product being certified)")
    return {key: values[key].strip() for _, key in PRODUCT_FIELDS}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(bundle: Path, reports_dir: Path, document: dict, product: dict[str, str],
                 registry_ids: set[str]) -> dict:
    """Write the certification bundle from a finished run's reports (`document` is its results.json);
    returns product.json's content."""
    bundle.mkdir(parents=True, exist_ok=True)
    ran = {r["id"] for r in document["cases"]}
    summary = document["summary"]["by_outcome"]
    info = {
        "product": product,
        "target": document.get("target"), "suite": document.get("suite"), "run_id": document.get("run_id"),
        "started": document.get("started"), "finished": document.get("finished"),
        "cases": len(ran), "complete": ran == registry_ids and not document.get("interrupted"),
        "not_run": sorted(registry_ids - ran),
        "verdicts": {v: sum(1 for r in document["cases"] if r["verdict"] == v)
                     for v in VERDICTS},
        "outcomes": summary,
    }
    (bundle / "product.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    results = reports_dir / "results.json"  # the run's record as written; every format is made from it
    (bundle / results.name).write_bytes(results.read_bytes())
    writers.write_all(document, bundle)
    evidence = bundle / "evidence"
    evidence.mkdir(exist_ok=True)
    for record in document["cases"]:
        (evidence / f"{record['id']}.txt").write_text(case_text(record), encoding="utf-8")
    files = sorted(p for p in bundle.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest = "".join(f"{sha256(p)}  {p.relative_to(bundle).as_posix()}\n" for p in files)
    (bundle / MANIFEST).write_text(manifest, encoding="utf-8")
    return info


_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")


def verify(bundle: Path) -> list[str]:
    """Problems of a bundle against its manifest (empty when intact)."""
    manifest = bundle / MANIFEST
    if not manifest.is_file():
        return [f"{manifest}: no manifest (not a certification bundle?)"]
    problems, listed = [], set()
    for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        found = _LINE.match(line)
        if not found:
            problems.append(f"{MANIFEST} line {n}: not '<sha256>  <path>'")
            continue
        digest, name = found.groups()
        listed.add(name)
        path = bundle / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            problems.append(f"{name}: a path outside the bundle")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: changed (SHA-256 differs from the manifest)")
    for path in sorted(p for p in bundle.rglob("*") if p.is_file() and p.name != MANIFEST):
        if path.relative_to(bundle).as_posix() not in listed:
            problems.append(f"{path.relative_to(bundle).as_posix()}: not in the manifest (added after the run)")
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The verify command's arguments."""
    parser.add_argument("bundle", type=Path, metavar="BUNDLE_DIR", help="a bundle written by a --certify run")


def run(args: argparse.Namespace) -> int:
    """Check a bundle: 0 intact, 1 not intact, 2 not a bundle (bad input)."""
    bundle = args.bundle
    if not bundle.is_dir():
        raise SuiteUsageError(f"{bundle}: no such directory")
    if not (bundle / MANIFEST).is_file():
        raise SuiteUsageError(f"{bundle}: no {MANIFEST} (not a certification bundle)")
    problems = verify(bundle)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{bundle}: NOT intact ({len(problems)} problem(s))", file=sys.stderr)
        return 1
    count = len((bundle / MANIFEST).read_text(encoding="utf-8").splitlines())
    print(f"{bundle}: intact ({count} files match {MANIFEST})")
    return 0


def main(argv: list[str]) -> int:
    """python -m conformance verify BUNDLE: 0 when every file matches the manifest, 1 otherwise, 2 bad input."""
    from conformance.__main__ import command

    return command("verify", argv)
