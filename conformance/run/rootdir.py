"""Working around pytest's choice of root directory and ini file, and giving every run of the suite the
suite's settings whether or not a pytest.ini was found (an installed suite run from anywhere has none).

pytest decides its root directory and ini file before any plugin's options are known, so in
'--reports-dir /tmp/x' it takes /tmp/x for a test path. This module gives such values back to their options
and decides again, using pytest internals (pytest is pinned)."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

from conformance.paths import PACKAGE_DIR

# Options whose value may name an existing file or directory.
PATH_OPTIONS = ("--target", "--expectations", "--ca-bundle", "--reports-dir", "--bundle-dir", "--chromium",
                "--alluredir")

# What pytest.ini gives a run in the checkout; the plugin gives the same to every run that collects the
# conformance package.
SUITE_INI = {"xfail_strict": "true"}
# Hypothesis notes a change of the global `random` state while it draws, as a strategy's doing; when examples are
# drawn ahead, in a thread, other threads (botocore's retry jitter, an embedded server) are the ones using it.
RANDOM_IN_STRATEGY = "Do not use the `random` module inside strategies"
SUITE_FILTERWARNINGS = ["error::pytest.PytestUnknownMarkWarning",
                        f"ignore:{RANDOM_IN_STRATEGY}:hypothesis.errors.HypothesisDeprecationWarning"]


def join_path_values(args: list[str]) -> list[str]:
    """'--reports-dir /tmp/x' becomes '--reports-dir=/tmp/x' (up to a '--'), so no value is a test path."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg in PATH_OPTIONS and i + 1 < len(args):
            out.append(f"{arg}={args[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _redo_setup(config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Decide the root directory and ini file again, now that option values are no longer test paths.

    This is what pytest did in Config.parse with the wrong paths."""
    from _pytest.config.findpaths import determine_setup

    ns = parser.parse_known_args(args)
    rootpath, inipath, inicfg, _ignored = determine_setup(
        inifile=ns.inifilename, override_ini=ns.override_ini, args=ns.file_or_dir,
        rootdir_cmd_arg=ns.rootdir or None, invocation_dir=config.invocation_params.dir)
    if (rootpath, inipath) != (config.rootpath, config.inipath):
        config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
        config._inicache.clear()
        parser.extra_info["rootdir"], parser.extra_info["inifile"] = str(rootpath), str(inipath)
        addopts = list(config.getini("addopts")) if inipath else []
        if addopts:  # the ini's addopts, which pytest would have put first (-p no:cacheprovider among them)
            args[:] = addopts + args
            config.pluginmanager.consider_preparse(addopts, exclude_only=False)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    if config.known_args_namespace.confcutdir is None:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)


def collects_package(paths: list[str], pyargs: bool, invocation_dir: Path) -> bool:
    """True when one of the test paths (or --pyargs names) is the conformance package or contains it."""
    for arg in paths:
        base = str(arg).split("::", 1)[0]
        path: Path | None = None
        if pyargs:
            try:
                spec = importlib.util.find_spec(base)
            except (ImportError, ValueError):
                spec = None
            if spec is not None and spec.origin:
                path = Path(spec.origin)
        if path is None:
            path = Path(invocation_dir, base)
        path = path.resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents or (path.is_dir() and path in PACKAGE_DIR.parents):
            return True
    return False


def runs_suite(config: pytest.Config) -> bool:
    """True when the run collects the conformance package (so a target is needed)."""
    return collects_package(config.args, config.option.pyargs, config.invocation_params.dir)


def settle(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Before conftests and collection: give option values back to their options, and give a run of the
    suite the suite's ini settings."""
    joined = join_path_values(args)
    if joined != args:
        args[:] = joined
        _redo_setup(early_config, parser, args)
    ns = early_config.known_args_namespace
    paths = list(ns.file_or_dir or []) or list(early_config.getini("testpaths") or [])
    if not collects_package(paths, ns.pyargs, early_config.invocation_params.dir):
        return
    from _pytest.config.findpaths import parse_override_ini

    # No .pytest_cache in the working directory (pytest.ini says -p no:cacheprovider).
    for name in ("cacheprovider", "pytest_cacheprovider", "stepwise", "pytest_stepwise"):  # as -p no:cacheprovider
        early_config.pluginmanager.set_blocked(name)
    overrides = set(parse_override_ini(ns.override_ini))
    early_config._inicfg.update({k: v for k, v in parse_override_ini(
        [f"{k}={v}" for k, v in SUITE_INI.items()]).items() if k not in overrides})
    early_config._inicache.clear()


def suite_warning_filters(config: pytest.Config) -> None:
    """pytest.ini's filterwarnings, for a run that did not read it."""
    have = config.getini("filterwarnings")
    for line in SUITE_FILTERWARNINGS:
        if line not in have:
            config.addinivalue_line("filterwarnings", line)


def refuse_lost_ini(config: pytest.Config) -> None:
    """Stop a run whose pytest.ini was skipped because pytest mistook an option's value for a test path.

    settle() gives option values back, so this only happens where it could not: a value given to an option
    of another plugin, or an unusual spelling (an abbreviated option name)."""
    ini = Path(config.invocation_params.dir, "pytest.ini")
    if config.inipath is None and ini.is_file() and "conformance" in ini.read_text(encoding="utf-8", errors="replace"):
        paths = [a for a in config.invocation_params.args if not str(a).startswith("-") and Path(a).exists()]
        taken = f"'{paths[0]}'" if paths else "an option value"
        raise pytest.UsageError(
            f"pytest took {taken} for a test path (it reads its command line before the suite's options are known), "
            f"chose {config.rootpath} as its root directory and did not read {ini}. Write that option with '=' "
            f"and no space, for a file as for a directory: --OPTION={paths[0] if paths else 'VALUE'}")
