"""What each generated property draws and what its examples will ask, as pure functions of the model (no request,
no property state): a property plans its examples with them before it sends anything (properties.py), a worker
draws equal draws once (gen.sample's memo), and a run without workers draws them ahead, in a process of its own
(draw_child.py), while its other cases wait for their answers (draw_ahead)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import conformance

from conformance.behaviour import generate as gen
from conformance.run.properties import config_key, decidable, reject_unless

def _ignore(why: str) -> None:
    """Planning counts nothing: the property counts what it excludes while it explores."""


def wanted(example, allowed_only: bool, exclude: Callable[[str], None] = _ignore) -> list:
    """The example's requests the model decides, with its answers (only those it allows, when allowed_only);
    an example with none is rejected. The model alone decides, so the examples drawn never depend on the server."""
    config, requests = example
    out = decidable(config, requests, exclude)
    if allowed_only:
        for _, expected in out:
            if expected.status != 200:
                exclude("the model refuses the preflight (GEN-PRE-STATUS-001's concern)")
        out = [(r, e) for r, e in out if e.status == 200]
        reject_unless(out)
    return out


def _by_configuration(allowed_only: bool) -> Callable[[Any], tuple[str, Any]]:
    """Plan of a request property: the requests wanted() keeps, grouped by the example's configuration."""
    def plan(example) -> tuple[str, tuple[list[dict], list[gen.GenRequest]]]:
        config = example[0]
        return config_key(config), (config, [r for r, _ in wanted(example, allowed_only)])
    return plan


def _configuration(config: list[dict]) -> tuple[str, list[dict]]:
    """Plan of a configuration property: the configuration itself."""
    return config_key(config), config


def judges_refusals(prop: str) -> bool:
    """Whether a preflight property judges every preflight of an example (the status property), not only the
    ones the model allows."""
    return prop == "status"


def every_preflight(example, exclude: Callable[[str], None] = _ignore) -> list:
    """The status property's requests: each aimed preflight and its near miss (gen.near_miss), those the model
    decides, each with its answer; an example with none is rejected."""
    config, requests = example
    misses = [m for m in (gen.near_miss(config, r) for r in requests) if m is not None]
    return decidable(config, list(dict.fromkeys([*requests, *misses])), exclude)


def _preflights(reject_like_aimed: bool) -> Callable[[Any], tuple[str, Any]]:
    """Plan of the preflight properties: every request of every_preflight(), grouped by the configuration; the
    drawn examples are rejected where the aimed properties reject them (no preflight the model allows), so all
    nine draw the same. A known counterexample of the status property is never rejected for that."""
    def plan(example) -> tuple[str, tuple[list[dict], list[gen.GenRequest]]]:
        if reject_like_aimed:
            wanted(example, True)
        config = example[0]
        return config_key(config), (config, [r for r, _ in every_preflight(example)])
    return plan


def draw_of(prop: str) -> gen.Draw:
    """The Draw of a property (its `property` in fixtures/cases/generated.toml)."""
    if prop == "accept":
        return gen.Draw(gen.any_configurations(), _configuration, ("accept",))
    if prop == "roundtrip":
        return gen.Draw(gen.configurations(1, 6, marker=False, ids=True), _configuration, ("roundtrip",))
    if prop == "actual":
        return gen.Draw(gen.scenarios("actual"), _by_configuration(False), ("actual",))
    # The nine preflight properties draw alike (a worker draws them once) and plan alike: whichever asks first asks
    # every answer the others judge, near misses included, under one configuration put.
    return gen.Draw(gen.scenarios("preflight", aim=True), _preflights(True), ("preflight",),
                    explicit_plan=_preflights(not judges_refusals(prop)))


def draw_ahead(props: Iterable[str], fuzz_seed: int, budget: int) -> None:
    """Draw the first round of these properties ahead, in a child process (draw_child.py: each distinct draw once,
    the draw most properties share first); each property goes on as soon as its draw has come."""
    props = list(props)
    if props and budget > 0:
        gen.draw_ahead(_Child(props, fuzz_seed, budget).results, fuzz_seed, budget)


def stop_drawing() -> None:
    """Stop a child still drawing (the run ends before a property asked for its examples)."""
    with _Child.lock:
        running = list(_Child.running)
    for child in running:
        child.stop()


class _Child:
    """A draw_child process, started at once; results() yields its draws as they come."""

    lock = threading.Lock()
    running: set["_Child"] = set()

    def __init__(self, props: list[str], fuzz_seed: int, budget: int) -> None:
        # The child imports this very package, not another copy on its path (a checkout beside an installed
        # wheel); hypothesis's third-party plugins only cost it time.
        root = str(Path(conformance.__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH")))),
               "HYPOTHESIS_NO_PLUGINS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "conformance.run.draw_child", str(fuzz_seed),
                                      str(budget), *props], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        with self.lock:
            self.running.add(self)

    def results(self) -> Iterator[tuple[Any, list]]:
        """(memo, planned examples) of each draw the child finished, in its order; what a failed child did not
        finish does not come (the property that asks draws it)."""
        try:
            while True:
                try:
                    memo, kept = pickle.load(self.proc.stdout)
                except (EOFError, pickle.UnpicklingError):
                    break
                yield memo, kept
        finally:
            self.stop()
            self.proc.wait()
            self.proc.stdout.close()
            with self.lock:
                self.running.discard(self)

    def stop(self) -> None:
        """Kill the child if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
