"""Command line: python -m conformance COMMAND ... (the suite itself runs with pytest)."""

from __future__ import annotations

import sys

COMMANDS = {"matrix": "turn results.json files of several targets into the Markdown compatibility matrix"}


def main(argv: list[str]) -> int:
    """Dispatch to a command."""
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m conformance COMMAND ...\n" +
              "\n".join(f"  {name:8} {text}" for name, text in COMMANDS.items()), file=sys.stderr)
        return 2
    if argv[0] == "matrix":
        from .matrix import main as matrix

        return matrix(argv[1:])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
