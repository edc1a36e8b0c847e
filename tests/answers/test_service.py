"""The answer service's rules, on SQLite and PostgreSQL: marks the retention policy honours,
moves through the connector, single use, someone else's items, reversal, moves of items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.answers.service import AnswerRefused, AnswerService
from scanner.answers.web import codec_for
from scanner.core.model import ItemKind, ItemRef
from scanner.core.privacy import load_installation_secret
from scanner.reporting import teacher_digests
from scanner.retention_pass import recompute_retention
from scanner.store import open_store
from tests.answers.helpers import (
    OTHER,
    OWNER,
    MovingFolderConnector,
    flagged,
    moving_factory,
    read_only_factory,
    settings_for,
)


@pytest.fixture
def school(tmp_path, database_url):
    settings = settings_for(tmp_path, database_url)
    store = open_store(settings)
    codec = codec_for(settings, load_installation_secret(settings.secret_path, store))
    yield settings, store, codec
    store.close()


def result_for(ref, content_hash):
    from scanner.core.model import AnalysisResult, Verdict

    return AnalysisResult(ref=ref, content_hash=content_hash, verdict=Verdict(True, ["identificatie"], [], ["bsn"]))


def digest_ids(store, settings):
    return {i.item_id for d in teacher_digests(store, settings) for i in d.items}


def test_bewaren_and_geen_leerlinggegevens_are_marks_the_retention_policy_honours(school):
    settings, store, codec = school
    keep, wrong, rest = flagged(store, settings, ["a.txt", "b.txt", "c.txt"])
    service = AnswerService(settings, store, moving_factory)
    assert digest_ids(store, settings) == {keep, wrong, rest}
    service.apply(codec.read(codec.make(OWNER, "bewaren", [keep])), "leerlingdossier")
    service.apply(codec.read(codec.make(OWNER, "geen_leerlinggegevens", [wrong])))
    assert (store.item(keep).owner_mark, store.item(wrong).owner_mark) == ("legal_hold", "false_positive")
    recompute_retention(store, settings)
    assert store.item(keep).exempt_reason == "legal_hold" and store.item(wrong).exempt_reason == "false_positive"
    assert digest_ids(store, settings) == {rest}
    answer = store.answers_of([keep])[0]
    from scanner.core.privacy import ValueHasher

    hasher = ValueHasher(load_installation_secret(settings.secret_path, store))
    assert (answer["owner_key"], answer["action"], answer["reason"], answer["outcome"]) == (
        hasher.hash("OWNER", OWNER), "bewaren", "leerlingdossier", "recorded")
    # the answer survives a new analysis of the item (a rescan of changed content)
    run = store.begin_run("scan", pid=1, host="h")
    store.save_results(run, [result_for(store.item(keep).ref(), "hash-new")], source_kind="folder",
                       department=None)
    recompute_retention(store, settings)
    assert store.item(keep).owner_mark == "legal_hold" and store.item(keep).exempt_reason == "legal_hold"
    with pytest.raises(AnswerRefused) as caught:
        service.apply(codec.read(codec.make(OWNER, "bewaren", [keep])), "mijn eigen tekst")
    assert caught.value.code == "bad_reason"


def test_reversal_puts_the_item_back_and_only_within_the_undo_days(school):
    settings, store, codec = school
    (ident,) = flagged(store, settings, ["a.txt"])
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    clock = {"now": now}
    service = AnswerService(settings, store, moving_factory, clock=lambda: clock["now"])
    service.apply(codec.read(codec.make(OWNER, "geen_leerlinggegevens", [ident])))
    service.apply(codec.read(codec.make(OWNER, "bewaren", [ident])))
    undo = codec.read(codec.make(OWNER, "terugdraaien", [ident]))
    result = service.apply(undo)  # reverses the latest answer: back to the earlier mark
    assert [o.item.id for o in result.items] == [ident]
    assert store.item(ident).owner_mark == "false_positive"
    clock["now"] = now + timedelta(days=31)
    with pytest.raises(AnswerRefused) as caught:
        service.apply(undo)
    assert caught.value.code == "nothing_to_undo"
    assert store.item(ident).owner_mark == "false_positive"
    clock["now"] = now + timedelta(days=1)
    service.apply(undo)
    assert store.item(ident).owner_mark is None
    recompute_retention(store, settings)
    assert digest_ids(store, settings) == {ident}
    assert [a["reversed_at"] is not None for a in store.answers_of([ident])] == [True, True]


def test_verwijderen_moves_at_the_source_once(school, tmp_path):
    settings, store, codec = school
    share = tmp_path / "share" / "Archief 2017"
    share.mkdir(parents=True)
    for name in ("a.txt", "weigert.txt"):
        (share / name).write_text("x", encoding="utf-8")
    ids = flagged(store, settings, ["a.txt", "weigert.txt"])
    service = AnswerService(settings, store, moving_factory)
    claim = codec.read(codec.make(OWNER, "verwijderen", ids))
    result = service.apply(claim)
    outcomes = {o.item.title: (o.outcome, o.place, o.error_code) for o in result.items}
    assert outcomes == {"a.txt": ("moved", "quarantaine", None), "weigert.txt": ("failed", None, "access_denied")}
    assert not (share / "a.txt").exists() and (tmp_path / "quarantaine" / "Archief 2017" / "a.txt").exists()
    assert (share / "weigert.txt").exists()
    calls = len(MovingFolderConnector.calls)
    with pytest.raises(AnswerRefused) as caught:
        service.apply(claim)  # the same link again
    assert caught.value.code == "used" and len(MovingFolderConnector.calls) == calls
    with pytest.raises(AnswerRefused):
        service.check(claim)
    assert [a["outcome"] for a in store.answers_of(ids)] == ["moved", "failed"]
    assert store.item(ids[0]).owner_mark is None  # the scan sees it gone; no mark needed


def test_a_source_that_cannot_remove_records_the_answer_for_the_teacher_to_do_by_hand(school, tmp_path):
    settings, store, codec = school
    (ident,) = flagged(store, settings, ["a.txt"])
    service = AnswerService(settings, store, read_only_factory)
    assert not service.can_remove("gedeeld")
    result = service.apply(codec.read(codec.make(OWNER, "verwijderen", [ident])))
    assert [(o.outcome, o.manual) for o in result.items] == [("recorded", True)]


def test_another_owners_link_or_an_unknown_item_changes_nothing(school):
    settings, store, codec = school
    (mine,) = flagged(store, settings, ["a.txt"])
    (theirs,) = flagged(store, settings, ["b.txt"], owner=OTHER, folder="Zorg")
    service = AnswerService(settings, store, moving_factory)
    for claim, code in ((codec.make(OTHER, "bewaren", [mine, theirs]), "not_yours"),
                        (codec.make(OWNER, "bewaren", [mine, "f" * 32]), "gone")):
        with pytest.raises(AnswerRefused) as caught:
            service.apply(codec.read(claim))
        assert caught.value.code == code
    assert store.answers_of([mine, theirs]) == [] and store.item(mine).owner_mark is None


def test_answers_and_marks_follow_an_item_that_moved(school):
    settings, store, codec = school
    (old,) = flagged(store, settings, ["a.txt"])
    AnswerService(settings, store, moving_factory).apply(codec.read(codec.make(OWNER, "bewaren", [old])))
    store.record_listed(OWNER, "2026-W48", [old])  # a digest named it before it moved
    store.record(OWNER, "2026-W48", "sent", None)
    told = store.first_digests([old])[old]
    run = store.begin_run("scan", pid=1, host="h")
    from scanner.core.model import AnalysisResult, Verdict

    moved = ItemRef(source="gedeeld", item_key="Dossiers/a.txt", kind=ItemKind.FILE, owner=OWNER,
                    folder="Dossiers", title="a.txt", date=datetime(2017, 3, 1, tzinfo=UTC), size=10,
                    change_key="c1", unit_key="Dossiers")
    store.save_results(run, [AnalysisResult(ref=moved, content_hash="hash-a.txt",
                                            verdict=Verdict(True, ["identificatie"], [], ["bsn"]))],
                       source_kind="folder", department=None)
    store.close_items("gedeeld", ["Archief 2017/a.txt"], run)
    assert store.absorb_moves(run) == {"gedeeld": 1}
    new = store.item_id("gedeeld", "Dossiers/a.txt")
    assert store.item(old) is None and store.item(new).owner_mark == "legal_hold"
    assert [a["action"] for a in store.answers_of([new])] == ["bewaren"]
    assert store.first_digests([new]) == {new: told}  # the teacher was told of it then, not never


def test_the_digest_has_answer_links_only_with_a_public_url_and_tells_what_became_of_an_answer(school, tmp_path):
    from reports.digest import render_digest
    from scanner.answers.settings import AnswerSettings

    settings, store, codec = school
    share = tmp_path / "share" / "Archief 2017"
    share.mkdir(parents=True)
    (share / "weigert.txt").write_text("x", encoding="utf-8")
    ids = flagged(store, settings, ["a.txt", "weigert.txt", "c.txt"])
    plain = settings.model_copy(update={"answers": AnswerSettings()})
    (digest,) = teacher_digests(store, plain)
    assert all(item.answers == () for item in digest.items) and digest.folder_groups == []
    rendered = render_digest(digest)
    assert "/a/" not in rendered.html and "Verwijderen:" not in rendered.text

    AnswerService(settings, store, moving_factory).apply(codec.read(codec.make(OWNER, "verwijderen", [ids[1]])))
    AnswerService(settings, store, read_only_factory).apply(codec.read(codec.make(OWNER, "verwijderen", [ids[2]])))
    (digest,) = teacher_digests(store, settings)
    by_id = {item.item_id: item for item in digest.items}
    assert [a.action for a in by_id[ids[0]].answers] == ["verwijderen", "bewaren", "geen_leerlinggegevens"]
    assert all(a.url.startswith("https://schoonschip.proefschool.nl/a/") for a in by_id[ids[0]].answers)
    assert by_id[ids[0]].answer_note is None
    assert (by_id[ids[1]].answer_note.kind, by_id[ids[1]].answer_note.code) == ("failed", "access_denied")
    assert by_id[ids[2]].answer_note.kind == "manual"
    (group,) = digest.folder_groups
    assert (group.folder, group.kind, group.count) == ("Archief 2017", "file", 3)
    assert codec.read(group.answers[0].url.rsplit("/", 1)[1]).item_ids == tuple(sorted(ids, key=lambda i: (
        by_id[i].date, i)))
    rendered = render_digest(digest)
    assert "Alle 3 bestanden in Archief 2017 verwijderen" in rendered.html
    assert "Alle 3 bestanden in Archief 2017 verwijderen: https://" in rendered.text
    assert "maar dat lukte niet (access_denied)" in rendered.html and "Verwijder het zelf." in rendered.text
    assert rendered.text.count("Geen leerlinggegevens: https://") == 3


def test_verwijderen_through_the_real_folder_connector_then_the_next_scan(school, tmp_path):
    """The service with the registry's own connector (no test double): the file goes to the
    share's quarantine folder, the item is closed, and the next scan neither reopens it nor
    crawls the quarantine."""
    from scanner.pipeline import ScanRunner

    settings, store, codec = school
    folder = tmp_path / "share" / "Archief 2017"
    folder.mkdir(parents=True)
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text("Rooster voor maandag.\n", encoding="utf-8")
    gone, kept = flagged(store, settings, ["a.txt", "b.txt"])
    service = AnswerService(settings, store)
    result = service.apply(codec.read(codec.make(OWNER, "verwijderen", [gone])))
    assert [(o.outcome, o.error_code) for o in result.items] == [("moved", None)]
    quarantined = tmp_path / "share" / "_schoonschip_quarantaine" / "Archief 2017" / "a.txt"
    assert quarantined.is_file() and not (folder / "a.txt").exists()
    summary = ScanRunner(settings, store).run()
    assert summary.status == "completed" and summary.totals()["warnings"] == 0
    assert store.item(gone).state == "opgeruimd" and store.item(kept).state == "actief"
    keys = {row.item_key for row in store.iter_items()}
    assert not any("_schoonschip_quarantaine" in key for key in keys), keys


def test_removed_mail_found_again_in_the_trash_keeps_its_answer_and_is_not_asked_again(school, tmp_path):
    """Mail the source moved to Verwijderde items is found there by the next scan (the folder is
    scanned): the same item, its answer travels with it, it is not counted as a move of that run,
    and the digest does not ask the teacher about it again."""
    settings, store, codec = school
    folder = tmp_path / "share" / "Archief 2017"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("x", encoding="utf-8")
    (removed, other) = flagged(store, settings, ["a.txt", "b.txt"])
    result = AnswerService(settings, store, moving_factory).apply(
        codec.read(codec.make(OWNER, "verwijderen", [removed])))
    assert [o.outcome for o in result.items] == ["moved"] and store.item(removed).state == "opgeruimd"
    run = store.begin_run("scan", pid=1, host="h")
    trash = ItemRef(source="gedeeld", item_key="Verwijderde items/a.txt", kind=ItemKind.FILE, owner=OWNER,
                    folder="Verwijderde items", title="a.txt", date=datetime(2017, 3, 1, tzinfo=UTC), size=10,
                    change_key="c2", unit_key="Verwijderde items")
    store.save_results(run, [result_for(trash, "hash-a.txt")], source_kind="folder", department=None)
    assert store.absorb_moves(run) == {}  # this run closed nothing: no move of this run
    found = store.item_id("gedeeld", "Verwijderde items/a.txt")
    assert store.item(removed) is None and store.item(found).state == "actief"
    assert [(a["action"], a["outcome"]) for a in store.answers_of([found])] == [("verwijderen", "moved")]
    recompute_retention(store, settings)
    assert digest_ids(store, settings) == {other}


def test_an_archiefwet_record_is_never_offered_or_allowed_for_deletion(school):
    """An item whose rule says `archiveren` gets no Verwijderen link (nor a place in a folder
    group), and a Verwijderen link for it changes nothing."""
    settings, store, codec = school
    exam, rest, more = flagged(store, settings, ["cijferlijst examen 2016.xlsx", "b.txt", "c.txt"])
    assert store.item(exam).action == "archiveren"
    (digest,) = teacher_digests(store, settings)
    by_id = {item.item_id: item for item in digest.items}
    assert [a.action for a in by_id[exam].answers] == ["bewaren", "geen_leerlinggegevens"]
    assert "verwijderen" in [a.action for a in by_id[rest].answers]
    assert [g.count for g in digest.folder_groups] == [2]
    service = AnswerService(settings, store, moving_factory)
    calls = len(MovingFolderConnector.calls)
    with pytest.raises(AnswerRefused) as caught:
        service.apply(codec.read(codec.make(OWNER, "verwijderen", [exam, rest])))
    assert caught.value.code == "archive"
    assert len(MovingFolderConnector.calls) == calls and store.answers_of([exam, rest]) == []
    assert store.item(rest).state == "actief"


def test_undo_of_a_move_puts_the_file_back_through_the_real_folder_connector(school, tmp_path):
    """Undo within the undo days: the folder connector moves the file back from the share's
    quarantine folder, the item is active again; a second undo has nothing to undo; a file
    that is no longer in quarantine is left for the teacher (the page says where to look)."""
    settings, store, codec = school
    folder = tmp_path / "share" / "Archief 2017"
    folder.mkdir(parents=True)
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text("Rooster voor maandag.\n", encoding="utf-8")
    back, emptied = flagged(store, settings, ["a.txt", "b.txt"])
    service = AnswerService(settings, store)
    service.apply(codec.read(codec.make(OWNER, "verwijderen", [back, emptied])))
    quarantine = tmp_path / "share" / "_schoonschip_quarantaine" / "Archief 2017"
    assert sorted(p.name for p in quarantine.iterdir()) == ["a.txt", "b.txt"]
    (quarantine / "b.txt").unlink()  # IT emptied the quarantine (or the teacher moved it on)
    undone = service.apply(codec.read(codec.make(OWNER, "terugdraaien", [back, emptied])))
    outcomes = {o.item.id: o for o in undone.items}
    assert outcomes[back].restored and outcomes[back].place == "Archief 2017"
    assert (folder / "a.txt").is_file() and not (quarantine / "a.txt").exists()
    assert store.item(back).state == "actief" and store.item(back).closed_at is None
    assert not outcomes[emptied].restored and outcomes[emptied].reverted_move
    assert outcomes[emptied].error_code == "not_found" and store.item(emptied).state == "opgeruimd"
    with pytest.raises(AnswerRefused):
        service.apply(codec.read(codec.make(OWNER, "terugdraaien", [back])))
    # the restore itself is idempotent: asked again, the file is where it belongs
    from connectors.base import ConnectorContext
    from connectors.folder import FolderConnector

    connector = FolderConnector(settings.source("gedeeld"), ConnectorContext())
    assert connector.restore(store.item(back).ref()) == "Archief 2017"


def test_undo_after_the_next_scan_found_mail_in_the_trash_sends_it_back_to_where_it_was(school, tmp_path):
    """Mail found again in Verwijderde items is the same item there (its unit is now the
    trash); the answer kept, sealed, where it was moved from, and the undo asks the source to
    put it back there, not into the trash again."""
    settings, store, codec = school
    asked: list[str] = []

    class Restoring(MovingFolderConnector):
        def restore(self, ref):
            asked.append(ref.unit_key)
            return ref.unit_key

    (removed,) = flagged(store, settings, ["a.txt"])
    (tmp_path / "share" / "Archief 2017").mkdir(parents=True, exist_ok=True)
    (tmp_path / "share" / "Archief 2017" / "a.txt").write_text("x", encoding="utf-8")
    service = AnswerService(settings, store, lambda source, context: Restoring(source, context))
    service.apply(codec.read(codec.make(OWNER, "verwijderen", [removed])))
    (answer,) = store.answers_of([removed])
    assert answer["origin"] == "Archief 2017"
    with store.engine.connect() as conn:  # sealed at rest
        from sqlalchemy import text

        assert "Archief" not in str(conn.execute(text("SELECT origin FROM answers")).scalar())
    run = store.begin_run("scan", pid=1, host="h")
    trash = ItemRef(source="gedeeld", item_key="Verwijderde items/a.txt", kind=ItemKind.FILE, owner=OWNER,
                    folder="Verwijderde items", title="a.txt", date=datetime(2017, 3, 1, tzinfo=UTC), size=10,
                    change_key="c2", unit_key="Verwijderde items")
    store.save_results(run, [result_for(trash, "hash-a.txt")], source_kind="folder", department=None)
    store.absorb_moves(run)
    found = store.item_id("gedeeld", "Verwijderde items/a.txt")
    undone = service.apply(codec.read(codec.make(OWNER, "terugdraaien", [found])))
    assert asked == ["Archief 2017"] and undone.items[0].restored
