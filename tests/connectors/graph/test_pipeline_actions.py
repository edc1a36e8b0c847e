"""Graph end to end through the real pipeline: a flagged message gets the Outlook category,
our own label does not cause a re-analysis, and the teacher's "geen leerlinggegevens"
category takes the item out of the digest and counts as a false positive (issue 9)."""

from __future__ import annotations

from pathlib import Path

import yaml

from scanner.config import load_config
from scanner.jobs import run_scan
from scanner.reporting import fg_frames, teacher_digests
from scanner.store import open_store

from .conftest import connection

TEACHER = "j.devries@school.nl"
OPRUIMEN = "Schoonschip: opruimen"
GEEN = "Schoonschip: geen leerlinggegevens"


def settings_for(tmp_path: Path, fake, certs):
    data = {
        "state_dir": str(tmp_path / "state"),
        "sources": [{"name": "m365", "kind": "graph_mail", "mailboxes": [TEACHER], **connection(fake, certs)}],
        "actions": {"tag_flagged": True},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def test_tag_flagged_mail_and_read_back_the_owners_mark(tmp_path, fake, certs):
    fake.add_mailbox(TEACHER)
    flagged = fake.add_message(TEACHER, "Inbox", "Klassenlijst", received="2020-03-02T08:00:00Z",
                               body="Klassenlijst groep 7\nNaam;BSN\nDaan de Vries;111222333\n")
    plain = fake.add_message(TEACHER, "Inbox", "Rooster", received="2020-03-02T09:00:00Z",
                             body="Het rooster voor volgende week staat online.")
    settings = settings_for(tmp_path, fake, certs)
    lines: list[str] = []
    assert run_scan(settings, progress=False, echo=lines.append) == 0
    assert OPRUIMEN in fake.mailboxes[TEACHER].messages[flagged.id].categories
    assert OPRUIMEN not in fake.mailboxes[TEACHER].messages[plain.id].categories

    store = open_store(settings)
    assert run_scan(settings, progress=False, echo=lines.append) == 0
    stats = store.runs("scan")[0]["stats"]["sources"]["m365"]
    assert stats["analysed"] == 0, "our own category must not cause a re-analysis"

    # The teacher marks it as not holding student data.
    categories = fake.mailboxes[TEACHER].messages[flagged.id].categories + [GEEN]
    fake.update_message(TEACHER, flagged.id, categories=categories)
    assert run_scan(settings, progress=False, echo=lines.append) == 0
    assert teacher_digests(store, settings) == []
    items, _ = fg_frames(store, settings)
    assert int(items["false_positive"].sum()) == 1


def test_an_archiefwet_record_is_not_tagged_for_clean_up(tmp_path, fake, certs):
    """A mail whose rule says `archiveren` (a central-exam grade list) holds student data and is
    due, but gets no "opruimen" category: it is to be archived, never cleaned up."""
    fake.add_mailbox(TEACHER)
    exam = fake.add_message(TEACHER, "Inbox", "Cijferlijst centraal examen 2019", received="2019-07-02T08:00:00Z",
                            body="Cijferlijst centraal examen\nNaam;BSN;cijfer\nDaan de Vries;111222333;7,4\n")
    other = fake.add_message(TEACHER, "Inbox", "Klassenlijst", received="2019-07-02T09:00:00Z",
                             body="Klassenlijst groep 7\nNaam;BSN\nDaan de Vries;111222333\n")
    settings = settings_for(tmp_path, fake, certs)
    assert run_scan(settings, progress=False, echo=lambda _line: None) == 0
    store = open_store(settings)
    actions = {row.title: row.action for row in store.iter_items()}
    assert actions["Cijferlijst centraal examen 2019"] == "archiveren", actions
    assert OPRUIMEN not in fake.mailboxes[TEACHER].messages[exam.id].categories
    assert OPRUIMEN in fake.mailboxes[TEACHER].messages[other.id].categories
