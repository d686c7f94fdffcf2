"""A TLS endpoint on 127.0.0.1 for the tests: certificates made at test time (a CA and what it signs, a
self-signed one, one for another host name, an expired one) and a TLS front that relays to a plain server."""

from __future__ import annotations

import datetime
import ipaddress
import selectors
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Pair:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path


def _write(directory: Path, stem: str, cert: x509.Certificate, key) -> Pair:
    pair = Pair(directory / f"{stem}.pem", directory / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return pair


def _certificate(subject: str, issuer: x509.Name, issuer_key, key, *, san: list[x509.GeneralName],
                 days: tuple[int, int] = (-1, 30), ca: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days[0]))
               .not_valid_after(now + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class Certificates:
    """A test CA (its certificate is the bundle that trusts it) and the server certificates the tests use."""

    LOOPBACK = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _certificate("s3cors test CA", _name("s3cors test CA"), self.ca_key, self.ca_key, san=[],
                               days=(-1, 30), ca=True)
        self.ca = _write(directory, "ca", ca_cert, self.ca_key)
        self.bundle = self.ca.cert
        self._ca_name = ca_cert.subject
        self.signed = self._issued(directory, "signed", self.LOOPBACK)
        self.wrong_host = self._issued(directory, "wrong-host", [x509.DNSName("s3.other.example")])
        self.expired = self._issued(directory, "expired", self.LOOPBACK, days=(-30, -1))
        key = ec.generate_private_key(ec.SECP256R1())
        self.self_signed = _write(directory, "self-signed",
                                  _certificate("127.0.0.1", _name("127.0.0.1"), key, key, san=self.LOOPBACK), key)

    def _issued(self, directory: Path, stem: str, san, days=(-1, 30)) -> Pair:
        key = ec.generate_private_key(ec.SECP256R1())
        return _write(directory, stem, _certificate(stem, self._ca_name, self.ca_key, key, san=san, days=days), key)


class TLSFront:
    """TLS on 127.0.0.1 and a free port, relaying each connection's bytes to a plain HTTP server."""

    def __init__(self, pair: Pair, backend_url: str) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pair.cert, pair.key)
        host, port = backend_url.split("//", 1)[1].rsplit(":", 1)
        self.backend = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._stop = threading.Event()

    def __enter__(self) -> "TLSFront":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):  # a client that refused the certificate, or spoke plain HTTP
            conn.close()
            return
        try:
            upstream = socket.create_connection(self.backend, timeout=30)
        except OSError:
            tls.close()
            return
        _relay(tls, upstream)


def _relay(tls: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Relay both directions in one thread: an SSL socket must not be read and written by two threads at once
    (OpenSSL mixes the records up when a client has several connections busy)."""
    selector = selectors.DefaultSelector()
    selector.register(tls, selectors.EVENT_READ, upstream)
    selector.register(upstream, selectors.EVENT_READ, tls)
    try:
        while ready := selector.select(timeout=30):  # idle for 30 s: close, as the socket timeout did
            for key, _ in ready:
                src, dst = key.fileobj, key.data
                chunk = src.recv(65536)
                if not chunk:
                    return
                dst.sendall(chunk)
                while src is tls and tls.pending():  # decrypted bytes select() cannot see
                    dst.sendall(tls.recv(65536))
    except OSError:
        pass
    finally:
        selector.close()
        for s in (tls, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
