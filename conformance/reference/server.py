"""Start the reference endpoint: in-process for a test run (launch = "reference"), or on its own with
`python -m conformance reference`.

Exit status: 0 stopped with Ctrl-C; 2 bad input (an unknown fault)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from conformance.errors import SuiteUsageError
from conformance.reference.behaviour import make_behaviour
from conformance.reference.catalogue import load_catalogue

TRACE_ENV = "S3CORS_REFERENCE_TRACE"   # python -m conformance power: where to write the kinds of request per bucket
FAULT_ENV = "S3CORS_REFERENCE_FAULT"   # the fault a `--target reference` run switches on (power uses it)
DEFAULT_ACCOUNT = "123456789012"       # moto's default account: the owner of every bucket


def _moto_app():
    # As in conformance/target/embedded.py: moto's global flask-cors layer off, no access log or tracebacks.
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    from moto.moto_server import werkzeug_app

    werkzeug_app.DISABLE_GLOBAL_CORS = True
    for name in ("werkzeug", "moto", "flask.app"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    return werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)


class ReferenceServer:
    """The reference endpoint on a thread: 127.0.0.1 and a free port unless told otherwise."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, owner_mode: str = "enforced",
                 account_id: str = DEFAULT_ACCOUNT, fault: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None) -> None:
        if fault is not None:
            known = load_catalogue()
            if fault not in known:
                raise SuiteUsageError(f"--fault {fault}: no such fault in fixtures/faults "
                                      f"({len(known)} known, e.g. {', '.join(sorted(known)[:3])})")
        self.host, self.port = host, port
        self.fault = fault
        self.behaviour = make_behaviour(owner_mode, account_id, fault)
        self.access_key = access_key or "S3CORSREF" + secrets.token_hex(6).upper()
        self.secret_key = secret_key or secrets.token_urlsafe(30)
        self.wants_credentials = True
        self.datadir: str | None = None
        self.url: str | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_target(cls, target) -> ReferenceServer:
        """The launcher of a `launch = "reference"` profile: its EBO dialect, the fault named in FAULT_ENV."""
        return cls(owner_mode=target.owner_mode, account_id=target.account_id or DEFAULT_ACCOUNT,
                   fault=os.environ.get(FAULT_ENV) or None)

    @property
    def credentials_file(self) -> Path:
        """The file the keys are written to (read by the plugin like a started server's)."""
        return Path(self.datadir or "/nonexistent", "credentials")

    def start(self) -> str:
        """Start serving; return the endpoint URL."""
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        from conformance.reference.app import ReferenceApp

        app = ReferenceApp(self.behaviour, self.access_key, self.secret_key, _moto_app())
        self._app = app
        if os.environ.get(TRACE_ENV) and self.fault is None:
            # Every fault's behaviour answers each request too, in the shadow: where its answer first differs.
            app.trace = {}
            app.shadows = {fid: make_behaviour(self.behaviour.owner_mode, self.behaviour.account_id, fid)
                           for fid in load_catalogue()}
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = self._server.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self.datadir = tempfile.mkdtemp(prefix="s3cors-reference-")
        self.credentials_file.write_text(f"AWS_ACCESS_KEY_ID={self.access_key}\n"
                                         f"AWS_SECRET_ACCESS_KEY={self.secret_key}\n", encoding="utf-8")
        os.chmod(self.credentials_file, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and remove the credentials file (idempotent); write the trace if one was asked for."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            trace = getattr(self._app, "trace", None)
            if trace is not None and os.environ.get(TRACE_ENV):
                Path(os.environ[TRACE_ENV]).write_text(
                    json.dumps({b: sorted(k) for b, k in sorted(trace.items())}, indent=1), encoding="utf-8")
        if self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """python -m conformance reference: a local S3 whose bucket CORS answers as the behaviour model says."""
    parser.description = ("A local S3 whose bucket CORS answers exactly as the suite's behaviour model says "
                          "(objects and buckets kept by moto in-process). Credentials: AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY if set, else a fresh pair written to --credentials-file.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one, printed)")
    parser.add_argument("--fault", metavar="ID", help="switch one fault of fixtures/faults on (e.g. FLT-SEL-001)")
    parser.add_argument("--expected-bucket-owner", choices=["enforced", "ignored"], default="enforced",
                        help="ExpectedBucketOwner dialect: enforced as on AWS (default) or ignored")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT, help=f"owner account ID (default {DEFAULT_ACCOUNT})")
    parser.add_argument("--credentials-file", metavar="PATH",
                        help="write the generated keys here (AWS_ACCESS_KEY_ID=... lines, mode 600)")


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    try:
        server = ReferenceServer(host=args.host, port=args.port, owner_mode=args.expected_bucket_owner,
                                 account_id=args.account_id, fault=args.fault,
                                 access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
                                 secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"))
    except SuiteUsageError as exc:
        print(f"python -m conformance reference: {exc}", file=sys.stderr)
        return 2
    url = server.start()
    if args.credentials_file:
        shutil.copyfile(server.credentials_file, args.credentials_file)
        os.chmod(args.credentials_file, 0o600)
    where = f"keys in {args.credentials_file}" if args.credentials_file else (
        "keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY" if os.environ.get("AWS_ACCESS_KEY_ID")
        else "generated keys (give --credentials-file to see them)")
    print(f"reference endpoint on {url} ({where}; ExpectedBucketOwner {args.expected_bucket_owner}"
          f"{'; fault ' + args.fault if args.fault else ''}); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
