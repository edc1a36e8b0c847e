"""Store: upserts replace findings, touches keep them, closing records deletion evidence,
the lock refuses a second live runner and recovers a dead one's lock."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from scanner.core.model import AnalysisResult, Finding, ItemError, ItemKind, ItemRef, Verdict
from scanner.store import Store
from scanner.store.lock import LockedError, acquire
from scanner.store.migrate import current_revision, head_revision


@pytest.fixture
def store(database_url, tmp_path):
    store = Store(database_url, key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")
    yield store
    store.close()


def ref(key="k1", change="c1", folder="INBOX", **kw):
    return ItemRef(source="s", item_key=key, kind=ItemKind.MAIL, owner="d@s.nl", folder=folder, title="t",
                   date=datetime(2020, 3, 1, tzinfo=UTC), size=10, change_key=change, unit_key="u", **kw)


def result(r, findings=1, student=True):
    found = [Finding("NL_BSN", "body", 0, 9, 0.9, "*****6782", f"h{i}", "identificatie") for i in range(findings)]
    return AnalysisResult(ref=r, content_hash="abc", verdict=Verdict(student, ["identificatie"], found, ["bsn"]))


def test_schema_is_at_alembic_head(store):
    assert current_revision(store.engine) == head_revision()
    assert {"items", "findings", "runs", "units", "locks", "deliveries"} <= set(inspect(store.engine).get_table_names())


def test_save_replaces_findings_and_touch_keeps_them(store):
    run = store.begin_run("scan", pid=1, host="h")
    store.save_results(run, [result(ref(), findings=3)], source_kind="maildir", department="OB")
    store.save_results(run, [result(ref(), findings=2)], source_kind="maildir", department="OB")
    ident = store.item_id("s", "k1")
    assert len(store.findings_of(ident)) == 2
    run2 = store.begin_run("scan", pid=1, host="h")
    store.touch_items(run2, [ref(folder="Archief")])  # moved: keeps findings, new folder
    row = store.item(ident)
    assert row.folder == "Archief" and row.last_seen_run == run2 and row.first_seen_run == run
    assert len(store.findings_of(ident)) == 2
    assert store.known_items("s", ["k1", "nope"])["k1"].change_key == "c1"


def test_a_transient_failure_is_a_retry_with_a_bounded_count(store):
    run = store.begin_run("scan", pid=1, host="h")
    failed = AnalysisResult(ref=ref(), content_hash=None, verdict=None,
                            errors=[ItemError("fetch_failed", "ophalen mislukt / fetch failed")])
    for attempt in (1, 2, 3):
        saved = store.save_results(run, [failed], source_kind="maildir", department=None)
        assert saved.failed == {store.item_id("s", "k1"): attempt} and not saved.stale
    known = store.known_items("s", ["k1"])["k1"]
    assert (known.attempts, known.last_error) == (3, "fetch_failed")
    assert known.retry_due(5) and not known.retry_due(3)
    assert store.item_error_counts(run) == {"fetch_failed": 1}
    assert [r.item_key for r in store.retry_candidates("s", "u", 5)] == ["k1"]
    # The pipeline asks a unit for candidates only when the source's one query names it.
    assert store.retry_units("s", 5) == {"u"} and store.retry_units("other", 5) == set()
    assert store.retry_candidates("s", "u", 3) == [] and store.given_up(3) == {("s", "fetch_failed"): 1}
    assert store.retry_units("s", 3) == set()
    # ... and the pipeline asks once per run for every source at once: the same sets.
    other = AnalysisResult(ref=ItemRef(source="t", item_key="k9", kind=ItemKind.MAIL, owner="d@s.nl",
                                       folder="INBOX", title="t", date=datetime(2020, 3, 1, tzinfo=UTC), size=1,
                                       change_key="c", unit_key="v"), content_hash=None, verdict=None,
                           errors=[ItemError("fetch_failed", "ophalen mislukt / fetch failed")])
    store.save_results(run, [other], source_kind="maildir", department=None)
    assert store.retry_units_by_source(5) == {"s": {"u"}, "t": {"v"}}
    assert store.retry_units_by_source(3) == {"t": {"v"}}
    store.save_results(run, [result(ref())], source_kind="maildir", department=None)
    known = store.known_items("s", ["k1"])["k1"]
    assert (known.attempts, known.last_error) == (0, None) and store.retry_candidates("s", "u", 5) == []
    assert store.retry_units("s", 5) == set()


def test_a_failed_read_keeps_the_last_good_analysis(store):
    run = store.begin_run("scan", pid=1, host="h")
    store.save_results(run, [result(ref(), findings=2)], source_kind="maildir", department=None)
    ident = store.item_id("s", "k1")
    run2 = store.begin_run("scan", pid=1, host="h")
    failed = AnalysisResult(ref=ref(change="c2", folder="Archief"), content_hash=None, verdict=None,
                            errors=[ItemError("access_denied", "geen toegang / access denied")])
    saved = store.save_results(run2, [failed], source_kind="maildir", department=None)
    assert saved.stale == {ident}
    row = store.item(ident)
    assert row.student_data and row.categories == ("identificatie",) and row.content_hash == "abc"
    assert row.stale and row.attempts == 1 and row.last_error == "access_denied"
    assert row.folder == "Archief" and row.change_key == "c2" and row.analysed_run == run
    assert len(store.findings_of(ident)) == 2
    assert store.stale_count() == {"s": 1}
    # The retry is queued with the kept hash, so the same bytes keep the findings cheaply.
    assert [r.stored_hash for r in store.retry_candidates("s", "u", 5)] == ["abc"]
    store.touch_items(run2, [ref(change="c2")], refresh_change_key=True)
    row = store.item(ident)
    assert not row.stale and row.attempts == 0 and row.last_error is None


def test_close_unseen_and_gone_record_deletion(store):
    run = store.begin_run("scan", pid=1, host="h")
    store.save_results(run, [result(ref("a")), result(ref("b")), result(ref("c"))], source_kind="x", department=None)
    run2 = store.begin_run("scan", pid=1, host="h")
    store.touch_items(run2, [ref("a")])
    assert store.close_items("s", ["b"], run2) == 1
    assert store.close_unseen("s", "u", run2) == 1  # c
    states = {k: store.item(store.item_id("s", k)).state for k in "abc"}
    assert states == {"a": "actief", "b": "opgeruimd", "c": "opgeruimd"}
    assert store.item(store.item_id("s", "c")).closed_at is not None
    store.touch_items(store.begin_run("scan", pid=1, host="h"), [ref("c")])  # reappears: reopened
    assert store.item(store.item_id("s", "c")).state == "actief"


def test_unit_completion_saves_cursor_once(store):
    run = store.begin_run("scan", pid=1, host="h")
    store.complete_unit(run, "s", "u", "U", "d@s.nl", "delta-1", {"seen": 1})
    store.complete_unit(run, "s", "u", "U", "d@s.nl", "delta-2", {"seen": 2})
    assert store.cursor("s", "u") == "delta-2"
    assert store.done_units(run, "s") == {"u"}


def test_cursors_of_every_source_in_one_query_equal_those_per_source(store):
    run = store.begin_run("scan", pid=1, host="h")
    store.complete_units(run, [dict(source="s", unit_key="u", label="U", owner="d@s.nl", cursor="c1", stats={}),
                               dict(source="s", unit_key="w", label="W", owner=None, cursor=None, stats={}),
                               dict(source="t", unit_key="u", label="U", owner="d@s.nl", cursor="c2", stats={})])
    # the same unit key in two sources is two units (complete_units tells them apart by source)
    store.complete_units(run, [dict(source="t", unit_key="u", label="U", owner="d@s.nl", cursor="c3", stats={})])
    assert store.cursors_by_source() == {"s": store.cursors("s"), "t": store.cursors("t")}
    assert store.cursors_by_source() == {"s": {"u": "c1", "w": None}, "t": {"u": "c3"}}
    assert set(store.cursors_by_source()["s"]) == store.unit_keys("s")


def test_stores_of_one_database_share_an_engine_but_not_with_a_recreated_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.sqlite'}"
    keys = dict(key_file=tmp_path / "store.key", secret_file=tmp_path / "hmac.key")
    first, second = Store(url, **keys), Store(url, **keys)
    assert first.engine is second.engine  # compiled SQL is kept between the two
    first.meta_set("probe", "1")
    first.close()  # disposes the pool, not the engine: the other store goes on
    assert second.meta_get("probe") == "1"
    # Deleted and made again under the same name: a pooled connection would still read the old
    # file (its inode), so the new store must get a new engine.
    for path in tmp_path.glob("one.sqlite*"):
        path.unlink()
    third = Store(url, **keys)
    assert third.engine is not second.engine
    assert third.meta_get("probe") is None
    # every in-memory store is a database of its own
    assert Store("sqlite:///:memory:").engine is not Store("sqlite:///:memory:").engine
    second.close()
    third.close()


def test_delivery_ledger(store):
    assert not store.already_sent("d@s.nl", "2026-W47")
    store.record("d@s.nl", "2026-W47", "failed", "550 refused")
    assert not store.already_sent("d@s.nl", "2026-W47")
    store.record("d@s.nl", "2026-W47", "sent", None)
    assert store.already_sent("d@s.nl", "2026-W47")
    assert store.deliveries("2026-W47")[0]["attempts"] == 2
    # before and after sending: one attempt; a "sending" left by a dead run is not "sent"
    store.record("e@s.nl", "2026-W47", "sending", None)
    assert not store.already_sent("e@s.nl", "2026-W47")
    store.record("e@s.nl", "2026-W47", "sending", None)
    store.record("e@s.nl", "2026-W47", "sent", None)
    assert store.already_sent("e@s.nl", "2026-W47")
    assert {d["owner"]: d["attempts"] for d in store.deliveries("2026-W47")}["e@s.nl"] == 2


def test_no_value_columns_exist(store):
    columns = {c["name"] for t in inspect(store.engine).get_table_names() for c in inspect(store.engine).get_columns(t)}
    assert not columns & {"value", "text", "body", "content", "raw"}


def test_lock_refuses_a_live_holder_and_recovers_a_dead_one(store, tmp_path):
    lock = acquire(store)
    with pytest.raises(LockedError) as info:
        acquire(store)
    assert info.value.pid == os.getpid()
    lock.release()
    # A process that takes the lock and dies without releasing it.
    code = ("import sys; from scanner.store import Store; from scanner.store.lock import acquire; "
            f"acquire(Store({store.url!r}, key_file={str(tmp_path / 'store.key')!r}, "
            f"secret_file={str(tmp_path / 'hmac.key')!r})); sys.exit(0)")
    subprocess.run([sys.executable, "-c", code], check=True)
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from locks")).scalar() == 1
    recovered = acquire(store)
    assert recovered.recovered_from is not None and recovered.recovered_from != os.getpid()
    recovered.release()


def test_stored_item_follows_the_items_table(store):
    """StoredItem is built from the table's columns by position: it must name every column, in
    order, so a migration that adds one fails here and not by shifting every field after it."""
    from dataclasses import fields

    from scanner.store import StoredItem, schema

    assert [f.name for f in fields(StoredItem)] == [c.name for c in schema.items.columns]
    run = store.begin_run("scan", pid=1, host="h")
    store.save_results(run, [result(ref(), findings=2)], source_kind="maildir", department="OB")
    row = store.item(store.item_id("s", "k1"))
    assert row.item_date.tzinfo is not None and row.analysed_at.tzinfo is not None
    assert isinstance(row.labels, tuple) and isinstance(row.categories, tuple)
    assert row.ref().item_key == "k1" and row.ref().title == row.title  # the stored (masked) title
    assert list(store.iter_items()) == [row]
