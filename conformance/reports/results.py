"""results.json: the single record of a run that every report is made from."""

from __future__ import annotations

import json
import subprocess
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.behaviour.tables import AREAS, Case
from conformance.behaviour.checks import Check, Verdict
from conformance.errors import SuiteUsageError
from conformance.behaviour.outcomes import OUTCOMES
from conformance.target.expectations import Expectation
from conformance.paths import PACKAGE_DIR
from conformance.target.redact import Redactor

SCHEMA = "s3cors-results/1"


def build_record(case: Case, verdict: Verdict, check: Check | None, exchanges: list[dict], *, nodeid: str,
                 duration: float, expectation: Expectation | None, worker: str) -> dict[str, Any]:
    """One case's record: what was required, what happened, and the evidence."""
    return {
        **case.public(),
        **evidence_of(case.source),
        "outcome": verdict.outcome,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "server_error": verdict.server_error,
        "checks": [r.public() for r in check.results] if check else [],
        "observations": check.observations if check else {},
        "expectation": expectation.public() if expectation else None,
        "nodeid": nodeid,
        "worker": worker,
        "duration_s": round(duration, 4),
        "exchanges": list(exchanges),
    }


def evidence_of(source: str) -> dict[str, Any]:
    """What backs a case's source: recorded (an AWS exchange, with the IDs of the vectors behind it), documented
    (AWS documentation only) or secondary (fixtures/aws-vectors; docs/spec.md's appendix)."""
    from conformance.behaviour import vector_backing

    try:
        return {"backing": vector_backing.backing(source), "recordings": [v.id for v in vector_backing.backing_vectors(source)]}
    except SuiteUsageError:  # a vector file that does not load: say so, the verdict stands on its own
        return {"backing": "unknown", "recordings": []}


def git_revision() -> str | None:
    """The checkout's commit, when the suite runs from a git checkout."""
    try:
        out = subprocess.run(["git", "-C", str(PACKAGE_DIR.parent), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def now_iso() -> str:
    """UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def summarize(records: list[dict]) -> dict[str, Any]:
    """Counts by outcome, and by area and outcome."""
    by_area: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        by_area[r["area"]][r["outcome"]] += 1
    return {
        "cases": len(records),
        "by_outcome": {o: sum(1 for r in records if r["outcome"] == o) for o in OUTCOMES},
        "by_area": {a: {o: by_area[a][o] for o in OUTCOMES} for a in AREAS if a in by_area},
    }


def write_results(path: Path, meta: dict[str, Any], records: list[dict], redactor: Redactor) -> dict[str, Any]:
    """Write results.json (cases in ID order), with a last pass removing any secret value; return the document
    as written, which every other report is made from."""
    ordered = sorted(records, key=lambda r: r["id"])
    document = {"schema": SCHEMA, **meta, "summary": summarize(ordered), "cases": ordered}
    text = json.dumps(document, indent=1, ensure_ascii=False, default=repr)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    written = redactor.text(text)
    tmp.write_text(written + "\n", encoding="utf-8")
    tmp.replace(path)
    return json.loads(written)


def run_meta(*, target: dict, options: dict, started: str, finished: str, duration: float, requests: int,
             run_id: str, interrupted: bool) -> dict[str, Any]:
    """Run metadata for results.json."""
    return {
        "suite": {"name": "s3-cors-conformance", "version": __version__, "git_revision": git_revision()},
        "run_id": run_id, "target": target, "options": options, "started": started, "finished": finished,
        "duration_s": round(duration, 3), "http_requests": requests, "interrupted": interrupted,
    }
