"""pytest-xdist: what the controller hands its workers (the started target, what the probe found) and what
it takes back from them (request counts, a record for a case whose worker died)."""

from __future__ import annotations

import dataclasses

from conformance.behaviour.checks import apply_expectation
from conformance.reports.results import build_record
from conformance.run.state import State
from conformance.target import capabilities
from conformance.target.profiles import Credentials


def receive(state: State, workerinput: dict) -> None:
    """On a worker: take what the controller found at start-up."""
    state.run_id = workerinput["s3cors_run_id"]
    state.unsupported = workerinput.get("s3cors_unsupported")
    if "s3cors_credentials" in workerinput:
        state.credentials = Credentials(**workerinput["s3cors_credentials"])
        state.redactor.add(state.credentials.secrets())
    state.target = dataclasses.replace(state.target, endpoint_url=workerinput["s3cors_endpoint"],
                                       capabilities=capabilities.from_wire(workerinput["s3cors_capabilities"]))


class XdistHooks:
    """Hooks that exist only with pytest-xdist (registered on the controller)."""

    def __init__(self, state: State, progress=None) -> None:
        self.state, self.progress = state, progress

    def pytest_configure_node(self, node) -> None:
        """Hand the started target to a worker."""
        node.workerinput["s3cors_run_id"] = self.state.run_id
        node.workerinput["s3cors_fuzz_seed"] = self.state.fuzz_seed
        node.workerinput["s3cors_endpoint"] = self.state.target.endpoint_url
        node.workerinput["s3cors_unsupported"] = self.state.unsupported
        node.workerinput["s3cors_capabilities"] = capabilities.to_wire(self.state.target.capabilities)
        if self.state.launcher is not None and self.state.launcher.wants_credentials:
            # Made by the server at start-up; passed in memory over xdist's channel, never written.
            node.workerinput["s3cors_credentials"] = dataclasses.asdict(self.state.credentials)

    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        """The progress counts the cases the workers collected (after -k, -m and --deselect as well)."""
        if self.progress is not None and self.state.registry is not None:
            from conformance.run.progress import case_id_of

            areas = {c.id: c.area for c in self.state.registry.cases.values()}
            self.progress.expect([case_id_of(i) for i in ids], areas)

    def pytest_handlecrashitem(self, crashitem, report, sched) -> None:
        """A worker died while running a case (SIGKILL, out of memory): the case still gets its one record,
        an error (infrastructure), so results.json lists every case that ran."""
        case = self.state.registry.cases.get(crashitem.rsplit("[", 1)[-1].rstrip("]")) if self.state.registry else None
        if case is None:
            return
        expectation = self.state.expectations.get(case.id)
        verdict = apply_expectation("error", f"infrastructure: {report.longrepr}", expectation)
        report.s3cors = build_record(case, verdict, None, [], nodeid=crashitem, duration=0.0, expectation=expectation,
                                     worker=getattr(getattr(report.node, "gateway", None), "id", "?"))

    def pytest_testnodedown(self, node, error) -> None:
        """Count a finished worker's requests; a worker lost with an error makes the run interrupted."""
        # A worker that died at start-up has no workeroutput; its error is reported by xdist.
        self.state.worker_requests += int(getattr(node, "workeroutput", {}).get("s3cors_requests", 0))
        if self.progress is not None:
            self.progress.worker_down(node.gateway.id)
        if error:
            self.state.interrupted = True
