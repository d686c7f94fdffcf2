"""Options shared by the pytest plugin and the commands: their declarations and their S3CORS_* environment twins.

Each option is (flag, environment twin, argparse keywords). The command line wins over the environment."""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from conformance.errors import SuiteUsageError
from conformance.target.inflight import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from conformance.target.profiles import Settings

Option = tuple[str, str, dict[str, Any]]

# What names the target and how to reach it: the suite and `python -m conformance cleanup` both take these.
TARGET_OPTIONS: list[Option] = [
    ("--target", "S3CORS_TARGET", {"metavar": "NAME|PATH",
     "help": "target profile: fixtures/targets/NAME.toml or a path to a .toml file (default: moto, embedded)"}),
    ("--endpoint-url", "S3CORS_ENDPOINT_URL", {"metavar": "URL",
     "help": "S3 endpoint to test; with --target it overrides the profile's endpoint and nothing is started"}),
    ("--region", "S3CORS_REGION", {"metavar": "REGION", "help": "signing region (default: profile, else us-east-1)"}),
    ("--location-constraint", "S3CORS_LOCATION_CONSTRAINT", {"metavar": "CODE|none",
     "help": "CreateBucket LocationConstraint (default: profile, else the region; none in us-east-1)"}),
    ("--addressing", "S3CORS_ADDRESSING", {"choices": ["path", "virtual"], "help": "bucket addressing style"}),
    ("--no-verify-tls", "S3CORS_VERIFY_TLS", {"action": "store_true", "default": None,
     "help": "do not verify the endpoint's TLS certificate (env: S3CORS_VERIFY_TLS=0)"}),
    ("--ca-bundle", "S3CORS_CA_BUNDLE", {"metavar": "PATH", "help": "CA bundle to verify the endpoint with"}),
]

# How many requests a run keeps in flight at once, and so how many connections it uses on the target.
CONCURRENCY_OPTION: Option = (
    "--concurrency", "S3CORS_CONCURRENCY", {"type": int, "metavar": "N",
     "help": f"requests in flight at once per run, shared by its -n workers (at least one each); also the most "
             f"connections the run uses at once on the target; 1 sends one request after another "
             f"(default {DEFAULT_CONCURRENCY}, at most {MAX_CONCURRENCY})"})


def concurrency(value: int | None) -> int:
    """The --concurrency of a run, checked (default when not given)."""
    if value is None:
        return DEFAULT_CONCURRENCY
    if not 1 <= value <= MAX_CONCURRENCY:
        raise SuiteUsageError(f"--concurrency: must be a whole number from 1 to {MAX_CONCURRENCY}, not {value}")
    return value


def per_worker(total: int, workers: int) -> int:
    """One xdist worker's share of the run's concurrency (at least 1, so -n above N still runs)."""
    return max(1, total // max(1, workers))


def dest(flag: str) -> str:
    """The attribute an option's value is stored under (s3cors_ + the flag's name)."""
    return "s3cors_" + flag[2:].replace("-", "_")


def env_bool(name: str, value: str) -> bool:
    """An environment variable's yes/no value."""
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise SuiteUsageError(f"environment variable {name}={value!r}: use 1/0, true/false, yes/no or on/off")


def resolve(options: list[Option], flag: str, given: Any, environ: Mapping[str, str] = os.environ) -> Any:
    """An option's value: the command line's if given, else its environment twin's (converted and validated)."""
    if given is not None:
        return given
    env, kwargs = next((e, k) for f, e, k in options if f == flag)
    raw = environ.get(env)
    if raw is None or raw == "":
        return None
    if kwargs.get("action") == "store_true":
        value = env_bool(env, raw)
        return (not value) if flag == "--no-verify-tls" else value
    if kwargs.get("action") == "append":
        return [p.strip() for p in raw.split(",") if p.strip()]
    if kwargs.get("type") in (float, int):
        try:
            return kwargs["type"](raw)
        except ValueError:
            raise SuiteUsageError(f"environment variable {env}={raw!r}: not a number") from None
    if "choices" in kwargs and raw not in kwargs["choices"]:
        raise SuiteUsageError(f"environment variable {env}={raw!r}: must be one of {', '.join(kwargs['choices'])}")
    return raw


def target_settings(value: Callable[[str], Any], **more: Any) -> Settings:
    """Settings from the target options, each read with value(flag)."""
    verify = value("--no-verify-tls")
    return Settings(target=value("--target"), endpoint_url=value("--endpoint-url"), region=value("--region"),
                    addressing=value("--addressing"), verify_tls=None if verify is None else not verify,
                    ca_bundle=value("--ca-bundle"), location_constraint=value("--location-constraint"), **more)
