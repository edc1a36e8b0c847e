"""GraphFilesConnector: OneDrive and SharePoint libraries through drive delta."""

from __future__ import annotations

import gc
import os

import pytest

from connectors.base import ConnectorContext, ItemFetchError
from connectors.graph._common import SPOOL_BYTES
from connectors.graph.files import GraphFilesConnector
from connectors.registry import connector_class
from scanner.core.model import ItemKind, Seen
from tests.crawling import crawl_all

from .conftest import files_connector

ALICE = "alice@school.nl"


def build_drives(fake):
    fake.add_mailbox(ALICE)
    fake.add_mailbox("bob@school.nl")
    fake.add_group("grp-onderbouw", [("user", "bob@school.nl")])
    items = {}
    fake.add_drive("drive-alice", owner=ALICE)
    items["lijst"] = fake.add_file("drive-alice", "Documenten/Klas 3B/lijst.csv", b"naam;bsn\nSanne;123456782\n")
    items["notities"] = fake.add_file("drive-alice", "Documenten/notities.txt", b"oudergesprek")
    items["foto"] = fake.add_file("drive-alice", "Afbeeldingen/foto.jpg", b"\xff\xd8\xff")
    items["oud1"] = fake.add_file("drive-alice", "Oud/2019/a.txt", b"a")
    items["oud2"] = fake.add_file("drive-alice", "Oud/b.txt", b"b")
    fake.add_drive("drive-bob", owner="bob@school.nl")
    items["bob"] = fake.add_file("drive-bob", "plan.docx", b"PK\x03\x04")
    fake.add_drive("b!zorg-library")
    items["zorg"] = fake.add_file("b!zorg-library", "Dossiers/OPP.pdf", b"%PDF-1.4", created_by="IB@school.nl")
    fake.add_drive("b!team-library")
    items["team"] = fake.add_file("b!team-library", "Notulen.docx", b"PK", created_by="x@school.nl")
    return items


def connector_for(fake, certs, clock, context=None, **overrides):
    settings = {
        "users": [ALICE],
        "groups": ["grp-onderbouw"],
        "drives": [
            {"id": "b!zorg-library", "name": "Zorg"},
            {"id": "b!team-library", "name": "Team", "owner": "teamleider@school.nl"},
        ],
        "exclude": ["*.jpg"],
        "page_size": 3,
    }
    settings.update(overrides)
    return files_connector(fake, certs, clock, context, **settings)


def test_registry_resolves_graph_files() -> None:
    assert connector_class("graph_files") is GraphFilesConnector


def test_units_are_drives(fake, certs, clock) -> None:
    build_drives(fake)
    units = {u.key: u for u in connector_for(fake, certs, clock).units()}
    assert set(units) == {"onedrive:alice@school.nl", "onedrive:bob@school.nl", "drive:Zorg", "drive:Team"}
    assert units["onedrive:alice@school.nl"].owner == ALICE
    assert units["drive:Team"].owner == "teamleider@school.nl"
    assert units["drive:Zorg"].owner is None
    assert all(not u.full_listing for u in units.values())


def test_full_crawl_rebuilds_paths_and_owners(fake, certs, clock) -> None:
    items = build_drives(fake)
    result = crawl_all(connector_for(fake, certs, clock))
    assert not result.errors
    refs = {r.title: r for r in result.seen()}
    assert set(refs) == {"lijst.csv", "notities.txt", "a.txt", "b.txt", "plan.docx", "OPP.pdf", "Notulen.docx"}
    lijst = refs["lijst.csv"]
    assert lijst.kind is ItemKind.FILE
    assert (lijst.folder, lijst.owner, lijst.unit_key) == ("Documenten/Klas 3B", ALICE, "onedrive:alice@school.nl")
    assert lijst.item_key == f"drive-alice:{items['lijst'].id}"
    assert lijst.size == len(items["lijst"].content)
    assert lijst.change_key and lijst.change_key.startswith('"c:')
    assert lijst.link and lijst.link.startswith("https://school.sharepoint.com/")
    assert refs["a.txt"].folder == "Oud/2019"
    assert refs["plan.docx"].folder == "" and refs["plan.docx"].owner == "bob@school.nl"
    assert refs["OPP.pdf"].owner == "ib@school.nl"  # library without owner: the creator
    assert refs["Notulen.docx"].owner == "teamleider@school.nl"
    # several pages per drive (page size 3), and no per-folder lookups on a full crawl
    assert not fake.graph_requests(r"/items/[^/]+$")


def test_incremental_crawl_returns_only_changes(fake, certs, clock) -> None:
    items = build_drives(fake)
    connector = connector_for(fake, certs, clock)
    first = crawl_all(connector)
    old_ctag = {r.title: r.change_key for r in first.seen()}

    fake.modify_file("drive-alice", items["lijst"].id, b"naam;bsn\nSanne;123456782\nDaan;111222333\n")
    oud = fake.drive_folder("drive-alice", "Oud")
    fake.delete_item("drive-alice", oud.id)
    new = fake.add_file("drive-alice", "Documenten/Klas 3B/nieuw.txt", b"nieuw")
    fake.add_file("b!zorg-library", "Dossiers/Extra/verslag.txt", b"verslag", created_by="ib@school.nl")
    lookups_before = len(fake.graph_requests(r"/items/[^/]+$"))

    second = crawl_all(connector, first.cursors)
    assert not second.errors
    refs = {r.title: r for r in second.seen()}
    assert set(refs) == {"lijst.csv", "nieuw.txt", "verslag.txt"}
    assert refs["lijst.csv"].change_key != old_ctag["lijst.csv"]
    assert refs["nieuw.txt"].folder == "Documenten/Klas 3B"  # parent not in this feed: looked up
    assert refs["nieuw.txt"].item_key == f"drive-alice:{new.id}"
    assert refs["verslag.txt"].folder == "Dossiers/Extra"
    assert set(second.gone()) >= {f"drive-alice:{items['oud1'].id}", f"drive-alice:{items['oud2'].id}"}
    assert len(fake.graph_requests(r"/items/[^/]+$")) > lookups_before
    assert not any(second.events[key] for key in ("onedrive:bob@school.nl", "drive:Team"))

    third = crawl_all(connector, second.cursors)
    assert all(not events for events in third.events.values())


def test_expired_drive_token_resyncs_everything(fake, certs, clock) -> None:
    build_drives(fake)
    connector = connector_for(fake, certs, clock)
    first = crawl_all(connector)
    fake.expire_delta_tokens()
    second = crawl_all(connector, first.cursors)
    assert not second.errors
    assert second.snapshot() == first.snapshot()


def test_fetch_follows_the_redirect_without_sending_the_token(fake, certs, clock) -> None:
    items = build_drives(fake)
    connector = connector_for(fake, certs, clock)
    refs = {r.title: r for r in crawl_all(connector).seen()}
    fetched = connector.fetch(refs["lijst.csv"])
    assert fetched.data == items["lijst"].content
    assert fetched.name == "lijst.csv"
    assert fake.downloads[-1]["authorization"] is False
    assert fake.downloads[-1]["host"].startswith("localhost:")


def test_too_large_file_is_refused_without_download(fake, certs, clock) -> None:
    build_drives(fake)
    connector = connector_for(fake, certs, clock, max_file_bytes=10)
    refs = {r.title: r for r in crawl_all(connector).seen()}
    with pytest.raises(ItemFetchError) as error:
        connector.fetch(refs["lijst.csv"])
    assert error.value.code == "too_large"
    assert "lijst" not in str(error.value)
    assert not fake.graph_requests("/content$") and not fake.downloads
    assert connector.fetch(refs["b.txt"]).data == b"b"  # small enough


def test_context_limit_applies_when_no_file_limit_is_set(fake, certs, clock) -> None:
    build_drives(fake)
    connector = connector_for(fake, certs, clock, ConnectorContext(max_item_bytes=5))
    refs = {r.title: r for r in crawl_all(connector).seen()}
    with pytest.raises(ItemFetchError):
        connector.fetch(refs["notities.txt"])


@pytest.mark.slow
def test_large_download_is_spooled_to_a_private_temporary_file(fake, certs, clock, tmp_path) -> None:
    fake.add_mailbox(ALICE)
    fake.add_drive("drive-alice", owner=ALICE)
    content = os.urandom(1024) * (SPOOL_BYTES // 1024 + 10)
    fake.add_file("drive-alice", "groot.bin", content)
    connector = files_connector(
        fake, certs, clock, ConnectorContext(state_dir=str(tmp_path / "state")), users=[ALICE]
    )
    ref = crawl_all(connector).seen()[0]
    fetched = connector.fetch(ref)
    assert fetched.data is None and fetched.path is not None
    path = fetched.path
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert fetched.read() == content and fetched.size == len(content)
    del fetched
    gc.collect()
    assert not path.exists()


def test_unknown_onedrive_fails_only_its_unit(fake, certs, clock) -> None:
    build_drives(fake)
    fake.add_mailbox("nodrive@school.nl")
    connector = connector_for(fake, certs, clock, users=[ALICE, "nodrive@school.nl"])
    result = crawl_all(connector)
    assert set(result.errors) == {"onedrive:nodrive@school.nl"}
    assert result.errors["onedrive:nodrive@school.nl"].code == "not_found"
    assert any(isinstance(e, Seen) for e in result.events["onedrive:alice@school.nl"])


def test_expired_drive_token_is_reported_as_a_warning(fake, certs, clock) -> None:
    build_drives(fake)
    connector = connector_for(fake, certs, clock, users=[ALICE], groups=[], drives=[])
    first = crawl_all(connector)
    fake.expire_delta_tokens()
    crawl_all(connector, first.cursors)
    assert connector.warnings == [
        ("onedrive:alice@school.nl", "resync",
         "deltatoken verlopen, drive opnieuw volledig gelezen / delta token expired, drive listed in full again")
    ]
