"""Crawling and fetching against a real Samba server: the awkward share tree, owners from
security descriptors, split units, globs, incremental runs."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import time
from datetime import UTC, datetime

import pytest

from connectors.base import ConnectorContext, ItemFetchError
from connectors.smb import SmbConfig, SmbConnector
from scanner.core.model import ItemKind, archive_change_key

from .samba_server import Samba
from .smb_helpers import crawl_all, held_open, make_connector
from .smb_tree import (
    BIG_DIR_FILES,
    LOOP_NAME,
    MAPPED_SID,
    MAPPED_UID,
    ODD_NAMES,
    OLD,
    Tree,
    write_file,
)

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def data_crawl(samba: tuple[Samba, Tree]):
    """One full crawl of the 'data' share, shared by the read-only assertions below."""
    server, tree = samba
    connector = make_connector(server, [{"share": "data", "owner": "it@school.nl"}])
    refs, summary = crawl_all(connector)
    yield connector, refs, summary
    connector.close()


def test_full_listing_covers_every_reachable_file(samba, data_crawl) -> None:
    server, tree = samba
    connector, refs, summary = data_crawl
    big = [key for key in refs if key.startswith("data/Groot/")]
    assert len(big) == BIG_DIR_FILES
    assert "data/leesmij.txt" in refs
    assert "data/Zorg/OPP Klas 3B.txt" in refs
    assert f"data/{tree.long_file}" in refs
    assert len(f"\\\\{server.host}\\data\\{tree.long_file}") > 260
    assert summary["files"] == len(refs)
    assert summary["bytes"] == sum(r.size for r in refs.values())
    # Names with spaces, '#', '%', brackets and unicode arrive unchanged.
    raar = {ref.title for key, ref in refs.items() if key.startswith("data/Raar/")}
    assert len(raar) == len(ODD_NAMES)
    for name in ODD_NAMES:
        if not name.endswith("."):
            assert name in raar
    # A trailing dot is illegal on Windows: Samba hands out a mangled 8.3 name instead.
    assert any("~" in title for title in raar)


def test_item_metadata(samba, data_crawl) -> None:
    server, tree = samba
    _, refs, _ = data_crawl
    ref = refs["data/Zorg/OPP Klas 3B.txt"]
    local = tree.root / "Zorg" / "OPP Klas 3B.txt"
    stat = local.stat()
    assert ref.kind is ItemKind.FILE
    assert ref.source == "fileserver"
    assert ref.title == "OPP Klas 3B.txt"
    assert ref.folder == "data/Zorg"
    assert ref.date == OLD
    assert ref.size == stat.st_size
    assert ref.change_key is not None
    assert re.fullmatch(rf"{stat.st_size}:{stat.st_mtime_ns}:\d+", ref.change_key)
    assert ref.link == f"\\\\{server.host}\\data\\Zorg\\OPP Klas 3B.txt"
    assert ref.unit_key == f"{server.host}/data"
    assert ref.owner == "it@school.nl"
    assert ref.labels == ()


def test_pst_archive_is_listed_and_labelled(samba, data_crawl) -> None:
    server, tree = samba
    connector, refs, _ = data_crawl
    ref = refs[f"data/{tree.pst_file}"]
    assert ref.labels == ("pst",)
    assert ref.size == 512
    assert ref.date == datetime(2014, 7, 1, tzinfo=UTC)
    assert connector.fetch(ref).read(4) == b"!BDN"


def test_denied_folder_and_loop_are_reported_not_fatal(samba, data_crawl) -> None:
    server, _ = samba
    connector, refs, summary = data_crawl
    codes = [code for _, code, _ in connector.warnings]
    assert codes == ["symlink_loop"]
    # The denied folder is a blind spot: its stored files are kept, not closed.
    assert [(b.item_prefix, b.code) for b in summary["blind"]] == [("data/Geheim/", "access_denied")]
    assert "Geheim" not in summary["blind"][0].message  # no folder names by default
    assert rf"\\{server.host}\data" in summary["blind"][0].message  # but the share is named
    assert summary["problems"] == 2
    assert not any(key.startswith("data/Geheim/") for key in refs)
    # The loop is walked exactly once: the file inside it appears once, never via the link.
    assert "data/Lus/in-de-lus.txt" in refs
    assert not any(LOOP_NAME in key for key in refs)
    for unit_key, _, message in connector.warnings:
        assert unit_key == f"{server.host}/data"
        assert "Geheim" not in message and "Lus" not in message  # no folder names by default
        assert " / " in message  # Dutch first, then English


def test_folder_names_in_warnings_only_when_asked(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "data", "folder": "Lus"}],
                               report_folder_names=True)
    crawl_all(connector)
    assert [(code, msg.rsplit(": ", 1)[1]) for _, code, msg in connector.warnings] == [
        ("symlink_loop", LOOP_NAME)
    ]
    connector.close()


def test_fetch_streams_content_of_awkward_names(samba, data_crawl) -> None:
    server, tree = samba
    connector, refs, _ = data_crawl
    wanted = {f"inhoud van {name}\n".encode() for name in ODD_NAMES}
    got = set()
    for key, ref in refs.items():
        if key.startswith("data/Raar/"):
            fetched = connector.fetch(ref)
            assert fetched.data is None and fetched.open is not None  # streamed, not in memory
            assert fetched.size == ref.size
            assert fetched.name == ref.title
            got.add(fetched.read())
    assert got == wanted
    long_ref = refs[f"data/{tree.long_file}"]
    fetched = connector.fetch(long_ref)
    with fetched.open() as first, fetched.open() as second:  # every call is a fresh stream
        assert first.read(2) == b"di"
        assert second.read() == b"diep\n"
    assert fetched.media_type == "text/plain"


def test_too_large_is_refused_without_reading(samba) -> None:
    server, tree = samba
    connector = make_connector(server, [{"share": "data", "folder": "Zorg"}],
                               context=ConnectorContext(max_item_bytes=10))
    refs, _ = crawl_all(connector)
    with pytest.raises(ItemFetchError) as caught:
        connector.fetch(refs["data/Zorg/OPP Klas 3B.txt"])
    assert caught.value.code == "too_large"
    connector.close()


def test_owner_from_security_descriptor(samba) -> None:
    server, tree = samba
    assert (tree.root / "Zorg" / "van-juf.txt").stat().st_uid == MAPPED_UID
    connector = make_connector(
        server, [{"share": "data", "folder": "Zorg", "owner": "ib@school.nl"}],
        sid_owners={MAPPED_SID.lower(): "j.devries@school.nl"},
    )
    refs, _ = crawl_all(connector)
    assert refs["data/Zorg/van-juf.txt"].owner == "j.devries@school.nl"
    assert refs["data/Zorg/OPP Klas 3B.txt"].owner == "ib@school.nl"  # unmapped SID: share owner
    assert connector.client.owner_sid("data/Zorg/van-juf.txt") == MAPPED_SID
    connector.close()
    # No share owner: the source's owner, and without that 'onbekend'.
    for source_owner, expected in (("directie@school.nl", "directie@school.nl"),
                                   (None, "onbekend")):
        connector = make_connector(server, [{"share": "data", "folder": "Zorg"}],
                                   sid_owners={MAPPED_SID: "j.devries@school.nl"},
                                   owner=source_owner)
        refs, _ = crawl_all(connector)
        assert refs["data/Zorg/OPP Klas 3B.txt"].owner == expected
        connector.close()


def test_include_exclude_globs_on_relative_paths(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "data"}],
                               exclude=["Groot/*", "*.pst", "Leerlingdossier*"],
                               include=["*.txt", "*.pst"])
    refs, _ = crawl_all(connector)
    assert refs
    assert not any(k.startswith("data/Groot/") or k.endswith(".pst") for k in refs)
    assert not any("Leerlingdossier" in k for k in refs)
    assert all(k.endswith(".txt") for k in refs)
    assert "data/Zorg/OPP Klas 3B.txt" in refs
    connector.close()


def test_split_share_gives_one_unit_per_subfolder(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "persoonlijk", "split_subfolders": True,
                                         "owner": "it@school.nl"}])
    units = list(connector.units())
    host = server.host
    assert [u.key for u in units] == [
        f"{host}/persoonlijk/.", f"{host}/persoonlijk/a.bakker", f"{host}/persoonlijk/j.devries",
    ]
    assert all(u.full_listing and u.concurrency_key == units[0].concurrency_key for u in units)
    root, _ = crawl_all(connector, f"{host}/persoonlijk/.")
    assert list(root) == ["persoonlijk/los-bestand.txt"]  # not recursive
    home, _ = crawl_all(connector, f"{host}/persoonlijk/j.devries")
    assert list(home) == ["persoonlijk/j.devries/cijfers.txt"]
    assert home["persoonlijk/j.devries/cijfers.txt"].unit_key == f"{host}/persoonlijk/j.devries"
    assert home["persoonlijk/j.devries/cijfers.txt"].owner == "it@school.nl"
    connector.close()


def test_home_folder_owner_from_template(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "persoonlijk", "split_subfolders": True,
                                         "owner_template": "{folder}@school.nl",
                                         "owner": "it@school.nl"}])
    units = {u.key.rsplit("/", 1)[1]: u for u in connector.units()}
    assert units["j.devries"].owner == "j.devries@school.nl"
    assert units["."].owner == "it@school.nl"
    home, _ = crawl_all(connector, units["a.bakker"].key)
    assert home["persoonlijk/a.bakker/cijfers.txt"].owner == "a.bakker@school.nl"
    root, _ = crawl_all(connector, units["."].key)
    assert root["persoonlijk/los-bestand.txt"].owner == "it@school.nl"
    connector.close()


def test_incremental_runs_change_keys_and_missing_items(samba) -> None:
    server, _ = samba
    share = server.shares["wijzig"]
    for child in share.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for name in ("blijft.txt", "wijzigt.txt", "verdwijnt.txt"):
        write_file(share / "map" / name, f"versie 1 van {name}\n".encode())
    (share / "map").chmod(0o755)
    connector = make_connector(server, [{"share": "wijzig"}])
    first, _ = crawl_all(connector)
    assert set(first) == {"wijzig/map/blijft.txt", "wijzig/map/wijzigt.txt",
                          "wijzig/map/verdwijnt.txt"}

    changed = share / "map" / "wijzigt.txt"
    changed.write_bytes(b"versie 2, langer dan versie 1\n")
    os.utime(changed, (time.time(), time.time()))
    (share / "map" / "verdwijnt.txt").unlink()
    write_file(share / "map" / "nieuw.txt", b"nieuw\n")

    second, summary = crawl_all(connector)
    assert set(second) == {"wijzig/map/blijft.txt", "wijzig/map/wijzigt.txt",
                           "wijzig/map/nieuw.txt"}
    assert second["wijzig/map/blijft.txt"].change_key == first["wijzig/map/blijft.txt"].change_key
    assert second["wijzig/map/wijzigt.txt"].change_key != first["wijzig/map/wijzigt.txt"].change_key
    assert second["wijzig/map/wijzigt.txt"].size == len(b"versie 2, langer dan versie 1\n")
    assert summary["files"] == 3
    fetched = connector.fetch(second["wijzig/map/wijzigt.txt"])
    assert fetched.read() == b"versie 2, langer dan versie 1\n"
    connector.close()


def test_file_deleted_between_listing_and_fetch(samba) -> None:
    server, _ = samba
    share = server.shares["wijzig"]
    write_file(share / "kortstondig.txt", b"even hier\n")
    connector = make_connector(server, [{"share": "wijzig"}])
    refs, _ = crawl_all(connector)
    ref = refs["wijzig/kortstondig.txt"]
    (share / "kortstondig.txt").unlink()
    with pytest.raises(ItemFetchError) as caught:
        connector.fetch(ref)
    assert caught.value.code == "vanished"
    assert "kortstondig" not in str(caught.value)
    connector.close()


def test_locked_file_gives_item_error(samba) -> None:
    """A .pst open in Outlook: the server refuses shared access; one item error, no crash."""
    server, _ = samba
    share = server.shares["wijzig"]
    write_file(share / "open-in-outlook.pst", b"!BDN" + b"\0" * 60)
    connector = make_connector(server, [{"share": "wijzig"}])
    refs, _ = crawl_all(connector)
    try:
        with held_open(server, "wijzig", "open-in-outlook.pst"), pytest.raises(ItemFetchError) as caught:
            connector.fetch(refs["wijzig/open-in-outlook.pst"])
        assert caught.value.code == "locked"
    finally:
        connector.close()


def test_connector_rebuilt_from_pickled_config_in_another_place(samba, data_crawl) -> None:
    """A worker gets only the configuration; it connects by itself on first fetch."""
    server, _ = samba
    crawler, refs, _ = data_crawl
    config = pickle.loads(pickle.dumps(crawler.config))
    assert isinstance(config, SmbConfig)
    worker = SmbConnector(config)
    assert worker._client is None  # nothing opened at construction
    assert worker.fetch(refs["data/leesmij.txt"]).read() == b"Welkom op de gedeelde schijf.\n"
    worker.close()
    with worker:  # usable again after close: reconnects lazily
        assert worker.fetch(refs["data/leesmij.txt"]).size == 30
    assert worker._client is None


def test_sessions_of_two_connectors_are_independent(samba) -> None:
    server, _ = samba
    one = make_connector(server, [{"share": "wijzig"}])
    two = make_connector(server, [{"share": "wijzig"}])
    crawl_all(one)
    crawl_all(two)
    one.close()  # must not close the other connector's connection
    crawl_all(two)
    two.close()


def test_owner_sids_are_cached_per_change_key(samba, tmp_path) -> None:
    """With a state_dir, an unchanged file's owner SID is not asked again: a chown alone
    (mtime unchanged) shows only once the file changes. Without a cache it shows at once."""
    server, _ = samba
    share = server.shares["wijzig"]
    target = share / "eigenaar" / "van-wie.txt"
    write_file(target, b"van wie?\n")
    (share / "eigenaar").chmod(0o755)
    os.chown(target, MAPPED_UID, -1)
    other_uid = MAPPED_UID + 1
    owners = {MAPPED_SID: "j.devries@school.nl", f"S-1-22-1-{other_uid}": "a.bakker@school.nl"}
    shares = [{"share": "wijzig", "folder": "eigenaar"}]
    key = "wijzig/eigenaar/van-wie.txt"

    cached = make_connector(server, shares, context=ConnectorContext(state_dir=str(tmp_path)),
                            sid_owners=owners)
    uncached = make_connector(server, shares, sid_owners=owners)
    assert crawl_all(cached)[0][key].owner == "j.devries@school.nl"
    os.chown(target, other_uid, -1)  # changes ctime only: change_key stays the same
    assert crawl_all(uncached)[0][key].owner == "a.bakker@school.nl"
    assert crawl_all(cached)[0][key].owner == "j.devries@school.nl"  # from the cache
    later = time.time() + 5
    os.utime(target, (later, later))
    assert crawl_all(cached)[0][key].owner == "a.bakker@school.nl"  # changed file: asked again
    cached.close()
    uncached.close()
    cache_files = list(tmp_path.glob("smb-owners-*.sqlite"))
    assert len(cache_files) == 1
    content = cache_files[0].read_bytes()
    assert b"van-wie" not in content and b"eigenaar" not in content  # hashed paths only
    assert oct(cache_files[0].stat().st_mode & 0o777) == "0o600"


def test_stream_errors_name_no_file(samba) -> None:
    """A file deleted after fetch() but before extraction opens it: a plain OSError whose
    text carries no path (smbprotocol's own errors quote the full UNC path)."""
    server, _ = samba
    share = server.shares["wijzig"]
    write_file(share / "Naam van Leerling.txt", b"x\n")
    connector = make_connector(server, [{"share": "wijzig"}])
    refs, _ = crawl_all(connector)
    fetched = connector.fetch(refs["wijzig/Naam van Leerling.txt"])
    (share / "Naam van Leerling.txt").unlink()
    with pytest.raises(OSError) as caught:
        fetched.read()
    assert "Leerling" not in str(caught.value) and "Leerling" not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    connector.close()


def test_max_depth_stops_descent_with_a_warning(samba, data_crawl) -> None:
    server, tree = samba
    top = tree.long_file.split("/")[0]
    connector = make_connector(server, [{"share": "data", "folder": top}], max_depth=2)
    refs, summary = crawl_all(connector)
    assert refs == {}  # the only file sits five levels below
    assert [code for _, code, _ in connector.warnings] == ["too_deep"]
    assert summary == {"files": 0, "bytes": 0, "problems": 1}
    connector.close()


def test_split_share_that_cannot_be_listed_fails_in_its_own_unit(samba) -> None:
    from connectors.base import SourceError

    server, _ = samba
    connector = make_connector(server, [{"share": "verboden", "split_subfolders": True},
                                        {"share": "data", "folder": "Zorg"}])
    units = list(connector.units())
    # "/*" marks a share whose subfolders could not be listed: the pipeline then leaves the
    # stored items below it alone instead of closing them as deleted.
    assert [u.key for u in units] == [f"{server.host}/verboden/.", f"{server.host}/verboden/*",
                                      f"{server.host}/data/Zorg"]
    for unit in units[:2]:
        with pytest.raises(SourceError) as caught:
            list(connector.crawl(unit, None))
        assert caught.value.code == "access_denied"
    assert crawl_all(connector, units[2].key)[0]
    connector.close()


def test_offline_files_are_labelled_and_not_recalled(samba, data_crawl) -> None:
    """Samba cannot mark files offline (that needs an HSM VFS module), so the listing side is
    checked with a listing entry as Windows/Azure File Sync reports it, and the fetch side
    against the real server."""
    import dataclasses

    from connectors.smb.client import DirEntry
    from connectors.smb.walk import FileFound

    server, _ = samba
    connector, refs, _ = data_crawl
    entry = DirEntry(name="oud.pst", is_dir=False, is_reparse_point=False, is_offline=True,
                     size=7, mtime=OLD, mtime_ns=int(OLD.timestamp()) * 10**9, file_id=0)
    unit = next(connector.units())
    ref = connector._ref(unit, connector.config.shares[0], FileFound("data/Archief/oud.pst", entry))
    assert ref is not None and ref.labels == ("pst", "offline")
    # no file id: size and mtime only (behind the archive reader generation: a .pst)
    assert ref.change_key == archive_change_key(f"7:{entry.mtime_ns}")

    offline = dataclasses.replace(refs["data/leesmij.txt"], labels=("offline",))
    with pytest.raises(ItemFetchError) as caught:
        connector.fetch(offline)
    assert caught.value.code == "offline"
    reader = make_connector(server, [{"share": "data"}], fetch_offline_files=True)
    assert reader.fetch(offline).read() == b"Welkom op de gedeelde schijf.\n"
    reader.close()
