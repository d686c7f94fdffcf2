"""The origin pages: each origin is a small HTTP server on 127.0.0.1 with its own port serving pages/."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "pages"
PAGE = "/index.html"


class _Handler(SimpleHTTPRequestHandler):
    """Static files of pages/, never cached, no access log on stderr."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


class OriginServer:
    """One page origin, http://127.0.0.1:PORT (a port of its own: another port is another origin)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = partial(_Handler, directory=str(PAGES_DIR))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="s3cors-origin", daemon=True)

    @property
    def origin(self) -> str:
        """The page's origin as a browser sends it in Origin."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def page_url(self) -> str:
        return self.origin + PAGE

    def start(self) -> OriginServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> OriginServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
