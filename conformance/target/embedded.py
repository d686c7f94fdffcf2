"""The embedded default target: moto's S3 server, in-process on 127.0.0.1 and a free port."""

from __future__ import annotations

import logging
import os


class EmbeddedMoto:
    """moto's threaded server with its global flask-cors layer off, so bucket CORS is what gets measured."""

    def __init__(self, target=None) -> None:
        del target  # nothing in the profile changes the embedded moto
        self._server = None
        self.url: str | None = None

    def start(self) -> str:
        """Start the server and return its endpoint URL."""
        # moto reads this when moto.settings is imported; the module attribute is patched as well below,
        # in case moto was imported earlier in this process.
        os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        from moto.moto_server import threaded_moto_server, werkzeug_app

        werkzeug_app.DISABLE_GLOBAL_CORS = True
        # No access-log line per request and no server-side tracebacks on the terminal: a 500 from moto is
        # recorded in the case's evidence like any other answer.
        for name in ("werkzeug", "moto", "flask.app"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        self._server = threaded_moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
