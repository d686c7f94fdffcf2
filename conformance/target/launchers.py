"""Launcher kinds: what a profile's `launch = "KIND"` starts for a run. The one place a kind is registered.

A launcher has start() -> endpoint URL and stop() (idempotent); one that makes its own keys has a
credentials_file (read when the profile says [credentials] from_server = true)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from conformance.target.profiles import Target


def _embedded_moto(target: Target, reports_dir: Path) -> Any:
    from conformance.target.embedded import EmbeddedMoto

    return EmbeddedMoto(target)


def _reference(target: Target, reports_dir: Path) -> Any:
    from conformance.reference.server import ReferenceServer

    return ReferenceServer.for_target(target)


def _script_server(target: Target, reports_dir: Path) -> Any:
    from conformance.target.local_servers import ScriptServer

    cfg = target.server
    return ScriptServer(cfg["name"], reports_dir, ready_path=cfg.get("ready_path", "/"),
                        ready_contains=cfg.get("ready_contains"), ready_timeout=cfg.get("ready_timeout", 60))


# launch value -> factory(target, reports directory) of a launcher (imports are lazy: a kind costs nothing
# until a profile asks for it)
LAUNCHERS: dict[str, Callable[[Target, Path], Any]] = {
    "embedded-moto": _embedded_moto,   # moto's server in-process (the default target)
    "reference": _reference,           # the suite's reference endpoint in-process (conformance/reference)
    "server": _script_server,          # fixtures/servers/NAME/start.sh ([server] in the profile)
}


def make_launcher(target: Target, reports_dir: Path) -> Any:
    """The launcher a profile asks for (its `launch` value was checked when the profile was read)."""
    return LAUNCHERS[target.launch](target, reports_dir)
