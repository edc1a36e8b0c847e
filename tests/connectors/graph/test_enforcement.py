"""Optional enforcement through the real pipeline and the Graph fake: after the day a
delivered digest announced, the nightly scan moves an unanswered message to Verwijderde
items (message: move by immutable id); the next scan finds it there as the same item, the
digest says what the policy moved and asks nothing more, and no second move happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from scanner.config import load_config
from scanner.enforcement.policy import POLICY
from scanner.jobs import run_digest, run_scan
from scanner.reporting import teacher_digests
from scanner.store import open_store

from .conftest import connection

TEACHER = "j.devries@school.nl"


def settings_for(tmp_path: Path, fake, certs):
    data = {
        "state_dir": str(tmp_path / "state"),
        "sources": [{"name": "m365", "kind": "graph_mail", "mailboxes": [TEACHER], **connection(fake, certs)}],
        "enforcement": {"enabled": True, "weeks_after_first_digest": 2},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def moves(fake):
    return [entry for entry in fake.log if entry.method == "POST" and entry.path.endswith("/move")]


def test_an_announced_unanswered_message_goes_to_deleted_items_once(tmp_path, fake, certs):
    fake.add_mailbox(TEACHER)
    listed = fake.add_message(TEACHER, "Inbox", "Klassenlijst", received="2020-03-02T08:00:00Z",
                              body="Klassenlijst groep 7\nNaam;BSN\nDaan de Vries;111222333\n")
    settings = settings_for(tmp_path, fake, certs)
    quiet: list[str] = []
    now = datetime.now(UTC)
    assert run_scan(settings, progress=False, echo=quiet.append, today=now) == 0
    assert run_digest(settings, period="W1", now=now, echo=quiet.append) == 0
    assert not moves(fake)

    later = now + timedelta(days=15)
    assert run_scan(settings, progress=False, echo=quiet.append, today=later) == 0
    assert [m.status for m in moves(fake)] == [201]
    box = fake.mailboxes[TEACHER]
    assert box.folders[box.messages[listed.id].folder_id].name == "Verwijderde items"
    assert any(line.startswith("Schoolbeleid: 1 items verplaatst") for line in quiet), quiet

    store = open_store(settings)
    try:
        assert run_scan(settings, progress=False, echo=quiet.append, today=later + timedelta(days=1)) == 0
        assert len(moves(fake)) == 1  # found in Verwijderde items: the same item, not moved again
        (item,) = [row for row in store.iter_items(active_only=True) if row.student_data]
        assert item.folder == "Verwijderde items"
        assert [a["owner_key"] for a in store.answers_of([item.id])] == [POLICY]
        (digest,) = teacher_digests(store, settings, now=later + timedelta(days=1))
        assert digest.items == [] and sum(digest.policy_moved.values()) == 1
    finally:
        store.close()
