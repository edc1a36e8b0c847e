"""Start and stop a throw-away Samba server on 127.0.0.1 for the SMB connector tests.

Everything Samba writes (passdb, locks, state, logs, pid file) lives in one temporary
directory, the server listens on a random free loopback port and nothing of the host's own
Samba configuration is read or touched.

Why root: smbd switches to the authenticated (or forced) Unix user for every file access and
refuses to work without root (no uid_wrapper outside Samba's own selftest). The client logs
in as ``root`` from a private passdb, and every share sets ``force user = nobody`` so file
permissions apply for real: a folder with mode 000 really is "access denied", which it would
not be for root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USERNAME = "root"
PASSWORD = "Sch00nSch1p-test"


@dataclass
class Samba:
    """A running smbd: where it listens, how to log in, where its shares live."""

    host: str
    port: int
    username: str
    password: str
    base: Path
    conf: Path
    shares: dict[str, Path]
    process: subprocess.Popen
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def status_json(self) -> str:
        """``smbstatus --json`` of this server: the server's own view of sessions (encryption)."""
        result = subprocess.run(
            ["smbstatus", "--configfile", str(self.conf), "--json"],
            capture_output=True, text=True, timeout=30, check=False,
        )
        return result.stdout


def require_samba() -> None:
    """Fail (or skip with SCHOONSCHIP_ALLOW_SKIP=1) when smbd cannot be run here."""
    problems = [name for name in ("smbd", "smbpasswd", "smbstatus") if shutil.which(name) is None
                and not Path("/usr/sbin", name).exists()]
    reason = ""
    if problems:
        reason = (f"Samba ontbreekt ({', '.join(problems)}); installeer het Debian-pakket samba "
                  f"(scripts/install-system-deps.sh) / Samba missing")
    elif os.geteuid() != 0:
        reason = "de Samba-tests moeten als root draaien (smbd wisselt van gebruiker) / need root"
    if reason:
        if os.environ.get("SCHOONSCHIP_ALLOW_SKIP") == "1":
            pytest.skip(reason)
        pytest.fail(reason, pytrace=False)


def _binary(name: str) -> str:
    found = shutil.which(name)
    return found or str(Path("/usr/sbin", name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_base_dir() -> Path:
    """A temp dir the forced user ``nobody`` can traverse (pytest's tmp_path is 0700 root)."""
    base = Path(tempfile.mkdtemp(prefix="schoonschip-smb-"))
    base.chmod(0o755)
    return base


def start_samba(base: Path, shares: dict[str, dict[str, str]], global_extra: str = "") -> Samba:
    """Write an smb.conf for ``shares`` (name -> extra share options, ``path`` required), add
    the test user and start smbd in the foreground; return once the port accepts connections."""
    require_samba()
    port = free_port()
    for name in ("private", "lock", "state", "cache", "pid", "ncalrpc", "logs"):
        (base / name).mkdir(parents=True, exist_ok=True)
    lines = [
        "[global]",
        "  server role = standalone server",
        f"  smb ports = {port}",
        "  interfaces = 127.0.0.1",
        "  bind interfaces only = yes",
        f"  private dir = {base / 'private'}",
        f"  lock directory = {base / 'lock'}",
        f"  state directory = {base / 'state'}",
        f"  cache directory = {base / 'cache'}",
        f"  pid directory = {base / 'pid'}",
        f"  ncalrpc dir = {base / 'ncalrpc'}",
        f"  passdb backend = tdbsam:{base / 'private' / 'passdb.tdb'}",
        f"  log file = {base / 'logs' / 'log.%m'}",
        "  log level = 1",
        "  load printers = no",
        "  printcap name = /dev/null",
        "  disable spoolss = yes",
        "  disable netbios = yes",
        "  server min protocol = SMB2_10",
        "  map to guest = never",
        "  smb encrypt = if_required",
        global_extra,
    ]
    share_paths: dict[str, Path] = {}
    for name, options in shares.items():
        lines.append(f"[{name}]")
        share_paths[name] = Path(options["path"])
        options = {"read only": "yes", "force user": "nobody", "force group": "nogroup", **options}
        lines.extend(f"  {key} = {value}" for key, value in options.items())
    conf = base / "smb.conf"
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(
        [_binary("smbpasswd"), "-c", str(conf), "-a", "-s", USERNAME],
        input=f"{PASSWORD}\n{PASSWORD}\n", text=True, capture_output=True, check=True, timeout=60,
    )
    log = base / "logs" / "smbd.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [_binary("smbd"), "--foreground", "--no-process-group", f"--configfile={conf}",
             "--debug-stdout"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Samba("127.0.0.1", port, USERNAME, PASSWORD, base, conf, share_paths, process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"smbd stopte meteen / smbd exited: {tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    stop_samba(server)
    raise RuntimeError("smbd luistert niet / smbd did not start listening")


def stop_samba(server: Samba, remove: bool = True) -> None:
    """Stop smbd and its per-connection children (the process group this module started)."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=15)
    if remove:
        shutil.rmtree(server.base, ignore_errors=True)
