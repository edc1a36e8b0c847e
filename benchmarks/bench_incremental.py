"""Benchmark: an unchanged second scan must cost at most 1 % of the first (issue 21 item 4).

    python benchmarks/bench_incremental.py --mails 2000 --sources maildir imap graph --executors inline pool
    python benchmarks/bench_incremental.py --corpus /tmp/bulk20000 --mails 20000 --sources maildir
    python benchmarks/bench_incremental.py --repeat 5   # the median of five unchanged scans

For every source kind and executor: a fresh database, a first scan, then the same scan again
with nothing changed. The same mails (the bulk corpus of ``scanner.demo.generate_bulk``) are
served by

* ``maildir``: the corpus's Maildir++ folders themselves (no server: the "server side" is the
  kernel, so the figure printed is the bytes the processes read, from ``/proc/PID/io``);
* ``imap``: a real Dovecot (the test suite's, ``tests/connectors/imap/dovecot_server.py``) behind
  the counting proxy (``imap_proxy.py``), one folder per teacher; counted are the commands the
  server received and the ``FETCH`` commands among them;
* ``graph``: the project's Graph fake (``tests/services/fake_graph.py``), one mailbox per teacher;
  counted are the HTTP requests the server logged and the ``$value`` (MIME) downloads.

Printed per scan: wall seconds, CPU seconds of the driver and of all processes (workers and
sandboxes included; the machine is shared, so CPU is the figure to compare, wall is noisy), the
items analysed and the server-side counts, then the second scan's cost as a share of the first.
``--json FILE`` appends every row as one JSON line (read by ``benchmarks/report.py``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import ssl
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import bench_scan  # noqa: E402

MB = 1024 * 1024
IMAP_USER = "juf.jansen@school.nl"


def corpus_mails(root: Path) -> list[tuple[str, str, bytes]]:
    """(teacher, folder, message bytes) of every mail in the bulk corpus, in a stable order."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    mails = []
    for box in manifest["mailboxes"]:
        base = Path(box["source"]["path"])
        teacher = base.name
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.parent.name in {"cur", "new"}:
                # Maildir++ ".Online archief.Archief 2018" is the folder "Online archief/Archief 2018"
                folder = (path.parent.parent.name.lstrip(".").replace(".", "/") if path.parent.parent != base
                          else "INBOX")
                mails.append((teacher, folder, path.read_bytes()))
    return mails


# -- the three worlds ---------------------------------------------------------------------------


class World:
    """One kind of source with the corpus in it: its source configurations and a server-side
    counter (``counts()`` -> figures since the start)."""

    sources: list[dict[str, Any]]
    env: dict[str, str] = {}
    """Environment variables the scan needs (secrets the sources refer to)."""

    def counts(self) -> dict[str, int]:
        raise NotImplementedError


class MaildirWorld(World):
    def __init__(self, root: Path) -> None:
        self.sources = bench_scan.bulk_sources(root)

    def counts(self) -> dict[str, int]:
        return {}  # no server; bytes read come from /proc (see one_scan)


class ImapWorld(World):
    def __init__(self, root: Path, tmp: Path) -> None:
        from imapclient import IMAPClient

        from tests.connectors.imap.dovecot_server import USERS, start_dovecot
        from tests.connectors.imap.imap_proxy import ImapProxy

        (tmp / "dovecot").mkdir(parents=True, exist_ok=True)
        self.server = start_dovecot(tmp / "dovecot")
        context = ssl.create_default_context(cafile=str(self.server.ca_file))
        admin = IMAPClient("127.0.0.1", port=self.server.imaps_port, ssl=True, ssl_context=context)
        admin.login(IMAP_USER, USERS[IMAP_USER])
        by_folder: dict[str, list[bytes]] = {}
        for teacher, folder, data in corpus_mails(root):
            by_folder.setdefault(f"{teacher}-{folder}", []).append(data)
        for folder, messages in by_folder.items():
            admin.create_folder(folder)
            for start in range(0, len(messages), 200):
                admin.multiappend(folder, messages[start:start + 200])
        admin.logout()
        self.proxy = ImapProxy(self.server.imap_port)
        self.env = {"BENCH_IMAP_PASSWORD": USERS[IMAP_USER]}
        self.sources = [{"name": "imap-bench", "kind": "imap", "host": "127.0.0.1", "port": self.proxy.port,
                         "security": "plain", "username": IMAP_USER,
                         "password": {"env": "BENCH_IMAP_PASSWORD"}}]

    def counts(self) -> dict[str, int]:
        with self.proxy.lock:
            commands = list(self.proxy.commands)
        return {"commands": len(commands),
                "fetch": sum(1 for c in commands if "FETCH" in c.upper().split(" ", 2)[:2])}

    def close(self) -> None:
        from tests.connectors.imap.dovecot_server import stop_dovecot

        self.proxy.close()
        stop_dovecot(self.server)


class GraphWorld(World):
    def __init__(self, root: Path, tmp: Path) -> None:
        from tests.services.fake_graph import FakeGraph
        from tests.services.graph_tls import make_certificates

        certs = make_certificates(tmp / "graph-certs")
        self.fake = FakeGraph(certs).start()
        mailboxes = []
        for teacher, folder, data in corpus_mails(root):
            mail = f"{teacher}@school.nl"
            if mail not in self.fake.mailboxes:
                self.fake.add_mailbox(mail)
                mailboxes.append(mail)
            head = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
            subject = next((line[9:] for line in head.splitlines() if line.startswith("Subject: ")), "")
            received = "2023-03-01T08:00:00Z"
            for line in head.splitlines():
                if line.startswith("Date: "):
                    try:
                        received = parsedate_to_datetime(line[6:]).strftime("%Y-%m-%dT%H:%M:%SZ")
                    except (TypeError, ValueError):
                        pass
            self.fake.add_message(mail, "Inbox" if folder == "INBOX" else folder, subject, mime=data,
                                  received=received)
        self.sources = [{"name": "m365-bench", "kind": "graph_mail", "tenant_id": self.fake.tenant,
                         "client_id": self.fake.client_id, "certificate": {"file": str(certs.app_key_and_cert)},
                         "authority_url": self.fake.base, "graph_url": self.fake.graph_url,
                         "ca_file": str(certs.server_cert), "mailboxes": mailboxes}]

    def counts(self) -> dict[str, int]:
        # HTTP requests as the server received them (a $batch is one), then the requests served
        # inside batches and the batches themselves.
        log = self.fake.logged()
        return {"requests": sum(1 for r in log if not r.batched), "batched": sum(1 for r in log if r.batched),
                "batches": self.fake.batch_requests, "mime": sum(1 for r in log if r.path.endswith("/$value"))}

    def close(self) -> None:
        self.fake.stop()


def _serve(kind: str, root: Path, tmp: Path, conn: Any) -> None:
    """The world's own process, so that the servers' CPU (the Graph fake and the IMAP proxy are
    Python threads) is not counted as the scan's: answers ``"counts"`` until ``"close"``."""
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        built: World = (MaildirWorld(root) if kind == "maildir" else ImapWorld(root, tmp) if kind == "imap"
                        else GraphWorld(root, tmp))
    except BaseException:
        conn.send(RuntimeError(f"{kind} world did not start:\n{traceback.format_exc()}"))
        raise
    conn.send((built.sources, built.env))
    try:
        while conn.recv() != "close":
            conn.send(built.counts())
    finally:
        close: Callable[[], None] | None = getattr(built, "close", None)
        if close is not None:
            close()
        conn.send("closed")


class RemoteWorld(World):
    def __init__(self, kind: str, root: Path, tmp: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(kind, root, tmp, theirs), daemon=True)
        self.process.start()
        # A server that dies while starting (e.g. a script without a main guard) sends nothing:
        # wait for its answer or its death, never forever.
        while not self.conn.poll(0.5):
            if not self.process.is_alive():
                raise RuntimeError(f"the {kind} world's server process died while starting "
                                   f"(exit code {self.process.exitcode})")
        answer = self.conn.recv()
        if isinstance(answer, Exception):
            raise answer
        self.sources, env = answer
        os.environ.update(env)
        self.pid = self.process.pid

    def counts(self) -> dict[str, int]:
        self.conn.send("counts")
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send("close")
        self.conn.recv()
        self.process.join(timeout=30)


@contextmanager
def world(kind: str, root: Path, tmp: Path) -> Iterator[RemoteWorld]:
    built = RemoteWorld(kind, root, tmp)
    try:
        yield built
    finally:
        built.close()


# -- scanning -------------------------------------------------------------------------------------


def settings_for(sources: list[dict[str, Any]], state: Path, executor: dict[str, Any]) -> Any:
    import yaml

    from scanner.config import load_config

    state.mkdir(parents=True, exist_ok=True)
    data = {"school": {"name": "Benchmark"}, "state_dir": str(state), "sources": sources,
            "executor": {"batch_size": 16, **executor}}
    path = state / "bench.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def scan(settings: Any, server: RemoteWorld) -> dict[str, Any]:
    before = server.counts()
    read_before = _read_bytes()
    result = bench_scan.one_scan(settings, [], exclude=[server.pid])
    after = server.counts()
    result["server"] = {key: after[key] - before.get(key, 0) for key in after}
    result["read_bytes_driver"] = _read_bytes() - read_before
    return result


def _read_bytes() -> int:
    """Bytes this process read through read(2) and friends (``rchar`` of /proc/self/io)."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def median_scan(scans: list[dict[str, Any]]) -> dict[str, Any]:
    """The scan with the median CPU of all processes (the lower middle of an even count), with
    every scan's CPU and driver CPU under ``repeats``: on a shared machine one unchanged scan of
    a fraction of a second is as noisy as the load beside it."""
    ordered = sorted(scans, key=lambda r: r["cpu_total"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    if len(scans) > 1:
        middle["repeats"] = [{"cpu_total": r["cpu_total"], "driver_cpu": r["driver_cpu"]} for r in scans]
    return middle


def share(second: float, first: float) -> float:
    return 100.0 * second / first if first else 0.0


def describe(source: str, executor: str, first: dict[str, Any], second: dict[str, Any]) -> str:
    server = "  ".join(f"{k} {first['server'][k]} -> {second['server'][k]}" for k in first["server"])
    return (f"{source:8} {executor:7} items {first['seen']:>6} (analysed {first['analysed']} -> {second['analysed']})"
            f"  CPU all {first['cpu_total']:.2f} -> {second['cpu_total']:.3f} s = "
            f"{share(second['cpu_total'], first['cpu_total']):.2f} %"
            f"  driver {first['driver_cpu']:.2f} -> {second['driver_cpu']:.3f} s"
            f"  wall {first['seconds']:.1f} -> {second['seconds']:.2f} s = "
            f"{share(second['seconds'], first['seconds']):.2f} %"
            + (f"  server: {server}" if server else "")
            + (f"  driver read {first['read_bytes_driver'] / MB:.1f} -> {second['read_bytes_driver'] / MB:.2f} MB"
               if source == "maildir" else "")
            + (f"  (median of {len(second['repeats'])}: CPU all "
               + " ".join(f"{r['cpu_total']:.3f}" for r in second["repeats"]) + ")" if "repeats" in second else ""))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path(tempfile.gettempdir()) / "schoonschip-bulk2000")
    p.add_argument("--mails", type=int, default=2000, help="corpus size when it must be generated")
    p.add_argument("--sources", nargs="+", choices=["maildir", "imap", "graph"], default=["maildir", "imap", "graph"])
    p.add_argument("--executors", nargs="+", choices=["inline", "pool"], default=["inline", "pool"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1,
                   help="unchanged scans after the first (each one as unchanged as the last); the row "
                        "shows the one with the median CPU of all processes, the rest are in 'repeats'")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per source and executor")
    args = p.parse_args()
    root = bench_scan.ensure_corpus(args.corpus, args.mails)
    tmp = Path(tempfile.mkdtemp(prefix="bench-incr-"))
    try:
        for source in args.sources:
            started = time.monotonic()
            with world(source, root, tmp / source) as server:
                print(f"{source}: world ready in {time.monotonic() - started:.0f} s", flush=True)
                for executor in args.executors:
                    spec: dict[str, Any] = {"kind": executor}
                    if executor == "pool":
                        spec["workers"] = args.workers
                    settings = settings_for(server.sources, tmp / source / f"state-{executor}", spec)
                    first = scan(settings, server)
                    second = median_scan([scan(settings, server) for _ in range(args.repeat)])
                    print(describe(source, executor, first, second), flush=True)
                    row = {"bench": "incremental", "source": source, "executor": executor,
                           "workers": args.workers if executor == "pool" else 1, "first": first, "second": second,
                           "cpu_share": share(second["cpu_total"], first["cpu_total"]),
                           "wall_share": share(second["seconds"], first["seconds"]),
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
                           "load": os.getloadavg()[0]}
                    if args.json:  # row by row: a later failure keeps what was measured
                        with open(args.json, "a", encoding="utf-8") as stream:
                            stream.write(json.dumps(row, default=str) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
