"""A local source that is not what its kind says is a configuration error, in ``check`` too:
a file given as mbox that is no mbox, a Maildir that is a plain folder, an empty mount point."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from connectors.base import SourceError
from connectors.folder import FolderConfig, FolderConnector
from connectors.local_mail import MaildirConfig, MaildirConnector, MboxConfig, MboxConnector
from scanner.core.model import Blind
from tests.permissions import permissions_apply


def test_a_file_that_is_not_an_mbox_is_refused(tmp_path):
    path = tmp_path / "export.mbox"
    path.write_bytes(b"%PDF-1.4 not a mailbox\n")
    with pytest.raises(SourceError) as info:
        list(MboxConnector(MboxConfig(name="m", kind="mbox", path=path, owner="x@s.nl")).units())
    assert info.value.code == "not_mbox" and str(path) in str(info.value)


def test_an_empty_mbox_file_is_an_empty_mailbox(tmp_path):
    path = tmp_path / "leeg.mbox"
    path.write_bytes(b"")
    units = list(MboxConnector(MboxConfig(name="m", kind="mbox", path=path, owner="x@s.nl")).units())
    assert [unit.key for unit in units] == ["leeg.mbox"]


def test_a_plain_folder_is_not_a_maildir(tmp_path):
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "brief.txt").write_text("x")
    with pytest.raises(SourceError) as info:
        list(MaildirConnector(MaildirConfig(name="m", kind="maildir", path=tmp_path / "mail", owner="x@s.nl")).units())
    assert info.value.code == "not_maildir"


def test_an_empty_root_is_a_source_error_naming_the_path(tmp_path):
    (tmp_path / "mnt").mkdir()
    with pytest.raises(SourceError) as info:
        list(FolderConnector(FolderConfig(name="g", kind="folder", path=tmp_path / "mnt")).units())
    assert info.value.code == "empty" and str(tmp_path / "mnt") in str(info.value)


def test_an_unreadable_maildir_folder_is_still_a_unit_and_a_blind_spot(tmp_path):
    root = tmp_path / "mail"
    for folder in (root, root / ".Zorg"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    (root / ".Zorg" / "cur" / "1.M1.host:2,S").write_bytes(b"Subject: x\n\nbody\n")
    connector = MaildirConnector(MaildirConfig(name="m", kind="maildir", path=root, owner="x@s.nl"))
    (root / ".Zorg").chmod(0)
    try:
        with permissions_apply():
            units = {unit.key: unit for unit in connector.units()}
            events = list(connector.crawl(units[".Zorg"], None))
    finally:
        (root / ".Zorg").chmod(0o755)
    assert set(units) == {"INBOX", ".Zorg"}
    blinds = [event for event in events if isinstance(event, Blind)]
    assert blinds and blinds[0].item_prefix == "" and blinds[0].code == "access_denied"


def test_an_unreadable_file_is_access_denied_not_vanished(tmp_path):
    from connectors.base import ItemFetchError
    from scanner.core.model import Seen

    root = tmp_path / "share"
    root.mkdir()
    (root / "dicht.txt").write_text("x")
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=root))
    (root / "dicht.txt").chmod(0)
    with permissions_apply():
        refs = [e.ref for unit in connector.units() for e in connector.crawl(unit, None) if isinstance(e, Seen)]
        assert [ref.item_key for ref in refs] == ["dicht.txt"]
        with pytest.raises(ItemFetchError) as info:
            connector.fetch(refs[0])
    assert info.value.code == "access_denied"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_check_fails_on_a_non_mbox_and_a_plain_maildir(tmp_path, lang):
    (tmp_path / "export.mbox").write_bytes(b"geen mbox\n")
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "brief.txt").write_text("x")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "sources": [
        {"name": "archief", "kind": "mbox", "path": str(tmp_path / "export.mbox"), "owner": "x@s.nl"},
        {"name": "post", "kind": "maildir", "path": str(tmp_path / "mail"), "owner": "x@s.nl"},
    ]}), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "scanner.cli", "--lang", lang, "check", "--config", str(config)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "archief (mbox): not_mbox" in result.stdout and "post (maildir): not_maildir" in result.stdout
    assert str(tmp_path / "export.mbox") in result.stdout
