"""Where the suite's data lives, in a checkout and in an installed package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    """The fixtures directory: conformance/fixtures when installed, else fixtures/ beside the package."""
    installed = PACKAGE_DIR / "fixtures"
    if (installed / "targets").is_dir():
        return installed
    return PACKAGE_DIR.parent / "fixtures"


def docs_dir() -> Path:
    """The documents shipped with the suite: conformance/docs when installed, else docs/ beside the package."""
    installed = PACKAGE_DIR / "docs"
    if (installed / "spec.md").is_file():
        return installed
    return PACKAGE_DIR.parent / "docs"


def spec_path() -> Path:
    """docs/spec.md: the behaviour the suite checks, which every § and Q reference points into."""
    return docs_dir() / "spec.md"
