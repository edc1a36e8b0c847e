"""The IMAP connector's "Verwijderen" against a real Dovecot: UID MOVE to the folder marked
\\Trash (RFC 6851, RFC 6154); COPY + \\Deleted + UID EXPUNGE without MOVE (RFC 4315); the
configured Trash when no folder is marked; idempotent; and the next scan sees the message in
Trash (the same item, moved), no longer in its old folder.

The commands are counted at the server side of a proxy (imap_proxy.py), which also hides
capabilities and folder attributes to play a server without MOVE, UIDPLUS or SPECIAL-USE.
"""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from imapclient import IMAPClient

from connectors.base import ItemFetchError
from connectors.imap import ImapConfig, ImapConnector
from scanner.config import load_config
from scanner.pipeline import ScanRunner
from scanner.store import Store
from tests.convergence import states

from .conftest import USER
from .dovecot_server import USERS
from .test_imap_connector import crawl_all, make_mail

pytestmark = pytest.mark.service


def subjects(admin: IMAPClient, folder: str) -> dict[bytes, set[bytes]]:
    """Subject -> flags of every message in ``folder``."""
    admin.select_folder(folder, readonly=True)
    rows = admin.fetch(admin.search(["ALL"]), ["ENVELOPE", "FLAGS"])
    return {row[b"ENVELOPE"].subject: set(row[b"FLAGS"]) for row in rows.values()}


def inbox_ref(connector: ImapConnector, subject: str):
    _, seen, _ = crawl_all(connector, f"{USER}/INBOX")
    return next(ref for ref in seen.values() if ref.title == subject)


def test_move_to_the_special_use_trash_is_one_uid_move_and_idempotent(admin, proxied, proxy) -> None:
    admin.append("INBOX", make_mail("Ziekmelding"))
    admin.append("INBOX", make_mail("Rooster"))
    with ImapConnector(proxied) as connector:
        assert connector.supports_remove()
        ref = inbox_ref(connector, "Ziekmelding")
        proxy.commands.clear()
        assert connector.remove(ref) == "Trash"
        assert proxy.count("UID MOVE") == 1 and proxy.count("EXPUNGE") == 0
        assert connector.remove(ref) == "Trash"  # retried after a lost answer: already gone
        assert proxy.count("UID MOVE") == 1
        _, seen, _ = crawl_all(connector, f"{USER}/Trash")
        assert connector.remove(next(iter(seen.values()))) == "Trash"  # already in Trash
    assert set(subjects(admin, "INBOX")) == {b"Rooster"}
    trash = subjects(admin, "Trash")
    assert set(trash) == {b"Ziekmelding"} and b"\\Deleted" not in trash[b"Ziekmelding"]


def test_without_move_copy_deleted_and_uid_expunge_of_only_that_message(admin, proxied, proxy) -> None:
    admin.append("INBOX", make_mail("Ziekmelding"))
    admin.append("INBOX", make_mail("Door de juf gemarkeerd"))
    admin.select_folder("INBOX")
    marked = [uid for uid, row in admin.fetch(admin.search(["ALL"]), ["ENVELOPE"]).items()
              if row[b"ENVELOPE"].subject == b"Door de juf gemarkeerd"]
    admin.add_flags(marked, [b"\\Deleted"])  # the teacher's own pending deletion: not ours
    proxy.hide = {b"MOVE"}
    with ImapConnector(proxied) as connector:
        ref = inbox_ref(connector, "Ziekmelding")
        proxy.commands.clear()
        assert connector.remove(ref) == "Trash"
        assert proxy.count("UID MOVE") == 0 and proxy.count("UID COPY") == 1
        assert proxy.count("UID EXPUNGE") == 1 and proxy.count("EXPUNGE") == 0  # never a plain one
    inbox = subjects(admin, "INBOX")
    assert set(inbox) == {b"Door de juf gemarkeerd"} and b"\\Deleted" in inbox[b"Door de juf gemarkeerd"]
    assert set(subjects(admin, "Trash")) == {b"Ziekmelding"}


def test_without_uidplus_the_message_keeps_deleted_and_nothing_is_expunged(admin, proxied, proxy) -> None:
    admin.append("INBOX", make_mail("Ziekmelding"))
    proxy.hide = {b"MOVE", b"UIDPLUS"}
    with ImapConnector(proxied) as connector:
        ref = inbox_ref(connector, "Ziekmelding")
        proxy.commands.clear()
        connector.remove(ref)
        assert proxy.count("EXPUNGE") == 0 and proxy.count("UID COPY") == 1
    assert b"\\Deleted" in subjects(admin, "INBOX")[b"Ziekmelding"]
    assert set(subjects(admin, "Trash")) == {b"Ziekmelding"}


def test_without_special_use_the_configured_trash_folder_is_used(admin, proxied, proxy) -> None:
    admin.append("INBOX", make_mail("Ziekmelding"))
    proxy.strip_flags = {b"\\Trash"}
    with ImapConnector(proxied) as connector:
        ref = inbox_ref(connector, "Ziekmelding")
        with pytest.raises(ItemFetchError) as caught:
            connector.remove(ref)
        assert caught.value.code == "action_failed" and "trash_folder" in str(caught.value)
    assert set(subjects(admin, "INBOX")) == {b"Ziekmelding"}  # nothing moved without a Trash
    admin.create_folder("Verwijderde items")
    with ImapConnector(proxied.model_copy(update={"trash_folder": "Verwijderde items"})) as connector:
        assert connector.remove(ref) == "Verwijderde items"
    assert set(subjects(admin, "Verwijderde items")) == {b"Ziekmelding"}
    assert subjects(admin, "Trash") == {}


def test_a_renumbered_folder_is_not_taken_for_already_gone(admin, config) -> None:
    admin.create_folder("Zorg")
    admin.append("Zorg", make_mail("OPP"))
    with ImapConnector(config) as connector:
        _, seen, _ = crawl_all(connector, f"{USER}/Zorg")
        ref = next(iter(seen.values()))
    admin.delete_folder("Zorg")
    admin.create_folder("Zorg")  # a new UIDVALIDITY
    admin.append("Zorg", make_mail("OPP"))
    with ImapConnector(config) as connector, pytest.raises(ItemFetchError) as caught:
        connector.remove(ref)
    assert caught.value.code == "not_found"
    assert set(subjects(admin, "Zorg")) == {b"OPP"}


def test_the_next_scan_sees_the_message_moved_into_trash(admin, dovecot, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", USERS[USER])
    admin.append("INBOX", make_mail("Ziekmelding", "Mijn zoon is ziek. BSN 111222333."))
    for n in range(3):
        admin.append("INBOX", make_mail(f"Rooster {n}", "Maandag gym."))
    source = {"name": "imap-jansen", "kind": "imap", "host": "127.0.0.1", "port": dovecot.imap_port,
              "security": "plain", "username": USER, "password": {"env": "TEST_IMAP_PASSWORD"}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "school": {"name": "Test"},
                                    "sources": [source]}), encoding="utf-8")
    settings = load_config(path)
    store = Store(settings.database_url)
    try:
        ScanRunner(settings, store).run()
        before = states(store)
        with ImapConnector(ImapConfig.model_validate(source)) as connector:
            ref = inbox_ref(connector, "Ziekmelding")
            connector.remove(ref)
        assert before[("imap-jansen", ref.item_key)] == "actief"
        ScanRunner(settings, store).run()
        after = states(store)
    finally:
        store.close()
    assert ("imap-jansen", ref.item_key) not in after  # absorbed as a move, not deletion evidence
    in_trash = [key for (_, key), state in after.items() if key.startswith("Trash/") and state == "actief"]
    assert len(in_trash) == 1
    assert sum(1 for (_, key) in after if key.startswith("INBOX/")) == 3


def test_a_ref_of_another_account_is_refused_as_an_item_error(admin, config) -> None:
    admin.append("INBOX", make_mail("Ziekmelding"))
    with ImapConnector(config) as connector:
        ref = inbox_ref(connector, "Ziekmelding")
    other = dataclasses.replace(ref, unit_key="iemand@school.nl/INBOX")
    with ImapConnector(config) as connector, pytest.raises(ItemFetchError) as caught:
        connector.remove(other)
    assert caught.value.code == "action_failed"
    assert set(subjects(admin, "INBOX")) == {b"Ziekmelding"}
