"""Browser verdicts next to the header-level verdicts they rest on: every BRW record names a related case
(expect.related); at the end of the run its outcome is copied into the BRW record's observations, and the
cases where the two disagree are listed in the terminal summary."""

from __future__ import annotations

from typing import Any

GOOD = ("pass", "info")


def _ok(record: dict[str, Any]) -> bool:
    return record.get("verdict") in GOOD


def link_related(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Add observations.related_case to each BRW record; return the rows where browser and headers disagree."""
    disagreements = []
    for record in sorted(records.values(), key=lambda r: r["id"]):
        if record.get("area") != "BRW":
            continue
        observations = record.setdefault("observations", {})
        related_id = observations.get("related")
        if not related_id:
            continue
        related = records.get(related_id)
        if related is None:
            observations["related_case"] = {"id": related_id, "outcome": "not run in this session"}
            continue
        observations["related_case"] = {"id": related_id, "outcome": related["outcome"],
                                        "verdict": related["verdict"], "reason": related.get("reason", "")}
        browser = observations.get("browser", {}) or {}
        side_by_side = {
            "case": record["id"], "browser": browser.get("verdict"), "browser_expected": browser.get("expected"),
            "browser_case_verdict": record["verdict"], "related": related_id,
            "related_verdict": related["verdict"], "agree": _ok(record) == _ok(related),
        }
        observations["side_by_side"] = side_by_side
        if not side_by_side["agree"]:
            disagreements.append(side_by_side)
    return disagreements


def disagreement_lines(disagreements: list[dict[str, Any]], not_linked: int) -> list[str]:
    """Terminal lines: each BRW case whose verdict differs from its related header-level case's, in two kinds:
    headers judged fine but the browser does not do what a conforming server leads to, and headers judged
    wrong in a way the browser does not notice."""
    lines = []
    missed = [d for d in disagreements if d["browser_case_verdict"] not in GOOD]
    harmless = [d for d in disagreements if d["browser_case_verdict"] in GOOD]
    if disagreements:
        lines.append(f"browser vs header-level verdicts: {len(disagreements)} disagree")
    if missed:
        lines.append("  the browser refuses what the header-level case accepts (or the reverse):")
        lines += [_line(d) for d in missed]
    if harmless:
        lines.append("  header-level deviations the browser does not notice:")
        lines += [_line(d) for d in harmless]
    if not_linked:
        lines.append(f"browser cases whose related header-level case did not run: {not_linked} "
                     "(run them together to see both verdicts side by side)")
    return lines


def _line(d: dict[str, Any]) -> str:
    return (f"    {d['case']}: browser {d['browser']} (conforming: {d['browser_expected']}) -> "
            f"{d['browser_case_verdict']}  |  {d['related']}: {d['related_verdict']}")
