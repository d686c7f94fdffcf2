"""The report formats made from results.json: the one place a format is registered.

A format is a module of conformance/reports with a function write(document, path) whose only input is the
results.json document as written. The run writes every format registered here into the reports directory,
and a certification bundle (--certify) writes every one into the bundle; adding a format is its module plus
one line below."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from conformance.reports import html_report, junit


@dataclass(frozen=True)
class Writer:
    """One report format: its file name (in the reports directory and in a bundle) and how it is written."""

    file: str
    write: Callable[[dict, Path], None]
    note: str = ""  # shown after the file name in the run's last line


WRITERS: tuple[Writer, ...] = (
    Writer("report.html", html_report.write_html, "open in a browser"),
    Writer("junit.xml", junit.write_junit),
)


def write_all(document: dict, directory: Path) -> list[Path]:
    """Write every registered format of a results.json document into a directory; the files written."""
    written = []
    for writer in WRITERS:
        path = directory / writer.file
        writer.write(document, path)
        written.append(path)
    return written
