"""Migration 0005 on a store built with the old key forms (issue 15, identity).

The store is made at revision 0002 with rows as the old connectors wrote them (IMAP
``uidvalidity:uid`` without the folder; EWS unit keys with an unescaped ``%``), then opened by
the current code, which upgrades it (0005, then 0007 encrypts the names and keys the ids with
the HMAC secret). Nothing may be lost and nothing analysed again; the result is read through
the store, which opens what 0007 encrypted.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from connectors.imap import imap_item_key
from scanner.store import Store
from scanner.store.migrate import alembic_config

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
OWNER = "juf.jansen@school.nl"


def item_id(source: str, item_key: str) -> str:
    """The unkeyed id stores had before migration 0006 (a frozen copy of the old formula)."""
    return hashlib.sha256(f"{source}\x00{item_key}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _open(url: str, tmp_path: Path) -> Store:
    return Store(url, key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")


def _item(source: str, source_kind: str, key: str, unit_key: str, **extra) -> dict:
    row = {
        "id": item_id(source, key), "source": source, "source_kind": source_kind, "item_key": key,
        "unit_key": unit_key, "kind": "mail", "owner": OWNER, "folder": unit_key.partition("/")[2],
        "title": "Ziekmelding", "item_date": NOW, "size": 1234, "change_key": key.rpartition("/")[2],
        "content_hash": "h-" + key, "labels": [], "state": "actief", "first_seen_run": 1,
        "last_seen_run": 1, "analysed_run": 1, "analysed_at": NOW, "student_data": True,
        "categories": ["identificatie"], "entity_counts": {"BSN": 1}, "reasons": [], "error_codes": [],
        "retention_status": "verlopen", "owner_mark": "bewaren",
    }
    row.update(extra)
    return row


def _old_store(url: str) -> None:
    engine = create_engine(url)
    command.upgrade(alembic_config(engine), "0002")
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    items, findings, errors, units = (meta.tables[n] for n in ("items", "findings", "item_errors", "units"))
    with engine.begin() as conn:
        conn.execute(items.insert(), [
            _item("imap-jansen", "imap", "1700000000:1", f"{OWNER}/INBOX"),
            _item("imap-jansen", "imap", "1700000000:2", f"{OWNER}/Klas 3B/Zorg"),
            _item("ews-school", "ews", "AAMkAD=", f"{OWNER}/Inbox/100% zeker"),
            _item("map", "folder", "Zorg/opp.txt", "share:", kind="file"),
        ])
        for key in ("1700000000:1", "AAMkAD=", "Zorg/opp.txt"):
            source = {"1700000000:1": "imap-jansen", "AAMkAD=": "ews-school"}.get(key, "map")
            conn.execute(findings.insert(), {
                "item_id": item_id(source, key), "entity": "BSN", "category": "identificatie",
                "part": "body", "start": 4, "end": 13, "score": 0.9, "masked": "*****6782",
                "value_hash": "v" * 64})
        conn.execute(errors.insert(), {"item_id": item_id("imap-jansen", "1700000000:2"), "run_id": 1,
                                       "code": "text_truncated", "part": "body", "message": "ingekort"})
        conn.execute(units.insert(), [
            {"source": "imap-jansen", "unit_key": f"{OWNER}/INBOX", "cursor": "1700000000:3:9"},
            {"source": "ews-school", "unit_key": f"{OWNER}/Inbox/100% zeker", "cursor": "SYNCSTATE"},
        ])
    engine.dispose()


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(sql)).all()
    engine.dispose()
    return rows


def test_old_keys_are_rewritten_with_their_container_and_keep_their_analysis(database_url: str,
                                                                             tmp_path: Path) -> None:
    _old_store(database_url)
    store = _open(database_url, tmp_path)  # the current code opens it and upgrades

    inbox = imap_item_key("INBOX", 1700000000, 1)
    zorg = imap_item_key("Klas 3B/Zorg", 1700000000, 2)
    items = {row.item_key: row for row in store.iter_items()}
    assert set(items) == {inbox, zorg, "AAMkAD=", "Zorg/opp.txt"}
    new_id = store.item_id
    assert items[inbox].id == new_id("imap-jansen", inbox) and items[zorg].id == new_id("imap-jansen", zorg)
    for key in (inbox, zorg):  # the analysis, the owner's mark and the status are kept
        row = items[key]
        assert row.change_key == key.rpartition("/")[2] and row.analysed_run == 1
        assert row.owner_mark == "bewaren" and row.state == "actief" and row.retention_status == "verlopen"
    assert items["AAMkAD="].id == new_id("ews-school", "AAMkAD=")  # EWS ids are Exchange ids
    assert items["AAMkAD="].unit_key == f"{OWNER}/Inbox/100%25 zeker"
    assert items["Zorg/opp.txt"].id == new_id("map", "Zorg/opp.txt")  # other kinds untouched

    findings = {row.item_id for row in _rows(database_url, "select item_id from findings")}
    assert findings == {new_id("imap-jansen", inbox), new_id("ews-school", "AAMkAD="), new_id("map", "Zorg/opp.txt")}
    errors = _rows(database_url, "select item_id, code from item_errors")
    assert errors == [(new_id("imap-jansen", zorg), "text_truncated")]
    units = {key: store.cursor(source, key) for source in ("imap-jansen", "ews-school")
             for key in store.unit_keys(source)}
    assert units == {f"{OWNER}/INBOX": "1700000000:3:9", f"{OWNER}/Inbox/100%25 zeker": "SYNCSTATE"}
    store.close()


def test_the_migration_is_a_no_op_on_a_new_store(database_url: str, tmp_path: Path) -> None:
    _open(database_url, tmp_path).close()
    assert _rows(database_url, "select count(*) from items") == [(0,)]
