"""The EWS connector, driven through exchangelib against the fake Exchange of
tests/services/fake_ews.py."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorContext, ItemFetchError, SourceError
from connectors.ews import EwsConfig, EwsConnector, send_mime
from connectors.registry import connector_class
from scanner.core.model import Cursor, Gone, ItemKind, Resync, Seen
from tests.services.fake_ews import (
    JUF,
    MEESTER,
    SERVICE_PASSWORD,
    SERVICE_USER,
    FakeEwsServer,
    FakeExchange,
    make_certificate,
)


def mime(subject: str, attachment: bytes | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "ouder@example.nl"
    message["To"] = JUF
    message["Subject"] = subject
    message.set_content("Beste juf, mijn zoon is ziek.")
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="octet-stream",
                               filename="verklaring.bin")
    return message.as_bytes()


@pytest.fixture
def config(ews_server: FakeEwsServer, monkeypatch: pytest.MonkeyPatch) -> EwsConfig:
    monkeypatch.setenv("TEST_EWS_PASSWORD", SERVICE_PASSWORD)
    return EwsConfig(
        name="exchange-school",
        service_endpoint=ews_server.endpoint,
        auth="basic",
        username=SERVICE_USER,
        password={"env": "TEST_EWS_PASSWORD"},
        mailboxes=[JUF, MEESTER],
        owa_url="https://mail.school.nl/owa/",
        page_size=2,
        max_wait=5,
    )


def crawl(connector: EwsConnector, unit_key: str, cursor: str | None = None):
    unit = next(u for u in connector.units() if u.key == unit_key)
    events = list(connector.crawl(unit, cursor))
    assert isinstance(events[-1], Cursor) and sum(isinstance(e, Cursor) for e in events) == 1
    return events[:-1], events[-1].value


def test_registry_points_at_the_ews_connector() -> None:
    assert connector_class("ews") is EwsConnector


def test_units_are_the_mail_folders_of_each_mailbox(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_folder(JUF, "Postvak IN/Klas 3B")
    exchange.add_folder(JUF, "Postvak IN/Klas 3B/Zorg")
    exchange.add_folder(JUF, "Prive")
    config = config.model_copy(update={"exclude": ["prive", "prive/*"]})
    with EwsConnector(config) as connector:
        units = list(connector.units())
    keys = {u.key for u in units}
    assert keys == {
        f"{JUF}/Postvak IN", f"{JUF}/Postvak IN/Klas 3B", f"{JUF}/Postvak IN/Klas 3B/Zorg",
        f"{JUF}/Verzonden items", f"{JUF}/Verwijderde items",
        f"{MEESTER}/Postvak IN", f"{MEESTER}/Verzonden items", f"{MEESTER}/Verwijderde items",
    }  # Agenda and Contactpersonen are no mail folders; Prive is excluded by glob
    for unit in units:
        assert unit.owner == unit.concurrency_key == unit.key.split("/")[0]
        assert unit.full_listing is False


def test_full_crawl_pages_through_sync_folder_items(exchange: FakeExchange, config: EwsConfig) -> None:
    received = datetime(2023, 9, 4, 8, 30, tzinfo=UTC)
    items = [exchange.add_item(JUF, "Verwijderde items", f"Ziekmelding {n}", mime(f"Ziekmelding {n}"),
                               received=received, categories=["Bewaren"] if n == 0 else None)
             for n in range(5)]
    with EwsConnector(config) as connector:
        events, cursor = crawl(connector, f"{JUF}/Verwijderde items")
    assert exchange.requests.count("SyncFolderItems") == 3  # 5 items, 2 per page
    assert [e.ref.item_key for e in events] == [i.id for i in items]
    ref = events[0].ref
    assert ref.kind is ItemKind.MAIL and ref.owner == JUF and ref.folder == "Verwijderde items"
    assert ref.change_key == items[0].changekey and ref.labels == ("Bewaren",)
    assert ref.date == received and ref.title == "Ziekmelding 0" and ref.size == len(items[0].mime)
    assert ref.unit_key == f"{JUF}/Verwijderde items"
    assert ref.link.startswith("https://mail.school.nl/owa/?ItemID=AAMkAD")
    assert "+" not in ref.link.split("ItemID=")[1].split("&")[0]  # the id is URL-encoded
    assert cursor
    with EwsConnector(config) as connector:
        again, _ = crawl(connector, f"{JUF}/Verwijderde items", cursor)
        assert again == []
        full, _ = crawl(connector, f"{JUF}/Verwijderde items", None)  # no cursor: from scratch
        assert len(full) == 5


def test_incremental_crawl_reports_new_changed_and_deleted(exchange: FakeExchange, config: EwsConfig) -> None:
    old = [exchange.add_item(JUF, "Postvak IN", f"bericht {n}", mime(f"bericht {n}")) for n in range(3)]
    with EwsConnector(config) as connector:
        before, cursor = crawl(connector, f"{JUF}/Postvak IN")
        new = exchange.add_item(JUF, "Postvak IN", "nieuw", mime("nieuw"))
        exchange.delete_item(JUF, "Postvak IN", old[0].id)
        exchange.touch_item(JUF, "Postvak IN", old[1].id, ["Afgehandeld"])
        exchange.mark_read(JUF, "Postvak IN", old[2].id)
        events, cursor2 = crawl(connector, f"{JUF}/Postvak IN", cursor)
        nothing, cursor3 = crawl(connector, f"{JUF}/Postvak IN", cursor2)
    gone = [e.item_key for e in events if isinstance(e, Gone)]
    seen = {e.ref.item_key: e.ref for e in events if isinstance(e, Seen)}
    assert gone == [old[0].id]
    assert set(seen) == {old[1].id, new.id}  # the read-flag change is no content change
    before_keys = {e.ref.item_key: e.ref.change_key for e in before}
    assert seen[old[1].id].change_key != before_keys[old[1].id]  # EWS ChangeKey moved: re-fetch
    assert seen[old[1].id].labels == ("Afgehandeld",)
    assert nothing == [] and cursor3 == cursor2 and cursor2 != cursor


def test_cursor_is_withheld_until_the_folder_was_fully_consumed(exchange: FakeExchange, config: EwsConfig) -> None:
    for n in range(5):
        exchange.add_item(JUF, "Postvak IN", f"bericht {n}", mime(f"bericht {n}"))
    with EwsConnector(config) as connector:
        unit = next(u for u in connector.units() if u.key == f"{JUF}/Postvak IN")
        stream = connector.crawl(unit, None)
        first = [next(stream), next(stream), next(stream)]
        assert all(isinstance(e, Seen) for e in first)
        # The next page is refused for longer than max_wait: the crawl fails without a cursor.
        exchange.busy["SyncFolderItems"] = 1
        exchange.busy_backoff_ms = 60_000
        with pytest.raises(SourceError) as info:
            rest = list(stream)
            assert not any(isinstance(e, Cursor) for e in rest)
        assert info.value.code == "throttled"
        # The next run starts from the previous (here: no) cursor and sees everything.
        events, _ = crawl(connector, unit.key, None)
        assert len(events) == 5


def test_server_busy_is_retried_with_the_back_off_hint(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_item(JUF, "Postvak IN", "een", mime("een"))
    exchange.busy["SyncFolderItems"] = 2
    exchange.busy["GetItem"] = 1
    exchange.busy_backoff_ms = 50
    with EwsConnector(config) as connector:
        events, cursor = crawl(connector, f"{JUF}/Postvak IN")
        fetched = connector.fetch(events[0].ref)
    assert len(events) == 1 and cursor and fetched.size
    assert exchange.requests.count("SyncFolderItems") == 3
    assert exchange.busy == {"SyncFolderItems": 0, "GetItem": 0}


def test_expired_sync_state_falls_back_to_a_full_sync(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_item(JUF, "Postvak IN", "een", mime("een"))
    with EwsConnector(config) as connector:
        events, cursor = crawl(connector, f"{JUF}/Postvak IN", "ZGl0LWlzLWdlZW4tZ2VsZGlnZS1zdGF0dXM=")
        assert events[0] == Resync("sync_state_invalid")  # before any Seen: a full listing
        assert [type(e) for e in events[1:]] == [Seen] and cursor
        assert [(code) for _, code, _ in connector.warnings] == ["cursor_reset"]


def test_fetch_returns_mime_with_attachments(exchange: FakeExchange, config: EwsConfig) -> None:
    raw = mime("OPP", attachment=bytes(range(256)) * 4)
    exchange.add_item(JUF, "Postvak IN", "OPP", raw)
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        fetched = connector.fetch(events[0].ref)
    assert fetched.read() == raw and fetched.media_type == "message/rfc822"
    assert exchange.requests.count("GetItem") == 1  # MIME only fetched here, not while crawling


def test_fetch_errors_are_per_item(exchange: FakeExchange, config: EwsConfig) -> None:
    item = exchange.add_item(JUF, "Postvak IN", "groot", mime("groot", b"x" * 4000))
    with EwsConnector(config, ConnectorContext(max_item_bytes=1000)) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        with pytest.raises(ItemFetchError) as too_large:
            connector.fetch(events[0].ref)
        exchange.delete_item(JUF, "Postvak IN", item.id)
        small = EwsConnector(connector.config)
        with pytest.raises(ItemFetchError) as gone:
            small.fetch(events[0].ref)
        small.close()
    assert too_large.value.code == "too_large"
    assert gone.value.code == "not_found"


def test_set_label_updates_outlook_categories(exchange: FakeExchange, config: EwsConfig) -> None:
    item = exchange.add_item(JUF, "Postvak IN", "label", mime("label"), categories=["Bewaren"])
    with EwsConnector(config) as connector:
        events, cursor = crawl(connector, f"{JUF}/Postvak IN")
        new_key = connector.set_label(events[0].ref, "Schoonschip: opruimen")
        assert item.categories == ["Bewaren", "Schoonschip: opruimen"]
        events2, _ = crawl(connector, f"{JUF}/Postvak IN", cursor)
        assert events2[0].ref.labels == ("Bewaren", "Schoonschip: opruimen")
        assert new_key == events2[0].ref.change_key != events[0].ref.change_key
        assert connector.set_label(events[0].ref, "Bewaren") is None  # already there: no update
        connector.set_label(events[0].ref, "Schoonschip: opruimen", present=False)
        connector.set_label(events[0].ref, "Bewaren", present=False)
    assert item.categories == []
    assert exchange.requests.count("UpdateItem") == 3


def test_send_mime_creates_and_sends_with_a_saved_copy(exchange: FakeExchange, config: EwsConfig) -> None:
    digest = mime("Opruimoverzicht week 47")
    with EwsConnector(config) as connector:
        connector.send_mime(JUF, digest)
        send_mime(connector._account(MEESTER), digest, save_copy=False)
    assert exchange.sent == [("SendAndSaveCopy", digest), ("SendOnly", digest)]


def test_wrong_password_is_auth_failed(config: EwsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_EWS_PASSWORD", "fout")
    with EwsConnector(config) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "auth_failed"
    assert str(info.value).startswith("postvak ")  # Dutch first
    assert " / " in str(info.value)


def test_denied_impersonation_fails_only_that_mailbox(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.impersonation_allowed.discard(MEESTER)
    with EwsConnector(config.model_copy(update={"mailboxes": [MEESTER]})) as connector, \
            pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "access_denied"
    with EwsConnector(config.model_copy(update={"mailboxes": [JUF]})) as connector:
        assert list(connector.units())


def test_unreachable_endpoint(config: EwsConfig) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = config.model_copy(update={
        "service_endpoint": f"http://127.0.0.1:{port}/EWS/Exchange.asmx", "max_wait": 1,
    })
    with EwsConnector(closed) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "unreachable"


@pytest.fixture
def ntlm_exchange(tmp_path, monkeypatch: pytest.MonkeyPatch) -> FakeEwsServer:
    users = tmp_path / "ntlm-users"
    users.write_text(f"SCHOOL:svc-schoonschip:{SERVICE_PASSWORD}\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))  # read by the server's NTLM acceptor
    exchange = FakeExchange(SERVICE_USER, SERVICE_PASSWORD, auth="ntlm")
    exchange.add_mailbox(JUF)
    server = FakeEwsServer(exchange).start()
    yield server
    server.stop()


def test_ntlm_authentication(ntlm_exchange: FakeEwsServer, config: EwsConfig,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    ntlm_exchange.exchange.add_item(JUF, "Postvak IN", "via ntlm", mime("via ntlm"))
    ntlm = config.model_copy(update={"service_endpoint": ntlm_exchange.endpoint, "auth": "ntlm",
                                     "username": "SCHOOL\\svc-schoonschip", "mailboxes": [JUF]})
    with EwsConnector(ntlm) as connector:
        events, cursor = crawl(connector, f"{JUF}/Postvak IN")
        assert connector.fetch(events[0].ref).size
    assert len(events) == 1 and cursor
    monkeypatch.setenv("TEST_EWS_PASSWORD", "fout")
    with EwsConnector(ntlm) as connector, pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "auth_failed"


def test_https_with_a_private_ca(exchange: FakeExchange, config: EwsConfig, tmp_path) -> None:
    cert, key = make_certificate(tmp_path)
    server = FakeEwsServer(exchange, tls=(cert, key)).start()
    try:
        exchange.add_item(JUF, "Postvak IN", "via https", mime("via https"))
        trusted = EwsConfig.model_validate({**config.model_dump(exclude={"password"}),
                                            "password": {"env": "TEST_EWS_PASSWORD"},
                                            "service_endpoint": server.endpoint, "ca_file": str(cert)})
        with EwsConnector(trusted) as connector:
            events, _ = crawl(connector, f"{JUF}/Postvak IN")
        assert len(events) == 1
    finally:
        server.stop()
    other = FakeEwsServer(exchange, tls=(cert, key)).start()  # same certificate, not trusted here
    try:
        untrusted = trusted.model_copy(update={"ca_file": None, "service_endpoint": other.endpoint,
                                               "max_wait": 1})
        with EwsConnector(untrusted) as connector, pytest.raises(SourceError) as info:
            list(connector.units())
        assert info.value.code == "tls_failed"
    finally:
        other.stop()


def test_connector_pickles_without_sessions(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_item(JUF, "Postvak IN", "pickle", mime("pickle"))
    connector = EwsConnector(pickle.loads(pickle.dumps(config)))
    events, _ = crawl(connector, f"{JUF}/Postvak IN")
    copy = pickle.loads(pickle.dumps(connector))  # e.g. shipped to a Dask worker
    assert copy.fetch(events[0].ref).size
    copy.close()
    connector.close()


def test_config_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_EWS_PASSWORD", "x")
    base = dict(name="x", username="svc", password={"env": "TEST_EWS_PASSWORD"}, mailboxes=[JUF])
    with pytest.raises(ValidationError, match="loopback"):
        EwsConfig(service_endpoint="http://mail.school.nl/EWS/Exchange.asmx", **base)
    with pytest.raises(ValidationError, match="password"):
        EwsConfig(service_endpoint="https://mail.school.nl/EWS/Exchange.asmx", name="x", mailboxes=[JUF])
    with pytest.raises(ValidationError, match="oauth"):
        EwsConfig(service_endpoint="https://mail.school.nl/EWS/Exchange.asmx", name="x", auth="oauth",
                  mailboxes=[JUF])
    with pytest.raises(ValidationError, match="exchange_version"):
        EwsConfig(service_endpoint="https://mail.school.nl/EWS/Exchange.asmx", exchange_version="2016", **base)
    with pytest.raises(ValidationError, match="e-mailadres"):
        EwsConfig(service_endpoint="https://mail.school.nl/EWS/Exchange.asmx",
                  **{**base, "mailboxes": ["jansen"]})
    ntlm = EwsConfig(service_endpoint="https://mail.school.nl/EWS/Exchange.asmx", **base)
    assert ntlm.auth == "ntlm" and ntlm.access == "impersonation"


# --- identity, response codes and resync (issue 15) ----------------------------------------


def test_a_folder_name_with_a_slash_is_its_own_unit(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_folder(JUF, "Postvak IN/Klas 3")
    exchange.add_folder(JUF, "Postvak IN/Klas 3/B")
    exchange.add_folder(JUF, ("Postvak IN", "Klas 3/B"))  # one folder whose name holds '/'
    exchange.add_folder(JUF, ("Postvak IN", "100% zeker"))
    nested = exchange.add_item(JUF, "Postvak IN/Klas 3/B", "genest", mime("genest"))
    slashed = exchange.add_item(JUF, ("Postvak IN", "Klas 3/B"), "met schuine streep", mime("streep"))
    with EwsConnector(config.model_copy(update={"mailboxes": [JUF]})) as connector:
        units = {u.key: u for u in connector.units()}
        assert {f"{JUF}/Postvak IN/Klas 3/B", f"{JUF}/Postvak IN/Klas 3%2FB",
                f"{JUF}/Postvak IN/100%25 zeker"} <= set(units)
        nested_events, _ = crawl(connector, f"{JUF}/Postvak IN/Klas 3/B")
        slashed_events, _ = crawl(connector, f"{JUF}/Postvak IN/Klas 3%2FB")
    assert [e.ref.item_key for e in nested_events] == [nested.id]
    assert [e.ref.item_key for e in slashed_events] == [slashed.id]
    assert slashed_events[0].ref.folder == "Postvak IN/Klas 3%2FB"


@pytest.mark.parametrize(("code", "expected"), [
    ("ErrorMailboxMoveInProgress", "mailbox_moving"),
    ("ErrorMailboxStoreUnavailable", "unavailable"),
    ("ErrorQuotaExceeded", "quota_exceeded"),
    ("ErrorAccessDenied", "access_denied"),
    ("ErrorInternalServerError", "server_error"),
    ("ErrorSyncFolderNotFound", "not_found"),
    ("ErrorExpiredSubscription", "protocol"),  # documented, not ours to interpret: named in the text
])
def test_response_codes_are_named_for_what_happened(exchange: FakeExchange, config: EwsConfig,
                                                    code: str, expected: str) -> None:
    exchange.add_item(JUF, "Postvak IN", "een", mime("een"))
    with EwsConnector(config) as connector:
        unit = next(u for u in connector.units() if u.key == f"{JUF}/Postvak IN")
        exchange.fail("SyncFolderItems", code)
        with pytest.raises(SourceError) as info:
            list(connector.crawl(unit, None))
    assert info.value.code == expected
    assert code in str(info.value) and " / " in str(info.value)


@pytest.mark.parametrize(("code", "expected"), [
    ("ErrorMailboxMoveInProgress", "offline"),  # transient: fetched again by the next run
    ("ErrorServerBusy", "throttled"),
    ("ErrorItemNotFound", "not_found"),
    ("ErrorItemCorrupt", "corrupt"),
    ("ErrorAccessDenied", "access_denied"),
])
def test_item_response_codes_become_item_errors(exchange: FakeExchange, config: EwsConfig,
                                                code: str, expected: str) -> None:
    exchange.add_item(JUF, "Postvak IN", "een", mime("een"))
    with EwsConnector(config.model_copy(update={"max_wait": 0.5})) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        exchange.fail("GetItem", code, times=20, backoff_ms=60_000)
        with pytest.raises(ItemFetchError) as info:
            connector.fetch(events[0].ref)
    assert info.value.code == expected
    assert (code if code != "ErrorServerBusy" else "RateLimitError") in str(info.value)  # past max_wait


def test_an_invalidated_sync_state_is_a_resync_from_scratch(exchange: FakeExchange, config: EwsConfig) -> None:
    items = [exchange.add_item(JUF, "Postvak IN", f"bericht {n}", mime(f"bericht {n}")) for n in range(3)]
    with EwsConnector(config) as connector:
        _, cursor = crawl(connector, f"{JUF}/Postvak IN")
        exchange.delete_item(JUF, "Postvak IN", items[0].id)  # deleted while the state is lost
        exchange.invalidate_sync_states()  # as a mailbox move does
        exchange.calls.clear()
        events, cursor2 = crawl(connector, f"{JUF}/Postvak IN", cursor)
    assert events[0] == Resync("sync_state_invalid")
    assert {e.ref.item_key for e in events[1:]} == {items[1].id, items[2].id}  # Seen only; no Gone
    syncs = [c["state"] for c in exchange.calls if c["op"] == "SyncFolderItems"]
    assert syncs == [True, False]  # the stored state refused, then one SyncFolderItems from scratch
    assert cursor2 and cursor2 != cursor


def test_a_folder_made_again_under_the_same_path_is_a_resync(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_folder(JUF, "Project")
    exchange.add_item(JUF, "Project", "oud", mime("oud"))
    with EwsConnector(config) as connector:
        _, cursor = crawl(connector, f"{JUF}/Project")
        exchange.delete_folder(JUF, "Project")
        exchange.add_folder(JUF, "Project")
        new = exchange.add_item(JUF, "Project", "nieuw", mime("nieuw"))
        events, cursor2 = crawl(connector, f"{JUF}/Project", cursor)  # folder tree still cached
        assert events[0] == Resync("folder_replaced")
        assert [e.ref.item_key for e in events[1:]] == [new.id]
        exchange.delete_folder(JUF, "Project")
        with pytest.raises(SourceError) as info:
            list(connector.crawl(next(u for u in connector.units() if u.key == f"{JUF}/Project"), cursor2))
    assert info.value.code == "not_found"
    with EwsConnector(config) as connector:  # next run: the unit is gone, the pipeline closes it
        assert f"{JUF}/Project" not in {u.key for u in connector.units()}


def test_a_cursor_of_an_older_release_is_still_followed(exchange: FakeExchange, config: EwsConfig) -> None:
    exchange.add_item(JUF, "Postvak IN", "een", mime("een"))
    with EwsConnector(config) as connector:
        _, cursor = crawl(connector, f"{JUF}/Postvak IN")
        folder_id, _, state = cursor.partition(" ")
        assert folder_id == exchange.folder(JUF, "Postvak IN").id
        exchange.add_item(JUF, "Postvak IN", "twee", mime("twee"))
        events, _ = crawl(connector, f"{JUF}/Postvak IN", state)  # only the sync state
    assert [e.ref.title for e in events] == ["twee"]
