"""python -m conformance power: the suite's power to detect faults, measured on the reference endpoint.

Each catalogued fault (fixtures/faults) is switched on in its own reference instance and the suite runs
against it; a case that passes on the faithful reference and fails (MUST) or turns non-strict (SHOULD) under
the fault caught it. During the faithful run the reference also asks every fault's behaviour what it would
answer to each request (on the same stored configuration) and records the buckets where some answer, or the
configuration a call would leave, differs. A case none of whose buckets saw a difference gets, request by
request, exactly the faithful answers under that fault (its requests depend only on the answers), so it
cannot catch it and is not run again. The result is docs/power.md.

Exit status: 0 every fault caught (and, with --check, the page current); 1 a fault not caught, or the page not
current; 2 bad input (an unknown fault, a catalogue that does not load)."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conformance.errors import SuiteUsageError
from conformance.paths import PACKAGE_DIR
from conformance.reference.catalogue import AREAS, Fault, load_catalogue
from conformance.reference.server import FAULT_ENV, TRACE_ENV

ROOT = PACKAGE_DIR.parent
CAUGHT = {"fail": "MUST", "non-strict": "SHOULD"}
DIALECTS = ("enforced", "ignored")


def _pytest(reports: Path, dialect: str, fuzz: int, cases: list[str] | None, env_extra: dict[str, str],
            log: Path) -> dict:
    """One suite run against the reference (one process, no xdist); its results.json."""
    cmd = [sys.executable, "-m", "pytest", "--target", "reference", "-p", "no:xdist", "-p", "no:cacheprovider",
           "-q", f"--reports-dir={reports}", f"--expected-bucket-owner={dialect}", f"--fuzz-examples={fuzz}"]
    for case in cases or []:
        cmd += ["--case", case]
    env = {**os.environ, **env_extra}
    env.pop(FAULT_ENV, None) if FAULT_ENV not in env_extra else None
    with log.open("wb") as out:
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    results = reports / "results.json"
    if not results.is_file():
        raise SystemExit(f"power: the run wrote no {results}; last lines of {log}:\n" +
                         "\n".join(log.read_text(errors="replace").splitlines()[-20:]))
    return json.loads(results.read_text(encoding="utf-8"))


def affected_by(run: dict, trace: dict[str, list[str]]) -> dict[str, set[str]]:
    """Per case: the faults whose answers differed on a bucket the case used ("" = requests naming no bucket)."""
    found: dict[str, set[str]] = {}
    for record in run["cases"]:
        faults: set[str] = set()
        for exchange in record.get("exchanges", []):
            bucket = unquote(urlsplit(exchange["url"]).path).lstrip("/").split("/", 1)[0]
            faults.update(trace.get(bucket, ()))
        # A generated case names the buckets its examples used: it may have checked answers another case asked
        # for, or answers sent ahead whose exchanges the evidence does not keep.
        observations = record.get("observations") or {}
        for named in [observations.get("bucket"), *observations.get("buckets", [])]:
            if named:
                faults.update(trace.get(named, ()))
        found[record["id"]] = faults
    return found


def _finished(results: Path, cases: list[str] | None, fuzz: int) -> dict | None:
    """A run of an earlier, interrupted measurement that completed (--resume): same cases, same examples."""
    try:
        run = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if run.get("interrupted") or run.get("options", {}).get("fuzz_examples") != fuzz:
        return None
    if cases is not None and sorted(r["id"] for r in run.get("cases", [])) != sorted(cases):
        return None
    return run


def _baseline(work: Path, dialect: str, fuzz: int, resume: bool) -> tuple[dict, dict[str, set[str]]]:
    trace = work / f"trace-{dialect}.json"
    run = _finished(work / f"faithful-{dialect}" / "results.json", None, fuzz) if resume and trace.is_file() \
        else None
    if run is None:
        run = _pytest(work / f"faithful-{dialect}", dialect, fuzz, None, {TRACE_ENV: str(trace)},
                      work / f"faithful-{dialect}.log")
    bad = [f"{r['id']} ({r['outcome']})" for r in run["cases"] if r["outcome"] in ("fail", "non-strict", "error")]
    if bad:
        raise SystemExit(f"power: the faithful reference ({dialect}) does not pass every case: {', '.join(bad)}; "
                         f"see {work / f'faithful-{dialect}'}/report.html")
    if not trace.is_file():
        raise SystemExit(f"power: the faithful reference ({dialect}) wrote no trace {trace}")
    return run, affected_by(run, json.loads(trace.read_text(encoding="utf-8")))


def measure(faults: dict[str, Fault], jobs: int, fuzz: int, work: Path, full: bool, resume: bool = False) -> dict:
    """Run the faithful baselines and every fault; return the data power.md is made from."""
    started = time.monotonic()
    dialects = sorted({f.expected_bucket_owner for f in faults.values()}, key=DIALECTS.index)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(dialects)))) as pool:
        base = dict(zip(dialects, pool.map(lambda d: _baseline(work, d, fuzz, resume), dialects)))
    plans = []
    for fault in faults.values():
        run, affected = base[fault.expected_bucket_owner]
        passing = [r["id"] for r in run["cases"] if r["outcome"] == "pass"]
        chosen = passing if full else [c for c in passing if fault.id in affected.get(c, ())]
        plans.append((fault, chosen))

    def run_fault(plan):
        fault, chosen = plan
        if not chosen:
            return fault.id, {"ran": 0, "caught": [], "errors": []}
        out = _finished(work / fault.id / "results.json", chosen, fuzz) if resume else None
        if out is None:
            out = _pytest(work / fault.id, fault.expected_bucket_owner, fuzz, chosen, {FAULT_ENV: fault.id},
                          work / f"{fault.id}.log")
        caught = sorted(((r["id"], CAUGHT[r["outcome"]], r["level"]) for r in out["cases"]
                         if r["outcome"] in CAUGHT), key=lambda x: x[0])
        errors = sorted(r["id"] for r in out["cases"] if r["outcome"] == "error")
        return fault.id, {"ran": len(chosen), "caught": caught, "errors": errors}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = dict(pool.map(run_fault, plans))
    return {"faults": results, "cases": {d: len(base[d][0]["cases"]) for d in dialects},
            "seconds": round(time.monotonic() - started), "fuzz": fuzz, "full": full}


def render(faults: dict[str, Fault], data: dict) -> str:
    """docs/power.md."""
    results = data["faults"]
    caught = [f for f in faults if results[f]["caught"]]
    uncaught = [f for f in faults if not results[f]["caught"]]
    levels = {f: {lvl for _, lvl, _ in results[f]["caught"]} for f in faults}
    generated = {f: all(c.startswith("GEN-") for c, _, _ in results[f]["caught"]) for f in caught}
    lines = [
        "# Power of the suite: which catalogued faults it catches",
        "",
        "<!-- Generated by `python -m conformance power`; do not edit by hand. "
        "`python -m conformance power --check docs/power.md` fails when this page is out of date. -->",
        "",
        f"**{len(caught)} of {len(faults)} catalogued faults are caught** by at least one MUST or SHOULD case "
        f"({len(uncaught)} not caught). Each fault of `fixtures/faults/` is one realistic bug switched on in the "
        "reference endpoint (`python -m conformance reference --fault ID`); a case catches it when it passes on "
        "the faithful reference and fails (MUST) or turns non-strict (SHOULD) with the fault on.",
        "",
        "The reference endpoint is built from the suite's own behaviour model (`conformance/behaviour/model.py`), so this "
        "page measures the suite's plumbing and its power to detect faults, not the model's fidelity to AWS "
        "(that rests on the sources the cases cite).",
        "",
        f"Generated examples per property: {data['fuzz']}. "
        + ("Every passing case ran against every fault." if data["full"] else
           "Against each fault ran the cases on whose requests the fault's answer differs from the faithful one "
           "(the faithful run asks every fault's behaviour in the shadow); every other case gets exactly the "
           "faithful answers and cannot catch it."),
        "",
        "ceph/s3-tests' CORS tests (`test_cors*`) were not run against this catalogue: not measured.",
        "",
        "## By area",
        "",
        "| area | faults | caught |",
        "| --- | ---: | ---: |",
    ]
    for area, name in AREAS.items():
        ids = [f for f in faults if faults[f].area == area]
        if ids:
            lines.append(f"| {area} ({name}) | {len(ids)} | {sum(1 for f in ids if results[f]['caught'])} |")
    def listing(title: str, ids: list[str], why: str) -> None:
        lines.extend(["", f"## {title}", "", why, ""])
        lines.extend([f"- {f}: {faults[f].description}" for f in ids] or ["- none"])
    listing("Not caught", uncaught, "No case fails or turns non-strict with these faults on.")
    listing("Caught only at SHOULD", [f for f in caught if levels[f] == {"SHOULD"}],
            "Only a SHOULD check (AWS's exact wire form) notices these; no MUST case fails.")
    listing("Caught only by generated cases", [f for f in caught if generated[f]],
            "Only the property cases (GEN-*) notice these; no hand-written case does.")
    listing("Caught by a single case", [f for f in caught if len(results[f]["caught"]) == 1],
            "One case stands between each of these faults and a green run.")
    lines.extend(["", "## Fault by fault", "", "| fault | area | seen | cases run | caught by (level) |",
                  "| --- | --- | --- | ---: | --- |"])
    for f in faults:
        fault, r = faults[f], results[f]
        seen = fault.seen if fault.seen == "plausible" or not fault.link else f"[{fault.seen}]({fault.link})"
        by = ", ".join(f"{c} ({lvl})" for c, lvl, _ in r["caught"]) or "**not caught**"
        if r["errors"]:
            by += f"; errors: {', '.join(r['errors'])}"
        dialect = " (EBO ignored)" if fault.expected_bucket_owner == "ignored" else ""
        lines.append(f"| {f} | {fault.area} | {seen} | {r['ran']} | {by} |")
        lines[-1] = lines[-1].replace(f"| {f} |", f"| {f}{dialect}: {fault.description} |", 1)
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """python -m conformance power [--check PAGE] ...: measure the catalogue."""
    parser.add_argument("-o", "--output", default="docs/power.md", help="page to write (default docs/power.md)")
    parser.add_argument("--check", metavar="PAGE", help="compare the measured page with PAGE; exit 1 if it differs")
    parser.add_argument("--jobs", type=int, default=2, help="faults measured at once (default 2)")
    parser.add_argument("--fuzz-examples", type=int, default=None,
                        help="generated examples per property (default: the suite's default)")
    parser.add_argument("--fault", action="append", metavar="ID", help="only these faults (repeatable; for debugging)")
    parser.add_argument("--full", action="store_true", help="run every passing case against every fault")
    parser.add_argument("--work-dir", metavar="DIR", help="where the runs' reports go (default: a temporary dir)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the completed runs an interrupted measurement left in --work-dir")


def run(args: argparse.Namespace) -> int:
    """Measure the catalogue and write (or --check) docs/power.md; exit 1 if a fault is not caught or the page
    is not current."""
    try:
        faults = load_catalogue()
    except SuiteUsageError as exc:
        print(f"python -m conformance power: {exc}", file=sys.stderr)
        return 2
    if args.fault:
        unknown = [f for f in args.fault if f not in faults]
        if unknown:
            print(f"python -m conformance power: --fault: unknown fault(s) {', '.join(unknown)}", file=sys.stderr)
            return 2
        faults = {f: faults[f] for f in faults if f in args.fault}
    from conformance.run.state import DEFAULT_FUZZ_EXAMPLES

    fuzz = DEFAULT_FUZZ_EXAMPLES if args.fuzz_examples is None else args.fuzz_examples
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="s3cors-power-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.resume and not args.work_dir:
        print("python -m conformance power: --resume needs --work-dir (the directory of the interrupted "
              "measurement)", file=sys.stderr)
        return 2
    data = measure(faults, args.jobs, fuzz, work, args.full, args.resume)
    page = render(faults, data)
    (work / "power.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    uncaught = [f for f, r in data["faults"].items() if not r["caught"]]
    print(f"power: {len(faults) - len(uncaught)} of {len(faults)} faults caught in {data['seconds']} s "
          f"(runs in {work})")
    if uncaught:
        print(f"power: not caught: {', '.join(uncaught)}", file=sys.stderr)
    status = 1 if uncaught else 0
    if args.check:
        current = Path(args.check).read_text(encoding="utf-8") if Path(args.check).is_file() else ""
        if current != page:
            out = work / "power.md"
            out.write_text(page, encoding="utf-8")
            print(f"power: {args.check} is not current; regenerate it with python -m conformance power "
                  f"(the measured page is {out}); the difference:", file=sys.stderr)
            # CI keeps only the log: the difference itself says whether the suite or the page moved.
            sys.stderr.writelines(difflib.unified_diff(current.splitlines(True), page.splitlines(True),
                                                       fromfile=args.check, tofile=str(out), n=0))
            return 1
        return status
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(page, encoding="utf-8")
    print(f"power: wrote {args.output}")
    return status
