"""A throw-away PostgreSQL cluster on loopback, started for the test session.

initdb refuses to run as root, so as root the cluster is created and run as the ``postgres``
system user (created by the Debian package); as any other user it runs as that user. The
server listens on 127.0.0.1 on a free port with trust authentication, in a temporary folder
that is removed afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_service_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a cluster, create database ``schoonschip``, yield its SQLAlchemy URL."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server not installed: run scripts/install-system-deps.sh")
    root = Path(tempfile.mkdtemp(prefix="schoonschip-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o755)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(_as_service_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True, env=env)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(_as_service_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                     str(root / "log"), "-w", "-t", "60", "start"]),
                   check=True, capture_output=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            created = subprocess.run(_as_service_user([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                                       "-U", "postgres", "schoonschip"]),
                                     capture_output=True, env=env)
            if created.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/schoonschip"
    finally:
        subprocess.run(_as_service_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, env=env)
        shutil.rmtree(root, ignore_errors=True)


def reset_database(url: str) -> None:
    """Drop everything in the test database so each test starts empty."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
