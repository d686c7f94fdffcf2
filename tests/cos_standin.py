"""A stand-in for an IBM Cloud Object Storage regional endpoint, on 127.0.0.1, for the project's own tests.

COS cannot be reached from here, so the COS profile is proved against this: a server that follows what COS
documents for bucket creation and leaves everything else to moto.

* CreateBucket (COS "Create a bucket" and "Create a bucket with a different storage class",
  https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-compatibility-api-bucket-operations):
  either no LocationConstraint, or a provisioning code `<location>-<class>` that "corresponds with the endpoint
  used" (https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-classes). Anything else,
  a region name such as `us-south` included, is answered 400 `InvalidLocationConstraint`, "The specified
  location constraint is not valid." (COS "Common headers and error codes").
* STS: COS authenticates with IBM Cloud IAM or HMAC keys and offers no AWS STS at its S3 endpoints, so a
  request signed for another service than s3 is refused (the stand-in's choice of answer: 403 AccessDenied).
* Everything else goes to moto's S3 (in this process), which does not check signatures.
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from io import BytesIO

CLASSES = ("standard", "vault", "cold", "smart")
INVALID_LOCATION = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidLocationConstraint</Code>'
                    b"<Message>The specified location constraint is not valid.</Message></Error>")
NO_STS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
          b"<Message>Access Denied</Message></Error>")
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def _location_constraint(body: bytes) -> str | None:
    """The LocationConstraint of a CreateBucketConfiguration body; None when there is none."""
    if not body.strip():
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return ""  # not a configuration COS could read: not a valid location either
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "LocationConstraint":
            return (element.text or "").strip()
    return None


class CosStandIn:
    """An S3 endpoint with COS's bucket-creation rules for one location (e.g. us-south), moto behind it."""

    def __init__(self, location: str = "us-south") -> None:
        self.location = location
        self.created: list[str] = []   # buckets created, in order
        self.refused: list[str] = []   # LocationConstraint values refused with InvalidLocationConstraint
        self._server = None
        self.url = ""

    def accepts(self, code: str | None) -> bool:
        """COS's rule: no LocationConstraint, or a provisioning code of this endpoint's location."""
        return code is None or code in {f"{self.location}-{c}" for c in CLASSES}

    def __call__(self, environ, start_response):
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        scope = SCOPE.search(headers.get("authorization", ""))
        if scope and scope.group(2) != "s3":
            return self._answer(start_response, "403 Forbidden", NO_STS)
        path = environ.get("PATH_INFO", "")
        bucket_only = re.fullmatch(r"/[^/]+/?", path) is not None
        if environ["REQUEST_METHOD"] == "PUT" and bucket_only and not environ.get("QUERY_STRING"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            code = _location_constraint(body)
            if not self.accepts(code):
                self.refused.append(code or "")
                return self._answer(start_response, "400 Bad Request", INVALID_LOCATION)
            # moto's own dialect: the signing region as the location (none in us-east-1)
            region = scope.group(1) if scope else "us-east-1"
            moto_body = b"" if region == "us-east-1" else (
                f"<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint>"
                f"</CreateBucketConfiguration>").encode()
            environ["wsgi.input"] = BytesIO(moto_body)
            environ["CONTENT_LENGTH"] = str(len(moto_body))
            self.created.append(path.strip("/"))
        return self._moto(environ, start_response)

    @staticmethod
    def _answer(start_response, status: str, body: bytes):
        start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def start(self) -> "CosStandIn":
        """Serve on 127.0.0.1 and a free port, in a thread."""
        import os

        os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
        from moto.moto_server import werkzeug_app
        from werkzeug.serving import make_server

        werkzeug_app.DISABLE_GLOBAL_CORS = True
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access-log line per request
        self._moto = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name="cos-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "CosStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
