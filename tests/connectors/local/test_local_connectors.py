"""Local connectors: Maildir, mbox, .eml folders and plain folders stream stable item refs."""

import mailbox
import os
from email.message import EmailMessage

import pytest

from connectors.base import ItemFetchError, SourceError
from connectors.folder import FolderConfig, FolderConnector
from connectors.local_mail import (
    MaildirConfig,
    MaildirConnector,
    MboxConfig,
    MboxConnector,
    MessageFolderConfig,
    MessageFolderConnector,
)
from scanner.core.model import Cursor, ItemKind, Seen


def message(subject: str, body: str, date: str = "Tue, 05 Mar 2019 10:00:00 +0100",
            msgid: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "ouder@example.nl"
    msg["To"] = "docent@school.nl"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = msgid or f"<{abs(hash(subject + body))}@example.nl>"
    msg.set_content(body)
    return msg


def crawl_all(connector):
    refs = []
    for unit in connector.units():
        events = list(connector.crawl(unit, None))
        assert isinstance(events[-1], Cursor), "a crawl ends with exactly one cursor"
        assert sum(isinstance(e, Cursor) for e in events) == 1
        refs.extend(e.ref for e in events if isinstance(e, Seen))
    return refs


def test_maildir_with_subfolders(tmp_path):
    box = mailbox.Maildir(tmp_path / "md", create=True)
    box.add(message("Ziekmelding", "Daan is ziek"))
    sent = box.add_folder("Verzonden")
    sent.add(message("Re: rapport", "cijfers"))
    connector = MaildirConnector(MaildirConfig(name="md", kind="maildir", path=tmp_path / "md", owner="d@s.nl"))
    refs = crawl_all(connector)
    assert {r.folder for r in refs} == {"INBOX", "Verzonden"}
    # Listing opens no message: no subject yet, the delivery time from the unique name.
    assert {r.title for r in refs} == {""}
    assert all(r.kind is ItemKind.MAIL and r.owner == "d@s.nl" and r.date.year >= 2026 for r in refs)
    inbox = next(r for r in refs if r.folder == "INBOX")
    assert b"Daan is ziek" in connector.fetch(inbox).read()


def test_maildir_subjects_and_dates_are_stored_from_the_headers(tmp_path):
    """The worker reads subject and Date header of analysed messages; later listings (which
    carry no subject) keep what was stored."""
    import yaml

    from scanner.config import load_config
    from scanner.pipeline import ScanRunner
    from scanner.store import open_store

    box = mailbox.Maildir(tmp_path / "md", create=True)
    box.add(message("Ziekmelding", "Daan is ziek"))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "sources": [
        {"name": "md", "kind": "maildir", "path": str(tmp_path / "md"), "owner": "d@s.nl"}]}))
    settings = load_config(config)
    store = open_store(settings)
    for _ in range(2):
        ScanRunner(settings, store).run()
        (row,) = list(store.iter_items())
        assert row.title == "Ziekmelding" and row.item_date.year == 2019


def test_maildir_key_survives_a_flag_change(tmp_path):
    box = mailbox.Maildir(tmp_path / "md", create=True)
    key = box.add(message("A", "x"))
    connector = MaildirConnector(MaildirConfig(name="md", kind="maildir", path=tmp_path / "md", owner="d@s.nl"))
    before = crawl_all(connector)
    msg = box.get_message(key)
    msg.set_subdir("cur")
    msg.add_flag("S")
    box[key] = msg
    after = crawl_all(connector)
    assert [r.item_key for r in before] == [r.item_key for r in after]
    assert b"Subject: A" in connector.fetch(before[0]).read()  # stale locator is re-resolved


def test_mbox_streams_messages_with_stable_keys(tmp_path):
    path = tmp_path / "archief.mbox"
    box = mailbox.mbox(path)
    for i in range(3):
        box.add(message(f"Bericht {i}", f"inhoud {i}\n\nFrom the desk of the teacher\n", msgid=f"<m{i}@x>"))
    box.flush()
    box.close()
    connector = MboxConnector(MboxConfig(name="mb", kind="mbox", path=path, owner="d@s.nl"))
    refs = crawl_all(connector)
    assert [r.title for r in refs] == ["Bericht 0", "Bericht 1", "Bericht 2"]
    body = connector.fetch(refs[1]).read()
    assert b"inhoud 1" in body and b"inhoud 0" not in body and b"inhoud 2" not in body
    # Remove the first message: offsets move, keys stay.
    box = mailbox.mbox(path)
    box.lock()
    box.remove(box.keys()[0])
    box.flush()
    box.unlock()
    box.close()
    again = crawl_all(connector)
    assert {r.item_key for r in again} == {r.item_key for r in refs[1:]}
    assert b"inhoud 2" in connector.fetch(next(r for r in again if r.title == "Bericht 2")).read()


def test_eml_folder_and_broken_headers(tmp_path):
    (tmp_path / "eml" / "2019").mkdir(parents=True)
    (tmp_path / "eml" / "a.eml").write_bytes(bytes(message("Top", "x")))
    (tmp_path / "eml" / "2019" / "b.eml").write_bytes(bytes(message("Diep", "y")))
    (tmp_path / "eml" / "2019" / "kapot.eml").write_bytes(b"\x00\xff garbage without headers")
    (tmp_path / "eml" / "notes.txt").write_text("not mail")
    connector = MessageFolderConnector(MessageFolderConfig(name="e", kind="eml", path=tmp_path / "eml", owner="d@s.nl"))
    refs = crawl_all(connector)
    assert sorted(r.item_key for r in refs) == ["2019/b.eml", "2019/kapot.eml", "a.eml"]
    broken = next(r for r in refs if r.item_key.endswith("kapot.eml"))
    assert broken.date is not None  # falls back to the file's mtime


def test_folder_owners_units_and_vanished_files(tmp_path):
    root = tmp_path / "share"
    (root / "Zorg" / "2020").mkdir(parents=True)
    (root / "Groep 7").mkdir()
    (root / "Zorg" / "2020" / "opp.docx").write_bytes(b"PK")
    (root / "Groep 7" / "lijst.csv").write_text("a;b")
    (root / "readme.txt").write_text("hi")
    (root / "Zorg" / "oud.pst").write_bytes(b"!BDN")
    config = FolderConfig(name="g", kind="folder", path=root, owner="ict@s.nl",
                          owners={"Zorg/*": "ib@s.nl"}, exclude=["*.tmp"])
    connector = FolderConnector(config)
    assert [u.key for u in connector.units()] == [".", "Groep 7", "Zorg"]
    refs = {r.item_key: r for r in crawl_all(connector)}
    assert refs["Zorg/2020/opp.docx"].owner == "ib@s.nl"
    assert refs["Groep 7/lijst.csv"].owner == "ict@s.nl"
    assert refs["Zorg/oud.pst"].labels == ("pst",)
    assert refs["readme.txt"].change_key.startswith("2:")
    os.remove(root / "readme.txt")
    with pytest.raises(ItemFetchError) as info:
        connector.fetch(refs["readme.txt"])
    assert info.value.code == "vanished"


def test_folder_symlink_loop_and_unreadable_subfolder_are_warnings(tmp_path):
    root = tmp_path / "share"
    (root / "A" / "B").mkdir(parents=True)
    (root / "A" / "B" / "f.txt").write_text("x")
    os.symlink(root / "A", root / "A" / "B" / "loop")
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=root, owner="x@s.nl", follow_symlinks=True))
    refs = crawl_all(connector)
    assert [r.item_key for r in refs].count("A/B/f.txt") == 1
    assert any(code == "symlink_loop" for _, code, _ in connector.warnings)


def test_missing_root_is_a_source_error(tmp_path):
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=tmp_path / "nope", owner="x@s.nl"))
    with pytest.raises(SourceError) as info:
        list(connector.units())
    assert info.value.code == "not_found"


def test_too_large_file_is_refused_without_reading(tmp_path):
    from connectors.base import ConnectorContext

    root = tmp_path / "share"
    root.mkdir()
    with open(root / "big.bin", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: costs no disk
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=root, owner="x@s.nl"),
                                ConnectorContext(max_item_bytes=1024 * 1024))
    ref = crawl_all(connector)[0]
    with pytest.raises(ItemFetchError) as info:
        connector.fetch(ref)
    assert info.value.code == "too_large"
