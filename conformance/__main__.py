"""Command line: python -m conformance COMMAND ... (the suite itself runs with pytest)."""

from __future__ import annotations

import importlib
import sys

# name: (module with a main(argv) -> int, one-line description)
COMMANDS = {
    "matrix": ("conformance.matrix", "turn results.json files of several targets into the Markdown compatibility matrix"),
    "diff": ("conformance.diff", "compare two results.json case by case (worse, better, changed); exit 1 when worse"),
    "verify": ("conformance.certify", "check a certification bundle against its SHA-256 manifest"),
    "cleanup": ("conformance.cleanup", "list (and with --delete remove) buckets the suite left behind on a target"),
    "reference": ("conformance.reference.server", "serve the reference endpoint: bucket CORS exactly as the model "
                  "says, optionally with one catalogued fault"),
    "power": ("conformance.power", "run the suite against every catalogued fault and write docs/power.md"),
}


def main(argv: list[str]) -> int:
    """Dispatch to a command."""
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m conformance COMMAND ...\n" +
              "\n".join(f"  {name:8} {text}" for name, (_, text) in COMMANDS.items()), file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
