"""Target profiles (fixtures/targets/*.toml) and the resolution of options, environment and profile into one Target."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.target.capabilities import Capability, stated
from conformance.target.launchers import LAUNCHERS
from conformance.errors import SuiteUsageError
from conformance.paths import fixtures_dir
from conformance.datafile import load_toml, reject_unknown_keys, wrong_type

DEFAULT_TARGET = "moto"
LAUNCH_KINDS = tuple(sorted(LAUNCHERS))  # the values 'launch' may take
OWNER_MODES = ("enforced", "ignored")
ADDRESSING = ("path", "virtual")
# Placeholder credentials for targets that accept any (moto, LocalStack); not secrets.
PLACEHOLDER_ACCESS_KEY = "s3cors-placeholder-access-key"
PLACEHOLDER_SECRET_KEY = "s3cors-placeholder-secret-key"

# Every key a profile may hold, with its type; anything else is an error, so a typo never goes unnoticed.
_SCHEMA: dict[str, Any] = {
    "description": str,
    "endpoint_url": str,
    "launch": str,
    "region": str,
    "location_constraint": str,
    "addressing": str,
    "verify_tls": bool,
    "ca_bundle": str,
    "expectations": str,
    "propagation_timeout": (int, float),
    "console_origins": list,
    "credentials": {"access_key_env": str, "secret_key_env": str, "session_token_env": str, "any": bool,
                    "from_server": bool},
    "owner": {"expected_bucket_owner": str, "account_id": str},
    "server": {"name": str, "ready_path": str, "ready_contains": str, "ready_timeout": (int, float)},
    "capabilities": {"bucket_cors": bool, "presigned_urls": bool, "virtual_host": bool,
                     "auth_enforced": bool, "post_object": bool},
}
_REQUIRED = ("description",)
# Keys that would hold a secret: refused with a pointer to the *_env form.
_SECRET_KEYS = {"access_key", "secret_key", "session_token", "aws_access_key_id", "aws_secret_access_key",
                "aws_session_token", "password", "secret"}
# us-east-1 is the one AWS region whose buckets are created without a LocationConstraint.
NO_LOCATION_REGION = "us-east-1"


@dataclass(frozen=True)
class Credentials:
    """Resolved credentials; never written anywhere."""

    access_key: str
    secret_key: str
    session_token: str | None = None
    origin: str = ""  # where they came from, for messages (never the values)

    def secrets(self) -> list[str]:
        """Values a report must never contain."""
        return [v for v in (self.access_key, self.secret_key, self.session_token) if v]


@dataclass(frozen=True)
class Target:
    """Everything the suite needs to know about the endpoint under test."""

    name: str
    description: str
    profile_path: str | None
    endpoint_url: str | None
    launch: str | None
    region: str
    addressing: str
    verify: bool | str
    expectations: str | None
    propagation_timeout: float = 10.0
    server: dict[str, Any] = field(default_factory=dict)
    # Every capability with its provenance (conformance/target/capabilities.py); unstated ones are probed at start-up.
    capabilities: dict[str, Capability] = field(default_factory=dict)
    # CreateBucket's LocationConstraint ("" sends none) and where that came from.
    location_constraint: str = ""
    location_source: str = "default"

    @property
    def owner_mode(self) -> str:
        """The ExpectedBucketOwner behaviour the target documents: enforced or ignored."""
        return self.capabilities["expected_bucket_owner"].value

    @property
    def account_id(self) -> str | None:
        """The owner account EBO cases send as the bucket owner's own (None: nobody established it)."""
        return self.capabilities["owner_account"].value
    # Origins the vendor trusts for its own web console ('{port}' = the endpoint's port): no bucket may grant them.
    console_origins: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        """The target as written into results.json (no credentials)."""
        return {
            "name": self.name, "description": self.description, "profile": self.profile_path,
            "endpoint_url": strip_userinfo(self.endpoint_url) if self.endpoint_url else None,
            "launch": self.launch, "region": self.region, "addressing": self.addressing,
            "location_constraint": {"value": self.location_constraint or None, "source": self.location_source},
            "verify_tls": self.verify if isinstance(self.verify, bool) else f"ca_bundle={self.verify}",
            "expected_bucket_owner": self.owner_mode,
            "capabilities": {name: cap.public() for name, cap in self.capabilities.items()},
            "console_origins": list(self.console_origins),
        }


def strip_userinfo(url: str) -> str:
    """Drop any user:password@ from a URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()


def validate_endpoint_url(url: str, where: str) -> str:
    """Check that url is an absolute http(s) URL with a host; return it without a trailing slash."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        raise SuiteUsageError(f"{where}: endpoint URL {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SuiteUsageError(
            f"{where}: endpoint URL {url!r} must be an absolute http:// or https:// URL with a host "
            f"(for example http://127.0.0.1:9000)")
    if parts.query or parts.fragment:
        raise SuiteUsageError(f"{where}: endpoint URL {url!r} must not have a query or fragment")
    return url.rstrip("/")


def profile_path(name: str) -> Path:
    """Map --target NAME or a path to the profile file."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return Path(name)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise SuiteUsageError(f"--target {name!r}: a target name has letters, digits, '.', '_' and '-' only")
    return fixtures_dir() / "targets" / f"{name}.toml"


def is_file(path: Path | str) -> bool:
    """Path.is_file that says False, not raises, for a name too long or otherwise unusable."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def known_targets() -> list[str]:
    """Names of the profiles shipped in fixtures/targets."""
    return sorted(p.stem for p in (fixtures_dir() / "targets").glob("*.toml"))


def _check_table(data: dict, schema: dict, path: Path, prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key.lower() in _SECRET_KEYS:
            raise SuiteUsageError(
                f"{path}: '{dotted}' would store a secret in a profile; name an environment variable "
                f"instead (e.g. '{key}_env' in [credentials])")
        if key not in schema:
            reject_unknown_keys(str(path), {dotted: value}, (f"{prefix}{k}" for k in schema))
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise wrong_type(str(path), dotted, f"a table ([{dotted}])", value)
            _check_table(value, expected, path, f"{dotted}.")
        elif not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            names = " or ".join(t.__name__ for t in expected) if isinstance(expected, tuple) else expected.__name__
            raise wrong_type(str(path), dotted, f"a {names}", value)


def load_profile(path: Path) -> dict[str, Any]:
    """Read and validate one profile file; every problem names the file and the field."""
    if not is_file(path):
        known = ", ".join(known_targets()) or "none"
        raise SuiteUsageError(f"{path}: no such target profile (shipped profiles: {known})")
    data = load_toml(path)
    _check_table(data, _SCHEMA, path)
    for key in _REQUIRED:
        if key not in data:
            raise SuiteUsageError(f"{path}: required field '{key}' is missing")
    if "launch" in data and data["launch"] not in LAUNCH_KINDS:
        raise SuiteUsageError(f"{path}: 'launch' must be one of {', '.join(LAUNCH_KINDS)}, not {data['launch']!r}")
    if data.get("launch") == "server" and not data.get("server", {}).get("name"):
        raise SuiteUsageError(f"{path}: launch = \"server\" needs [server] name (a folder of fixtures/servers)")
    if "endpoint_url" in data:
        validate_endpoint_url(data["endpoint_url"], f"{path}: 'endpoint_url'")
    if data.get("addressing", "path") not in ADDRESSING:
        raise SuiteUsageError(f"{path}: 'addressing' must be 'path' or 'virtual', not {data['addressing']!r}")
    owner = data.get("owner", {})
    if owner.get("expected_bucket_owner", "enforced") not in OWNER_MODES:
        raise SuiteUsageError(f"{path}: 'owner.expected_bucket_owner' must be 'enforced' or 'ignored', "
                              f"not {owner['expected_bucket_owner']!r}")
    if not 0 <= data.get("propagation_timeout", 1) < 3600:  # also refuses nan, which would poll forever
        raise SuiteUsageError(f"{path}: 'propagation_timeout' must be a number of seconds from 0 to 3600")
    creds = data.get("credentials", {})
    if ("access_key_env" in creds) != ("secret_key_env" in creds) or (
            "session_token_env" in creds and "access_key_env" not in creds):
        raise SuiteUsageError(f"{path}: [credentials] needs both 'access_key_env' and 'secret_key_env' "
                              f"('session_token_env' is optional)")
    if "ca_bundle" in data and not is_file(data["ca_bundle"]):
        raise SuiteUsageError(f"{path}: 'ca_bundle' {data['ca_bundle']!r}: no such file")
    if "account_id" in owner and not re.fullmatch(r"\d{12}", owner["account_id"]):
        raise SuiteUsageError(f"{path}: 'owner.account_id' must be a 12-digit account ID")
    for origin in data.get("console_origins", []):
        if not isinstance(origin, str) or not origin.strip():
            raise SuiteUsageError(f"{path}: 'console_origins' must be a list of non-empty strings, not "
                                  f"{data['console_origins']!r}")
    return data


@dataclass
class Settings:
    """Raw option values (command line, else environment twin); None = not given."""

    target: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    addressing: str | None = None
    verify_tls: bool | None = None
    ca_bundle: str | None = None
    expectations: str | None = None
    expected_bucket_owner: str | None = None
    account_id: str | None = None
    location_constraint: str | None = None


def location_constraint(settings: Settings, data: dict[str, Any], region: str) -> tuple[str, str]:
    """CreateBucket's LocationConstraint and its source: option, profile, else the region (none for us-east-1).

    The signing region and the bucket location are separate: on IBM COS the location is a provisioning code
    (us-south-standard) or none, never the region (us-south)."""
    if settings.location_constraint is not None:
        value = settings.location_constraint
        return ("" if value == "none" else value), "option --location-constraint"
    if "location_constraint" in data:
        return data["location_constraint"], "profile location_constraint"
    if region == NO_LOCATION_REGION:
        return "", f"default: none in {NO_LOCATION_REGION}"
    return region, "default: the region"


def resolve_target(settings: Settings) -> tuple[Target, dict[str, Any]]:
    """Combine options, environment and the profile into a Target (options win); also return the profile."""
    explicit_target = settings.target is not None
    name = settings.target or (None if settings.endpoint_url else DEFAULT_TARGET)
    data: dict[str, Any] = {}
    path = None
    if name:
        path = profile_path(name)
        data = load_profile(path)
        name = path.stem
    endpoint = settings.endpoint_url
    if endpoint is not None:
        endpoint = validate_endpoint_url(endpoint, "--endpoint-url")
    launch = None if endpoint else data.get("launch")
    endpoint = endpoint or data.get("endpoint_url")
    if not endpoint and not launch:
        raise SuiteUsageError(f"{path}: the profile has neither 'endpoint_url' nor 'launch'; "
                              f"give --endpoint-url or add one of them")
    addressing = settings.addressing or data.get("addressing", "path")
    if addressing not in ADDRESSING:
        raise SuiteUsageError(f"--addressing: must be 'path' or 'virtual', not {addressing!r}")
    verify: bool | str = data.get("verify_tls", True) if settings.verify_tls is None else settings.verify_tls
    ca_bundle = settings.ca_bundle or data.get("ca_bundle")
    if ca_bundle and verify:
        if not is_file(ca_bundle):
            raise SuiteUsageError(f"--ca-bundle: no such file {ca_bundle!r}")
        verify = ca_bundle
    if settings.expected_bucket_owner and settings.expected_bucket_owner not in OWNER_MODES:
        raise SuiteUsageError(f"--expected-bucket-owner: must be 'enforced' or 'ignored', "
                              f"not {settings.expected_bucket_owner!r}")
    if settings.account_id and not re.fullmatch(r"\d{12}", settings.account_id):
        raise SuiteUsageError(f"--account-id: {settings.account_id!r} is not a 12-digit account ID")
    region = settings.region or data.get("region", "us-east-1")
    location, location_source = location_constraint(settings, data, region)
    expectations = settings.expectations if settings.expectations is not None else data.get("expectations")
    if expectations in ("", "none"):
        expectations = None
    if settings.endpoint_url and not explicit_target:
        name = "endpoint"
    return Target(
        name=name or "endpoint",
        description=data.get("description") or f"S3 endpoint {strip_userinfo(endpoint or '')}",
        profile_path=str(path) if path else None,
        endpoint_url=endpoint,
        launch=launch,
        region=region,
        addressing=addressing,
        verify=verify,
        expectations=expectations,
        propagation_timeout=float(data.get("propagation_timeout", 10.0)),
        server=dict(data.get("server", {})),
        capabilities=stated(data, settings.expected_bucket_owner, settings.account_id),
        location_constraint=location,
        location_source=location_source,
        console_origins=tuple(data.get("console_origins", ())),
    ), data


def resolve_credentials(target: Target, profile: dict[str, Any] | None, environ=os.environ) -> Credentials:
    """Credentials from the variables the profile names, else the standard AWS variables and files."""
    creds_cfg = (profile or {}).get("credentials", {})
    if creds_cfg.get("from_server") and target.launch:
        # The server's start script makes the credentials; they are read once it is up (read_server_credentials).
        return Credentials(PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY, origin="the started server")
    named = {k: creds_cfg[k] for k in ("access_key_env", "secret_key_env", "session_token_env") if k in creds_cfg}
    if named:
        missing = [environ_name for key, environ_name in named.items()
                   if key != "session_token_env" and not environ.get(environ_name)]
        if not missing:
            return Credentials(environ[named["access_key_env"]], environ[named["secret_key_env"]],
                               environ.get(named.get("session_token_env", "")) or None,
                               origin=f"variables {', '.join(named.values())}")
        if not creds_cfg.get("any"):
            raise SuiteUsageError(f"{target.profile_path}: credentials are read from "
                                  f"{', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not set")
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return Credentials(environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"],
                           environ.get("AWS_SESSION_TOKEN") or None, origin="AWS_* environment variables")
    found = _botocore_credentials()
    if found:
        return found
    if creds_cfg.get("any"):
        return Credentials(PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY, origin="placeholders (target accepts any)")
    raise SuiteUsageError(
        "no credentials for the target: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE), or use a profile whose [credentials] names the variables to read")


def _botocore_credentials() -> Credentials | None:
    # Shared files and AWS_PROFILE only: instance metadata is disabled (no network lookups from a test run).
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    import botocore.session

    try:
        creds = botocore.session.Session().get_credentials()
    except Exception:  # a broken ~/.aws/config is reported as "no credentials" below
        return None
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token, origin="botocore credential chain")


def read_server_credentials(path: Path) -> Credentials:
    """Credentials a started server wrote (lines AWS_ACCESS_KEY_ID=..., AWS_SECRET_ACCESS_KEY=...)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    if not values.get("AWS_ACCESS_KEY_ID") or not values.get("AWS_SECRET_ACCESS_KEY"):
        raise SuiteUsageError(f"{path}: the server wrote no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    return Credentials(values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"], origin="the started server")
