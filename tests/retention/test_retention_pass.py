"""The nightly retention pass: only changed items go through the policy, the rest move by due
date in SQL, and the outcome equals a full evaluation of every item, on any day."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import text

from scanner.config import load_config
from scanner.jobs import demo_settings, run_scan
from scanner.retention_pass import recompute_retention
from scanner.store import Store, open_store


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    from scanner.demo import generate_demo

    root = tmp_path_factory.mktemp("retention")
    corpus = generate_demo(root / "bronnen", mails_per_teacher=30, today=date(2026, 11, 22))
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(demo_settings(root, corpus)), encoding="utf-8")
    settings = load_config(path)
    assert run_scan(settings, progress=False, echo=lambda _: None) == 0
    return settings


def statuses(store: Store) -> dict:
    with store.engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(text(
            "select id, retention_status, due_date, rule_id, action, exempt_reason from items where state = 'actief'"))}


@pytest.mark.parametrize("day", [date(2026, 11, 22), date(2027, 8, 31), date(2027, 9, 30), date(2029, 8, 1),
                                 date(2025, 1, 1)])
def test_incremental_pass_equals_a_full_pass(scanned, day):
    store = open_store(scanned)
    incremental_counts = recompute_retention(store, scanned, today=day)
    incremental = statuses(store)
    full_counts = recompute_retention(store, scanned, today=day, full=True)
    assert statuses(store) == incremental
    assert incremental_counts == full_counts


def test_changed_rules_trigger_a_full_pass(scanned):
    store = open_store(scanned)
    recompute_retention(store, scanned, today=date(2026, 11, 22))
    stricter = scanned.model_copy(update={"retention": scanned.retention.model_copy(update={"due_soon_days": 400})})
    counts = recompute_retention(store, stricter, today=date(2026, 11, 22))
    assert counts["binnenkort"] > 0
    recompute_retention(store, scanned, today=date(2026, 11, 22))  # and back


def test_an_item_whose_facts_changed_is_evaluated_again(scanned):
    store = open_store(scanned)
    recompute_retention(store, scanned, today=date(2026, 11, 22))
    with store.engine.begin() as conn:
        ident, rule = conn.execute(text(
            "select id, rule_id from items where state = 'actief' and student_data and kind = 'mail' "
            "and rule_id = 'mail_leerlinggegevens' limit 1")).one()
        conn.execute(text("update items set folder = :f where id = :i"),
                     {"f": store.keys_in_use().cipher.tag("Verwijderde items"), "i": ident})
    store.invalidate_retention([ident])
    recompute_retention(store, scanned, today=date(2026, 11, 22))
    assert store.item(ident).rule_id == "verwijderde_items"


def test_the_nightly_shift_writes_only_the_rows_whose_status_moves(scanned):
    """Rewriting every dated row with its own status cost an unchanged scan a pass of writes
    (docs/performance.md, issue 21 item 4): a trigger counts the rows the pass updates."""
    store = open_store(scanned)
    recompute_retention(store, scanned, today=date(2026, 11, 22))
    with store.engine.begin() as conn:
        conn.execute(text("create table shift_log (id text)"))
        conn.execute(text("create trigger shift_count after update of retention_status on items "
                          "begin insert into shift_log values (new.id); end"))
    try:
        recompute_retention(store, scanned, today=date(2026, 11, 22))
        with store.engine.connect() as conn:
            assert conn.execute(text("select count(*) from shift_log")).scalar() == 0
        before = statuses(store)
        recompute_retention(store, scanned, today=date(2029, 8, 1))
        after = statuses(store)
        moved = {ident for ident in after if after[ident][0] != before[ident][0]}
        with store.engine.connect() as conn:
            logged = set(conn.execute(text("select id from shift_log")).scalars())
        assert moved and logged == moved
    finally:
        with store.engine.begin() as conn:
            conn.execute(text("drop trigger shift_count"))
            conn.execute(text("drop table shift_log"))
        recompute_retention(store, scanned, today=date(2026, 11, 22))
