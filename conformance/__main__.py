"""Command line: python -m conformance COMMAND ... (the suite itself runs with pytest).

Each command is a module with add_arguments(parser) and run(args) -> exit status, and a line in COMMANDS. Bad
input (a missing or unreadable file, a wrong argument) is one line on stderr and exit 2 for every command."""

from __future__ import annotations

import argparse
import importlib
import sys

from conformance.errors import SuiteUsageError

PROG = "python -m conformance"
EXIT_USAGE = 2

# name: (module with add_arguments(parser) and run(args) -> int, one-line description)
COMMANDS = {
    "matrix": ("conformance.reports.matrix", "turn results.json files of several targets into the Markdown compatibility matrix"),
    "diff": ("conformance.reports.diff", "compare two results.json case by case (worse, better, changed)"),
    "verify": ("conformance.reports.certify", "check a certification bundle against its SHA-256 manifest"),
    "cleanup": ("conformance.commands.cleanup", "list (and with --delete remove) buckets the suite left behind on a target"),
    "vectors": ("conformance.commands.vectors", "print the AWS recordings (fixtures/aws-vectors) behind a case, or --list them"),
    "reference": ("conformance.reference.server", "serve the reference endpoint: bucket CORS exactly as the model "
                  "says, optionally with one catalogued fault"),
    "power": ("conformance.commands.power", "run the suite against every catalogued fault and write docs/power.md"),
}


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (what is wrong, and where help is) and exit status 2."""

    def error(self, message: str):
        raise SuiteUsageError(f"{message} (see {self.prog} --help)")


def parser() -> Parser:
    """The parser of every command (each command's module is imported here)."""
    top = Parser(prog=PROG, description="Commands around the conformance suite (the suite itself: "
                 "python -m pytest --pyargs conformance).", epilog="Exit status 2 always means bad input "
                 "(a wrong argument, a missing or unreadable file); see each command's --help for the others.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module_name, text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or "").strip().split("\n\n")
        command = sub.add_parser(name, help=text, description=text + ".",
                                 epilog=doc[-1] if doc[-1].startswith("Exit status") else None)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return top


def main(argv: list[str]) -> int:
    """Parse the command line, run the command, return its exit status."""
    top = parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(f"{PROG}: unknown command '{argv[0]}'", file=sys.stderr)
        top.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        args = top.parse_args(argv)
        if args.command is None:
            top.print_help(sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except SuiteUsageError as exc:
        where = f"{PROG} {argv[0]}" if argv and argv[0] in COMMANDS else PROG
        print(f"{where}: {exc}" if not str(exc).startswith(PROG) else str(exc), file=sys.stderr)
        return EXIT_USAGE


def command(name: str, argv: list[str]) -> int:
    """Run one command as if given on the command line (for callers that have only its arguments)."""
    return main([name, *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
