"""Migration 0004 on a store that the previous release wrote in clear (``data/main-f3d9a5a-rev0003.sql``,
made by main at f3d9a5a from tests/store/test_encryption.py's planted corpus), on SQLite and
PostgreSQL: every clear value is encrypted in place, item ids become keyed hashes with their
findings still attached, nothing is lost, and on SQLite no clear name is left in the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import MetaData, create_engine, insert, select, text

from scanner.store import Store
from scanner.store.migrate import alembic_config, current_revision, head_revision
from scanner.store.schema import ENCRYPTED

DUMP = Path(__file__).with_name("data") / "main-f3d9a5a-rev0003.sql"
NAMES = ["Esmee Huisman", "Huisman", "Öztürk", "Amira", "annemarie.verbeek", "bram.kuijpers", "Zorgmap Verbeek",
         "Onderwijskundig rapport"]
TABLES = ("runs", "units", "run_units", "items", "findings", "item_errors", "source_errors", "deliveries", "meta")


def old_database(url: str, tmp_path: Path) -> str:
    source_file = tmp_path / "dump.sqlite"
    with sqlite3.connect(source_file) as conn:
        conn.executescript(DUMP.read_text(encoding="utf-8"))
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).write_bytes(source_file.read_bytes())
        return url
    from alembic import command

    target = create_engine(url)
    command.upgrade(alembic_config(target), "0003")
    source = create_engine(f"sqlite:///{source_file}")
    found, wanted = MetaData(), MetaData()
    found.reflect(source, only=TABLES)
    wanted.reflect(target, only=TABLES)
    with source.connect() as read, target.begin() as write:
        for name in TABLES:
            rows = [dict(row) for row in read.execute(select(found.tables[name])).mappings()]
            if rows:
                write.execute(insert(wanted.tables[name]), rows)
        for name in ("runs", "findings", "source_errors"):
            write.execute(text(f"select setval(pg_get_serial_sequence('{name}', 'id'), (select max(id) from {name}))"))
    source.dispose()
    target.dispose()
    return url


def clear_rows(url: str) -> dict[str, list[dict]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {name: [dict(r) for r in conn.execute(text(f"select * from {name}")).mappings()] for name in TABLES}
    engine.dispose()
    return out


def test_a_clear_store_of_the_previous_release_is_encrypted_in_place(database_url, tmp_path):
    url = old_database(database_url, tmp_path)
    before = clear_rows(url)
    probe = create_engine(url)
    assert current_revision(probe) == "0003"
    probe.dispose()
    assert len(before["items"]) == 2 and len(before["findings"]) > 2 and before["deliveries"]

    store = Store(url, key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")
    assert current_revision(store.engine) == head_revision()
    after = clear_rows(url)
    for table, columns in ENCRYPTED.items():
        if table not in TABLES:  # made after the old release (digest_listings): nothing to encrypt
            continue
        assert len(after[table]) == len(before[table]), table
        for row in after[table]:
            for column in columns:
                assert row[column] is None or row[column].startswith(("e1:", "d1:")), (table, column)

    # every item under its keyed id, every value back in clear through the store, findings attached
    for old in before["items"]:
        ident = store.item_id(old["source"], old["item_key"])
        assert ident != old["id"]
        item = store.item(ident)
        assert item is not None
        assert (item.item_key, item.unit_key, item.owner, item.folder, item.title, item.link) == (
            old["item_key"], old["unit_key"], old["owner"], old["folder"], old["title"], old["link"])
        assert item.retention_status == old["retention_status"] and item.first_seen_run == old["first_seen_run"]
        parts = sorted((f["part"], f["location"], f["value_hash"]) for f in store.findings_of(ident))
        assert parts == sorted((f["part"], f["location"], f["value_hash"])
                               for f in before["findings"] if f["item_id"] == old["id"])
    for source in {u["source"] for u in before["units"]}:
        assert store.unit_keys(source) == {u["unit_key"] for u in before["units"] if u["source"] == source}
        for unit in (u for u in before["units"] if u["source"] == source):
            assert store.cursor(source, unit["unit_key"]) == unit["cursor"]
    (delivery,) = before["deliveries"]
    assert [(d["owner"], d["reason"]) for d in store.deliveries()] == [(delivery["owner"], delivery["reason"])]
    assert [(e["unit_key"], e["message"]) for e in store.source_errors(1)] == [
        (e["unit_key"], e["message"]) for e in before["source_errors"]]
    assert store.count_items(owner=before["items"][0]["owner"]) >= 1
    store.close()

    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        data = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        for name in NAMES:
            assert name.encode() not in data, f"{name!r} is left in clear in the file"
