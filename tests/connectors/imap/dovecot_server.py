"""A throw-away Dovecot IMAP server on loopback for the IMAP connector tests.

Everything lives in a temporary directory: configuration, a self-signed certificate made
with ``openssl``, a passwd-file, Maildirs and the log. The server runs in the foreground
(``dovecot -F``) as a child process and is stopped by the fixture. It runs as whatever user
runs the tests (root in CI, an ordinary user on a laptop): login and internal users and the
static userdb all point at the current user.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

USERS = {"juf.jansen@school.nl": "geheim-1", "meester.bakker@school.nl": "geheim-2"}
TOKENS = {"ya29.token-voor-jansen": "juf.jansen@school.nl"}
"""OAuth2 access tokens the fake identity provider accepts (for XOAUTH2)."""


class _Introspection(BaseHTTPRequestHandler):
    """RFC 7662 token introspection, as Dovecot's oauth2 passdb calls it (POST token=...)."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        token = parse_qs(body).get("token", [""])[0]
        user = TOKENS.get(token)
        answer = {"active": "true", "email": user} if user else {"active": "false"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start_introspection() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Introspection)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_binary(name: str, path_hint: str | None = None) -> str:
    """Return the path of ``name``; a missing binary fails the test, unless skipping is allowed."""
    found = shutil.which(name) or (path_hint if path_hint and Path(path_hint).exists() else None)
    if found:
        return found
    message = f"{name} not found: install Debian package dovecot-imapd (scripts/install-system-deps.sh)"
    if os.environ.get("SCHOONSCHIP_ALLOW_SKIP") == "1":
        pytest.skip(message)
    pytest.fail(message)
    raise AssertionError  # unreachable


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    process: subprocess.Popen
    run_dir: Path
    introspection: ThreadingHTTPServer

    def log_text(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost; it is its own CA."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl = require_binary("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


def write_config(
    root: Path, imap_port: int, imaps_port: int, cert: Path, key: Path, introspection_url: str
) -> tuple[Path, Path]:
    """Write dovecot.conf; returns it and the base_dir (outside the private tmp dir)."""
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    login_user, internal_user, service_users = user, user, True
    mail_uid, mail_gid = os.getuid(), os.getgid()
    if os.getuid() == 0:
        # Dovecot refuses to run login processes as root; use the package's own users and
        # leave auth/stats on their defaults.
        login_user, internal_user, service_users = "dovenull", "dovecot", False
        group = "dovecot"
        # Dovecot will not run a mail process as uid 0 either: the mail belongs to 'dovecot'.
        mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
    run_dir = Path(tempfile.mkdtemp(prefix="schoonschip-dovecot-run-"))
    run_dir.chmod(0o755)  # unprivileged login processes must reach the auth socket
    passwd = run_dir / "passwd"  # read by the auth process, which may run as 'dovecot'
    passwd.write_text("".join(f"{name}:{{PLAIN}}{pw}::::::\n" for name, pw in USERS.items()))
    (root / "state").mkdir()
    for sub in ("mail", "home"):
        (run_dir / sub).mkdir()
        os.chown(run_dir / sub, mail_uid, mail_gid)
    oauth_conf = run_dir / "oauth2.conf.ext"
    oauth_conf.write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
        "username_attribute = email\nactive_attribute = active\nactive_value = true\n"
    )
    conf = root / "dovecot.conf"
    conf.write_text(f"""
base_dir = {run_dir}
state_dir = {root}/state
instance_name = schoonschip-test-{imap_port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login xoauth2 oauthbearer
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
mail_location = maildir:{run_dir}/mail/%u
mail_plugins =
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {passwd}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth_conf}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={run_dir}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Trash {{
    auto = create
    special_use = \\Trash
  }}
  mailbox Archive {{
    auto = create
    special_use = \\Archive
  }}
  mailbox "Alle berichten" {{
    special_use = \\All
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # no auth penalty: the tests log in with wrong passwords on purpose
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""" + (f"""
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  user = {user}
}}
""" if service_users else ""))
    return conf, run_dir


def start_dovecot(root: Path) -> Dovecot:
    binary = require_binary("dovecot", "/usr/sbin/dovecot")
    cert, key = make_certificate(root)
    imap_port, imaps_port = free_port(), free_port()
    introspection = start_introspection()
    url = f"http://127.0.0.1:{introspection.server_address[1]}/introspect"
    conf, run_dir = write_config(root, imap_port, imaps_port, cert, key, url)
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Dovecot(root, imap_port, imaps_port, cert, process, run_dir, introspection)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"dovecot exited: {output}\n{server.log_text()}")
        try:
            with socket.create_connection(("127.0.0.1", imaps_port), timeout=1), \
                    socket.create_connection(("127.0.0.1", imap_port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    stop_dovecot(server)
    pytest.fail(f"dovecot did not start listening: {server.log_text()}")
    raise AssertionError


def stop_dovecot(server: Dovecot) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    if server.process.stdout:
        server.process.stdout.close()
    shutil.rmtree(server.run_dir, ignore_errors=True)
    server.introspection.shutdown()
    server.introspection.server_close()
