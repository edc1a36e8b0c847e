"""Maildir folders whose ``cur/`` and ``new/`` did not change are not listed (issue 21 item 4).

The property: whatever happens to a Maildir between two runs (a delivery, a deletion, a flag
change, a move to another folder, a same-second change, an unreadable folder that comes back,
an item whose fetch failed), the store after the next run equals the store of a clean scan of
the same Maildir; and a folder that did not change costs no listing at all.

Directory mtimes are set back with ``os.utime`` where a test needs a fingerprint that is older
than the race window (a real night is hours after the last delivery); the faults are real
(``chmod 000`` with root's capabilities dropped, see :mod:`tests.permissions`).
"""

from __future__ import annotations

import os
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from connectors.local_mail import MaildirConfig, MaildirConnector
from scanner.config import load_config
from scanner.core.model import Blind, Cursor, Resync, Seen
from scanner.store import open_store
from tests import convergence
from tests.convergence import assert_stores_converged, states
from tests.permissions import permissions_apply

BSN = "111222333"  # passes the 11-proef; fictional
FOLDERS = ("", ".Zorg", ".Archief")


def _mail(subject: str, body: str, msgid: str) -> bytes:
    message = EmailMessage()
    message["From"] = "ouder@example.nl"
    message["To"] = "juf@school.nl"
    message["Subject"] = subject
    message["Date"] = "Tue, 05 Mar 2019 10:00:00 +0100"
    message["Message-ID"] = f"<{msgid}@example.nl>"
    message.set_content(body)
    return bytes(message)


def build(root: Path) -> dict:
    """INBOX, ``.Zorg`` and ``.Archief``, two messages each (one flagged as seen in cur/)."""
    for index, folder in enumerate(FOLDERS):
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
        (root / folder / "cur" / f"15517764{index}0.M{index}A.host:2,S").write_bytes(
            _mail("Zorg", f"Leerling {index} met BSN {BSN}.\n", f"a{index}"))
        (root / folder / "new" / f"15517764{index}1.M{index}B.host").write_bytes(
            _mail("Rooster", "Maandag gym.\n", f"b{index}"))
    age(root)
    return {"name": "post", "kind": "maildir", "path": str(root), "owner": "juf@school.nl"}


def age(root: Path, seconds: int = 3600) -> None:
    """Set every cur/ and new/ mtime back: the last delivery was long before this run."""
    for folder in FOLDERS:
        for sub in ("cur", "new"):
            path = root / folder / sub
            if path.is_dir():
                stat = path.stat()
                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def configure(tmp_path: Path, name: str, source: dict):
    data = {"state_dir": str(tmp_path / name), "sources": [source], "school": {"name": "Test"},
            "detection": {"spacy_model": "none"}, "secret_file": str(tmp_path / "hmac.key")}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_config(path)


def scan(settings):
    return convergence.scan(settings, around=permissions_apply)


def clean_store(tmp_path: Path, source: dict, name: str = "clean"):
    reference = configure(tmp_path, name, source)
    scan(reference)
    return reference


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "hmac.key"
    path.write_text("cd" * 32)
    return path


def _add(root: Path) -> None:
    (root / ".Zorg" / "new" / "1551776500.M9Z.host").write_bytes(_mail("Nieuw", f"BSN {BSN} nieuw.\n", "z9"))


def _delete(root: Path) -> None:
    (root / ".Zorg" / "cur" / "1551776410.M1A.host:2,S").unlink()


def _flag(root: Path) -> None:
    cur = root / ".Zorg" / "cur"
    (cur / "1551776410.M1A.host:2,S").rename(cur / "1551776410.M1A.host:2,RS")


def _read(root: Path) -> None:  # new/ -> cur/, as a mail client does on first sight
    (root / "new" / "1551776401.M0B.host").rename(root / "cur" / "1551776401.M0B.host:2,S")


def _move(root: Path) -> None:
    (root / ".Zorg" / "cur" / "1551776410.M1A.host:2,S").rename(
        root / ".Archief" / "cur" / "1551776410.M1A.host:2,S")


CHANGES = {"add": _add, "delete": _delete, "flag": _flag, "read": _read, "move": _move}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_after_a_change_the_next_run_equals_a_clean_run_and_only_changed_folders_are_listed(
        tmp_path, secret, change):
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    first, _ = scan(settings)
    assert first.totals()["seen"] == 6
    unchanged, _ = scan(settings)
    assert unchanged.totals()["seen"] == 0, "an unchanged Maildir was listed"

    CHANGES[change](root)
    after, problems = scan(settings)
    assert not problems
    listed = {"move": 4, "read": 2}.get(change, 2)  # only the folders the change touched
    assert after.totals()["seen"] == listed + (1 if change == "add" else 0) - (1 if change == "delete" else 0)
    assert_stores_converged(settings, clean_store(tmp_path, source), deleted_meanwhile=change == "delete")
    if change == "delete":
        assert list(states(settings).values()).count("opgeruimd") == 1
    age(root)  # the change was seconds before that run (racy): the night after, nothing is listed
    scan(settings)
    again, _ = scan(settings)
    assert again.totals()["seen"] == 0, "the changed folders keep being listed"


def test_an_unchanged_folder_is_not_even_opened_for_listing(tmp_path, secret, monkeypatch):
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    scan(settings)
    listings: list[str] = []
    real = os.scandir

    def counting(path=".", *args, **kwargs):
        listings.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", counting)
    scan(settings)
    assert not [p for p in listings if Path(p).name in ("cur", "new")]
    (root / ".Archief" / "new" / "1551776600.M8Y.host").write_bytes(_mail("Nieuw", "Hallo.\n", "y8"))
    listings.clear()
    summary, _ = scan(settings)
    assert sorted(p for p in listings if Path(p).name in ("cur", "new")) == [
        str(root / ".Archief" / "cur"), str(root / ".Archief" / "new")]
    assert summary.totals()["seen"] == 3


def test_a_change_in_the_same_second_as_the_listing_is_found_next_run(tmp_path, secret):
    """A folder changed just before the listing: another change within the file system's
    timestamp granularity may leave its mtime as it was. Such a fingerprint is not saved."""
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    zorg_new = root / ".Zorg" / "new"
    (zorg_new / "1551776700.M7X.host").write_bytes(_mail("Eerst", "Hallo.\n", "x7"))  # mtime: now
    scan(settings)
    store = open_store(settings)
    try:
        assert store.cursors("post")[".Zorg"] is None, "a racy fingerprint was saved"
        assert store.cursors("post")[".Archief"] is not None
    finally:
        store.close()
    mtime = zorg_new.stat().st_mtime_ns
    (zorg_new / "1551776701.M7W.host").write_bytes(_mail("Daarna", f"BSN {BSN}.\n", "w7"))
    os.utime(zorg_new, ns=(mtime, mtime))  # the same timestamp granule: the mtime did not move
    summary, _ = scan(settings)
    assert summary.totals()["seen"] == 4
    assert_stores_converged(settings, clean_store(tmp_path, source))


def test_an_unreadable_folder_is_a_blind_spot_and_is_listed_in_full_once_readable(tmp_path, secret):
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    scan(settings)
    before = states(settings)
    cur = root / ".Zorg" / "cur"
    mtime = cur.stat().st_mtime_ns
    (cur / "1551776410.M1A.host:2,S").unlink()  # deleted while unreadable: must not be missed
    os.utime(cur, ns=(mtime, mtime))
    cur.chmod(0)  # a chmod leaves the directory's mtime as it is
    try:
        during, problems = scan(settings)
    finally:
        cur.chmod(0o755)
    assert {p["code"] for p in problems} == {"access_denied"}
    assert states(settings) == before and during.totals()["closed"] == 0
    after, problems = scan(settings)
    assert not problems
    assert after.totals()["seen"] == 1 and after.totals()["closed"] == 1
    assert_stores_converged(settings, clean_store(tmp_path, source), deleted_meanwhile=True)


def test_an_item_whose_fetch_failed_is_tried_again_while_its_folder_is_unchanged(tmp_path, secret):
    root = tmp_path / "Maildir"
    source = build(root)
    message = root / "cur" / "1551776402.M0C.host:2,S"
    message.write_bytes(_mail("Dicht", f"BSN {BSN} dicht.\n", "c0"))
    age(root)
    message.chmod(0)
    settings = configure(tmp_path, "nightly", source)
    try:
        first, problems = scan(settings)
    finally:
        message.chmod(0o644)
    assert "access_denied" in {p["code"] for p in problems}
    retried, problems = scan(settings)
    assert not problems
    assert retried.totals()["seen"] == 0 and retried.totals()["retried"] == 1
    assert_stores_converged(settings, clean_store(tmp_path, source))


def test_a_replaced_folder_with_the_same_mtime_is_listed(tmp_path, secret):
    """A folder restored from a backup keeps its mtimes; its inode numbers are new."""
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    scan(settings)
    zorg = root / ".Zorg"
    copy = tmp_path / "backup"
    shutil.copytree(zorg, copy)
    (copy / "cur" / "1551776410.M1A.host:2,S").unlink()
    for sub in ("cur", "new"):
        stat = (zorg / sub).stat()
        os.utime(copy / sub, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    shutil.rmtree(zorg)
    copy.rename(zorg)
    summary, _ = scan(settings)
    assert summary.totals()["seen"] == 1
    assert_stores_converged(settings, clean_store(tmp_path, source), deleted_meanwhile=True)


def _crawl(connector: MaildirConnector, key: str, cursor: str | None) -> list:
    unit = next(u for u in connector.units() if u.key == key)
    return list(connector.crawl(unit, cursor))


def test_a_full_listing_at_least_every_full_listing_days(tmp_path):
    root = tmp_path / "Maildir"
    build(root)
    weekly = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl"))
    events = _crawl(weekly, ".Zorg", None)
    assert isinstance(events[0], Resync) and isinstance(events[-1], Cursor)
    cursor = events[-1].value
    assert cursor is not None
    assert _crawl(weekly, ".Zorg", cursor) == [Cursor(cursor)]
    version, listed_at, rest = cursor.split(";", 2)
    eight_days_ago = f"{version};{int(listed_at) - 8 * 86_400};{rest}"
    relisted = _crawl(weekly, ".Zorg", eight_days_ago)
    assert isinstance(relisted[0], Resync) and len([e for e in relisted if isinstance(e, Seen)]) == 2
    assert int(relisted[-1].value.split(";")[1]) >= int(listed_at)  # the new listing's time
    six_days_ago = f"{version};{int(listed_at) - 6 * 86_400};{rest}"
    assert _crawl(weekly, ".Zorg", six_days_ago) == [Cursor(six_days_ago)]

    every_run = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl",
                                               full_listing_days=0))
    assert isinstance(_crawl(every_run, ".Zorg", cursor)[0], Resync)


def test_a_cursor_of_another_owner_or_an_older_release_lists_again(tmp_path):
    root = tmp_path / "Maildir"
    build(root)
    connector = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl"))
    cursor = _crawl(connector, "INBOX", None)[-1].value
    other = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="y@s.nl"))
    assert isinstance(_crawl(other, "INBOX", cursor)[0], Resync)
    for old in (None, "", "md0;1;x;y;z", "garbage"):
        assert isinstance(_crawl(connector, "INBOX", old)[0], Resync)


def test_an_unreadable_cur_is_blind_even_with_a_matching_cursor(tmp_path):
    root = tmp_path / "Maildir"
    build(root)
    connector = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl"))
    cursor = _crawl(connector, ".Zorg", None)[-1].value
    cur = root / ".Zorg" / "cur"
    cur.chmod(0)
    try:
        with permissions_apply():
            events = _crawl(connector, ".Zorg", cursor)
    finally:
        cur.chmod(0o755)
    assert isinstance(events[0], Resync)
    assert [e.code for e in events if isinstance(e, Blind)] == ["access_denied"]
    assert events[-1] == Cursor(None)


def test_a_deleted_folder_is_closed_while_the_other_folders_are_unchanged(tmp_path, secret):
    """The unchanged folders list nothing, yet the source answered: a folder removed from it
    is closed by the next run as it was when every folder was listed (not taken for an outage)."""
    root = tmp_path / "Maildir"
    source = build(root)
    settings = configure(tmp_path, "nightly", source)
    scan(settings)
    shutil.rmtree(root / ".Archief")
    summary, problems = scan(settings)
    assert not problems
    assert summary.totals()["seen"] == 0 and summary.totals()["closed"] == 2
    assert_stores_converged(settings, clean_store(tmp_path, source), deleted_meanwhile=True)


def test_the_listing_skips_what_is_no_message_as_before(tmp_path):
    """The listing stats names, not DirEntry objects (memory, issue 21 item 5): a subfolder, a
    dot file and a dangling link in cur/ are still no message, silently; a file still is."""
    root = tmp_path / "Maildir"
    build(root)
    cur = root / "cur"
    (cur / "subdir").mkdir()
    (cur / ".hidden").write_bytes(b"x")
    (cur / "1551776499.dangling.host:2,S").symlink_to(tmp_path / "nowhere")
    (cur / "1551776498.linked.host:2,S").symlink_to(next(p for p in cur.iterdir() if p.name.endswith(",S")
                                                         and p.is_file() and not p.is_symlink()))
    connector = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl"))
    events = _crawl(connector, "INBOX", None)
    keys = sorted(e.ref.item_key for e in events if isinstance(e, Seen))
    assert keys == sorted(["1551776400.M0A.host", "1551776401.M0B.host", "1551776498.linked.host"])
    assert not [e for e in events if isinstance(e, Blind)]
    assert connector.warnings == []
    paths = {e.ref.item_key: e.ref.locator for e in events if isinstance(e, Seen)}
    assert paths["1551776401.M0B.host"] == str(root / "new" / "1551776401.M0B.host")
