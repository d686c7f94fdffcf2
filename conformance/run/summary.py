"""The run's terminal summary (controller): outcomes per area, capabilities, what needs attention, where the
reports are."""

from __future__ import annotations

import time
from collections import Counter

from conformance.reports import writers
from conformance.behaviour.outcomes import OUTCOMES
from conformance.reports.results import summarize
from conformance.run.finish import NEW_COUNTEREXAMPLES, new_counterexamples
from conformance.run.state import State
from conformance.target import capabilities
from conformance.target.buckets import PREFIX


def write_summary(tr, state: State) -> None:
    """Write the summary section to pytest's terminal reporter."""
    if state.unusable:
        tr.write_sep("=", "S3 CORS conformance: target unusable", red=True)
        tr.write_line(state.unusable)
        return
    ending = state.ending
    if ending is None:
        return
    if ending.nothing_ran:
        tr.write_sep("=", "S3 CORS conformance: no case ran", red=True)
        tr.write_line("collection failed (errors above): no results.json was written")
        return
    tr.write_sep("=", f"S3 CORS conformance: {state.target.name} ({state.target.endpoint_url})")
    records = list(ending.records.values())
    for line in outcome_table(records, requests=ending.requests, wall=time.monotonic() - state.started_monotonic):
        tr.write_line(line)
    if state.unsupported:
        tr.write_line(f"every case unsupported: {state.unsupported}", yellow=True)
    new = new_counterexamples(records)
    if new:
        tr.write_line(f"generated cases: {len(new)} new counterexample(s), not in the corpus: "
                      f"{state.reports_dir / NEW_COUNTEREXAMPLES} (append to fixtures/corpus/generated.toml)",
                      yellow=True)
    tr.write_line("capabilities (value, and where it came from):")
    for line in capabilities.capability_lines(state.target.capabilities):
        tr.write_line(line)
    for line in browser_lines(state):
        tr.write_line(line, yellow=True)
    if state.expectations:
        tr.write_line(f"expectations: {state.target.expectations} ({len(state.expectations)} known deviations)")
    if ending.leftovers:
        tr.write_line(f"WARNING: buckets left behind: {', '.join(ending.leftovers)}", red=True)
    if state.keep_buckets:
        tr.write_line(f"buckets kept (--keep-buckets): prefix {PREFIX}-{state.run_id}-")
    if ending.bundle is not None:
        info = ending.bundle_info
        status = "complete" if info.get("complete") else f"INCOMPLETE ({len(info.get('not_run', []))} cases not run)"
        tr.write_line(f"certification bundle ({status}): {ending.bundle}; check it with: python -m conformance "
                      f"verify {ending.bundle}", red=not info.get("complete"))
    tr.write_line("reports: " + ", ".join(_report_files(state)))


def _report_files(state: State) -> list[str]:
    """results.json and every registered format's file, with its note."""
    files = [f"{state.reports_dir / 'results.json'}"]
    files += [f"{state.reports_dir / w.file}" + (f" ({w.note})" if w.note else "") for w in writers.WRITERS]
    return files


def browser_lines(state: State) -> list[str]:
    """Terminal lines about the browser cases: not run without --browser, or where they disagree."""
    from conformance.browser.report import disagreement_lines as browser_summary

    if not state.browser:
        skipped = [c for c in state.chosen_cases() if c.area == "BRW"]
        return [f"browser cases (BRW): {len(skipped)} not run (opt in with --browser)"] if skipped else []
    unlinked = sum(1 for r in state.ending.records.values()
                   if r["area"] == "BRW" and r.get("observations", {}).get("related_case", {}).get("outcome")
                   == "not run in this session")
    return browser_summary(state.ending.browser_disagreements, unlinked)


def outcome_table(records: list[dict], *, requests: int, wall: float) -> list[str]:
    """The terminal table: one row per area, one column per outcome that occurred, and the requests per case."""
    summary = summarize(records)
    columns = [o for o in OUTCOMES if summary["by_outcome"][o]] or ["pass"]
    width = max(len(c) for c in columns) + 1
    sent: Counter = Counter()
    for record in records:  # each case's own requests (set-up it shared lands in the case that ran first)
        sent[record["area"]] += record.get("http_requests") or 0
    head = "area  " + "".join(c.rjust(width) for c in columns) + "  total".rjust(7) + "  requests/case"
    lines = [head]
    for area, counts in summary["by_area"].items():
        row = area.ljust(6) + "".join(str(counts[c]).rjust(width) for c in columns)
        total = sum(counts.values())
        lines.append(row + str(total).rjust(7) + _per_case(sent.get(area, 0), total))
    lines.append("all".ljust(6) + "".join(str(summary["by_outcome"][c]).rjust(width) for c in columns)
                 + str(len(records)).rjust(7) + _per_case(sum(sent.values()), len(records)))
    per_case = f" ({requests / len(records):.1f} per case)" if records else ""
    lines.append(f"{len(records)} cases, {requests} HTTP requests{per_case}, {wall:.1f} s wall time")
    return lines


def _per_case(requests: int, cases: int) -> str:
    """A requests-per-case cell of the table."""
    return (f"{requests / cases:.1f}" if cases else "-").rjust(15)
