"""An IMAP server with another host's certificate, to prove the password never reaches it.

It presents a certificate for ``imap.andere-school.nl`` (a self-signed CA certificate, which
the test even trusts through ``ca_file``, so only the host name check can refuse it) on
127.0.0.1, speaks just enough RFC 3501 for a client to reach LOGIN (greeting, CAPABILITY,
STARTTLS) and records every line it receives, in clear text, before or after TLS.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

OTHER_HOST = "imap.andere-school.nl"


def other_host_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, OTHER_HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(OTHER_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "other-cert.pem", directory / "other-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Imposter:
    """``implicit`` True: TLS from the first byte (993); False: plain greeting and STARTTLS."""

    def __init__(self, cert: Path, key: Path, implicit: bool) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.implicit = implicit
        self.received: list[bytes] = []
        self.handshakes = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                stream = self._tls(conn) if self.implicit else conn
                stream.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n")
                reader = stream.makefile("rb")
                while line := reader.readline():
                    self.received.append(line)
                    tag, _, command = line.decode(errors="replace").partition(" ")
                    verb = command.split(" ")[0].strip().upper()
                    if verb == "CAPABILITY":
                        stream.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n"
                                       + tag.encode() + b" OK done\r\n")
                    elif verb == "STARTTLS":
                        stream.sendall(tag.encode() + b" OK begin TLS\r\n")
                        stream = self._tls(stream)
                        reader = stream.makefile("rb")
                    else:
                        stream.sendall(tag.encode() + b" OK done\r\n")
            except (OSError, ssl.SSLError):
                return  # the client refused our certificate: exactly what the test wants

    def _tls(self, conn: socket.socket) -> ssl.SSLSocket:
        wrapped = self.context.wrap_socket(conn, server_side=True)
        self.handshakes += 1
        return wrapped

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)
