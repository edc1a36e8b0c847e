"""EWS "Verwijderen" through exchangelib against the fake Exchange: one MoveItem to the
distinguished folder deleteditems; the moved item's new id; ErrorItemNotFound is already
gone; ErrorServerBusy with BackOffMilliseconds is waited for and retried; no rights is
access_denied; the next sync sees the message in Verwijderde items."""

from __future__ import annotations

import pytest

from connectors.base import ItemFetchError
from connectors.ews import DELETED_ITEMS, EwsConnector
from scanner.core.model import Gone, Seen
from tests.services.fake_ews import JUF, FakeExchange

from .test_ews_connector import config, crawl, mime  # noqa: F401 - config is a fixture


def test_move_to_deleted_items_and_the_next_sync_sees_it_there(exchange: FakeExchange, config) -> None:  # noqa: F811
    item = exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    exchange.add_item(JUF, "Postvak IN", "Rooster", mime("Rooster"))
    with EwsConnector(config) as connector:
        assert connector.supports_remove()
        inbox, inbox_cursor = crawl(connector, f"{JUF}/Postvak IN")
        _, trash_cursor = crawl(connector, f"{JUF}/Verwijderde items")
        ref = next(e.ref for e in inbox if e.ref.title == "OPP")
        assert connector.remove(ref) == DELETED_ITEMS
        (call,) = [c for c in exchange.calls if c["op"] == "MoveItem"]
        assert call == {"op": "MoveItem", "items": [ref.item_key], "to": "Verwijderde items"}
        assert set(exchange.folder(JUF, "Verwijderde items").items) == {item.id} != {ref.item_key}
        assert connector.remove(ref) == DELETED_ITEMS  # repeated: the old id is gone, success
        after_inbox, _ = crawl(connector, f"{JUF}/Postvak IN", inbox_cursor)
        after_trash, _ = crawl(connector, f"{JUF}/Verwijderde items", trash_cursor)
    assert after_inbox == [Gone(ref.item_key)]
    assert [(e.ref.title, e.ref.folder) for e in after_trash if isinstance(e, Seen)] == [("OPP", "Verwijderde items")]
    assert exchange.requests.count("MoveItem") == 2


def test_a_message_already_gone_is_success(exchange: FakeExchange, config) -> None:  # noqa: F811
    item = exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        exchange.delete_item(JUF, "Postvak IN", item.id)
        assert connector.remove(events[0].ref) == DELETED_ITEMS


def test_server_busy_is_retried_with_the_back_off_hint(exchange: FakeExchange, config) -> None:  # noqa: F811
    exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        exchange.busy["MoveItem"] = 2
        exchange.busy_backoff_ms = 50
        assert connector.remove(events[0].ref) == DELETED_ITEMS
    assert exchange.requests.count("MoveItem") == 3
    assert len(exchange.folder(JUF, "Verwijderde items").items) == 1


@pytest.mark.parametrize(("response_code", "item_code"), [
    ("ErrorAccessDenied", "access_denied"),
    ("ErrorMailboxMoveInProgress", "offline"),
    ("ErrorQuotaExceeded", "action_failed"),
])
def test_failures_are_named_and_move_nothing(exchange: FakeExchange, config, response_code, item_code) -> None:  # noqa: F811
    exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        exchange.fail("MoveItem", response_code)
        with pytest.raises(ItemFetchError) as caught:
            connector.remove(events[0].ref)
    assert caught.value.code == item_code
    assert "OPP" not in str(caught.value)
    assert len(exchange.folder(JUF, "Postvak IN").items) == 1


def test_an_account_without_write_rights_is_access_denied(exchange: FakeExchange, config) -> None:  # noqa: F811
    exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    exchange.read_only.add(JUF)
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
        with pytest.raises(ItemFetchError) as caught:
            connector.remove(events[0].ref)
    assert caught.value.code == "access_denied"


def test_a_mailbox_no_longer_configured_is_refused_as_an_item_error(exchange: FakeExchange, config) -> None:  # noqa: F811
    exchange.add_item(JUF, "Postvak IN", "OPP", mime("OPP"))
    with EwsConnector(config) as connector:
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
    narrower = config.model_copy(update={"mailboxes": [m for m in config.mailboxes if m != JUF]})
    with EwsConnector(narrower) as connector, pytest.raises(ItemFetchError) as caught:
        connector.remove(events[0].ref)
    assert caught.value.code == "action_failed"
    assert len(exchange.folder(JUF, "Postvak IN").items) == 1
