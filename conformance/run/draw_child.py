"""The process that draws a run's generated examples ahead: drawing is CPU, and in the run's own process it competes
for one interpreter lock with every case that handles an answer; here it runs on another core.

    python -m conformance.run.draw_child SEED BUDGET PROPERTY...

writes to stdout, pickled, {memo: what gen.planned() keeps of each drawn example} for each property's draw (equal
draws once). Examples depend on the seed and the budget alone (gen.pin_local_constants), so they are the ones the
run would draw itself; a run whose child fails draws them itself (draws.draw_ahead)."""

from __future__ import annotations

import pickle
import sys


def draw(props: list[str], fuzz_seed: int, budget: int) -> dict:
    """{memo: planned examples} of these properties' first round."""
    from conformance.behaviour import generate as gen
    from conformance.run.draws import draw_of

    out: dict = {}
    for prop in props:
        d = draw_of(prop)
        if d.memo not in out:
            out[d.memo] = gen.planned(d, fuzz_seed, budget)
    return out


def main(argv: list[str]) -> int:
    """Draw and write the pickle; exit 2 on bad arguments (the caller then draws itself)."""
    try:
        fuzz_seed, budget, props = int(argv[0]), int(argv[1]), argv[2:]
    except (IndexError, ValueError):
        print("usage: python -m conformance.run.draw_child SEED BUDGET PROPERTY...", file=sys.stderr)
        return 2
    pickle.dump(draw(props, fuzz_seed, budget), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
