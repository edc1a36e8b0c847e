"""The SMB connector's "Verwijderen" against a real Samba server: a rename into the
quarantine folder at the top of the share, never a delete; idempotent; never crawled again;
a read-only share or a file open elsewhere is a retryable item error naming no file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from connectors.base import ItemFetchError
from connectors.quarantine import DEFAULT_QUARANTINE
from connectors.smb import SmbConfig, SmbConnector
from scanner.config import load_config
from scanner.core.model import ItemKind, ItemRef
from scanner.pipeline import ScanRunner
from scanner.store import Store
from tests.convergence import states

from .samba_server import Samba
from .smb_helpers import PASSWORD_ENV, crawl_all, held_open, make_connector
from .smb_tree import write_file

pytestmark = pytest.mark.service

Q = DEFAULT_QUARANTINE


def fresh(server: Samba, name: str) -> Path:
    """An empty folder ``name`` in the writable share, writable for the server's user."""
    root = server.shares["schrijf"] / name
    if root.exists():
        shutil.rmtree(root)
    quarantine = server.shares["schrijf"] / Q
    if quarantine.exists():
        shutil.rmtree(quarantine)
    return root


def put(path: Path, data: bytes) -> None:
    write_file(path, data)
    top = path.parent
    while top.name != "schrijf":
        top.chmod(0o777)
        top = top.parent


def ref(key: str) -> ItemRef:
    folder, _, title = key.rpartition("/")
    return ItemRef(source="fileserver", item_key=key, kind=ItemKind.FILE, owner="juf@s.nl",
                   folder=folder, title=title, date=None)


def test_remove_renames_into_quarantine_at_the_share_top(samba) -> None:
    server, _ = samba
    root = fresh(server, "klas")
    put(root / "Zorg" / "opp.docx", b"PK opp")
    put(root / "Zorg" / "blijft.txt", b"blijft")
    put(root / "los.txt", b"los")
    connector = make_connector(server, [{"share": "schrijf", "folder": "klas"}])
    assert connector.supports_remove()
    refs, _ = crawl_all(connector)
    where = connector.remove(refs["schrijf/klas/Zorg/opp.docx"])
    assert where == f"\\\\{server.host}\\schrijf\\{Q}"
    share = server.shares["schrijf"]
    assert not (root / "Zorg" / "opp.docx").exists()
    assert (share / Q / "klas" / "Zorg" / "opp.docx").read_bytes() == b"PK opp"
    connector.remove(refs["schrijf/klas/los.txt"])
    assert (share / Q / "klas" / "los.txt").read_bytes() == b"los"
    after, _ = crawl_all(connector)
    assert set(after) == {"schrijf/klas/Zorg/blijft.txt"}
    connector.close()


def test_quarantine_is_never_crawled_neither_as_unit_nor_in_the_walk(samba) -> None:
    server, _ = samba
    root = fresh(server, "thuis")
    put(root / "a.txt", b"a")
    put(server.shares["schrijf"] / "b.txt", b"b")
    whole = make_connector(server, [{"share": "schrijf"}])
    whole.remove(ref("schrijf/thuis/a.txt"))
    whole.remove(ref("schrijf/b.txt"))
    assert (server.shares["schrijf"] / Q / "thuis" / "a.txt").exists()
    refs, _ = crawl_all(whole)
    assert not any(key.startswith(f"schrijf/{Q}") for key in refs)
    split = make_connector(server, [{"share": "schrijf", "split_subfolders": True}])
    assert all(Q not in unit.key for unit in split.units())
    whole.close()
    split.close()


def test_remove_is_idempotent_and_never_overwrites(samba) -> None:
    server, _ = samba
    root = fresh(server, "herhaal")
    put(root / "brief.txt", b"eerste")
    connector = make_connector(server, [{"share": "schrijf"}])
    first = connector.remove(ref("schrijf/herhaal/brief.txt"))
    assert connector.remove(ref("schrijf/herhaal/brief.txt")) == first  # retried
    assert connector.remove(ref("schrijf/herhaal/nooit.txt")) == first  # already gone
    put(root / "brief.txt", b"tweede")
    connector.remove(ref("schrijf/herhaal/brief.txt"))
    moved = server.shares["schrijf"] / Q / "herhaal"
    assert (moved / "brief.txt").read_bytes() == b"eerste"
    assert (moved / "brief (2).txt").read_bytes() == b"tweede"
    connector.close()


def test_read_only_share_is_access_denied_and_keeps_the_file(samba) -> None:
    server, _ = samba
    write_file(server.shares["wijzig"] / "alleen-lezen.txt", b"x")
    connector = make_connector(server, [{"share": "wijzig"}])
    with pytest.raises(ItemFetchError) as caught:
        connector.remove(ref("wijzig/alleen-lezen.txt"))
    assert caught.value.code == "access_denied"
    assert "alleen-lezen" not in str(caught.value)
    assert (server.shares["wijzig"] / "alleen-lezen.txt").exists()
    connector.close()


def test_a_missing_share_is_not_already_gone(samba) -> None:
    server, _ = samba
    connector = make_connector(server, [{"share": "schrijf"}])
    with pytest.raises(ItemFetchError) as caught:
        connector.remove(ref("bestaat-niet/map/x.txt"))
    assert caught.value.code == "action_failed"
    connector.close()


def test_a_file_open_elsewhere_is_locked(samba) -> None:
    server, _ = samba
    root = fresh(server, "open")
    put(root / "archief.pst", b"!BDN" + b"\0" * 60)
    connector = make_connector(server, [{"share": "schrijf"}])
    with held_open(server, "schrijf", "open/archief.pst"), pytest.raises(ItemFetchError) as caught:
        connector.remove(ref("schrijf/open/archief.pst"))
    assert caught.value.code == "locked"
    assert (root / "archief.pst").exists()
    connector.close()


def test_a_share_entry_inside_the_quarantine_is_refused(samba) -> None:
    server, _ = samba
    with pytest.raises(ValueError):
        make_connector(server, [{"share": "schrijf", "folder": f"{Q}/x"}])


def test_the_next_scan_closes_the_removed_file_and_never_lists_quarantine(samba, tmp_path) -> None:
    """Through the whole scan: a split share with the quarantine folder at its top (the share
    root is the entry, so the quarantine is a top-level folder that must not become a unit)."""
    server, _ = samba
    share = server.shares["schrijf"]
    for child in share.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for n in range(4):
        put(share / "Zorg" / f"dossier-{n}.txt", f"OPP leerling {n}, BSN 111222333.\n".encode())
    put(share / "Groep 7" / "lijst.txt", b"naam;bsn\nDaan;111222333\n")
    os.environ[PASSWORD_ENV] = server.password
    secret = tmp_path / "hmac.key"
    secret.write_text("ef" * 32)
    source = {"name": "fileserver", "kind": "smb", "server": server.host, "port": server.port,
              "username": server.username, "password": {"env": PASSWORD_ENV},
              "shares": [{"share": "schrijf", "split_subfolders": True, "owner": "ib@school.nl"}]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
                                    "secret_file": str(secret), "sources": [source]}), encoding="utf-8")
    settings = load_config(path)
    store = Store(settings.database_url)
    try:
        ScanRunner(settings, store).run()
        assert states(store)[("fileserver", "schrijf/Zorg/dossier-0.txt")] == "actief"
        with SmbConnector(SmbConfig.model_validate(source)) as connector:
            connector.remove(ref("schrijf/Zorg/dossier-0.txt"))
        assert (share / Q / "Zorg" / "dossier-0.txt").exists()
        ScanRunner(settings, store).run()
        after = states(store)
    finally:
        store.close()
    assert after[("fileserver", "schrijf/Zorg/dossier-0.txt")] == "opgeruimd"
    assert not any(key.startswith(f"schrijf/{Q}") for _, key in after)
    assert after[("fileserver", "schrijf/Zorg/dossier-1.txt")] == "actief"


def test_restore_renames_back_from_quarantine_idempotent_and_never_overwrites(samba) -> None:
    """The undo of a Verwijderen on a real Samba share: the file goes back to its path (its
    folder made again if it went); a retry is success; a file that has the path again is
    never overwritten; a file no longer in quarantine is ``not_found`` (by hand)."""
    server, _ = samba
    root = fresh(server, "terug")
    put(root / "Zorg" / "opp.docx", b"PK opp")
    put(root / "los.txt", b"los")
    connector = make_connector(server, [{"share": "schrijf"}])
    assert connector.supports_restore()
    connector.remove(ref("schrijf/terug/Zorg/opp.docx"))
    connector.remove(ref("schrijf/terug/los.txt"))
    (root / "Zorg").rmdir()  # the teacher tidied the now empty folder away
    back = connector.restore(ref("schrijf/terug/Zorg/opp.docx"))
    assert back == f"\\\\{server.host}\\schrijf\\terug\\Zorg"
    assert (root / "Zorg" / "opp.docx").read_bytes() == b"PK opp"
    assert not (server.shares["schrijf"] / Q / "terug" / "Zorg" / "opp.docx").exists()
    assert connector.restore(ref("schrijf/terug/Zorg/opp.docx")) == back  # retried
    put(root / "los.txt", b"nieuw")  # a new file took the old name
    with pytest.raises(ItemFetchError) as taken:
        connector.restore(ref("schrijf/terug/los.txt"))
    assert taken.value.code == "action_failed" and (root / "los.txt").read_bytes() == b"nieuw"
    assert (server.shares["schrijf"] / Q / "terug" / "los.txt").read_bytes() == b"los"
    with pytest.raises(ItemFetchError) as gone:
        connector.restore(ref("schrijf/terug/nooit.txt"))
    assert gone.value.code == "not_found"
    connector.close()
