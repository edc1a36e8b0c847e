"""GraphMailConnector against the fake Graph server: units, delta crawls, fetch, actions."""

from __future__ import annotations

import pickle
from urllib.parse import parse_qs

import pytest

from connectors.base import ConnectorContext, ItemFetchError, SourceError
from connectors.graph.client import GraphClient
from connectors.graph.config import GraphMailConfig
from connectors.graph.mail import MESSAGE_FIELDS, GraphMailConnector
from connectors.registry import config_model, connector_class
from scanner.core.model import Gone, ItemKind, Seen
from tests.crawling import crawl_all

from .conftest import build_school, client_for, connection, mail_connector

JANSEN = "jansen@school.nl"


def test_registry_resolves_graph_mail() -> None:
    assert connector_class("graph_mail") is GraphMailConnector
    assert config_model("graph_mail") is GraphMailConfig


def test_units_cover_the_whole_tree_of_listed_and_group_mailboxes(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["Jansen@School.nl"], groups=["grp-docenten"])
    units = {u.key: u for u in connector.units()}
    assert set(units) == {
        f"{JANSEN}/Inbox",
        f"{JANSEN}/Inbox/Klas 3B",
        f"{JANSEN}/Inbox/Klas 3B/Ouders",
        f"{JANSEN}/Verzonden items",
        f"{JANSEN}/Verwijderde items",
        f"{JANSEN}/Archief",
        f"{JANSEN}/Archief/2021",
        f"{JANSEN}/Ongewenste e-mail",
        f"{JANSEN}/Gesprekgeschiedenis",  # hidden folder, included by default
        "devries@school.nl/Inbox",  # through the nested group; the cycle back is harmless
    }  # no search folder "Inbox/Ongelezen", no user without mailbox, pietersen not configured
    inbox = units[f"{JANSEN}/Inbox"]
    assert (inbox.owner, inbox.concurrency_key, inbox.full_listing) == (JANSEN, JANSEN, False)
    # the top level has more folders than one page of the fake: the folder nextLink was followed
    assert any("$skip=" in query for _, path, query in fake.graph_requests(r"/mailFolders$"))


def test_excluded_and_hidden_folders_are_skipped(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(
        fake, certs, clock, mailboxes=[JANSEN], exclude=["ongewenste e-mail", "Inbox/Klas 3B*"],
        include_hidden_folders=False,
    )
    keys = {u.key.split("/", 1)[1] for u in connector.units()}
    assert keys == {"Inbox", "Verzonden items", "Verwijderde items", "Archief", "Archief/2021"}


def test_full_crawl_lists_metadata_only_with_immutable_ids(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN, "pietersen@school.nl"], page_size=2)
    result = crawl_all(connector)
    assert not result.errors
    refs = {r.title: r for r in result.seen()}
    assert set(refs) == {
        "Ziekmelding Sanne", "OPP Daan", "Rooster", "Cijferlijst 3B", "Gesprek ouders", "Verslag IB",
        "Oude klassenlijst", "Dossier 2021", "Reclame", "Chat", "Verzuim",
    }
    ref = refs["Ziekmelding Sanne"]
    inbox_id = fake.folder_id(JANSEN, "Inbox")
    assert ref.item_key == f"{JANSEN}:{messages['inbox1'].id}"
    assert ref.kind is ItemKind.MAIL
    assert (ref.owner, ref.folder, ref.unit_key) == (JANSEN, "Inbox", f"{JANSEN}/Inbox")
    assert ref.labels == ("Leerling",)
    assert ref.change_key == messages["inbox1"].change_key
    assert ref.link and ref.link.startswith("https://outlook.office365.com/owa/?ItemID=")
    assert ref.date.year == 2023 and ref.date.tzinfo is not None
    assert refs["Verzuim"].labels == ("Rood", "Blauw")
    assert refs["Gesprek ouders"].folder == "Inbox/Klas 3B/Ouders"
    # Inbox holds 3 messages and the page size is 2: the nextLink was followed
    inbox_requests = fake.graph_requests(f"mailFolders/{inbox_id}/messages/delta")
    assert len(inbox_requests) == 2
    first_query = inbox_requests[0][2]
    assert parse_qs(first_query)["$select"] == [MESSAGE_FIELDS]
    assert all('IdType="ImmutableId"' in p and "odata.maxpagesize=2" in p
               for p in fake.prefer_headers if "maxpagesize" in p)


def test_second_run_returns_only_the_changes(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=2)
    first = crawl_all(connector)

    old_change_key = messages["inbox2"].change_key
    new = fake.add_message(JANSEN, "Inbox", "Nieuwe ziekmelding")
    fake.update_message(JANSEN, messages["inbox2"].id, categories=["Opruimen"])
    fake.delete_message(JANSEN, messages["inbox3"].id)
    fake.move_message(JANSEN, messages["klas1"].id, "Archief")
    before = len(fake.requests)

    second = crawl_all(connector, first.cursors)
    assert not second.errors
    snapshot = {unit: rows for unit, rows in second.snapshot().items() if rows}
    # the move shows up as @removed in Klas 3B, but the message still exists: no Gone there
    assert set(snapshot) == {f"{JANSEN}/Inbox", f"{JANSEN}/Archief"}
    inbox = {r.title: r for e in second.events[f"{JANSEN}/Inbox"] if isinstance(e, Seen) for r in [e.ref]}
    assert set(inbox) == {"Nieuwe ziekmelding", "OPP Daan"}
    assert inbox["OPP Daan"].labels == ("Opruimen",)
    assert inbox["OPP Daan"].change_key != old_change_key
    assert inbox["Nieuwe ziekmelding"].item_key == f"{JANSEN}:{new.id}"
    assert second.gone() == [f"{JANSEN}:{messages['inbox3'].id}"]
    moved = [e.ref for e in second.events[f"{JANSEN}/Archief"]]
    assert [(r.item_key, r.folder) for r in moved] == [(f"{JANSEN}:{messages['klas1'].id}", "Archief")]
    # incremental: one delta request per folder, plus one extra page for the 3 Inbox changes
    delta_requests = [r for r in fake.requests[before:] if r[1].endswith("/messages/delta")]
    assert len(delta_requests) == len(second.cursors) + 1
    assert all("$deltatoken=" in r[2] or "$skiptoken=" in r[2] for r in delta_requests)
    # each removal was checked once (the deleted message and the moved one)
    checks = [r for r in fake.requests[before:] if "parentFolderId" in r[2] and r[1].count("/") == 4]
    assert len(checks) == 2

    third = crawl_all(connector, second.cursors)
    assert all(not events for events in third.events.values())


def test_moves_are_not_deletions_but_emptying_deleted_items_is(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], exclude=["Ongewenste e-mail"])
    first = crawl_all(connector)
    fake.move_message(JANSEN, messages["inbox1"].id, "Verwijderde items")  # "delete" in Outlook
    fake.move_message(JANSEN, messages["inbox2"].id, "Ongewenste e-mail")  # out of scope now
    second = crawl_all(connector, first.cursors)
    assert [(r.title, r.folder) for r in second.seen()] == [("Ziekmelding Sanne", "Verwijderde items")]
    assert second.gone() == [f"{JANSEN}:{messages['inbox2'].id}"]
    fake.delete_message(JANSEN, messages["inbox1"].id)  # Verwijderde items emptied
    # crawled by a connector that never listed the units (another process): it finds the
    # scanned folders itself
    worker = mail_connector(fake, certs, clock, mailboxes=[JANSEN], exclude=["Ongewenste e-mail"])
    unit = next(u for u in connector.units() if u.key.endswith("/Verwijderde items"))
    events = list(worker.crawl(unit, second.cursors[unit.key]))
    assert [e.item_key for e in events if isinstance(e, Gone)] == [f"{JANSEN}:{messages['inbox1'].id}"]


def test_expired_delta_token_falls_back_to_full_resync(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    first = crawl_all(connector)
    fake.expire_delta_tokens()
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    assert second.snapshot() == first.snapshot()  # Seen for everything that exists
    assert any(code == "SyncStateNotFound" for code in _error_codes(fake))
    assert {(unit, code) for unit, code, _ in connector.warnings} == {(key, "resync") for key in first.cursors}
    third = crawl_all(connector, second.cursors)
    assert all(not events for events in third.events.values())


def _error_codes(fake) -> list[str]:
    # the fake answers an old delta token with 410 SyncStateNotFound; count those requests
    return ["SyncStateNotFound" for _, _, q in fake.requests if "$deltatoken=" in q]


def test_cursor_for_another_host_is_ignored(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["devries@school.nl"])
    unit = next(iter(connector.units()))
    evil = '{"delta":"https://evil.example/steal?x=1","folder":"x"}'
    events = list(connector.crawl(unit, evil))
    assert [e.ref.title for e in events if isinstance(e, Seen)] == ["Handelingsplan"]
    assert [code for _, code, _ in connector.warnings] == ["cursor_ignored"]
    assert not any("evil" in r[1] for r in fake.requests)


def test_sync_state_lost_during_a_full_listing_starts_over_once(fake, certs, clock) -> None:
    build_school(fake)
    clean = crawl_all(mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=1))
    inbox_id = fake.folder_id(JANSEN, "Inbox")
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN], page_size=1)
    unit = next(u for u in connector.units() if u.key == f"{JANSEN}/Inbox")
    events = connector.crawl(unit, None)
    first_page = [next(events), next(events)]  # two pages read
    fake.expire_delta_tokens()  # the skiptoken of the third page is gone now
    rest = list(events)
    titles = sorted(e.ref.title for e in first_page + rest if isinstance(e, Seen))
    assert set(titles) == {r.title for r in clean.seen() if r.folder == "Inbox"}
    assert inbox_id in rest[-1].value


def test_fetch_streams_mime_within_the_size_limit(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    refs = {r.title: r for r in crawl_all(connector).seen()}
    fetched = connector.fetch(refs["OPP Daan"])
    assert fetched.data == messages["inbox2"].mime
    assert fetched.media_type == "message/rfc822"

    small = mail_connector(fake, certs, clock, ConnectorContext(max_item_bytes=40), mailboxes=[JANSEN])
    with pytest.raises(ItemFetchError) as too_large:
        small.fetch(refs["OPP Daan"])
    assert too_large.value.code == "too_large"
    assert "OPP" not in str(too_large.value)

    fake.delete_message(JANSEN, messages["inbox2"].id)
    with pytest.raises(ItemFetchError) as gone:
        connector.fetch(refs["OPP Daan"])
    assert gone.value.code == "not_found"
    assert "OPP" not in str(gone.value)


def test_set_label_adds_and_removes_outlook_categories(fake, certs, clock) -> None:
    messages = build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    refs = {r.title: r for r in crawl_all(connector).seen()}
    ref = refs["Ziekmelding Sanne"]
    new_change_key = connector.set_label(ref, "Schoonschip: opruimen", True)
    assert messages["inbox1"].categories == ["Leerling", "Schoonschip: opruimen"]
    assert new_change_key == messages["inbox1"].change_key != ref.change_key
    patches = len(fake.graph_requests("/messages/"))
    assert connector.set_label(ref, "Schoonschip: opruimen", True) is None  # already there
    assert connector.set_label(ref, "Onbekend", False) is None  # not there
    assert [m for m, *_ in fake.graph_requests("/messages/")[patches:]] == ["GET", "GET"]
    connector.set_label(ref, "Leerling", False)
    assert messages["inbox1"].categories == ["Schoonschip: opruimen"]


def test_send_mail_posts_base64_mime_as_text_plain(fake, certs, clock) -> None:
    build_school(fake)
    config = GraphMailConfig(name="digest", kind="graph_mail", mailboxes=[JANSEN], **connection(fake, certs))
    mime = "From: schoonschip@school.nl\r\nTo: jansen@school.nl\r\nSubject: Opruimoverzicht\r\n\r\nHoi é\r\n".encode()
    with client_for(config.connection(), clock) as client:
        client.send_mail("jansen@school.nl", mime)
        # a digest job can ship the client to a worker: only the configuration travels
        with pickle.loads(pickle.dumps(client)) as copy:
            copy.send_mail("jansen@school.nl", mime)
    assert fake.sent == [("jansen@school.nl", "text/plain", mime)] * 2


def test_send_mail_to_unknown_sender_is_a_source_error(fake, certs, clock) -> None:
    config = GraphMailConfig(name="digest", kind="graph_mail", mailboxes=[JANSEN], **connection(fake, certs))
    with GraphClient(config) as client, pytest.raises(SourceError) as error:
        client.send_mail("niemand@school.nl", b"Subject: x\r\n\r\nx")
    assert error.value.code == "not_found"


def test_unreachable_mailbox_is_one_failing_unit(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["onbekend@school.nl", "devries@school.nl"])
    result = crawl_all(connector)
    assert set(result.errors) == {"onbekend@school.nl/*"}
    assert result.errors["onbekend@school.nl/*"].code == "not_found"
    assert [r.title for r in result.seen()] == ["Handelingsplan"]


def test_connector_pickles_without_session_and_works_after(fake, certs, clock) -> None:
    build_school(fake)
    connector = mail_connector(fake, certs, clock, mailboxes=["devries@school.nl"])
    list(connector.units())  # opens a session and gets a token
    clone = pickle.loads(pickle.dumps(connector))
    assert clone._client is None
    assert [r.title for r in crawl_all(clone).seen()] == ["Handelingsplan"]
    clone.close()


def test_crawl_in_a_fresh_process_resolves_the_folder_itself(fake, certs, clock) -> None:
    build_school(fake)
    listing = mail_connector(fake, certs, clock, mailboxes=[JANSEN])
    unit = next(u for u in listing.units() if u.key.endswith("/Archief/2021"))
    worker = mail_connector(fake, certs, clock, mailboxes=[JANSEN])  # never called units()
    titles = [e.ref.title for e in worker.crawl(unit, None) if isinstance(e, Seen)]
    assert titles == ["Dossier 2021"]


@pytest.mark.slow
def test_big_mime_without_length_is_spooled_and_limited_while_streaming(fake, certs, clock, tmp_path) -> None:
    import gc
    import os

    from connectors.graph._common import SPOOL_BYTES

    fake.add_mailbox(JANSEN)
    attachment = os.urandom(SPOOL_BYTES // 4 * 3).hex().encode()  # 1.5 x the spool threshold
    mime = b"Subject: bijlage\r\nContent-Type: text/plain\r\n\r\n" + attachment
    fake.add_message(JANSEN, "Inbox", "Groot", mime=mime)
    fake.chunked_mime = True
    context = ConnectorContext(state_dir=str(tmp_path / "state"), max_item_bytes=len(mime) + 10)
    connector = mail_connector(fake, certs, clock, context, mailboxes=[JANSEN])
    ref = crawl_all(connector).seen()[0]
    fetched = connector.fetch(ref)
    assert fetched.data is None and fetched.path is not None and fetched.size == len(mime)
    assert fetched.read() == mime
    path = fetched.path
    del fetched
    gc.collect()
    assert not path.exists()

    small = mail_connector(
        fake, certs, clock, ConnectorContext(state_dir=str(tmp_path / "state"), max_item_bytes=len(mime) - 1),
        mailboxes=[JANSEN],
    )
    with pytest.raises(ItemFetchError) as error:
        small.fetch(ref)
    assert error.value.code == "too_large"
    assert not list((tmp_path / "state").iterdir())  # the partial spool file was removed
