"""The bulk writer stores exactly what SQLAlchemy's insert()/update() would (scanner.store.bulk).

Two stores get the same rows, one through SQLAlchemy's executemany and one through
:class:`~scanner.store.bulk.BulkWriter`; every column is read back as the database holds it
(JSON as its stored text, timestamps as stored), and the two must be equal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import String, bindparam, cast, delete, insert, select, update
from sqlalchemy.dialects import sqlite

from scanner.store import Store
from scanner.store import schema as s
from scanner.store.bulk import BulkWriter, _JsonEncoder


def _item(ident: str, n: int) -> dict:
    return dict(
        id=ident, source="share", source_kind="folder", item_key=f"e1:key{n}", unit_key="d1:unit",
        kind="file", owner="d1:owner", department="po" if n % 2 else None, folder="d1:folder",
        title=f"e1:title{n}", link=None if n % 3 else "e1:link", item_date=datetime(2020, 1, 2, 3, 4, 5, n, UTC),
        size=n, change_key=f"{n}.0", content_hash="ab" * 32, labels=["Inbox"] if n % 2 else [],
        state="actief", closed_at=None, first_seen_run=1, last_seen_run=1, analysed_run=1,
        analysed_at=datetime(2026, 12, 2, 7, 0, n, tzinfo=UTC), student_data=bool(n % 2),
        categories=["identificatie"] if n % 2 else [], entity_counts={"NL_BSN": n} if n % 2 else {},
        reasons=["bsn é"] if n % 4 else [], error_codes=[], retention_status=None,
        exposure=None, exposure_reasons=None if n % 2 else ["link"], sharing_key=None,
        attempts=0, last_error=None, stale=False)


def _dump(store: Store) -> list[tuple]:
    """Every items and findings column as stored (JSON as text, so spacing counts)."""
    out = []
    with store.engine.connect() as conn:
        for table in (s.items, s.findings):
            cols = [cast(c, String) if isinstance(c.type, s.JSON) else c for c in table.columns]
            out += [tuple(row) for row in conn.execute(select(*cols).order_by(*table.primary_key.columns))]
    return out


@pytest.fixture
def two_stores(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        urls = [database_url, f"sqlite:///{tmp_path / 'other.sqlite'}"]
    else:
        urls = [database_url, database_url]
    stores = [Store(url, key_file=tmp_path / "k", secret_file=tmp_path / "h") for url in urls]
    yield stores
    for store in stores:
        store.close()


def test_bulk_rows_are_the_rows_sqlalchemy_writes(two_stores):
    reference, bulk = two_stores
    items = [_item(f"{n:032d}", n) for n in range(1, 9)]
    findings = [dict(item_id=f"{n:032d}", entity="NL_BSN", category="identificatie", part="d1:body",
                     location=None, start=n, end=n + 9, score=0.1 * n + 0.85, masked="*****6782",
                     value_hash="cd" * 32) for n in range(1, 9)]
    changes = [dict(b_id=f"{n:032d}", title=f"e1:new{n}", labels=["Archief"], stale=True, attempts=n,
                    due_date=date(2027, 8, 1) if n > 2 else None, exempt_reason=None,
                    entity_counts={"NL_BSN": 1, "PERSON": 2}) for n in (2, 5, 2)]
    changes[-1]["title"] = "e1:last"  # the same item twice: the last row stands
    # a wide update (every column: not one statement from arrays on PostgreSQL, see UNNEST_COLUMNS)
    wide = [{"b_id": f"{n:032d}", **{k: v for k, v in _item("", n + 10).items() if k != "id"}} for n in (3, 4)]
    with reference.engine.begin() as conn:
        conn.execute(insert(s.items), items)
        conn.execute(update(s.items).where(s.items.c.id == f"{1:032d}").values(rule_id="r"))
        conn.execute(insert(s.findings), findings)
        conn.execute(update(s.items).where(s.items.c.id == bindparam("b_id"))
                     .values({k: bindparam(k) for k in changes[0] if k != "b_id"}), changes)
        conn.execute(update(s.items).where(s.items.c.id == bindparam("b_id"))
                     .values({k: bindparam(k) for k in wide[0] if k != "b_id"}), wide)
    expected = _dump(reference)
    if reference.engine.url == bulk.engine.url:  # one PostgreSQL database: clear it for the other writer
        with reference.engine.begin() as conn:
            conn.execute(delete(s.items))
            conn.exec_driver_sql("ALTER SEQUENCE findings_id_seq RESTART WITH 1")
    writer = BulkWriter(bulk.engine.dialect)
    without_defaults = [{k: v for k, v in row.items() if k not in ("attempts", "stale")} for row in items]
    with bulk.engine.begin() as conn:
        writer.insert(conn, s.items, without_defaults)  # defaults filled in as insert() does
        writer.insert(conn, s.findings, findings[:4])
        # the rest as tuples in a column order of their own (what the store's write path sends)
        names = ("value_hash", "item_id", "entity", "category", "part", "location", "start", "end", "score",
                 "masked")
        writer.insert_tuples(conn, s.findings, names, [tuple(row[name] for name in names) for row in findings[4:]])
        writer.update(conn, s.items, "id", changes)
        writer.update(conn, s.items, "id", wide)
        # only the named columns are set, whatever else the rows hold
        writer.update(conn, s.items, "id", [dict(b_id=f"{1:032d}", rule_id="r", size=-1)], columns=["rule_id"])
    got = _dump(bulk)
    assert got == expected


def test_json_memo_tells_apart_what_encodes_differently():
    encode = _JsonEncoder(s.items.c.labels.type, sqlite.dialect())
    values = [[1], [True], [1.0], ["1"], {"a": 1}, {"a": True}, {"b": 2, "a": 1}, {"a": 1, "b": 2}, [],
              {}, None, [["nested"]], [["nested", 1]], {"1": 1}, {1: 1}, {True: 1}]
    for _ in range(2):  # the second round answers from the memo
        assert [encode(v) for v in values] == [json.dumps(v) for v in values]


def test_none_binds_as_null_through_the_registered_adapter():
    """bind_none_cheaply registers an adapter for NoneType (the sqlite3 module then finds it
    at once instead of failing two attribute look-ups per None); a None must still be stored
    as NULL, also next to values and in executemany, and the adapter must be the one found."""
    import sqlite3

    from scanner.store.bulk import _NONE, bind_none_cheaply

    bind_none_cheaply()
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)] is _NONE
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a TEXT, b INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), ("x", None), (None, None)])
    assert conn.execute("SELECT a IS NULL, b IS NULL, typeof(a), typeof(b) FROM t").fetchall() == [
        (1, 0, "null", "integer"), (0, 1, "text", "null"), (1, 1, "null", "null")]
    conn.close()


@pytest.mark.parametrize("count", [0, 1, 49, 50, 51, 100, 137])
def test_multi_row_inserts_store_the_rows_of_one_by_one(count):
    """insert_tuples' INSERTs of MULTI_ROWS rows each store what one INSERT per row (the old
    executemany) stored, with the same ids in the same order."""
    from sqlalchemy import Column, Float, Integer, MetaData, Table, create_engine

    from scanner.store import bulk

    meta = MetaData()
    table = Table("t", meta, Column("id", Integer, primary_key=True), Column("a", String(8)),
                  Column("b", Float), Column("c", String(8)))
    rows = [(f"a{i}", i / 7 if i % 3 else None, None if i % 2 else "x") for i in range(count)]
    stored = []
    for multi in (bulk.MULTI_ROWS, 10 ** 9):  # 10**9: never multi-row, the old path
        engine = create_engine("sqlite://")
        meta.create_all(engine)
        writer = BulkWriter(engine.dialect)
        old, bulk.MULTI_ROWS = bulk.MULTI_ROWS, multi
        try:
            with engine.begin() as conn:
                writer.insert_tuples(conn, table, ("a", "b", "c"), rows[: count // 2])
                writer.insert_tuples(conn, table, ("a", "b", "c"), rows[count // 2:])
                stored.append(conn.execute(select(table).order_by(table.c.id)).all())
        finally:
            bulk.MULTI_ROWS = old
    assert stored[0] == stored[1]
    assert len(stored[0]) == count
