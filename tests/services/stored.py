"""Reading back what a scan stored, for tests that compare two runs (resume, executors)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine, text


def snapshot(settings) -> tuple[set, list, list]:
    """(items, findings, scan runs) of the store of ``settings`` in a comparable form, without
    timestamps. Finding parts are opened with the store's key: two stores have two keys, so
    their ciphertexts differ even for equal parts."""
    from scanner.store import open_store

    store = open_store(settings, create=False)
    try:
        with store.engine.connect() as conn:
            items = set(conn.execute(text(
                "select id, change_key, content_hash, student_data, state, retention_status from items")).all())
            opened = store.keys_in_use().cipher.open
            findings = sorted((item_id, entity, opened(part), *rest) for item_id, entity, part, *rest in conn.execute(
                text("select item_id, entity, part, start, \"end\", masked, value_hash from findings")).all())
            runs = conn.execute(text("select id, status from runs where kind = 'scan' order by id")).all()
    finally:
        store.close()
    return items, findings, runs


def item_count(url: str) -> int:
    """Items stored so far (0 while the schema does not exist yet)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("select count(*) from items")).scalar() or 0)
    except Exception:  # noqa: BLE001 - the table may not exist yet
        return 0
    finally:
        engine.dispose()


def scan_killed_once_stored(config_path: Path, database_url: str, items: int, *, prefix: Sequence[str] = (),
                            settle: float = 0.0, poll: float = 0.02) -> int:
    """Run ``schoonschip scan`` in a process of its own and kill it with SIGKILL (nothing of its
    own clean-up runs) once the store holds ``items`` items, ``settle`` seconds later; returns
    the process's return code (``-SIGKILL`` when the kill landed, 0 when the scan finished
    first). ``prefix`` runs the command under another user (tests.permissions.unprivileged)."""
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "scanner.cli", "scan", "--config", str(config_path), "--no-progress"],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if item_count(database_url) >= items:
            if settle:
                time.sleep(settle)
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(poll)
    process.wait(timeout=60)
    return process.returncode
