"""The process that draws a run's generated examples ahead: drawing is CPU, and in the run's own process it competes
for one interpreter lock with every case that handles an answer; here it runs on another core.

    python -m conformance.run.draw_child SEED BUDGET PROPERTY...

writes to stdout one pickle (memo, what gen.planned() keeps of each drawn example) per property's draw (equal draws
once, the draw most properties share first), each as soon as it is drawn. Examples depend on the seed and the budget alone (gen.pin_local_constants), so
they are the ones the run would draw itself; what a failed child did not write, the run draws itself."""

from __future__ import annotations

import pickle
import sys
from typing import Hashable, Iterator


def draw(props: list[str], fuzz_seed: int, budget: int) -> Iterator[tuple[Hashable, list]]:
    """(memo, planned examples) of these properties' first round, each distinct draw once, the draw most of them
    share first (equal shares in their order)."""
    from conformance.behaviour import generate as gen
    from conformance.run.draws import draw_of

    sharing: dict[Hashable, list] = {}
    for prop in props:
        d = draw_of(prop)
        sharing.setdefault(d.memo, [d, 0])[1] += 1
    for d, _ in sorted(sharing.values(), key=lambda shared: shared[1], reverse=True):  # sort is stable
        yield d.memo, gen.planned(d, fuzz_seed, budget)


def main(argv: list[str]) -> int:
    """Draw, writing each draw's pickle as soon as it is drawn; exit 2 on bad arguments (the caller then draws
    itself)."""
    try:
        fuzz_seed, budget, props = int(argv[0]), int(argv[1]), argv[2:]
    except (IndexError, ValueError):
        print("usage: python -m conformance.run.draw_child SEED BUDGET PROPERTY...", file=sys.stderr)
        return 2
    for memo, kept in draw(props, fuzz_seed, budget):
        pickle.dump((memo, kept), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
