"""New items judged as they are written (:class:`scanner.retention_pass.WriteJudge`): the
stored outcome is the one the retention pass would have given, and the pass neither reads
them back nor rewrites them; what it cannot vouch for (other rules, another day) it judges
again itself."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import yaml
from sqlalchemy import text

from scanner.config import load_config
from scanner.core.model import AnalysisResult, Finding, ItemKind, ItemRef, Verdict
from scanner.jobs import demo_settings, run_scan
from scanner.retention import RetentionSettings
from scanner.retention_pass import RETENTION_FINGERPRINT, WriteJudge, recompute_retention
from scanner.store import Store, open_store

SCAN_DAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OUTCOME = "retention_status, due_date, rule_id, action, exempt_reason"


def outcomes(store: Store) -> dict[str, tuple]:
    with store.engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(text(
            f"select id, {OUTCOME} from items where state = 'actief'"))}


def test_a_first_scan_stores_the_outcomes_a_pass_gives_without_rewriting_them(tmp_path):
    from scanner.demo import generate_demo

    corpus = generate_demo(tmp_path / "bronnen", mails_per_teacher=20, today=SCAN_DAY.date())
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(demo_settings(tmp_path, corpus)), encoding="utf-8")
    settings = load_config(path)
    store = open_store(settings)
    with store.engine.begin() as conn:  # every write of an outcome after the item's insert
        conn.execute(text("create table outcome_log (id text)"))
        conn.execute(text("create trigger outcome_count after update of retention_status on items "
                          "begin insert into outcome_log values (new.id); end"))
    assert run_scan(settings, progress=False, echo=lambda _: None, today=SCAN_DAY) == 0
    judged = outcomes(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from outcome_log")).scalar() == 0
        stats = conn.execute(text("select stats from runs order by id desc limit 1")).scalar()
    assert judged and all(outcome[0] is not None for outcome in judged.values())

    # The same store judged by a full pass from scratch, as before write-time judging.
    with store.engine.begin() as conn:
        conn.execute(text(f"update items set ({OUTCOME}) = (null, null, null, null, null)"))
        conn.execute(text("delete from meta where key = :k"), {"k": RETENTION_FINGERPRINT})
    counts = recompute_retention(store, settings, today=SCAN_DAY)
    assert outcomes(store) == judged
    import json

    assert counts == (json.loads(stats) if isinstance(stats, str) else stats)["retention"]


def ref(n: int, kind: ItemKind, folder: str) -> ItemRef:
    return ItemRef(source="s", item_key=f"{folder}/{n}", kind=kind, owner="d@s.nl", folder=folder, title=f"t{n}",
                   date=datetime(2018 + n % 7, 1 + n % 12, 1 + n % 28, 9, tzinfo=UTC), size=10,
                   change_key="c", unit_key="u")


def results() -> list[AnalysisResult]:
    out = []
    for n in range(60):
        kind, folder = [(ItemKind.MAIL, "Inbox"), (ItemKind.FILE, "Zorg"), (ItemKind.MAIL, "Verwijderde items")][n % 3]
        student = n % 4 != 0
        found = [Finding("NL_BSN", "body", 0, 9, 0.9, "*****6782", f"h{n}", "identificatie")] if student else []
        out.append(AnalysisResult(ref=ref(n, kind, folder), content_hash=f"c{n}", verdict=Verdict(
            student, ["identificatie", "zorg"][: 1 + n % 2] if student else [], found)))
    return out


def by_key(store: Store) -> dict[str, tuple]:
    return {item.item_key: (item.retention_status, item.due_date, item.rule_id, item.action, item.exempt_reason)
            for item in store.iter_items(active_only=True)}


def settings_with(**retention: object) -> SimpleNamespace:
    return SimpleNamespace(retention=RetentionSettings(**retention), detection=SimpleNamespace(roster=None))


@pytest.mark.parametrize(("judge_day", "judge_rules"), [
    (date(2026, 11, 22), {}),  # what the pass would judge: left out of its reading
    (date(2024, 1, 1), {}),  # another day: judged again
    (date(2026, 11, 22), {"due_soon_days": 366}),  # other rules: judged again
])
@pytest.mark.parametrize("stored_rules", [False, True])
def test_the_pass_keeps_only_the_judgements_it_would_make(tmp_path, judge_day, judge_rules, stored_rules):
    settings = settings_with()
    plain = Store(f"sqlite:///{tmp_path / 'plain.db'}")
    judged = Store(f"sqlite:///{tmp_path / 'judged.db'}")
    if stored_rules:  # an earlier pass with the same rules: this pass is not a full one
        for store in (plain, judged):
            recompute_retention(store, settings, today=date(2026, 11, 22))
    run = plain.begin_run("scan", pid=1, host="h")
    plain.save_results(run, results(), source_kind="maildir", department=None)
    expected_counts = recompute_retention(plain, settings, today=date(2026, 11, 22))

    judge = WriteJudge.build(judged, settings_with(**judge_rules), judge_day)
    assert judge is not None
    run = judged.begin_run("scan", pid=1, host="h")
    judged.save_result_groups(run, [(results(), "maildir", None)], judge=judge)
    written = by_key(judged)
    assert all(outcome[0] is not None for outcome in written.values())
    if judge.key != WriteJudge.build(judged, settings, date(2026, 11, 22)).key:  # type: ignore[union-attr]
        assert written != by_key(plain)  # judged otherwise than the pass would: the pass must redo it
    counts = recompute_retention(judged, settings, today=date(2026, 11, 22), judged=judge, run_id=run)
    assert by_key(judged) == by_key(plain)
    assert counts == expected_counts
    assert len({outcome[2] for outcome in by_key(plain).values()}) > 2  # several rules decided


def test_only_new_items_are_judged_and_forgetting_resets_the_run(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    settings = settings_with()
    first = store.begin_run("scan", pid=1, host="h")
    store.save_results(first, results()[:10], source_kind="maildir", department=None)
    judge = WriteJudge.build(store, settings, date(2026, 11, 22))
    run = store.begin_run("scan", pid=1, host="h")
    store.save_result_groups(run, [(results()[5:20], "maildir", None)], judge=judge)
    stored = by_key(store)
    again = {r.ref.item_key for r in results()[5:10]}  # analysed again: their owner's mark is in the store
    assert all((stored[key][0] is None) == (key in again or key in {r.ref.item_key for r in results()[:5]})
               for key in stored)
    store.forget_judged(run)
    assert all(outcome == (None,) * 5 for outcome in by_key(store).values())
