"""The In-Place Archive (``archive: true``) through exchangelib against the fake Exchange: the
archive's mail folders are units of their own under ``archivemsgfolderroot``, keys that cannot
collide with the primary mailbox's, a mailbox without an archive (ErrorFolderNotFound) is
normal, and crawl, fetch and remove work on archive folders like on primary ones."""

from __future__ import annotations

import pytest

from connectors.base import SourceError
from connectors.ews import ARCHIVE_DELETED_ITEMS, EwsConfig, EwsConnector
from scanner.core.model import Gone, Seen
from tests.services.fake_ews import JUF, MEESTER, SERVICE_PASSWORD, FakeExchange

from .test_ews_connector import config, crawl, mime  # noqa: F401 - config is a fixture

ARCHIVE = f"{JUF}/%archief"


def test_archive_is_off_by_default_and_primary_keys_are_unchanged(exchange: FakeExchange,
                                                                   config: EwsConfig) -> None:  # noqa: F811
    exchange.add_archive(JUF)
    with EwsConnector(config) as connector:
        keys = {u.key for u in connector.units()}
    assert not any("%archief" in k for k in keys)
    with EwsConnector(config.model_copy(update={"archive": True})) as connector:
        with_archive = {u.key for u in connector.units()}
    assert keys < with_archive  # the primary units stay exactly as they were


def test_archive_folders_are_units_of_their_own(exchange: FakeExchange, config: EwsConfig) -> None:  # noqa: F811
    exchange.add_archive(JUF)  # MEESTER has no archive: ErrorFolderNotFound, no unit, no error
    exchange.add_folder(JUF, "Archief")  # a primary folder named like the archive
    exchange.add_folder(JUF, "Postvak IN", archive=True)
    exchange.add_folder(JUF, "Postvak IN/2019", archive=True)
    exchange.add_folder(JUF, "Agenda", "IPF.Appointment", archive=True)
    with EwsConnector(config.model_copy(update={"archive": True})) as connector:
        units = {u.key: u for u in connector.units()}
    archive_units = {k: u.label for k, u in units.items() if k.startswith(ARCHIVE + "/")}
    assert archive_units == {
        f"{ARCHIVE}/Postvak IN": "Online archief/Postvak IN",
        f"{ARCHIVE}/Postvak IN/2019": "Online archief/Postvak IN/2019",
        f"{ARCHIVE}/Verwijderde items": "Online archief/Verwijderde items",
    }
    assert f"{JUF}/Archief" in units and f"{JUF}/Postvak IN" in units
    assert not any(k.startswith(f"{MEESTER}/%archief") for k in units)
    assert {f"{MEESTER}/Postvak IN", f"{MEESTER}/Verwijderde items"} <= set(units)
    assert all(u.owner == u.concurrency_key == JUF for k, u in units.items() if k.startswith(ARCHIVE))


def test_exclude_patterns_see_the_archive_label(exchange: FakeExchange, config: EwsConfig) -> None:  # noqa: F811
    exchange.add_archive(JUF)
    config = config.model_copy(update={"archive": True, "exclude": ["online archief/*"]})
    with EwsConnector(config) as connector:
        assert not any("%archief" in u.key for u in connector.units())


def test_crawl_fetch_and_remove_in_the_archive(exchange: FakeExchange, config: EwsConfig) -> None:  # noqa: F811
    exchange.add_archive(JUF)
    exchange.add_folder(JUF, "Postvak IN", archive=True)
    primary = exchange.add_item(JUF, "Postvak IN", "nieuw", mime("nieuw"))
    old = exchange.add_item(JUF, "Postvak IN", "OPP 2014", mime("OPP 2014", b"zorgplan"), archive=True)
    with EwsConnector(config.model_copy(update={"archive": True})) as connector:
        events, cursor = crawl(connector, f"{ARCHIVE}/Postvak IN")
        assert [e.ref.item_key for e in events] == [old.id]
        ref = events[0].ref
        assert ref.folder == "Online archief/Postvak IN" and ref.unit_key == f"{ARCHIVE}/Postvak IN"
        assert ref.owner == JUF
        assert connector.fetch(ref).data == old.mime
        primary_events, _ = crawl(connector, f"{JUF}/Postvak IN")
        assert [e.ref.item_key for e in primary_events] == [primary.id]
        _, trash_cursor = crawl(connector, f"{ARCHIVE}/Verwijderde items")
        assert connector.remove(ref) == ARCHIVE_DELETED_ITEMS
        after, _ = crawl(connector, f"{ARCHIVE}/Postvak IN", cursor)
        trash, _ = crawl(connector, f"{ARCHIVE}/Verwijderde items", trash_cursor)
    assert after == [Gone(ref.item_key)]
    assert [(e.ref.title, e.ref.folder) for e in trash if isinstance(e, Seen)] == [
        ("OPP 2014", "Online archief/Verwijderde items")]
    (move,) = [c for c in exchange.calls if c["op"] == "MoveItem"]
    assert move["to"] == "Verwijderde items"
    assert exchange.folder(JUF, "Verwijderde items").items == {}  # the primary trash is untouched


def test_a_scan_finds_pupil_data_in_the_archive_and_keeps_it_apart(exchange: FakeExchange, ews_server,
                                                                   tmp_path, monkeypatch) -> None:
    """Through the whole pipeline: archive mail is analysed like any mail, stored under its own
    unit and folder label, and a primary folder called "Archief" stays a unit of its own."""
    from tests.connectors.ews.test_ews_convergence import BSN, scan, settings
    from tests.connectors.ews.test_ews_convergence import mime as mail
    from tests.convergence import store_snapshot

    monkeypatch.setenv("TEST_EWS_PASSWORD", SERVICE_PASSWORD)
    exchange.add_archive(JUF)
    exchange.add_folder(JUF, "Archief")
    exchange.add_folder(JUF, "Postvak IN", archive=True)
    archived = exchange.add_item(JUF, "Postvak IN", "Zorgmail 2014", mail("Zorgmail 2014", f"Zorg, BSN {BSN}."),
                                 archive=True)
    primary = exchange.add_item(JUF, "Archief", "Eigen map", mail("Eigen map", f"Leerling BSN: {BSN}"))
    scanned = settings(tmp_path, "archive", ews_server.endpoint)
    scanned = scanned.model_copy(update={"sources": [scanned.sources[0].model_copy(update={"archive": True})]})
    scan(scanned)
    items = store_snapshot(scanned)
    assert items[("exchange", archived.id)]["folder"] == "Online archief/Postvak IN"
    assert items[("exchange", primary.id)]["folder"] == "Archief"
    assert items[("exchange", archived.id)]["findings"] and items[("exchange", primary.id)]["findings"]


def test_an_archive_that_is_away_costs_only_the_archive(exchange: FakeExchange, config: EwsConfig) -> None:  # noqa: F811
    exchange.add_archive(JUF)
    exchange.archive_down[JUF] = "ErrorMailboxStoreUnavailable"  # archives often live on their own store
    item = exchange.add_item(JUF, "Postvak IN", "Rooster", mime("Rooster"))
    with EwsConnector(config.model_copy(update={"archive": True, "mailboxes": [JUF]})) as connector:
        units = {u.key: u for u in connector.units()}
        assert f"{ARCHIVE}/*" in units and f"{JUF}/Postvak IN" in units  # "/*": nothing under it is closed
        with pytest.raises(SourceError) as away:
            list(connector.crawl(units[f"{ARCHIVE}/*"], None))
        assert away.value.code == "unavailable"
        events, _ = crawl(connector, f"{JUF}/Postvak IN")
    assert [e.ref.item_key for e in events] == [item.id]
