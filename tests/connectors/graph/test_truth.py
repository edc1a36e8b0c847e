"""What the Graph connectors tell the pipeline under Graph's documented faults (issue 15).

Each test drives the fake server (tests/services/fake_graph.py, written from Microsoft's
documentation) into one fault and checks the crawl events and, on the server side, what was
requested: a refused delta token is a ``Resync``; a 403 on one folder is a ``Blind`` spot, not
a deletion; a 403 on the mailbox is a source error naming it; an item listed twice in a round
is handed out once, last occurrence winning; business drives keep their change key across a
rename; an item failure costs the item, not the mailbox; Entra's 429/5xx are retried
honouring Retry-After; a body that breaks off half-way is fetched again.
"""

from __future__ import annotations

import pytest

from connectors.base import ItemFetchError, SourceError
from connectors.graph._common import DeltaRound
from connectors.graph.files import change_key
from scanner.core.model import Gone, ItemKind, ItemRef, Seen
from tests.crawling import crawl_all

from .conftest import build_school, files_connector, mail_connector

JANSEN = "jansen@school.nl"
PIETERSEN = "pietersen@school.nl"
DEVRIES = "devries@school.nl"
ALICE = "alice@school.nl"


# -- delta tokens --------------------------------------------------------------------------


def test_a_refused_mail_delta_token_is_a_resync_listing_the_folder_in_full(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=2)
    first = crawl_all(connector)
    fake.delete_message(JANSEN, messages["inbox2"].id)  # deleted during the gap
    fake.expire_delta_tokens()
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    assert set(second.resyncs) == set(first.cursors)
    assert all(reason == ["Graph 410 SyncStateNotFound"] for reason in second.resyncs.values())
    # A full listing: everything that exists, no Gone (the pipeline closes the unseen).
    inbox = f"{JANSEN}/Inbox"
    assert {e.ref.title for e in second.events[inbox] if isinstance(e, Seen)} == {"Ziekmelding Sanne", "Rooster"}
    assert second.gone() == []
    # An unreadable stored cursor is a resync too.
    third = crawl_all(connector, dict.fromkeys(first.cursors, "{not json"))
    assert set(third.resyncs) == set(first.cursors)


def test_a_refused_drive_token_is_a_resync(fake, certs, clock) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE, business=True)
    fake.add_file("drive-alice", "Documenten/a.txt", b"a")
    doomed = fake.add_file("drive-alice", "Documenten/b.txt", b"b")
    connector = files_connector(fake, certs, clock, users=[ALICE])
    first = crawl_all(connector)
    fake.delete_item("drive-alice", doomed.id)
    fake.expire_delta_tokens()
    second = crawl_all(connector, first.cursors)
    assert second.resyncs == {f"onedrive:{ALICE}": ["Graph 410 resyncChangesApplyDifferences"]}
    assert [r.title for r in second.seen()] == ["a.txt"]
    # The 410 carried a Location with a fresh delta link, as the driveItem delta page says.
    resync = [r for r in fake.logged("/root/delta$") if r.status == 410]
    assert len(resync) == 1


# -- blind spots and mailbox-level failures ---------------------------------------------------


def test_a_folder_answering_403_is_a_blind_spot_not_a_deletion(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    first = crawl_all(connector)
    fake.deny_folder(JANSEN, "Inbox/Klas 3B")
    second = crawl_all(connector, first.cursors)
    klas = f"{JANSEN}/Inbox/Klas 3B"
    assert not second.errors
    [blind] = second.blinds[klas]
    assert (blind.item_prefix, blind.code) == ("", "access_denied")
    assert "Inbox/Klas 3B" in blind.message and "Cijferlijst" not in blind.message
    assert second.cursors[klas] == first.cursors[klas]  # the cursor does not move past what was not read
    # Below the folder: its child folders answered 403, so the part of the tree below it is a
    # "/*" unit that protects what is stored there (Ouders is not even listed now).
    [below] = second.blinds[f"{klas}/*"]
    assert below.code == "access_denied" and second.cursors[f"{klas}/*"] is None
    assert f"{klas}/Ouders" not in second.cursors
    assert second.gone() == []
    assert set(second.blinds) == {klas, f"{klas}/*"}  # the other folders read normally


def test_a_mailbox_answering_403_is_one_source_error_naming_it(fake, certs, clock) -> None:
    build_school(fake)
    fake.deny_mailbox(PIETERSEN)
    result = crawl_all(mail_connector(fake, certs, clock, mailboxes=[JANSEN, PIETERSEN]))
    assert set(result.errors) == {f"{PIETERSEN}/*"}
    error = result.errors[f"{PIETERSEN}/*"]
    assert error.code == "access_denied" and PIETERSEN in str(error)
    assert len(result.seen()) == 10  # jansen complete


# -- de-duplication within a delta round ------------------------------------------------------


def test_an_item_listed_twice_in_a_round_is_handed_out_once(fake, certs, clock) -> None:
    messages = build_school(fake)
    fake.repeat(messages["inbox1"].id)
    result = crawl_all(mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=1))
    inbox = result.events[f"{JANSEN}/Inbox"]
    keys = [e.ref.item_key for e in inbox if isinstance(e, Seen)]
    assert len(keys) == len(set(keys)) == 3
    # The server really listed it twice in that round.
    pages = fake.logged(rf"/mailFolders/{fake.folder_id(JANSEN, 'Inbox')}/messages/delta$")
    assert len(pages) == 4  # 3 messages + the repeat, one per page


def test_the_last_occurrence_of_an_item_in_a_round_wins(fake, certs, clock) -> None:
    messages = build_school(fake)
    target = messages["inbox1"]
    fake.repeat(target.id)
    # While the round is being paged (second page), the teacher gives the mail a category.
    fake.on_request(r"/messages/delta$",
                    lambda: fake.on_request(r"/messages/delta$",
                                            lambda: fake.update_message(JANSEN, target.id, categories=["Bewaren"])))
    result = crawl_all(mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=1,
                                      include=["Inbox"]))
    [ref] = [e.ref for e in result.events[f"{JANSEN}/Inbox"]
             if isinstance(e, Seen) and e.ref.item_key.endswith(target.id)]
    assert ref.labels == ("Bewaren",)
    assert ref.change_key == fake.mailboxes[JANSEN].messages[target.id].change_key


def test_delta_round_keeps_the_last_occurrence_and_bounds_what_it_holds() -> None:
    from datetime import UTC, datetime

    def seen(key: str, change: str) -> Seen:
        return Seen(ItemRef("s", key, ItemKind.FILE, "o", "", key, datetime(2024, 1, 1, tzinfo=UTC),
                            change_key=change))

    round_ = DeltaRound(limit=2)
    assert round_.add("a", seen("a", "1")) == []
    assert round_.add("b", seen("b", "1")) == []
    assert round_.add("a", seen("a", "2")) == []  # moves to the end, replaces the first
    [early] = round_.add("c", seen("c", "1"))  # over the limit: the oldest is handed out
    assert early.ref.item_key == "b"
    assert round_.add("b", seen("b", "1")) == []  # handed out already, identical: dropped
    # A real change later in the round is kept (and the limit hands out the oldest again).
    [oldest] = round_.add("b", Gone("b"))
    assert (oldest.ref.item_key, oldest.ref.change_key) == ("a", "2")
    assert [(e.ref.item_key, e.ref.change_key) if isinstance(e, Seen) else ("gone", e.item_key)
            for e in round_.drain()] == [("c", "1"), ("gone", "b")]
    assert round_.duplicates == 3


# -- drive items: content identity across renames -------------------------------------------


def test_business_drive_items_keep_their_change_key_across_a_rename(fake, certs, clock) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE, business=True)
    item = fake.add_file("drive-alice", "Documenten/lijst.csv", b"naam;bsn\n")
    other = fake.add_file("drive-alice", "Documenten/plan.txt", b"plan")
    connector = files_connector(fake, certs, clock, users=[ALICE])
    first = crawl_all(connector)
    before = {r.title: r.change_key for r in first.seen()}
    assert before["lijst.csv"].startswith("quickXorHash:")  # no cTag in a business delta
    fake.rename("drive-alice", item.id, "klassenlijst.csv")
    fake.modify_file("drive-alice", other.id, b"plan, bijgewerkt")
    second = crawl_all(connector, first.cursors)
    after = {r.title: r.change_key for r in second.seen()}
    assert after["klassenlijst.csv"] == before["lijst.csv"]  # renamed: same content key
    assert after["plan.txt"] != before["plan.txt"]  # changed content: a new key


def test_change_key_prefers_ctag_then_hashes_then_etag() -> None:
    assert change_key({"cTag": "c1", "eTag": "e1", "file": {"hashes": {"quickXorHash": "q"}}}) == "c1"
    assert change_key({"eTag": "e1", "size": 3, "file": {"hashes": {"sha1Hash": "S"}}}) == "sha1Hash:S:3"
    assert change_key({"eTag": "e1", "file": {}}) == "e1"


# -- failure isolation ----------------------------------------------------------------------


def test_item_download_failures_cost_the_item_not_the_mailbox(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    refs = {r.title: r for r in crawl_all(connector).seen()}
    broken = [messages["inbox1"].id, messages["inbox2"].id, messages["inbox3"].id]
    for message_id in broken:
        fake.inject("500", rf"/messages/{message_id}/\$value$", times=100)
    for title in ("Ziekmelding Sanne", "OPP Daan", "Rooster"):
        with pytest.raises(ItemFetchError) as error:
            connector.fetch(refs[title])
        assert error.value.code == "fetch_failed"
    # The mailbox is not given up: its other mail downloads and its folders list.
    assert connector.fetch(refs["Cijferlijst 3B"]).data
    again = crawl_all(connector)
    assert not again.errors and len(again.seen()) == 10


def test_repeated_listing_failures_give_the_mailbox_up_naming_it(fake, certs, clock) -> None:
    build_school(fake)
    fake.inject("503", rf"/users/{JANSEN}/mailFolders/.+/messages/delta$", times=10_000)
    result = crawl_all(mail_connector(fake, certs, clock, mailboxes=[JANSEN]))
    assert len(result.errors) == 9
    fast = [e for e in result.errors.values() if "already failed repeatedly" in str(e)]
    assert len(fast) == 7 and all(JANSEN in str(e) for e in fast)


# -- Entra's token endpoint -----------------------------------------------------------------


def test_token_endpoint_throttling_is_retried_honouring_retry_after(fake, certs, clock) -> None:
    build_school(fake)
    token_path = f"/{fake.tenant}/oauth2/v2.0/token"
    fake.schedule([(token_path, "429", "7"), (token_path, "503", "3"), (token_path, "504", None)])
    result = crawl_all(mail_connector(fake, certs, clock, mailboxes=[DEVRIES]))
    assert not result.errors and len(result.seen()) == 1
    assert [r.status for r in fake.logged(token_path)] == [429, 503, 504, 200]
    assert clock.waits[:2] == [7.0, 3.0]


def test_a_lasting_token_endpoint_outage_is_unreachable_with_its_cause(fake, certs, clock) -> None:
    build_school(fake)
    fake.inject("503", f"/{fake.tenant}/oauth2/v2.0/token", times=100)
    connector = mail_connector(fake, certs, clock, mailboxes=[DEVRIES])
    with pytest.raises(SourceError) as error:
        list(connector.units())
    assert error.value.code == "unreachable"
    assert "Entra" in str(error.value) and "503" in str(error.value)
    assert len(fake.logged(f"/{fake.tenant}/oauth2/v2.0/token")) == 6  # max_attempts, then given up


def test_token_endpoint_faults_mid_run_cost_no_item(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    refs = crawl_all(connector).seen()
    fake.expire_tokens()  # every presented token is now rejected (401 InvalidAuthenticationToken)
    fake.schedule([(f"/{fake.tenant}/oauth2/v2.0/token", "429", "2"),
                   (f"/{fake.tenant}/oauth2/v2.0/token", "500", None)])
    assert all(connector.fetch(ref).data for ref in refs)
    assert [r.status for r in fake.logged("/oauth2/v2.0/token")][-3:] == [429, 500, 200]


# -- connection resets mid-body ---------------------------------------------------------------


def test_a_reset_half_way_through_value_is_fetched_again(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[DEVRIES])
    [ref] = crawl_all(connector).seen()
    fake.schedule([(r"/\$value$", "reset")])
    assert connector.fetch(ref).data == messages["d1"].mime
    assert [(r.status, r.fault) for r in fake.logged(r"/\$value$")] == [(200, "reset"), (200, None)]


def test_a_reset_half_way_through_a_file_download_is_fetched_again(fake, certs, clock) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE)
    content = b"naam;klas\n" * 1000
    fake.add_file("drive-alice", "lijst.csv", content)
    connector = files_connector(fake, certs, clock, users=[ALICE])
    [ref] = crawl_all(connector).seen()
    fake.schedule([(r"^/download/", "reset")])
    assert connector.fetch(ref).data == content
    assert len(fake.logged(r"^/download/")) == 2
