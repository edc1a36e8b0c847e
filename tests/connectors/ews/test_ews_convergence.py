"""Convergence for EWS (issue 15): after transient faults in one run, the next fault-free run
leaves the store equal to the store of a clean run on the same mailbox state.

The faults are the documented ones, sent by the fake Exchange's fault schedule
(tests/services/fake_ews.py): ErrorServerBusy with BackOffMilliseconds, ErrorMailboxMoveInProgress,
and sync states that a mailbox move made invalid (ErrorInvalidSyncStateData) while mail was
deleted.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import yaml

from scanner.config import load_config
from scanner.store import open_store
from tests.convergence import assert_stores_converged, states
from tests.convergence import scan_totals as scan
from tests.services.fake_ews import JUF, SERVICE_PASSWORD, SERVICE_USER, FakeEwsServer, FakeExchange

BSN = "111222333"  # passes the 11-proef; fictional


def mime(subject: str, body: str) -> bytes:
    message = EmailMessage()
    message["From"] = "ouder@example.nl"
    message["To"] = JUF
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


def settings(tmp_path: Path, name: str, endpoint: str):
    data = {  # one state_dir (one HMAC key, so value hashes compare), one database per store
        "state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
        "database": {"url": f"sqlite:///{tmp_path / name}.sqlite"},
        "sources": [{"name": "exchange", "kind": "ews", "service_endpoint": endpoint, "auth": "basic",
                     "username": SERVICE_USER, "password": {"env": "TEST_EWS_PASSWORD"},
                     "mailboxes": [JUF], "page_size": 2, "max_wait": 5}],
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def test_busy_server_mailbox_move_and_invalid_sync_states_converge(exchange: FakeExchange,
                                                                   ews_server: FakeEwsServer,
                                                                   tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_EWS_PASSWORD", SERVICE_PASSWORD)
    exchange.add_folder(JUF, "Postvak IN/Zorg")
    exchange.add_item(JUF, "Postvak IN", "Ziekmelding", mime("Ziekmelding", f"Mijn zoon is ziek. BSN {BSN}."))
    old = exchange.add_item(JUF, "Postvak IN", "Oud", mime("Oud", "Niets bijzonders."))
    exchange.add_item(JUF, "Postvak IN/Zorg", "OPP", mime("OPP", f"Ontwikkelingsperspectief, BSN {BSN}."))
    faulty = settings(tmp_path, "faulty", ews_server.endpoint)
    scan(faulty)  # night 1, clean

    # Between the nights: the mailbox moved (every sync state invalid), one mail was deleted,
    # one arrived. Night 2 meets a busy server and a mailbox move still in progress.
    exchange.invalidate_sync_states()
    exchange.delete_item(JUF, "Postvak IN", old.id)
    exchange.add_item(JUF, "Postvak IN/Zorg", "Handelingsplan", mime("Handelingsplan", f"BSN: {BSN}"))
    exchange.busy_backoff_ms = 50
    exchange.fail("SyncFolderItems", "ErrorServerBusy", times=1, backoff_ms=50)
    exchange.fail("SyncFolderItems", "ErrorMailboxMoveInProgress", times=1)
    scan(faulty)
    scan(faulty)  # night 3, no faults
    store = open_store(faulty)
    try:
        codes = {(e["code"]) for run in (2, 3) for e in store.source_errors(run)}
    finally:
        store.close()
    assert "mailbox_moving" in codes and "unreachable" not in codes  # exact words for what happened

    clean = settings(tmp_path, "clean", ews_server.endpoint)
    scan(clean)
    assert_stores_converged(faulty, clean, deleted_meanwhile=True)
    assert all(times == 0 for *_, times, _ in exchange.faults)  # every scheduled fault was met
    assert list(states(faulty).values()).count("opgeruimd") == 1  # the mail deleted during the gap


def test_an_item_that_could_not_be_fetched_converges(exchange: FakeExchange, ews_server: FakeEwsServer,
                                                     tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_EWS_PASSWORD", SERVICE_PASSWORD)
    exchange.add_item(JUF, "Postvak IN", "Ziekmelding", mime("Ziekmelding", f"Mijn zoon is ziek. BSN {BSN}."))
    faulty = settings(tmp_path, "faulty", ews_server.endpoint)
    exchange.fail("GetItem", "ErrorMailboxMoveInProgress", times=5)
    assert scan(faulty)["item_errors"] == 1  # the fault cost one item, not the mailbox
    exchange.faults.clear()  # the faults stop
    scan(faulty)
    clean = settings(tmp_path, "clean", ews_server.endpoint)
    scan(clean)
    assert_stores_converged(faulty, clean, deleted_meanwhile=True)
