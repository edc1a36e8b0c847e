"""Optional enforcement (issue 18, item 5) with the real folder connector and real scans, on
SQLite and PostgreSQL: an unanswered item is moved once the day a delivered digest announced
has come; a held item, an item no digest announced and an item the last scan did not see are
not; a run that dies after the move and runs again moves nothing twice."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reports.run_report import render_run_report
from scanner.answers.service import AnswerService
from scanner.answers.web import codec_for
from scanner.config import load_config
from scanner.core.dates import format_date, local_date
from scanner.core.privacy import load_installation_secret
from scanner.enforcement.policy import POLICY
from scanner.enforcement.run import enforce
from scanner.jobs import run_digest
from scanner.pipeline import ScanRunner
from scanner.reporting import run_report_data
from scanner.store import open_store
from tests.planted import OLD, valid_bsns

OWNER = "mentor@school.nl"
BSNS = valid_bsns(4)
QUARANTINE = "_schoonschip_quarantaine"


def settings_for(tmp: Path, database_url: str, **enforcement):
    share = tmp / "share"
    share.mkdir(exist_ok=True)
    return load_config(None, {
        "school": {"name": "De Proefschool"},
        "state_dir": str(tmp / "data"),
        "database": {"url": database_url},
        "sources": [{"name": "gedeeld", "kind": "folder", "path": str(share), "owner": OWNER}],
        "answers": {"public_url": "https://schoonschip.proefschool.nl"},
        "enforcement": {"enabled": True, "weeks_after_first_digest": 2, "sources": ["folder"], **enforcement},
    })


def plant(share: Path, relative: str, bsn: str) -> None:
    path = share / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Leerling met BSN {bsn} (burgerservicenummer), zie het leerlingdossier.\n", encoding="utf-8")
    os.utime(path, (OLD, OLD))


def scan(settings, store, when: datetime) -> int:
    summary = ScanRunner(settings, store, today=when).run()
    assert summary.status == "completed"
    return summary.run_id


def digests(outbox: Path) -> list[tuple[str, str]]:
    """(html, text) of every digest in the outbox, oldest first."""
    out = []
    for path in sorted(outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out.append((message.get_body(("html",)).get_content(), message.get_body(("plain",)).get_content()))
    return out


@pytest.fixture
def school(tmp_path, database_url):
    settings = settings_for(tmp_path, database_url)
    share = tmp_path / "share"
    for name, bsn in zip(("a.txt", "b.txt"), BSNS, strict=False):
        plant(share, f"Archief 2017/{name}", bsn)
    store = open_store(settings)
    yield settings, store, share
    store.close()


def test_an_announced_unanswered_item_is_moved_after_n_weeks_a_held_and_an_unannounced_one_not(school):
    settings, store, share = school
    start = datetime.now(UTC)
    scan(settings, store, start)
    a, b = (store.item_id("gedeeld", f"Archief 2017/{n}") for n in ("a.txt", "b.txt"))
    assert {store.item(i).retention_status for i in (a, b)} == {"verlopen"}

    # The first digest announces the day: two weeks after it (the first that named the items).
    assert run_digest(settings, period="W1", now=start, echo=lambda *_: None) == 0
    day = local_date(start) + timedelta(weeks=2)
    ((html, text),) = digests(settings.outbox_dir)
    told = f"Wordt op {format_date(day, 'nl')} verplaatst"
    assert text.count(told) == 2 and html.count('data-move-note="1"') == 2
    assert store.announced_moves([a, b]) == {a: day, b: day}

    # The teacher keeps b (bewaarplicht); c appears after the digest: nobody told of it.
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    AnswerService(settings, store).apply(codec.read(codec.make(OWNER, "bewaren", [b])), reason="leerlingdossier")
    plant(share, "Archief 2017/c.txt", BSNS[2])

    # Before the day: nothing moves.
    early = start + timedelta(days=10)
    stats = enforce(settings, store, scan(settings, store, early), today=local_date(early))
    assert not stats.moved and stats.waiting == 2  # a (day not come) and c (never announced)
    assert (share / "Archief 2017" / "a.txt").is_file()

    # After the day: a is moved to the quarantine, b (held) and c (unannounced) stay.
    late = start + timedelta(days=15)
    run_id = scan(settings, store, late)
    stats = enforce(settings, store, run_id, today=local_date(late))
    assert dict(stats.moved) == {"gedeeld": 1} and stats.waiting == 1 and not stats.failed
    assert (share / QUARANTINE / "Archief 2017" / "a.txt").is_file()
    assert not (share / "Archief 2017" / "a.txt").exists()
    assert (share / "Archief 2017" / "b.txt").is_file() and (share / "Archief 2017" / "c.txt").is_file()
    (move,) = [x for x in store.answers_of([a]) if x["owner_key"] == POLICY]
    assert (move["action"], move["outcome"], move["rule"], move["reversed_at"]) == (
        "verwijderen", "moved", store.item(a).rule_id, None)
    assert move["rule"] and store.item(a).state == "opgeruimd"
    assert store.run(run_id)["stats"]["enforcement"]["moved"] == {"gedeeld": 1}
    report = render_run_report(run_report_data(store, run_id))
    assert "Schoolbeleid (handhaving): 1 onbeantwoorde items verplaatst" in report.text
    assert 'data-enforcement="1"' in report.html

    # The next digest says what the policy moved, and announces c's day (at least a week off).
    assert run_digest(settings, period="W3", now=late, echo=lambda *_: None) == 0
    html, text = digests(settings.outbox_dir)[-1]
    assert "Volgens het beleid van de school zijn 1 van je berichten" in text
    assert 'data-policy-moved="1"' in html
    c = store.item_id("gedeeld", "Archief 2017/c.txt")
    assert store.announced_moves([c]) == {c: local_date(late) + timedelta(weeks=2)}
    assert f"Wordt op {format_date(local_date(late) + timedelta(weeks=2), 'nl')} verplaatst" in text

    # The next scan does not reopen a or crawl the quarantine; the policy finds nothing more to do.
    later = late + timedelta(days=1)
    stats = enforce(settings, store, scan(settings, store, later), today=local_date(later))
    assert not stats.moved and store.item(a).state == "opgeruimd"
    assert not any(QUARANTINE in row.item_key for row in store.iter_items())


def test_a_run_that_dies_after_moving_moves_nothing_twice(school, monkeypatch):
    settings, store, share = school
    start = datetime.now(UTC)
    scan(settings, store, start)
    run_digest(settings, period="W1", now=start, echo=lambda *_: None)
    late = start + timedelta(days=15)
    run_id = scan(settings, store, late)

    real = store.record_answers
    calls = []

    def dies_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the machine went down")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "record_answers", dies_once)
    with pytest.raises(RuntimeError):
        enforce(settings, store, run_id, today=local_date(late))
    moved = sorted(p.name for p in (share / QUARANTINE).rglob("*.txt"))
    assert len(moved) == 1  # the first item went; its record did not

    stats = enforce(settings, store, run_id, today=local_date(late))  # the run again
    assert sum(stats.moved.values()) == 2
    assert sorted(p.name for p in (share / QUARANTINE).rglob("*")  if p.is_file()) == ["a.txt", "b.txt"]
    ids = [store.item_id("gedeeld", f"Archief 2017/{n}") for n in ("a.txt", "b.txt")]
    assert [x["owner_key"] for x in store.answers_of(ids)] == [POLICY, POLICY]
    assert not sum(enforce(settings, store, run_id, today=local_date(late)).moved.values())


def test_only_a_delivered_digest_announces_and_only_a_completed_scan_acts(school):
    settings, store, share = school
    start = datetime.now(UTC)
    scan(settings, store, start)
    a = store.item_id("gedeeld", "Archief 2017/a.txt")
    day = local_date(start) + timedelta(days=1)
    store.record_listed(OWNER, "W1", [a], {a: day})
    store.record(OWNER, "W1", "sending", None)
    assert store.announced_moves([a]) == {}  # a digest that died half-way announced nothing
    store.record(OWNER, "W1", "failed", "smtp")
    assert store.announced_moves([a]) == {}
    late = start + timedelta(days=15)
    run_id = scan(settings, store, late)
    stats = enforce(settings, store, run_id, today=local_date(late))
    assert not stats.moved and stats.waiting == 2
    store.record(OWNER, "W1", "sent", None)
    assert store.announced_moves([a]) == {a: day}

    interrupted = store.begin_run("scan", pid=1, host="h")
    store.finish_run(interrupted, "interrupted", {})
    stats = enforce(settings, store, interrupted, today=local_date(late))
    assert stats.skipped == "run_not_completed" and not stats.moved
    assert (share / "Archief 2017" / "a.txt").is_file()


def test_off_by_default_and_a_source_that_cannot_act_is_reported(tmp_path, database_url):
    off = load_config(None, {"state_dir": str(tmp_path / "d"), "database": {"url": database_url}})
    assert not off.enforcement.enabled
    settings = load_config(None, {
        "state_dir": str(tmp_path / "d"), "database": {"url": database_url},
        "sources": [{"name": "export", "kind": "maildir", "path": str(tmp_path), "owner": OWNER}],
        "enforcement": {"enabled": True, "sources": ["maildir"]},
    })
    store = open_store(settings)
    try:
        run = store.begin_run("scan", pid=1, host="h")
        store.finish_run(run, "completed", {})
        stats = enforce(settings, store, run)
        assert stats.cannot_act == ["export"] and not stats.moved
        assert store.run(run)["stats"]["enforcement"]["cannot_act"] == ["export"]
    finally:
        store.close()


def test_the_policy_never_touches_an_answered_an_archived_or_an_unseen_item(tmp_path, database_url):
    """The rules on stored items: a standing answer, a reversed policy move (a person decided
    after the policy), an Archiefwet record and an item whose unit the last scan did not
    complete are never candidates or never moved."""
    from scanner.enforcement.policy import candidates
    from tests.answers.helpers import flagged
    from tests.answers.helpers import settings_for as answer_settings

    base = answer_settings(tmp_path, database_url)
    settings = base.model_copy(update={"enforcement": base.enforcement.model_copy(
        update={"enabled": True, "sources": ["folder"]})})
    store = open_store(settings)
    try:
        free, answered, reversed_, exam = flagged(
            store, settings, ["a.txt", "b.txt", "c.txt", "cijferlijst examen 2016.xlsx"])
        assert store.item(exam).action == "archiveren"
        now = datetime.now(UTC)
        row = {"reason": None, "answered_at": now, "outcome": "recorded", "error_code": None, "place": None}
        store.record_answers([{**row, "item_id": answered, "owner_key": "k" * 32, "action": "verwijderen"},
                              {**row, "item_id": reversed_, "owner_key": POLICY, "action": "verwijderen"}], {})
        store.reverse_answers([a["id"] for a in store.answers_of([reversed_])], {})
        rows = list(store.iter_items(active_only=True))
        assert [r.id for r in candidates(settings, store, rows)] == [free]

        day = local_date(now)
        store.record_listed(OWNER, "W1", [free], {free: day})
        store.record(OWNER, "W1", "sent", None)
        run = store.begin_run("scan", pid=1, host="h")  # completed, but it crawled no unit
        store.finish_run(run, "completed", {})
        stats = enforce(settings, store, run, today=day)
        assert not stats.moved and stats.unseen == 1
    finally:
        store.close()
