"""Certificates for the tests: a server certificate for the fake Graph/Entra host and an app
certificate for certificate-credential sign-in. Generated with ``cryptography`` (an msal
dependency) so the tests need no openssl binary and nothing from the network.

msal only accepts https authorities, so the fake server speaks TLS with a self-signed
certificate that the client trusts through the ``ca_file`` setting.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class CertFiles:
    server_cert: Path
    server_key: Path
    app_key_and_cert: Path  # PEM: private key + certificate (the preferred configuration)
    app_key_only: Path  # PEM: private key only (needs certificate_thumbprint)
    app_pfx: Path  # PKCS#12 with passphrase PFX_PASSPHRASE
    app_cert_pem: bytes
    app_sha1: str


PFX_PASSPHRASE = "geheim-pfx"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed(key: rsa.RSAPrivateKey, name: str, san: list[x509.GeneralName] | None) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())


def make_certificates(directory: Path) -> CertFiles:
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()

    server_key = _key()
    server_cert = _self_signed(
        server_key,
        "localhost",
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    (directory / "server.pem").write_bytes(server_cert.public_bytes(pem))
    (directory / "server.key").write_bytes(server_key.private_bytes(pem, pkcs8, none))

    app_key = _key()
    app_cert = _self_signed(app_key, "schoonschip-test-app", None)
    key_pem = app_key.private_bytes(pem, pkcs8, none)
    cert_pem = app_cert.public_bytes(pem)
    (directory / "app.pem").write_bytes(key_pem + cert_pem)
    (directory / "app-key.pem").write_bytes(key_pem)
    pfx = pkcs12.serialize_key_and_certificates(
        b"app", app_key, app_cert, None, serialization.BestAvailableEncryption(PFX_PASSPHRASE.encode())
    )
    (directory / "app.pfx").write_bytes(pfx)
    return CertFiles(
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        app_key_and_cert=directory / "app.pem",
        app_key_only=directory / "app-key.pem",
        app_pfx=directory / "app.pfx",
        app_cert_pem=cert_pem,
        app_sha1=app_cert.fingerprint(hashes.SHA1()).hex(),
    )


def serve_tls(handler: type[BaseHTTPRequestHandler], certs: CertFiles,
              name: str) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """A threaded HTTPS server on a free local port with the fake host's certificate, serving
    in a daemon thread (the fake Graph and Entra hosts). The TLS handshake happens in the
    request thread, and a client that drops the connection is no error to print."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name,
                              daemon=True)
    thread.start()
    return server, thread
