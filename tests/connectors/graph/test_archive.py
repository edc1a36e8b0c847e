"""graph_mail with ``archive: true`` against the fake Graph: the In-Place Archive found through
``GET /beta/users/{id}/settings/exchange`` (``inPlaceArchiveMailboxId``), its folders as units
that cannot collide with the primary mailbox's, delta per folder on beta, a 308 to an
auxiliary archive followed with the same method and token, and no archive = no unit."""

from __future__ import annotations

import pickle

import pytest

from connectors.base import ItemFetchError, SourceError
from connectors.graph.client import GraphError, path_id
from connectors.graph.mail import ARCHIVE_ACTION_MESSAGE
from scanner.core.model import Cursor, Seen
from tests.crawling import crawl_all

from .conftest import mail_connector

JANSEN = "jansen@school.nl"
DEVRIES = "devries@school.nl"
ARCHIVE = f"{JANSEN}/%archief"


def school(fake):
    for mail in (JANSEN, DEVRIES):
        fake.add_mailbox(mail)
    fake.add_message(JANSEN, "Inbox", "Rooster")
    fake.add_message(JANSEN, "Archief", "Eigen archiefmap")  # the primary's own folder "Archief"
    fake.add_message(DEVRIES, "Inbox", "Vergadering")
    fake.add_archive(JANSEN)  # devries has no archive
    old = fake.add_message(JANSEN, "Inbox", "OPP 2014", archive=True)
    older = fake.add_message(JANSEN, "Inbox/2012", "Zorgmelding 2012", archive=True)
    return old, older


def test_archive_is_opt_in_and_primary_keys_stay_the_same(fake, certs, clock) -> None:
    school(fake)
    plain = {u.key for u in mail_connector(fake, certs, clock, mailboxes=[JANSEN, DEVRIES]).units()}
    assert not fake.graph_requests("/settings/exchange")
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN, DEVRIES], archive=True)
    units = {u.key: u for u in connector.units()}
    assert plain < set(units)
    archive = {k: u.label for k, u in units.items() if k not in plain}
    assert archive == {
        f"{ARCHIVE}/Inbox": f"{JANSEN}/Online archief/Inbox",
        f"{ARCHIVE}/Inbox/2012": f"{JANSEN}/Online archief/Inbox/2012",
    }
    assert all(units[k].owner == units[k].concurrency_key == JANSEN for k in archive)
    # one settings call per mailbox, on beta; the archive listed on beta by its MBX id
    assert len(fake.logged("/settings/exchange")) == 2
    assert all(entry.path.startswith("/beta/") for entry in fake.logged("/settings/exchange"))
    archive_id = fake.mailboxes[JANSEN].archive_id
    assert any(entry.path == f"/beta/users/{archive_id}/mailFolders" for entry in fake.logged("/mailFolders"))


def test_archive_folders_are_crawled_and_fetched_on_beta(fake, certs, clock) -> None:
    old, older = school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN, DEVRIES], archive=True)
    first = crawl_all(connector)
    assert not first.errors
    refs = {r.title: r for r in first.seen()}
    assert set(refs) == {"Rooster", "Eigen archiefmap", "Vergadering", "OPP 2014", "Zorgmelding 2012"}
    ref = refs["OPP 2014"]
    assert ref.item_key == f"{JANSEN}:%archief:{old.id}"
    assert (ref.folder, ref.owner, ref.unit_key) == ("Online archief/Inbox", JANSEN, f"{ARCHIVE}/Inbox")
    assert refs["Eigen archiefmap"].folder == "Archief" and refs["Rooster"].item_key.count(":") == 1
    assert connector.fetch(ref).data == old.mime
    archive_delta = [e.path for e in fake.logged("/messages/delta") if "MBX:" in e.path]
    assert len(archive_delta) == 2 and all(p.startswith("/beta/") for p in archive_delta)
    # incremental: a deletion in the archive is Gone under the archive's item key
    fake.delete_message(JANSEN, older.id, archive=True)
    new = fake.add_message(JANSEN, "Inbox", "Nieuw in archief", archive=True)
    second = crawl_all(connector, first.cursors)
    assert [r.item_key for r in second.seen()] == [f"{JANSEN}:%archief:{new.id}"]
    assert second.gone() == [f"{JANSEN}:%archief:{older.id}"]


def test_an_expanded_folder_is_followed_through_308_to_the_auxiliary_archive(fake, certs, clock) -> None:
    old, _ = school(fake)
    aux = fake.expand_folder(JANSEN, "Inbox")
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    first = crawl_all(connector)
    assert not first.errors
    refs = {r.title: r for r in first.seen()}
    assert refs["OPP 2014"].item_key == f"{JANSEN}:%archief:{old.id}"
    redirected = [e for e in fake.logged("/messages/delta") if e.status == 308]
    assert len(redirected) == 1
    followed = [e for e in fake.logged(f"/beta/users/{aux.user_id}/") if e.status == 200]
    assert followed  # the same GET with the same bearer token (the fake checks it) on the auxiliary
    assert connector.fetch(refs["OPP 2014"]).data == old.mime  # $value: 308 followed as well
    # the delta link of the auxiliary archive is the cursor: the next round goes there directly
    new = fake.add_message(JANSEN, "Inbox", "Later gearchiveerd", archive=True)
    before = len([e for e in fake.logged() if e.status == 308])
    second = crawl_all(connector, first.cursors)
    assert [r.item_key for r in second.seen()] == [f"{JANSEN}:%archief:{new.id}"]
    assert len([e for e in fake.logged() if e.status == 308 and "delta" in e.path]) == 1
    assert len([e for e in fake.logged() if e.status == 308]) == before


def test_exclude_sees_the_archive_label_and_actions_are_refused(fake, certs, clock) -> None:
    school(fake)
    excluded = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True, exclude=["online archief/*"])
    assert not any("%archief" in u.key for u in excluded.units())
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    ref = next(r for r in crawl_all(connector).seen() if r.title == "OPP 2014")
    for action in (lambda: connector.remove(ref), lambda: connector.set_label(ref, "Bewaren")):
        with pytest.raises(ItemFetchError) as refused:
            action()
        assert refused.value.code == "action_failed" and str(refused.value) == ARCHIVE_ACTION_MESSAGE
    assert not fake.logged("/move", method="POST")


def test_v1_cannot_reach_an_archive_and_a_failed_discovery_protects_the_archive(fake, certs, clock) -> None:
    school(fake)
    archive_id = fake.mailboxes[JANSEN].archive_id
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    with pytest.raises(GraphError) as on_v1:  # Graph v1.0 does not know archive mailboxes
        connector.client.get_json(f"users/{path_id(archive_id)}/mailFolders", mailbox=JANSEN)
    assert on_v1.value.status == 404
    fake.inject("500", r"/settings/exchange$", times=1000)  # beta is down all night
    units = {u.key for u in connector.units()}
    assert f"{ARCHIVE}/*" in units and f"{JANSEN}/Inbox" in units
    result = crawl_all(connector)
    assert result.errors[f"{ARCHIVE}/*"].code == "unreachable"
    # the archive's failures are its own: even crawled first (executors run units in any
    # order), they do not make the primary mailbox fail fast for the rest of the run
    fresh = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    ordered = sorted(fresh.units(), key=lambda u: "%archief" not in u.key)
    with pytest.raises(SourceError):
        list(fresh.crawl(ordered[0], None))
    seen = [e.ref.title for u in ordered[1:] for e in fresh.crawl(u, None) if isinstance(e, Seen)]
    assert sorted(seen) == ["Eigen archiefmap", "Rooster"]


def test_a_fresh_process_finds_the_archive_and_its_folder_itself(fake, certs, clock) -> None:
    old, _ = school(fake)
    lister = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    unit = next(u for u in lister.units() if u.key == f"{ARCHIVE}/Inbox")
    worker = pickle.loads(pickle.dumps(lister))  # travels by configuration only
    events = list(worker.crawl(unit, None))
    assert [e.ref.item_key for e in events if isinstance(e, Seen)] == [f"{JANSEN}:%archief:{old.id}"]
    assert isinstance(events[-1], Cursor) and events[-1].value


def test_the_client_follows_308_with_the_same_method_and_token(fake, certs, clock) -> None:
    school(fake)
    aux = fake.expand_folder(JANSEN, "Inbox")
    archive_id = fake.mailboxes[JANSEN].archive_id
    folder_id = fake.folder_id(JANSEN, "Inbox", archive=True)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], archive=True)
    beta = fake.base + "/beta"
    response = connector.client.request(
        "POST", f"{beta}/users/{path_id(archive_id)}/mailFolders/{folder_id}/messages/delta",
        mailbox=JANSEN, json={}, idempotent=True,
    )
    assert response.status_code == 200
    (first,) = fake.logged(f"/users/{archive_id}/mailFolders/{folder_id}/messages/delta")
    (second,) = fake.logged(f"/users/{aux.user_id}/mailFolders/{folder_id}/messages/delta")
    assert (first.method, first.status) == ("POST", 308)
    assert (second.method, second.status) == ("POST", 200)  # method kept; 200 means the token came along
