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
