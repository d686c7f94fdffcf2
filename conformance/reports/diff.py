"""Regression diff: two runs' results.json compared case by case (worse, better, changed otherwise): a verdict
farther from pass than before (non-strict, unsupported, fail, error, in that order) is worse.

Verdicts are compared, not outcomes: the verdict is what the server did before any expectation file was
applied, so two servers (or two versions) with different expectation files still compare fairly.

Exit status: 0 no case got worse; 1 at least one case got worse; 2 bad input (a file that is missing,
unreadable or not a results.json of this suite, or an output that cannot be written)."""

from __future__ import annotations

import argparse
import html
from dataclasses import dataclass
from pathlib import Path

from conformance.reports.matrix import load_run, write_text
from conformance.behaviour.outcomes import diff_direction


@dataclass(frozen=True)
class Change:
    """One case whose verdict differs between the runs."""

    case_id: str
    level: str
    title: str
    old: str     # verdict in the old run, "-" when the case was not in it
    new: str
    reason: str  # why the new verdict (the failed checks), or the old one when the case went away


def _verdict(record: dict) -> str:
    return record.get("verdict") or record.get("outcome", "?")


def compare(old: dict, new: dict) -> dict[str, list[Change]]:
    """Changes grouped as worse, better and changed (everything else that differs, added and removed cases)."""
    before = {r["id"]: r for r in old["cases"]}
    after = {r["id"]: r for r in new["cases"]}
    groups: dict[str, list[Change]] = {"worse": [], "better": [], "changed": []}
    for case_id in sorted(before.keys() | after.keys()):
        a, b = before.get(case_id), after.get(case_id)
        va, vb = (_verdict(a) if a else "-"), (_verdict(b) if b else "-")
        if va == vb:
            continue
        meta = b or a
        change = Change(case_id, meta.get("level", "?"), meta.get("title", ""), va, vb,
                        (b or {}).get("reason") or (a or {}).get("reason") or "")
        # Any move away from pass (to non-strict, unsupported, fail, error) is worse; toward pass, better
        # (the distances are in conformance/behaviour/outcomes.py).
        groups[diff_direction(va, vb)].append(change)
    return groups


def _run_line(run: dict) -> str:
    target = run.get("target", {})
    return (f"{target.get('name', '?')} ({target.get('description') or target.get('endpoint') or ''}), "
            f"started {run.get('started', '?')}").replace("()", "").strip()


HEADINGS = {"worse": "Got worse", "better": "Got better", "changed": "Changed otherwise (added or removed cases, "
            "or a move between pass and info)"}


def markdown(old: dict, new: dict, groups: dict[str, list[Change]]) -> str:
    """The diff as Markdown."""
    lines = ["# Conformance diff", "", f"- old: {_run_line(old)}", f"- new: {_run_line(new)}", "",
             f"**{len(groups['worse'])} worse, {len(groups['better'])} better, {len(groups['changed'])} "
             f"changed otherwise** (verdicts before expectation files)."]
    for key, heading in HEADINGS.items():
        lines += ["", f"## {heading} ({len(groups[key])})", ""]
        if not groups[key]:
            lines.append("None.")
            continue
        lines += ["| case | level | requirement | old | new | why (new run) |", "|---|---|---|---|---|---|"]
        for c in groups[key]:
            cells = [c.case_id, c.level, c.title, c.old, c.new, c.reason[:300]]
            lines.append("| " + " | ".join(x.replace("|", "/").replace("\n", " ") for x in cells) + " |")
    return "\n".join(lines) + "\n"


def html_page(old: dict, new: dict, groups: dict[str, list[Change]]) -> str:
    """The diff as one self-contained HTML page (no scripts, no external resources)."""
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Conformance diff</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:4px 8px;vertical-align:top}.worse{color:#b00}.better{color:#070}</style></head><body>",
             "<h1>Conformance diff</h1>", f"<p>old: {e(_run_line(old))}<br>new: {e(_run_line(new))}</p>",
             f"<p><b>{len(groups['worse'])} worse, {len(groups['better'])} better, "
             f"{len(groups['changed'])} changed otherwise</b> (verdicts before expectation files).</p>"]
    for key, heading in HEADINGS.items():
        parts.append(f"<h2 class='{key}'>{e(heading)} ({len(groups[key])})</h2>")
        if not groups[key]:
            parts.append("<p>None.</p>")
            continue
        parts.append("<table><tr><th>case</th><th>level</th><th>requirement</th><th>old</th><th>new</th>"
                     "<th>why (new run)</th></tr>")
        for c in groups[key]:
            parts.append("<tr>" + "".join(f"<td>{e(x)}</td>" for x in
                                          (c.case_id, c.level, c.title, c.old, c.new, c.reason)) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments."""
    parser.add_argument("old", type=Path, metavar="OLD/results.json", help="the earlier run")
    parser.add_argument("new", type=Path, metavar="NEW/results.json", help="the later run")
    parser.add_argument("-o", "--output", type=Path, metavar="REPORT.md", help="also write the diff as Markdown")
    parser.add_argument("--html", type=Path, metavar="REPORT.html", help="also write the diff as one HTML page")


def run(args: argparse.Namespace) -> int:
    """Compare the two runs, print the counts, write the reports; 1 when a case got worse."""
    old, new = load_run(args.old), load_run(args.new)
    groups = compare(old, new)
    if args.output:
        write_text(args.output, markdown(old, new, groups))
    if args.html:
        write_text(args.html, html_page(old, new, groups))
    for key in ("worse", "better", "changed"):
        print(f"{len(groups[key]):4d} {key}" + "".join(f"\n       {c.case_id}: {c.old} -> {c.new}"
                                                       for c in groups[key]))
    for path in (args.output, args.html):
        if path:
            print(f"wrote {path}")
    return 1 if groups["worse"] else 0


def main(argv: list[str]) -> int:
    """python -m conformance diff OLD NEW [-o FILE.md] [--html FILE.html]; exit 1 when a case got worse."""
    from conformance.__main__ import command

    return command("diff", argv)
