"""Migration 0003 on an existing store: items an older version left unanalysed after a
transient failure (change key NULL) become retry candidates, nothing is re-analysed or lost."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, text

from scanner.store import Store, open_store
from scanner.store.migrate import alembic_config


def test_old_failed_items_become_retry_candidates(database_url, tmp_path):
    engine = create_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0002")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with engine.begin() as conn:
        for ident, change_key, codes in (("a" * 32, None, ["fetch_failed"]), ("b" * 32, "ck", []),
                                         ("c" * 32, None, ["too_large"])):
            conn.execute(text(
                "insert into items (id, source, source_kind, item_key, unit_key, kind, owner, item_date, "
                "change_key, state, first_seen_run, last_seen_run, analysed_run, error_codes, labels, "
                "student_data) values (:id, 's', 'graph_mail', :key, 'u', 'mail', 'd@s.nl', :date, :ck, "
                "'actief', 1, 1, 1, :codes, '[]', :sd)"),
                dict(id=ident, key=ident[:3], date=now, ck=change_key, codes=json.dumps(codes),
                     sd=change_key is not None))
    engine.dispose()
    store = Store(database_url, key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")  # to head
    # migration 0006 gives the items their keyed ids
    rows = {r.item_key: r for r in (store.item(store.item_id("s", i * 3)) for i in "abc") if r is not None}
    assert (rows["aaa"].attempts, rows["aaa"].last_error) == (1, "fetch_failed")
    assert (rows["bbb"].attempts, rows["bbb"].last_error, rows["bbb"].stale) == (0, None, False)
    assert rows["ccc"].attempts == 0  # not retryable: what the item is
    assert [r.item_key for r in store.retry_candidates("s", "u", 5)] == ["aaa"]
    store.close()


def test_status_calls_a_run_whose_process_died_interrupted(tmp_path):
    from scanner.config import load_config
    from scanner.status import collect_status

    config = tmp_path / "config.yaml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    settings = load_config(config)
    store = open_store(settings)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.begin_run("scan", pid=dead.pid, host=socket.gethostname())
    store.begin_run("scan", pid=os.getpid(), host=socket.gethostname())
    status = collect_status(settings)
    assert [r["status"] for r in status["runs"]] == ["running", "interrupted"]
    store.close()
