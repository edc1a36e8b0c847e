"""The folder connector's "Verwijderen": a move into the quarantine folder, never an unlink.

Real files on a real file system; permission faults with root's capabilities dropped
(:mod:`tests.permissions`) so the mode bits really apply. The last test runs two real scans
and checks the second one closes the moved item and never crawls the quarantine folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.base import ItemFetchError
from connectors.folder import FolderConfig, FolderConnector
from connectors.quarantine import DEFAULT_QUARANTINE
from scanner.config import load_config
from scanner.core.model import Cursor, ItemKind, ItemRef, Seen
from scanner.pipeline import ScanRunner
from scanner.store import Store
from tests.convergence import states
from tests.permissions import permissions_apply

Q = DEFAULT_QUARANTINE


def tree(root: Path) -> FolderConnector:
    (root / "Zorg" / "2019").mkdir(parents=True)
    (root / "Zorg" / "2019" / "opp.docx").write_bytes(b"PK opp")
    (root / "Zorg" / "brief.txt").write_text("brief")
    (root / "rooster.txt").write_text("rooster")
    return FolderConnector(FolderConfig(name="g", kind="folder", path=root, owner="juf@s.nl"))


def listing(connector: FolderConnector) -> dict[str, ItemRef]:
    refs = {}
    for unit in connector.units():
        events = list(connector.crawl(unit, None))
        assert isinstance(events[-1], Cursor)
        refs.update({e.ref.item_key: e.ref for e in events if isinstance(e, Seen)})
    return refs


def ref(key: str) -> ItemRef:
    return ItemRef(source="g", item_key=key, kind=ItemKind.FILE, owner="juf@s.nl",
                   folder=key.rpartition("/")[0], title=key.rpartition("/")[2], date=None)


def test_remove_moves_into_quarantine_keeping_the_relative_path(tmp_path):
    root = tmp_path / "share"
    connector = tree(root)
    assert connector.supports_remove()
    refs = listing(connector)
    where = connector.remove(refs["Zorg/2019/opp.docx"])
    assert Q in where and "opp" not in where
    assert not (root / "Zorg" / "2019" / "opp.docx").exists()
    assert (root / Q / "Zorg" / "2019" / "opp.docx").read_bytes() == b"PK opp"
    # the quarantine folder is no unit and nothing in it is listed
    assert [u.key for u in connector.units()] == [".", "Zorg"]
    assert set(listing(connector)) == {"Zorg/brief.txt", "rooster.txt"}
    # a file directly in the root keeps its place too
    connector.remove(refs["rooster.txt"])
    assert (root / Q / "rooster.txt").read_text() == "rooster"


def test_remove_is_idempotent_and_never_overwrites(tmp_path):
    root = tmp_path / "share"
    connector = tree(root)
    first = connector.remove(ref("Zorg/brief.txt"))
    assert connector.remove(ref("Zorg/brief.txt")) == first  # retried: already moved
    assert connector.remove(ref("Zorg/bestaat-niet.txt")) == first  # already gone
    assert connector.remove(ref(f"{Q}/Zorg/brief.txt")) == first  # already in quarantine
    (root / "Zorg" / "brief.txt").write_text("nieuwe brief")  # a new file of the same name
    connector.remove(ref("Zorg/brief.txt"))
    assert (root / Q / "Zorg" / "brief.txt").read_text() == "brief"
    assert (root / Q / "Zorg" / "brief (2).txt").read_text() == "nieuwe brief"
    (root / "Zorg" / "brief.txt").write_text("derde")
    connector.remove(ref("Zorg/brief.txt"))
    assert (root / Q / "Zorg" / "brief (3).txt").read_text() == "derde"


def test_configured_quarantine_name_and_bad_names(tmp_path):
    root = tmp_path / "share"
    tree(root)
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=root, quarantine="Prullenbak"))
    connector.remove(ref("Zorg/brief.txt"))
    assert (root / "Prullenbak" / "Zorg" / "brief.txt").exists()
    assert [u.key for u in connector.units()] == [".", "Zorg"]
    for bad in ("a/b", "..", "", "x\\y"):
        with pytest.raises(ValueError):
            FolderConfig(name="g", kind="folder", path=root, quarantine=bad)


def test_a_key_outside_the_root_is_refused(tmp_path):
    root = tmp_path / "share"
    connector = tree(root)
    (tmp_path / "buiten.txt").write_text("x")
    for key in ("../buiten.txt", "/etc/passwd", "Zorg/../../buiten.txt"):
        with pytest.raises(ItemFetchError) as info:
            connector.remove(ref(key))
        assert info.value.code == "action_failed"
    assert (tmp_path / "buiten.txt").exists()


def test_unmounted_root_is_not_already_gone(tmp_path):
    root = tmp_path / "share"
    root.mkdir()  # an empty mount point: every file would look removed
    connector = FolderConnector(FolderConfig(name="g", kind="folder", path=root))
    with pytest.raises(ItemFetchError) as info:
        connector.remove(ref("Zorg/brief.txt"))
    assert info.value.code == "unreachable"


def test_no_write_access_is_a_retryable_error_naming_no_file(tmp_path):
    root = tmp_path / "share"
    connector = tree(root)
    (root / "Zorg").chmod(0o555)
    try:
        with permissions_apply(), pytest.raises(ItemFetchError) as info:
            connector.remove(ref("Zorg/brief.txt"))
    finally:
        (root / "Zorg").chmod(0o755)
    assert info.value.code == "access_denied"
    assert "brief" not in str(info.value)
    assert (root / "Zorg" / "brief.txt").exists()


def test_the_next_scan_closes_the_moved_file_and_never_reads_quarantine(tmp_path):
    root = tmp_path / "share"
    tree(root)
    for n in range(3):
        (root / "Zorg" / f"extra-{n}.txt").write_text("extra")
    secret = tmp_path / "hmac.key"
    secret.write_text("cd" * 32)
    source = {"name": "g", "kind": "folder", "path": str(root), "owner": "juf@s.nl"}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"state_dir": str(tmp_path / "state"), "sources": [source],
                                      "school": {"name": "Test"}, "secret_file": str(secret)}))
    settings = load_config(config)
    store = Store(settings.database_url)
    try:
        ScanRunner(settings, store).run()
        assert states(store)[("g", "Zorg/2019/opp.docx")] == "actief"
        FolderConnector(FolderConfig.model_validate(source)).remove(ref("Zorg/2019/opp.docx"))
        ScanRunner(settings, store).run()
        after = states(store)
    finally:
        store.close()
    assert after[("g", "Zorg/2019/opp.docx")] == "opgeruimd"
    assert not any(key.startswith(Q) for _, key in after)
    assert after[("g", "Zorg/brief.txt")] == "actief"
