"""Report formats and launcher kinds are registered in one place each, and everything reads that place."""

from __future__ import annotations

from conformance.reports import certify, writers
from conformance.reports.results import SCHEMA, summarize
from conformance.target import launchers, profiles


def _document() -> dict:
    return {"schema": SCHEMA, "target": {"name": "t"}, "run_id": "r", "options": {}, "suite": {},
            "summary": summarize([]), "cases": []}


def test_a_registered_format_is_written_by_the_run_and_into_a_bundle(tmp_path, monkeypatch):
    extra = writers.Writer("extra.txt", lambda document, path: path.write_text(document["run_id"]), "a test format")
    monkeypatch.setattr(writers, "WRITERS", (*writers.WRITERS, extra))
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "results.json").write_text("{}\n")
    written = writers.write_all(_document(), reports)
    assert [p.name for p in written] == [w.file for w in writers.WRITERS]
    bundle = tmp_path / "bundle"
    certify.write_bundle(bundle, reports, _document(), {"vendor": "v", "product": "p", "version": "1"}, set())
    assert (bundle / "extra.txt").read_text() == "r"
    manifest = (bundle / certify.MANIFEST).read_text()
    for name in ("results.json", *(w.file for w in writers.WRITERS)):
        assert f"  {name}\n" in manifest
    assert certify.verify(bundle) == []


def test_profiles_accept_exactly_the_registered_launcher_kinds():
    assert set(profiles.LAUNCH_KINDS) == set(launchers.LAUNCHERS)
