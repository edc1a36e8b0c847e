"""Graph "Verwijderen" against the fake Graph server (Microsoft's documented shapes):
``message: move`` to ``deleteditems`` by immutable id, ``DELETE`` of a driveItem into the
recycle bin; 404 is already gone; 429 with Retry-After is waited for and retried; a dropped
connection retries the (idempotent) move; an app without write permission gets
``access_denied``; the next delta crawl sees the result."""

from __future__ import annotations

import json

import pytest

from connectors.base import ItemFetchError
from connectors.graph.files import RECYCLE_BIN
from connectors.graph.mail import DELETED_ITEMS
from tests.crawling import crawl_all

from .conftest import build_school, mail_connector
from .test_files import build_drives, connector_for

JANSEN = "jansen@school.nl"


def moves(fake):
    return [entry for entry in fake.log if entry.method == "POST" and entry.path.endswith("/move")]


def test_move_to_deleted_items_keeps_the_immutable_id_and_the_next_crawl_sees_it_there(fake, certs, clock):
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    first = crawl_all(connector)
    ref = next(r for r in first.seen() if r.title == "OPP Daan")
    assert connector.supports_remove()
    assert connector.remove(ref) == DELETED_ITEMS
    message = messages["inbox2"]
    assert fake.mailboxes[JANSEN].folders[message.folder_id].name == "Verwijderde items"
    assert message.id == ref.item_key.split(":", 1)[1]  # immutable id asked for and kept
    (move,) = moves(fake)
    assert move.status == 201
    second = crawl_all(connector, first.cursors)
    assert [(r.item_key, r.folder) for r in second.seen()] == [(ref.item_key, "Verwijderde items")]
    assert second.gone() == []  # a move within the mailbox, not a deletion
    assert connector.remove(ref) == DELETED_ITEMS  # repeated: already there, nothing changes
    assert fake.mailboxes[JANSEN].folders[message.folder_id].name == "Verwijderde items"


def test_move_request_follows_the_documented_shape(fake, certs, clock):
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.title == "Rooster")
    before = len(fake.prefer_headers)
    connector.remove(ref)
    assert fake.prefer_headers[before:] == ['IdType="ImmutableId"']
    mailbox, message_id = ref.item_key.split(":", 1)
    assert any(path == f"/users/{mailbox}/messages/{message_id}/move" and method == "POST"
               for method, path, _ in fake.requests)


def test_a_message_already_gone_is_success(fake, certs, clock):
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.title == "Rooster")
    fake.delete_message(JANSEN, messages["inbox3"].id)  # emptied from Verwijderde items meanwhile
    assert connector.remove(ref) == DELETED_ITEMS
    assert [m.status for m in moves(fake)] == [404]


def test_throttled_move_waits_for_retry_after_and_a_dropped_one_is_repeated(fake, certs, clock):
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.title == "Ziekmelding Sanne")
    fake.inject("429", r"/move$", times=1, retry_after="9")
    fake.inject("drop", r"/move$", times=1)
    assert connector.remove(ref) == DELETED_ITEMS
    assert 9 in clock.waits
    assert [m.status for m in moves(fake)][-1] == 201 and len(moves(fake)) == 3
    assert fake.mailboxes[JANSEN].folders[messages["inbox1"].folder_id].name == "Verwijderde items"


def test_lasting_throttling_is_a_retryable_item_error(fake, certs, clock):
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.title == "Rooster")
    fake.inject("429", r"/move$", times=50, retry_after="1")
    with pytest.raises(ItemFetchError) as caught:
        connector.remove(ref)
    assert caught.value.code == "throttled"
    assert "Rooster" not in str(caught.value)


def test_without_write_permission_the_move_is_access_denied(fake, certs, clock):
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    ref = next(r for r in crawl_all(connector).seen() if r.title == "Rooster")
    fake.read_only_app = True
    with pytest.raises(ItemFetchError) as caught:
        connector.remove(ref)
    assert caught.value.code == "access_denied"
    assert fake.mailboxes[JANSEN].folders[messages["inbox3"].folder_id].name == "Inbox"


def test_the_fake_gives_a_moved_message_a_new_id_without_immutable_ids(fake, certs, clock):
    """The fake's own contract (as Graph documents): without the Prefer header the id changes."""
    import requests

    messages = build_school(fake)
    message = messages["inbox3"]
    old = message.id
    token = fake.issue_token()
    box = fake.mailboxes[JANSEN]
    answer = requests.post(f"{fake.graph_url}/users/{box.user_id}/messages/{old}/move",
                           headers={"Authorization": f"Bearer {token}"},
                           data=json.dumps({"destinationId": "deleteditems"}), verify=str(certs.server_cert))
    assert answer.status_code == 201 and answer.json()["id"] == message.id != old


# --- files ---------------------------------------------------------------------------------

def test_delete_moves_the_file_to_the_recycle_bin_and_the_next_crawl_closes_it(fake, certs, clock):
    items = build_drives(fake)
    connector = connector_for(fake, certs, clock)
    first = crawl_all(connector)
    ref = next(r for r in first.seen() if r.title == "lijst.csv")
    assert connector.supports_remove()
    assert connector.remove(ref) == RECYCLE_BIN
    assert fake.recycle_bin == [("drive-alice", items["lijst"].id)]
    deletes = [e for e in fake.log if e.method == "DELETE"]
    assert [e.status for e in deletes] == [204]
    second = crawl_all(connector, first.cursors)
    assert second.gone() == [ref.item_key]
    assert connector.remove(ref) == RECYCLE_BIN  # already in the recycle bin: 404, success
    assert [e.status for e in fake.log if e.method == "DELETE"] == [204, 404]


def test_throttled_delete_is_retried_and_no_permission_is_access_denied(fake, certs, clock):
    items = build_drives(fake)
    connector = connector_for(fake, certs, clock)
    refs = {r.title: r for r in crawl_all(connector).seen()}
    fake.inject("429", r"/items/", times=1, retry_after="4", method="DELETE")
    assert connector.remove(refs["notities.txt"]) == RECYCLE_BIN
    assert 4 in clock.waits
    fake.read_only_app = True
    with pytest.raises(ItemFetchError) as caught:
        connector.remove(refs["OPP.pdf"])
    assert caught.value.code == "access_denied"
    assert items["zorg"].deleted_seq is None


def test_restore_moves_the_message_back_to_its_folder_by_immutable_id(fake, certs, clock):
    """The undo of a Verwijderen: ``message: move`` back to the folder it came from (its id
    looked up from the unit's path), the id unchanged, a repeat harmless; a message emptied
    from Verwijderde items is ``not_found`` (by hand: Recover deleted items)."""
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    first = crawl_all(connector)
    ref = next(r for r in first.seen() if r.title == "OPP Daan")
    message = messages["inbox2"]
    home = fake.mailboxes[JANSEN].folders[message.folder_id].name
    connector.remove(ref)
    assert connector.supports_restore()
    fresh = mail_connector(fake, certs, clock, mailboxes=[JANSEN])  # a new process: no folder ids cached
    back = fresh.restore(ref)
    assert back == ref.unit_key.split("/", 1)[1]
    assert fake.mailboxes[JANSEN].folders[message.folder_id].name == home
    assert message.id == ref.item_key.split(":", 1)[1]
    assert fresh.restore(ref) == back and fake.mailboxes[JANSEN].folders[message.folder_id].name == home
    connector.remove(ref)
    fake.delete_message(JANSEN, message.id)
    with pytest.raises(ItemFetchError) as gone:
        fresh.restore(ref)
    assert gone.value.code == "not_found"
