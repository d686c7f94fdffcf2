"""Target profiles: load_profile, validate_endpoint_url, resolve_target and resolve_credentials (no network)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.errors import SuiteUsageError
from conformance.target.profiles import (PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY, Settings,
                                 known_targets, load_profile, profile_path, resolve_credentials, resolve_target,
                                 read_server_credentials, validate_endpoint_url)

BASE = 'description = "x"\nendpoint_url = "http://127.0.0.1:9"\n'


def write(tmp_path: Path, text: str, name: str = "target.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def naming(path: Path | str, field: str):
    """pytest.raises for a SuiteUsageError whose message names the file and then the field (a regex)."""
    return pytest.raises(SuiteUsageError, match=f"(?s){re.escape(str(path))}.*{field}")


# ---- load_profile -----------------------------------------------------------------------------------------

def test_shipped_profiles_load():
    assert "moto" in known_targets()
    for name in known_targets():
        data = load_profile(profile_path(name))
        assert data["description"].strip()


def test_a_profile_using_every_key_loads(tmp_path):
    (tmp_path / "ca.pem").write_text("not checked here")
    path = write(tmp_path, BASE + 'region = "eu-west-1"\naddressing = "virtual"\nverify_tls = false\n'
                 f'ca_bundle = "{tmp_path / "ca.pem"}"\nexpectations = "none"\npropagation_timeout = 2\n'
                 '[credentials]\naccess_key_env = "AK"\nsecret_key_env = "SK"\nsession_token_env = "ST"\nany = false\n'
                 '[owner]\nexpected_bucket_owner = "ignored"\naccount_id = "000000000000"\n'
                 '[capabilities]\nbucket_cors = true\npresigned_urls = false\nvirtual_host = true\n'
                 'auth_enforced = true\npost_object = false\n')
    path.write_text('console_origins = ["https://console.example", "http://localhost:{port}"]\n' + path.read_text())
    data = load_profile(path)
    assert data["owner"]["account_id"] == "000000000000" and data["propagation_timeout"] == 2


PROFILE_ERRORS = [
    pytest.param(BASE + 'endpoint_ur = "typo"\n', r"unknown key 'endpoint_ur'", id="unknown-top-level"),
    pytest.param(BASE + '[credentials]\naccess_env = "A"\n', r"unknown key 'credentials\.access_env'",
                 id="unknown-in-credentials"),
    pytest.param(BASE + '[owner]\nmode = "enforced"\n', r"unknown key 'owner\.mode'", id="unknown-in-owner"),
    pytest.param(BASE + '[capabilities]\ncors = true\n', r"unknown key 'capabilities\.cors'",
                 id="unknown-in-capabilities"),
    pytest.param(BASE + '[credentials]\nsecret_key = "s"\n',
                 r"'credentials\.secret_key' would store a secret.*'secret_key_env'", id="secret_key"),
    pytest.param(BASE + '[credentials]\naccess_key = "a"\n',
                 r"'credentials\.access_key' would store a secret.*'access_key_env'", id="access_key"),
    pytest.param(BASE + '[credentials]\nsession_token = "t"\n',
                 r"'credentials\.session_token' would store a secret.*'session_token_env'", id="session_token"),
    pytest.param(BASE + 'secret_key = "s"\n', r"'secret_key' would store a secret.*'secret_key_env'",
                 id="secret_key-top-level"),
    pytest.param('endpoint_url = "http://127.0.0.1:9"\n', r"required field 'description' is missing",
                 id="missing-description"),
    pytest.param('description = 1\n', r"'description' must be a str, not int", id="description-int"),
    pytest.param(BASE + 'verify_tls = "no"\n', r"'verify_tls' must be a bool, not str", id="verify_tls-str"),
    pytest.param(BASE + 'propagation_timeout = true\n', r"'propagation_timeout' must be a int or float, not bool",
                 id="timeout-bool"),
    pytest.param(BASE + 'propagation_timeout = "5"\n', r"'propagation_timeout' must be a int or float, not str",
                 id="timeout-str"),
    pytest.param(BASE + 'propagation_timeout = -1\n', r"'propagation_timeout' must be a number of seconds from 0 to 3600",
                 id="timeout-negative"),
    pytest.param(BASE + 'credentials = "env"\n', r"'credentials' must be a table", id="credentials-not-table"),
    pytest.param(BASE + '[credentials]\nany = 1\n', r"'credentials\.any' must be a bool, not int",
                 id="credentials-any-int"),
    pytest.param(BASE + '[capabilities]\nbucket_cors = "yes"\n', r"'capabilities\.bucket_cors' must be a bool",
                 id="capability-str"),
    pytest.param(BASE + '[owner]\naccount_id = 123456789012\n', r"'owner\.account_id' must be a str, not int",
                 id="account_id-int"),
    pytest.param(BASE + 'launch = "docker-moto"\n', r"'launch' must be one of embedded-moto, reference, server, not 'docker-moto'",
                 id="bad-launch"),
    pytest.param(BASE + 'addressing = "vhost"\n', r"'addressing' must be 'path' or 'virtual', not 'vhost'",
                 id="bad-addressing"),
    pytest.param(BASE + '[owner]\nexpected_bucket_owner = "strict"\n',
                 r"'owner\.expected_bucket_owner' must be 'enforced' or 'ignored', not 'strict'", id="bad-owner-mode"),
    pytest.param(BASE + '[owner]\naccount_id = "12345"\n', r"'owner\.account_id' must be a 12-digit",
                 id="account_id-short"),
    pytest.param(BASE + '[owner]\naccount_id = "1234567890123"\n', r"'owner\.account_id' must be a 12-digit",
                 id="account_id-13-digits"),
    pytest.param(BASE + '[owner]\naccount_id = "12345678901a"\n', r"'owner\.account_id' must be a 12-digit",
                 id="account_id-letter"),
    pytest.param('description = "x"\nendpoint_url = "127.0.0.1:9000"\n',
                 r"'endpoint_url'.*'127\.0\.0\.1:9000' must be an absolute http:// or https:// URL", id="no-scheme"),
    pytest.param('description = "x"\nendpoint_url = "http://127.0.0.1:9000/?a=1"\n',
                 r"'endpoint_url'.*must not have a query", id="query"),
    pytest.param('description = "x"\nendpoint_url = "http://127.0.0.1:9000/#f"\n',
                 r"'endpoint_url'.*must not have a query or fragment", id="fragment"),
    pytest.param('description = "x"\nendpoint_url = "ftp://127.0.0.1/"\n',
                 r"'endpoint_url'.*'ftp://127\.0\.0\.1/' must be an absolute http", id="ftp"),
    pytest.param('description = "x"\nendpoint_url = "http:///bucket"\n',
                 r"'endpoint_url'.*must be an absolute http", id="no-host"),
    pytest.param('description = "x"\nendpoint_url = "http://127.0.0.1:99999"\n',
                 r"'endpoint_url'.*not a valid URL \(Port out of range", id="bad-port"),
    pytest.param('description = "unterminated\n', r"not valid TOML", id="malformed-toml"),
    pytest.param(BASE + 'console_origins = "https://c.example"\n', r"'console_origins' must be a list, not str",
                 id="console_origins-str"),
    pytest.param(BASE + 'console_origins = ["https://c.example", 1]\n', r"'console_origins' must be a list of "
                 "non-empty strings", id="console_origins-int-item"),
    pytest.param(BASE + 'console_origins = [""]\n', r"'console_origins' must be a list of non-empty strings",
                 id="console_origins-empty-item"),
]


@pytest.mark.parametrize(("text", "field"), PROFILE_ERRORS)
def test_profile_errors_name_file_and_field(tmp_path, text, field):
    path = write(tmp_path, text)
    with naming(path, field):
        load_profile(path)


def test_profile_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'description = "caf\xe9"\n')
    with naming(path, "not valid TOML"):
        load_profile(path)


def test_missing_profile_lists_shipped_ones(tmp_path):
    path = tmp_path / "nope.toml"
    with naming(path, r"no such target profile \(shipped profiles: .*moto"):
        load_profile(path)


def test_unbalanced_ipv6_endpoint_is_a_usage_error(tmp_path):
    path = write(tmp_path, 'description = "x"\nendpoint_url = "http://[::1:9000"\n')
    with naming(path, "'endpoint_url'"):
        load_profile(path)


def test_nan_propagation_timeout_is_refused(tmp_path):
    path = write(tmp_path, BASE + "propagation_timeout = nan\n")
    with naming(path, "'propagation_timeout'"):
        load_profile(path)


# ---- validate_endpoint_url and profile_path ---------------------------------------------------------------

@pytest.mark.parametrize(("url", "result"), [
    pytest.param("http://127.0.0.1:9000/", "http://127.0.0.1:9000", id="trailing-slash"),
    pytest.param("https://s3.example.com", "https://s3.example.com", id="https"),
    pytest.param("http://[::1]:9000", "http://[::1]:9000", id="ipv6"),
    pytest.param("http://h:9000/prefix/", "http://h:9000/prefix", id="path-prefix"),
])
def test_valid_endpoint_urls(url, result):
    assert validate_endpoint_url(url, "--endpoint-url") == result


def test_endpoint_errors_name_where():
    with pytest.raises(SuiteUsageError, match=r"^--endpoint-url: endpoint URL '127\.0\.0\.1:9000'"):
        validate_endpoint_url("127.0.0.1:9000", "--endpoint-url")


def test_profile_path_forms(tmp_path):
    assert profile_path("moto").name == "moto.toml" and profile_path("moto").parent.name == "targets"
    assert profile_path("x.toml") == Path("x.toml")
    assert profile_path(str(tmp_path / "p")) == tmp_path / "p"
    with pytest.raises(SuiteUsageError, match=r"--target 'bad name!'"):
        profile_path("bad name!")


# ---- resolve_target ---------------------------------------------------------------------------------------

def test_default_target_is_embedded_moto():
    target, data = resolve_target(Settings())
    assert (target.name, target.launch, target.endpoint_url) == ("moto", "embedded-moto", None)
    assert target.profile_path.endswith("moto.toml") and data["launch"] == "embedded-moto"
    assert target.expectations == "moto" and target.owner_mode == "enforced"
    assert target.account_id == "123456789012" and target.region == "us-east-1" and target.verify is True
    stated = {name: cap.value for name, cap in target.capabilities.items() if cap.source == "profile"}
    assert stated == {**data["capabilities"], "expected_bucket_owner": "enforced", "owner_account": "123456789012"}
    assert target.capabilities["bucket_cors"].source == "unknown"  # not stated: probed at start-up


def test_endpoint_url_alone():
    target, data = resolve_target(Settings(endpoint_url="http://127.0.0.1:9000/"))
    assert (target.name, target.launch, target.profile_path, data) == ("endpoint", None, None, {})
    assert target.endpoint_url == "http://127.0.0.1:9000" and target.expectations is None
    assert "127.0.0.1:9000" in target.description
    # Nothing is assumed: every capability is probed, except the ones no probe can tell.
    assert {n: (c.value, c.source) for n, c in target.capabilities.items()} == {
        "bucket_cors": (None, "unknown"), "auth_enforced": (None, "unknown"), "presigned_urls": (None, "unknown"),
        "virtual_host": (None, "unknown"), "post_object": (False, "default"),
        "expected_bucket_owner": ("enforced", "default"), "owner_account": (None, "unknown")}
    assert (target.location_constraint, target.location_source) == ("", "default: none in us-east-1")


def test_target_and_endpoint_url_override_the_profile(tmp_path):
    target, _ = resolve_target(Settings(target="moto", endpoint_url="http://127.0.0.1:9001"))
    assert (target.name, target.launch, target.endpoint_url) == ("moto", None, "http://127.0.0.1:9001")
    path = write(tmp_path, BASE, "mine.toml")
    target, _ = resolve_target(Settings(target=str(path), endpoint_url="https://other:443"))
    assert (target.name, target.endpoint_url, target.profile_path) == ("mine", "https://other:443", str(path))


OWNED = BASE + ('region = "eu-west-1"\naddressing = "virtual"\nverify_tls = false\nexpectations = "moto"\n'
                '[owner]\nexpected_bucket_owner = "ignored"\naccount_id = "111111111111"\n')


def test_profile_values_apply_without_options(tmp_path):
    target, _ = resolve_target(Settings(target=str(write(tmp_path, OWNED))))
    assert (target.region, target.addressing, target.verify) == ("eu-west-1", "virtual", False)
    assert (target.owner_mode, target.account_id, target.expectations) == ("ignored", "111111111111", "moto")


def test_options_win_over_the_profile(tmp_path):
    target, _ = resolve_target(Settings(
        target=str(write(tmp_path, OWNED)), region="ap-south-1", addressing="path", verify_tls=True,
        expected_bucket_owner="enforced", account_id="222222222222", expectations="other"))
    assert (target.region, target.addressing, target.verify) == ("ap-south-1", "path", True)
    assert (target.owner_mode, target.account_id, target.expectations) == ("enforced", "222222222222", "other")
    assert target.capabilities["owner_account"].source == "option"
    assert target.capabilities["expected_bucket_owner"].detail == "--expected-bucket-owner"


@pytest.mark.parametrize("profile, option, expected", [
    pytest.param("", None, ("eu-west-1", "default: the region"), id="region-by-default"),
    pytest.param('location_constraint = "us-south-standard"\n', None,
                 ("us-south-standard", "profile location_constraint"), id="profile-code"),
    pytest.param('location_constraint = ""\n', None, ("", "profile location_constraint"), id="profile-none"),
    pytest.param('location_constraint = "x"\n', "none", ("", "option --location-constraint"), id="option-none"),
    pytest.param("", "eu-de-smart", ("eu-de-smart", "option --location-constraint"), id="option-code"),
])
def test_bucket_location_is_separate_from_the_region(tmp_path, profile, option, expected):
    path = write(tmp_path, BASE + 'region = "eu-west-1"\n' + profile)
    target, _ = resolve_target(Settings(target=str(path), location_constraint=option))
    assert target.region == "eu-west-1"
    assert (target.location_constraint, target.location_source) == expected


@pytest.mark.parametrize("value", [pytest.param("none", id="none"), pytest.param("", id="empty")])
def test_expectations_none_disables(value):
    target, _ = resolve_target(Settings(expectations=value))
    assert target.expectations is None


OPTION_ERRORS = [
    pytest.param(Settings(addressing="vhost"), r"^--addressing: .*'vhost'", id="addressing"),
    pytest.param(Settings(expected_bucket_owner="strict"), r"^--expected-bucket-owner: .*'strict'", id="owner"),
    pytest.param(Settings(account_id="123"), r"^--account-id: '123' is not a 12-digit", id="account-id"),
    pytest.param(Settings(endpoint_url="127.0.0.1:9000"), r"^--endpoint-url: endpoint URL '127\.0\.0\.1:9000'",
                 id="endpoint-no-scheme"),
    pytest.param(Settings(endpoint_url="ftp://h/"), r"^--endpoint-url: endpoint URL 'ftp://h/'", id="endpoint-ftp"),
    pytest.param(Settings(target="no such"), r"^--target 'no such'", id="target-name"),
]


@pytest.mark.parametrize(("options", "field"), OPTION_ERRORS)
def test_bad_option_values(options, field):
    with pytest.raises(SuiteUsageError, match=field):
        resolve_target(options)


def test_profile_without_endpoint_or_launch(tmp_path):
    path = write(tmp_path, 'description = "x"\n')
    with naming(path, "neither 'endpoint_url' nor 'launch'"):
        resolve_target(Settings(target=str(path)))
    assert resolve_target(Settings(target=str(path), endpoint_url="http://h:1"))[0].endpoint_url == "http://h:1"


def test_ca_bundle(tmp_path):
    missing = tmp_path / "missing.pem"
    with pytest.raises(SuiteUsageError, match=f"^--ca-bundle: no such file '{re.escape(str(missing))}'"):
        resolve_target(Settings(endpoint_url="https://h", ca_bundle=str(missing)))
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert resolve_target(Settings(endpoint_url="https://h", ca_bundle=str(bundle)))[0].verify == str(bundle)
    off = resolve_target(Settings(endpoint_url="https://h", ca_bundle=str(missing), verify_tls=False))[0]
    assert off.verify is False


def test_missing_ca_bundle_in_profile_names_the_profile(tmp_path):
    path = write(tmp_path, BASE + f'ca_bundle = "{tmp_path / "missing.pem"}"\n')
    with naming(path, "'ca_bundle'"):
        resolve_target(Settings(target=str(path)))


def test_public_endpoint_has_no_userinfo():
    target, _ = resolve_target(Settings(endpoint_url="http://user:pw@127.0.0.1:9000"))
    assert target.public()["endpoint_url"] == "http://127.0.0.1:9000"


def test_public_view_has_no_password():
    target, _ = resolve_target(Settings(endpoint_url="http://user:s3cr3t-pw@127.0.0.1:9000"))
    assert "s3cr3t-pw" not in json.dumps(target.public())


# ---- resolve_credentials ----------------------------------------------------------------------------------

@pytest.fixture
def no_aws(tmp_path, monkeypatch):
    """Keep the machine's AWS variables and credential files out of botocore's view."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "no-boto"))
    return tmp_path


def target_with(tmp_path, credentials: str):
    path = write(tmp_path, BASE + "[credentials]\n" + credentials, "creds.toml")
    return resolve_target(Settings(target=str(path)))


NAMED = 'access_key_env = "MY_AK"\nsecret_key_env = "MY_SK"\nsession_token_env = "MY_ST"\n'
AWS = {"AWS_ACCESS_KEY_ID": "aws-ak", "AWS_SECRET_ACCESS_KEY": "aws-sk", "AWS_SESSION_TOKEN": "aws-st"}


def test_named_variables_win(no_aws):
    target, data = target_with(no_aws, NAMED)
    creds = resolve_credentials(target, data, {"MY_AK": "ak1", "MY_SK": "sk1", "MY_ST": "st1", **AWS})
    assert (creds.access_key, creds.secret_key, creds.session_token) == ("ak1", "sk1", "st1")
    assert "MY_AK" in creds.origin and "ak1" not in creds.origin
    assert creds.secrets() == ["ak1", "sk1", "st1"]


def test_named_session_token_is_optional(no_aws):
    target, data = target_with(no_aws, NAMED)
    creds = resolve_credentials(target, data, {"MY_AK": "ak1", "MY_SK": "sk1"})
    assert creds.session_token is None and creds.secrets() == ["ak1", "sk1"]


def test_missing_named_variables_are_an_error(no_aws):
    target, data = target_with(no_aws, NAMED)
    with naming(target.profile_path, r"MY_SK, which is not set"):
        resolve_credentials(target, data, {"MY_AK": "ak1", **AWS})
    with naming(target.profile_path, r"MY_AK, MY_SK, which are not set"):
        resolve_credentials(target, data, {})


def test_missing_named_variables_with_any_fall_back(no_aws):
    target, data = target_with(no_aws, NAMED + "any = true\n")
    assert resolve_credentials(target, data, dict(AWS)).access_key == "aws-ak"
    creds = resolve_credentials(target, data, {})
    assert (creds.access_key, creds.secret_key) == (PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY)


def test_standard_aws_variables(no_aws):
    target, data = resolve_target(Settings(endpoint_url="http://h:1"))
    creds = resolve_credentials(target, data, dict(AWS))
    assert (creds.access_key, creds.secret_key, creds.session_token) == ("aws-ak", "aws-sk", "aws-st")
    assert creds.origin == "AWS_* environment variables"


def test_shared_credentials_file(no_aws, monkeypatch):
    path = no_aws / "credentials"
    path.write_text("[default]\naws_access_key_id = file-ak\naws_secret_access_key = file-sk\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    target, data = resolve_target(Settings(endpoint_url="http://h:1"))
    creds = resolve_credentials(target, data, {})
    assert (creds.access_key, creds.secret_key, creds.origin) == ("file-ak", "file-sk", "botocore credential chain")


def test_placeholders_when_any_and_nothing_set(no_aws):
    target, data = resolve_target(Settings())  # moto: [credentials] any = true
    creds = resolve_credentials(target, data, {"AWS_ACCESS_KEY_ID": "half"})  # a lone key is not enough
    assert (creds.access_key, creds.secret_key) == (PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY)
    assert creds.origin.startswith("placeholders")


def test_no_credentials_at_all(no_aws):
    target, data = resolve_target(Settings(endpoint_url="http://h:1"))
    with pytest.raises(SuiteUsageError, match=r"no credentials for the target: set AWS_ACCESS_KEY_ID"):
        resolve_credentials(target, data, {})


def test_access_key_env_without_secret_key_env(no_aws):
    with pytest.raises(SuiteUsageError, match=r"creds\.toml: \[credentials\] needs both 'access_key_env' and 'secret_key_env'"):
        target_with(no_aws, 'access_key_env = "MY_AK"\n')


# ---- properties -------------------------------------------------------------------------------------------

def _load_or_usage_error(path: Path) -> None:
    try:
        assert isinstance(load_profile(path), dict)
    except SuiteUsageError as exc:
        assert str(path) in str(exc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_load_or_raise_usage_error(tmp_path, raw):
    path = tmp_path / "random.toml"
    path.write_bytes(raw)
    _load_or_usage_error(path)


# Endpoint URLs leave out '[' and ']' (see test_unbalanced_ipv6_endpoint_is_a_usage_error).
_URLS = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["http://", "https://", "ftp://", ""]),
                  st.text(st.characters(codec="ascii", exclude_characters="[]"), max_size=30))
_SCALARS = st.one_of(st.text(max_size=12), st.integers(-5, 10 ** 13), st.booleans(), st.floats(allow_nan=False),
                     st.sampled_from(["path", "virtual", "enforced", "ignored", "embedded-moto", "123456789012"]))
_KEYS = st.sampled_from(["description", "region", "addressing", "launch", "verify_tls", "ca_bundle", "expectations",
                         "propagation_timeout", "secret_key", "endpoint_ur"])
_SUB = st.dictionaries(st.sampled_from(["any", "access_key_env", "expected_bucket_owner", "account_id",
                                        "bucket_cors", "password", "typo"]), _SCALARS, max_size=3)


def _toml(data: dict) -> str:
    def value(v):
        return json.dumps(v, ensure_ascii=False) if isinstance(v, (str, bool)) else repr(v)
    lines = [f"{k} = {value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{kk} = {value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_KEYS, _SCALARS, max_size=5), st.none() | _URLS,
       st.dictionaries(st.sampled_from(["credentials", "owner", "capabilities", "other"]), _SUB, max_size=3))
def test_random_profiles_load_or_raise_usage_error(tmp_path, top, url, tables):
    data = dict(top, **({"endpoint_url": url} if url is not None else {}), **tables)
    path = tmp_path / "generated.toml"
    path.write_text(_toml(data), encoding="utf-8")
    _load_or_usage_error(path)


def test_server_launch_needs_a_server_name(tmp_path):
    path = write(tmp_path, 'description = "x"\nlaunch = "server"\n')
    with pytest.raises(SuiteUsageError, match=r"target\.toml: launch = \"server\" needs \[server\] name"):
        load_profile(path)


def test_credentials_from_a_started_server(tmp_path):
    creds = tmp_path / "credentials"
    creds.write_text("AWS_ACCESS_KEY_ID=made-by-server\nAWS_SECRET_ACCESS_KEY=also-made\n")
    got = read_server_credentials(creds)
    assert (got.access_key, got.secret_key) == ("made-by-server", "also-made")
    creds.write_text("nothing useful\n")
    with pytest.raises(SuiteUsageError, match="credentials: the server wrote no AWS_ACCESS_KEY_ID"):
        read_server_credentials(creds)
