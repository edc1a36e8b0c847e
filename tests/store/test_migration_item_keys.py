"""Migration 0005 on a store built with the old key forms (issue 15, identity).

The store is made at revision 0002 with rows as the old connectors wrote them (IMAP
``uidvalidity:uid`` without the folder; EWS unit keys with an unescaped ``%``), then opened by
the current code, which upgrades it. Nothing may be lost and nothing analysed again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from connectors.imap import imap_item_key
from scanner.store import Store, item_id
from scanner.store.migrate import alembic_config

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
OWNER = "juf.jansen@school.nl"


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


def test_old_keys_are_rewritten_with_their_container_and_keep_their_analysis(database_url: str) -> None:
    _old_store(database_url)
    Store(database_url).close()  # the current code opens it and upgrades

    inbox = imap_item_key("INBOX", 1700000000, 1)
    zorg = imap_item_key("Klas 3B/Zorg", 1700000000, 2)
    items = {row.item_key: row for row in _rows(
        database_url, "select id, item_key, unit_key, change_key, content_hash, analysed_run, owner_mark,"
                      " state, retention_status from items")}
    assert set(items) == {inbox, zorg, "AAMkAD=", "Zorg/opp.txt"}
    assert items[inbox].id == item_id("imap-jansen", inbox) and items[zorg].id == item_id("imap-jansen", zorg)
    for key in (inbox, zorg):  # the analysis, the owner's mark and the status are kept
        row = items[key]
        assert row.change_key == key.rpartition("/")[2] and row.analysed_run == 1
        assert row.owner_mark == "bewaren" and row.state == "actief" and row.retention_status == "verlopen"
    assert items["AAMkAD="].id == item_id("ews-school", "AAMkAD=")  # EWS ids are Exchange ids
    assert items["AAMkAD="].unit_key == f"{OWNER}/Inbox/100%25 zeker"
    assert items["Zorg/opp.txt"].id == item_id("map", "Zorg/opp.txt")  # other kinds untouched

    findings = {row.item_id for row in _rows(database_url, "select item_id from findings")}
    assert findings == {item_id("imap-jansen", inbox), item_id("ews-school", "AAMkAD="), item_id("map", "Zorg/opp.txt")}
    errors = _rows(database_url, "select item_id, code from item_errors")
    assert errors == [(item_id("imap-jansen", zorg), "text_truncated")]
    units = dict(_rows(database_url, "select unit_key, cursor from units"))
    assert units == {f"{OWNER}/INBOX": "1700000000:3:9", f"{OWNER}/Inbox/100%25 zeker": "SYNCSTATE"}


def test_the_migration_is_a_no_op_on_a_new_store(database_url: str) -> None:
    Store(database_url).close()
    assert _rows(database_url, "select count(*) from items") == [(0,)]
