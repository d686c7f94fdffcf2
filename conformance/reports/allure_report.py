"""Allure results through allure-pytest (`--alluredir DIR`): labels from the case, one step per HTTP exchange
with its redacted request and response attached, environment.properties and categories.json.

allure-pytest is optional at import time: without it (or without --alluredir) nothing here runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.behaviour.tables import AREAS, Case
from conformance.reports.evidence import exchange_text
from conformance.paths import spec_path
from conformance.behaviour.sources import source_links, spec_refs, spec_uri

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "INFO": "trivial"}
# First match wins (Allure's rule); messages come from the suite's own failure texts.
# Status messages are "<outcome>: <reason>" (AllureBridge), so categories key on the outcome first.
CATEGORIES = [
    {"name": "Infrastructure (not a conformance verdict)", "matchedStatuses": ["failed", "broken"],
     "messageRegex": r"(?s)^error: .*"},
    {"name": "Stale expectation (recorded deviation no longer happens)", "matchedStatuses": ["failed"],
     "messageRegex": r"(?s)^unexpected-pass: .*"},
    {"name": "Server error (a 5xx answer where a 2xx or 4xx was due)", "matchedStatuses": ["failed"],
     "messageRegex": r"(?s)^(fail|non-strict): .*\(not a server error\).*"},
    {"name": "Missing or wrong CORS header", "matchedStatuses": ["failed"],
     "messageRegex": r"(?s)^(fail|non-strict): .*(Access-Control-|Vary|the rule that answered).*"},
    {"name": "Wrong status or error code", "matchedStatuses": ["failed"],
     "messageRegex": r"(?s)^(fail|non-strict): .*"},
    {"name": "Known deviation (expectation file)", "matchedStatuses": ["skipped"],
     "messageRegex": r"(?s)^expected-fail: .*"},
    {"name": "Unsupported by the target", "matchedStatuses": ["skipped"],
     "messageRegex": r"(?s)^unsupported: .*"},
]


def allure_dir(config: pytest.Config) -> Path | None:
    """The --alluredir of this run, when allure-pytest is installed and asked for."""
    value = getattr(config.option, "allure_report_dir", None)
    return Path(value) if value else None


def prepare(config: pytest.Config, is_worker: bool) -> None:
    """Let only the controller clean the results directory (before it starts any worker).

    allure-pytest's --clean-alluredir runs in every process; under xdist a worker starting late would delete
    what another worker already wrote."""
    directory = allure_dir(config)
    if directory is None:
        return
    if is_worker:
        config.option.clean_alluredir = False  # the controller already cleaned, before any worker started


class AllureBridge:
    """Registered when --alluredir is given: case labels and the suite's verdict text on Allure's results.

    Its hooks are outermost (tryfirst wrappers), so they run after allure-pytest's own: allure names a test
    after its pytest node and takes the status message from an exception, but a case's verdict comes from
    its checks, often without any exception."""

    def __init__(self, case_of, record_of) -> None:
        self.case_of, self.record_of = case_of, record_of

    def _result(self, item: pytest.Item):
        listener = item.config.pluginmanager.get_plugin("allure_listener")
        if listener is None:
            return None
        uuid = listener._cache.get(item.nodeid)
        return listener.allure_logger.get_test(uuid) if uuid else None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        try:
            return (yield)
        finally:
            case = self.case_of(item)
            if case is not None:
                label_case(case)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call):
        report = yield
        record = self.record_of(report)
        result = self._result(item)
        if record is not None and result is not None:
            from allure_commons.model2 import Status, StatusDetails

            from conformance.behaviour.outcomes import outcome as outcome_row

            outcome, reason = record["outcome"], record.get("reason") or ""
            result.status = {"passed": Status.PASSED, "failed": Status.FAILED, "broken": Status.BROKEN,
                             "skipped": Status.SKIPPED}[outcome_row(outcome).allure]
            reason = reason.removeprefix(f"{outcome}: ")
            result.statusDetails = StatusDetails(message=f"{outcome}: {reason}" if reason else outcome)
        return report


def label_case(case: Case) -> None:
    """Labels, severity, title and source links of the running test."""
    import allure

    allure.dynamic.id(case.id)
    allure.dynamic.title(f"{case.id}: {case.title}")
    allure.dynamic.epic("S3 CORS conformance")
    allure.dynamic.feature(f"{case.area}: {AREAS.get(case.area, case.area)}")
    allure.dynamic.story(case.id.rsplit("-", 1)[0])
    allure.dynamic.severity(SEVERITY.get(case.level, "normal"))
    allure.dynamic.tag(case.level)
    allure.dynamic.description(f"Requirement ({case.level}): {case.title}\n\nSource: {case.source}"
                               + (f"\n\nNote: {case.note}" if case.note else ""))
    for key, url in source_links(case.source):
        allure.dynamic.link(url, name=key)
    for name, url in spec_links(case.source):
        allure.dynamic.link(url, name=name)


def spec_links(source: str) -> list[tuple[str, str]]:
    """(name, file:// URI with anchor) of each § or Q reference of a source, into the spec shipped with the suite."""
    if not spec_path().is_file():
        return []
    seen: dict[str, str] = {}
    for ref in spec_refs(source):
        if ref.anchors and not ref.problem:
            seen.setdefault(f"spec {ref.text}", spec_uri(ref.anchors[0]))
    return list(seen.items())


def step_for(exchange: dict[str, Any]) -> None:
    """One Allure step for one recorded (already redacted) exchange, request and response attached."""
    import allure

    status = exchange.get("status") if not exchange.get("error") else "no response"
    title = f"{exchange['method']} {exchange['url']} -> {status}"
    if exchange.get("note"):
        title += f" ({exchange['note']})"
    request, response = exchange_text(exchange)
    with allure.step(title):
        allure.attach(request, name="request", attachment_type=allure.attachment_type.TEXT)
        allure.attach(response, name="response", attachment_type=allure.attachment_type.TEXT)


def write_environment(config: pytest.Config, document: dict[str, Any]) -> None:
    """environment.properties and categories.json for the Allure report (controller only), from results.json
    (`document`, as written: already redacted)."""
    directory = allure_dir(config)
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    target, suite = document.get("target", {}), document.get("suite", {})
    props = {
        "target": target.get("name"), "description": target.get("description"),
        "endpoint": target.get("endpoint_url"), "region": target.get("region"),
        "addressing": target.get("addressing"), "expectations": document.get("options", {}).get("expectations"),
        "suite.version": suite.get("version"), "suite.git_revision": suite.get("git_revision"),
        "run_id": document.get("run_id"), "started": document.get("started"),
    }
    lines = [f"{k}={_escape(str(v))}" for k, v in props.items() if v not in (None, "")]
    (directory / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "categories.json").write_text(json.dumps(CATEGORIES, indent=1) + "\n", encoding="utf-8")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
