"""The end of a run (controller only): remove the buckets the journal lists, write results.json and every
report format made from it, the file of new counterexamples, and with --certify the bundle."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conformance.reports import allure_report, certify, writers
from conformance.reports.results import now_iso, run_meta, write_results
from conformance.run.state import Ending, State
from conformance.target.buckets import PREFIX, Buckets

NEW_COUNTEREXAMPLES = "new-counterexamples.toml"


def finish(config: pytest.Config, state: State, *, failed: bool, bundle_dir: str | None) -> Ending:
    """Sweep, then write every report of the run; what the terminal summary reports. `failed`: pytest counted
    a failure (with no record: collection failed)."""
    ending = Ending()
    sweep = not state.keep_buckets and state.target.endpoint_url
    if failed and not state.received:
        # Nothing ran (collection failed): a results.json (interrupted, 0 cases) would look like a run.
        # Only the buckets go.
        ending.nothing_ran = True
        ending.leftovers = sweep_journal(state) if sweep else []
        return ending
    if sweep:
        ending.leftovers = sweep_journal(state)
    records = {r["id"]: r for r in state.received}  # one record per case, whatever the number of workers
    ending.records = records
    from conformance.browser.report import link_related

    ending.browser_disagreements = link_related(records)  # BRW verdicts beside related cases
    ending.requests = state.requests()
    target = {**state.target.public(), "server_header": state.server_header,
              "bucket_cors_unsupported": state.unsupported}
    meta = run_meta(target=target, options=state.options, started=state.started,
                    finished=now_iso(), duration=time.monotonic() - state.started_monotonic, requests=ending.requests,
                    run_id=state.run_id, interrupted=state.interrupted)
    document = write_results(state.reports_dir / "results.json", meta, list(records.values()), state.redactor)
    writers.write_all(document, state.reports_dir)
    write_new_counterexamples(state.reports_dir / NEW_COUNTEREXAMPLES, records.values())
    allure_report.write_environment(config, document)  # Allure's directory: --alluredir
    if state.certify:
        ending.bundle = (Path(config.invocation_params.dir, bundle_dir) if bundle_dir else
                         state.reports_dir / "certification" / f"{state.target.name}-{state.run_id}")
        ending.bundle_info = certify.write_bundle(ending.bundle, state.reports_dir, document, state.product,
                                                  set(state.registry.cases))
    return ending


def new_counterexamples(records) -> list[str]:
    """The corpus entries of generated failures whose example is not in the corpus yet."""
    return [r["observations"]["corpus_entry"] for r in records if r.get("observations", {}).get("corpus_entry")]


def write_new_counterexamples(path: Path, records) -> None:
    """reports/new-counterexamples.toml: the [[example]] lines to append to fixtures/corpus/generated.toml."""
    entries = new_counterexamples(records)
    if entries:
        path.write_text("# New counterexamples of this run: append to fixtures/corpus/generated.toml so every "
                        "later run replays them\n\n" + "\n".join(entries), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def sweep_journal(state: State) -> list[str]:
    """Remove buckets the journal says this run created and did not remove (a worker died, Ctrl-C...)."""
    journal = state.journal()
    pending = journal.pending()
    if not pending:
        journal.discard()
        return []
    buckets = Buckets(state.s3(), state.run_id, "sweep", journal=journal)
    left = []
    for name in pending:
        if not name.startswith(f"{PREFIX}-{state.run_id}-"):
            continue  # never touch a name that is not this run's
        problem = buckets.remove(name)
        if problem:
            left.append(f"{name} ({problem})")
        else:
            journal.removed(name)
    if not left:
        journal.discard()
    return left
