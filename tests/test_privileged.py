"""The privileged origins the PRE-PRIV and ACT-PRIV cases try: derived from the endpoint and the profile."""

from __future__ import annotations

from conformance.behaviour.privileged import endpoint_origin, privileged_origins
from conformance.target.profiles import Settings, resolve_target


def _target(tmp_path, extra: str = "", url: str = "http://127.0.0.1:4566"):
    path = tmp_path / "t.toml"
    path.write_text(f'description = "x"\nendpoint_url = "{url}"\n{extra}', encoding="utf-8")
    return resolve_target(Settings(target=str(path)))[0]


def test_endpoint_loopback_and_null_are_always_tried(tmp_path):
    origins = privileged_origins(_target(tmp_path))
    for origin in ("http://127.0.0.1:4566", "http://localhost:4566", "http://localhost", "http://127.0.0.1:3000",
                   "null"):
        assert origin in origins
    assert len(origins) == len(set(origins))


def test_console_origins_take_the_endpoint_port(tmp_path):
    target = _target(tmp_path, 'console_origins = ["https://app.console.example", "http://console.local:{port}"]\n',
                     url="https://s3.example.com:9443/")
    origins = privileged_origins(target)
    assert target.console_origins == ("https://app.console.example", "http://console.local:{port}")
    assert {"https://s3.example.com:9443", "https://app.console.example", "http://console.local:9443",
            "http://localhost:9443"} <= set(origins)


def test_endpoint_origin_drops_path_and_user_info():
    assert endpoint_origin("http://user:pw@127.0.0.1:9000/base") == "http://127.0.0.1:9000"
    assert endpoint_origin("https://s3.example.com") == "https://s3.example.com"


def test_no_console_origins_by_default(tmp_path):
    assert _target(tmp_path).console_origins == ()
